/* The nodes of an exported model and the arithmetic of each, as `qdiff export` writes them into
 * model.h after qdiff_layer, oracles/soft_binary32_c.h and export_requant_c.h (docs/export.md).
 * A tensor is an int32 array in logical row-major (NCHW) order. qdiff_run_node computes one
 * node's output from its gathered inputs; the caller chains the nodes in graph order.
 *
 * Binary32 arithmetic goes through qdiff_f_*: hardware floats (compile with -ffp-contract=off),
 * or with QDIFF_NO_FLOAT the soft binary32 on bit patterns. Each op is written once for both.
 * Upstream paths are relative to pytorch/aten/src/ATen/native/quantized/cpu/. */

enum {
  QDIFF_NODE_QUANTIZE,     /* quantize_per_tensor of the float input x_f32 */
  QDIFF_NODE_DEQUANTIZE,   /* y_f32 = f32(s * f32(q - z)) */
  QDIFF_NODE_GEMM,         /* conv2d / linear: `gemm` (export_requant_c.h) */
  QDIFF_NODE_COPY,         /* flatten: y = x */
  QDIFF_NODE_LUT,          /* elementwise: y = lut_vec[x] in vector lanes, lut_tail[x] in the tail */
  QDIFF_NODE_ADD_FIXED,    /* QNNPACK / XNNPACK fixed-point add */
  QDIFF_NODE_ADD_F32,      /* the default kernel's binary32 add (qadd_kernel) */
  QDIFF_NODE_MUL_F32,      /* y = clamp(cvtps2dq(f32(c) * M) + z_y), c = (a - z_a)(b - z_b) */
  QDIFF_NODE_MAX_POOL,     /* max over the in-bounds taps */
  QDIFF_NODE_AVG_POOL,     /* mean over a window list, one requantization per window */
  QDIFF_NODE_CAT,          /* concatenation, each input through its own lut pair */
  QDIFF_NODE_LIBTORCH      /* no C form: the node's output is LibTorch's (`expected`) */
};

enum {
  QDIFF_ROUND_HALF_AWAY, /* QNNPACK add: (acc >> shift) + (remainder > threshold) */
  QDIFF_ROUND_HALF_UP    /* XNNPACK add: (acc + 2^(shift-1)) >> shift */
};

enum {
  QDIFF_MEAN_QNNPACK,      /* y = clamp(sat16(RNE(f32(c) * m)) + z, 0, 255), c = sum(q - z) */
  QDIFF_MEAN_QUANTIZE_VAL, /* y = quantize_val(inv = m, z, f32(c)): clamp(z + RNE(f32(c) * m)) */
  QDIFF_MEAN_RAW           /* y = (T)RNE(f32(f32(sum q) * m)): no zero point, wraps to the type */
};

typedef struct {
  const char* module;         /* graph module path, "" at top level */
  const char* op;             /* qdiff's op name, e.g. "add_relu" */
  const char* recipe;         /* the engine recipe this node's arithmetic is */
  int kind;                   /* QDIFF_NODE_* */
  int n_inputs;
  const int* src;             /* per input: producing node, or -1: `captured` is LibTorch's input */
  const int32_t* const* gather; /* per input: 0 = the producer's element i; else element gather[i] */
  const int16_t* const* captured;
  const long* in_numel;       /* per input */
  const long* in_shape;       /* per input, 4 dims (NCHW; fewer dims padded with leading 1s) */
  const int32_t* in_zp;       /* per input */
  long out_shape[4];
  long out_numel;
  int channels_last;          /* 4-D tensors in NHWC memory order: decides vector lanes */
  int32_t y_zp, qmin, qmax;   /* qmin is already max(qmin, z_y) for a fused ReLU */
  int relu;
  const qdiff_layer* gemm;    /* GEMM */
  const uint32_t* x_f32;      /* QUANTIZE: the model's float input (bits) */
  uint32_t inv;               /* QUANTIZE, ADD_F32: f32(1/f32 s_y); DEQUANTIZE: f32 s */
  int32_t a_mult, b_mult, shift, rounding;      /* ADD_FIXED */
  uint32_t a_scale, a_premul, b_scale, b_premul; /* ADD_F32: f32 s and f32(f32 s * -f32 z) */
  uint32_t mult;              /* MUL_F32 */
  long kh, kw, sh, sw, ph, pw, dh, dw; /* MAX_POOL */
  int mean;                   /* AVG_POOL: QDIFF_MEAN_* */
  const int32_t* win_y;       /* AVG_POOL: rows [win_y[2 oy], win_y[2 oy + 1]) */
  const int32_t* win_x;       /* AVG_POOL: cols [win_x[2 ox], win_x[2 ox + 1]) */
  const uint32_t* win_mult;   /* AVG_POOL: per (oy, ox), the multiplier m (bits) */
  const int16_t* lut_vec;     /* LUT: 256 entries, index q - type min; CAT: 256 per input */
  const int16_t* lut_tail;
  const long* vec_along;      /* CAT: per input, elements with coordinate < vec_along[i] along the
                                 cat dim take lut_vec (the NHWC kernel's vector channels) */
  long cat_dim;               /* CAT, of the 4-dim padded shape */
  int type_min;               /* -128 for qint8, 0 for quint8 */
  const int16_t* expected;    /* LibTorch's int_repr() inside the model */
  const uint32_t* expected_f32; /* DEQUANTIZE: LibTorch's float output (bits) */
} qdiff_node;

