/* add and mul in double arithmetic, rounded half to even after the real result:
 *   y = clamp(RNE(op(s_a (a - z_a), s_b (b - z_b)) / s_y) + z_y, qmin, qmax)
 * It aims at no engine: qdiff compares it with every engine and reports only the elements no
 * single ingredient explains. ELEMENTWISE_ROUND is a hook for the truncating variant. */
#include <math.h>

#include "qdiff/kernel_plugin.h"

#ifndef ELEMENTWISE_ROUND
#define ELEMENTWISE_ROUND nearbyint
#endif
#ifndef ELEMENTWISE_NAME
#define ELEMENTWISE_NAME "elementwise_double"
#endif

static const qdiff_kernel_info kInfo = {QDIFF_KERNEL_ABI_VERSION, ELEMENTWISE_NAME, "",
                                        QDIFF_KERNEL_ADD | QDIFF_KERNEL_MUL};

const qdiff_kernel_info* qdiff_kernel_info_v1(void) { return &kInfo; }

static uint8_t Requantize(double real, const qdiff_binary_args* p) {
  double q = ELEMENTWISE_ROUND(real / p->output_scale) + p->output_zero_point;
  if (q < p->qmin) q = p->qmin;
  if (q > p->qmax) q = p->qmax;
  return (uint8_t)q;
}

int qdiff_kernel_add(const qdiff_binary_args* p) {
  for (int64_t i = 0; i < p->count; ++i) {
    const double a = p->a_scale * (p->a[i] - p->a_zero_point);
    const double b = p->b_scale * (p->b[i] - p->b_zero_point);
    p->output[i] = Requantize(a + b, p);
  }
  return 0;
}

int qdiff_kernel_mul(const qdiff_binary_args* p) {
  for (int64_t i = 0; i < p->count; ++i) {
    const double a = p->a_scale * (p->a[i] - p->a_zero_point);
    const double b = p->b_scale * (p->b[i] - p->b_zero_point);
    p->output[i] = Requantize(a * b, p);
  }
  return 0;
}
