/* qdiff kernel plugin ABI, version 1 (plain C99; docs/kernel_plugin.md).
 *
 * A plugin is a shared object with the integer kernels a user wants checked against LibTorch and
 * qdiff's recipes. It exports
 *
 *   const qdiff_kernel_info* qdiff_kernel_info_v1(void);
 *
 * and, for every capability bit it sets, the function of that op (below). qdiff resolves each
 * function by name (dlsym), so every function is optional; a bit set without its function is a
 * load error.
 *
 * Every op function returns 0 when it wrote all outputs, and nonzero when it declines the call
 * (unsupported shape or parameters) or fails; qdiff then reports the code and ignores the
 * outputs.
 *
 * Ownership: qdiff owns every buffer and every args struct. They are valid only during the call;
 * the plugin must not keep any pointer after it returns, nor write anywhere but the `output`
 * buffer. qdiff calls a plugin from one thread at a time.
 *
 * Layouts: all tensors are dense and row-major (C order), int_repr values (the stored 8-bit
 * integers, not dequantized reals). Element counts and dimensions are int64_t.
 *
 * Quantization: real = scale · (q − zero_point). Inputs and outputs are quint8 (uint8_t), weights
 * qint8 (int8_t).
 */
#ifndef QDIFF_KERNEL_PLUGIN_H_
#define QDIFF_KERNEL_PLUGIN_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a struct or signature below changes; the plugin's info must carry it. */
#define QDIFF_KERNEL_ABI_VERSION 1

/* Capability bits of qdiff_kernel_info.capabilities: one per op function. Bits 5..15 are
 * reserved for the pools and the other ops without weights (max_pool2d, avg_pool2d, ...); bits
 * 16..31 are reserved. qdiff rejects a plugin that sets a bit it does not know. */
#define QDIFF_KERNEL_REQUANTIZE (1u << 0) /* qdiff_kernel_requantize */
#define QDIFF_KERNEL_CONV2D (1u << 1)     /* qdiff_kernel_conv2d */
#define QDIFF_KERNEL_LINEAR (1u << 2)     /* qdiff_kernel_linear */
#define QDIFF_KERNEL_ADD (1u << 3)        /* qdiff_kernel_add */
#define QDIFF_KERNEL_MUL (1u << 4)        /* qdiff_kernel_mul */
#define QDIFF_KERNEL_KNOWN_CAPABILITIES 0x1Fu

typedef struct qdiff_kernel_info {
  int32_t abi_version;   /* QDIFF_KERNEL_ABI_VERSION the plugin was compiled with */
  const char* name;      /* plugin name, for reports; non-NULL, static storage */
  const char* engine;    /* LibTorch engine it aims to reproduce: "qnnpack", "onednn",
                            "fbgemm", or "" for none; non-NULL, static storage */
  uint32_t capabilities; /* OR of QDIFF_KERNEL_* bits */
} qdiff_kernel_info;

/* Requantization parameters of one output channel c, in every form, so a kernel picks the one
 * it implements. Notation: s_x input scale, s_w = weight scale of channel c, s_y output scale,
 * b the float bias of channel c, RNE = round half to even, f32() = round to binary32.
 *
 *   real value of output c:   y = (acc · s_x · s_w + b) / s_y + z_y
 *   where acc = Σ (x − z_x)(w − z_w[c]) over the channel's receptive field (exact integer).
 */
typedef struct qdiff_requant_channel {
  /* Real form: the scales exactly as LibTorch stores them (double), the bias as it receives it. */
  double input_scale;     /* s_x */
  double weight_scale;    /* s_w[c] (the per-tensor scale when weights are per-tensor) */
  double output_scale;    /* s_y */
  float bias;             /* b[c]; 0 when has_bias == 0 */
  int32_t has_bias;       /* 1 when the layer has a bias, else 0 */
  /* Float form: M = s_x·s_w/s_y computed in double, then rounded once to binary32. (Engines
   * compute their own binary32 M from the scales, e.g. QNNPACK f32(f32(f32 s_w·f32 s_x)·f32(1/f32
   * s_y)); a kernel reproducing one should do the same from the real form.) */
  float multiplier_f32;
  /* Fixed-point form, gemmlowp/TFLite QuantizeMultiplier of M (double):
   *   M ≈ multiplier_q31 · 2^(−31 − right_shift), multiplier_q31 in [2^30, 2^31 − 1],
   *   right_shift < 0 means a left shift (M ≥ 1); multiplier_q31 == 0 when M < 2^−32. */
  int32_t multiplier_q31;
  int32_t right_shift;
  /* Integer bias in accumulator units, as LibTorch's QuantizeBias computes it:
   *   bias_int32 = RNE(f32(b · f32(1 / f32(s_x·s_w)))), saturated to int32; 0 without bias. */
  int32_t bias_int32;
  int32_t output_zero_point; /* z_y */
  /* Clamp bounds of the output: [0, 255], and qmin = max(0, z_y) with a fused ReLU. */
  int32_t qmin;
  int32_t qmax;
} qdiff_requant_channel;

