// adaptive_avg_pool2d — at::adaptive_avg_pool2d on quantized tensors
// (cpu/AdaptiveAveragePooling.cpp): the exact mean, the NCHW kernel
// (adaptive_avg_pool_single_out_frame), the NHWC kernel (_qadaptive_avg_pool_kernel), QNNPACK's
// avgpool with k = stride = I/O and the single-pixel NHWC bug recipe. Shared pooling helpers,
// notation and the kernel map: pool_common.h.
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

auto AdaptiveWindowFn(const PoolDims& d) {
  return [d](int64_t o, int dim) {
    return dim == 0 ? AdaptiveWindow(o, d.h, d.oh) : AdaptiveWindow(o, d.w, d.ow);
  };
}

// Runs `mean(window sum, kH·kW)` over every adaptive window.
template <typename MeanFn>
std::vector<int32_t> AdaptivePool(const std::vector<QTensor>& in,
                                  const std::vector<int64_t>& out_shape, MeanFn mean) {
  const QTensor& x = in[0];
  const PoolDims d = PoolDimsOf(x, out_shape);
  std::vector<int32_t> y(ShapeElements(out_shape));
  ForEachWindow(d, AdaptiveWindowFn(d),
                [&](int64_t o, int64_t n, int64_t c, const AvgSpan& wy, const AvgSpan& wx) {
                  y[o] = mean(WindowSum(x, d, n, c, wy, wx), wy.span * wx.span);
                });
  return y;
}

std::vector<int32_t> AdaptiveExact(const Layer& layer, const std::vector<QTensor>& in,
                                   const std::vector<int64_t>& out_shape) {
  const OutputQParams q = LayerOutputQParams(layer, in[0]);
  return AdaptivePool(in, out_shape,
                      [&](int64_t sum, int64_t area) { return ExactMean(sum, area, in[0], q); });
}

