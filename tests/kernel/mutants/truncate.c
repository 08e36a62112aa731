/* Mistake: t is converted to an integer by a cast, which truncates toward zero instead of
 * rounding. `(int32_t)(acc * scale)` reads like a conversion but drops the fraction, so about half
 * of all outputs come out one step toward zero. */
#define QDIFF_REFERENCE_ROUND truncf
#define QDIFF_REFERENCE_NAME "truncate"
#include "reference_kernel.c"
