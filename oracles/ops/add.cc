// add — quantized::add / add_relu (cpu/BinaryOps.cpp::qadd): the exact reference, the default
// kernel (qadd_kernel), QNNPACK's fixed-point add (quint8), XNNPACK's (qint8) and the recipe that
// reproduces QNNPACK's shift-count bug. Upstream paths relative to aten/src/ATen/native/quantized/
// (docs/semantics.md#ops-without-weights).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
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

// add.exact: y = clamp(RNE(v) + z_y), v = (s_a(q_a−z_a) + s_b(q_b−z_b)) / s_y exactly,
// ReLU: v = max(v, 0).
std::vector<int32_t> RunAddExact(const Layer& layer, const OpInputs& in, const OpShape&) {
  return BinaryExact(layer, in, [](const auto& a, const auto& b) { return a + b; });
}

// add.default_fp32 (cpu/kernels/QuantizedOpKernels.cpp::qadd_kernel):
//   vector lanes  c = f32(DequantFma(a) + DequantFma(b)); ReLU c = max(c, 0); Vec::quantize
//   scalar tail   c = f32(DequantScalar(a) + DequantScalar(b)); ReLU; quantize_val
//   both with inv = f32(1 / f32 s_y): y = clamp(RNE(f32(c · inv)) + z_y).
std::vector<int32_t> RunAddDefault(const Layer& layer, const OpInputs& in, const OpShape& shape) {
  const OutputQParams o = OpOutQParams(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  const QTensor& a = in[0];
  const QTensor& b = in[1];
  const float inv = 1.0f / F32(o.scale);
  std::vector<int32_t> out(a.values.size());
  for (size_t i = 0; i < out.size(); ++i) {
    if (IsVectorElement(layer, shape, i)) {
      float c = DequantFma(a.scales[0], a.zero_points[0], a.values[i]) +
                DequantFma(b.scales[0], b.zero_points[0], b.values[i]);
      if (layer.relu) c = std::max(c, 0.0f);
      out[i] = QuantizeVec(inv, o.zero_point, c, r);
    } else {
      float c = DequantScalar(a.scales[0], a.zero_points[0], a.values[i]) +
                DequantScalar(b.scales[0], b.zero_points[0], b.values[i]);
      if (layer.relu) c = std::max(c, 0.0f);
      out[i] = QuantizeVal(o.scale, o.zero_point, c, r);
    }
  }
  return out;
}

uint32_t FloatBits(float f) {
  uint32_t u;
  static_assert(sizeof(u) == sizeof(f), "binary32");
  std::memcpy(&u, &f, sizeof(u));
  return u;
}

// Binary exponent of a positive normal float.
int32_t FloatExponent(float f) { return static_cast<int32_t>(FloatBits(f) >> 23) - 127; }

// Fixed-point add multipliers shared by QNNPACK and XNNPACK: ratios in float, shift so that the
// larger multiplier has `bits` bits: shift = (bits − 1) − exponent(max ratio),
// M = lrintf(ratio·2^shift).
struct FixedAddParams {
  int64_t a_mult, b_mult;
  int shift;
};
FixedAddParams ComputeFixedAddParams(const QTensor& a, const QTensor& b, double s_y, int bits) {
  const float a_ratio = F32(a.scales[0]) / F32(s_y);
  const float b_ratio = F32(b.scales[0]) / F32(s_y);
  const int shift = (bits - 1) - FloatExponent(std::max(a_ratio, b_ratio));
  const float pow2 = std::ldexp(1.0f, shift);
  return {std::lrint(a_ratio * pow2), std::lrint(b_ratio * pow2), shift};
}

// add.qnnpack_fixed (qnnpack/src/add.c, requantization.h::pytorch_qnnp_compute_add_quantization_
// params, q8vadd/sse2.c): A = lrintf(f32(f32 s_a/f32 s_y)·2^shift), shift = 21 − exp(max ratio)
// (22-bit multipliers), acc = A(q_a−z_a) + B(q_b−z_b) (int32, |acc| < 2^31), then
//   mask = 2^shift − 1, threshold = mask >> 1, rem = (acc & mask) − (acc < 0)
//   r = (acc >> shift) + (rem > threshold)          = acc / 2^shift rounded half away from zero
//   y = clamp(sat16(r) + z_y, ReLU ? z_y : 0, 255)
// Ratios in [2^-14, 2^-10) pass LibTorch's range check but give shift ∈ [32, 35], where the
// upstream assert(shift < 32) is compiled out: `1u << shift` masks the count to shift − 32 (x86
// shl). operator-run.c feeds the kernel tiles of 4096 contiguous elements (memory order); a tile
// of ≥ 8 elements takes the SSE2 branch, whose _mm_sra_epi32 saturates the count (sign fill:
// r degenerates to 0/−1 plus a carry from the low bits), a tile of < 8 elements the scalar branch,
// whose asr_s32 (x >> n) masks the count to shift − 32 (r becomes huge and saturates). That is a
// LibTorch bug (corpora/qnnpack_add_shift_over_31.json): add.qnnpack_fixed computes the formula
// above with 64-bit shifts, add.qnnpack_fixed_shift_bug emulates the bug bit for bit [verified
// against LibTorch]; for shift < 32 the two are the same.
constexpr int64_t kQnnpackAddTile = 4096;  // block_size in operator-run.c (q8add contiguous)

template <bool kShiftCountBug>
std::vector<int32_t> RunAddQnnpack(const Layer& layer, const OpInputs& in, const OpShape& shape) {
  const OutputQParams o = OpOutQParams(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  const FixedAddParams p = ComputeFixedAddParams(in[0], in[1], o.scale, 22);
  const int64_t lo = layer.relu ? std::max(r.qmin, o.zero_point) : r.qmin;
  const uint32_t shift = static_cast<uint32_t>(std::max(p.shift, 0));
  const uint64_t mask = kShiftCountBug ? (uint32_t{1} << (shift & 31)) - 1u  // x86 shl masks
                                       : (uint64_t{1} << std::min(shift, 62u)) - 1u;
  const int64_t threshold = static_cast<int64_t>(mask >> 1);
  const int sra_vector = static_cast<int>(kShiftCountBug ? std::min<uint32_t>(shift, 31)  // psrad
                                                         : std::min<uint32_t>(shift, 62));
  const int sra_scalar = static_cast<int>(kShiftCountBug ? shift & 31 : std::min<uint32_t>(shift, 62));
  const int64_t n = static_cast<int64_t>(in[0].values.size());
  std::vector<int32_t> out(n);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t pos = MemoryPosition(shape, layer.channels_last, i);
    const int64_t tile_start = pos - pos % kQnnpackAddTile;
    const bool scalar_branch = std::min(kQnnpackAddTile, n - tile_start) < 8;
    const int64_t acc = p.a_mult * (in[0].values[i] - in[0].zero_points[0]) +
                        p.b_mult * (in[1].values[i] - in[1].zero_points[0]);
    const int64_t rem = static_cast<int64_t>(static_cast<uint64_t>(acc) & mask) - (acc < 0 ? 1 : 0);
    const int64_t q = (acc >> (scalar_branch ? sra_scalar : sra_vector)) +
                      (rem > threshold ? 1 : 0) + o.zero_point;
    out[i] = static_cast<int32_t>(std::clamp<int64_t>(q, lo, r.qmax));
  }
  return out;
}

// add.xnnpack_qs8 (BinaryOps.cpp::xnnp_add → XNNPACK xnn_create_add_nd_qs8,
// params-init.c::xnn_init_qs8_add_minmax_*_params): 21-bit multipliers, shift = 20 − exp(max
// ratio), y = clamp(((A(q_a−z_a) + B(q_b−z_b) + 2^(shift−1)) >> shift) + z_y): arithmetic shift of
// a biased sum = round half up. ReLU: lower bound z_y.
std::vector<int32_t> RunAddXnnpack(const Layer& layer, const OpInputs& in, const OpShape&) {
  const OutputQParams o = OpOutQParams(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  const FixedAddParams p = ComputeFixedAddParams(in[0], in[1], o.scale, 21);
  const int64_t lo = layer.relu ? std::max(r.qmin, o.zero_point) : r.qmin;
  // Accepted ratios give shift ∈ [12, 30]; the clamp only keeps rejected inputs defined.
  const int shift = std::clamp(p.shift, 1, 62);
  const int64_t half = int64_t{1} << (shift - 1);
  std::vector<int32_t> out(in[0].values.size());
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t acc = p.a_mult * (in[0].values[i] - in[0].zero_points[0]) +
                        p.b_mult * (in[1].values[i] - in[1].zero_points[0]);
    // >> on a negative int64 is an arithmetic shift (floor) in C++20 and on every target we build.
    const int64_t q = ((acc + half) >> shift) + o.zero_point;
    out[i] = static_cast<int32_t>(std::clamp<int64_t>(q, lo, r.qmax));
  }
  return out;
}

// The multipliers (or functions) of this op's recipes: one OpFormula each (op_recipe.h).
constexpr OpFormula kAddDefaultMultiplier{"f32(1/f32(s_y)) after f32 dequant (FMA in vector lanes)"};
constexpr OpFormula kAddQnnpackMultiplier{"lrintf(f32(f32 s/f32 s_y)*2^(21-e)), 22-bit"};
constexpr OpFormula kAddXnnpackMultiplier{"lrintf(f32(f32 s/f32 s_y)*2^(20-e)), 21-bit"};
constexpr OpFormula kAddExactMultiplier{"exact (s_a·a + s_b·b)/s_y"};

const OpRecipeDef kAddExact = {"add.exact", OpKind::kAdd,
                               ExactIngredients(&kAddExactMultiplier),
                               "clamp(RNE((s_a(q_a-z_a)+s_b(q_b-z_b))/s_y) + z_y), exact", RunAddExact};
const OpRecipeDef kAddDefault = {
    "add.default_fp32", OpKind::kAdd,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kBinary32, OpLayout::kAny,
     &kAddDefaultMultiplier},
    "clamp(RNE(f32(f32(da+db)*f32(1/f32 s_y))) + z_y), da = fma dequant (tail: f32(s(q-z))); "
    "QuantizedOpKernels.cpp qadd_kernel",
    RunAddDefault};