// adaptive_avg_pool_single_out_frame: raw sum, no zp subtraction, no clamp:
//   r = f32(f32(f32(1.0/kD)/kH)/kW) (kD = 1); y = (T)RNE(f32(f32(Σ q)·r)).
// The input zp rides inside Σ q, i.e. enters before rounding; s_x/s_y is not used (it is 1).
std::vector<int32_t> AdaptiveNchwFp32(const Layer& layer, const std::vector<QTensor>& in,
                                      const std::vector<int64_t>& out_shape) {
  const QTensor& x = in[0];
  const PoolDims d = PoolDimsOf(x, out_shape);
  const OutputQParams q = LayerOutputQParams(layer, x);
  std::vector<int32_t> y(ShapeElements(out_shape));
  ForEachWindow(d, AdaptiveWindowFn(d),
                [&](int64_t o, int64_t n, int64_t c, const AvgSpan& wy, const AvgSpan& wx) {
                  const float kdhw_r = AdaptiveNchwReciprocal(wy.span, wx.span);
                  int64_t raw = 0;
                  for (int64_t yy = wy.start; yy < wy.end; ++yy) {
                    for (int64_t xx = wx.start; xx < wx.end; ++xx) {
                      raw += x.values[PoolInIndex(d, n, c, yy, xx)];
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
  const OutputQParams q = LayerOutputQParams(layer, in[0]);
  return AdaptivePool(in, out_shape, [&](int64_t sum, int64_t area) {
    return QuantizeValMean(sum, NhwcMultiplier(area, in[0], q), q);
  });
}

// QNNPACK: avg pool with kernel = stride = (H/OH, W/OW), no padding; windows coincide with the
// adaptive ones because I % O == 0.
std::vector<int32_t> AdaptiveQnnpack(const Layer& layer, const std::vector<QTensor>& in,
                                     const std::vector<int64_t>& out_shape) {
  const QTensor& x = in[0];
  const OutputQParams q = LayerOutputQParams(layer, x);
  const int64_t area = (x.shape[2] / out_shape[2]) * (x.shape[3] / out_shape[3]);
  return AdaptivePool(in, out_shape,
                      [&](int64_t sum, int64_t) { return QnnpackMean(sum, area, x, q); });
}

// The multipliers (or functions) of this op's recipes: one OpFormula each (op_recipe.h).
constexpr OpFormula kAdaptiveExactMultiplier{"s_x/(s_y·kH·kW)"};
constexpr OpFormula kAdaptiveNchwMultiplier{"f32(f32(f32(1.0/kD)/kH)/kW) on the raw sum"};
constexpr OpFormula kAdaptiveNhwcMultiplier{"f32(1/f32(1/m)), m = f32(f32(f32 s_x/f32 s_y)/(kH·kW))"};
constexpr OpFormula kAdaptiveQnnpackMultiplier{"f32(f32 s_x/f32(f32 s_y·kH·kW)), k = I/O"};

const OpRecipeDef kAdaptiveExact = {
    "adaptive_avg_pool2d.exact", OpKind::kAdaptiveAvgPool2d,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kExact, OpLayout::kAny,
     &kAdaptiveExactMultiplier},
    "y = clamp(RNE(c·s_x/(kH·kW·s_y)) + z), windows [⌊o·I/O⌋, ⌈(o+1)·I/O⌉)",
    AdaptiveExact};

const OpRecipeDef kAdaptiveNchwFp32 = {
    "adaptive_avg_pool2d.nchw_fp32", OpKind::kAdaptiveAvgPool2d,
    {OpRounding::kHalfEven, OpZeroPoint::kBeforeRounding, OpArithmetic::kBinary32,
     OpLayout::kNchw, &kAdaptiveNchwMultiplier},
    "y = (T)RNE(f32(f32(Σq)·r)), r = f32(f32(f32(1.0/kD)/kH)/kW), no zp subtraction, no clamp; "
    "AdaptiveAveragePooling.cpp::adaptive_avg_pool_single_out_frame",
    AdaptiveNchwFp32};

constexpr OpRecipeDef kAdaptiveNhwcFp32 = {  // constexpr: its ingredients are reused
    "adaptive_avg_pool2d.nhwc_fp32", OpKind::kAdaptiveAvgPool2d,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kBinary32,
     OpLayout::kNhwc, &kAdaptiveNhwcMultiplier},
    "y = clamp(z + RNE(f32(f32(c)·f32(1/f32(1/m))))), all channels (quantize_val); "
    "QuantizedOpKernels.cpp::_qadaptive_avg_pool_kernel",
    AdaptiveNhwcFp32};

const OpRecipeDef kAdaptiveQnnpack = {
    "adaptive_avg_pool2d.qnnpack", OpKind::kAdaptiveAvgPool2d,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kBinary32, OpLayout::kAny,
     &kAdaptiveQnnpackMultiplier},
    "QNNPACK avg pool with k = stride = I/O: y = clamp(RNE(f32(f32(c)·m)) + z, 0, 255); "
    "AdaptiveAveragePooling.cpp::qnnpack_adaptive_avg_pool2d",
    AdaptiveQnnpack};

const OpRecipeDef kAdaptiveSinglePixelBug = {
    "adaptive_avg_pool2d.nhwc_into_nchw", OpKind::kAdaptiveAvgPool2d,
    kAdaptiveNhwcFp32.ingredients, kSinglePixelFormula, NhwcOrderIntoNchw<AdaptiveNhwcFp32>,
    kSinglePixelBug, DefaultPoolKernelRuns};

const OpRecipeDef* const kAdaptiveRecipes[] = {&kAdaptiveExact, &kAdaptiveNchwFp32,
                                               &kAdaptiveNhwcFp32, &kAdaptiveQnnpack,
                                               &kAdaptiveSinglePixelBug};

// QNNPACK for quint8 when I % O == 0 and I != O, whatever the input layout; everything else, and
// every other engine, runs the default kernels.
const OpRecipeDef* AdaptiveEnginePath(Engine engine, const Layer& layer,
                                      const std::vector<QTensor>& inputs) {
  if (!PoolInputsUsable(layer, inputs)) return nullptr;
  const QTensor& x = inputs[0];
  if (engine == Engine::kQnnpack && x.dtype == DType::kQUInt8 && AdaptiveQnnpackApplies(layer, x)) {
    return &kAdaptiveQnnpack;
  }
  return RunsNhwcKernel(layer, x) ? &kAdaptiveNhwcFp32 : &kAdaptiveNchwFp32;
}

// QNNPACK's avgpool rejects a scale that is not a positive normal float.
std::string AdaptiveRejectionReason(Engine engine, const Layer& layer,
                                    const std::vector<QTensor>& inputs) {
  if (!PoolInputsUsable(layer, inputs)) return "";
  if (EngineOpRecipe(engine, layer, inputs) != &kAdaptiveQnnpack) return "";
  return QnnpackAvgPoolScaleReason(inputs[0]);
}

// Float64 reference: the mean of the dequantized inputs of each adaptive window.
std::vector<double> AdaptiveFloatReal(const Layer&, const std::vector<QTensor>& inputs,
                                      const std::vector<int64_t>& out_shape) {
  const PoolDims d = PoolDimsOf(inputs[0], out_shape);
  return MeanPoolReal(inputs[0], out_shape, AdaptiveWindowFn(d),
                      [](const AvgSpan& wy, const AvgSpan& wx) { return wy.span * wx.span; });
}

}  // namespace

extern const OpDef kAdaptiveAvgPool2dOp = {
    OpKind::kAdaptiveAvgPool2d, kAdaptiveRecipes,        std::size(kAdaptiveRecipes),
    AdaptiveEnginePath,         AdaptiveRejectionReason, AdaptiveFloatReal};

}  // namespace qdiff
