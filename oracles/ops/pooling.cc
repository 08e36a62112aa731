// Pooling recipes (max_pool2d, avg_pool2d, adaptive_avg_pool2d) of LibTorch 1.13 on x86, default
// CPU capability AVX2 (docs/semantics.md#average-pooling, #adaptive-average-pooling,
// #max-pooling). Output qparams are the input's (LayerOutputQParams),
// so s_y = s_x and z_y = z_x in every formula below; they are kept apart to stay truthful.
//
// Notation: c = Σ_in-bounds (q − z_x), the exact int32 window sum (padding is real 0, i.e. q = z);
// f32(·) rounds to binary32; RNE = nearbyint under the default rounding mode; clamp = type range.
//
// Paths (upstream files under aten/src/ATen/native/quantized/cpu/):
//   avg_pool2d    NCHW   AveragePool2d.cpp::avg_pool2d_out_frame
//                 NHWC   kernels/QuantizedOpKernels.cpp::_qavg_pool_nhwc_kernel
//                 QNNPACK AveragePool2d.cpp::qnnpack_avg_pool2d → qnnpack/src/average-pooling.c
//   adaptive      NCHW   AdaptiveAveragePooling.cpp::adaptive_avg_pool_single_out_frame
//                 NHWC   kernels/QuantizedOpKernels.cpp::_qadaptive_avg_pool_kernel
//                 QNNPACK qnnpack_adaptive_avg_pool2d (avg pool with k = stride = I/O)
//   max_pool2d    NCHW/NHWC Pooling.cpp::spatial_dilated_max_pooling / _qmaxpool_2d_nhwc_kernel
//                 QNNPACK Pooling.cpp::qnnpack_maxpool2d → qnnpack/src/max-pooling.c
//
// Which default kernel runs is decided by input.is_contiguous(ChannelsLast), which is also true for
// an NCHW-contiguous tensor with C == 1 or H·W == 1 (c10 compute_channels_last_contiguous_2d skips
// size-1 dimensions): those "NCHW" inputs run the NHWC kernel.
//
// A LibTorch 1.13 bug (verified), modelled as a bug recipe: for an input with H·W == 1 and C > 1,
// .contiguous(ChannelsLast) keeps NCHW strides, suggest_memory_format() answers Contiguous, and
// the default NHWC kernels (all three ops) write NHWC-ordered values into that NCHW-strided
// output. When OH·OW > 1 (padding / ceil_mode), LibTorch's logical output is therefore the
// NHWC recipe's output with [N][OH·OW][C] memory read as [N][C][OH·OW]. The engine-path recipes
// give the intended (logical) result; the <op>.nhwc_into_nchw recipes below (NhwcOrderIntoNchw)
// reproduce the scramble bit for bit and classify those elements libtorch_bug, never exact
// (corpora/nhwc_pool_single_pixel_scramble.json; docs/semantics.md#known-libtorch-bugs).
// QNNPACK paths are not affected (DefaultPoolKernelRuns).
#include <algorithm>
#include <cmath>
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

// AVX2 Vectorized<quint8/qint8>::size() / 4 = 32 / 4: do_avg_pool_nhwc_on_AVX_n quantizes channels
// [0, ⌊C/8⌋·8) with QuantizeAvx2; channels [⌊C/8⌋·8, C) go through quantize_val.
constexpr int64_t kAvx2NhwcChannelBlock = 8;

struct Dims {
  int64_t n, c, h, w, oh, ow;
};

Dims GetDims(const QTensor& x, const std::vector<int64_t>& out_shape) {
  return {x.shape[0], x.shape[1], x.shape[2], x.shape[3], out_shape[2], out_shape[3]};
}

int64_t InIndex(const Dims& d, int64_t n, int64_t c, int64_t y, int64_t x) {
  return ((n * d.c + c) * d.h + y) * d.w + x;
}

int32_t Clamp(int64_t v, DType dtype) {
  const QuantRange r = TypeRange(dtype);
  return static_cast<int32_t>(std::min<int64_t>(std::max<int64_t>(v, r.qmin), r.qmax));
}

// True if LibTorch sees the layer input as channels-last contiguous (see the header comment).
bool RunsNhwcKernel(const Layer& layer, const QTensor& x) {
  return IsChannelsLastContiguous(x.shape, layer.channels_last);
}

// ---------------------------------------------------------------------------------------------
// Windows.

// avg_pool2d window along one dimension, as avg_pool2d_out_frame and _qavg_pool_nhwc_kernel:
//   start = o·s − p ; end = min(start + k, I + p) ; span = end − start   (count_include_pad size)
//   then start = max(start, 0), end = min(end, I)                      (valid range)
// With ceil_mode the last window may run past I + p: span then stops at I + p, so
// count_include_pad counts the left padding and the input but not the part past I + p.
struct AvgSpan {
  int64_t start, end, span;
};

AvgSpan AvgWindow(int64_t o, int64_t in, int64_t k, int64_t s, int64_t p) {
  int64_t start = o * s - p;
  int64_t end = std::min(start + k, in + p);
  const int64_t span = end - start;
  start = std::max<int64_t>(start, 0);
  end = std::min(end, in);
  return {start, end, span};
}

