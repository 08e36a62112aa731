// Exports a binary32 recipe's per-channel parameters for the integer-only twin (float → bits).
#include <cstring>

#include "oracles/float32_twin.h"

namespace qdiff {

namespace {

Binary32 Bits(float f) {
  Binary32 b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

}  // namespace

std::optional<Float32TwinParams> MakeFloat32TwinParams(const Recipe& recipe,
                                                       const ChannelTerms& terms) {
  if (recipe.arithmetic != Arithmetic::kFloat32 || recipe.rounding != Rounding::kHalfEven) {
    return std::nullopt;
  }
  // The same ingredient values EvaluateRecipe uses: evaluate once with a trace to read them.
  RecipeTrace trace;
  EvaluateRecipe(recipe, terms, 0, &trace);
  Float32TwinParams p;
  p.has_bias = terms.quant.bias.has_value();
  p.bias_is_int32 = recipe.bias == BiasForm::kInt32Torch;
  p.bias_int32 = static_cast<int32_t>(terms.bias_int32);
  p.bias_bits = Bits(static_cast<float>(trace.bias_term));
  p.multiplier_bits = Bits(static_cast<float>(trace.multiplier));
  p.zero_point_before_rounding = recipe.zero_point_order == ZeroPointOrder::kBeforeRounding;
  p.cvt_indefinite = recipe.overflow == Overflow::kCvtIndefinite;
  p.z_y = terms.quant.z_y;
  p.qmin = terms.quant.range.qmin;
  p.qmax = terms.quant.range.qmax;
  return p;
}

}  // namespace qdiff
