// leaky_relu — quantized::leaky_relu(x, slope, inplace, s_y, z_y) (cpu/qrelu.cpp::QLeakyRelu →
// qrelu_leaky_stub on every engine; LibTorch 1.13 never calls pytorch_qnnp leaky_relu): the exact
// reference and the default kernel (leaky_qrelu_out_kernel). Upstream paths relative to
// aten/src/ATen/native/quantized/ (docs/semantics.md#ops-without-weights).
#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

#include "oracles/float_oracle.h"
#include "oracles/ops/libtorch_float.h"
#include "oracles/ops/op_common.h"
#include "oracles/ops/op_recipe.h"

namespace qdiff {

namespace {

// leaky_relu.exact: x = s_x(q − z_x), v = (x > 0 ? x : slope·x)/s_y exactly, clamp(RNE(v) + z_y).
std::vector<int32_t> RunLeakyExact(const Layer& layer, const OpInputs& in, const OpShape&) {
  const OutputQParams o = OpOutQParams(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  const Rational sy = Rational::FromDouble(o.scale);
  const Rational slope = Rational::FromDouble(layer.act.negative_slope);
  const OpTable t = BuildTable(in[0].dtype, [&](int32_t q) {
    const Rational x = Rational::FromDouble(in[0].scales[0]) * Rational::FromInt(q - in[0].zero_points[0]);
    return ExactQuantize((x.Sign() > 0 ? x : slope * x) / sy, o.zero_point, r);
  });
  return LookupAll(t, in[0]);
}

// leaky_relu.default_fp32 (cpu/kernels/QuantizedOpKernels.cpp::leaky_qrelu_out_kernel):
//   vector lanes: d = DequantFma, d·(d > 0 ? 1 : slope), Vec::quantize with inv = f32(1/f32 s_y)
//   scalar tail : d = DequantScalar, d > 0 ? d : f32(d·slope), quantize_val (same inv)
std::vector<int32_t> RunLeakyDefault(const Layer& layer, const OpInputs& in, const OpShape& shape) {
  const OutputQParams o = OpOutQParams(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  const QTensor& x = in[0];
  const float slope = layer.act.negative_slope;
  const float inv = 1.0f / F32(o.scale);
  std::vector<int32_t> out(x.values.size());
  for (size_t i = 0; i < out.size(); ++i) {
    if (IsVectorElement(layer, shape, i)) {
      const float d = DequantFma(x.scales[0], x.zero_points[0], x.values[i]);
      out[i] = QuantizeVec(inv, o.zero_point, d * (d > 0.0f ? 1.0f : slope), r);
    } else {
      const float d = DequantScalar(x.scales[0], x.zero_points[0], x.values[i]);
      out[i] = QuantizeVal(o.scale, o.zero_point, d > 0.0f ? d : d * slope, r);
    }
  }
  return out;
}

// The multipliers (or functions) of this op's recipes: one OpFormula each (op_recipe.h).
constexpr OpFormula kLeakyDefaultMultiplier{"f32(1/f32 s_y) after f32 dequant (FMA in vector lanes)"};
constexpr OpFormula kLeakyExactMultiplier{"exact (x>0?x:slope x)/s_y"};

const OpRecipeDef kLeakyExact = {"leaky_relu.exact", OpKind::kLeakyRelu,
                                 ExactIngredients(&kLeakyExactMultiplier),
                                 "clamp(RNE((x>0?x:slope*x)/s_y) + z_y), exact", RunLeakyExact};
const OpRecipeDef kLeakyDefault = {
    "leaky_relu.default_fp32", OpKind::kLeakyRelu,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kBinary32, OpLayout::kAny,
     &kLeakyDefaultMultiplier},
    "clamp(RNE(f32(f32(d*(d>0?1:slope))*f32(1/f32 s_y))) + z_y); QuantizedOpKernels.cpp "
    "leaky_qrelu_out_kernel",
    RunLeakyDefault};

const OpRecipeDef* const kLeakyRecipes[] = {&kLeakyExact, &kLeakyDefault};

const OpRecipeDef* LeakyEnginePath(Engine, const Layer&, const OpInputs&) {
  return &kLeakyDefault;
}

// y = x > 0 ? x : slope · x in float64 (slope as the call receives it, a float).
std::vector<double> LeakyFloatReal(const Layer& layer, const OpInputs& in, const OpShape& out_shape) {
  return ElementwiseReal(out_shape, [&](int64_t i) {
    const double x = DequantizeElement(in[0], i);
    return x > 0 ? x : layer.act.negative_slope * x;
  });
}

}  // namespace

extern const OpDef kLeakyReluOp = {OpKind::kLeakyRelu, kLeakyRecipes, std::size(kLeakyRecipes),
                                   LeakyEnginePath,    nullptr,       LeakyFloatReal};

}  // namespace qdiff