// Divisor rule shared by both default kernels: divisor_override if set (> 0), else the padded
// span product (count_include_pad) or the valid count.
int64_t AvgDivisor(const PoolAttrs& a, const AvgSpan& wy, const AvgSpan& wx) {
  if (a.divisor_override > 0) return a.divisor_override;
  if (a.count_include_pad) return wy.span * wx.span;
  return (wy.end - wy.start) * (wx.end - wx.start);
}

// adaptive_avg_pool2d window, computed in binary32 as upstream start_index/end_index:
//   start = ⌊f32(o·I) / f32(O)⌋ (f32 division), end = ⌈f32((o+1)·I) / f32(O)⌉.
AvgSpan AdaptiveWindow(int64_t o, int64_t in, int64_t out) {
  const float num0 = static_cast<float>(o * in);
  const float num1 = static_cast<float>((o + 1) * in);
  const float den = static_cast<float>(out);
  const int64_t start = static_cast<int64_t>(std::floor(num0 / den));
  const int64_t end = static_cast<int64_t>(std::ceil(num1 / den));
  return {start, end, end - start};
}

// Σ (q − z) over rows [wy.start, wy.end) × cols [wx.start, wx.end) of plane (n, c).
int64_t WindowSum(const QTensor& x, const Dims& d, int64_t n, int64_t c, const AvgSpan& wy,
                  const AvgSpan& wx) {
  const int32_t z = x.zero_points[0];
  int64_t sum = 0;
  for (int64_t y = wy.start; y < wy.end; ++y) {
    for (int64_t xx = wx.start; xx < wx.end; ++xx) sum += x.values[InIndex(d, n, c, y, xx)] - z;
  }
  return sum;
}

// Calls f(out_index, n, c, window_y, window_x) for every output element in NCHW order.
template <typename WindowFn, typename F>
void ForEachWindow(const Dims& d, WindowFn window, F f) {
  int64_t o = 0;
  for (int64_t n = 0; n < d.n; ++n) {
    for (int64_t c = 0; c < d.c; ++c) {
      for (int64_t oy = 0; oy < d.oh; ++oy) {
        for (int64_t ox = 0; ox < d.ow; ++ox) {
          f(o++, n, c, window(oy, 0), window(ox, 1));
        }
      }
    }
  }
}

auto AvgWindowFn(const PoolAttrs& a, const Dims& d) {
  return [a, d](int64_t o, int dim) {
    return AvgWindow(o, dim == 0 ? d.h : d.w, a.kernel[dim], a.stride[dim], a.padding[dim]);
  };
}

auto AdaptiveWindowFn(const Dims& d) {
  return [d](int64_t o, int dim) {
    return dim == 0 ? AdaptiveWindow(o, d.h, d.oh) : AdaptiveWindow(o, d.w, d.ow);
  };
}

// ---------------------------------------------------------------------------------------------
// Requantizers of a window sum c with divisor div (one per path).

// Exact: clamp(RNE(c·s_x / (div·s_y)) + z_y), the real mean rounded once.
int32_t ExactMean(int64_t c, int64_t div, const QTensor& x, const OutputQParams& q) {
  const Rational v = Rational::FromInt(c) * Rational::FromDouble(x.scales[0]) /
                     (Rational::FromInt(div) * Rational::FromDouble(q.scale));
  return Clamp(RoundRational(v, TieRule::kHalfEven).value + q.zero_point, q.dtype);
}

// avg_pool2d_out_frame: m = f32(f64(s_x/s_y)/div); y = clamp(RNE(f32(f32(c)·m) + f32(z_y))).
int32_t NchwAvgMean(int64_t c, int64_t div, const QTensor& x, const OutputQParams& q) {
  const float m = static_cast<float>(x.scales[0] / q.scale / static_cast<double>(div));
  const float t = static_cast<float>(c) * m;
  const float u = t + static_cast<float>(q.zero_point);  // zp before rounding
  return Clamp(static_cast<int64_t>(std::nearbyint(u)), q.dtype);
}

// _qavg_pool_nhwc_kernel / _qadaptive_avg_pool_kernel multiplier: m = f32(f32(f32 s_x/f32 s_y)/div).
float NhwcMultiplier(int64_t div, const QTensor& x, const OutputQParams& q) {
  const float ratio = static_cast<float>(x.scales[0]) / static_cast<float>(q.scale);
  return ratio / static_cast<float>(div);
}

// QuantizeAvx2(acc_fp, m, z): y = clamp(RNE(f32(f32(c)·m)) + z)   (cvtps2dq, then + zp).
int32_t QuantizeAvx2Mean(int64_t c, float m, const OutputQParams& q) {
  const float t = static_cast<float>(c) * m;
  return Clamp(static_cast<int64_t>(std::nearbyint(t)) + q.zero_point, q.dtype);
}

