/* Mistake: the output zero point is added to t as a float before rounding, RNE(t + z_y), as in
 * `lrintf(acc * scale + zero_point)`. It looks equivalent because z_y is an integer, but an odd z_y
 * flips which neighbour of a tie is even, so ties land one step off. */
#include <stdint.h>

#include "qdiff/kernel_plugin.h"

static uint8_t ZeroPointBeforeRound(int32_t acc, float multiplier, const qdiff_requant_channel* ch);

#define QDIFF_REFERENCE_REQUANTIZE ZeroPointBeforeRound
#define QDIFF_REFERENCE_NAME "zero_point_before_round"
#include "reference_kernel.c"

static uint8_t ZeroPointBeforeRound(int32_t acc, float multiplier,
                                    const qdiff_requant_channel* ch) {
  const float r = nearbyintf((float)acc * multiplier + (float)ch->output_zero_point);
  if (!(r >= -2147483648.0f && r < 2147483648.0f)) return (uint8_t)ch->qmin;
  return Clamp((int64_t)r, ch);
}
