// Bulk draws (properties/draw.h): the vectorised fills give exactly the values of one call of
// SplitMix64 per output, in order, so that a case drawn from a seed is the same on every machine
// and as before the fills existed.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "properties/draw.h"

namespace qdiff {
namespace {

// SplitMix64 as published (Steele, Lea, Flood 2014; Vigna's splitmix64.c), one output per call.
uint64_t ReferenceNext(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

TEST(SplitMix64, KnownOutputsOfSeedZero) {
  // The first outputs of splitmix64.c seeded with 0 (as listed with the reference code).
  SplitMix64 rng{0};
  EXPECT_EQ(rng(), 0xE220A8397B1DCDAFull);
  EXPECT_EQ(rng(), 0x6E789E6AA1B965F4ull);
  EXPECT_EQ(rng(), 0x06C45D188009454Full);
}

RC_GTEST_PROP(SplitMix64, FillEqualsOneCallPerOutput, (uint64_t seed)) {
  const int64_t n = *rc::gen::inRange<int64_t>(0, 3000);
  SplitMix64 filled{seed};
  std::vector<uint64_t> out(static_cast<size_t>(n) + 1, 0xABCDu);
  filled.Fill(out.data(), n);
  uint64_t state = seed;
  for (int64_t k = 0; k < n; ++k) RC_ASSERT(out[k] == ReferenceNext(&state));
  RC_ASSERT(out[n] == 0xABCDu);  // nothing written past n
  RC_ASSERT(filled.state == state);  // and the next output follows on
  RC_ASSERT(filled() == ReferenceNext(&state));
}

RC_GTEST_PROP(SplitMix64, SymmetricUniformEqualsTheLoopOfCalls, (uint64_t seed)) {
  const int64_t n = *rc::gen::inRange<int64_t>(0, 2000);
  const double bound = std::ldexp(1.0 + *rc::gen::inRange(0, 1000) / 1000.0, *rc::gen::inRange(-12, 2));
  SplitMix64 rng{seed};
  std::vector<float> out(static_cast<size_t>(n));
  FillSymmetricUniform(rng, bound, out.data(), n);
  uint64_t state = seed;
  for (int64_t k = 0; k < n; ++k) {
    const float expected = static_cast<float>(((ReferenceNext(&state) >> 11) * 0x1.0p-53 * 2 - 1) * bound);
    RC_ASSERT(out[k] == expected);
  }
}

// DrawValues' expansion of a seed, every kind, against the one-call-per-value loop it replaced:
// [lo, hi] as lo + ((x >> 32)·(hi − lo + 1)) >> 32 of one output.
RC_GTEST_PROP(DrawValues, ExpansionEqualsTheLoopOfCalls, (uint64_t seed)) {
  const std::string kind = *rc::gen::element<std::string>("uniform", "extremes", "near_zero_point",
                                                          "same_sign_extremes");
  const QuantRange r = *rc::gen::element(QuantRange{0, 255}, QuantRange{-128, 127}, QuantRange{0, 15});
  const int32_t zp = *rc::gen::inRange(r.qmin, r.qmax + 1);
  const int64_t n = *rc::gen::inRange<int64_t>(0, 3000);
  const std::vector<int32_t> v = ExpandValues(seed, n, kind, r, zp);
  RC_ASSERT(static_cast<int64_t>(v.size()) == n);
  uint64_t state = seed;
  const auto in_range = [&state](int32_t lo, int32_t hi) {
    return lo + static_cast<int32_t>(((ReferenceNext(&state) >> 32) * static_cast<uint64_t>(hi - lo + 1)) >> 32);
  };
  for (int64_t k = 0; k < n; ++k) {
    int32_t expected;
    if (kind == "same_sign_extremes") {
      expected = in_range(0, 99) < 85 ? r.qmax : in_range(r.qmin, r.qmax);
    } else if (kind == "extremes") {
      expected = (ReferenceNext(&state) >> 63) ? r.qmin : r.qmax;
    } else if (kind == "near_zero_point") {
      expected = std::clamp(zp + in_range(-3, 3), r.qmin, r.qmax);
    } else {
      expected = in_range(r.qmin, r.qmax);
    }
    RC_ASSERT(v[k] == expected);
  }
}

}  // namespace
}  // namespace qdiff
