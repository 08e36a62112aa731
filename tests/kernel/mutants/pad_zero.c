/* Mistake: padded positions hold x = 0, as a float convolution's zero padding does, instead of
 * x = z_x (the quantized 0.0). With z_x ≠ 0 every window that overlaps the border gains
 * −z_x·(w − z_w) per padded tap. */
#define QDIFF_REFERENCE_PAD_VALUE(z_x) 0
#define QDIFF_REFERENCE_NAME "pad_zero"
#include "reference_kernel.c"