// quantize_val<T>(1.0f/m, z, c) (AffineQuantizerBase.cpp, non-FBGEMM build): the scale travels as
// f32(1/m) and is inverted again: inv = f32(1/f32(1/m)); y = clamp(z + RNE(f32(f32(c)·inv))).
// quantize_val sums z in float; z of a pool is in its type's range, so a rounded mean too large for
// that float sum to be exact (≥ 2^24 − 256) is clamped anyway.
int32_t QuantizeValMean(int64_t c, float m, const OutputQParams& q) {
  const float scale = 1.0f / m;
  return QuantizeVal(scale, q.zero_point, static_cast<float>(c), TypeRange(q.dtype));
}

// QNNPACK avgpool (average-pooling.c + q8avgpool/*-sse2.c, fp32 requantization):
//   m = f32(f32 s_x / f32(f32 s_y · f32(kH·kW)))  — always the full kernel area;
//   acc = c (zero buffer holds z_x); y = clamp(sat16(RNE(f32(f32(acc)·m))) + z_y, 0, 255).
int32_t QnnpackMean(int64_t c, int64_t kernel_area, const QTensor& x, const OutputQParams& q) {
  const float sx = static_cast<float>(x.scales[0]);
  const float sy = static_cast<float>(q.scale);
  const float m = sx / (sy * static_cast<float>(kernel_area));
  const float t = static_cast<float>(c) * m;
  int64_t r = static_cast<int64_t>(std::nearbyint(t));
  r = std::min<int64_t>(std::max<int64_t>(r, -32768), 32767);  // _mm_packs_epi32
  return Clamp(r + q.zero_point, DType::kQUInt8);
}

// ---------------------------------------------------------------------------------------------
// avg_pool2d recipes.

std::vector<int32_t> AvgExact(const Layer& layer, const std::vector<QTensor>& in,
                              const std::vector<int64_t>& out_shape) {
  const QTensor& x = in[0];
  const Dims d = GetDims(x, out_shape);
  const OutputQParams q = LayerOutputQParams(layer, x);
  std::vector<int32_t> y(ShapeElements(out_shape));
  ForEachWindow(d, AvgWindowFn(layer.pool, d),
                [&](int64_t o, int64_t n, int64_t c, const AvgSpan& wy, const AvgSpan& wx) {
                  y[o] = ExactMean(WindowSum(x, d, n, c, wy, wx), AvgDivisor(layer.pool, wy, wx),
                                   x, q);
                });
  return y;
}

std::vector<int32_t> AvgNchwFp32(const Layer& layer, const std::vector<QTensor>& in,
                                 const std::vector<int64_t>& out_shape) {
  const QTensor& x = in[0];
  const Dims d = GetDims(x, out_shape);
  const OutputQParams q = LayerOutputQParams(layer, x);
  std::vector<int32_t> y(ShapeElements(out_shape));
  ForEachWindow(d, AvgWindowFn(layer.pool, d),
                [&](int64_t o, int64_t n, int64_t c, const AvgSpan& wy, const AvgSpan& wx) {
                  y[o] = NchwAvgMean(WindowSum(x, d, n, c, wy, wx),
                                     AvgDivisor(layer.pool, wy, wx), x, q);
                });
  return y;
}

std::vector<int32_t> AvgNhwcFp32(const Layer& layer, const std::vector<QTensor>& in,
                                 const std::vector<int64_t>& out_shape) {
  const QTensor& x = in[0];
  const Dims d = GetDims(x, out_shape);
  const OutputQParams q = LayerOutputQParams(layer, x);
  const int64_t vector_channels = d.c / kAvx2NhwcChannelBlock * kAvx2NhwcChannelBlock;
  std::vector<int32_t> y(ShapeElements(out_shape));
  ForEachWindow(d, AvgWindowFn(layer.pool, d),
                [&](int64_t o, int64_t n, int64_t c, const AvgSpan& wy, const AvgSpan& wx) {
                  const float m = NhwcMultiplier(AvgDivisor(layer.pool, wy, wx), x, q);
                  const int64_t sum = WindowSum(x, d, n, c, wy, wx);
                  y[o] = c < vector_channels ? QuantizeAvx2Mean(sum, m, q)
                                             : QuantizeValMean(sum, m, q);
                });
  return y;
}

std::vector<int32_t> AvgQnnpack(const Layer& layer, const std::vector<QTensor>& in,
                                const std::vector<int64_t>& out_shape) {
  const QTensor& x = in[0];
  const Dims d = GetDims(x, out_shape);
  const OutputQParams q = LayerOutputQParams(layer, x);
  const int64_t area = layer.pool.kernel[0] * layer.pool.kernel[1];
  std::vector<int32_t> y(ShapeElements(out_shape));
  ForEachWindow(d, AvgWindowFn(layer.pool, d),
                [&](int64_t o, int64_t n, int64_t c, const AvgSpan& wy, const AvgSpan& wx) {
                  y[o] = QnnpackMean(WindowSum(x, d, n, c, wy, wx), area, x, q);
                });
  return y;
}

// ---------------------------------------------------------------------------------------------
// adaptive_avg_pool2d recipes.

