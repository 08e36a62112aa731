// Integer-only: this file is compiled with -mgeneral-regs-only, so any float or double that slips
// in fails the build.
#include "oracles/soft_binary32.h"

namespace qdiff {

namespace {

constexpr uint32_t kSignBit = 0x80000000u;
constexpr uint32_t kHiddenBit = 0x00800000u;   // 2^23
constexpr uint32_t kFractionMask = 0x007FFFFFu;
constexpr uint32_t kInfinity = 0x7F800000u;
constexpr int kMinExponent = -149;             // value = m · 2^e, smallest e (subnormals)

// An unpacked finite binary32: value = (negative ? −1 : 1) · m · 2^e, m < 2^24.
struct Unpacked {
  bool negative;
  uint64_t m;
  int e;
};

Unpacked Unpack(Binary32 a) {
  const uint32_t biased = (a >> 23) & 0xFFu;
  const uint32_t fraction = a & kFractionMask;
  if (biased == 0) return {(a & kSignBit) != 0, fraction, kMinExponent};  // zero or subnormal
  return {(a & kSignBit) != 0, uint64_t{fraction | kHiddenBit}, static_cast<int>(biased) - 150};
}

int BitLength(uint64_t x) {
  int n = 0;
  while (x) {
    ++n;
    x >>= 1;
  }
  return n;
}

// Rounds (negative ? −1 : 1) · (m + sticky·ε) · 2^e to binary32, ties to even. `sticky` says that
// nonzero bits below m were already dropped (they break ties upward in magnitude).
Binary32 Pack(bool negative, uint64_t m, int e, bool sticky) {
  const uint32_t sign = negative ? kSignBit : 0u;
  if (m == 0) return sign;  // exact zero (sticky bits alone cannot occur for our callers)
  // Normalize to 24 significant bits, or fewer when the exponent would go below kMinExponent.
  int shift = BitLength(m) - 24;  // > 0: drop bits; < 0: make room
  if (e + shift < kMinExponent) shift = kMinExponent - e;
  if (shift <= 0) {
    m <<= -shift;  // exact
  } else if (shift >= 64) {
    m = 0;  // m ≤ 2^63 ≤ half an ulp (a tie only at m = 2^63, which rounds to even: 0)
  } else {
    const uint64_t dropped = m & ((uint64_t{1} << shift) - 1);
    const uint64_t half = uint64_t{1} << (shift - 1);
    m >>= shift;
    const bool above_half = dropped > half || (dropped == half && sticky);
    const bool tie = dropped == half && !sticky;
    if (above_half || (tie && (m & 1))) ++m;  // RNE
    if (m == (uint64_t{1} << 24)) {           // carried into a new bit
      m >>= 1;
      ++shift;
    }
  }
  e += shift;
  if (m < kHiddenBit) return sign | static_cast<uint32_t>(m);  // subnormal (e == kMinExponent)
  const int biased = e + 150;
  if (biased >= 255) return sign | kInfinity;
  return sign | (static_cast<uint32_t>(biased) << 23) | (static_cast<uint32_t>(m) & kFractionMask);
}

}  // namespace

Binary32 SoftFromInt(int64_t v) {
  const bool negative = v < 0;
  const uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  return Pack(negative, magnitude, 0, false);
}

Binary32 SoftMul(Binary32 a, Binary32 b) {
  const Unpacked x = Unpack(a), y = Unpack(b);
  return Pack(x.negative != y.negative, x.m * y.m, x.e + y.e, false);  // x.m·y.m < 2^48: exact
}

Binary32 SoftAdd(Binary32 a, Binary32 b) {
  Unpacked x = Unpack(a), y = Unpack(b);
  if (x.m == 0 && y.m == 0) return (x.negative && y.negative) ? kSignBit : 0u;  // −0 + −0 = −0
  if (x.m == 0) return b;
  if (y.m == 0) return a;
  if (x.e < y.e) {
    const Unpacked t = x;
    x = y;
    y = t;
  }
  const int diff = x.e - y.e;
  // Beyond 38 bits of alignment y is below 2^-37 of x (x is then normal): it cannot move RNE.
  if (diff > 38) return Pack(x.negative, x.m, x.e, false);
  const int64_t big = static_cast<int64_t>(x.m << diff);  // < 2^62
  const int64_t sum = (x.negative ? -big : big) + (y.negative ? -static_cast<int64_t>(y.m)
                                                                : static_cast<int64_t>(y.m));
  if (sum == 0) return 0u;  // x + (−x) = +0 under round to nearest
  return Pack(sum < 0, sum < 0 ? static_cast<uint64_t>(-sum) : static_cast<uint64_t>(sum), y.e,
              false);
}

int32_t SoftToInt32Rne(Binary32 a, bool* out_of_range) {
  const Unpacked x = Unpack(a);
  *out_of_range = false;
  if (((a >> 23) & 0xFFu) == 0xFFu) {  // inf or NaN
    *out_of_range = true;
    return INT32_MIN;
  }
  uint64_t magnitude;
  if (x.e >= 0) {
    if (x.e > 8) {  // m·2^e ≥ 2^32 whenever m ≥ 2^23 here (x normal)
      *out_of_range = true;
      return INT32_MIN;
    }
    magnitude = x.m << x.e;
  } else {
    const int shift = -x.e;
    if (shift > 40) {
      magnitude = 0;  // m < 2^24: the value is below 2^-16
    } else {
      const uint64_t dropped = x.m & ((uint64_t{1} << shift) - 1);
      const uint64_t half = uint64_t{1} << (shift - 1);
      magnitude = x.m >> shift;
      if (dropped > half || (dropped == half && (magnitude & 1))) ++magnitude;
    }
  }
  const int64_t v = x.negative ? -static_cast<int64_t>(magnitude) : static_cast<int64_t>(magnitude);
  if (v < INT32_MIN || v > INT32_MAX) {
    *out_of_range = true;
    return INT32_MIN;
  }
  return static_cast<int32_t>(v);
}

Binary32 SoftClamp(Binary32 a, int32_t lo, int32_t hi) {
  // Compare via the exact integer/fraction split: a < lo  ⇔  RNE-free floor comparison.
  const Unpacked x = Unpack(a);
  // Exact comparison of m·2^e against an integer k (|k| < 2^24): scale k instead of x.
  auto compare = [&](int32_t k) {  // −1, 0, +1 as x <, =, > k
    const int64_t kk = k;
    const bool k_negative = kk < 0;
    const uint64_t k_mag = static_cast<uint64_t>(k_negative ? -kk : kk);
    if (x.m == 0) return kk > 0 ? -1 : (kk < 0 ? 1 : 0);
    if (x.negative != k_negative && !(k_mag == 0)) return x.negative ? -1 : 1;
    if (k_mag == 0) return x.negative ? -1 : 1;
    // Same sign: compare magnitudes m·2^e vs k_mag.
    int cmp;
    if (x.e >= 0) {
      cmp = x.e > 40 ? 1 : ((x.m << x.e) > k_mag ? 1 : ((x.m << x.e) < k_mag ? -1 : 0));
    } else if (-x.e > 40) {
      cmp = -1;  // m·2^e < 2^-16 < k_mag
    } else {
      const uint64_t scaled_k = k_mag << -x.e;  // k_mag < 2^24, shift ≤ 40: < 2^64
      cmp = x.m > scaled_k ? 1 : (x.m < scaled_k ? -1 : 0);
    }
    return x.negative ? -cmp : cmp;
  };
  if (compare(lo) < 0) return SoftFromInt(lo);
  if (compare(hi) > 0) return SoftFromInt(hi);
  return a;
}

}  // namespace qdiff
