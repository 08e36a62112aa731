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

inline std::vector<int32_t> DrawValues(int64_t n, const std::string& kind, QuantRange r, int32_t zp) {
  std::vector<int32_t> v(static_cast<size_t>(n));
  if (kind == "same_sign_extremes") {  // mostly the type's maximum: products add up, no cancelling
    for (int32_t& x : v) x = Chance(85) ? r.qmax : Draw(r.qmin, r.qmax);
    return v;
  }
  if (kind == "constant") {
    std::fill(v.begin(), v.end(), Draw(r.qmin, r.qmax));
    return v;
  }
  for (int32_t& x : v) {
    if (kind == "extremes") {
      x = Chance(50) ? r.qmin : r.qmax;
    } else if (kind == "near_zero_point") {
      x = std::clamp(zp + Draw(-3, 3), r.qmin, r.qmax);
    } else {
      x = Draw(r.qmin, r.qmax);
    }
  }
  return v;
}

}  // namespace qdiff