std::vector<int32_t> AdaptiveExact(const Layer& layer, const std::vector<QTensor>& in,
                                   const std::vector<int64_t>& out_shape) {
  const QTensor& x = in[0];
  const Dims d = GetDims(x, out_shape);
  const OutputQParams q = LayerOutputQParams(layer, x);
  std::vector<int32_t> y(ShapeElements(out_shape));
  ForEachWindow(d, AdaptiveWindowFn(d),
                [&](int64_t o, int64_t n, int64_t c, const AvgSpan& wy, const AvgSpan& wx) {
                  y[o] = ExactMean(WindowSum(x, d, n, c, wy, wx), wy.span * wx.span, x, q);
                });
  return y;
}

// adaptive_avg_pool_single_out_frame: raw sum, no zp subtraction, no clamp:
//   r = f32(f32(f32(1.0/kD)/kH)/kW) (kD = 1); y = (T)RNE(f32(f32(Σ q)·r)).
// The input zp rides inside Σ q, i.e. enters before rounding; s_x/s_y is not used (it is 1).
std::vector<int32_t> AdaptiveNchwFp32(const Layer& layer, const std::vector<QTensor>& in,
                                      const std::vector<int64_t>& out_shape) {
  const QTensor& x = in[0];
  const Dims d = GetDims(x, out_shape);
  const OutputQParams q = LayerOutputQParams(layer, x);
  std::vector<int32_t> y(ShapeElements(out_shape));
  ForEachWindow(d, AdaptiveWindowFn(d),
                [&](int64_t o, int64_t n, int64_t c, const AvgSpan& wy, const AvgSpan& wx) {
                  const float kd_r = static_cast<float>(1.0 / 1);
                  const float kdh_r = kd_r / static_cast<float>(wy.span);
                  const float kdhw_r = kdh_r / static_cast<float>(wx.span);
                  int64_t raw = 0;
                  for (int64_t yy = wy.start; yy < wy.end; ++yy) {
                    for (int64_t xx = wx.start; xx < wx.end; ++xx) {
                      raw += x.values[InIndex(d, n, c, yy, xx)];
                    }
                  }
                  const int64_t r =
                      static_cast<int64_t>(std::nearbyint(static_cast<float>(raw) * kdhw_r));
                  // static_cast<underlying>: wraps instead of clamping (never reached in range).
                  y[o] = q.dtype == DType::kQUInt8 ? static_cast<int32_t>(static_cast<uint8_t>(r))
                                                   : static_cast<int32_t>(static_cast<int8_t>(r));
                });
  return y;
}

// _qadaptive_avg_pool_kernel: m = f32(f32(f32 s_x/f32 s_y)/size); both the AVX2 channel blocks
// (do_avg_pool_on_AVX_n → quantize_vec) and the tail use quantize_val(1.0f/m):
//   y = clamp(z + RNE(f32(f32(c)·f32(1/f32(1/m))))).
std::vector<int32_t> AdaptiveNhwcFp32(const Layer& layer, const std::vector<QTensor>& in,
                                      const std::vector<int64_t>& out_shape) {
  const QTensor& x = in[0];
  const Dims d = GetDims(x, out_shape);
  const OutputQParams q = LayerOutputQParams(layer, x);
  std::vector<int32_t> y(ShapeElements(out_shape));
  ForEachWindow(d, AdaptiveWindowFn(d),
                [&](int64_t o, int64_t n, int64_t c, const AvgSpan& wy, const AvgSpan& wx) {
                  const float m = NhwcMultiplier(wy.span * wx.span, x, q);
                  y[o] = QuantizeValMean(WindowSum(x, d, n, c, wy, wx), m, q);
                });
  return y;
}

// QNNPACK: avg pool with kernel = stride = (H/OH, W/OW), no padding; windows coincide with the
// adaptive ones because I % O == 0.
std::vector<int32_t> AdaptiveQnnpack(const Layer& layer, const std::vector<QTensor>& in,
                                     const std::vector<int64_t>& out_shape) {
  const QTensor& x = in[0];
  const Dims d = GetDims(x, out_shape);
  const OutputQParams q = LayerOutputQParams(layer, x);
  const int64_t area = (d.h / d.oh) * (d.w / d.ow);
  std::vector<int32_t> y(ShapeElements(out_shape));
  ForEachWindow(d, AdaptiveWindowFn(d),
                [&](int64_t o, int64_t n, int64_t c, const AvgSpan& wy, const AvgSpan& wx) {
                  y[o] = QnnpackMean(WindowSum(x, d, n, c, wy, wx), area, x, q);
                });
  return y;
}

// ---------------------------------------------------------------------------------------------
// max_pool2d recipes. Output qparams = input's, so the max of the reals is the max of q.

