// avg_pool2d — at::avg_pool2d on quantized tensors (cpu/AveragePool2d.cpp): the exact mean, the
// NCHW kernel (avg_pool2d_out_frame), the NHWC kernel (_qavg_pool_nhwc_kernel), QNNPACK's avgpool
// and the single-pixel NHWC bug recipe. Shared pooling helpers, notation and the kernel map:
// pool_common.h.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

#include "oracles/ops/libtorch_float.h"
#include "oracles/ops/op_recipe.h"
#include "oracles/ops/pool_common.h"

namespace qdiff {

namespace {

// AVX2 Vectorized<quint8/qint8>::size() / 4 = 32 / 4: do_avg_pool_nhwc_on_AVX_n quantizes channels
// [0, ⌊C/8⌋·8) with QuantizeAvx2; channels [⌊C/8⌋·8, C) go through quantize_val.
constexpr int64_t kAvx2NhwcChannelBlock = 8;

// avg_pool2d window along one dimension, as avg_pool2d_out_frame and _qavg_pool_nhwc_kernel:
//   start = o·s − p ; end = min(start + k, I + p) ; span = end − start   (count_include_pad size)
//   then start = max(start, 0), end = min(end, I)                      (valid range)
// With ceil_mode the last window may run past I + p: span then stops at I + p, so
// count_include_pad counts the left padding and the input but not the part past I + p.
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

auto AvgWindowFn(const PoolAttrs& a, const PoolDims& d) {
  return [a, d](int64_t o, int dim) {
    return AvgWindow(o, dim == 0 ? d.h : d.w, a.kernel[dim], a.stride[dim], a.padding[dim]);
  };
}

// avg_pool2d_out_frame: m = f32(f64(s_x/s_y)/div); y = clamp(RNE(f32(f32(c)·m) + f32(z_y))).
int32_t NchwAvgMean(int64_t c, int64_t div, const QTensor& x, const OutputQParams& q) {
  const float m = static_cast<float>(x.scales[0] / q.scale / static_cast<double>(div));
  const float t = static_cast<float>(c) * m;
  const float u = t + static_cast<float>(q.zero_point);  // zp before rounding
  return ClampToType(static_cast<int64_t>(std::nearbyint(u)), q.dtype);
}

// QuantizeAvx2(acc_fp, m, z) as _qavg_pool_nhwc_kernel calls it: y = clamp(RNE(f32(f32(c)·m)) + z)
// (cvtps2dq, then + zp). Equal to QuantizeVec(m, z, f32(c)) while |f32(c)·m| < 2^31 − 128; beyond,
// this saturates to the range bound where QuantizeVec models cvtps2dq's clip and wrap.
int32_t QuantizeAvx2Mean(int64_t c, float m, const OutputQParams& q) {
  const float t = static_cast<float>(c) * m;
  return ClampToType(static_cast<int64_t>(std::nearbyint(t)) + q.zero_point, q.dtype);
}

// Runs `mean(window sum, divisor)` over every avg_pool2d window.
template <typename MeanFn>
std::vector<int32_t> AvgPool(const Layer& layer, const std::vector<QTensor>& in,
                             const std::vector<int64_t>& out_shape, MeanFn mean) {
  const QTensor& x = in[0];
  const PoolDims d = PoolDimsOf(x, out_shape);
  std::vector<int32_t> y(ShapeElements(out_shape));
  ForEachWindow(d, AvgWindowFn(layer.pool, d),
                [&](int64_t o, int64_t n, int64_t c, const AvgSpan& wy, const AvgSpan& wx) {
                  y[o] = mean(c, WindowSum(x, d, n, c, wy, wx), AvgDivisor(layer.pool, wy, wx));
                });
  return y;
}

std::vector<int32_t> AvgExact(const Layer& layer, const std::vector<QTensor>& in,
                              const std::vector<int64_t>& out_shape) {
  const OutputQParams q = LayerOutputQParams(layer, in[0]);
  return AvgPool(layer, in, out_shape, [&](int64_t, int64_t sum, int64_t div) {
    return ExactMean(sum, div, in[0], q);
  });
}

std::vector<int32_t> AvgNchwFp32(const Layer& layer, const std::vector<QTensor>& in,
                                 const std::vector<int64_t>& out_shape) {
  const OutputQParams q = LayerOutputQParams(layer, in[0]);
  return AvgPool(layer, in, out_shape, [&](int64_t, int64_t sum, int64_t div) {
    return NchwAvgMean(sum, div, in[0], q);
  });
}

std::vector<int32_t> AvgNhwcFp32(const Layer& layer, const std::vector<QTensor>& in,
                                 const std::vector<int64_t>& out_shape) {
  const OutputQParams q = LayerOutputQParams(layer, in[0]);
  const int64_t vector_channels = in[0].shape[1] / kAvx2NhwcChannelBlock * kAvx2NhwcChannelBlock;
  return AvgPool(layer, in, out_shape, [&](int64_t c, int64_t sum, int64_t div) {
    const float m = NhwcMultiplier(div, in[0], q);
    return c < vector_channels ? QuantizeAvx2Mean(sum, m, q) : QuantizeValMean(sum, m, q);
  });
}

std::vector<int32_t> AvgQnnpack(const Layer& layer, const std::vector<QTensor>& in,
                                const std::vector<int64_t>& out_shape) {
  const OutputQParams q = LayerOutputQParams(layer, in[0]);
  const int64_t area = layer.pool.kernel[0] * layer.pool.kernel[1];
  return AvgPool(layer, in, out_shape, [&](int64_t, int64_t sum, int64_t) {
    return QnnpackMean(sum, area, in[0], q);
  });
}

// The multipliers (or functions) of this op's recipes: one OpFormula each (op_recipe.h).
constexpr OpFormula kAvgPoolExactMultiplier{"s_x/(s_y·div)"};
constexpr OpFormula kAvgPoolNchwMultiplier{"f32(f64(s_x/s_y)/div)"};
constexpr OpFormula kAvgPoolNhwcMultiplier{"m = f32(f32(f32 s_x/f32 s_y)/div); channels ≥ ⌊C/8⌋·8: f32(1/f32(1/m))"};
constexpr OpFormula kAvgPoolQnnpackMultiplier{"f32(f32 s_x/f32(f32 s_y·kH·kW)), ignores count_include_pad and divisor_override"};

const OpRecipeDef kAvgPoolExact = {
    "avg_pool2d.exact", OpKind::kAvgPool2d,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kExact, OpLayout::kAny,
     &kAvgPoolExactMultiplier},
    "y = clamp(RNE(c·s_x/(div·s_y)) + z), c = Σ(q−z), div = override | padded span | valid count",
    AvgExact};

const OpRecipeDef kAvgPoolNchwFp32 = {
    "avg_pool2d.nchw_fp32", OpKind::kAvgPool2d,
    {OpRounding::kHalfEven, OpZeroPoint::kBeforeRounding, OpArithmetic::kBinary32,
     OpLayout::kNchw, &kAvgPoolNchwMultiplier},
    "y = clamp(RNE(f32(f32(c)·m) + f32(z))), m = f32(f64(s_x/s_y)/div); "
    "AveragePool2d.cpp::avg_pool2d_out_frame",
    AvgNchwFp32};

constexpr OpRecipeDef kAvgPoolNhwcFp32 = {  // constexpr: its ingredients are reused
    "avg_pool2d.nhwc_fp32", OpKind::kAvgPool2d,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kBinary32,
     OpLayout::kNhwc, &kAvgPoolNhwcMultiplier},
    "y = clamp(RNE(f32(f32(c)·m')) + z), m' = m for channels < ⌊C/8⌋·8 (QuantizeAvx2), else "
    "f32(1/f32(1/m)) (quantize_val); QuantizedOpKernels.cpp::_qavg_pool_nhwc_kernel",
    AvgNhwcFp32};

