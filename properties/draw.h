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

// The Random and size GenerateModel draws from (it runs the generators outside rc::gen::exec;
// case_generator.cc), current while it draws; none inside exec (property tests, shrinking).
struct DirectDraws {
  rc::Random random;
  int size = 0;
  rc::Random Next() { return random.split(); }  // what exec's handler gives each draw
  static thread_local DirectDraws* current;
};

// `*gen`: one RapidCheck draw. While GenerateModel draws, generated here from the next split of
// its Random at its size, as exec's handler would generate it, but without the handler's
// type-erased copy of the generator and value (several heap allocations per draw).
template <typename T>
T DrawFrom(const rc::Gen<T>& gen) {
  if (DirectDraws* direct = DirectDraws::current) return gen(direct->Next(), direct->size).value();
  return *gen;
}

inline int Draw(int lo, int hi) { return DrawFrom(rc::gen::inRange(lo, hi + 1)); }  // inclusive

// Bulk data that is not shrunk value by value (tensor values, float calibration data) comes from
// SplitMix64 seeded by one RapidCheck draw: cheap, and the same on every platform.
struct SplitMix64 {
  using result_type = uint64_t;
  uint64_t state;
  static constexpr uint64_t kGamma = 0x9E3779B97F4A7C15ull;
  static constexpr uint64_t min() { return 0; }
  static constexpr uint64_t max() { return UINT64_MAX; }
  static uint64_t Mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t operator()() { return Mix(state += kGamma); }
  // The next n outputs, exactly as n calls would give them (output k is Mix(state + k·γ)), in a
  // loop built per ISA and vectorised.
  void Fill(uint64_t* out, int64_t n);
};

// Floats f32((2u − 1)·bound) for uniform u = (x >> 11)·2^-53 in [0, 1), one output x each, in
// order: the same floats as a loop of calls.
void FillSymmetricUniform(SplitMix64& rng, double bound, float* out, int64_t n);

inline bool Chance(int percent) { return Draw(0, 99) < percent; }

template <typename T>
T Pick(std::initializer_list<std::pair<std::size_t, T>> weighted) {
  return DrawFrom(rc::gen::weightedElement(weighted));
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
std::vector<int32_t> DrawValues(int64_t n, const std::string& kind, QuantRange r, int32_t zp);
// The values of a kind other than "constant" that DrawValues gives for the SplitMix64 seed `seed`.
std::vector<int32_t> ExpandValues(uint64_t seed, int64_t n, const std::string& kind, QuantRange r, int32_t zp);

}  // namespace qdiff