/* ---- binary32, written once for both forms ---- */
#ifdef QDIFF_NO_FLOAT
#define qdiff_f_mul qdiff_soft_mul
#define qdiff_f_add qdiff_soft_add
#define qdiff_f_from_int qdiff_soft_from_int
#define qdiff_f_cvt qdiff_soft_to_int32_rne
/* fma(s, f32(q), p) rounded once (Vectorized<T>::dequantize's FMA). Exact: with the base exponent
 * the smaller of the two, both terms fit in 62 bits for p = f32(s * -z), |q|, |z| <= 255. */
static inline uint32_t qdiff_f_fma_q(uint32_t s, int32_t q, uint32_t p) {
  const qdiff_soft_unpacked a = qdiff_soft_unpack(s), c = qdiff_soft_unpack(p);
  const int64_t prod = (a.negative != (q < 0) ? -1 : 1) * (int64_t)(a.m * (uint64_t)(q < 0 ? -q : q));
  const int64_t add = (c.negative ? -1 : 1) * (int64_t)c.m;
  const int base = a.e < c.e ? a.e : c.e;
  int64_t sum;
  if (c.m == 0) return qdiff_soft_pack(prod < 0, (uint64_t)(prod < 0 ? -prod : prod), a.e);
  if (a.e - base > 28 || c.e - base > 28) return qdiff_soft_add(qdiff_soft_mul(s, qdiff_soft_from_int(q)), p);
  sum = prod * ((int64_t)1 << (a.e - base)) + add * ((int64_t)1 << (c.e - base));
  if (sum == 0) return 0u;
  return qdiff_soft_pack(sum < 0, (uint64_t)(sum < 0 ? -sum : sum), base);
}
#else
static inline float qdiff_f_val(uint32_t b) { float f; memcpy(&f, &b, sizeof f); return f; }
static inline uint32_t qdiff_f_bits(float f) { uint32_t b; memcpy(&b, &f, sizeof b); return b; }
static inline uint32_t qdiff_f_mul(uint32_t a, uint32_t b) { return qdiff_f_bits(qdiff_f_val(a) * qdiff_f_val(b)); }
static inline uint32_t qdiff_f_add(uint32_t a, uint32_t b) { return qdiff_f_bits(qdiff_f_val(a) + qdiff_f_val(b)); }
static inline uint32_t qdiff_f_from_int(int64_t v) { return qdiff_f_bits((float)v); }
static inline uint32_t qdiff_f_fma_q(uint32_t s, int32_t q, uint32_t p) {
  return qdiff_f_bits(fmaf(qdiff_f_val(s), (float)q, qdiff_f_val(p)));
}
/* cvtps2dq: RNE; outside [-2^31, 2^31) (or NaN) INT32_MIN with *out_of_range = 1. */
static inline int32_t qdiff_f_cvt(uint32_t a, int* out_of_range) {
  const float t = qdiff_f_val(a);
  *out_of_range = !(t >= -2147483648.0f && t < 2147483648.0f);
  return *out_of_range ? INT32_MIN : (int32_t)nearbyintf(t);
}
#endif

static inline int32_t qdiff_clamp_to(int64_t v, int32_t lo, int32_t hi) {
  return (int32_t)(v < lo ? lo : (v > hi ? hi : v));
}

