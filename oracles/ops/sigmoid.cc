// sigmoid — at::sigmoid (cpu/qsigmoid.cpp); output qparams fixed: quint8 (1/256, 0), qint8
// (1/256, −128). The exact reference, the default kernel's two tables (qsigmoid_kernel) and
// QNNPACK's table (quint8 on the QNNPACK engine). Upstream paths relative to
// aten/src/ATen/native/quantized/ (docs/semantics.md#ops-without-weights).
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

// sigmoid.exact: y = clamp(RNE(256·σ(x)) + z_y), x = s_x(q − z_x). σ(x) is irrational for every
// rational x ≠ 0 (Lindemann), so 256σ is never an exact tie; it is evaluated in long double
// (x = s·k exact in the 64-bit significand, expl error ≈ 1 ulp), which is correctly rounded unless
// 256σ lies within ~1e-17 relative of a half-integer — not provably, but as far as long double allows.
std::vector<int32_t> RunSigmoidExact(const Layer& layer, const OpInputs& in, const OpShape&) {
  const OutputQParams o = OpOutQParams(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  const QTensor& x = in[0];
  const long double inv_sy = 1.0L / static_cast<long double>(o.scale);  // 256 exactly
  const OpTable t = BuildTable(x.dtype, [&](int32_t q) {
    const long double xv = static_cast<long double>(x.scales[0]) * (q - x.zero_points[0]);
    const long double v = inv_sy / (1.0L + std::exp(-xv));
    const long double rq = std::nearbyint(v) + o.zero_point;
    return static_cast<int32_t>(std::clamp<long double>(rq, r.qmin, r.qmax));
  });
  return LookupAll(t, x);
}

// sigmoid.default_table (cpu/kernels/QuantizedOpKernels.cpp::qsigmoid_kernel). Two tables:
//   vector lanes: x = DequantFma, σ = f32(1 / f32(1 + exp(−x))), Vec::quantize (inv = 256)
//     LibTorch uses Sleef_expf8_u10 (≤ 1 ulp, not correctly rounded) where the table uses std::exp
//     (glibc expf); the two can differ by 1 ulp and then, rarely, by 1 LSB in y.
//   scalar tail : x = DequantScalar, σ = f32(1.0f / (1.0 + f64(expf(−x)))) (double sum and
//     quotient), quantize_val (inv = 256).
std::vector<int32_t> RunSigmoidDefault(const Layer& layer, const OpInputs& in, const OpShape& shape) {
  const OutputQParams o = OpOutQParams(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  const QTensor& x = in[0];
  const float inv = F32(1.0 / o.scale);
  const OpTable vec = BuildTable(x.dtype, [&](int32_t q) {
    const float e = std::exp(-DequantFma(x.scales[0], x.zero_points[0], q));
    return QuantizeVec(inv, o.zero_point, 1.0f / (1.0f + e), r);
  });
  const OpTable tail = BuildTable(x.dtype, [&](int32_t q) {
    const float e = std::exp(-DequantScalar(x.scales[0], x.zero_points[0], q));
    return QuantizeVal(o.scale, o.zero_point, F32(1.0f / (1.0 + static_cast<double>(e))), r);
  });
  return LookupVectorOrTail(layer, shape, vec, tail, x);
}

// sigmoid.qnnpack_table (qsigmoid.cpp::qnnpack_sigmoid → qnnpack/src/sigmoid.c, quint8 only):
// LUT[q] = lrintf(clamp(f32(256 / f32(1 + expf(−x))), 0, 255)), x = f32(f32 s_x · f32(q − z_x));
// the 256 (= 1/s_y) is hard-coded and z_y must be 0.
std::vector<int32_t> RunSigmoidQnnpack(const Layer& layer, const OpInputs& in, const OpShape&) {
  const OutputQParams o = OpOutQParams(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  const QTensor& x = in[0];
  const OpTable t = BuildTable(x.dtype, [&](int32_t q) {
    const float xv = DequantScalar(x.scales[0], x.zero_points[0], q);
    float v = 256.0f / (1.0f + std::exp(-xv));
    // quint8: z_y = 0 and this is QNNPACK's clamp to [0, 255]; qint8 (counterfactual) shifts it.
    v = std::min(std::max(v, static_cast<float>(r.qmin - o.zero_point)),
                 static_cast<float>(r.qmax - o.zero_point));
    return static_cast<int32_t>(std::lrint(v)) + o.zero_point;
  });
  return LookupAll(t, x);
}

// The multipliers (or functions) of this op's recipes: one OpFormula each (op_recipe.h).
constexpr OpFormula kSigmoidDefaultFunction{"256 f32(1/f32(1+expf(-x))) (tail via double)"};
constexpr OpFormula kSigmoidQnnpackFunction{"f32(256/f32(1+expf(-x)))"};
constexpr OpFormula kSigmoidExactFunction{"256 sigma(x), long double"};

const OpRecipeDef kSigmoidExact = {"sigmoid.exact", OpKind::kSigmoid,
                                   ExactIngredients(&kSigmoidExactFunction),
                                   "clamp(RNE(256/(1+exp(-x))) + z_y), long double", RunSigmoidExact};
const OpRecipeDef kSigmoidDefault = {
    "sigmoid.default_table", OpKind::kSigmoid,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kTable, OpLayout::kAny,
     &kSigmoidDefaultFunction},
    "LUT: clamp(RNE(f32(f32(1/(1+exp(-x)))*256)) + z_y); QuantizedOpKernels.cpp qsigmoid_kernel",
    RunSigmoidDefault};
const OpRecipeDef kSigmoidQnnpack = {
    "sigmoid.qnnpack_table", OpKind::kSigmoid,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kTable, OpLayout::kAny,
     &kSigmoidQnnpackFunction},
    "LUT: lrintf(clamp(256/(1+expf(-x)), 0, 255)); qnnpack/src/sigmoid.c", RunSigmoidQnnpack};

const OpRecipeDef* const kSigmoidRecipes[] = {&kSigmoidExact, &kSigmoidDefault, &kSigmoidQnnpack};

// qsigmoid.cpp: QNNPACK engine + quint8 → qnnpack_sigmoid, else qsigmoid_kernel.
const OpRecipeDef* SigmoidEnginePath(Engine engine, const Layer&, const OpInputs& in) {
  return engine == Engine::kQnnpack && in[0].dtype == DType::kQUInt8 ? &kSigmoidQnnpack : &kSigmoidDefault;
}

// y = 1 / (1 + exp(−x)) in float64.
std::vector<double> SigmoidFloatReal(const Layer&, const OpInputs& in, const OpShape& out_shape) {
  return ElementwiseReal(out_shape, [&](int64_t i) {
    const double x = DequantizeElement(in[0], i);
    return 1.0 / (1.0 + std::exp(-x));
  });
}

}  // namespace

extern const OpDef kSigmoidOp = {OpKind::kSigmoid,         kSigmoidRecipes,
                                 std::size(kSigmoidRecipes), SigmoidEnginePath,
                                 QnnpackLutRejectionReason, SigmoidFloatReal};

}  // namespace qdiff
