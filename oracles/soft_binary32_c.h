/* IEEE-754 binary32 arithmetic with integer operations only (oracles/soft_binary32.h says what
 * and why). Written in the common subset of C99 and C++17 so that one implementation serves the
 * oracle (oracles/soft_binary32.cc wraps it) and the C header `qdiff export` writes, which embeds
 * this file verbatim. No includes: the includer provides <stdint.h> / <cstdint>. Values are
 * binary32 bit patterns; finite inputs; RNE everywhere, as SSE under the default MXCSR. */
#ifndef QDIFF_SOFT_BINARY32_C_H
#define QDIFF_SOFT_BINARY32_C_H

#define QDIFF_SOFT_SIGN 0x80000000u
#define QDIFF_SOFT_HIDDEN 0x00800000u   /* 2^23 */
#define QDIFF_SOFT_FRACTION 0x007FFFFFu
#define QDIFF_SOFT_INF 0x7F800000u
#define QDIFF_SOFT_MIN_EXP (-149)       /* value = m * 2^e, smallest e (subnormals) */

/* An unpacked finite binary32: (negative ? -1 : 1) * m * 2^e, m < 2^24. */
typedef struct {
  int negative;
  uint64_t m;
  int e;
} qdiff_soft_unpacked;

static inline qdiff_soft_unpacked qdiff_soft_unpack(uint32_t a) {
  qdiff_soft_unpacked u;
  const uint32_t biased = (a >> 23) & 0xFFu, fraction = a & QDIFF_SOFT_FRACTION;
  u.negative = (a & QDIFF_SOFT_SIGN) != 0;
  if (biased == 0) { /* zero or subnormal */
    u.m = fraction;
    u.e = QDIFF_SOFT_MIN_EXP;
  } else {
    u.m = (uint64_t)(fraction | QDIFF_SOFT_HIDDEN);
    u.e = (int)biased - 150;
  }
  return u;
}

static inline int qdiff_soft_bit_length(uint64_t x) {
  int n = 0;
  while (x) {
    ++n;
    x >>= 1;
  }
  return n;
}

/* Rounds (negative ? -1 : 1) * m * 2^e to binary32, ties to even. */
static inline uint32_t qdiff_soft_pack(int negative, uint64_t m, int e) {
  const uint32_t sign = negative ? QDIFF_SOFT_SIGN : 0u;
  int shift, biased;
  if (m == 0) return sign;
  /* Normalize to 24 significant bits, or fewer when the exponent would go below the minimum. */
  shift = qdiff_soft_bit_length(m) - 24;
  if (e + shift < QDIFF_SOFT_MIN_EXP) shift = QDIFF_SOFT_MIN_EXP - e;
  if (shift <= 0) {
    m <<= -shift; /* exact */
  } else if (shift >= 64) {
    m = 0; /* at most half an ulp; a tie only at m = 2^63, which rounds to even: 0 */
  } else {
    const uint64_t dropped = m & (((uint64_t)1 << shift) - 1), half = (uint64_t)1 << (shift - 1);
    m >>= shift;
    if (dropped > half || (dropped == half && (m & 1))) ++m; /* RNE */
    if (m == ((uint64_t)1 << 24)) {                        /* carried into a new bit */
      m >>= 1;
      ++shift;
    }
  }
  e += shift;
  if (m < QDIFF_SOFT_HIDDEN) return sign | (uint32_t)m; /* subnormal (e == minimum) */
  biased = e + 150;
  if (biased >= 255) return sign | QDIFF_SOFT_INF;
  return sign | ((uint32_t)biased << 23) | ((uint32_t)m & QDIFF_SOFT_FRACTION);
}

/* cvtsi2ss: RNE to 24 significant bits. */
static inline uint32_t qdiff_soft_from_int(int64_t v) {
  const int negative = v < 0;
  return qdiff_soft_pack(negative, negative ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, 0);
}

/* RNE(a * b): the 48-bit product of the significands is exact. */
static inline uint32_t qdiff_soft_mul(uint32_t a, uint32_t b) {
  const qdiff_soft_unpacked x = qdiff_soft_unpack(a), y = qdiff_soft_unpack(b);
  return qdiff_soft_pack(x.negative != y.negative, x.m * y.m, x.e + y.e);
}