/* requantize: outputs from accumulators that already include the bias and all zero-point
 * corrections, i.e. acc[i] = Σ (x − z_x)(w − z_w[c]) + bias_int32[c] in int32.
 * acc and output: [outer, channels, inner]; element (o, c, s) at index (o·channels + c)·inner + s
 * (NCHW conv outputs: outer = N, inner = H·W; linear: outer = N, inner = 1). */
typedef struct qdiff_requantize_args {
  const int32_t* acc;
  int64_t outer;
  int64_t channels;
  int64_t inner;
  const qdiff_requant_channel* channel; /* [channels] */
  uint8_t* output;                      /* [outer · channels · inner] */
} qdiff_requantize_args;

/* conv2d: y = requant(conv2d(x − z_x, w − z_w) + bias), one call per layer.
 * input  [n, in_channels, in_h, in_w]                       (NCHW, uint8)
 * weight [out_channels, in_channels/groups, kernel_h, kernel_w] (OIHW, int8)
 * output [n, out_channels, out_h, out_w]                    (NCHW, uint8), where
 *   out = floor((in + 2·padding − dilation·(kernel − 1) − 1) / stride) + 1 per spatial dim.
 * Padding contributes nothing to acc (the padded x equals z_x). */
typedef struct qdiff_conv2d_args {
  const uint8_t* input;
  int64_t n, in_channels, in_h, in_w;
  int32_t input_zero_point;            /* z_x */
  const int8_t* weight;
  int64_t out_channels, kernel_h, kernel_w;
  const int32_t* weight_zero_points;   /* [out_channels]; equal entries when per-tensor */
  int32_t weight_per_channel;          /* 1 when the weight scales/zero points are per channel */
  int64_t stride_h, stride_w, padding_h, padding_w, dilation_h, dilation_w, groups;
  const qdiff_requant_channel* channel; /* [out_channels]; bias in channel[c] */
  int64_t out_h, out_w;
  uint8_t* output;
} qdiff_conv2d_args;

/* linear: y = requant((x − z_x)(w − z_w)ᵀ + bias).
 * input [n, in_features] uint8, weight [out_features, in_features] int8,
 * output [n, out_features] uint8. */
typedef struct qdiff_linear_args {
  const uint8_t* input;
  int64_t n, in_features;
  int32_t input_zero_point;
  const int8_t* weight;
  int64_t out_features;
  const int32_t* weight_zero_points;   /* [out_features] */
  int32_t weight_per_channel;
  const qdiff_requant_channel* channel; /* [out_features] */
  uint8_t* output;
} qdiff_linear_args;

/* add and mul, elementwise on tensors of the same shape (count elements, any layout as long as
 * a, b and output share it): y = quantize(op(s_a(a − z_a), s_b(b − z_b)), s_y, z_y), clamped to
 * [qmin, qmax] (qmin = max(0, z_y) with fused ReLU: add_relu, mul_relu). */
typedef struct qdiff_binary_args {
  const uint8_t* a;
  double a_scale;
  int32_t a_zero_point;
  const uint8_t* b;
  double b_scale;
  int32_t b_zero_point;
  int64_t count;
  double output_scale;
  int32_t output_zero_point;
  int32_t relu;  /* 1 for the fused ReLU variant (qmin already raised) */
  int32_t qmin;
  int32_t qmax;
  uint8_t* output; /* [count] */
} qdiff_binary_args;

/* The symbols a plugin exports (each op function only with its capability bit). */
typedef const qdiff_kernel_info* (*qdiff_kernel_info_v1_fn)(void);
typedef int (*qdiff_kernel_requantize_fn)(const qdiff_requantize_args* args);
typedef int (*qdiff_kernel_conv2d_fn)(const qdiff_conv2d_args* args);
typedef int (*qdiff_kernel_linear_fn)(const qdiff_linear_args* args);
typedef int (*qdiff_kernel_binary_fn)(const qdiff_binary_args* args);

const qdiff_kernel_info* qdiff_kernel_info_v1(void);
int qdiff_kernel_requantize(const qdiff_requantize_args* args);
int qdiff_kernel_conv2d(const qdiff_conv2d_args* args);
int qdiff_kernel_linear(const qdiff_linear_args* args);
int qdiff_kernel_add(const qdiff_binary_args* args);
int qdiff_kernel_mul(const qdiff_binary_args* args);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* QDIFF_KERNEL_PLUGIN_H_ */
