/* Mistake: the accumulator is kept in int16 with saturation, as in SIMD paths that add 8-bit
 * products in 16-bit lanes (x86 vpmaddubsw, ARM SMLAL into int16) to double the throughput; sums
 * beyond ±32767 saturate instead of reaching the int32 accumulator. */
#include <stdint.h>

static int64_t SaturateInt16(int64_t v) {
  return v > INT16_MAX ? INT16_MAX : v < INT16_MIN ? INT16_MIN : v;
}

#define QDIFF_REFERENCE_MAC(acc, x, z_x, w, z_w) \
  SaturateInt16((acc) + (int64_t)((x) - (z_x)) * ((w) - (z_w)))
#define QDIFF_REFERENCE_NAME "int16_accumulator"
#include "reference_kernel.c"