const OpRecipeDef kAvgPoolQnnpack = {
    "avg_pool2d.qnnpack", OpKind::kAvgPool2d,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kBinary32, OpLayout::kAny,
     &kAvgPoolQnnpackMultiplier},
    "y = clamp(RNE(f32(f32(c)·m)) + z, 0, 255), m = f32(s_x/f32(s_y·kH·kW)); "
    "qnnpack/src/average-pooling.c, q8avgpool",
    AvgQnnpack};

const OpRecipeDef kAvgPoolSinglePixelBug = {
    "avg_pool2d.nhwc_into_nchw", OpKind::kAvgPool2d, kAvgPoolNhwcFp32.ingredients,
    kSinglePixelFormula, NhwcOrderIntoNchw<AvgNhwcFp32>, kSinglePixelBug, DefaultPoolKernelRuns};

const OpRecipeDef* const kAvgPoolRecipes[] = {&kAvgPoolExact, &kAvgPoolNchwFp32, &kAvgPoolNhwcFp32,
                                              &kAvgPoolQnnpack, &kAvgPoolSinglePixelBug};

// QNNPACK for quint8 without ceil_mode whatever the input layout (the helper converts to NHWC:
// avg_pool2d_quantized_cpu); everything else, and every other engine, runs the default kernels.
const OpRecipeDef* AvgPoolEnginePath(Engine engine, const Layer& layer,
                                     const std::vector<QTensor>& inputs) {
  if (!PoolInputsUsable(layer, inputs)) return nullptr;
  const QTensor& x = inputs[0];
  if (engine == Engine::kQnnpack && x.dtype == DType::kQUInt8 && !layer.pool.ceil_mode) {
    return &kAvgPoolQnnpack;
  }
  return RunsNhwcKernel(layer, x) ? &kAvgPoolNhwcFp32 : &kAvgPoolNchwFp32;
}

// QNNPACK's avgpool rejects a 1×1 kernel and a scale that is not a positive normal float.
std::string AvgPoolRejectionReason(Engine engine, const Layer& layer,
                                   const std::vector<QTensor>& inputs) {
  if (!PoolInputsUsable(layer, inputs)) return "";
  if (EngineOpRecipe(engine, layer, inputs) != &kAvgPoolQnnpack) return "";
  if (layer.pool.kernel[0] * layer.pool.kernel[1] == 1) {
    return "QNNPACK avg_pool2d rejects a 1x1 kernel (average-pooling.c: \"1x1 pooling is "
           "meaningless\"; CAFFE_ENFORCE in AveragePool2d.cpp::qnnpack_avg_pool2d)";
  }
  return QnnpackAvgPoolScaleReason(inputs[0]);
}

// Float64 reference: the mean of the dequantized in-window inputs with the divisor rule.
std::vector<double> AvgPoolFloatReal(const Layer& layer, const std::vector<QTensor>& inputs,
                                     const std::vector<int64_t>& out_shape) {
  const PoolDims d = PoolDimsOf(inputs[0], out_shape);
  return MeanPoolReal(inputs[0], out_shape, AvgWindowFn(layer.pool, d),
                      [&](const AvgSpan& wy, const AvgSpan& wx) {
                        return AvgDivisor(layer.pool, wy, wx);
                      });
}

}  // namespace

extern const OpDef kAvgPool2dOp = {OpKind::kAvgPool2d,   kAvgPoolRecipes,
                                   std::size(kAvgPoolRecipes), AvgPoolEnginePath,
                                   AvgPoolRejectionReason, AvgPoolFloatReal};

}  // namespace qdiff
