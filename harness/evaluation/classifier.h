// Classifier: why does a scheme's output differ from LibTorch's? Pure functions, no I/O.
//
// An element is explained by counterfactuals: the scheme's recipe is re-evaluated with ONE
// ingredient switched to the engine recipe's choice; the first switch (in the order of DiffClass
// below) that reproduces LibTorch's value names the class. If no single switch does but the
// engine's whole recipe does (on the kernel's accumulator or on the exact one), the class is
// `combined`; if not even that, `unexplained`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "oracles/ops/op_recipe.h"
#include "oracles/recipe.h"
#include "oracles/scheme.h"
#include "reports/vocabulary.h"  // Verdict, DiffClass

namespace qdiff {

// `engine` is the recipe of the engine that produced `libtorch_out` (nullopt if qdiff has none);
// `kernel_acc` is the accumulator the engine's kernel computes for this element
// (oracles/kernel_accumulators.h), `acc` the exact one the scheme uses. The accumulator switch
// (acc → kernel_acc) is tried first.
DiffClass ClassifyElement(const Recipe& scheme, const std::optional<Recipe>& engine,
                          const ChannelTerms& terms, int64_t acc, int64_t kernel_acc,
                          int32_t libtorch_out);
// Same, for a kernel that accumulates exactly (kernel_acc = acc).
DiffClass ClassifyElement(const Recipe& scheme, const std::optional<Recipe>& engine,
                          const ChannelTerms& terms, int64_t acc, int32_t libtorch_out);

// A user's kernel (harness/kernel/kernel_plugin.h): why its output `kernel_out` differs from the
// engine recipe `engine` that reproduces LibTorch. The same counterfactuals, read the other way:
// ONE ingredient of the engine's recipe is switched to the choice of a named scheme (every scheme
// in turn, scheme.h); the first switch that reproduces the kernel's value names the class (e.g.
// tie: the kernel rounds ties another way). `combined` if some scheme's whole recipe reproduces
// it, `unexplained` if none does (a wrong accumulator, a missing clamp, ...). `*equals` (if
// non-null) receives the named schemes that give the kernel's value.
DiffClass ClassifyKernelElement(const Recipe& engine, const ChannelTerms& terms, int64_t acc,
                                int32_t kernel_out, std::vector<Scheme>* equals = nullptr);

// Ops without weights (oracles/ops/op_recipe.h): why the output of the scheme pipeline's recipe
// `scheme` differs from LibTorch's. `engine` is the recipe of the path LibTorch took (nullptr if
// qdiff has none) and `engine_out` its output for this element; `exact_lsb` is the exact real
// result in output LSBs, zero point included. Unexplained unless the engine recipe reproduces
// LibTorch; then the class is the one ingredient in which the two recipes differ (rounding → tie,
// zero point → zero_point_order, multiplier → multiplier, arithmetic → float_conversion; a
// layout difference, NCHW vs NHWC, counts as one more ingredient without a class of its own);
// with several, tie when the rounding rules differ and exact_lsb is an exact tie, else combined.
// The class names the ingredient that differs; it is not re-derived per element as for
// conv/linear.
// When the engine recipe misses but `libtorch_bug_out` (the output of a recipe reproducing a
// documented LibTorch bug, OpRecipeDef::libtorch_bug) equals LibTorch's: libtorch_bug.
DiffClass ClassifyOpElement(const OpRecipeDef& scheme, const OpRecipeDef* engine,
                            int32_t engine_out, int32_t libtorch_out, double exact_lsb,
                            std::optional<int32_t> libtorch_bug_out = std::nullopt);


// A comparison tested nothing when every LibTorch output sits at a bound of the output range, or
// when more than one element was compared and all are equal.
bool IsDegenerate(const std::vector<int32_t>& libtorch_out, QuantRange range);

// rejected (nothing was compared) > unexplained > degenerate > explained > exact: a finding is
// never hidden by a degenerate output.
Verdict CaseVerdict(bool rejected, int64_t mismatches, int64_t unexplained, bool degenerate);

}  // namespace qdiff
