/* The engine's requantization of one accumulator, as `qdiff export` writes it into model.h after
 * the qdiff_layer type and oracles/soft_binary32_c.h (docs/export.md):
 *   qdiff_requant_float:   the binary32 form (compile with -ffp-contract=off), as LibTorch does it;
 *   qdiff_requant_integer: the same binary32 operations with integer operations only, for targets
 *                          without an FPU (define QDIFF_NO_FLOAT to leave the float form out).
 * qnnpack_fp32: y = clamp(RNE(f32(f32(acc + b_q) * M)) + z_y); |t| >= 2^31 gives qmin.
 * onednn_fp32:  y = RNE(clamp(f32(f32(f32(acc) + bf) * M) + f32(z_y), qmin, qmax)). */
static inline int32_t qdiff_clamp_int(int64_t r, const qdiff_layer* L) {
  return (int32_t)(r < L->qmin ? L->qmin : (r > L->qmax ? L->qmax : r));
}

/* qnnpack adds the int32 bias in an int32 register (two's complement wrap). */
static inline int32_t qdiff_acc_plus_bias(const qdiff_layer* L, long oc, int64_t acc) {
  return (int32_t)(uint32_t)(uint64_t)(acc + L->bias_int32[oc]);
}

static inline int32_t qdiff_requant_integer(const qdiff_layer* L, long oc, int64_t acc) {
  int out_of_range = 0;
  uint32_t t;
  if (L->zp_before_rounding) {
    t = qdiff_soft_mul(qdiff_soft_add(qdiff_soft_from_int(acc), L->bias_f32[oc]), L->mult_f32[oc]);
    t = qdiff_soft_clamp(qdiff_soft_add(t, qdiff_soft_from_int(L->y_zp)), L->qmin, L->qmax);
    return qdiff_soft_to_int32_rne(t, &out_of_range);
  }
  t = qdiff_soft_mul(qdiff_soft_from_int(qdiff_acc_plus_bias(L, oc, acc)), L->mult_f32[oc]);
  {
    const int64_t r = qdiff_soft_to_int32_rne(t, &out_of_range);
    if (out_of_range && L->overflow_gives_qmin) return L->qmin;
    return qdiff_clamp_int(out_of_range ? ((t & 0x80000000u) ? INT32_MIN : INT32_MAX) : r + L->y_zp, L);
  }
}

#ifndef QDIFF_NO_FLOAT
#include <math.h>
#include <string.h>

static inline float qdiff_f32(uint32_t bits) {
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

static inline int32_t qdiff_requant_float(const qdiff_layer* L, long oc, int64_t acc) {
  const float m = qdiff_f32(L->mult_f32[oc]);
  float t;
  if (L->zp_before_rounding) {
    t = ((float)acc + qdiff_f32(L->bias_f32[oc])) * m + (float)L->y_zp;
    if (t < (float)L->qmin) t = (float)L->qmin;
    if (t > (float)L->qmax) t = (float)L->qmax;
    return (int32_t)nearbyintf(t);
  }
  t = (float)qdiff_acc_plus_bias(L, oc, acc) * m;
  if (!(fabsf(t) < 2147483648.0f)) return L->overflow_gives_qmin ? L->qmin : qdiff_clamp_int(t < 0 ? INT32_MIN : INT32_MAX, L);
  return qdiff_clamp_int((int64_t)nearbyintf(t) + L->y_zp, L);
}
#endif
