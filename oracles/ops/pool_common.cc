#include "oracles/ops/pool_common.h"

#include <algorithm>
#include <cmath>

#include "oracles/exact_rational.h"
#include "oracles/float_oracle.h"
#include "oracles/ops/libtorch_float.h"

namespace qdiff {

PoolDims PoolDimsOf(const QTensor& x, const std::vector<int64_t>& out_shape) {
  return {x.shape[0], x.shape[1], x.shape[2], x.shape[3], out_shape[2], out_shape[3]};
}

int64_t PoolInIndex(const PoolDims& d, int64_t n, int64_t c, int64_t y, int64_t x) {
  return ((n * d.c + c) * d.h + y) * d.w + x;
}

int32_t ClampToType(int64_t v, DType dtype) {
  const QuantRange r = TypeRange(dtype);
  return static_cast<int32_t>(std::min<int64_t>(std::max<int64_t>(v, r.qmin), r.qmax));
}

bool RunsNhwcKernel(const Layer& layer, const QTensor& x) {
  return IsChannelsLastContiguous(x.shape, layer.channels_last);
}

int64_t WindowSum(const QTensor& x, const PoolDims& d, int64_t n, int64_t c, const AvgSpan& wy,
                  const AvgSpan& wx) {
  const int32_t z = x.zero_points[0];
  int64_t sum = 0;
  for (int64_t y = wy.start; y < wy.end; ++y) {
    for (int64_t xx = wx.start; xx < wx.end; ++xx) sum += x.values[PoolInIndex(d, n, c, y, xx)] - z;
  }
  return sum;
}

int32_t ExactMean(int64_t c, int64_t div, const QTensor& x, const OutputQParams& q) {
  const Rational v = Rational::FromInt(c) * Rational::FromDouble(x.scales[0]) /
                     (Rational::FromInt(div) * Rational::FromDouble(q.scale));
  return ClampToType(RoundRational(v, TieRule::kHalfEven).value + q.zero_point, q.dtype);
}

float NhwcMultiplier(int64_t div, const QTensor& x, const OutputQParams& q) {
  const float ratio = static_cast<float>(x.scales[0]) / static_cast<float>(q.scale);
  return ratio / static_cast<float>(div);
}

// quantize_val sums z in float; z of a pool is in its type's range, so a rounded mean too large for
// that float sum to be exact (≥ 2^24 − 256) is clamped anyway.
int32_t QuantizeValMean(int64_t c, float m, const OutputQParams& q) {
  const float scale = 1.0f / m;
  return QuantizeVal(scale, q.zero_point, static_cast<float>(c), TypeRange(q.dtype));
}

float QnnpackMeanMultiplier(int64_t kernel_area, const QTensor& x, const OutputQParams& q) {
  const float sx = static_cast<float>(x.scales[0]);
  const float sy = static_cast<float>(q.scale);
  return sx / (sy * static_cast<float>(kernel_area));
}

AvgSpan AdaptiveWindow(int64_t o, int64_t in, int64_t out) {
  const float num0 = static_cast<float>(o * in);
  const float num1 = static_cast<float>((o + 1) * in);
  const float den = static_cast<float>(out);
  const int64_t start = static_cast<int64_t>(std::floor(num0 / den));
  const int64_t end = static_cast<int64_t>(std::ceil(num1 / den));
  return {start, end, end - start};
}

float AdaptiveNchwReciprocal(int64_t kh, int64_t kw) {
  const float kd_r = static_cast<float>(1.0 / 1);
  const float kdh_r = kd_r / static_cast<float>(kh);
  return kdh_r / static_cast<float>(kw);
}

int32_t QnnpackMean(int64_t c, int64_t kernel_area, const QTensor& x, const OutputQParams& q) {
  const float m = QnnpackMeanMultiplier(kernel_area, x, q);
  const float t = static_cast<float>(c) * m;
  int64_t r = static_cast<int64_t>(std::nearbyint(t));
  r = std::min<int64_t>(std::max<int64_t>(r, -32768), 32767);  // _mm_packs_epi32
  return ClampToType(r + q.zero_point, DType::kQUInt8);
}

double WindowRealMean(const QTensor& x, const PoolDims& d, int64_t n, int64_t c,
                      const AvgSpan& wy, const AvgSpan& wx, int64_t div) {
  double sum = 0.0;
  for (int64_t y = wy.start; y < wy.end; ++y) {
    for (int64_t xx = wx.start; xx < wx.end; ++xx) {
      sum += static_cast<double>(DequantizeElement(x, PoolInIndex(d, n, c, y, xx)));
    }
  }
  return sum / static_cast<double>(div);
}

bool PoolInputsUsable(const Layer& layer, const std::vector<QTensor>& inputs) {
  return !inputs.empty() && inputs[0].shape.size() == 4 && !inputs[0].per_channel() &&
         IsPoolOp(layer.op);
}

bool AdaptiveQnnpackApplies(const Layer& layer, const QTensor& x) {
  const int64_t h = x.shape[2], w = x.shape[3];
  const int64_t oh = layer.pool.output_size[0], ow = layer.pool.output_size[1];
  return !(h == oh && w == ow) && h % oh == 0 && w % ow == 0;
}

bool QnnpackPoolKernelRuns(Engine engine, const Layer& layer,
                           const std::vector<QTensor>& in) {
  if (engine != Engine::kQnnpack || !PoolInputsUsable(layer, in) || in[0].dtype != DType::kQUInt8) {
    return false;
  }
  if (layer.op == OpKind::kAdaptiveAvgPool2d) return AdaptiveQnnpackApplies(layer, in[0]);
  return !layer.pool.ceil_mode;
}

bool DefaultPoolKernelRuns(Engine engine, const Layer& layer,
                           const std::vector<QTensor>& in) {
  return PoolInputsUsable(layer, in) &&
         !QnnpackPoolKernelRuns(engine, layer, in);
}

std::string QnnpackAvgPoolScaleReason(const QTensor& x) {
  const float s = static_cast<float>(x.scales[0]);
  if (!(s > 0.0f) || !std::isnormal(s)) {
    return "QNNPACK average pooling needs a normal positive binary32 scale";
  }
  return "";
}

}  // namespace qdiff
