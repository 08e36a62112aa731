// The integer derivation of one output element under a scheme, step by step, for people.
#pragma once

#include <cstdint>
#include <string>

#include "oracles/recipe.h"
#include "oracles/scheme.h"

namespace qdiff {

// Lines (each ending in '\n', indented by `indent`) that take `acc` to the output of `scheme`:
// the bias term, the multiplier, the multiply, the rounding, the zero point and the clamp.
std::string ExplainScheme(const SchemeDef& scheme, const ChannelTerms& terms, int64_t acc,
                          const std::string& indent);

// "%.9g (0x1.8p-3)" — a double with its exact hex form.
std::string DoubleWithHex(double v);

}  // namespace qdiff
