/* Mistake: the result is stored with `(uint8_t)(q + z_y)` and no clamp to [qmin, qmax], so values
 * beyond the output range wrap modulo 256 instead of saturating (and a fused ReLU is lost).
 * Tests with well-calibrated output scales rarely leave the range, so it survives review. */
#include <stdint.h>

#include "qdiff/kernel_plugin.h"

static uint8_t WrapWithoutClamp(int32_t acc, float multiplier, const qdiff_requant_channel* ch);

#define QDIFF_REFERENCE_REQUANTIZE WrapWithoutClamp
#define QDIFF_REFERENCE_NAME "no_clamp_wrap"
#include "reference_kernel.c"

static uint8_t WrapWithoutClamp(int32_t acc, float multiplier, const qdiff_requant_channel* ch) {
  const float r = nearbyintf((float)acc * multiplier);
  if (!(r >= -2147483648.0f && r < 2147483648.0f)) return (uint8_t)ch->qmin;
  return (uint8_t)(uint32_t)((int64_t)r + ch->output_zero_point);
}
