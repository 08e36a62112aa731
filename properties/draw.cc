#include "properties/draw.h"

#include "oracles/multiversion.h"

namespace qdiff {

thread_local DirectDraws* DirectDraws::current = nullptr;

namespace {

QDIFF_MULTIVERSION
void SplitMix64Outputs(uint64_t state, uint64_t* out, int64_t n) {
  for (int64_t k = 0; k < n; ++k) out[k] = SplitMix64::Mix(state + static_cast<uint64_t>(k + 1) * SplitMix64::kGamma);
}

constexpr int64_t kBlock = 512;  // outputs drawn at a time (4 KiB on the stack)

// [lo, hi] from the top 32 bits of x (multiply-shift; bias below 2^-24 for these ranges), as a
// 32×32 → 64-bit product, which vectorises.
QDIFF_INLINE inline int32_t InRange(uint64_t x, int32_t lo, int32_t hi) {
  const uint64_t top = static_cast<uint32_t>(x >> 32), span = static_cast<uint32_t>(hi - lo + 1);
  return lo + static_cast<int32_t>((top * span) >> 32);
}

enum class ValueKind { kUniform, kExtremes, kNearZeroPoint };

// out[i] for the SplitMix64 outputs x[i], i < n: one value per output.
QDIFF_MULTIVERSION
void ValuesFromOutputs(ValueKind kind, const uint64_t* x, int64_t n, QuantRange r, int32_t zp, int32_t* out) {
  if (kind == ValueKind::kExtremes) {
    // qmin when the top bit is set, else qmax (arithmetic: a branch here is mispredicted half the time)
    for (int64_t i = 0; i < n; ++i) out[i] = r.qmax - static_cast<int32_t>(x[i] >> 63) * (r.qmax - r.qmin);
  } else if (kind == ValueKind::kNearZeroPoint) {
    for (int64_t i = 0; i < n; ++i) out[i] = std::clamp(zp + InRange(x[i], -3, 3), r.qmin, r.qmax);
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = InRange(x[i], r.qmin, r.qmax);
  }
}

}  // namespace

void SplitMix64::Fill(uint64_t* out, int64_t n) {
  SplitMix64Outputs(state, out, n);
  state += static_cast<uint64_t>(n) * kGamma;
}

void FillSymmetricUniform(SplitMix64& rng, double bound, float* out, int64_t n) {
  uint64_t x[kBlock];
  for (int64_t begin = 0; begin < n; begin += kBlock) {
    const int64_t count = std::min(kBlock, n - begin);
    rng.Fill(x, count);
    for (int64_t i = 0; i < count; ++i) {
      out[begin + i] = static_cast<float>(((x[i] >> 11) * 0x1.0p-53 * 2 - 1) * bound);
    }
  }
}

std::vector<int32_t> DrawValues(int64_t n, const std::string& kind, QuantRange r, int32_t zp) {
  if (kind == "constant") return std::vector<int32_t>(static_cast<size_t>(n), Draw(r.qmin, r.qmax));
  return ExpandValues(DrawFrom(rc::gen::inRange<uint64_t>(0, UINT64_MAX)), n, kind, r, zp);
}

std::vector<int32_t> ExpandValues(uint64_t seed, int64_t n, const std::string& kind, QuantRange r, int32_t zp) {
  std::vector<int32_t> v(static_cast<size_t>(n));
  SplitMix64 rng{seed};
  uint64_t x[kBlock];
  if (kind == "same_sign_extremes") {
    // One output per value, and a second for the one in seven that is not qmax: a value is
    // InRange(x0, 0, 99) < 85 ? qmax : InRange(x1, qmin, qmax), from outputs drawn a block ahead
    // (the generator is this tensor's alone: what is drawn beyond the last value is never used).
    int64_t have = 0, at = 0;  // x[at, have): drawn, not used yet
    for (int32_t& value : v) {
      if (have - at < 2) {  // keep two ahead: the rest to the front, then draw the block full
        const int64_t rest = have - at;
        for (int64_t i = 0; i < rest; ++i) x[i] = x[at + i];
        rng.Fill(x + rest, kBlock - rest);
        have = kBlock;
        at = 0;
      }
      const bool second = InRange(x[at], 0, 99) >= 85;
      value = second ? InRange(x[at + 1], r.qmin, r.qmax) : r.qmax;
      at += second ? 2 : 1;
    }
    return v;
  }
  const ValueKind value_kind = kind == "extremes"          ? ValueKind::kExtremes
                              : kind == "near_zero_point" ? ValueKind::kNearZeroPoint
                                                          : ValueKind::kUniform;
  for (int64_t begin = 0; begin < n; begin += kBlock) {  // one output per value
    const int64_t count = std::min(kBlock, n - begin);
    rng.Fill(x, count);
    ValuesFromOutputs(value_kind, x, count, r, zp, v.data() + begin);
  }
  return v;
}

}  // namespace qdiff
