/* Reference kernel plugin: conv2d, linear and requantize with QNNPACK's fp32 requantization, as
 * LibTorch 1.13's QNNPACK engine computes it (qdiff's qnnpack_fp32 scheme):
 *
 *   M   = f32(f32(f32 s_w · f32 s_x) · f32(1 / f32 s_y))       per output channel
 *   acc = Σ (x − z_x)(w − z_w[c]) + bias_int32[c]              int32, wrapping
 *   t   = f32(f32(acc) · M)
 *   y   = clamp(RNE(t) + z_y, qmin, qmax); qmin when RNE(t) is outside int32 (cvtps2dq gives
 *         INT32_MIN, which the saturating packs turn into qmin)
 *
 * Compile with -ffp-contract=off: a fused multiply-add would skip the rounding of f32(s_w·s_x).
 * Plain C99; see README.md for the build command. */
#include <math.h>
#include <stdint.h>

#include "qdiff/kernel_plugin.h"

/* Rounding of t to an integral float: RNE in the default floating-point environment. */
#ifndef QDIFF_REFERENCE_ROUND
#define QDIFF_REFERENCE_ROUND nearbyintf
#endif
#ifndef QDIFF_REFERENCE_NAME
#define QDIFF_REFERENCE_NAME "reference_qnnpack_fp32"
#endif
/* hook for tests/kernel/mutants: the float multiplier of output channel c */
#ifndef QDIFF_REFERENCE_MULTIPLIER
#define QDIFF_REFERENCE_MULTIPLIER(channels, c) QnnpackMultiplier(&(channels)[c])
#endif
/* hook for tests/kernel/mutants: y from acc (bias included), multiplier and channel */
#ifndef QDIFF_REFERENCE_REQUANTIZE
#define QDIFF_REFERENCE_REQUANTIZE RequantizeOne
#endif
/* hook for tests/kernel/mutants: the int32 bias added to the accumulator */
#ifndef QDIFF_REFERENCE_BIAS
#define QDIFF_REFERENCE_BIAS(ch) ((ch)->bias_int32)
#endif
/* hook for tests/kernel/mutants: one multiply-accumulate step of conv2d and linear */
#ifndef QDIFF_REFERENCE_MAC
#define QDIFF_REFERENCE_MAC(acc, x, z_x, w, z_w) ((acc) + (int64_t)((x) - (z_x)) * ((w) - (z_w)))
#endif
/* hook for tests/kernel/mutants: the x a padded position holds */
#ifndef QDIFF_REFERENCE_PAD_VALUE
#define QDIFF_REFERENCE_PAD_VALUE(z_x) (z_x)
#endif

static const qdiff_kernel_info kInfo = {
    QDIFF_KERNEL_ABI_VERSION, QDIFF_REFERENCE_NAME, "qnnpack",
    QDIFF_KERNEL_REQUANTIZE | QDIFF_KERNEL_CONV2D | QDIFF_KERNEL_LINEAR};

const qdiff_kernel_info* qdiff_kernel_info_v1(void) { return &kInfo; }

/* QNNPACK's multiplier (generate_requantization_scales), from the real form of the channel. */
static float QnnpackMultiplier(const qdiff_requant_channel* ch) {
  const float product = (float)ch->weight_scale * (float)ch->input_scale;
  const float inverse = 1.0f / (float)ch->output_scale;
  return product * inverse;
}

/* y clamped to the channel's [qmin, qmax]. */
static uint8_t Clamp(int64_t y, const qdiff_requant_channel* ch) {
  if (y < ch->qmin) y = ch->qmin;
  if (y > ch->qmax) y = ch->qmax;
  return (uint8_t)y;
}

/* y from an accumulator that already holds the bias. */
static uint8_t RequantizeOne(int32_t acc, float multiplier, const qdiff_requant_channel* ch) {
  const float t = (float)acc * multiplier;
  const float r = QDIFF_REFERENCE_ROUND(t);
  if (!(r >= -2147483648.0f && r < 2147483648.0f)) return (uint8_t)ch->qmin;
  return Clamp((int64_t)r + ch->output_zero_point, ch);
}

