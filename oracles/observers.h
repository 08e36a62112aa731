// PyTorch 1.13 observer arithmetic (torch/ao/quantization/observer.py, utils.py;
// docs/semantics.md#observers) and the quantize formula of at::quantize_per_tensor
// (docs/semantics.md#quantize-per-tensor), so that a case can be calibrated from float data
// exactly as PyTorch would.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "oracles/model.h"

namespace qdiff {

enum class QScheme { kAffine, kSymmetric };

struct QParams {
  double scale;        // float32 value, as the observer's float tensor holds it
  int32_t zero_point;
};

// calculate_qmin_qmax: quint8 [0,255] ([0,127] with reduce_range), qint8 [-128,127] ([-64,63]);
// a custom [quant_min, quant_max] is used as given, or floor-divided by 2 with reduce_range.
QuantRange ObserverRange(DType dtype, bool reduce_range,
                         std::optional<QuantRange> custom = std::nullopt);

// UniformQuantizationObserverBase._calculate_qparams for one (min, max), in float32:
//   min_neg = min(min,0), max_pos = max(max,0), eps = 2^-23
//   affine:    scale = max(f32(f32(max_pos − min_neg) / (qmax − qmin)), eps),
//              zp = clamp(qmin − RNE(f32(min_neg / scale)), qmin, qmax)
//   symmetric: scale = max(f32(max(−min_neg, max_pos) / ((qmax − qmin)/2)), eps),
//              zp = 0 (qint8) or 128 (quint8)
//   quint8 symmetric with a custom range: zp = (qmin + qmax) / 2 (floor)
QParams MinMaxQParams(float min_val, float max_val, DType dtype, QScheme qscheme,
                      bool reduce_range, std::optional<QuantRange> custom = std::nullopt);

// MovingAverageMinMaxObserver over calibration batches (each given by its min and max): the first
// batch sets the range, later ones move it by c·(batch − range), in float32 (c = 0.01 default).
std::pair<float, float> MovingAverageMinMax(const std::vector<std::pair<float, float>>& batches,
                                            float averaging_constant = 0.01f);

// at::quantize_per_tensor / quantize_val: clamp(z + RNE(f32(x · f32(1 / f32(scale)))), type range),
// the zero point added in double (QuantizeValDoubleSum, oracles/ops/libtorch_float.h).
int32_t QuantizeValue(float x, double scale, int32_t zero_point, DType dtype);
// out[i] = QuantizeValue(x[i], scale, zero_point, dtype) for i < n (one loop, vectorised).
void QuantizeValues(const float* x, int64_t n, double scale, int32_t zero_point, DType dtype, int32_t* out);

}  // namespace qdiff