/* max(c, 0) as std::max(c, 0.0f): a negative c (not -0) becomes +0. */
static inline uint32_t qdiff_f_relu(uint32_t c) {
  return (c & 0x80000000u) && (c & 0x7FFFFFFFu) ? 0u : c;
}

/* quantize_val (AffineQuantizerBase.cpp): int64(f32(f32 z + RNE(f32(v * inv)))), clamped. An
 * RNE outside int32 saturates by sign, except t >= 2^63 (bits >= 0x5F000000), which cvttss2si
 * turns into INT64_MIN: qmin. */
static inline int32_t qdiff_quantize_val(uint32_t inv, int32_t z, uint32_t v, int32_t qmin, int32_t qmax) {
  const uint32_t t = qdiff_f_mul(v, inv);
  int oor;
  const int32_t r = qdiff_f_cvt(t, &oor);
  if (!oor) return qdiff_clamp_to((int64_t)r + z, qmin, qmax);
  return !(t & 0x80000000u) && t < 0x5F000000u ? qmax : qmin;
}

/* Vectorized<T>::quantize (QuantizeAvx2): t = min(f32(v * inv), 2^31 - 128); cvtps2dq; the zero
 * point added with int32 wrap-around; clamp. */
static inline int32_t qdiff_quantize_vec(uint32_t inv, int32_t z, uint32_t v, int32_t qmin, int32_t qmax) {
  uint32_t t = qdiff_f_mul(v, inv);
  int oor;
  int32_t r;
  if (!(t & 0x80000000u) && t > 0x4EFFFFFFu) t = 0x4EFFFFFFu; /* 2147483520.0f */
  r = qdiff_f_cvt(t, &oor);
  return qdiff_clamp_to((int32_t)((uint32_t)r + (uint32_t)z), qmin, qmax);
}

/* cpu_kernel_vec with one thread: memory positions [0, n - n mod 64) take the vector lambda. */
static inline int qdiff_vector_lane(const qdiff_node* N, long i) {
  long pos = i;
  if (N->channels_last) {
    const long C = N->out_shape[1], H = N->out_shape[2], W = N->out_shape[3];
    const long w = i % W, h = (i / W) % H, c = (i / (W * H)) % C, n = i / (W * H * C);
    pos = ((n * H + h) * W + w) * C + c;
  }
  return pos < N->out_numel - N->out_numel % 64;
}

/* The requantization of one accumulator: the engine's (export_requant_c.h), or a caller's. */
typedef int32_t (*qdiff_requant_fn)(const qdiff_layer* L, long oc, int64_t acc);
#ifdef QDIFF_NO_FLOAT
#define QDIFF_ENGINE_REQUANT qdiff_requant_integer
#else
#define QDIFF_ENGINE_REQUANT qdiff_requant_float
#endif

static void qdiff_run_gemm(const qdiff_node* N, const int32_t* x, int32_t* y, qdiff_requant_fn requant) {
  const qdiff_layer* L = N->gemm;
  const long icg = L->c / L->groups, ocg = L->oc / L->groups;
  long n, oc, oy, ox, ic, ky, kx;
  for (n = 0; n < L->n; ++n)
    for (oc = 0; oc < L->oc; ++oc)
      for (oy = 0; oy < L->oh; ++oy)
        for (ox = 0; ox < L->ow; ++ox) {
          const long g = oc / ocg;
          int64_t acc = 0; /* sum (x - z_x)(w - z_w), exact; padding taps are z_x: 0 */
          for (ic = 0; ic < icg; ++ic)
            for (ky = 0; ky < L->kh; ++ky)
              for (kx = 0; kx < L->kw; ++kx) {
                const long iy = oy * L->sh - L->ph + ky * L->dh, ix = ox * L->sw - L->pw + kx * L->dw;
                if (iy < 0 || iy >= L->h || ix < 0 || ix >= L->w) continue;
                acc += (int64_t)(x[((n * L->c + g * icg + ic) * L->h + iy) * L->w + ix] - L->x_zp) *
                       (L->weight[((oc * icg + ic) * L->kh + ky) * L->kw + kx] - L->w_zp[oc]);
              }
          y[((n * L->oc + oc) * L->oh + oy) * L->ow + ox] = requant(L, oc, acc);
        }
}

