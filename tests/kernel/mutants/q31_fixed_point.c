/* Mistake: requantization ported from TFLite / gemmlowp, the fixed-point form most integer-only
 * references use: a Q31 multiplier (SaturatingRoundingDoublingHighMul) and a rounding right shift.
 * It rounds M to 31 bits instead of QNNPACK's binary32 chain and breaks ties away from zero. */
#include <stdint.h>

#include "qdiff/kernel_plugin.h"

static uint8_t RequantizeQ31(int32_t acc, float multiplier, const qdiff_requant_channel* ch);

#define QDIFF_REFERENCE_REQUANTIZE RequantizeQ31
#define QDIFF_REFERENCE_NAME "q31_fixed_point"
#include "reference_kernel.c"

/* gemmlowp's SaturatingRoundingDoublingHighMul (a, b int32; a·b·2 / 2^32, rounded). */
static int32_t DoublingHighMul(int32_t a, int32_t b) {
  const int64_t ab = (int64_t)a * b;
  const int64_t nudge = ab >= 0 ? (1 << 30) : 1 - (1 << 30);
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* gemmlowp's RoundingDivideByPOT: x / 2^exponent, ties away from zero. */
static int32_t DivideByPowerOfTwo(int32_t x, int exponent) {
  const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

static uint8_t RequantizeQ31(int32_t acc, float multiplier, const qdiff_requant_channel* ch) {
  int64_t x = acc;
  int32_t y;
  (void)multiplier;
  if (ch->right_shift < 0) x *= (int64_t)1 << -ch->right_shift; /* M ≥ 1: shift left first */
  if (x > INT32_MAX) x = INT32_MAX;
  if (x < INT32_MIN) x = INT32_MIN;
  y = DoublingHighMul((int32_t)x, ch->multiplier_q31);
  if (ch->right_shift > 0) y = DivideByPowerOfTwo(y, ch->right_shift > 31 ? 31 : ch->right_shift);
  return Clamp((int64_t)y + ch->output_zero_point, ch);
}
