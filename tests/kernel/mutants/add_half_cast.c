/* Mistake: rounding written as `(int32_t)(t + 0.5f)`, the textbook idiom for positive numbers. It
 * rounds ties up instead of to even, and for negative t it truncates t + 0.5 toward zero, so most
 * negative fractions land one step high. */
#include <math.h>

static float AddHalfAndCast(float t) { return truncf(t + 0.5f); }

#define QDIFF_REFERENCE_ROUND AddHalfAndCast
#define QDIFF_REFERENCE_NAME "add_half_cast"
#include "reference_kernel.c"
