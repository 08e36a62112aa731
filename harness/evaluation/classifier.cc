#include "harness/evaluation/classifier.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "oracles/kernel_accumulators.h"

namespace qdiff {

DiffClass ClassifyElement(const Recipe& scheme, const std::optional<Recipe>& engine,
                          const ChannelTerms& terms, int64_t acc, int32_t libtorch_out) {
  return ClassifyElement(scheme, engine, terms, acc, acc, libtorch_out);
}

DiffClass ClassifyElement(const Recipe& scheme, const std::optional<Recipe>& engine,
                          const ChannelTerms& terms, int64_t acc, int64_t kernel_acc,
                          int32_t libtorch_out) {
  if (!engine) return DiffClass::kUnexplained;
  auto reproduces_with = [&](const Recipe& r, int64_t a) {
    const std::optional<int32_t> y = EvaluateRecipe(r, terms, a);
    return y && *y == libtorch_out;
  };
  auto reproduces = [&](const Recipe& r) { return reproduces_with(r, acc); };
  // The accumulator the kernel really computes.
  if (kernel_acc != acc && reproduces_with(scheme, kernel_acc)) {
    return kernel_acc == WrapToInt32(acc) ? DiffClass::kAccOverflow : DiffClass::kAccSaturation16;
  }
  // One switch at a time, most specific first.
  Recipe r = scheme;
  r.rounding = engine->rounding;
  if (r.rounding != scheme.rounding && reproduces(r)) {
    return scheme.rounding == Rounding::kDoubleRoundingQ31 ? DiffClass::kDoubleRounding
                                                            : DiffClass::kTie;
  }
  r = scheme;
  r.zero_point_order = engine->zero_point_order;
  if (r.zero_point_order != scheme.zero_point_order && reproduces(r)) {
    return DiffClass::kZeroPointOrder;
  }
  r = scheme;
  r.overflow = engine->overflow;
  if (r.overflow != scheme.overflow && reproduces(r)) return DiffClass::kSaturation;
  r = scheme;
  r.bias = engine->bias;
  if (r.bias != scheme.bias && reproduces(r)) return DiffClass::kBias;
  r = scheme;
  r.multiplier = engine->multiplier;
  if (r.multiplier != scheme.multiplier && reproduces(r)) return DiffClass::kMultiplier;
  r = scheme;
  r.arithmetic = engine->arithmetic;
  if (r.arithmetic != scheme.arithmetic && reproduces(r)) return DiffClass::kFloatConversion;
  // Several ingredients: the engine's whole recipe, on the kernel's accumulator or (where the
  // accumulator model predicts a saturation the kernel did not do) on the exact one.
  return reproduces_with(*engine, kernel_acc) || reproduces(*engine) ? DiffClass::kCombined
                                                                     : DiffClass::kUnexplained;
}

DiffClass ClassifyKernelElement(const Recipe& engine, const ChannelTerms& terms, int64_t acc,
                                int32_t kernel_out, std::vector<Scheme>* equals) {
  // Of the classes the schemes' switches give, the first in DiffClass order (the order in which
  // ClassifyElement tries its switches: tie before zero point, bias, multiplier, ...; combined
  // and unexplained last).
  DiffClass best = DiffClass::kUnexplained;
  for (const SchemeDef* s : AllSchemes()) {
    const std::optional<int32_t> y = EvaluateRecipe(s->recipe, terms, acc);
    if (equals && y == kernel_out) equals->push_back(s->id);
    if (s->recipe == engine) continue;
    best = std::min(best, ClassifyElement(engine, s->recipe, terms, acc, kernel_out));
  }
  return best;
}

DiffClass ClassifyOpElement(const OpRecipeDef& scheme, const OpRecipeDef* engine,
                            int32_t engine_out, int32_t libtorch_out, double exact_lsb,
                            std::optional<int32_t> libtorch_bug_out) {
  if (engine == nullptr || engine_out != libtorch_out) {
    return libtorch_bug_out == libtorch_out ? DiffClass::kLibTorchBug : DiffClass::kUnexplained;
  }
  const OpIngredients& a = scheme.ingredients;
  const OpIngredients& b = engine->ingredients;
  std::vector<DiffClass> differing;
  if (a.rounding != b.rounding) differing.push_back(DiffClass::kTie);
  if (a.zero_point != b.zero_point) differing.push_back(DiffClass::kZeroPointOrder);
  if (a.multiplier != b.multiplier) differing.push_back(DiffClass::kMultiplier);
  if (a.arithmetic != b.arithmetic) differing.push_back(DiffClass::kFloatConversion);
  // A different memory layout (e.g. vector/tail split by memory position) has no class of its
  // own: with any other difference it makes the element `combined` (or `tie` at an exact tie).
  if (a.layout != b.layout && a.layout != OpLayout::kAny && b.layout != OpLayout::kAny) {
    differing.push_back(DiffClass::kCombined);
  }
  if (differing.size() == 1) return differing[0];
  const bool exact_tie = std::fabs(exact_lsb - std::floor(exact_lsb) - 0.5) == 0.0;
  if (a.rounding != b.rounding && exact_tie) return DiffClass::kTie;
  return DiffClass::kCombined;
}

bool IsDegenerate(const std::vector<int32_t>& out, QuantRange range) {
  if (out.empty()) return true;
  const bool all_at_bounds = std::all_of(out.begin(), out.end(), [&](int32_t v) {
    return v == range.qmin || v == range.qmax;
  });
  const bool all_equal =
      out.size() > 1 && std::all_of(out.begin(), out.end(), [&](int32_t v) { return v == out[0]; });
  return all_at_bounds || all_equal;
}

Verdict CaseVerdict(bool rejected, int64_t mismatches, int64_t unexplained, bool degenerate) {
  if (rejected) return Verdict::kRejected;
  if (unexplained > 0) return Verdict::kUnexplained;
  if (degenerate) return Verdict::kDegenerate;
  return mismatches > 0 ? Verdict::kExplained : Verdict::kExact;
}

}  // namespace qdiff
