/* Mistake: the multiplier is computed once per layer from the first weight scale (as from
 * weight.q_scale() of a per-tensor weight), so with per-channel weights every output channel is
 * requantized with channel 0's multiplier. */
#define QDIFF_REFERENCE_MULTIPLIER(channels, c) QnnpackMultiplier(&(channels)[0])
#define QDIFF_REFERENCE_NAME "channel0_multiplier"
#include "reference_kernel.c"
