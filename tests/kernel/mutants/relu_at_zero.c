/* Mistake: the fused ReLU is applied as max(q, 0) on the quantized output (qmin = 0), as one
 * would for floats. Real 0 is q = z_y, so with z_y > 0 negative results come out between 0 and
 * z_y instead of being clamped to z_y. */
#include <stdint.h>

#include "qdiff/kernel_plugin.h"

static uint8_t ReluAtZero(int32_t acc, float multiplier, const qdiff_requant_channel* ch);

#define QDIFF_REFERENCE_REQUANTIZE ReluAtZero
#define QDIFF_REFERENCE_NAME "relu_at_zero"
#include "reference_kernel.c"

static uint8_t ReluAtZero(int32_t acc, float multiplier, const qdiff_requant_channel* ch) {
  qdiff_requant_channel at_zero = *ch;
  at_zero.qmin = 0;
  return RequantizeOne(acc, multiplier, &at_zero);
}