constexpr OpRecipeDef kAddQnnpack = {  // constexpr: its ingredients are reused
    "add.qnnpack_fixed", OpKind::kAdd,
    {OpRounding::kHalfAway, OpZeroPoint::kAfterRounding, OpArithmetic::kFixedPoint, OpLayout::kAny,
     &kAddQnnpackMultiplier},
    "clamp(RHAZ((A(q_a-z_a)+B(q_b-z_b))/2^shift) + z_y); qnnpack/src/add.c, q8vadd/sse2.c",
    RunAddQnnpack<false>};
const OpRecipeDef kAddQnnpackShiftBug = {
    "add.qnnpack_fixed_shift_bug", OpKind::kAdd, kAddQnnpack.ingredients,
    "add.qnnpack_fixed with LibTorch's shift counts ≥ 32 (masked shl, saturating psrad, masked "
    "sar) for scale ratios in [2^-14, 2^-10)",
    RunAddQnnpack<true>, "corpora/qnnpack_add_shift_over_31.json", QnnpackQuint8Kernel};
const OpRecipeDef kAddXnnpack = {
    "add.xnnpack_qs8", OpKind::kAdd,
    {OpRounding::kHalfUp, OpZeroPoint::kAfterRounding, OpArithmetic::kFixedPoint, OpLayout::kAny,
     &kAddXnnpackMultiplier},
    "clamp(((A(q_a-z_a)+B(q_b-z_b)+2^(shift-1)) >> shift) + z_y); XNNPACK qs8 add (BinaryOps.cpp "
    "xnnp_add)",
    RunAddXnnpack};