// Taps of one dilated window along one dimension: o·s − p + t·dil for t in [0, k).
// Default kernels (spatial_dilated_max_pooling, _qmaxpool_2d_nhwc_kernel) skip taps outside
// [0, I); an all-padding window (possible with dilation) yields the type's lowest value.
// QNNPACK (indirection.c::pytorch_qnnp_indirection_init_maxpool2d) instead clamps every tap to
// min(doz(o·s + t·dil, p), I − 1): a padding tap reads the edge pixel, which with dilation > 1 may
// lie outside the window's own taps.
std::vector<int64_t> MaxTaps(int64_t o, int64_t in, int64_t k, int64_t s, int64_t p, int64_t dil,
                             bool edge_clamp) {
  std::vector<int64_t> taps;
  for (int64_t t = 0; t < k; ++t) {
    const int64_t pos = o * s - p + t * dil;
    if (edge_clamp) {
      taps.push_back(std::min(std::max<int64_t>(pos, 0), in - 1));
    } else if (pos >= 0 && pos < in) {
      taps.push_back(pos);
    }
  }
  return taps;
}

std::vector<int32_t> MaxPool(const Layer& layer, const std::vector<QTensor>& in,
                             const std::vector<int64_t>& out_shape, bool edge_clamp) {
  const QTensor& x = in[0];
  const Dims d = GetDims(x, out_shape);
  const PoolAttrs& a = layer.pool;
  std::vector<int32_t> y(ShapeElements(out_shape));
  int64_t o = 0;
  for (int64_t n = 0; n < d.n; ++n) {
    for (int64_t c = 0; c < d.c; ++c) {
      for (int64_t oy = 0; oy < d.oh; ++oy) {
        const std::vector<int64_t> ty =
            MaxTaps(oy, d.h, a.kernel[0], a.stride[0], a.padding[0], a.dilation[0], edge_clamp);
        for (int64_t ox = 0; ox < d.ow; ++ox) {
          const std::vector<int64_t> tx =
              MaxTaps(ox, d.w, a.kernel[1], a.stride[1], a.padding[1], a.dilation[1], edge_clamp);
          int32_t m = TypeRange(x.dtype).qmin;
          for (int64_t yy : ty) {
            for (int64_t xx : tx) m = std::max(m, x.values[InIndex(d, n, c, yy, xx)]);
          }
          y[o++] = m;
        }
      }
    }
  }
  return y;
}

std::vector<int32_t> MaxExact(const Layer& layer, const std::vector<QTensor>& in,
                              const std::vector<int64_t>& out_shape) {
  return MaxPool(layer, in, out_shape, /*edge_clamp=*/false);
}

std::vector<int32_t> MaxQnnpack(const Layer& layer, const std::vector<QTensor>& in,
                                const std::vector<int64_t>& out_shape) {
  return MaxPool(layer, in, out_shape, /*edge_clamp=*/true);
}

// Where the kernels with the documented bugs run (defined below with the engine paths).
bool QnnpackPoolKernelRuns(const std::string& engine, const Layer& layer,
                           const std::vector<QTensor>& in);
bool DefaultPoolKernelRuns(const std::string& engine, const Layer& layer,
                           const std::vector<QTensor>& in);

// ---------------------------------------------------------------------------------------------
// Recipe table.

const OpRecipeDef kMaxPoolExact = {
    "max_pool2d.exact", OpKind::kMaxPool2d,
    {OpRounding::kNone, OpZeroPoint::kNone, OpArithmetic::kExact, OpLayout::kAny,
     "max over in-bounds dilated taps"},
    "y = max q over taps o·s−p+t·d inside the input (none: qmin); Pooling.cpp, "
    "QuantizedOpKernels.cpp::_qmaxpool_2d_nhwc_kernel",
    MaxExact};

// A LibTorch (QNNPACK) bug: taps in the padding read the edge pixel, which with dilation need
// not belong to the window (corpora/qnnpack_max_pool_dilated_padding.json). The QNNPACK path's
// recipe is max_pool2d.exact; this one only classifies.
const OpRecipeDef kMaxPoolQnnpack = {
    "max_pool2d.qnnpack", OpKind::kMaxPool2d,
    {OpRounding::kNone, OpZeroPoint::kNone, OpArithmetic::kExact, OpLayout::kAny,
     "max over edge-clamped dilated taps"},
    "y = max q over taps clamp(o·s−p+t·d, 0, I−1); qnnpack/src/indirection.c "
    "(init_maxpool2d), max-pooling.c",
    MaxQnnpack, "corpora/qnnpack_max_pool_dilated_padding.json", QnnpackPoolKernelRuns};

const OpRecipeDef kAvgPoolExact = {
    "avg_pool2d.exact", OpKind::kAvgPool2d,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kExact, OpLayout::kAny,
     "s_x/(s_y·div)"},
    "y = clamp(RNE(c·s_x/(div·s_y)) + z), c = Σ(q−z), div = override | padded span | valid count",
    AvgExact};

const OpRecipeDef kAvgPoolNchwFp32 = {
    "avg_pool2d.nchw_fp32", OpKind::kAvgPool2d,
    {OpRounding::kHalfEven, OpZeroPoint::kBeforeRounding, OpArithmetic::kBinary32,
     OpLayout::kNchw, "f32(f64(s_x/s_y)/div)"},
    "y = clamp(RNE(f32(f32(c)·m) + f32(z))), m = f32(f64(s_x/s_y)/div); "
    "AveragePool2d.cpp::avg_pool2d_out_frame",
    AvgNchwFp32};

