// mul — quantized::mul / mul_relu (cpu/qmul.cpp::QMul::run): the exact reference, the default
// kernel (qmul_kernel) and XNNPACK's multiply (qint8 with z_y < 127, on every engine). Upstream
// paths relative to aten/src/ATen/native/quantized/ (docs/semantics.md#ops-without-weights).
#include <algorithm>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "oracles/float_oracle.h"
#include "oracles/ops/libtorch_float.h"
#include "oracles/ops/op_common.h"
#include "oracles/ops/op_recipe.h"

namespace qdiff {

namespace {

// mul.exact: v = s_a s_b (q_a−z_a)(q_b−z_b) / s_y exactly; ReLU v = max(v, 0); clamp(RNE(v) + z_y).
std::vector<int32_t> RunMulExact(const Layer& layer, const OpInputs& in, const OpShape&) {
  return BinaryExact(layer, in, [](const auto& a, const auto& b) { return a * b; });
}

// Integer product requantized in float: y = clamp(RNE(f32(f32(c)·M)) + z_y), c = (q_a−z_a)(q_b−z_b).
std::vector<int32_t> MulWithMultiplier(const Layer& layer, const OpInputs& in, float m) {
  const OutputQParams o = OpOutQParams(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  const int32_t lo = layer.relu ? std::max(r.qmin, o.zero_point) : r.qmin;
  std::vector<int32_t> out(in[0].values.size());
  for (size_t i = 0; i < out.size(); ++i) {
    const int32_t c = (in[0].values[i] - in[0].zero_points[0]) *
                      (in[1].values[i] - in[1].zero_points[0]);  // |c| ≤ 256², exact in f32
    const int64_t q = static_cast<int64_t>(CvtPs2Dq(static_cast<float>(c) * m)) + o.zero_point;
    out[i] = static_cast<int32_t>(std::clamp<int64_t>(q, lo, r.qmax));
  }
  return out;
}

// mul.default_fp32 (cpu/kernels/QuantizedOpKernels.cpp::qmul_kernel; requantize_from_int, vector
// and scalar identical): M = f32(f32(f32 s_a · f32 s_b) · f32(1/f32 s_y)); ReLU max(y, z_y).
float MulDefaultMultiplier(const Layer& layer, const OpInputs& in) {
  const float inv = 1.0f / F32(OpOutQParams(layer, in).scale);
  return F32(in[0].scales[0]) * F32(in[1].scales[0]) * inv;
}
std::vector<int32_t> RunMulDefault(const Layer& layer, const OpInputs& in, const OpShape&) {
  return MulWithMultiplier(layer, in, MulDefaultMultiplier(layer, in));
}

// mul.xnnpack_qs8 (qmul.cpp::xnnp_mul → XNNPACK xnn_create_multiply_nd_qs8, fp32 requantization):
// M = f32(f32(f32 s_a · f32 s_b) / f32 s_y); ReLU: output_min = z_y.
float MulXnnpackMultiplier(const Layer& layer, const OpInputs& in) {
  return (F32(in[0].scales[0]) * F32(in[1].scales[0])) / F32(OpOutQParams(layer, in).scale);
}
std::vector<int32_t> RunMulXnnpack(const Layer& layer, const OpInputs& in, const OpShape&) {
  return MulWithMultiplier(layer, in, MulXnnpackMultiplier(layer, in));
}

// The multipliers (or functions) of this op's recipes: one OpFormula each (op_recipe.h).
constexpr OpFormula kMulDefaultMultiplier{"f32(f32(f32 s_a*f32 s_b)*f32(1/f32 s_y))"};
constexpr OpFormula kMulXnnpackMultiplier{"f32(f32(f32 s_a*f32 s_b)/f32 s_y)"};
constexpr OpFormula kMulExactMultiplier{"exact s_a·s_b/s_y"};

const OpRecipeDef kMulExact = {"mul.exact", OpKind::kMul, ExactIngredients(&kMulExactMultiplier),
                               "clamp(RNE(s_a s_b (q_a-z_a)(q_b-z_b)/s_y) + z_y), exact", RunMulExact};
const OpRecipeDef kMulDefault = {
    "mul.default_fp32", OpKind::kMul,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kBinary32, OpLayout::kAny,
     &kMulDefaultMultiplier},
    "clamp(RNE(f32(f32(c)*M)) + z_y), c=(q_a-z_a)(q_b-z_b); QuantizedOpKernels.cpp qmul_kernel",
    RunMulDefault};
const OpRecipeDef kMulXnnpack = {
    "mul.xnnpack_qs8", OpKind::kMul,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kBinary32, OpLayout::kAny,
     &kMulXnnpackMultiplier},
    "clamp(RNE(f32(f32(c)*M)) + z_y); XNNPACK qs8 multiply (qmul.cpp xnnp_mul)", RunMulXnnpack};

const OpRecipeDef* const kMulRecipes[] = {&kMulExact, &kMulDefault, &kMulXnnpack};

// qmul.cpp::QMul::run: qint8 with z_y < 127 → XNNPACK on every engine.
const OpRecipeDef* MulEnginePath(Engine, const Layer& layer, const OpInputs& in) {
  if (in[0].dtype == DType::kQInt8 && layer.out_zero_point < 127) return &kMulXnnpack;
  return &kMulDefault;
}

// XNNPACK multiply-nd.c (any engine): normal float scales, f32(f32(s_a·s_b)/s_y) in [2^-16, 2^8).
std::string MulRejectionReason(Engine engine, const Layer& layer, const OpInputs& in) {
  if (EngineOpRecipe(engine, layer, in) != &kMulXnnpack) return "";
  if (!IsNormalF32(in[0].scales[0]) || !IsNormalF32(in[1].scales[0]) ||
      !IsNormalF32(layer.out_scale)) {
    return "XNNPACK mul: scales must be normal floats";
  }
  const float ratio = F32(in[0].scales[0]) * F32(in[1].scales[0]) / F32(layer.out_scale);
  return RatioRangeReason("XNNPACK mul", ratio, 0x1.0p-16f, 0x1.0p+8f, "[2^-16, 2^8)");
}

// y = x_a · x_b (ReLU: max(y, 0)).
std::vector<double> MulFloatReal(const Layer& layer, const OpInputs& in, const OpShape& out_shape) {
  return BinaryReal(layer, in, out_shape, [](double a, double b) { return a * b; });
}

}  // namespace

std::optional<float> MulRecipeMultiplier(const OpRecipeDef& recipe, const Layer& layer, const OpInputs& in) {
  if (&recipe == &kMulDefault) return MulDefaultMultiplier(layer, in);
  if (&recipe == &kMulXnnpack) return MulXnnpackMultiplier(layer, in);
  return std::nullopt;
}

extern const OpDef kMulOp = {OpKind::kMul, kMulRecipes, std::size(kMulRecipes), MulEnginePath,
                             MulRejectionReason, MulFloatReal};

}  // namespace qdiff
