// Drawing helpers of the generators (inside rc::gen::exec only: every draw is a RapidCheck
// draw, so cases replay from a seed and shrink).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include <rapidcheck.h>

#include "oracles/model.h"

namespace qdiff {

inline int Draw(int lo, int hi) { return *rc::gen::inRange(lo, hi + 1); }  // inclusive

// Bulk data that is not shrunk value by value (tensor values, float calibration data) comes from
// SplitMix64 seeded by one RapidCheck draw: cheap, and the same on every platform.
struct SplitMix64 {
  using result_type = uint64_t;
  uint64_t state;
  static constexpr uint64_t min() { return 0; }
  static constexpr uint64_t max() { return UINT64_MAX; }
  uint64_t operator()() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
};
inline bool Chance(int percent) { return Draw(0, 99) < percent; }

template <typename T>
T Pick(std::initializer_list<std::pair<std::size_t, T>> weighted) {
  return *rc::gen::weightedElement(weighted);
}

// The zero point that puts the real `lo` (≤ 0) at the bottom of range r for scale s:
// clamp(qmin − RNE(f32(lo / s)), qmin, qmax). The observers' formula (MinMaxQParams), except that
// the quotient is taken in double and then rounded to float.
inline int32_t ZeroPointForMin(double lo, double s, QuantRange r) {
  return std::clamp(r.qmin - static_cast<int32_t>(std::nearbyint(static_cast<float>(lo / s))),
                    r.qmin, r.qmax);
}

inline double PowerOfTwo(int lo_exp, int hi_exp) { return std::ldexp(1.0, Draw(lo_exp, hi_exp)); }

// A scale as MinMaxObserver would derive it from a real range of width `span` over `levels`
// steps, computed in float32 like observer.py, or log-uniform, or a power of two.
inline double DrawScale(const std::string& kind, int lo_exp, int hi_exp) {
  if (kind == "power_of_two") return PowerOfTwo(lo_exp, hi_exp);
  const double mantissa = 1.0 + Draw(0, 1 << 20) / double(1 << 20);
  const double s = std::ldexp(mantissa, Draw(lo_exp, hi_exp));
  // observer: scale = f32(span / 255) for a span drawn in float32
  return kind == "observer" ? static_cast<float>(static_cast<float>(s * 255.0f) / 255.0f)
                            : static_cast<double>(static_cast<float>(s));
}

// n tensor values of a kind: "uniform" over r, "extremes" (qmin or qmax), "near_zero_point"
// (zp ± 3), "same_sign_extremes" (mostly qmax, so that products add up without cancelling) or
// "constant". One RapidCheck draw per tensor (a seed, plus the constant), expanded by SplitMix64:
// a case replays from its seed as before, and drawing stays cheap for tensors of 10^5 values.
inline std::vector<int32_t> DrawValues(int64_t n, const std::string& kind, QuantRange r, int32_t zp) {
  std::vector<int32_t> v(static_cast<size_t>(n));
  if (kind == "constant") {
    std::fill(v.begin(), v.end(), Draw(r.qmin, r.qmax));
    return v;
  }
  SplitMix64 next{*rc::gen::inRange<uint64_t>(0, UINT64_MAX)};
  // [lo, hi] from the top 32 bits (multiply-shift; bias below 2^-24 for these ranges)
  const auto in_range = [&next](int32_t lo, int32_t hi) {
    return lo + static_cast<int32_t>(((next() >> 32) * static_cast<uint64_t>(hi - lo + 1)) >> 32);
  };
  if (kind == "same_sign_extremes") {
    for (int32_t& x : v) x = in_range(0, 99) < 85 ? r.qmax : in_range(r.qmin, r.qmax);
  } else if (kind == "extremes") {
    for (int32_t& x : v) x = (next() >> 63) ? r.qmin : r.qmax;
  } else if (kind == "near_zero_point") {
    for (int32_t& x : v) x = std::clamp(zp + in_range(-3, 3), r.qmin, r.qmax);
  } else {
    for (int32_t& x : v) x = in_range(r.qmin, r.qmax);
  }
  return v;
}

}  // namespace qdiff
