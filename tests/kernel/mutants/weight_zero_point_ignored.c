/* Mistake: the weight zero point is left out of the accumulator, Σ (x − z_x)·w, because qint8
 * weights are symmetric (z_w = 0) in PyTorch's default qconfigs and the port was written for
 * those; any weight quantized with an affine scheme is then off by z_w·Σ (x − z_x). */
#define QDIFF_REFERENCE_MAC(acc, x, z_x, w, z_w) ((void)(z_w), (acc) + (int64_t)((x) - (z_x)) * (w))
#define QDIFF_REFERENCE_NAME "weight_zero_point_ignored"
#include "reference_kernel.c"