static void qdiff_run_pool(const qdiff_node* N, const int32_t* x, int32_t* y) {
  const long C = N->out_shape[1], OH = N->out_shape[2], OW = N->out_shape[3];
  const long H = N->in_shape[2], W = N->in_shape[3];
  const int32_t z = N->in_zp[0];
  long n, c, oy, ox, i = 0;
  for (n = 0; n < N->out_shape[0]; ++n)
    for (c = 0; c < C; ++c)
      for (oy = 0; oy < OH; ++oy)
        for (ox = 0; ox < OW; ++ox, ++i) {
          const int32_t* plane = x + (n * C + c) * H * W;
          if (N->kind == QDIFF_NODE_MAX_POOL) { /* Pooling.cpp: taps outside the input are skipped */
            int32_t m = N->qmin;
            long ky, kx;
            for (ky = 0; ky < N->kh; ++ky)
              for (kx = 0; kx < N->kw; ++kx) {
                const long iy = oy * N->sh - N->ph + ky * N->dh, ix = ox * N->sw - N->pw + kx * N->dw;
                if (iy >= 0 && iy < H && ix >= 0 && ix < W && plane[iy * W + ix] > m) m = plane[iy * W + ix];
              }
            y[i] = m;
          } else { /* AVG_POOL */
            const uint32_t m = N->win_mult[oy * OW + ox];
            int64_t sum = 0, raw = 0;
            long yy, xx;
            int oor;
            for (yy = N->win_y[2 * oy]; yy < N->win_y[2 * oy + 1]; ++yy)
              for (xx = N->win_x[2 * ox]; xx < N->win_x[2 * ox + 1]; ++xx) {
                sum += plane[yy * W + xx] - z;
                raw += plane[yy * W + xx];
              }
            if (N->mean == QDIFF_MEAN_QNNPACK) { /* q8avgpool: _mm_packs_epi32 saturates to int16 */
              const uint32_t t = qdiff_f_mul(qdiff_f_from_int(sum), m);
              int64_t r = qdiff_f_cvt(t, &oor);
              if (oor) r = (t & 0x80000000u) ? -32768 : 32767;
              y[i] = qdiff_clamp_to(qdiff_clamp_to(r, -32768, 32767) + (int64_t)N->y_zp, 0, 255);
            } else if (N->mean == QDIFF_MEAN_QUANTIZE_VAL) {
              y[i] = qdiff_quantize_val(m, N->y_zp, qdiff_f_from_int(sum), N->qmin, N->qmax);
            } else { /* adaptive_avg_pool_single_out_frame: static_cast<T> of the rounded raw mean */
              const int32_t r = qdiff_f_cvt(qdiff_f_mul(qdiff_f_from_int(raw), m), &oor);
              y[i] = N->type_min < 0 ? (int32_t)(int8_t)(uint8_t)(uint32_t)r : (int32_t)(uint8_t)(uint32_t)r;
            }
          }
        }
}

/* Element o of a cat output: which input (*t) and which element of it. Shapes are 4-dim padded. */
static long qdiff_cat_source(const qdiff_node* N, long o, int* t, long* along) {
  const long d = N->cat_dim;
  long inner = 1, k, a, outer;
  int i;
  for (k = d + 1; k < 4; ++k) inner *= N->out_shape[k];
  a = (o / inner) % N->out_shape[d];
  outer = o / (inner * N->out_shape[d]);
  for (i = 0; i < N->n_inputs; ++i) {
    const long len = N->in_shape[4 * i + d];
    if (a < len) {
      *t = i;
      *along = a;
      return (outer * len + a) * inner + o % inner;
    }
    a -= len;
  }
  *t = 0;
  *along = 0;
  return 0;
}

/* Computes node N's output y (N->out_numel values) from its inputs x[0..n_inputs) in logical
 * order; QUANTIZE reads N->x_f32, DEQUANTIZE writes y_f32 (bits). */
