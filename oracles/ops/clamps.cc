// relu, relu6, hardtanh, clamp — integer clamps (cpu/qrelu.cpp, cpu/qclamp.cpp; QNNPACK's u8clamp
// on the QNNPACK engine for quint8 uses the same bounds). Output qparams = input's. relu6,
// hardtanh and clamp share one set of recipes (QDIFF_CLAMP_RECIPES) and one OpDef shape; relu is
// max(q, z). Upstream paths relative to aten/src/ATen/native/quantized/
// (docs/semantics.md#ops-without-weights).
#include <algorithm>
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

struct ClampBounds {
  float lo, hi;
};
ClampBounds BoundsOf(const Layer& layer) {
  if (layer.op == OpKind::kRelu6) return {0.0f, 6.0f};
  return {layer.act.min_value, layer.act.max_value};
}

// relu.int: y = max(q, z) (qrelu_kernel; QNNPACK clamp [z, 255]). Exact: max(s(q−z),0)/s rounds
// to max(q−z, 0), so relu.exact is the same integer map.
std::vector<int32_t> RunRelu(const Layer&, const OpInputs& in, const OpShape&) {
  std::vector<int32_t> out(in[0].values.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = std::max(in[0].values[i], in[0].zero_points[0]);
  return out;
}

// <op>.exact for relu6/hardtanh/clamp: y = clamp(RNE(min(max(s(q−z), lo), hi)/s) + z) exactly
// (lo > hi gives hi, as min(max(x, lo), hi) does).
std::vector<int32_t> RunClampExact(const Layer& layer, const OpInputs& in, const OpShape&) {
  const QTensor& x = in[0];
  const QuantRange r = TypeRange(x.dtype);
  const ClampBounds b = BoundsOf(layer);
  const Rational lo = Rational::FromDouble(b.lo), hi = Rational::FromDouble(b.hi);
  const Rational s = Rational::FromDouble(x.scales[0]);
  // A function of the input value only: evaluated exactly once per int_repr value.
  const OpTable t = BuildTable(x.dtype, [&](int32_t q) {
    Rational v = s * Rational::FromInt(q - x.zero_points[0]);
    if (Rational::Compare(v, lo) < 0) v = lo;
    if (Rational::Compare(v, hi) > 0) v = hi;
    return ExactQuantize(v / s, x.zero_points[0], r);
  });
  return LookupAll(t, x);
}

// <op>.qclamp: q_lo = quantize_val(s, z, lo), q_hi = quantize_val(s, z, hi) (relu6: 0 and 6;
// quantized::relu6 uses z and quantize_val(6), the same numbers), y = min(max(q, q_lo), q_hi)
// (qclamp_kernel / qnnpack_clamp / qrelu6_kernel).
std::vector<int32_t> RunClampQuantizeVal(const Layer& layer, const OpInputs& in, const OpShape&) {
  const QTensor& x = in[0];
  const QuantRange r = TypeRange(x.dtype);
  const ClampBounds b = BoundsOf(layer);
  const int32_t qlo = QuantizeVal(x.scales[0], x.zero_points[0], b.lo, r);
  const int32_t qhi = QuantizeVal(x.scales[0], x.zero_points[0], b.hi, r);
  std::vector<int32_t> out(x.values.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = std::min(std::max(x.values[i], qlo), qhi);
  return out;
}

// <op>.qnnpack_clamp (qclamp.cpp::qnnpack_clamp, QNNPACK engine, quint8; at::hardtanh, at::clamp
// and so relu6 = at::hardtanh(x, 0, 6)): the same bounds and clamp as qclamp, but LibTorch 1.13
// runs u8clamp over input.contiguous(suggest_memory_format()) — NHWC bytes for a channels-last
// input — and writes them into an output allocated with input_contig.options(), which carries no
// memory format, i.e. NCHW-contiguous. So output element p (logical row-major) receives the
// clamped input element stored at memory position p: a channel/space transpose whenever the
// input is channels-last with C > 1 and H·W > 1. [verified against LibTorch; a LibTorch bug]
std::vector<int32_t> RunClampQnnpack(const Layer& layer, const OpInputs& in, const OpShape& shape) {
  const std::vector<int32_t> clamped = RunClampQuantizeVal(layer, in, shape);
  return layer.channels_last ? WrittenInNhwcOrder(clamped, in[0].shape) : clamped;
}

// The multipliers (or functions) of this op's recipes: one OpFormula each (op_recipe.h).
constexpr OpFormula kMaxWithZeroPoint{"max(q, z)"};
constexpr OpFormula kClampExactBound{"exact bound/s"};
constexpr OpFormula kClampQuantizeValBound{"quantize_val: f32(bound*f32(1/f32 s))"};

constexpr OpIngredients kMaxIngredients = {OpRounding::kNone, OpZeroPoint::kNone,
                                           OpArithmetic::kExact, OpLayout::kAny, &kMaxWithZeroPoint};
const OpRecipeDef kReluExact = {"relu.exact", OpKind::kRelu, kMaxIngredients,
                                "max(q, z) (= RNE(max(x,0)/s) + z exactly)", RunRelu};
const OpRecipeDef kReluInt = {"relu.int", OpKind::kRelu, kMaxIngredients,
                              "max(q, z); qrelu.cpp / QuantizedOpKernels.cpp qrelu_kernel, QNNPACK "
                              "clamp [z,255]",
                              RunRelu};
const OpRecipeDef* const kReluRecipes[] = {&kReluExact, &kReluInt};

constexpr OpIngredients kClampExactIngredients = {OpRounding::kHalfEven,
                                                  OpZeroPoint::kAfterRounding, OpArithmetic::kExact,
                                                  OpLayout::kAny, &kClampExactBound};
constexpr OpIngredients kClampQvIngredients = {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding,
                                               OpArithmetic::kBinary32, OpLayout::kAny,
                                               &kClampQuantizeValBound};
// <op>.exact, <op>.qclamp (the engine path on every engine) and <op>.qnnpack_clamp (the LibTorch
// bug), and the recipe list, for relu6, hardtanh and clamp.
#define QDIFF_CLAMP_RECIPES(Var, kind, str)                                                      \
  const OpRecipeDef Var##Exact = {str ".exact", kind, kClampExactIngredients,                     \
                                  "clamp(RNE(min(max(x,lo),hi)/s) + z), exact", RunClampExact};   \
  const OpRecipeDef Var##Qclamp = {                                                               \
      str ".qclamp", kind, kClampQvIngredients,                                                   \
      "min(max(q, quantize_val(lo)), quantize_val(hi)); qclamp.cpp / qrelu.cpp, QNNPACK u8clamp", \
      RunClampQuantizeVal};                                                                     \
  const OpRecipeDef Var##Qnnpack = {                                                              \
      str ".qnnpack_clamp", kind,                                                                 \
      {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kBinary32,               \
       OpLayout::kNhwc, &kClampQuantizeValBound},                                                 \
      "qclamp bounds; channels-last input written NHWC into an NCHW output (element order "       \
      "transposed); qclamp.cpp qnnpack_clamp",                                                    \
      RunClampQnnpack, "corpora/qnnpack_clamp_channels_last_scramble.json", QnnpackQuint8Kernel};  \
  const OpRecipeDef* const Var##Recipes[] = {&Var##Exact, &Var##Qclamp, &Var##Qnnpack};