/* acc + bias in int32 with two's-complement wrap, as the kernel's 32-bit add. */
static int32_t AddBias(int64_t acc, const qdiff_requant_channel* ch) {
  return (int32_t)(uint32_t)((uint64_t)acc + (uint64_t)(int64_t)QDIFF_REFERENCE_BIAS(ch));
}

int qdiff_kernel_requantize(const qdiff_requantize_args* a) {
  int64_t o, c, s;
  for (c = 0; c < a->channels; ++c) {
    const qdiff_requant_channel* ch = &a->channel[c];
    const float m = QDIFF_REFERENCE_MULTIPLIER(a->channel, c);
    for (o = 0; o < a->outer; ++o) {
      for (s = 0; s < a->inner; ++s) {
        const int64_t i = (o * a->channels + c) * a->inner + s;
        a->output[i] = QDIFF_REFERENCE_REQUANTIZE(a->acc[i], m, ch);
      }
    }
  }
  return 0;
}

int qdiff_kernel_conv2d(const qdiff_conv2d_args* a) {
  const int64_t in_per_group = a->in_channels / a->groups;
  const int64_t out_per_group = a->out_channels / a->groups;
  int64_t n, oc, oh, ow, ic, kh, kw;
  for (oc = 0; oc < a->out_channels; ++oc) {
    const qdiff_requant_channel* ch = &a->channel[oc];
    const float m = QDIFF_REFERENCE_MULTIPLIER(a->channel, oc);
    const int64_t first_ic = (oc / out_per_group) * in_per_group;
    const int32_t z_w = a->weight_zero_points[oc];
    for (n = 0; n < a->n; ++n) {
      for (oh = 0; oh < a->out_h; ++oh) {
        for (ow = 0; ow < a->out_w; ++ow) {
          int64_t acc = 0;
          for (ic = 0; ic < in_per_group; ++ic) {
            const uint8_t* plane =
                a->input + (n * a->in_channels + first_ic + ic) * a->in_h * a->in_w;
            for (kh = 0; kh < a->kernel_h; ++kh) {
              const int64_t ih = oh * a->stride_h - a->padding_h + kh * a->dilation_h;
              for (kw = 0; kw < a->kernel_w; ++kw) {
                const int64_t iw = ow * a->stride_w - a->padding_w + kw * a->dilation_w;
                const int inside = ih >= 0 && ih < a->in_h && iw >= 0 && iw < a->in_w;
                /* a padded position holds z_x, so it adds nothing */
                const int32_t x = inside ? plane[ih * a->in_w + iw]
                                         : QDIFF_REFERENCE_PAD_VALUE(a->input_zero_point);
                const int32_t w =
                    a->weight[((oc * in_per_group + ic) * a->kernel_h + kh) * a->kernel_w + kw];
                acc = QDIFF_REFERENCE_MAC(acc, x, a->input_zero_point, w, z_w);
              }
            }
          }
          a->output[((n * a->out_channels + oc) * a->out_h + oh) * a->out_w + ow] =
              QDIFF_REFERENCE_REQUANTIZE(AddBias(acc, ch), m, ch);
        }
      }
    }
  }
  return 0;
}

int qdiff_kernel_linear(const qdiff_linear_args* a) {
  int64_t n, o, k;
  for (o = 0; o < a->out_features; ++o) {
    const qdiff_requant_channel* ch = &a->channel[o];
    const float m = QDIFF_REFERENCE_MULTIPLIER(a->channel, o);
    const int32_t z_w = a->weight_zero_points[o];
    for (n = 0; n < a->n; ++n) {
      int64_t acc = 0;
      for (k = 0; k < a->in_features; ++k) {
        acc = QDIFF_REFERENCE_MAC(acc, a->input[n * a->in_features + k], a->input_zero_point,
                                  a->weight[o * a->in_features + k], z_w);
      }
      a->output[n * a->out_features + o] = QDIFF_REFERENCE_REQUANTIZE(AddBias(acc, ch), m, ch);
    }
  }
  return 0;
}
