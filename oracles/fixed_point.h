// gemmlowp fixed-point primitives (gemmlowp/fixedpoint/fixedpoint.h), on int32.
#pragma once

#include <cstdint>

namespace qdiff {

// round(a · b / 2^31) computed as gemmlowp does: (a·b + nudge) / 2^31 with nudge = 2^30
// (a·b ≥ 0) or 1 − 2^30 (a·b < 0) and a truncating division, so ties go toward +inf
// (−2.5 → −2, 2.5 → 3), as NEON's VQRDMULH does.
// The only overflow, a == b == INT32_MIN, saturates to INT32_MAX.
int32_t SaturatingRoundingDoublingHighMul(int32_t a, int32_t b);

// x / 2^exponent rounded to nearest, ties away from zero (gemmlowp RoundingDivideByPOT).
// exponent in [0, 31].
int32_t RoundingDivideByPOT(int32_t x, int exponent);

// TFLite's MultiplyByQuantizedMultiplier without single rounding ("double rounding"):
// RoundingDivideByPOT(SRDHM(x · 2^left_shift, multiplier), right_shift), where
// left_shift = max(shift, 0) and right_shift = max(−shift, 0). x · 2^left_shift saturates to int32
// (TFLite assumes it does not overflow).
int32_t MultiplyByQuantizedMultiplierDoubleRounding(int32_t x, int32_t multiplier, int shift);

}  // namespace qdiff
