// qdiff's helpers shared by the pooling op files (max_pool2d.cc, avg_pool2d.cc,
// adaptive_avg_pool2d.cc): shapes, window sums, the requantizers that avg_pool2d and
// adaptive_avg_pool2d share, which kernel runs, and the single-pixel LibTorch bug. LibTorch 1.13
// on x86, default CPU capability AVX2 (docs/semantics.md#average-pooling,
// #adaptive-average-pooling, #max-pooling). Output qparams are the input's (LayerOutputQParams),
// so s_y = s_x and z_y = z_x in every formula; they are kept apart to stay truthful.
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
// an NCHW-contiguous tensor with C == 1 or H·W == 1 (IsChannelsLastContiguous): those "NCHW"
// inputs run the NHWC kernel.
//
// A LibTorch 1.13 bug (verified), modelled as a bug recipe: for an input with H·W == 1 and C > 1,
// .contiguous(ChannelsLast) keeps NCHW strides, suggest_memory_format() answers Contiguous, and
// the default NHWC kernels (all three ops) write NHWC-ordered values into that NCHW-strided
// output. When OH·OW > 1 (padding / ceil_mode), LibTorch's logical output is therefore the
// NHWC recipe's output with [N][OH·OW][C] memory read as [N][C][OH·OW]. The engine-path recipes
// give the intended (logical) result; the <op>.nhwc_into_nchw recipes (NhwcOrderIntoNchw)
// reproduce the scramble bit for bit and classify those elements libtorch_bug, never exact
// (corpora/nhwc_pool_single_pixel_scramble.json; docs/semantics.md#known-libtorch-bugs).
// QNNPACK paths are not affected (DefaultPoolKernelRuns).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "oracles/model.h"
#include "oracles/ops/op_recipe.h"