const OpRecipeDef kAvgPoolNhwcFp32 = {
    "avg_pool2d.nhwc_fp32", OpKind::kAvgPool2d,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kBinary32,
     OpLayout::kNhwc, "m = f32(f32(f32 s_x/f32 s_y)/div); channels ≥ ⌊C/8⌋·8: f32(1/f32(1/m))"},
    "y = clamp(RNE(f32(f32(c)·m')) + z), m' = m for channels < ⌊C/8⌋·8 (QuantizeAvx2), else "
    "f32(1/f32(1/m)) (quantize_val); QuantizedOpKernels.cpp::_qavg_pool_nhwc_kernel",
    AvgNhwcFp32};

const OpRecipeDef kAvgPoolQnnpack = {
    "avg_pool2d.qnnpack", OpKind::kAvgPool2d,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kBinary32, OpLayout::kAny,
     "f32(f32 s_x/f32(f32 s_y·kH·kW)), ignores count_include_pad and divisor_override"},
    "y = clamp(RNE(f32(f32(c)·m)) + z, 0, 255), m = f32(s_x/f32(s_y·kH·kW)); "
    "qnnpack/src/average-pooling.c, q8avgpool",
    AvgQnnpack};

const OpRecipeDef kAdaptiveExact = {
    "adaptive_avg_pool2d.exact", OpKind::kAdaptiveAvgPool2d,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kExact, OpLayout::kAny,
     "s_x/(s_y·kH·kW)"},
    "y = clamp(RNE(c·s_x/(kH·kW·s_y)) + z), windows [⌊o·I/O⌋, ⌈(o+1)·I/O⌉)",
    AdaptiveExact};

const OpRecipeDef kAdaptiveNchwFp32 = {
    "adaptive_avg_pool2d.nchw_fp32", OpKind::kAdaptiveAvgPool2d,
    {OpRounding::kHalfEven, OpZeroPoint::kBeforeRounding, OpArithmetic::kBinary32,
     OpLayout::kNchw, "f32(f32(f32(1.0/kD)/kH)/kW) on the raw sum"},
    "y = (T)RNE(f32(f32(Σq)·r)), r = f32(f32(f32(1.0/kD)/kH)/kW), no zp subtraction, no clamp; "
    "AdaptiveAveragePooling.cpp::adaptive_avg_pool_single_out_frame",
    AdaptiveNchwFp32};

const OpRecipeDef kAdaptiveNhwcFp32 = {
    "adaptive_avg_pool2d.nhwc_fp32", OpKind::kAdaptiveAvgPool2d,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kBinary32,
     OpLayout::kNhwc, "f32(1/f32(1/m)), m = f32(f32(f32 s_x/f32 s_y)/(kH·kW))"},
    "y = clamp(z + RNE(f32(f32(c)·f32(1/f32(1/m))))), all channels (quantize_val); "
    "QuantizedOpKernels.cpp::_qadaptive_avg_pool_kernel",
    AdaptiveNhwcFp32};

const OpRecipeDef kAdaptiveQnnpack = {
    "adaptive_avg_pool2d.qnnpack", OpKind::kAdaptiveAvgPool2d,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kBinary32, OpLayout::kAny,
     "f32(f32 s_x/f32(f32 s_y·kH·kW)), k = I/O"},
    "QNNPACK avg pool with k = stride = I/O: y = clamp(RNE(f32(f32(c)·m)) + z, 0, 255); "
    "AdaptiveAveragePooling.cpp::qnnpack_adaptive_avg_pool2d",
    AdaptiveQnnpack};

// LibTorch bug (default kernels, corpora/nhwc_pool_single_pixel_scramble.json): an NCHW input
// with H·W == 1 and C > 1 is also channels-last contiguous, so the NHWC kernel runs, but the
// output is allocated NCHW (suggest_memory_format) and receives NHWC order.
template <std::vector<int32_t> (*kNhwcKernel)(const Layer&, const std::vector<QTensor>&,
                                               const std::vector<int64_t>&)>
std::vector<int32_t> NhwcOrderIntoNchw(const Layer& layer, const std::vector<QTensor>& in,
                                       const std::vector<int64_t>& out_shape) {
  const QTensor& x = in[0];
  const bool bug = !layer.channels_last && x.shape[1] > 1 && x.shape[2] * x.shape[3] == 1;
  const std::vector<int32_t> v = kNhwcKernel(layer, in, out_shape);
  return bug ? WrittenInNhwcOrder(v, out_shape) : v;
}

constexpr const char* kSinglePixelBug = "corpora/nhwc_pool_single_pixel_scramble.json";
constexpr const char* kSinglePixelFormula =
    "the NHWC kernel's values written in NHWC order into an NCHW output when the NCHW input has "
    "H·W == 1 and C > 1 (AdaptiveAveragePooling.cpp, AveragePool2d.cpp, Pooling.cpp: "
    "is_contiguous(ChannelsLast) picks the NHWC kernel, the output follows suggest_memory_format)";

