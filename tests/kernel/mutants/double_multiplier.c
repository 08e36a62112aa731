/* Mistake: requantization computed in double, RNE(acc · (s_x·s_w/s_y)), "for accuracy", instead of
 * QNNPACK's binary32 chain f32(f32(acc)·M) with M = f32(f32(s_w·s_x)·f32(1/s_y)). The two agree
 * except where the binary32 roundings move t across a rounding edge. */
#include <stdint.h>

#include "qdiff/kernel_plugin.h"

static uint8_t RequantizeInDouble(int32_t acc, float multiplier, const qdiff_requant_channel* ch);

#define QDIFF_REFERENCE_REQUANTIZE RequantizeInDouble
#define QDIFF_REFERENCE_NAME "double_multiplier"
#include "reference_kernel.c"

static uint8_t RequantizeInDouble(int32_t acc, float multiplier, const qdiff_requant_channel* ch) {
  const double m = ch->input_scale * ch->weight_scale / ch->output_scale;
  const double r = nearbyint((double)acc * m);
  (void)multiplier;
  if (!(r >= -2147483648.0 && r < 2147483648.0)) return (uint8_t)ch->qmin;
  return Clamp((int64_t)r + ch->output_zero_point, ch);
}