namespace qdiff {

// ---------------------------------------------------------------------------------------------
// Shapes and windows.

struct PoolDims {
  int64_t n, c, h, w, oh, ow;
};

PoolDims PoolDimsOf(const QTensor& x, const std::vector<int64_t>& out_shape);

// Flat index of input element (n, c, y, x) in logical NCHW order.
int64_t PoolInIndex(const PoolDims& d, int64_t n, int64_t c, int64_t y, int64_t x);

// clamp(v, qmin, qmax) of `dtype`.
int32_t ClampToType(int64_t v, DType dtype);

// True if LibTorch sees the layer input as channels-last contiguous, so the NHWC kernel runs.
bool RunsNhwcKernel(const Layer& layer, const QTensor& x);

// A window along one dimension: rows/cols [start, end) are summed; `span` is the padded size
// avg_pool2d's count_include_pad divides by (adaptive: end − start).
struct AvgSpan {
  int64_t start, end, span;
};

// Σ (q − z) over rows [wy.start, wy.end) × cols [wx.start, wx.end) of plane (n, c).
int64_t WindowSum(const QTensor& x, const PoolDims& d, int64_t n, int64_t c, const AvgSpan& wy,
                  const AvgSpan& wx);

// Calls f(out_index, n, c, window_y, window_x) for every output element in NCHW order;
// window(o, dim) gives the window of output coordinate o along dim (0: H, 1: W).
template <typename WindowFn, typename F>
void ForEachWindow(const PoolDims& d, WindowFn window, F f) {
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

// ---------------------------------------------------------------------------------------------
// Requantizers of a window sum c with divisor div, shared by avg_pool2d and adaptive_avg_pool2d.

// Exact: clamp(RNE(c·s_x / (div·s_y)) + z_y), the real mean rounded once.
int32_t ExactMean(int64_t c, int64_t div, const QTensor& x, const OutputQParams& q);

// _qavg_pool_nhwc_kernel / _qadaptive_avg_pool_kernel multiplier: m = f32(f32(f32 s_x/f32 s_y)/div).
float NhwcMultiplier(int64_t div, const QTensor& x, const OutputQParams& q);

// quantize_val<T>(1.0f/m, z, c) (AffineQuantizerBase.cpp, non-FBGEMM build): the scale travels as
// f32(1/m) and is inverted again: inv = f32(1/f32(1/m)); y = clamp(z + RNE(f32(f32(c)·inv))).
int32_t QuantizeValMean(int64_t c, float m, const OutputQParams& q);

// QNNPACK avgpool (average-pooling.c + q8avgpool/*-sse2.c, fp32 requantization):
//   m = f32(f32 s_x / f32(f32 s_y · f32(kH·kW)))  — always the full kernel area;
//   acc = c (zero buffer holds z_x); y = clamp(sat16(RNE(f32(f32(acc)·m))) + z_y, 0, 255).
int32_t QnnpackMean(int64_t c, int64_t kernel_area, const QTensor& x, const OutputQParams& q);
// Its multiplier m.
float QnnpackMeanMultiplier(int64_t kernel_area, const QTensor& x, const OutputQParams& q);

// adaptive_avg_pool2d's window along one dimension of `in` rows mapped to `out`, in binary32 as
// upstream start_index/end_index: start = ⌊f32(o·I) / f32(O)⌋, end = ⌈f32((o+1)·I) / f32(O)⌉.
AvgSpan AdaptiveWindow(int64_t o, int64_t in, int64_t out);

// adaptive_avg_pool_single_out_frame's reciprocal of a kH × kW window: f32(f32(f32(1.0/kD)/kH)/kW),
// kD = 1.
float AdaptiveNchwReciprocal(int64_t kh, int64_t kw);

// Float64 reference of a mean pool: Σ dequantized in-window inputs / div (padding = real 0).
double WindowRealMean(const QTensor& x, const PoolDims& d, int64_t n, int64_t c,
                      const AvgSpan& wy, const AvgSpan& wx, int64_t div);

// The float64 reference of a whole mean pool: window(o, dim) as for ForEachWindow, divisor(wy, wx).
template <typename WindowFn, typename DivisorFn>
std::vector<double> MeanPoolReal(const QTensor& x, const std::vector<int64_t>& out_shape,
                                 WindowFn window, DivisorFn divisor) {
  const PoolDims d = PoolDimsOf(x, out_shape);
  std::vector<double> real(ShapeElements(out_shape), 0.0);
  ForEachWindow(d, window,
                [&](int64_t o, int64_t n, int64_t c, const AvgSpan& wy, const AvgSpan& wx) {
                  real[o] = WindowRealMean(x, d, n, c, wy, wx, divisor(wy, wx));
                });
  return real;
}

// ---------------------------------------------------------------------------------------------
// Which kernel runs.

// A pooling layer with one 4-D per-tensor input: the only inputs the pooling recipes handle.
bool PoolInputsUsable(const Layer& layer, const std::vector<QTensor>& inputs);

// AdaptiveAveragePooling.cpp::enable_qnnpack_for_ada_avgpool.
bool AdaptiveQnnpackApplies(const Layer& layer, const QTensor& x);

// QNNPACK's pooling kernels: quint8 on the QNNPACK engine, max/avg without ceil_mode, adaptive
// when input % output == 0 (the paths the engine-path functions describe). A bug_applies function.
bool QnnpackPoolKernelRuns(Engine engine, const Layer& layer,
                           const std::vector<QTensor>& in);

// ATen's default pooling kernels: every other usable case on a known engine. A bug_applies
// function.
bool DefaultPoolKernelRuns(Engine engine, const Layer& layer,
                           const std::vector<QTensor>& in);

// average-pooling.c (QNNPACK avg_pool2d and adaptive_avg_pool2d): input and output scale must be
// normal positive binary32; their ratio (here 1, the qparams are shared) must lie in [2^-8, 2^8).
// "" if x's scale passes.
std::string QnnpackAvgPoolScaleReason(const QTensor& x);

// ---------------------------------------------------------------------------------------------
// The single-pixel LibTorch bug (default kernels, corpora/nhwc_pool_single_pixel_scramble.json):
// an NCHW input with H·W == 1 and C > 1 is also channels-last contiguous, so the NHWC kernel runs,
// but the output is allocated NCHW (suggest_memory_format) and receives NHWC order.

inline constexpr const char* kSinglePixelBug = "corpora/nhwc_pool_single_pixel_scramble.json";
inline constexpr const char* kSinglePixelFormula =
    "the NHWC kernel's values written in NHWC order into an NCHW output when the NCHW input has "
    "H·W == 1 and C > 1 (AdaptiveAveragePooling.cpp, AveragePool2d.cpp, Pooling.cpp: "
    "is_contiguous(ChannelsLast) picks the NHWC kernel, the output follows suggest_memory_format)";

// The recipe function of an <op>.nhwc_into_nchw bug recipe: kNhwcKernel's values, scrambled as
// LibTorch does when the bug's condition holds.
template <std::vector<int32_t> (*kNhwcKernel)(const Layer&, const std::vector<QTensor>&,
                                               const std::vector<int64_t>&)>
std::vector<int32_t> NhwcOrderIntoNchw(const Layer& layer, const std::vector<QTensor>& in,
                                       const std::vector<int64_t>& out_shape) {
  const QTensor& x = in[0];
  const bool bug = !layer.channels_last && x.shape[1] > 1 && x.shape[2] * x.shape[3] == 1;
  const std::vector<int32_t> v = kNhwcKernel(layer, in, out_shape);
  return bug ? WrittenInNhwcOrder(v, out_shape) : v;
}

}  // namespace qdiff