/* RNE(a + b). */
static inline uint32_t qdiff_soft_add(uint32_t a, uint32_t b) {
  qdiff_soft_unpacked x = qdiff_soft_unpack(a), y = qdiff_soft_unpack(b);
  int64_t big, sum;
  int diff;
  if (x.m == 0 && y.m == 0) return (x.negative && y.negative) ? QDIFF_SOFT_SIGN : 0u; /* -0 + -0 */
  if (x.m == 0) return b;
  if (y.m == 0) return a;
  if (x.e < y.e) {
    const qdiff_soft_unpacked t = x;
    x = y;
    y = t;
  }
  diff = x.e - y.e;
  /* Beyond 38 bits of alignment y is below 2^-37 of x (x is then normal): it cannot move RNE. */
  if (diff > 38) return qdiff_soft_pack(x.negative, x.m, x.e);
  big = (int64_t)(x.m << diff); /* < 2^62 */
  sum = (x.negative ? -big : big) + (y.negative ? -(int64_t)y.m : (int64_t)y.m);
  if (sum == 0) return 0u; /* x + (-x) = +0 under round to nearest */
  return qdiff_soft_pack(sum < 0, sum < 0 ? (uint64_t)(-sum) : (uint64_t)sum, y.e);
}

/* RNE(a / b), b != 0: the quotient of the significands (normalized to 24 bits) with 39 extra
 * bits, >= 2^38, and a sticky bit for a nonzero remainder, so that pack rounds it once. */
static inline uint32_t qdiff_soft_div(uint32_t a, uint32_t b) {
  qdiff_soft_unpacked x = qdiff_soft_unpack(a), y = qdiff_soft_unpack(b);
  uint64_t q;
  if (x.m == 0) return (x.negative != y.negative) ? QDIFF_SOFT_SIGN : 0u;
  while (x.m < QDIFF_SOFT_HIDDEN) { /* subnormals */
    x.m <<= 1;
    --x.e;
  }
  while (y.m < QDIFF_SOFT_HIDDEN) {
    y.m <<= 1;
    --y.e;
  }
  q = (x.m << 39) / y.m;
  if (q * y.m != x.m << 39) q |= 1;
  return qdiff_soft_pack(x.negative != y.negative, q, x.e - y.e - 39);
}

/* cvtps2dq: RNE(a) as an integer; *out_of_range = 1 and INT32_MIN (the integer indefinite) when
 * RNE(a) is outside [-2^31, 2^31) or a is inf/NaN. */
static inline int32_t qdiff_soft_to_int32_rne(uint32_t a, int* out_of_range) {
  const qdiff_soft_unpacked x = qdiff_soft_unpack(a);
  uint64_t magnitude;
  int64_t v;
  *out_of_range = 0;
  if (((a >> 23) & 0xFFu) == 0xFFu) {
    *out_of_range = 1;
    return INT32_MIN;
  }
  if (x.e >= 0) {
    if (x.e > 8) { /* m * 2^e >= 2^32 whenever m >= 2^23 here (x normal) */
      *out_of_range = 1;
      return INT32_MIN;
    }
    magnitude = x.m << x.e;
  } else if (-x.e > 40) {
    magnitude = 0; /* m < 2^24: the value is below 2^-16 */
  } else {
    const int shift = -x.e;
    const uint64_t dropped = x.m & (((uint64_t)1 << shift) - 1), half = (uint64_t)1 << (shift - 1);
    magnitude = x.m >> shift;
    if (dropped > half || (dropped == half && (magnitude & 1))) ++magnitude;
  }
  v = x.negative ? -(int64_t)magnitude : (int64_t)magnitude;
  if (v < INT32_MIN || v > INT32_MAX) {
    *out_of_range = 1;
    return INT32_MIN;
  }
  return (int32_t)v;
}

/* -1, 0, +1 as a <, =, > k, exactly (k an integer with |k| < 2^24). */
static inline int qdiff_soft_compare_int(uint32_t a, int32_t k) {
  const qdiff_soft_unpacked x = qdiff_soft_unpack(a);
  const int64_t kk = k;
  const int k_negative = kk < 0;
  const uint64_t k_mag = (uint64_t)(k_negative ? -kk : kk);
  int cmp;
  if (x.m == 0) return kk > 0 ? -1 : (kk < 0 ? 1 : 0);
  if (k_mag == 0 || x.negative != k_negative) return x.negative ? -1 : 1;
  if (x.e >= 0) {
    cmp = x.e > 40 ? 1 : ((x.m << x.e) > k_mag ? 1 : ((x.m << x.e) < k_mag ? -1 : 0));
  } else if (-x.e > 40) {
    cmp = -1; /* m * 2^e < 2^-16 < k_mag */
  } else {
    const uint64_t scaled_k = k_mag << -x.e; /* k_mag < 2^24, shift <= 40: < 2^64 */
    cmp = x.m > scaled_k ? 1 : (x.m < scaled_k ? -1 : 0);
  }
  return x.negative ? -cmp : cmp;
}

/* The float saturation min(max(a, lo), hi) with integer bounds (|lo|, |hi| < 2^24). */
static inline uint32_t qdiff_soft_clamp(uint32_t a, int32_t lo, int32_t hi) {
  if (qdiff_soft_compare_int(a, lo) < 0) return qdiff_soft_from_int(lo);
  if (qdiff_soft_compare_int(a, hi) > 0) return qdiff_soft_from_int(hi);
  return a;
}

#endif