static void qdiff_run_node(const qdiff_node* N, const int32_t* const* x, int32_t* y, uint32_t* y_f32) {
  long i;
  int oor;
  switch (N->kind) {
    case QDIFF_NODE_QUANTIZE: /* quantize_per_tensor: clamp(f64 z + RNE(f32(x * inv))) */
      for (i = 0; i < N->out_numel; ++i) {
        const uint32_t t = qdiff_f_mul(N->x_f32[i], N->inv);
        const int32_t r = qdiff_f_cvt(t, &oor);
        y[i] = oor ? ((t & 0x80000000u) ? N->qmin : N->qmax) : qdiff_clamp_to((int64_t)r + N->y_zp, N->qmin, N->qmax);
      }
      break;
    case QDIFF_NODE_DEQUANTIZE:
      for (i = 0; i < N->out_numel; ++i) y_f32[i] = qdiff_f_mul(N->inv, qdiff_f_from_int(x[0][i] - N->in_zp[0]));
      break;
    case QDIFF_NODE_GEMM:
      qdiff_run_gemm(N, x[0], y, QDIFF_ENGINE_REQUANT);
      break;
    case QDIFF_NODE_COPY:
      for (i = 0; i < N->out_numel; ++i) y[i] = x[0][i];
      break;
    case QDIFF_NODE_LUT:
      for (i = 0; i < N->out_numel; ++i) y[i] = (qdiff_vector_lane(N, i) ? N->lut_vec : N->lut_tail)[x[0][i] - N->type_min];
      break;
    case QDIFF_NODE_ADD_FIXED: /* add.c / q8vadd: acc = A(a - z_a) + B(b - z_b), shift < 32 */
      for (i = 0; i < N->out_numel; ++i) {
        const int64_t acc = (int64_t)N->a_mult * (x[0][i] - N->in_zp[0]) + (int64_t)N->b_mult * (x[1][i] - N->in_zp[1]);
        int64_t r;
        if (N->rounding == QDIFF_ROUND_HALF_UP) {
          r = (acc + ((int64_t)1 << (N->shift - 1))) >> N->shift;
        } else {
          const int64_t mask = ((int64_t)1 << N->shift) - 1;
          const int64_t rem = (acc & mask) - (acc < 0), threshold = mask >> 1;
          r = (acc >> N->shift) + (rem > threshold);
        }
        y[i] = qdiff_clamp_to(r + N->y_zp, N->qmin, N->qmax);
      }
      break;
    case QDIFF_NODE_ADD_F32: /* qadd_kernel: vector lanes dequantize with FMA, the tail without */
      for (i = 0; i < N->out_numel; ++i) {
        const int32_t a = x[0][i], b = x[1][i];
        uint32_t c;
        if (qdiff_vector_lane(N, i)) {
          c = qdiff_f_add(qdiff_f_fma_q(N->a_scale, a, N->a_premul), qdiff_f_fma_q(N->b_scale, b, N->b_premul));
          if (N->relu) c = qdiff_f_relu(c);
          y[i] = qdiff_quantize_vec(N->inv, N->y_zp, c, N->qmin, N->qmax);
        } else {
          c = qdiff_f_add(qdiff_f_mul(N->a_scale, qdiff_f_from_int(a - N->in_zp[0])),
                          qdiff_f_mul(N->b_scale, qdiff_f_from_int(b - N->in_zp[1])));
          if (N->relu) c = qdiff_f_relu(c);
          y[i] = qdiff_quantize_val(N->inv, N->y_zp, c, N->qmin, N->qmax);
        }
      }
      break;
    case QDIFF_NODE_MUL_F32:
      for (i = 0; i < N->out_numel; ++i) {
        const int32_t c = (x[0][i] - N->in_zp[0]) * (x[1][i] - N->in_zp[1]);
        const int32_t r = qdiff_f_cvt(qdiff_f_mul(qdiff_f_from_int(c), N->mult), &oor);
        y[i] = qdiff_clamp_to((int64_t)r + N->y_zp, N->qmin, N->qmax);
      }
      break;
    case QDIFF_NODE_MAX_POOL:
    case QDIFF_NODE_AVG_POOL:
      qdiff_run_pool(N, x[0], y);
      break;
    case QDIFF_NODE_CAT:
      for (i = 0; i < N->out_numel; ++i) {
        int t;
        long along;
        const long at = qdiff_cat_source(N, i, &t, &along);
        y[i] = (along < N->vec_along[t] ? N->lut_vec : N->lut_tail)[256 * t + x[t][at] - N->type_min];
      }
      break;
    default: /* QDIFF_NODE_LIBTORCH */
      for (i = 0; i < N->out_numel; ++i) y[i] = N->expected[i];
      break;
  }
}
