/* The C reference of `qdiff export` (docs/export.md): every conv2d/linear layer of the exported
 * header recomputed from its input and parameters, compared with LibTorch's int_repr().
 * Build: cc -std=c99 -O2 -ffp-contract=off -DQDIFF_HEADER='"model.h"' reference.c -lm, or with
 * -DQDIFF_NO_FLOAT -mgeneral-regs-only for the integer-only form (no float type at all).
 * Exit 0 when every element of every layer agrees, 1 otherwise. QDIFF_Q31=1 uses the Q31
 * fixed-point form (gemmlowp double rounding) instead of the engine's and reports how many
 * elements it gets different (exit 0 either way: it is not what the engine does). */
#include <stdio.h>
#include <stdlib.h>

#include QDIFF_HEADER

/* gemmlowp: SaturatingRoundingDoublingHighMul then RoundingDivideByPOT (ties away from zero). */
static int32_t requant_q31(const qdiff_layer* L, long oc, int64_t acc) {
  int64_t a = acc + L->bias_int32[oc];
  int32_t m0 = L->m0[oc], shift = L->shift[oc];
  int64_t x = a, r;
  if (shift > 0) x = x * ((int64_t)1 << shift);
  if (x > INT32_MAX) x = INT32_MAX;
  if (x < INT32_MIN) x = INT32_MIN;
  if (x == INT32_MIN && m0 == INT32_MIN) {
    r = INT32_MAX;
  } else {
    int64_t ab = x * (int64_t)m0;
    int64_t nudge = ab >= 0 ? (1ll << 30) : (1 - (1ll << 30));
    r = (ab + nudge) / (1ll << 31);
  }
  if (shift < 0) {
    int e = -shift;
    int64_t mask = ((int64_t)1 << e) - 1, rem = r & mask, thr = (mask >> 1) + (r < 0 ? 1 : 0);
    r = (r >> e) + (rem > thr ? 1 : 0);
  }
  r += L->y_zp;
  if (r < L->qmin) r = L->qmin;
  if (r > L->qmax) r = L->qmax;
  return (int32_t)r;
}

int main(void) {
  const int q31 = getenv("QDIFF_Q31") && atoi(getenv("QDIFF_Q31"));
  long total = 0, bad = 0;
  for (int i = 0; i < QDIFF_NUM_LAYERS; ++i) {
    const qdiff_layer* L = &qdiff_layers[i];
    const long icg = L->c / L->groups, ocg = L->oc / L->groups;
    long layer_bad = 0, n, oc, oy, ox;
    for (n = 0; n < L->n; ++n)
      for (oc = 0; oc < L->oc; ++oc)
        for (oy = 0; oy < L->oh; ++oy)
          for (ox = 0; ox < L->ow; ++ox) {
            const long g = oc / ocg;
            int64_t acc = 0; /* sum (x - z_x)(w - z_w), exact */
            long ic, ky, kx;
            for (ic = 0; ic < icg; ++ic)
              for (ky = 0; ky < L->kh; ++ky)
                for (kx = 0; kx < L->kw; ++kx) {
                  const long iy = oy * L->sh - L->ph + ky * L->dh, ix = ox * L->sw - L->pw + kx * L->dw;
                  if (iy < 0 || iy >= L->h || ix < 0 || ix >= L->w) continue; /* padding: x = z_x */
                  acc += (int64_t)(L->x[((n * L->c + g * icg + ic) * L->h + iy) * L->w + ix] - L->x_zp) *
                         (L->weight[((oc * icg + ic) * L->kh + ky) * L->kw + kx] - L->w_zp[oc]);
                }
            {
#ifdef QDIFF_NO_FLOAT
              const int32_t y = q31 ? requant_q31(L, oc, acc) : qdiff_requant_integer(L, oc, acc);
#else
              const int32_t y = q31 ? requant_q31(L, oc, acc) : qdiff_requant_float(L, oc, acc);
#endif
              const long at = ((n * L->oc + oc) * L->oh + oy) * L->ow + ox;
              if (y != L->expected[at]) ++layer_bad;
              ++total;
            }
          }
    printf("%s layer %d %s (%s): %ld mismatches\n", QDIFF_ENGINE, i, L->module, L->op, layer_bad);
    bad += layer_bad;
  }
  printf("%s: %d layers, %ld elements, %ld mismatches (%s)\n", QDIFF_ENGINE, QDIFF_NUM_LAYERS, total, bad,
#ifdef QDIFF_NO_FLOAT
         q31 ? "Q31 double rounding" : "engine recipe, integer-only");
#else
         q31 ? "Q31 double rounding" : "engine binary32");
#endif
  return q31 ? 0 : bad != 0;
}