const OpRecipeDef kMaxPoolSinglePixelBug = {
    "max_pool2d.nhwc_into_nchw", OpKind::kMaxPool2d,
    {OpRounding::kNone, OpZeroPoint::kNone, OpArithmetic::kExact, OpLayout::kNhwc,
     "max over in-bounds dilated taps"},
    kSinglePixelFormula, NhwcOrderIntoNchw<MaxExact>, kSinglePixelBug, DefaultPoolKernelRuns};

const OpRecipeDef kAvgPoolSinglePixelBug = {
    "avg_pool2d.nhwc_into_nchw", OpKind::kAvgPool2d, kAvgPoolNhwcFp32.ingredients,
    kSinglePixelFormula, NhwcOrderIntoNchw<AvgNhwcFp32>, kSinglePixelBug, DefaultPoolKernelRuns};

const OpRecipeDef kAdaptiveSinglePixelBug = {
    "adaptive_avg_pool2d.nhwc_into_nchw", OpKind::kAdaptiveAvgPool2d,
    kAdaptiveNhwcFp32.ingredients, kSinglePixelFormula, NhwcOrderIntoNchw<AdaptiveNhwcFp32>,
    kSinglePixelBug, DefaultPoolKernelRuns};

bool InputsUsable(const Layer& layer, const std::vector<QTensor>& inputs) {
  return !inputs.empty() && inputs[0].shape.size() == 4 && !inputs[0].per_channel() &&
         IsPoolOp(layer.op);
}

// AdaptiveAveragePooling.cpp::enable_qnnpack_for_ada_avgpool.
bool AdaptiveQnnpackApplies(const Layer& layer, const QTensor& x) {
  const int64_t h = x.shape[2], w = x.shape[3];
  const int64_t oh = layer.pool.output_size[0], ow = layer.pool.output_size[1];
  return !(h == oh && w == ow) && h % oh == 0 && w % ow == 0;
}

// QNNPACK's pooling kernels: quint8 on the QNNPACK engine, max/avg without ceil_mode, adaptive
// when input % output == 0 (the paths PoolingEngineRecipe describes).
bool QnnpackPoolKernelRuns(const std::string& engine, const Layer& layer,
                           const std::vector<QTensor>& in) {
  if (!IsQnnpack(engine) || !InputsUsable(layer, in) || in[0].dtype != DType::kQUInt8) return false;
  if (layer.op == OpKind::kAdaptiveAvgPool2d) return AdaptiveQnnpackApplies(layer, in[0]);
  return !layer.pool.ceil_mode;
}

bool DefaultPoolKernelRuns(const std::string& engine, const Layer& layer,
                           const std::vector<QTensor>& in) {
  return IsKnownEngine(engine) && InputsUsable(layer, in) &&
         !QnnpackPoolKernelRuns(engine, layer, in);
}

}  // namespace

const std::vector<const OpRecipeDef*>& PoolingOpRecipes(OpKind op) {
  static const std::vector<const OpRecipeDef*> kMax = {&kMaxPoolExact, &kMaxPoolQnnpack,
                                                       &kMaxPoolSinglePixelBug};
  static const std::vector<const OpRecipeDef*> kAvg = {
      &kAvgPoolExact, &kAvgPoolNchwFp32, &kAvgPoolNhwcFp32, &kAvgPoolQnnpack,
      &kAvgPoolSinglePixelBug};
  static const std::vector<const OpRecipeDef*> kAdaptive = {
      &kAdaptiveExact, &kAdaptiveNchwFp32, &kAdaptiveNhwcFp32, &kAdaptiveQnnpack,
      &kAdaptiveSinglePixelBug};
  static const std::vector<const OpRecipeDef*> kNone;
  switch (op) {
    case OpKind::kMaxPool2d: return kMax;
    case OpKind::kAvgPool2d: return kAvg;
    case OpKind::kAdaptiveAvgPool2d: return kAdaptive;
    default: return kNone;
  }
}

// QNNPACK paths are taken for quint8 whatever the input layout (the helpers convert to NHWC):
// max/avg when !ceil_mode (Pooling.cpp::quantized_max_pool2d, avg_pool2d_quantized_cpu), adaptive
// when I % O == 0 and I != O. Everything else, and every other engine, runs the default kernels.
const OpRecipeDef* PoolingEngineRecipe(const std::string& engine, const Layer& layer,
                                       const std::vector<QTensor>& inputs) {
  if (!InputsUsable(layer, inputs)) return nullptr;
  if (!IsKnownEngine(engine)) return nullptr;
  const QTensor& x = inputs[0];
  const bool qnnpack_quint8 = IsQnnpack(engine) && x.dtype == DType::kQUInt8;
  const bool nhwc = RunsNhwcKernel(layer, x);
  switch (layer.op) {
    case OpKind::kMaxPool2d:
      return &kMaxPoolExact;  // QNNPACK's edge-clamped taps are a bug (kMaxPoolQnnpack)
    case OpKind::kAvgPool2d:
      if (qnnpack_quint8 && !layer.pool.ceil_mode) return &kAvgPoolQnnpack;
      return nhwc ? &kAvgPoolNhwcFp32 : &kAvgPoolNchwFp32;
    case OpKind::kAdaptiveAvgPool2d:
      if (qnnpack_quint8 && AdaptiveQnnpackApplies(layer, x)) return &kAdaptiveQnnpack;
      return nhwc ? &kAdaptiveNhwcFp32 : &kAdaptiveNchwFp32;
    default:
      return nullptr;
  }
}

