#include "oracles/observers.h"

#include "oracles/multiversion.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "oracles/ops/libtorch_float.h"

namespace qdiff {

// Python's floor division by 2 (rounds toward −inf, also for negative numbers).
int32_t FloorHalf(int32_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); }

QuantRange ObserverRange(DType dtype, bool reduce_range, std::optional<QuantRange> custom) {
  if (custom) {
    return reduce_range ? QuantRange{FloorHalf(custom->qmin), FloorHalf(custom->qmax)} : *custom;
  }
  if (dtype == DType::kQUInt8) return reduce_range ? QuantRange{0, 127} : QuantRange{0, 255};
  return reduce_range ? QuantRange{-64, 63} : QuantRange{-128, 127};
}

std::pair<float, float> MovingAverageMinMax(const std::vector<std::pair<float, float>>& batches,
                                            float c) {
  float lo = 0, hi = 0;
  for (size_t i = 0; i < batches.size(); ++i) {
    if (i == 0) {
      lo = batches[0].first;
      hi = batches[0].second;
    } else {
      lo = lo + c * (batches[i].first - lo);
      hi = hi + c * (batches[i].second - hi);
    }
  }
  return {lo, hi};
}

QParams MinMaxQParams(float min_val, float max_val, DType dtype, QScheme qscheme,
                      bool reduce_range, std::optional<QuantRange> custom) {
  const QuantRange r = ObserverRange(dtype, reduce_range, custom);
  const float eps = std::numeric_limits<float>::epsilon();
  const float min_neg = std::min(min_val, 0.0f);
  const float max_pos = std::max(max_val, 0.0f);
  if (qscheme == QScheme::kSymmetric) {
    // Python: max_pos / (float(qmax - qmin) / 2); the divisor is a double, the tensor float32.
    const float divisor = static_cast<float>((r.qmax - r.qmin) / 2.0);
    const float scale = std::max(std::max(-min_neg, max_pos) / divisor, eps);
    const int32_t zp = dtype == DType::kQInt8 ? 0 : (custom ? (r.qmin + r.qmax) / 2 : 128);
    return {scale, zp};
  }
  const float scale =
      std::max((max_pos - min_neg) / static_cast<float>(r.qmax - r.qmin), eps);
  const int32_t zp = r.qmin - static_cast<int32_t>(std::nearbyint(min_neg / scale));
  return {scale, std::clamp(zp, r.qmin, r.qmax)};
}

int32_t QuantizeValue(float x, double scale, int32_t zero_point, DType dtype) {
  return QuantizeValDoubleSum(scale, zero_point, x, TypeRange(dtype));
}

namespace {

// Built per ISA: nearbyint is one instruction and the loop vectorises.
QDIFF_MULTIVERSION
void QuantizeRun(const float* x, int64_t n, double scale, int32_t zero_point, QuantRange range, int32_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = QuantizeValDoubleSum(scale, zero_point, x[i], range);
}

}  // namespace

void QuantizeValues(const float* x, int64_t n, double scale, int32_t zero_point, DType dtype, int32_t* out) {
  QuantizeRun(x, n, scale, zero_point, TypeRange(dtype), out);
}

}  // namespace qdiff
