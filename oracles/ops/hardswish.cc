// hardswish — quantized::hardswish(x, s_y, z_y) (cpu/qhardswish.cpp): the exact reference, the
// default kernel's two tables (qhardswish_kernel) and QNNPACK's table (quint8 on the QNNPACK
// engine). Upstream paths relative to aten/src/ATen/native/quantized/
// (docs/semantics.md#ops-without-weights).
#include <algorithm>
#include <cmath>
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

// hardswish real: h = x · clamp(x + 3, 0, 6) / 6 in float, as both LibTorch formulas write it.
float HardswishF32(float x) { return x * std::min(std::max(x + 3.0f, 0.0f), 6.0f) / 6.0f; }

// hardswish.exact: x = s_x(q − z_x) exactly, h = x·clamp(x+3, 0, 6)/6, y = clamp(RNE(h/s_y) + z_y).
std::vector<int32_t> RunHardswishExact(const Layer& layer, const OpInputs& in, const OpShape&) {
  const OutputQParams o = OpOutQParams(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  const Rational sy = Rational::FromDouble(o.scale);
  const Rational three = Rational::FromInt(3), six = Rational::FromInt(6), zero;
  const OpTable t = BuildTable(in[0].dtype, [&](int32_t q) {
    const Rational x = Rational::FromDouble(in[0].scales[0]) * Rational::FromInt(q - in[0].zero_points[0]);
    Rational c = x + three;
    if (c.Sign() < 0) c = zero;
    if (Rational::Compare(c, six) > 0) c = six;
    return ExactQuantize(x * c / six / sy, o.zero_point, r);
  });
  return LookupAll(t, in[0]);
}

// hardswish.default_table (cpu/kernels/QuantizedOpKernels.cpp::qhardswish_kernel). Two tables:
//   vector lanes: x = DequantFma, h = HardswishF32(x), Vec::quantize with inv = f32(1/f64 s_y)
//   scalar tail : x = DequantScalar, h = HardswishF32(x), quantize_val (inv = f32(1/f32 s_y))
// A single table from the vector formula would miss the tail, whose dequantize (no FMA) and
// inverse scale (1.0f/f32 s_y vs f32(1.0/s_y)) can each move h·inv across a rounding boundary.
std::vector<int32_t> RunHardswishDefault(const Layer& layer, const OpInputs& in,
                                         const OpShape& shape) {
  const OutputQParams o = OpOutQParams(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  const QTensor& x = in[0];
  const float inv_vec = F32(1.0 / o.scale);
  const OpTable vec = BuildTable(x.dtype, [&](int32_t q) {
    return QuantizeVec(inv_vec, o.zero_point,
                       HardswishF32(DequantFma(x.scales[0], x.zero_points[0], q)), r);
  });
  const OpTable tail = BuildTable(x.dtype, [&](int32_t q) {
    return QuantizeVal(o.scale, o.zero_point,
                       HardswishF32(DequantScalar(x.scales[0], x.zero_points[0], q)), r);
  });
  return LookupVectorOrTail(layer, shape, vec, tail, x);
}

// hardswish.qnnpack_table (qhardswish.cpp::qnnpack_hardswish → qnnpack/src/hardswish.c):
// LUT[q] = lrintf(clamp(f32(f32(inv · h) + f32 z_y), 0, 255)), inv = f32(1/f32 s_y),
// x = f32(f32 s_x · f32(q − z_x)): the zero point is added BEFORE rounding.
std::vector<int32_t> RunHardswishQnnpack(const Layer& layer, const OpInputs& in, const OpShape&) {
  const OutputQParams o = OpOutQParams(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  const QTensor& x = in[0];
  const float inv = 1.0f / F32(o.scale);
  const OpTable t = BuildTable(x.dtype, [&](int32_t q) {
    const float h = HardswishF32(DequantScalar(x.scales[0], x.zero_points[0], q));
    float v = inv * h + static_cast<float>(o.zero_point);  // two roundings (no FMA contraction)
    v = std::min(std::max(v, static_cast<float>(r.qmin)), static_cast<float>(r.qmax));
    return static_cast<int32_t>(std::lrint(v));
  });
  return LookupAll(t, x);
}

// The multipliers (or functions) of this op's recipes: one OpFormula each (op_recipe.h).
constexpr OpFormula kHardswishDefaultMultiplier{"f32(1/f64 s_y) (vector; tail f32(1/f32 s_y))"};
constexpr OpFormula kHardswishQnnpackMultiplier{"f32(1/f32 s_y)"};
constexpr OpFormula kHardswishExactMultiplier{"exact h(x)/s_y"};

const OpRecipeDef kHardswishExact = {"hardswish.exact", OpKind::kHardswish,
                                     ExactIngredients(&kHardswishExactMultiplier),
                                     "clamp(RNE(x*clamp(x+3,0,6)/6/s_y) + z_y), exact",
                                     RunHardswishExact};
const OpRecipeDef kHardswishDefault = {
    "hardswish.default_table", OpKind::kHardswish,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kTable, OpLayout::kAny,
     &kHardswishDefaultMultiplier},
    "LUT: clamp(RNE(f32(h(fma_dequant)*f32(1/s_y))) + z_y) (tail: quantize_val); "
    "QuantizedOpKernels.cpp qhardswish_kernel",
    RunHardswishDefault};
const OpRecipeDef kHardswishQnnpack = {
    "hardswish.qnnpack_table", OpKind::kHardswish,
    {OpRounding::kHalfEven, OpZeroPoint::kBeforeRounding, OpArithmetic::kTable, OpLayout::kAny,
     &kHardswishQnnpackMultiplier},
    "LUT: lrintf(clamp(f32(f32(inv*h) + z_y), 0, 255)); qnnpack/src/hardswish.c",
    RunHardswishQnnpack};

const OpRecipeDef* const kHardswishRecipes[] = {&kHardswishExact, &kHardswishDefault,
                                                &kHardswishQnnpack};

// qhardswish.cpp: QNNPACK engine + quint8 → qnnpack_hardswish, else qhardswish_kernel.
const OpRecipeDef* HardswishEnginePath(Engine engine, const Layer&, const OpInputs& in) {
  return engine == Engine::kQnnpack && in[0].dtype == DType::kQUInt8 ? &kHardswishQnnpack
                                                            : &kHardswishDefault;
}

// y = x · clamp(x + 3, 0, 6) / 6 in float64.
std::vector<double> HardswishFloatReal(const Layer&, const OpInputs& in, const OpShape& out_shape) {
  return ElementwiseReal(out_shape, [&](int64_t i) {
    const double x = DequantizeElement(in[0], i);
    return x * std::min(std::max(x + 3.0, 0.0), 6.0) / 6.0;
  });
}

}  // namespace

extern const OpDef kHardswishOp = {OpKind::kHardswish,  kHardswishRecipes,
                                   std::size(kHardswishRecipes), HardswishEnginePath,
                                   QnnpackLutRejectionReason, HardswishFloatReal};

}  // namespace qdiff