QDIFF_CLAMP_RECIPES(kRelu6, OpKind::kRelu6, "relu6")
QDIFF_CLAMP_RECIPES(kHardtanh, OpKind::kHardtanh, "hardtanh")
QDIFF_CLAMP_RECIPES(kClamp, OpKind::kClamp, "clamp")
#undef QDIFF_CLAMP_RECIPES

const OpRecipeDef* ReluEnginePath(Engine, const Layer&, const OpInputs&) {
  return &kReluInt;
}

// qclamp.cpp::quantized_clamp_impl: QNNPACK engine + quint8 → qnnpack_clamp, whose numbers are
// qclamp's. Its element order for a channels-last input is a LibTorch bug (see RunClampQnnpack):
// the engine path is the intended clamp, and <op>.qnnpack_clamp, which reproduces the scramble,
// classifies those elements libtorch_bug (corpora/qnnpack_clamp_channels_last_scramble.json).
// relu6 is at::hardtanh(x, 0, 6).
template <const OpRecipeDef* kQclamp>
const OpRecipeDef* ClampEnginePath(Engine, const Layer&, const OpInputs&) {
  return kQclamp;
}

// hardtanh, clamp: qnnpack/src/clamp.c: pytorch_qnnp_create_clamp_nc_u8 fails if output_min >
// output_max (QNNPACK engine, quint8). relu6's bounds 0 and 6 never fail.
std::string ClampRejectionReason(Engine engine, const Layer& layer, const OpInputs& in) {
  if (engine != Engine::kQnnpack || in[0].dtype != DType::kQUInt8) return "";
  const QTensor& x = in[0];
  const QuantRange r = TypeRange(x.dtype);
  const int32_t qlo = QuantizeVal(x.scales[0], x.zero_points[0], layer.act.min_value, r);
  const int32_t qhi = QuantizeVal(x.scales[0], x.zero_points[0], layer.act.max_value, r);
  if (qlo > qhi) return "QNNPACK clamp: quantized bounds min > max";
  return "";
}

// relu: y = max(x, 0).
std::vector<double> ReluFloatReal(const Layer&, const OpInputs& in, const OpShape& out_shape) {
  return ElementwiseReal(out_shape, [&](int64_t i) {
    const double x = DequantizeElement(in[0], i);
    return std::max(x, 0.0);
  });
}

// relu6, hardtanh, clamp: y = min(max(x, lo), hi).
std::vector<double> ClampFloatReal(const Layer& layer, const OpInputs& in, const OpShape& out_shape) {
  const ClampBounds b = BoundsOf(layer);
  return ElementwiseReal(out_shape, [&](int64_t i) {
    const double x = DequantizeElement(in[0], i);
    return std::min(std::max(x, static_cast<double>(b.lo)), static_cast<double>(b.hi));
  });
}

}  // namespace

extern const OpDef kReluOp = {OpKind::kRelu,  kReluRecipes, std::size(kReluRecipes),
                              ReluEnginePath, nullptr,      ReluFloatReal};
extern const OpDef kRelu6Op = {OpKind::kRelu6, kRelu6Recipes, std::size(kRelu6Recipes),
                               ClampEnginePath<&kRelu6Qclamp>, nullptr, ClampFloatReal};
extern const OpDef kHardtanhOp = {OpKind::kHardtanh, kHardtanhRecipes, std::size(kHardtanhRecipes),
                                  ClampEnginePath<&kHardtanhQclamp>, ClampRejectionReason,
                                  ClampFloatReal};
extern const OpDef kClampOp = {OpKind::kClamp, kClampRecipes, std::size(kClampRecipes),
                               ClampEnginePath<&kClampQclamp>, ClampRejectionReason,
                               ClampFloatReal};

}  // namespace qdiff
