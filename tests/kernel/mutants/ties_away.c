/* Mistake: ties of t round away from zero (C's roundf, or std::round) instead of to even.
 * roundf is the rounding function most people reach for; QNNPACK's cvtps2dq / vcvtnq round half
 * to even, so every exact tie (frequent with power-of-two scales) lands one step off. */
#define QDIFF_REFERENCE_ROUND roundf
#define QDIFF_REFERENCE_NAME "ties_away"
#include "reference_kernel.c"
