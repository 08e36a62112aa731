// The integer derivation of one output element under a scheme, step by step, for people.
#pragma once

#include <cstdint>
#include <string>

#include "harness/case/case.h"
#include "harness/evaluation/case_evaluation.h"
#include "oracles/recipe.h"
#include "oracles/scheme.h"

namespace qdiff {

// Lines (each ending in '\n', indented by `indent`) that take `acc` to the output of `scheme`:
// the bias term, the multiplier, the multiply, the rounding, the zero point and the clamp.
std::string ExplainScheme(const SchemeDef& scheme, const ChannelTerms& terms, int64_t acc,
                          const std::string& indent);

// One output element of `layer`, derived for people (`qdiff explain`). Conv/linear: the
// accumulator and qparams, every scheme of `runs` step by step with its integer-only twin,
// LibTorch per engine, the float oracle. Other ops: every recipe of the op on the inputs each
// engine's layer saw, which is the engine's path and which reproduce LibTorch. `element` must
// be an index of the layer's output; `source` names the case in the heading.
std::string ExplainElement(const Case& c, const CaseRuns& runs, size_t layer, int64_t element,
                           const std::string& source);

// "%.9g (0x1.8p-3)" — a double with its exact hex form.
std::string DoubleWithHex(double v);

}  // namespace qdiff
