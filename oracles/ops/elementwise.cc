// Elementwise ops without weights: add, mul, cat, relu, relu6, hardtanh, clamp, hardswish,
// sigmoid, leaky_relu. One recipe per LibTorch 1.13 path plus the exact reference of each op
// (docs/semantics.md#ops-without-weights; upstream files named at each recipe, paths relative to
// aten/src/ATen/native/quantized/cpu/).
//
// Shared float building blocks (dequantize_val, the FMA dequantize, quantize_val, QuantizeAvx2)
// and the vector / scalar split of cpu_kernel_vec are in libtorch_float.h. The two lambdas of the
// default kernels differ in the dequantize (FMA or not) and sometimes in the inverse scale, so the
// position of an element in memory (NHWC for channels-last inputs) decides which formula it gets.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "oracles/exact_rational.h"
#include "oracles/float_oracle.h"
#include "oracles/model.h"
#include "oracles/ops/libtorch_float.h"
#include "oracles/ops/op_recipe.h"

namespace qdiff {

namespace {

using Inputs = std::vector<QTensor>;
using Shape = std::vector<int64_t>;

// The exact reference rounding: clamp(RNE(v) + z, qmin, qmax).
int32_t ExactQuantize(const Rational& v, int32_t zp, QuantRange r) {
  const RoundResult rr = RoundRational(v, TieRule::kHalfEven);
  return static_cast<int32_t>(std::clamp<int64_t>(rr.value + zp, r.qmin, r.qmax));
}

// Exact real value s·(q − z) of an input element with the scale LibTorch stores (double).
Rational ExactInput(const QTensor& t, int64_t i) {
  return Rational::FromDouble(t.scales[0]) * Rational::FromInt(t.values[i] - t.zero_points[0]);
}

OutputQParams Out(const Layer& layer, const Inputs& in) { return LayerOutputQParams(layer, in[0]); }

// ---------------------------------------------------------------------------------------------
// Lookup tables: a 256-entry table over the input's int_repr values, built once per call (= once
// per qparams) from a path's formula (exact, or the path's float formula) and applied by integer indexing.

using Table = std::array<int32_t, 256>;

template <typename F>
Table BuildTable(DType dtype, F&& f) {
  Table t{};
  const int32_t qmin = TypeRange(dtype).qmin;
  for (int32_t k = 0; k < 256; ++k) t[k] = f(qmin + k);
  return t;
}

int32_t Lookup(const Table& t, DType dtype, int32_t q) { return t[q - TypeRange(dtype).qmin]; }


// ---------------------------------------------------------------------------------------------
// add — quantized::add / add_relu (BinaryOps.cpp::qadd).

// add.exact: y = clamp(RNE(v) + z_y), v = (s_a(q_a−z_a) + s_b(q_b−z_b)) / s_y exactly,
// ReLU: v = max(v, 0).
std::vector<int32_t> RunAddExact(const Layer& layer, const Inputs& in, const Shape&) {
  const OutputQParams o = Out(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  const Rational sy = Rational::FromDouble(o.scale);
  std::vector<int32_t> out(in[0].values.size());
  for (size_t i = 0; i < out.size(); ++i) {
    Rational v = (ExactInput(in[0], i) + ExactInput(in[1], i)) / sy;
    if (layer.relu && v.Sign() < 0) v = Rational();
    out[i] = ExactQuantize(v, o.zero_point, r);
  }
  return out;
}

// add.default_fp32 (kernels/QuantizedOpKernels.cpp::qadd_kernel):
//   vector lanes  c = f32(DequantFma(a) + DequantFma(b)); ReLU c = max(c, 0); Vec::quantize
//   scalar tail   c = f32(DequantScalar(a) + DequantScalar(b)); ReLU; quantize_val
//   both with inv = f32(1 / f32 s_y): y = clamp(RNE(f32(c · inv)) + z_y).
std::vector<int32_t> RunAddDefault(const Layer& layer, const Inputs& in, const Shape& shape) {
  const OutputQParams o = Out(layer, in);
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
// larger multiplier has `bits` bits: shift = (bits − 1) − exponent(max ratio), M = lrintf(ratio·2^shift).
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

// Where QNNPACK's own quint8 kernels run (add, clamp): the QNNPACK engine with quint8 inputs.
bool QnnpackQuint8Kernel(const std::string& engine, const Layer&, const Inputs& in) {
  return IsQnnpack(engine) && !in.empty() && in[0].dtype == DType::kQUInt8;
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
std::vector<int32_t> RunAddQnnpack(const Layer& layer, const Inputs& in, const Shape& shape) {
  const OutputQParams o = Out(layer, in);
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
std::vector<int32_t> RunAddXnnpack(const Layer& layer, const Inputs& in, const Shape&) {
  const OutputQParams o = Out(layer, in);
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

// ---------------------------------------------------------------------------------------------
// mul — quantized::mul / mul_relu (qmul.cpp::QMul::run).

// mul.exact: v = s_a s_b (q_a−z_a)(q_b−z_b) / s_y exactly; ReLU v = max(v, 0); clamp(RNE(v) + z_y).
std::vector<int32_t> RunMulExact(const Layer& layer, const Inputs& in, const Shape&) {
  const OutputQParams o = Out(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  const Rational sy = Rational::FromDouble(o.scale);
  std::vector<int32_t> out(in[0].values.size());
  for (size_t i = 0; i < out.size(); ++i) {
    Rational v = ExactInput(in[0], i) * ExactInput(in[1], i) / sy;
    if (layer.relu && v.Sign() < 0) v = Rational();
    out[i] = ExactQuantize(v, o.zero_point, r);
  }
  return out;
}

// Integer product requantized in float: y = clamp(RNE(f32(f32(c)·M)) + z_y), c = (q_a−z_a)(q_b−z_b).
std::vector<int32_t> MulWithMultiplier(const Layer& layer, const Inputs& in, float m) {
  const OutputQParams o = Out(layer, in);
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

// mul.default_fp32 (kernels/QuantizedOpKernels.cpp::qmul_kernel; requantize_from_int, vector and
// scalar identical): M = f32(f32(f32 s_a · f32 s_b) · f32(1/f32 s_y)); ReLU max(y, z_y).
std::vector<int32_t> RunMulDefault(const Layer& layer, const Inputs& in, const Shape&) {
  const float inv = 1.0f / F32(Out(layer, in).scale);
  const float m = F32(in[0].scales[0]) * F32(in[1].scales[0]) * inv;
  return MulWithMultiplier(layer, in, m);
}

// mul.xnnpack_qs8 (qmul.cpp::xnnp_mul → XNNPACK xnn_create_multiply_nd_qs8, fp32 requantization):
// M = f32(f32(f32 s_a · f32 s_b) / f32 s_y); ReLU: output_min = z_y.
std::vector<int32_t> RunMulXnnpack(const Layer& layer, const Inputs& in, const Shape&) {
  const float m = (F32(in[0].scales[0]) * F32(in[1].scales[0])) / F32(Out(layer, in).scale);
  return MulWithMultiplier(layer, in, m);
}

// ---------------------------------------------------------------------------------------------
// cat — quantized::cat(xs, dim, s_y, z_y) (TensorShape.cpp / qconcat.cpp::quantized_cat_impl).

// Source of output element o: (input index, element index in that input).
struct CatSource {
  size_t input;
  int64_t index;
  int64_t along;  // coordinate along the cat dimension inside that input
};
CatSource CatSourceOf(const Layer& layer, const Inputs& in, const Shape& out_shape, int64_t o) {
  const int64_t dim = layer.cat_dim;
  int64_t inner = 1;
  for (size_t d = dim + 1; d < out_shape.size(); ++d) inner *= out_shape[d];
  const int64_t inner_pos = o % inner;
  int64_t along = (o / inner) % out_shape[dim];
  const int64_t outer = o / (inner * out_shape[dim]);
  for (size_t t = 0; t < in.size(); ++t) {
    const int64_t len = in[t].shape[dim];
    if (along < len) return {t, (outer * len + along) * inner + inner_pos, along};
    along -= len;
  }
  return {0, 0, 0};  // unreachable for validated shapes
}

// cat.exact: y = clamp(RNE(s_i(q − z_i)/s_y) + z_y) exactly (identity when qparams are equal).
std::vector<int32_t> RunCatExact(const Layer& layer, const Inputs& in, const Shape& shape) {
  const OutputQParams o = Out(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  const Rational sy = Rational::FromDouble(o.scale);
  std::vector<int32_t> out(ShapeElements(shape));
  for (size_t i = 0; i < out.size(); ++i) {
    const CatSource src = CatSourceOf(layer, in, shape, i);
    out[i] = ExactQuantize(ExactInput(in[src.input], src.index) / sy, o.zero_point, r);
  }
  return out;
}

// cat.generic: dequantize() each input (scalar f32(f32 s·f32(q−z))) → at::cat →
// quantize_per_tensor: y = clamp(z_y + RNE(f32(d · f32(1/f32 s_y)))). Inputs whose qparams equal
// the output's round-trip unchanged (|f32 error| ≪ 0.5 LSB).
std::vector<int32_t> RunCatGeneric(const Layer& layer, const Inputs& in, const Shape& shape) {
  const OutputQParams o = Out(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  std::vector<int32_t> out(ShapeElements(shape));
  for (size_t i = 0; i < out.size(); ++i) {
    const CatSource src = CatSourceOf(layer, in, shape, i);
    const QTensor& t = in[src.input];
    const float d = DequantScalar(t.scales[0], t.zero_points[0], t.values[src.index]);
    out[i] = QuantizeVal(o.scale, o.zero_point, d, r);
  }
  return out;
}

// Channels of one input handled by qcat_nhwc_kernel's vector code: whole Vectorized<scalar_t>
// blocks of 32 channels (AVX2), then, if ≥ 8 channels remain, one more partial vector covering
// floor(rest/8)·8 channels ("Vectorized loop for channel between 8 and 32"); the last C mod 8
// channels of each pixel use the scalar loop. [verified: C=63 takes the vector formula up to 56]
int64_t CatVectorChannels(int64_t c) {
  const int64_t blocks = c - c % 32;
  const int64_t rest = c - blocks;
  return blocks + (rest >= 8 ? rest - rest % 8 : 0);
}

// cat.nhwc (kernels/QuantizedOpKernels.cpp::qcat_nhwc_kernel; dim == 1, all inputs 4-D and
// channels-last contiguous): per input and pixel, memcpy if (s_i, z_i) == (s_y, z_y) (double
// compare); else channels c < CatVectorChannels(C_i) (32-channel blocks, then one 8-multiple
// partial block): Vec::quantize(DequantFma, inv = f32(1/f64 s_y)); the last C_i mod 8 channels:
// quantize_val(DequantScalar) (inv = f32(1/f32 s_y)).
std::vector<int32_t> RunCatNhwc(const Layer& layer, const Inputs& in, const Shape& shape) {
  const OutputQParams o = Out(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  const float inv_vec = F32(1.0 / o.scale);
  std::vector<int32_t> out(ShapeElements(shape));
  for (size_t i = 0; i < out.size(); ++i) {
    const CatSource src = CatSourceOf(layer, in, shape, i);
    const QTensor& t = in[src.input];
    const int32_t q = t.values[src.index];
    if (t.scales[0] == o.scale && t.zero_points[0] == o.zero_point) {
      out[i] = q;  // memcpy
      continue;
    }
    if (src.along < CatVectorChannels(t.shape[1])) {
      out[i] = QuantizeVec(inv_vec, o.zero_point, DequantFma(t.scales[0], t.zero_points[0], q), r);
    } else {
      out[i] = QuantizeVal(o.scale, o.zero_point, DequantScalar(t.scales[0], t.zero_points[0], q),
                           r);
    }
  }
  return out;
}

bool CatTakesNhwcPath(const Layer& layer, const Inputs& in) {
  if (layer.cat_dim != 1) return false;  // is_cat_nhwc_fast_path compares dim == 1 literally
  for (const QTensor& t : in) {
    if (!IsChannelsLastContiguous(t.shape, layer.channels_last)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// relu, relu6, hardtanh, clamp — integer clamps (qrelu.cpp, qclamp.cpp; QNNPACK u8clamp on the
// QNNPACK engine for quint8 uses the same bounds). Output qparams = input's.

struct ClampBounds {
  float lo, hi;
};
ClampBounds BoundsOf(const Layer& layer) {
  if (layer.op == OpKind::kRelu6) return {0.0f, 6.0f};
  return {layer.act.min_value, layer.act.max_value};
}

// relu.int: y = max(q, z) (qrelu_kernel; QNNPACK clamp [z, 255]). Exact: max(s(q−z),0)/s rounds
// to max(q−z, 0), so relu.exact is the same integer map.
std::vector<int32_t> RunRelu(const Layer&, const Inputs& in, const Shape&) {
  std::vector<int32_t> out(in[0].values.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = std::max(in[0].values[i], in[0].zero_points[0]);
  return out;
}

// <op>.exact for relu6/hardtanh/clamp: y = clamp(RNE(min(max(s(q−z), lo), hi)/s) + z) exactly
// (lo > hi gives hi, as min(max(x, lo), hi) does).
std::vector<int32_t> RunClampExact(const Layer& layer, const Inputs& in, const Shape&) {
  const QTensor& x = in[0];
  const QuantRange r = TypeRange(x.dtype);
  const ClampBounds b = BoundsOf(layer);
  const Rational lo = Rational::FromDouble(b.lo), hi = Rational::FromDouble(b.hi);
  const Rational s = Rational::FromDouble(x.scales[0]);
  // A function of the input value only: evaluated exactly once per int_repr value.
  const Table t = BuildTable(x.dtype, [&](int32_t q) {
    Rational v = s * Rational::FromInt(q - x.zero_points[0]);
    if (Rational::Compare(v, lo) < 0) v = lo;
    if (Rational::Compare(v, hi) > 0) v = hi;
    return ExactQuantize(v / s, x.zero_points[0], r);
  });
  std::vector<int32_t> out(x.values.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = Lookup(t, x.dtype, x.values[i]);
  return out;
}

// <op>.qclamp: q_lo = quantize_val(s, z, lo), q_hi = quantize_val(s, z, hi) (relu6: 0 and 6;
// quantized::relu6 uses z and quantize_val(6), the same numbers), y = min(max(q, q_lo), q_hi)
// (qclamp_kernel / qnnpack_clamp / qrelu6_kernel).
std::vector<int32_t> RunClampQuantizeVal(const Layer& layer, const Inputs& in, const Shape&) {
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
std::vector<int32_t> RunClampQnnpack(const Layer& layer, const Inputs& in, const Shape& shape) {
  const std::vector<int32_t> clamped = RunClampQuantizeVal(layer, in, shape);
  return layer.channels_last ? WrittenInNhwcOrder(clamped, in[0].shape) : clamped;
}

// hardswish real: h = x · clamp(x + 3, 0, 6) / 6 in float, as both LibTorch formulas write it.
float HardswishF32(float x) { return x * std::min(std::max(x + 3.0f, 0.0f), 6.0f) / 6.0f; }

// hardswish.exact: x = s_x(q − z_x) exactly, h = x·clamp(x+3, 0, 6)/6, y = clamp(RNE(h/s_y) + z_y).
std::vector<int32_t> RunHardswishExact(const Layer& layer, const Inputs& in, const Shape&) {
  const OutputQParams o = Out(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  const Rational sy = Rational::FromDouble(o.scale);
  const Rational three = Rational::FromInt(3), six = Rational::FromInt(6), zero;
  const Table t = BuildTable(in[0].dtype, [&](int32_t q) {
    const Rational x = Rational::FromDouble(in[0].scales[0]) * Rational::FromInt(q - in[0].zero_points[0]);
    Rational c = x + three;
    if (c.Sign() < 0) c = zero;
    if (Rational::Compare(c, six) > 0) c = six;
    return ExactQuantize(x * c / six / sy, o.zero_point, r);
  });
  std::vector<int32_t> out(in[0].values.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = Lookup(t, in[0].dtype, in[0].values[i]);
  return out;
}

// hardswish.default_table (kernels/QuantizedOpKernels.cpp::qhardswish_kernel). Two tables:
//   vector lanes: x = DequantFma, h = HardswishF32(x), Vec::quantize with inv = f32(1/f64 s_y)
//   scalar tail : x = DequantScalar, h = HardswishF32(x), quantize_val (inv = f32(1/f32 s_y))
// A single table from the vector formula would miss the tail, whose dequantize (no FMA) and
// inverse scale (1.0f/f32 s_y vs f32(1.0/s_y)) can each move h·inv across a rounding boundary.
std::vector<int32_t> RunHardswishDefault(const Layer& layer, const Inputs& in, const Shape& shape) {
  const OutputQParams o = Out(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  const QTensor& x = in[0];
  const float inv_vec = F32(1.0 / o.scale);
  const Table vec = BuildTable(x.dtype, [&](int32_t q) {
    return QuantizeVec(inv_vec, o.zero_point,
                       HardswishF32(DequantFma(x.scales[0], x.zero_points[0], q)), r);
  });
  const Table tail = BuildTable(x.dtype, [&](int32_t q) {
    return QuantizeVal(o.scale, o.zero_point,
                       HardswishF32(DequantScalar(x.scales[0], x.zero_points[0], q)), r);
  });
  std::vector<int32_t> out(x.values.size());
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = Lookup(IsVectorElement(layer, shape, i) ? vec : tail, x.dtype, x.values[i]);
  }
  return out;
}

// hardswish.qnnpack_table (qhardswish.cpp::qnnpack_hardswish → qnnpack/src/hardswish.c):
// LUT[q] = lrintf(clamp(f32(f32(inv · h) + f32 z_y), 0, 255)), inv = f32(1/f32 s_y),
// x = f32(f32 s_x · f32(q − z_x)): the zero point is added BEFORE rounding.
std::vector<int32_t> RunHardswishQnnpack(const Layer& layer, const Inputs& in, const Shape&) {
  const OutputQParams o = Out(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  const QTensor& x = in[0];
  const float inv = 1.0f / F32(o.scale);
  const Table t = BuildTable(x.dtype, [&](int32_t q) {
    const float h = HardswishF32(DequantScalar(x.scales[0], x.zero_points[0], q));
    float v = inv * h + static_cast<float>(o.zero_point);  // two roundings (no FMA contraction)
    v = std::min(std::max(v, static_cast<float>(r.qmin)), static_cast<float>(r.qmax));
    return static_cast<int32_t>(std::lrint(v));
  });
  std::vector<int32_t> out(x.values.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = Lookup(t, x.dtype, x.values[i]);
  return out;
}

// ---------------------------------------------------------------------------------------------
// sigmoid — at::sigmoid (qsigmoid.cpp); output qparams fixed: quint8 (1/256, 0), qint8 (1/256, −128).

// sigmoid.exact: y = clamp(RNE(256·σ(x)) + z_y), x = s_x(q − z_x). σ(x) is irrational for every
// rational x ≠ 0 (Lindemann), so 256σ is never an exact tie; it is evaluated in long double
// (x = s·k exact in the 64-bit significand, expl error ≈ 1 ulp), which is correctly rounded unless
// 256σ lies within ~1e-17 relative of a half-integer — not provably, but as far as long double allows.
std::vector<int32_t> RunSigmoidExact(const Layer& layer, const Inputs& in, const Shape&) {
  const OutputQParams o = Out(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  const QTensor& x = in[0];
  const long double inv_sy = 1.0L / static_cast<long double>(o.scale);  // 256 exactly
  const Table t = BuildTable(x.dtype, [&](int32_t q) {
    const long double xv = static_cast<long double>(x.scales[0]) * (q - x.zero_points[0]);
    const long double v = inv_sy / (1.0L + std::exp(-xv));
    const long double rq = std::nearbyint(v) + o.zero_point;
    return static_cast<int32_t>(std::clamp<long double>(rq, r.qmin, r.qmax));
  });
  std::vector<int32_t> out(x.values.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = Lookup(t, x.dtype, x.values[i]);
  return out;
}

// sigmoid.default_table (kernels/QuantizedOpKernels.cpp::qsigmoid_kernel). Two tables:
//   vector lanes: x = DequantFma, σ = f32(1 / f32(1 + exp(−x))), Vec::quantize (inv = 256)
//     LibTorch uses Sleef_expf8_u10 (≤ 1 ulp, not correctly rounded) where the table uses std::exp
//     (glibc expf); the two can differ by 1 ulp and then, rarely, by 1 LSB in y.
//   scalar tail : x = DequantScalar, σ = f32(1.0f / (1.0 + f64(expf(−x)))) (double sum and
//     quotient), quantize_val (inv = 256).
std::vector<int32_t> RunSigmoidDefault(const Layer& layer, const Inputs& in, const Shape& shape) {
  const OutputQParams o = Out(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  const QTensor& x = in[0];
  const float inv = F32(1.0 / o.scale);
  const Table vec = BuildTable(x.dtype, [&](int32_t q) {
    const float e = std::exp(-DequantFma(x.scales[0], x.zero_points[0], q));
    return QuantizeVec(inv, o.zero_point, 1.0f / (1.0f + e), r);
  });
  const Table tail = BuildTable(x.dtype, [&](int32_t q) {
    const float e = std::exp(-DequantScalar(x.scales[0], x.zero_points[0], q));
    return QuantizeVal(o.scale, o.zero_point, F32(1.0f / (1.0 + static_cast<double>(e))), r);
  });
  std::vector<int32_t> out(x.values.size());
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = Lookup(IsVectorElement(layer, shape, i) ? vec : tail, x.dtype, x.values[i]);
  }
  return out;
}

// sigmoid.qnnpack_table (qsigmoid.cpp::qnnpack_sigmoid → qnnpack/src/sigmoid.c, quint8 only):
// LUT[q] = lrintf(clamp(f32(256 / f32(1 + expf(−x))), 0, 255)), x = f32(f32 s_x · f32(q − z_x));
// the 256 (= 1/s_y) is hard-coded and z_y must be 0.
std::vector<int32_t> RunSigmoidQnnpack(const Layer& layer, const Inputs& in, const Shape&) {
  const OutputQParams o = Out(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  const QTensor& x = in[0];
  const Table t = BuildTable(x.dtype, [&](int32_t q) {
    const float xv = DequantScalar(x.scales[0], x.zero_points[0], q);
    float v = 256.0f / (1.0f + std::exp(-xv));
    // quint8: z_y = 0 and this is QNNPACK's clamp to [0, 255]; qint8 (counterfactual) shifts it.
    v = std::min(std::max(v, static_cast<float>(r.qmin - o.zero_point)),
                 static_cast<float>(r.qmax - o.zero_point));
    return static_cast<int32_t>(std::lrint(v)) + o.zero_point;
  });
  std::vector<int32_t> out(x.values.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = Lookup(t, x.dtype, x.values[i]);
  return out;
}

// ---------------------------------------------------------------------------------------------
// leaky_relu — quantized::leaky_relu(x, slope, inplace, s_y, z_y) (qrelu.cpp::QLeakyRelu →
// qrelu_leaky_stub on every engine; LibTorch 1.13 never calls pytorch_qnnp leaky_relu).

// leaky_relu.exact: x = s_x(q − z_x), v = (x > 0 ? x : slope·x)/s_y exactly, clamp(RNE(v) + z_y).
std::vector<int32_t> RunLeakyExact(const Layer& layer, const Inputs& in, const Shape&) {
  const OutputQParams o = Out(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  const Rational sy = Rational::FromDouble(o.scale);
  const Rational slope = Rational::FromDouble(layer.act.negative_slope);
  const Table t = BuildTable(in[0].dtype, [&](int32_t q) {
    const Rational x = Rational::FromDouble(in[0].scales[0]) * Rational::FromInt(q - in[0].zero_points[0]);
    return ExactQuantize((x.Sign() > 0 ? x : slope * x) / sy, o.zero_point, r);
  });
  std::vector<int32_t> out(in[0].values.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = Lookup(t, in[0].dtype, in[0].values[i]);
  return out;
}

// leaky_relu.default_fp32 (kernels/QuantizedOpKernels.cpp::leaky_qrelu_out_kernel):
//   vector lanes: d = DequantFma, d·(d > 0 ? 1 : slope), Vec::quantize with inv = f32(1/f32 s_y)
//   scalar tail : d = DequantScalar, d > 0 ? d : f32(d·slope), quantize_val (same inv)
std::vector<int32_t> RunLeakyDefault(const Layer& layer, const Inputs& in, const Shape& shape) {
  const OutputQParams o = Out(layer, in);
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

// ---------------------------------------------------------------------------------------------
// Recipe tables.

constexpr OpIngredients kExactIngredients(const char* multiplier) {
  return {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kExact, OpLayout::kAny,
          multiplier};
}

const OpRecipeDef kAddExact = {"add.exact", OpKind::kAdd,
                               kExactIngredients("exact (s_a·a + s_b·b)/s_y"),
                               "clamp(RNE((s_a(q_a-z_a)+s_b(q_b-z_b))/s_y) + z_y), exact", RunAddExact};
const OpRecipeDef kAddDefault = {
    "add.default_fp32", OpKind::kAdd,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kBinary32, OpLayout::kAny,
     "f32(1/f32(s_y)) after f32 dequant (FMA in vector lanes)"},
    "clamp(RNE(f32(f32(da+db)*f32(1/f32 s_y))) + z_y), da = fma dequant (tail: f32(s(q-z))); "
    "QuantizedOpKernels.cpp qadd_kernel",
    RunAddDefault};
const OpRecipeDef kAddQnnpack = {
    "add.qnnpack_fixed", OpKind::kAdd,
    {OpRounding::kHalfAway, OpZeroPoint::kAfterRounding, OpArithmetic::kFixedPoint, OpLayout::kAny,
     "lrintf(f32(f32 s/f32 s_y)*2^(21-e)), 22-bit"},
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
     "lrintf(f32(f32 s/f32 s_y)*2^(20-e)), 21-bit"},
    "clamp(((A(q_a-z_a)+B(q_b-z_b)+2^(shift-1)) >> shift) + z_y); XNNPACK qs8 add (BinaryOps.cpp "
    "xnnp_add)",
    RunAddXnnpack};

const OpRecipeDef kMulExact = {"mul.exact", OpKind::kMul, kExactIngredients("exact s_a·s_b/s_y"),
                               "clamp(RNE(s_a s_b (q_a-z_a)(q_b-z_b)/s_y) + z_y), exact", RunMulExact};
const OpRecipeDef kMulDefault = {
    "mul.default_fp32", OpKind::kMul,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kBinary32, OpLayout::kAny,
     "f32(f32(f32 s_a*f32 s_b)*f32(1/f32 s_y))"},
    "clamp(RNE(f32(f32(c)*M)) + z_y), c=(q_a-z_a)(q_b-z_b); QuantizedOpKernels.cpp qmul_kernel",
    RunMulDefault};
const OpRecipeDef kMulXnnpack = {
    "mul.xnnpack_qs8", OpKind::kMul,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kBinary32, OpLayout::kAny,
     "f32(f32(f32 s_a*f32 s_b)/f32 s_y)"},
    "clamp(RNE(f32(f32(c)*M)) + z_y); XNNPACK qs8 multiply (qmul.cpp xnnp_mul)", RunMulXnnpack};

const OpRecipeDef kCatExact = {"cat.exact", OpKind::kCat, kExactIngredients("exact s_i/s_y"),
                               "clamp(RNE(s_i(q-z_i)/s_y) + z_y), exact", RunCatExact};
const OpRecipeDef kCatGeneric = {
    "cat.generic", OpKind::kCat,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kBinary32, OpLayout::kAny,
     "f32(1/f32(s_y))"},
    "quantize_per_tensor(cat(dequantize(x_i))): clamp(z_y + RNE(f32(f32(s_i(q-z_i))*f32(1/f32 "
    "s_y)))); qconcat.cpp quantized_cat_impl",
    RunCatGeneric};
const OpRecipeDef kCatNhwc = {
    "cat.nhwc", OpKind::kCat,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kBinary32, OpLayout::kNhwc,
     "f32(1/f64 s_y) (fma dequant, 32/8-channel vectors); tail f32(1/f32 s_y)"},
    "memcpy if qparams equal, else clamp(RNE(f32(fma_dequant*f32(1/s_y))) + z_y), channel tail "
    "quantize_val; QuantizedOpKernels.cpp qcat_nhwc_kernel",
    RunCatNhwc};

constexpr OpIngredients kMaxIngredients = {OpRounding::kNone, OpZeroPoint::kNone,
                                           OpArithmetic::kExact, OpLayout::kAny, "max(q, z)"};
const OpRecipeDef kReluExact = {"relu.exact", OpKind::kRelu, kMaxIngredients,
                                "max(q, z) (= RNE(max(x,0)/s) + z exactly)", RunRelu};
const OpRecipeDef kReluInt = {"relu.int", OpKind::kRelu, kMaxIngredients,
                              "max(q, z); qrelu.cpp / QuantizedOpKernels.cpp qrelu_kernel, QNNPACK "
                              "clamp [z,255]",
                              RunRelu};

constexpr OpIngredients kClampExactIngredients = {OpRounding::kHalfEven,
                                                  OpZeroPoint::kAfterRounding, OpArithmetic::kExact,
                                                  OpLayout::kAny, "exact bound/s"};
constexpr OpIngredients kClampQvIngredients = {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding,
                                               OpArithmetic::kBinary32, OpLayout::kAny,
                                               "quantize_val: f32(bound*f32(1/f32 s))"};
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
       OpLayout::kNhwc, "quantize_val: f32(bound*f32(1/f32 s))"},                                 \
      "qclamp bounds; channels-last input written NHWC into an NCHW output (element order "       \
      "transposed); qclamp.cpp qnnpack_clamp",                                                    \
      RunClampQnnpack, "corpora/qnnpack_clamp_channels_last_scramble.json", QnnpackQuint8Kernel};
QDIFF_CLAMP_RECIPES(kRelu6, OpKind::kRelu6, "relu6")
QDIFF_CLAMP_RECIPES(kHardtanh, OpKind::kHardtanh, "hardtanh")
QDIFF_CLAMP_RECIPES(kClamp, OpKind::kClamp, "clamp")
#undef QDIFF_CLAMP_RECIPES

const OpRecipeDef kHardswishExact = {"hardswish.exact", OpKind::kHardswish,
                                     kExactIngredients("exact h(x)/s_y"),
                                     "clamp(RNE(x*clamp(x+3,0,6)/6/s_y) + z_y), exact",
                                     RunHardswishExact};
const OpRecipeDef kHardswishDefault = {
    "hardswish.default_table", OpKind::kHardswish,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kTable, OpLayout::kAny,
     "f32(1/f64 s_y) (vector; tail f32(1/f32 s_y))"},
    "LUT: clamp(RNE(f32(h(fma_dequant)*f32(1/s_y))) + z_y) (tail: quantize_val); "
    "QuantizedOpKernels.cpp qhardswish_kernel",
    RunHardswishDefault};
const OpRecipeDef kHardswishQnnpack = {
    "hardswish.qnnpack_table", OpKind::kHardswish,
    {OpRounding::kHalfEven, OpZeroPoint::kBeforeRounding, OpArithmetic::kTable, OpLayout::kAny,
     "f32(1/f32 s_y)"},
    "LUT: lrintf(clamp(f32(f32(inv*h) + z_y), 0, 255)); qnnpack/src/hardswish.c",
    RunHardswishQnnpack};

const OpRecipeDef kSigmoidExact = {"sigmoid.exact", OpKind::kSigmoid,
                                   kExactIngredients("256 sigma(x), long double"),
                                   "clamp(RNE(256/(1+exp(-x))) + z_y), long double", RunSigmoidExact};
const OpRecipeDef kSigmoidDefault = {
    "sigmoid.default_table", OpKind::kSigmoid,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kTable, OpLayout::kAny,
     "256 f32(1/f32(1+expf(-x))) (tail via double)"},
    "LUT: clamp(RNE(f32(f32(1/(1+exp(-x)))*256)) + z_y); QuantizedOpKernels.cpp qsigmoid_kernel",
    RunSigmoidDefault};
const OpRecipeDef kSigmoidQnnpack = {
    "sigmoid.qnnpack_table", OpKind::kSigmoid,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kTable, OpLayout::kAny,
     "f32(256/f32(1+expf(-x)))"},
    "LUT: lrintf(clamp(256/(1+expf(-x)), 0, 255)); qnnpack/src/sigmoid.c", RunSigmoidQnnpack};

const OpRecipeDef kLeakyExact = {"leaky_relu.exact", OpKind::kLeakyRelu,
                                 kExactIngredients("exact (x>0?x:slope x)/s_y"),
                                 "clamp(RNE((x>0?x:slope*x)/s_y) + z_y), exact", RunLeakyExact};
const OpRecipeDef kLeakyDefault = {
    "leaky_relu.default_fp32", OpKind::kLeakyRelu,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kBinary32, OpLayout::kAny,
     "f32(1/f32 s_y) after f32 dequant (FMA in vector lanes)"},
    "clamp(RNE(f32(f32(d*(d>0?1:slope))*f32(1/f32 s_y))) + z_y); QuantizedOpKernels.cpp "
    "leaky_qrelu_out_kernel",
    RunLeakyDefault};

std::string RatioRangeReason(const char* what, float ratio, float lo, float hi,
                             const char* range) {
  if (ratio >= lo && ratio < hi) return "";
  return std::string(what) + " input/output scale ratio " + std::to_string(ratio) +
         " outside " + range;
}

// flatten.exact (at::flatten(x, 1), a reshape of the quantized tensor): the int_repr values
// unchanged, in logical row-major order; the output qparams are the input's.
std::vector<int32_t> RunFlatten(const Layer&, const Inputs& in, const Shape&) {
  return in[0].values;
}
const OpRecipeDef kFlattenExact = {
    "flatten.exact", OpKind::kFlatten,
    {OpRounding::kNone, OpZeroPoint::kNone, OpArithmetic::kExact, OpLayout::kAny, "identity"},
    "y = q in logical row-major order; at::flatten -> reshape", RunFlatten};

}  // namespace

// ---------------------------------------------------------------------------------------------

const std::vector<const OpRecipeDef*>& ElementwiseOpRecipes(OpKind op) {
  static const std::vector<const OpRecipeDef*> kNone;
  static const std::vector<const OpRecipeDef*> kAdd = {
      &kAddExact, &kAddDefault, &kAddQnnpack, &kAddXnnpack, &kAddQnnpackShiftBug};
  static const std::vector<const OpRecipeDef*> kMul = {&kMulExact, &kMulDefault, &kMulXnnpack};
  static const std::vector<const OpRecipeDef*> kCat = {&kCatExact, &kCatGeneric, &kCatNhwc};
  static const std::vector<const OpRecipeDef*> kRelu = {&kReluExact, &kReluInt};
  static const std::vector<const OpRecipeDef*> kRelu6 = {&kRelu6Exact, &kRelu6Qclamp,
                                                             &kRelu6Qnnpack};
  static const std::vector<const OpRecipeDef*> kHardtanh = {&kHardtanhExact, &kHardtanhQclamp,
                                                             &kHardtanhQnnpack};
  static const std::vector<const OpRecipeDef*> kClamp = {&kClampExact, &kClampQclamp,
                                                             &kClampQnnpack};
  static const std::vector<const OpRecipeDef*> kHardswish = {&kHardswishExact, &kHardswishDefault,
                                                             &kHardswishQnnpack};
  static const std::vector<const OpRecipeDef*> kSigmoid = {&kSigmoidExact, &kSigmoidDefault,
                                                           &kSigmoidQnnpack};
  static const std::vector<const OpRecipeDef*> kLeaky = {&kLeakyExact, &kLeakyDefault};
  static const std::vector<const OpRecipeDef*> kFlatten = {&kFlattenExact};
  switch (op) {
    case OpKind::kAdd: return kAdd;
    case OpKind::kMul: return kMul;
    case OpKind::kCat: return kCat;
    case OpKind::kRelu: return kRelu;
    case OpKind::kRelu6: return kRelu6;
    case OpKind::kHardtanh: return kHardtanh;
    case OpKind::kClamp: return kClamp;
    case OpKind::kHardswish: return kHardswish;
    case OpKind::kSigmoid: return kSigmoid;
    case OpKind::kLeakyRelu: return kLeaky;
    case OpKind::kFlatten: return kFlatten;
    default: return kNone;
  }
}

const OpRecipeDef* ElementwiseEngineRecipe(const std::string& engine, const Layer& layer,
                                           const std::vector<QTensor>& inputs) {
  if (!IsKnownEngine(engine) || inputs.empty()) return nullptr;
  const bool qnnpack = IsQnnpack(engine);
  const DType dtype = inputs[0].dtype;
  switch (layer.op) {
    case OpKind::kAdd:
      // BinaryOps.cpp::qadd: QNNPACK engine → XNNPACK for qint8, QNNPACK for quint8 with equal
      // shapes (always true here), else qadd_kernel.
      if (qnnpack) return dtype == DType::kQInt8 ? &kAddXnnpack : &kAddQnnpack;
      return &kAddDefault;
    case OpKind::kMul:
      // qmul.cpp::QMul::run: qint8 with z_y < 127 → XNNPACK on every engine.
      if (dtype == DType::kQInt8 && layer.out_zero_point < 127) return &kMulXnnpack;
      return &kMulDefault;
    case OpKind::kCat: return CatTakesNhwcPath(layer, inputs) ? &kCatNhwc : &kCatGeneric;
    case OpKind::kRelu: return &kReluInt;
    // qclamp.cpp::quantized_clamp_impl: QNNPACK engine + quint8 → qnnpack_clamp, whose numbers
    // are qclamp's. Its element order for a channels-last input is a LibTorch bug (see
    // RunClampQnnpack): the engine path is the intended clamp, and <op>.qnnpack_clamp, which
    // reproduces the scramble, classifies those elements libtorch_bug
    // (corpora/qnnpack_clamp_channels_last_scramble.json). relu6 is at::hardtanh(x, 0, 6).
    case OpKind::kRelu6: return &kRelu6Qclamp;
    case OpKind::kHardtanh: return &kHardtanhQclamp;
    case OpKind::kClamp: return &kClampQclamp;
    case OpKind::kHardswish:
      return qnnpack && dtype == DType::kQUInt8 ? &kHardswishQnnpack : &kHardswishDefault;
    case OpKind::kSigmoid:
      return qnnpack && dtype == DType::kQUInt8 ? &kSigmoidQnnpack : &kSigmoidDefault;
    case OpKind::kLeakyRelu: return &kLeakyDefault;
    case OpKind::kFlatten: return &kFlattenExact;
    default: return nullptr;
  }
}

std::string ElementwiseRejectionReason(const std::string& engine, const Layer& layer,
                                       const std::vector<QTensor>& inputs) {
  if (inputs.empty()) return "";
  if (layer.op == OpKind::kMul && ElementwiseEngineRecipe(engine, layer, inputs) == &kMulXnnpack) {
    // XNNPACK multiply-nd.c (any engine): f32(f32(s_a·s_b)/s_y) in [2^-16, 2^8).
    if (!IsNormalF32(inputs[0].scales[0]) || !IsNormalF32(inputs[1].scales[0]) ||
        !IsNormalF32(layer.out_scale)) {
      return "XNNPACK mul: scales must be normal floats";
    }
    const float ratio = F32(inputs[0].scales[0]) * F32(inputs[1].scales[0]) / F32(layer.out_scale);
    return RatioRangeReason("XNNPACK mul", ratio, 0x1.0p-16f, 0x1.0p+8f, "[2^-16, 2^8)");
  }
  if (!IsQnnpack(engine)) return "";
  const DType dtype = inputs[0].dtype;
  const OutputQParams o = LayerOutputQParams(layer, inputs[0]);
  switch (layer.op) {
    case OpKind::kAdd: {
      if (inputs.size() < 2) return "";
      // qnnpack/src/add.c and XNNPACK add-nd.c: scales must be positive normal floats; the
      // ratios are computed in float.
      if (!IsNormalF32(inputs[0].scales[0]) || !IsNormalF32(inputs[1].scales[0]) ||
          !IsNormalF32(o.scale)) {
        return "add: QNNPACK/XNNPACK need normal float scales";
      }
      const float ra = F32(inputs[0].scales[0]) / F32(o.scale);
      const float rb = F32(inputs[1].scales[0]) / F32(o.scale);
      const bool x = dtype == DType::kQInt8;
      const char* what = x ? "XNNPACK add" : "QNNPACK add";
      const float lo = x ? 0x1.0p-10f : 0x1.0p-14f;
      const char* range = x ? "[2^-10, 2^8)" : "[2^-14, 2^8)";
      std::string r = RatioRangeReason(what, ra, lo, 0x1.0p+8f, range);
      if (r.empty()) r = RatioRangeReason(what, rb, lo, 0x1.0p+8f, range);
      if (!r.empty()) return r;
      // add_relu: output_min = z_y must stay below output_max.
      if (layer.relu && o.zero_point >= TypeRange(dtype).qmax) {
        return std::string(what) + " with ReLU: output range [z_y, qmax] is empty";
      }
      return "";
    }
    case OpKind::kHardtanh:
    case OpKind::kClamp: {
      // qnnpack/src/clamp.c: pytorch_qnnp_create_clamp_nc_u8 fails if output_min > output_max.
      if (dtype != DType::kQUInt8) return "";
      const QTensor& x = inputs[0];
      const QuantRange r = TypeRange(dtype);
      const int32_t qlo = QuantizeVal(x.scales[0], x.zero_points[0], layer.act.min_value, r);
      const int32_t qhi = QuantizeVal(x.scales[0], x.zero_points[0], layer.act.max_value, r);
      if (qlo > qhi) return "QNNPACK clamp: quantized bounds min > max";
      return "";
    }
    case OpKind::kHardswish:
    case OpKind::kSigmoid:
      // qnnpack/src/hardswish.c, sigmoid.c: scales must be positive normal floats.
      if (dtype == DType::kQUInt8 && (!IsNormalF32(inputs[0].scales[0]) || !IsNormalF32(o.scale))) {
        return "QNNPACK LUT op: scales must be normal floats";
      }
      return "";
    default: return "";
  }
}

std::vector<double> ElementwiseFloatReal(const Layer& layer, const std::vector<QTensor>& inputs,
                                         const std::vector<int64_t>& out_shape) {
  const int64_t n = ShapeElements(out_shape);
  std::vector<double> real(n);
  if (layer.op == OpKind::kCat) {
    for (int64_t i = 0; i < n; ++i) {
      const CatSource src = CatSourceOf(layer, inputs, out_shape, i);
      real[i] = DequantizeElement(inputs[src.input], src.index);
    }
    return real;
  }
  for (int64_t i = 0; i < n; ++i) {
    const double x = DequantizeElement(inputs[0], i);
    double y = x;
    switch (layer.op) {
      case OpKind::kAdd: y = x + DequantizeElement(inputs[1], i); break;
      case OpKind::kMul: y = x * DequantizeElement(inputs[1], i); break;
      case OpKind::kRelu: y = std::max(x, 0.0); break;
      case OpKind::kRelu6:
      case OpKind::kHardtanh:
      case OpKind::kClamp: {
        const ClampBounds b = BoundsOf(layer);
        y = std::min(std::max(x, static_cast<double>(b.lo)), static_cast<double>(b.hi));
        break;
      }
      case OpKind::kHardswish: y = x * std::min(std::max(x + 3.0, 0.0), 6.0) / 6.0; break;
      case OpKind::kSigmoid: y = 1.0 / (1.0 + std::exp(-x)); break;
      case OpKind::kLeakyRelu: y = x > 0 ? x : layer.act.negative_slope * x; break;
      default: break;
    }
    if (layer.relu && (layer.op == OpKind::kAdd || layer.op == OpKind::kMul)) y = std::max(y, 0.0);
    real[i] = y;
  }
  return real;
}

}  // namespace qdiff
