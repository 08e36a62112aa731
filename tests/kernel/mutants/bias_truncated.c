/* Mistake: the int32 bias is computed from the float bias with a cast, b / (s_x·s_w) truncated
 * toward zero, instead of LibTorch's round half to even. Biases whose fraction is ≥ 1/2 (in
 * accumulator units) come out one unit toward zero, which shifts outputs near a rounding edge. */
#include <stdint.h>

#include "qdiff/kernel_plugin.h"

static int32_t TruncatedBias(const qdiff_requant_channel* ch) {
  const float q = ch->bias * (1.0f / (float)(ch->input_scale * ch->weight_scale));
  if (!ch->has_bias) return 0;
  if (!(q > -2147483648.0f)) return INT32_MIN;
  if (!(q < 2147483648.0f)) return INT32_MAX;
  return (int32_t)q;
}

#define QDIFF_REFERENCE_BIAS(ch) TruncatedBias(ch)
#define QDIFF_REFERENCE_NAME "bias_truncated"
#include "reference_kernel.c"