const OpRecipeDef* const kAddRecipes[] = {&kAddExact, &kAddDefault, &kAddQnnpack, &kAddXnnpack,
                                          &kAddQnnpackShiftBug};

// BinaryOps.cpp::qadd: QNNPACK engine → XNNPACK for qint8, QNNPACK for quint8 with equal shapes
// (always true here), else qadd_kernel.
const OpRecipeDef* AddEnginePath(Engine engine, const Layer&, const OpInputs& in) {
  if (engine == Engine::kQnnpack) return in[0].dtype == DType::kQInt8 ? &kAddXnnpack : &kAddQnnpack;
  return &kAddDefault;
}

// qnnpack/src/add.c and XNNPACK add-nd.c (QNNPACK engine only): scales must be positive normal
// floats; the ratios, computed in float, must lie in [2^-14, 2^8) (QNNPACK) or [2^-10, 2^8)
// (XNNPACK); add_relu needs output_min = z_y below output_max.
std::string AddRejectionReason(Engine engine, const Layer& layer, const OpInputs& in) {
  if (engine != Engine::kQnnpack || in.size() < 2) return "";
  const DType dtype = in[0].dtype;
  const OutputQParams o = LayerOutputQParams(layer, in[0]);
  if (!IsNormalF32(in[0].scales[0]) || !IsNormalF32(in[1].scales[0]) || !IsNormalF32(o.scale)) {
    return "add: QNNPACK/XNNPACK need normal float scales";
  }
  const float ra = F32(in[0].scales[0]) / F32(o.scale);
  const float rb = F32(in[1].scales[0]) / F32(o.scale);
  const bool x = dtype == DType::kQInt8;
  const char* what = x ? "XNNPACK add" : "QNNPACK add";
  const float lo = x ? 0x1.0p-10f : 0x1.0p-14f;
  const char* range = x ? "[2^-10, 2^8)" : "[2^-14, 2^8)";
  std::string r = RatioRangeReason(what, ra, lo, 0x1.0p+8f, range);
  if (r.empty()) r = RatioRangeReason(what, rb, lo, 0x1.0p+8f, range);
  if (!r.empty()) return r;
  if (layer.relu && o.zero_point >= TypeRange(dtype).qmax) {
    return std::string(what) + " with ReLU: output range [z_y, qmax] is empty";
  }
  return "";
}

// y = x_a + x_b (ReLU: max(y, 0)).
std::vector<double> AddFloatReal(const Layer& layer, const OpInputs& in, const OpShape& out_shape) {
  return BinaryReal(layer, in, out_shape, [](double a, double b) { return a + b; });
}

}  // namespace

std::optional<AddFixedPoint> AddRecipeFixedPoint(const OpRecipeDef& recipe, const Layer& layer, const OpInputs& in) {
  const OutputQParams o = OpOutQParams(layer, in);
  const bool qnnpack = &recipe == &kAddQnnpack, xnnpack = &recipe == &kAddXnnpack;
  if (!qnnpack && !xnnpack) return std::nullopt;
  const FixedAddParams p = ComputeFixedAddParams(in[0], in[1], o.scale, qnnpack ? 22 : 21);
  return AddFixedPoint{p.a_mult, p.b_mult, p.shift, qnnpack};
}

extern const OpDef kAddOp = {OpKind::kAdd, kAddRecipes, std::size(kAddRecipes), AddEnginePath,
                             AddRejectionReason, AddFloatReal};

}  // namespace qdiff
