// LibTorch 1.13's float building blocks, written once: the dequantize and quantize formulas of its
// quantized CPU kernels, which lambda of cpu_kernel_vec an element takes, the layout rule that
// picks a kernel. The op recipes (oracles/ops/*.cc), the observers'
// quantize (oracles/observers.cc), linear_dynamic's QNNPACK activation quantize and the float
// oracle's dequantize all call these functions, so that two recipes that claim the same LibTorch
// formula run the same code.
//
// Notation: f32(·) rounds to binary32; RNE = round half to even (nearbyint in the default
// rounding mode). Upstream paths are relative to aten/src/ATen/native/quantized/. Compiled with
// the rest of oracles/ (-ffp-contract=off): every float operation rounds on its own.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "oracles/engine.h"
#include "oracles/model.h"

namespace qdiff {

// f32(x): a double rounded to binary32 (RNE).
inline float F32(double x) { return static_cast<float>(x); }

// ---------------------------------------------------------------------------------------------
// Dequantize.

// dequantize_val (AffineQuantizerBase.cpp) and the scalar lambdas of cpu/kernels/
// QuantizedOpKernels.cpp: d = f32(f32 s · f32(q − z)).
inline float DequantScalar(double scale, int32_t zp, int32_t q) { return F32(scale) * F32(q - zp); }

// Vectorized<q(u)int8>::dequantize (cpu/vec256_qint.h, AVX2) with the premultiplied
// scale_zp_premul = f32 s · −f32 z the kernels pass: d = fma(f32 s, f32 q, f32(f32 s · −f32 z)),
// one rounding.
float DequantFma(double scale, int32_t zp, int32_t q);
// Its premultiplied term f32(f32 s · −f32 z).
float DequantFmaPremul(double scale, int32_t zp);

// ---------------------------------------------------------------------------------------------
// Quantize. LibTorch has one scalar quantize_val; qdiff models it twice because the zero point
// can be added in float (as upstream writes it) or in double. The two differ only where x·inv
// leaves int64's range; see QuantizeValDoubleSum.

// quantize_val<T> (AffineQuantizerBase.cpp, non-FBGEMM build) as upstream writes it:
//   y = clamp(int64(f32(f32 z + RNE(f32(v · f32(1/f32 s))))), qmin, qmax)
// `zero_point + Round(value * inv_scale)` is int64 + float, so the sum is a float; int64(·) is
// x86's cvttss2si: out of int64 range or NaN → INT64_MIN, i.e. qmin. Used by the op recipes.
int32_t QuantizeVal(double scale, int32_t zp, float v, QuantRange r);

// quantize_val with the zero point added in double:
//   y = clamp(f64 z + RNE(f32(v · f32(1/f32 s))), qmin, qmax)   (clamp in double)
// It reproduces at::quantize_per_tensor (quantize_val per element, harness/quantize_check.cc) and
// is what the observers (QuantizeValue) and linear_dynamic's QNNPACK activations use. It equals
// QuantizeVal whenever RNE(v·inv) < 2^63 and is not NaN (|z| ≤ 255 < 2^24, so both sums round to
// the same side of the range). Beyond, QuantizeVal gives qmin (x86 conversion) where this one
// gives qmax (v·inv ≥ 2^63, +inf), and NaN converts to INT32_MIN here (x86 cvttsd2si).
inline int32_t QuantizeValDoubleSum(double scale, int32_t zp, float v, QuantRange r) {
  const float inv_scale = 1.0f / static_cast<float>(scale);
  const float q = std::nearbyint(v * inv_scale);
  const double sum = static_cast<double>(zp) + q;
  return static_cast<int32_t>(std::clamp<double>(sum, r.qmin, r.qmax));
}

// _mm256_cvtps_epi32 (cvtps2dq) in the default rounding mode: RNE; |t| ≥ 2^31 or NaN → INT32_MIN
// (the "integer indefinite" value).
int32_t CvtPs2Dq(float t);

// Vectorized<T>::quantize = QuantizeAvx2 (cpu/vec256_qint.h) with a caller-supplied inverse
// scale (each kernel computes its own: f32(1/f32 s) or f32(1/f64 s)):
//   y = clamp(wrap32(cvtps2dq(min(f32(v · inv), 2^31 − 128)) + z), qmin, qmax)
// The clip at int32_max − 127 and the wrapping epi32 add of z matter only for |v/s| ≥ 2^31.
int32_t QuantizeVec(float inv, int32_t zp, float v, QuantRange r);

// ---------------------------------------------------------------------------------------------
// Memory order and the vector / scalar split of cpu_kernel_vec (ATen/native/cpu/Loops.h::
// vectorized_loop). With one thread (the runner's setting) the contiguous data is one range of n
// elements in memory order; positions [0, n − n mod 64) take the vector lambda
// (2 × Vectorized<q(u)int8>::size() = 64 per step on AVX2), the last n mod 64 the scalar lambda.

constexpr int64_t kVecBlock = 64;

// Memory position of logical (row-major) element i: NHWC order for a 4-D channels-last tensor.
int64_t MemoryPosition(const std::vector<int64_t>& shape, bool channels_last, int64_t i);

// True if cpu_kernel_vec runs the vector lambda on memory position `pos` of `n` elements.
bool IsVectorLane(int64_t pos, int64_t n);

// True if logical element i of a tensor of `shape`, laid out as `layer` says, takes the vector
// lambda.
bool IsVectorElement(const Layer& layer, const std::vector<int64_t>& shape, int64_t i);

// c10 TensorImpl::compute_channels_last_contiguous_2d for a dense 4-D tensor: NHWC strides, or
// NCHW strides that coincide with them because size-1 dimensions are skipped (C == 1 or
// H == W == 1). What input.is_contiguous(ChannelsLast) answers, and so which kernel runs.
bool IsChannelsLastContiguous(const std::vector<int64_t>& shape, bool channels_last);

// c10 TensorImpl::compute_contiguous for a dense 4-D tensor: NCHW strides, or NHWC strides that
// coincide with them because size-1 dimensions are skipped (C == 1 or H == W == 1). What
// input.is_contiguous() answers.
bool IsNchwContiguous(const std::vector<int64_t>& shape, bool channels_last);

// QNNPACK's and XNNPACK's scale checks (isnormal on the float scale, > 0): f32(s) is a positive
// normal binary32.
bool IsNormalF32(double s);

}  // namespace qdiff
