// QuantizeMultiplier: a positive real multiplier M as a Q31 fixed-point multiplier and a
// power-of-two exponent, M ≈ multiplier · 2^(shift − 31), multiplier in [2^30, 2^31).
// Follows TFLite's tensorflow/lite/kernels/internal/quantization_util.cc::QuantizeMultiplier.
#pragma once

#include <cstdint>

namespace qdiff {

struct QuantizedMultiplier {
  int32_t multiplier = 0;  // Q31 mantissa in [2^30, 2^31 − 1], or 0 when M == 0 or underflows
  int shift = 0;           // M ≈ multiplier · 2^(shift − 31); shift > 0 means M ≥ 1
};

// Edge cases, as in TFLite:
// - M == 0 → {0, 0}.
// - frexp gives M = q · 2^shift with q in [0.5, 1); multiplier = round_half_away(q · 2^31).
//   When q rounds up to 2^31 (q ≥ 1 − 2^−32), the mantissa is halved and shift incremented.
// - M < 2^−32 (shift < −31): the multiplier underflows; returns {0, 0} (every output is z_y).
// - M ≥ 2^30 (shift > 30): saturates to {2^31 − 1, 30}.
// M must be finite and ≥ 0.
QuantizedMultiplier QuantizeMultiplier(double real_multiplier);

// The exact real value multiplier · 2^(shift − 31) of a quantized multiplier.
double QuantizedMultiplierValue(QuantizedMultiplier m);

}  // namespace qdiff