std::string PoolingRejectionReason(const std::string& engine, const Layer& layer,
                                   const std::vector<QTensor>& inputs) {
  if (!InputsUsable(layer, inputs)) return "";
  const OpRecipeDef* r = PoolingEngineRecipe(engine, layer, inputs);
  const QTensor& x = inputs[0];
  const bool qnnpack_max = layer.op == OpKind::kMaxPool2d && IsQnnpack(engine) &&
                           x.dtype == DType::kQUInt8 && !layer.pool.ceil_mode;
  if (qnnpack_max && layer.pool.kernel[0] * layer.pool.kernel[1] == 1) {
    return "QNNPACK max_pool2d rejects a 1x1 kernel (max-pooling.c: \"1x1 pooling is "
           "meaningless\"; TORCH_INTERNAL_ASSERT in Pooling.cpp::qnnpack_maxpool2d)";
  }
  if (r == &kAvgPoolQnnpack && layer.pool.kernel[0] * layer.pool.kernel[1] == 1) {
    return "QNNPACK avg_pool2d rejects a 1x1 kernel (average-pooling.c: \"1x1 pooling is "
           "meaningless\"; CAFFE_ENFORCE in AveragePool2d.cpp::qnnpack_avg_pool2d)";
  }
  if (r == &kAvgPoolQnnpack || r == &kAdaptiveQnnpack) {
    // average-pooling.c: input and output scale must be normal positive binary32; their ratio
    // (here 1, the qparams are shared) must lie in [2^-8, 2^8).
    const float s = static_cast<float>(x.scales[0]);
    if (!(s > 0.0f) || !std::isnormal(s)) {
      return "QNNPACK average pooling needs a normal positive binary32 scale";
    }
  }
  return "";
}

// Float64 reference from dequantized inputs: max of reals (an all-padding window gives the real
// of qmin, what LibTorch outputs), or the mean with the divisor rule (padding = real 0).
std::vector<double> PoolingFloatReal(const Layer& layer, const std::vector<QTensor>& inputs,
                                     const std::vector<int64_t>& out_shape) {
  const QTensor& x = inputs[0];
  const Dims d = GetDims(x, out_shape);
  std::vector<double> real(ShapeElements(out_shape), 0.0);
  auto mean = [&](int64_t o, int64_t n, int64_t c, const AvgSpan& wy, const AvgSpan& wx,
                  int64_t div) {
    double sum = 0.0;
    for (int64_t y = wy.start; y < wy.end; ++y) {
      for (int64_t xx = wx.start; xx < wx.end; ++xx) {
        sum += static_cast<double>(DequantizeElement(x, InIndex(d, n, c, y, xx)));
      }
    }
    real[o] = sum / static_cast<double>(div);
  };
  switch (layer.op) {
    case OpKind::kMaxPool2d: {
      const PoolAttrs& a = layer.pool;
      const double empty = x.scales[0] * (TypeRange(x.dtype).qmin - x.zero_points[0]);
      int64_t o = 0;
      for (int64_t n = 0; n < d.n; ++n) {
        for (int64_t c = 0; c < d.c; ++c) {
          for (int64_t oy = 0; oy < d.oh; ++oy) {
            for (int64_t ox = 0; ox < d.ow; ++ox) {
              double m = -std::numeric_limits<double>::infinity();
              for (int64_t yy : MaxTaps(oy, d.h, a.kernel[0], a.stride[0], a.padding[0],
                                        a.dilation[0], false)) {
                for (int64_t xx : MaxTaps(ox, d.w, a.kernel[1], a.stride[1], a.padding[1],
                                          a.dilation[1], false)) {
                  m = std::max(m, static_cast<double>(DequantizeElement(x, InIndex(d, n, c, yy, xx))));
                }
              }
              real[o++] = std::isinf(m) ? empty : m;
            }
          }
        }
      }
      break;
    }
    case OpKind::kAvgPool2d:
      ForEachWindow(d, AvgWindowFn(layer.pool, d),
                    [&](int64_t o, int64_t n, int64_t c, const AvgSpan& wy, const AvgSpan& wx) {
                      mean(o, n, c, wy, wx, AvgDivisor(layer.pool, wy, wx));
                    });
      break;
    case OpKind::kAdaptiveAvgPool2d:
      ForEachWindow(d, AdaptiveWindowFn(d),
                    [&](int64_t o, int64_t n, int64_t c, const AvgSpan& wy, const AvgSpan& wx) {
                      mean(o, n, c, wy, wx, wy.span * wx.span);
                    });
      break;
    default:
      break;
  }
  return real;
}

}  // namespace qdiff
