// Tests of the six requantization schemes (oracles/schemes/*.cc, evaluated by EvaluateRecipe in
// oracles/recipe.cc) and of QuantizeMultiplier (oracles/quantize_multiplier.cc).
//
// Where the expected values come from (never from the code under test or a copy of its formula):
//   - the families below use scales that are powers of two, so the real multiplier is M = 2^-k
//     (or 2^8, or 2) exactly in every representation (double, Q31, every binary32 formula), and
//     the accumulators are chosen so that acc·M is an integer, an exact tie j + 1/2, or one step
//     away from a tie. The expected output then follows from the tie rule alone, which is written
//     down per scheme (TieExpectation) and derived by hand in the comments of the TESTs;
//   - HandDerivedValues lists single elements with the arithmetic written beside each row;
//   - the random property checks relations between schemes that hold for a stated reason.
//
// Style: XNNPACK-like fluent tester, the scheme under test passed in.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "oracles/quantize_multiplier.h"
#include "oracles/recipe.h"
#include "oracles/scheme.h"

namespace qdiff {
namespace {

// ---------------------------------------------------------------------------------------------
// Family counts: every family adds the number of elements it checked; printed once per family
// at the end of the run so a reader sees that no family passed with zero cases.

std::map<std::string, int64_t>& FamilyCounts() {
  static std::map<std::string, int64_t> counts;
  return counts;
}

void CountFamily(const std::string& family, int64_t n) { FamilyCounts()[family] += n; }

class FamilyCountPrinter : public ::testing::Environment {
 public:
  void TearDown() override {
    for (const auto& [family, n] : FamilyCounts()) {
      std::cout << "[ family   ] " << family << ": " << n << " cases checked\n";
    }
  }
};

::testing::Environment* const kFamilyCountPrinter =
    ::testing::AddGlobalTestEnvironment(new FamilyCountPrinter);

// ---------------------------------------------------------------------------------------------

const char* Name(Scheme s) { return GetScheme(s).name; }

constexpr Scheme kAllSchemeIds[] = {Scheme::kExact,       Scheme::kDoubleRounding,
                                    Scheme::kSingleRounding, Scheme::kQnnpackFp32,
                                    Scheme::kOnednnFp32,  Scheme::kFbgemmFp32};

// How a scheme resolves an exact tie v = j + 1/2 (j an integer), written as the neighbour picked.
enum class TieExpectation {
  kHalfEven,       // RNE(v) + z_y: the even one of j, j+1
  kHalfAway,       // away from zero: j+1 if j >= 0 (v > 0), j if j < 0 (v < 0)
  kHalfUp,         // toward +inf: always j+1
  kHalfEvenOfSum,  // RNE(v + z_y): zero point added before rounding, the even one of j+z, j+z+1
};

const char* TieName(TieExpectation t) {
  switch (t) {
    case TieExpectation::kHalfEven: return "half_even";
    case TieExpectation::kHalfAway: return "half_away";
    case TieExpectation::kHalfUp: return "half_up";
    case TieExpectation::kHalfEvenOfSum: return "half_even_of_sum";
  }
  return "?";
}

// Output (zero point included, before clamping) for the tie v = j + 1/2 under `rule`.
// This is the definition of each rule on a half-integer, not a rounding implementation.
int64_t OutputAtTie(TieExpectation rule, int64_t j, int32_t z) {
  switch (rule) {
    case TieExpectation::kHalfEven: return ((j & 1) == 0 ? j : j + 1) + z;
    case TieExpectation::kHalfAway: return (j >= 0 ? j + 1 : j) + z;
    case TieExpectation::kHalfUp: return j + 1 + z;
    case TieExpectation::kHalfEvenOfSum: {
      const int64_t w = j + z;  // v + z = w + 1/2
      return (w & 1) == 0 ? w : w + 1;
    }
  }
  return 0;
}

enum class OverflowExpectation {
  kSaturates,     // a value beyond int32 clamps like any other: acc·M ≥ 2^31 → qmax
  kRangeMinimum,  // cvtps2dq integer indefinite (INT32_MIN) → packs → qmin
};

enum class BiasExpectation {
  kKept,            // the half accumulator unit survives: y = 2·acc + 1 + z_y
  kRoundedToZero,   // b_q = RNE(0.5) = 0 is added: y = 2·acc + z_y
};

class RequantTester {
 public:
  // Base scales: their product s_x·s_w/s_y must be exactly 1 and each a power of two; every family
  // multiplies s_w by its own power of two 2^-k, so the multiplier is exactly that power of two in
  // double, in Q31 (mantissa 2^30) and in every binary32 formula (products, quotients and
  // reciprocals of powers of two are exact).
  RequantTester& s_x(double v) { s_x_ = v; return *this; }
  RequantTester& s_w(double v) { s_w_ = v; return *this; }
  RequantTester& s_y(double v) { s_y_ = v; return *this; }
  RequantTester& zero_point(int32_t z) { z_ = z; return *this; }
  RequantTester& range(int32_t qmin, int32_t qmax) { qmin_ = qmin; qmax_ = qmax; return *this; }
  // ReLU as LibTorch applies it: the output range starts at the zero point.
  RequantTester& relu() { relu_ = true; return *this; }
  RequantTester& per_channel(bool p) { per_channel_ = p; return *this; }
  // Powers 2^-k tried by the power-of-two families, k in [lo, hi].
  RequantTester& shifts(int lo, int hi) { k_lo_ = lo; k_hi_ = hi; return *this; }

  // acc = j·2^k with M = 2^-k divides exactly: every scheme must give j + z_y.
  void TestExactDivideByPowerOfTwo(Scheme scheme) const {
    int64_t n = 0;
    std::set<int32_t> seen;
    for (int k = k_lo_; k <= k_hi_; ++k) {
      const ChannelTerms t = Terms(std::ldexp(1.0, -k));
      for (int64_t j = qmin() - z_; j <= qmax_ - z_; ++j) {
        const int64_t acc = j * (int64_t{1} << k);
        Check(scheme, t, acc, j + z_, "exact division, k=" + std::to_string(k));
        seen.insert(static_cast<int32_t>(j + z_));
        ++n;
      }
    }
    ExpectNotVacuous(seen, n);
    CountFamily("exact_divide_by_power_of_two", n);
  }

  // acc = (2j+1)·2^(k-1) with M = 2^-k: v = j + 1/2 exactly, positive and negative j.
  void TestExactTies(Scheme scheme, TieExpectation rule) const {
    int64_t n = 0, rounded_up = 0, rounded_down = 0;
    for (int k = k_lo_; k <= k_hi_; ++k) {
      const ChannelTerms t = Terms(std::ldexp(1.0, -k));
      // Both neighbours j + z and j + 1 + z inside the range, so the clamp never decides.
      for (int64_t j = qmin() - z_; j + 1 <= qmax_ - z_; ++j) {
        const int64_t acc = (2 * j + 1) * (int64_t{1} << (k - 1));
        const int64_t expected = OutputAtTie(rule, j, z_);
        Check(scheme, t, acc,
              expected, std::string("tie ") + TieName(rule) + ", k=" + std::to_string(k));
        (expected == j + z_ ? rounded_down : rounded_up)++;
        ++n;
      }
    }
    EXPECT_GT(n, 0);
    // half_even (also of the sum) must have gone both ways in any sweep of 255 consecutive ties;
    // half_away goes both ways when the sweep holds ties of both signs; half_up only goes up.
    const bool both_signs = qmin() - z_ < 0 && qmax_ - z_ - 1 >= 0;
    if (rule == TieExpectation::kHalfEven || rule == TieExpectation::kHalfEvenOfSum ||
        (rule == TieExpectation::kHalfAway && both_signs)) {
      EXPECT_GT(rounded_up, 0) << Name(scheme);
      EXPECT_GT(rounded_down, 0) << Name(scheme);
    }
    CountFamily("exact_ties", n);
  }

  // One accumulator unit either side of each tie (k >= 2): v = j + 1/2 ± 2^-k, no tie, the nearest
  // integer is j + 1 (above) or j (below). `gemmlowp_double_rounding`: derived in the TEST.
  // Returns how many double rounding errors were expected (the caller checks that the sum over
  // its zero points is > 0: with z_y = 255 every j is negative and none is expected).
  int64_t TestOneStepFromTies(Scheme scheme, bool gemmlowp_double_rounding) const {
    int64_t n = 0, double_rounding_errors = 0;
    for (int k = std::max(k_lo_, 2); k <= k_hi_; ++k) {
      const ChannelTerms t = Terms(std::ldexp(1.0, -k));
      for (int64_t j = qmin() - z_; j + 1 <= qmax_ - z_; ++j) {
        const int64_t tie = (2 * j + 1) * (int64_t{1} << (k - 1));
        Check(scheme, t, tie + 1, j + 1 + z_, "above tie, k=" + std::to_string(k));
        int64_t below = j + z_;
        if (gemmlowp_double_rounding && j >= 0) {
          below = j + 1 + z_;
          ++double_rounding_errors;
        }
        Check(scheme, t, tie - 1, below, "below tie, k=" + std::to_string(k));
        n += 2;
      }
    }
    EXPECT_GT(n, 0);
    CountFamily("one_step_from_ties", n);
    return double_rounding_errors;
  }

  // Values beyond either end of the range clamp to it (ReLU: the low end is z_y).
  void TestClamps(Scheme scheme) const {
    int64_t n = 0;
    for (int k = k_lo_; k <= k_hi_; ++k) {
      const ChannelTerms t = Terms(std::ldexp(1.0, -k));
      const int64_t unit = int64_t{1} << k;
      for (int64_t d : {1, 2, 3, 1000}) {
        Check(scheme, t, (qmax_ - z_ + d) * unit, qmax_, "above qmax");
        Check(scheme, t, (qmin() - z_ - d) * unit, qmin(), "below qmin");
        n += 2;
      }
      // |acc| = 2^23 < 2^24: exact in binary32, acc·2^-k ≥ 2^13 beyond any 8-bit range.
      Check(scheme, t, int64_t{1} << 23, qmax_, "acc = 2^23");
      Check(scheme, t, -(int64_t{1} << 23), qmin(), "acc = -2^23");
      n += 2;
    }
    CountFamily("clamps", n);
  }

  // M = 2^8 (> 1): acc = 2^23 gives acc·M = 2^31, one past INT32_MAX.
  //   2^23 − 1  → 2^31 − 2^8 fits int32 (and binary32: 23 significant bits) → qmax for all.
  //   2^23, 2^24 − 1 → ≥ 2^31: kSaturates → qmax; kRangeMinimum (cvtps2dq) → qmin.
  //   −2^23     → −2^31 = INT32_MIN fits → qmin for all.  −2^23 − 1 → below INT32_MIN → qmin for
  //             all (saturation and integer indefinite agree on the negative side).
  void TestLargeMultiplierOverflow(Scheme scheme, OverflowExpectation o) const {
    const ChannelTerms t = Terms(256.0);
    const int32_t high = o == OverflowExpectation::kSaturates ? qmax_ : qmin();
    Check(scheme, t, (int64_t{1} << 23) - 1, qmax_, "M=256, acc=2^23-1");
    Check(scheme, t, int64_t{1} << 23, high, "M=256, acc=2^23");
    Check(scheme, t, (int64_t{1} << 24) - 1, high, "M=256, acc=2^24-1");
    Check(scheme, t, -(int64_t{1} << 23), qmin(), "M=256, acc=-2^23");
    Check(scheme, t, -(int64_t{1} << 23) - 1, qmin(), "M=256, acc=-2^23-1");
    CountFamily("large_multiplier_overflow", 5);
  }

  // M = 2 and a float bias b = 0.5·s_x·s_w (half an accumulator unit, exact in float).
  // Exact: (acc + 1/2)·2 = 2·acc + 1. Int32 bias: b_q = RNE(f32(b·f32(1/f32(s_x s_w)))) =
  // RNE(0.5) = 0 (tie to even), so (acc + 0)·2 = 2·acc. Float bias (fbgemm: b·(1/(s_x s_w)),
  // onednn: b·(1/s_x · 1/s_w)) is exactly 0.5; f32(acc) + 0.5 is exact for |acc| < 2^22, times 2
  // exact: 2·acc + 1 with no rounding, so the zero-point order does not matter either.
  void TestHalfUnitBias(Scheme scheme, BiasExpectation b) const {
    const double m = 2.0;
    const float bias = static_cast<float>(0.5 * s_x_ * s_w_ * m);  // s_w of this family = 2·s_w
    int64_t n = 0;
    std::set<int32_t> seen;
    const ChannelTerms t = Terms(m, bias);
    for (int64_t acc = -200; acc <= 200; ++acc) {
      const int64_t expected = 2 * acc + (b == BiasExpectation::kKept ? 1 : 0) + z_;
      if (expected < qmin() || expected > qmax_) continue;
      Check(scheme, t, acc, expected, "half-unit bias");
      seen.insert(static_cast<int32_t>(expected));
      ++n;
    }
    ExpectNotVacuous(seen, n);
    CountFamily("half_unit_bias", n);
  }

  // M = 2^-17 and acc = ±(2^24 + (2j+1)·2^16 + 1), j = 0..126: |acc| is odd and in (2^24, 2^25),
  // where binary32 has spacing 2, so f32(acc) is a tie between |acc| − 1 and |acc| + 1 and goes to
  // the even significand: (|acc| − 1)/2 = 2^23 + (2j+1)·2^15 is even, (|acc| + 1)/2 is odd, so
  // f32(acc) = ±(|acc| − 1). Hence
  //   exact:  v = ±(128 + j + 1/2 + 2^-17)  → ±(129 + j)      (not a tie)
  //   binary32 recipes: v = ±(128 + j + 1/2) → an exact tie, resolved by `f32_tie`.
  // `f32_tie` = nullopt: the scheme converts the accumulator exactly.
  // Returns {elements checked, elements where the expectation differs from exact}; a zero point
  // near the middle of [0, 255] leaves no element inside the range, so the caller sums them.
  std::pair<int64_t, int64_t> TestAccumulatorsBeyond2Pow24(Scheme scheme, std::optional<TieExpectation> f32_tie) const {
    const ChannelTerms t = Terms(std::ldexp(1.0, -17));
    int64_t n = 0, differs_from_exact = 0;
    for (int sign : {1, -1}) {
      for (int64_t j = 0; j <= 126; ++j) {
        const int64_t acc = sign * ((int64_t{1} << 24) + (2 * j + 1) * (int64_t{1} << 16) + 1);
        const int64_t exact = sign * (129 + j) + z_;
        // The tie as v = J + 1/2: J = 128 + j (positive) or J = −(129 + j) (negative).
        const int64_t tie_j = sign > 0 ? 128 + j : -(129 + j);
        const int64_t lo = std::min(exact, tie_j + z_), hi = std::max(exact, tie_j + 1 + z_);
        if (lo < qmin() || hi > qmax_) continue;  // keep the clamp out of it
        const int64_t expected = f32_tie ? OutputAtTie(*f32_tie, tie_j, z_) : exact;
        differs_from_exact += expected != exact;
        Check(scheme, t, acc, expected, "acc beyond 2^24");
        ++n;
      }
    }
    CountFamily("accumulators_beyond_2^24", n);
    return {n, differs_from_exact};
  }

 private:
  int32_t qmin() const { return relu_ ? std::max(qmin_, z_) : qmin_; }

  ChannelTerms Terms(double multiplier, std::optional<float> bias = std::nullopt) const {
    ChannelQuant q;
    q.s_x = s_x_;
    q.s_w = s_w_ * multiplier;
    q.s_y = s_y_;
    q.per_channel = per_channel_;
    q.z_y = z_;
    q.bias = bias;
    q.range = QuantRange{qmin(), qmax_};
    EXPECT_EQ(s_x_ * s_w_ / s_y_, 1.0) << "base scales must multiply to exactly 1";
    return PrepareChannel(q);
  }

  void Check(Scheme scheme, const ChannelTerms& t, int64_t acc, int64_t expected,
             const std::string& what) const {
    const std::optional<int32_t> y = EvaluateRecipe(GetScheme(scheme).recipe, t, acc);
    ASSERT_TRUE(y.has_value()) << Name(scheme) << " refused acc=" << acc;
    EXPECT_EQ(*y, expected) << Name(scheme) << " (" << what << "): acc=" << acc
                            << " s_x=" << t.quant.s_x << " s_w=" << t.quant.s_w
                            << " s_y=" << t.quant.s_y << " z_y=" << z_ << " range=[" << qmin()
                            << "," << qmax_ << "]" << (t.quant.bias ? " bias=" : "")
                            << (t.quant.bias ? std::to_string(*t.quant.bias) : "");
  }

  static void ExpectNotVacuous(const std::set<int32_t>& seen, int64_t n) {
    EXPECT_GT(n, 0);
    EXPECT_GT(seen.size(), 1u) << "all outputs identical: the family tested nothing";
  }

  double s_x_ = 1.0, s_w_ = 1.0, s_y_ = 1.0;
  int32_t z_ = 0;
  int32_t qmin_ = 0, qmax_ = 255;
  bool relu_ = false;
  bool per_channel_ = false;
  int k_lo_ = 1, k_hi_ = 10;
};

constexpr int32_t kZeroPoints[] = {0, 1, 127, 128, 255};

// ---------------------------------------------------------------------------------------------
// Exact division by 2^k, k = 1..10: acc = j·2^k, M = 2^-k. The real value is the integer j, so no
// rounding rule is involved: exact (rational), double_rounding (SRDHM by 2^30 halves an even acc
// exactly, RoundingDivideByPOT of a multiple of 2^(k-1) by 2^(k-1) is exact), single_rounding
// (the product is a multiple of 2^(31-shift)), and the binary32 recipes (|acc| ≤ 255·2^10 < 2^24
// is exact in binary32, times a power of two is exact, j + z_y exact) all give j + z_y.

void ExactDivideAllZeroPoints(Scheme s) {
  for (int32_t z : kZeroPoints) {
    RequantTester().zero_point(z).TestExactDivideByPowerOfTwo(s);
    // Other power-of-two base scales: same multiplier through other f32 reciprocal paths.
    RequantTester().s_x(0.5).s_w(4.0).s_y(2.0).zero_point(z).TestExactDivideByPowerOfTwo(s);
    RequantTester().s_x(0.25).s_w(0.125).s_y(0.03125).per_channel(true).zero_point(z)
        .TestExactDivideByPowerOfTwo(s);
  }
}

TEST(RequantExact, ExactDivideByPowerOfTwo) { ExactDivideAllZeroPoints(Scheme::kExact); }
TEST(RequantDoubleRounding, ExactDivideByPowerOfTwo) {
  ExactDivideAllZeroPoints(Scheme::kDoubleRounding);
}
TEST(RequantSingleRounding, ExactDivideByPowerOfTwo) {
  ExactDivideAllZeroPoints(Scheme::kSingleRounding);
}
TEST(RequantQnnpackFp32, ExactDivideByPowerOfTwo) { ExactDivideAllZeroPoints(Scheme::kQnnpackFp32); }
TEST(RequantOnednnFp32, ExactDivideByPowerOfTwo) { ExactDivideAllZeroPoints(Scheme::kOnednnFp32); }
TEST(RequantFbgemmFp32, ExactDivideByPowerOfTwo) { ExactDivideAllZeroPoints(Scheme::kFbgemmFp32); }

// ---------------------------------------------------------------------------------------------
// Exact ties: acc = (2j+1)·2^(k-1), M = 2^-k, v = j + 1/2, j from −z_y to 254 − z_y (both signs).
// Worked examples (k = 1, M = 0.5, z_y = 0): acc = 5 → 2.5, acc = −5 → −2.5, acc = 3 → 1.5.
//   exact, qnnpack_fp32, fbgemm_fp32: RNE, zero point after:  2.5 → 2, −2.5 → −2, 1.5 → 2.
//     (For the fp32 recipes f32(acc) and f32(acc)·2^-k are exact, so cvtps2dq's RNE sees the tie.)
//   single_rounding: (acc·2^30 + 2^(30−shift)) >> (31−shift) = floor(v + 1/2): 2.5 → 3,
//     −2.5 → −2, 1.5 → 2.  Half up.
//   onednn_fp32: RNE(v + z_y). With z_y even this is RNE(v) + z_y; with z_y odd the even
//     neighbour of v + z_y is (odd neighbour of v) + z_y, e.g. z_y = 1: RNE(3.5) = 4 = 3 + 1
//     where exact gives RNE(2.5) + 1 = 3; RNE(−2.5 + 1 = −1.5) = −2 = −3 + 1 where exact gives −1.
//   double_rounding (k = 1): Q31 of 0.5 = {2^30, shift 0}: only SRDHM(acc, 2^30) =
//     trunc((acc·2^30 + nudge)/2^31), nudge = 2^30 (≥ 0) or 1 − 2^30 (< 0):
//       acc = 5:  (5·2^30 + 2^30)/2^31 = 6·2^30/2^31 = 3                   → 2.5 → 3
//       acc = −5: (−5·2^30 + 1 − 2^30)/2^31 = (−3·2^31 + 1)/2^31 = −2.99… → trunc → −2
//       acc = −3: (−3·2^30 + 1 − 2^30)/2^31 = (−2·2^31 + 1)/2^31 = −1.99… → −1
//     so gemmlowp's SRDHM (NEON VQRDMULH) resolves ties toward +inf, NOT away from zero.
//   double_rounding (k ≥ 2): Q31 {2^30, shift 1 − k}: SRDHM(acc, 2^30) = acc/2 exactly (acc is
//     even), then RoundingDivideByPOT(acc/2, k−1) sees the tie and rounds it away from zero:
//       k = 2, acc = −10: SRDHM = −5; RDivPOT(−5, 1): mask 1, remainder (−5)&1 = 1, threshold
//       0 + 1 = 1, (−5 >> 1) = −3, 1 > 1 false → −3. (−2.5 → −3.)
//       k = 2, acc = 10: SRDHM = 5; remainder 1 > threshold 0 → (5 >> 1) + 1 = 3. (2.5 → 3.)

void TiesAllZeroPoints(Scheme s, TieExpectation rule, int k_lo = 1, int k_hi = 10) {
  for (int32_t z : kZeroPoints) {
    RequantTester().zero_point(z).shifts(k_lo, k_hi).TestExactTies(s, rule);
    RequantTester().s_x(0.5).s_w(4.0).s_y(2.0).zero_point(z).shifts(k_lo, k_hi)
        .TestExactTies(s, rule);
  }
}

TEST(RequantExact, ExactTiesRoundHalfToEven) { TiesAllZeroPoints(Scheme::kExact, TieExpectation::kHalfEven); }
TEST(RequantQnnpackFp32, ExactTiesRoundHalfToEven) {
  TiesAllZeroPoints(Scheme::kQnnpackFp32, TieExpectation::kHalfEven);
}
TEST(RequantFbgemmFp32, ExactTiesRoundHalfToEven) {
  TiesAllZeroPoints(Scheme::kFbgemmFp32, TieExpectation::kHalfEven);
}
TEST(RequantOnednnFp32, ExactTiesRoundHalfToEvenAfterZeroPoint) {
  TiesAllZeroPoints(Scheme::kOnednnFp32, TieExpectation::kHalfEvenOfSum);
}
TEST(RequantSingleRounding, ExactTiesRoundHalfUp) {
  TiesAllZeroPoints(Scheme::kSingleRounding, TieExpectation::kHalfUp);
}
TEST(RequantDoubleRounding, ExactTiesAtShiftZeroRoundHalfUp) {
  TiesAllZeroPoints(Scheme::kDoubleRounding, TieExpectation::kHalfUp, 1, 1);
}
TEST(RequantDoubleRounding, ExactTiesAtRightShiftRoundHalfAway) {
  TiesAllZeroPoints(Scheme::kDoubleRounding, TieExpectation::kHalfAway, 2, 10);
}

// ---------------------------------------------------------------------------------------------
// One step inside/outside each tie, k = 2..10: acc = (2j+1)·2^(k−1) ± 1, v = j + 1/2 ± 2^-k.
// Every single-rounding scheme gives the nearest integer: j + 1 above, j below.
// double_rounding, derived: SRDHM(acc, 2^30) for odd acc is the tie acc/2 rounded up, (acc+1)/2.
//   above: (acc+1)/2 = (2j+1)·2^(k−2) + 1, / 2^(k−1) = j + 1/2 + 2^(1−k) (k ≥ 3) or exactly j + 1
//          (k = 2) → j + 1, correct.
//   below: (acc+1)/2 = (2j+1)·2^(k−2), / 2^(k−1) = j + 1/2, a tie again, rounded away from zero:
//          j + 1 for j ≥ 0 (wrong by one: the classic double rounding error), j for j < 0.
//   e.g. k = 2, acc = 5 (v = 1.25): SRDHM = (5·2^30 + 2^30)/2^31 = 3, RDivPOT(3, 1) = 1 + 1 = 2.

void OneStepAllZeroPoints(Scheme s, bool gemmlowp) {
  int64_t errors = 0;
  for (int32_t z : kZeroPoints) {
    errors += RequantTester().zero_point(z).shifts(2, 10).TestOneStepFromTies(s, gemmlowp);
  }
  if (gemmlowp) {
    EXPECT_GT(errors, 0) << "no double rounding error was exercised";
  }
}

TEST(RequantExact, OneStepFromTiesRoundsToNearest) { OneStepAllZeroPoints(Scheme::kExact, false); }
TEST(RequantDoubleRounding, OneStepBelowPositiveTieRoundsUp) {
  OneStepAllZeroPoints(Scheme::kDoubleRounding, true);
}
TEST(RequantSingleRounding, OneStepFromTiesRoundsToNearest) {
  OneStepAllZeroPoints(Scheme::kSingleRounding, false);
}
TEST(RequantQnnpackFp32, OneStepFromTiesRoundsToNearest) {
  OneStepAllZeroPoints(Scheme::kQnnpackFp32, false);
}
TEST(RequantOnednnFp32, OneStepFromTiesRoundsToNearest) {
  OneStepAllZeroPoints(Scheme::kOnednnFp32, false);
}
TEST(RequantFbgemmFp32, OneStepFromTiesRoundsToNearest) {
  OneStepAllZeroPoints(Scheme::kFbgemmFp32, false);
}

// ---------------------------------------------------------------------------------------------
// Clamps at qmin/qmax, with and without ReLU (qmin = z_y), and a narrower range.

TEST(RequantSchemes, ClampsAndRelu) {
  for (Scheme s : kAllSchemeIds) {
    for (int32_t z : kZeroPoints) {
      RequantTester().zero_point(z).TestClamps(s);
      RequantTester().zero_point(z).relu().TestClamps(s);
    }
    RequantTester().zero_point(10).range(-128, 127).TestClamps(s);
    RequantTester().zero_point(-3).range(-128, 127).relu().TestClamps(s);
  }
}

// ---------------------------------------------------------------------------------------------
// M = 2^8 > 1, |acc·M| ≥ 2^31. QNNPACK/FBGEMM: cvtps2dq returns INT32_MIN ("integer
// indefinite"), the saturating packs turn it into 0, then the clamp gives qmin (z_y under ReLU).
// exact, single/double rounding: the value simply saturates to qmax (double_rounding: acc·2^9
// saturates to 2^31−1, SRDHM(2^31−1, 2^30) = ((2^31−1)·2^30 + 2^30)/2^31 = 2^30 → qmax).
// onednn_fp32: saturates in float (min(max(t, 0), 255)) before cvtps2dq → qmax.

void OverflowAllZeroPoints(Scheme s, OverflowExpectation o) {
  for (int32_t z : kZeroPoints) {
    RequantTester().zero_point(z).TestLargeMultiplierOverflow(s, o);
    RequantTester().zero_point(z).relu().TestLargeMultiplierOverflow(s, o);
  }
}

TEST(RequantExact, LargeMultiplierSaturates) {
  OverflowAllZeroPoints(Scheme::kExact, OverflowExpectation::kSaturates);
}
TEST(RequantDoubleRounding, LargeMultiplierSaturates) {
  OverflowAllZeroPoints(Scheme::kDoubleRounding, OverflowExpectation::kSaturates);
}
TEST(RequantSingleRounding, LargeMultiplierSaturates) {
  OverflowAllZeroPoints(Scheme::kSingleRounding, OverflowExpectation::kSaturates);
}
TEST(RequantOnednnFp32, LargeMultiplierSaturates) {
  OverflowAllZeroPoints(Scheme::kOnednnFp32, OverflowExpectation::kSaturates);
}
TEST(RequantQnnpackFp32, LargeMultiplierGivesRangeMinimum) {
  OverflowAllZeroPoints(Scheme::kQnnpackFp32, OverflowExpectation::kRangeMinimum);
}
TEST(RequantFbgemmFp32, LargeMultiplierGivesRangeMinimum) {
  OverflowAllZeroPoints(Scheme::kFbgemmFp32, OverflowExpectation::kRangeMinimum);
}

// ---------------------------------------------------------------------------------------------
// Float bias of exactly half an accumulator unit (derivation on TestHalfUnitBias).

void HalfUnitBiasAll(Scheme s, BiasExpectation b) {
  for (int32_t z : kZeroPoints) {
    RequantTester().zero_point(z).TestHalfUnitBias(s, b);
    RequantTester().s_x(0.5).s_w(0.25).s_y(0.125).zero_point(z).TestHalfUnitBias(s, b);
    RequantTester().s_x(0.5).s_w(0.25).s_y(0.125).per_channel(true).zero_point(z)
        .TestHalfUnitBias(s, b);
  }
}

TEST(RequantExact, HalfUnitBiasIsKept) { HalfUnitBiasAll(Scheme::kExact, BiasExpectation::kKept); }
TEST(RequantOnednnFp32, HalfUnitBiasIsKept) {
  HalfUnitBiasAll(Scheme::kOnednnFp32, BiasExpectation::kKept);
}
TEST(RequantFbgemmFp32, HalfUnitBiasIsKept) {
  HalfUnitBiasAll(Scheme::kFbgemmFp32, BiasExpectation::kKept);
}
TEST(RequantQnnpackFp32, HalfUnitBiasRoundsToZero) {
  HalfUnitBiasAll(Scheme::kQnnpackFp32, BiasExpectation::kRoundedToZero);
}
TEST(RequantDoubleRounding, HalfUnitBiasRoundsToZero) {
  HalfUnitBiasAll(Scheme::kDoubleRounding, BiasExpectation::kRoundedToZero);
}
TEST(RequantSingleRounding, HalfUnitBiasRoundsToZero) {
  HalfUnitBiasAll(Scheme::kSingleRounding, BiasExpectation::kRoundedToZero);
}

// ---------------------------------------------------------------------------------------------
// Accumulators beyond 2^24 (derivation on TestAccumulatorsBeyond2Pow24). The binary32 recipes
// see a tie and resolve it with their own rule; exact and the Q31 schemes see 1/2 + 2^-17 and
// round up in magnitude (double_rounding: SRDHM gives (|acc|±1)/2 which keeps the 2^-16 excess
// above the tie, e.g. j = 0, acc > 0: (acc+1)/2 = 2^23 + 2^15 + 1, RDivPOT by 16: remainder
// 2^15 + 1 > threshold 2^15 − 1 → 128 + 1 = 129; acc < 0: (acc+1)/2 = −(2^23 + 2^15), x >> 16 =
// −129, remainder 2^15, threshold 2^15 − 1 + 1 = 2^15, not greater → −129).

void Beyond2Pow24All(Scheme s, std::optional<TieExpectation> f32_tie) {
  int64_t n = 0, differs = 0;
  for (int32_t z : kZeroPoints) {
    const auto [checked, diff] =
        RequantTester().zero_point(z).TestAccumulatorsBeyond2Pow24(s, f32_tie);
    n += checked;
    differs += diff;
  }
  EXPECT_GT(n, 0);
  if (f32_tie) {
    EXPECT_GT(differs, 0) << "f32(acc) never changed an output";
  }
}

TEST(RequantExact, AccumulatorsBeyond2Pow24AreExact) { Beyond2Pow24All(Scheme::kExact, std::nullopt); }
TEST(RequantDoubleRounding, AccumulatorsBeyond2Pow24AreExact) {
  Beyond2Pow24All(Scheme::kDoubleRounding, std::nullopt);
}
TEST(RequantSingleRounding, AccumulatorsBeyond2Pow24AreExact) {
  Beyond2Pow24All(Scheme::kSingleRounding, std::nullopt);
}
TEST(RequantQnnpackFp32, AccumulatorsBeyond2Pow24RoundToFloat) {
  Beyond2Pow24All(Scheme::kQnnpackFp32, TieExpectation::kHalfEven);
}
TEST(RequantFbgemmFp32, AccumulatorsBeyond2Pow24RoundToFloat) {
  Beyond2Pow24All(Scheme::kFbgemmFp32, TieExpectation::kHalfEven);
}
TEST(RequantOnednnFp32, AccumulatorsBeyond2Pow24RoundToFloat) {
  Beyond2Pow24All(Scheme::kOnednnFp32, TieExpectation::kHalfEvenOfSum);
}

// ---------------------------------------------------------------------------------------------
// Single elements, each derived by hand. Columns: exact, double_rounding, single_rounding,
// qnnpack_fp32, onednn_fp32, fbgemm_fp32.

struct HandRow {
  const char* what;
  double s_x, s_w, s_y;
  int32_t z_y;
  QuantRange range;
  std::optional<float> bias;
  int64_t acc;
  int32_t expected[6];
};

constexpr double kP17 = 0x1p-17;  // 2^-17

const HandRow kHandRows[] = {
    // M = 0.5 (s_w = 0.5). acc = 5, v = 2.5, z = 128. exact RNE 2 → 130; DR SRDHM (5·2^30 + 2^30)
    // /2^31 = 3 → 131; SR floor(3.0) = 3 → 131; qnnpack/fbgemm RNE(2.5) = 2 → 130;
    // onednn RNE(130.5) = 130.
    {"tie 2.5 z=128", 1, 0.5, 1, 128, {0, 255}, {}, 5, {130, 131, 131, 130, 130, 130}},
    // acc = −5, v = −2.5. exact −2 → 126; DR (−5·2^30 + 1 − 2^30)/2^31 = −2.99… → trunc −2 → 126;
    // SR floor(−2.0) = −2 → 126; qnnpack/fbgemm −2 → 126; onednn RNE(125.5) = 126.
    {"tie -2.5 z=128", 1, 0.5, 1, 128, {0, 255}, {}, -5, {126, 126, 126, 126, 126, 126}},
    // acc = 3, v = 1.5 → RNE 2, DR (3·2^30 + 2^30)/2^31 = 2, SR floor(2) = 2, onednn
    // RNE(129.5) = 130. All 130.
    {"tie 1.5 z=128", 1, 0.5, 1, 128, {0, 255}, {}, 3, {130, 130, 130, 130, 130, 130}},
    // acc = −3, v = −1.5: exact RNE −2 → 126; DR (−3·2^30 + 1 − 2^30)/2^31 = (−2^32 + 1)/2^31
    // = −1.99… → −1 → 127; SR floor(−1.0) = −1 → 127; qnnpack/fbgemm −2 → 126; onednn
    // RNE(126.5) = 126.
    {"tie -1.5 z=128", 1, 0.5, 1, 128, {0, 255}, {}, -3, {126, 127, 127, 126, 126, 126}},
    // z = 127 (odd), acc = 5, v = 2.5: exact 2 + 127 = 129; DR 3 → 130; SR 3 → 130; qnnpack/
    // fbgemm 129; onednn RNE(2.5 + 127 = 129.5) = 130.
    {"tie 2.5 z=127", 1, 0.5, 1, 127, {0, 255}, {}, 5, {129, 130, 130, 129, 130, 129}},
    // z = 127, acc = −5, v = −2.5: exact −2 → 125; DR −2 → 125; SR −2 → 125; qnnpack/fbgemm 125;
    // onednn RNE(124.5) = 124.
    {"tie -2.5 z=127", 1, 0.5, 1, 127, {0, 255}, {}, -5, {125, 125, 125, 125, 124, 125}},
    // M = 1/4, acc = −10, v = −2.5, z = 128: exact −2 → 126; DR SRDHM(−10, 2^30) = −5,
    // RDivPOT(−5, 1) = −3 (remainder 1, threshold 1) → 125; SR floor(−2.0) = −2 → 126;
    // qnnpack/fbgemm 126; onednn RNE(125.5) = 126.
    {"tie -2.5 k=2", 1, 0.25, 1, 128, {0, 255}, {}, -10, {126, 125, 126, 126, 126, 126}},
    // M = 1/4, acc = 10, v = 2.5: exact 2 → 130; DR SRDHM = 5, RDivPOT(5, 1) = 2 + (1 > 0) = 3 →
    // 131; SR 3 → 131; qnnpack/fbgemm 130; onednn RNE(130.5) = 130.
    {"tie 2.5 k=2", 1, 0.25, 1, 128, {0, 255}, {}, 10, {130, 131, 131, 130, 130, 130}},
    // M = 1/4, acc = 5, v = 1.25 (one below the tie 1.5): nearest 1 → 129 for all single
    // roundings (onednn: 129.25 → 129); DR SRDHM (5·2^30 + 2^30)/2^31 = 3, RDivPOT(3, 1) =
    // 1 + (1 > 0) = 2 → 130.
    {"double rounding 1.25", 1, 0.25, 1, 128, {0, 255}, {}, 5, {129, 130, 129, 129, 129, 129}},
    // Clamp: M = 0.5, acc = 300 → 150 + 128 = 278 → 255; acc = −300 → −22 → 0.
    {"clamp high", 1, 0.5, 1, 128, {0, 255}, {}, 300, {255, 255, 255, 255, 255, 255}},
    {"clamp low", 1, 0.5, 1, 128, {0, 255}, {}, -300, {0, 0, 0, 0, 0, 0}},
    // ReLU (qmin = z = 128): acc = −2 → −1 + 128 = 127 → 128; acc = 2 → 129.
    {"relu clamps", 1, 0.5, 1, 128, {128, 255}, {}, -2, {128, 128, 128, 128, 128, 128}},
    {"relu passes", 1, 0.5, 1, 128, {128, 255}, {}, 2, {129, 129, 129, 129, 129, 129}},
    // M = 256, acc = 2^23 = 8388608: acc·M = 2^31 ≥ 2^31. exact/SR: 2^31 → 255; DR: Q31 {2^30,
    // shift 9}, acc·2^9 = 2^32 saturates to 2^31−1, SRDHM(2^31−1, 2^30) = 2^30 → 255;
    // qnnpack/fbgemm: f32(2^23)·256 = 2^31 → cvtps2dq INT32_MIN → qmin = 0; onednn: float
    // saturation → 255.
    {"cvt overflow", 1, 256, 1, 0, {0, 255}, {}, 8388608, {255, 255, 255, 0, 255, 0}},
    // Same with ReLU, z = 100: qnnpack/fbgemm → qmin = 100.
    {"cvt overflow relu", 1, 256, 1, 100, {100, 255}, {}, 8388608, {255, 255, 255, 100, 255, 100}},
    // acc = 2^23 − 1: (2^23 − 1)·256 = 2^31 − 256 < 2^31, exact in binary32 → 255 for all.
    {"just below overflow", 1, 256, 1, 0, {0, 255}, {}, 8388607, {255, 255, 255, 255, 255, 255}},
    // Bias b = 0.0625 with s_x = 0.5, s_w = 0.25 (s_x·s_w = 0.125, b = 0.5 units), s_y = 0.0625
    // (M = 2), acc = 10, z = 0. exact (10 + 0.5)·2 = 21; b_q = RNE(0.0625·f32(1/0.125) = 0.5) = 0:
    // DR (Q31 {2^30, 2}: 10·4 = 40, SRDHM(40, 2^30) = 20), SR, qnnpack → 20; onednn
    // bias_scale = f32(2·4) = 8, bf = 0.5, M = f32(16/8) = 2 → 21; fbgemm bf = 0.0625·8 = 0.5,
    // M = 0.125/0.0625 = 2 → 21.
    {"half-unit bias", 0.5, 0.25, 0.0625, 0, {0, 255}, 0.0625f, 10, {21, 20, 20, 20, 21, 21}},
    // acc = −10, z = 128: exact (−9.5)·2 = −19 → 109; int32-bias schemes −20 → 108 (DR: SRDHM(−40,
    // 2^30) = (−20·2^31 − 2^30 + 1)/2^31 = −20.49… → −20); onednn −19 + 128 = 109; fbgemm 109.
    {"half-unit bias neg", 0.5, 0.25, 0.0625, 128, {0, 255}, 0.0625f, -10,
     {109, 108, 108, 108, 109, 109}},
    // M = 1 (s_y = 0.125), same bias, z = 1, acc = 2: exact RNE(2.5) + 1 = 3; b_q = 0: DR (Q31
    // {2^30, 1}: 2·2 = 4, SRDHM(4, 2^30) = 2) 3, SR 3, qnnpack 3; onednn RNE(2.5 + 1) = 4;
    // fbgemm RNE(2.5) + 1 = 3.
    {"half-unit bias tie z=1", 0.5, 0.25, 0.125, 1, {0, 255}, 0.0625f, 2, {3, 3, 3, 3, 4, 3}},
    // M = 1, z = 0, acc = 3: exact RNE(3.5) = 4; b_q = 0: DR/SR/qnnpack 3; onednn/fbgemm f32(3.5)
    // → 4.
    {"half-unit bias tie 3.5", 0.5, 0.25, 0.125, 0, {0, 255}, 0.0625f, 3, {4, 3, 3, 3, 4, 4}},
    // M = 2^-17, acc = 2^24 + 2^16 + 1 = 16842753, z = 0: exact v = 128.5 + 2^-17 → 129; DR
    // SRDHM = (acc+1)/2 = 8421377 = 128·2^16 + 2^15 + 1, RDivPOT by 16: remainder 32769 > 32767
    // → 129; SR floor(129 + 2^-17) = 129; f32(acc): spacing 2, tie between 16842752 (significand
    // 8421376, even) and 16842754 (8421377, odd) → 16842752; ·2^-17 = 128.5 → RNE 128 for
    // qnnpack/fbgemm, onednn RNE(128.5 + 0) = 128.
    {"f32(acc) rounds", 1, kP17, 1, 0, {0, 255}, {}, 16842753, {129, 129, 129, 128, 128, 128}},
    // acc = 2^24 + 1 = 16777217: f32 → 2^24 (tie, significand 2^23 even), v = 128; exact
    // 128 + 2^-17 → 128: the float rounding of acc does not change this output. DR: (acc+1)/2 =
    // 2^23 + 1, remainder 1 ≤ 32767 → 128.
    {"f32(acc) harmless", 1, kP17, 1, 0, {0, 255}, {}, 16777217, {128, 128, 128, 128, 128, 128}},
    // acc = −16842753, z = 255: exact −(129) + 255 = 126; DR (acc+1)/2 = −8421376, >> 16 = −129,
    // remainder 32768, threshold 32768 → −129 → 126; SR floor(−128.5 − 2^-17 + 0.5) = −129 → 126;
    // f32(acc) = −16842752, v = −128.5: qnnpack/fbgemm RNE → −128 → 127; onednn RNE(−128.5 + 255
    // = 126.5) = 126.
    {"f32(acc) rounds neg", 1, kP17, 1, 255, {0, 255}, {}, -16842753,
     {126, 126, 126, 127, 126, 127}},
    // M = 1, full int32 range, acc = 2^24 + 1: exact/DR (Q31 {2^30, 1}: 2·acc = 33554434 fits,
    // SRDHM(33554434, 2^30) = 16777217)/SR 16777217; binary32 recipes f32(acc) = 16777216.
    {"f32(acc) wide range", 1, 1, 1, 0, {INT32_MIN, INT32_MAX}, {}, 16777217,
     {16777217, 16777217, 16777217, 16777216, 16777216, 16777216}},
};

TEST(RequantSchemes, HandDerivedValues) {
  int64_t n = 0;
  for (const HandRow& row : kHandRows) {
    ChannelQuant q;
    q.s_x = row.s_x;
    q.s_w = row.s_w;
    q.s_y = row.s_y;
    q.z_y = row.z_y;
    q.range = row.range;
    q.bias = row.bias;
    const ChannelTerms t = PrepareChannel(q);
    for (int i = 0; i < 6; ++i) {
      const std::optional<int32_t> y = EvaluateRecipe(GetScheme(kAllSchemeIds[i]).recipe, t, row.acc);
      ASSERT_TRUE(y.has_value()) << row.what << " " << Name(kAllSchemeIds[i]);
      EXPECT_EQ(*y, row.expected[i]) << row.what << ": " << Name(kAllSchemeIds[i])
                                     << " acc=" << row.acc;
      ++n;
    }
  }
  CountFamily("hand_derived_values", n);
}

// ---------------------------------------------------------------------------------------------
// QuantizeMultiplier (TFLite semantics, oracles/quantize_multiplier.h).

struct QmRow {
  double m;
  int32_t multiplier;
  int shift;
};

const QmRow kQmRows[] = {
    {0.0, 0, 0},                     // M == 0 → {0, 0}
    {0.5, 1 << 30, 0},               // frexp(0.5) = 0.5·2^0; 0.5·2^31 = 2^30
    {1.0, 1 << 30, 1},               // frexp(1) = 0.5·2^1
    {0.75, 1610612736, 0},           // 0.75·2^31 = 3·2^29 = 1610612736
    {2.5, 1342177280, 2},            // frexp(2.5) = 0.625·2^2; 0.625·2^31 = 5·2^28 = 1342177280
    {1.0 - 0x1p-31, 2147483647, 0},  // q·2^31 = 2^31 − 1 exactly: no renormalisation
    {1.0 - 0x1p-32, 1 << 30, 1},     // q·2^31 = 2^31 − 0.5 → round half away → 2^31 → {2^30, 1}
    {1.0 - 0x1p-33, 1 << 30, 1},     // q·2^31 = 2^31 − 0.25 → 2^31 → halved, shift + 1
    {0.5 + 0x1p-31, (1 << 30) + 1, 0},  // q·2^31 = 2^30 + 1 exactly
    {0x1p-31, 1 << 30, -30},         // 2^-31 = 0.5·2^-30 → {2^30, −30}; value 2^30·2^-61 = 2^-31
    {0x1p-32, 1 << 30, -31},         // 2^-32 = 0.5·2^-31: shift −31 is still allowed
    {0x1p-33, 0, 0},                 // 2^-33 = 0.5·2^-32: shift −32 < −31 → underflow {0, 0}
    {0x1.8p-33, 0, 0},               // 1.5·2^-33 < 2^-32 → {0, 0}
    {0x1p29, 1 << 30, 30},           // 2^29 = 0.5·2^30 → shift 30, the largest allowed
    {0x1p30, 2147483647, 30},        // 2^30 = 0.5·2^31: shift 31 > 30 → saturates {2^31 − 1, 30}
};

TEST(QuantizeMultiplier, EdgeCases) {
  for (const QmRow& row : kQmRows) {
    const QuantizedMultiplier q = QuantizeMultiplier(row.m);
    EXPECT_EQ(q.multiplier, row.multiplier) << "M=" << row.m;
    EXPECT_EQ(q.shift, row.shift) << "M=" << row.m;
  }
  CountFamily("quantize_multiplier", sizeof(kQmRows) / sizeof(kQmRows[0]));
}

TEST(QuantizeMultiplier, ValueOfPowersOfTwoIsExact) {
  // {2^30, shift}: value 2^30·2^(shift−31) = 2^(shift−1); frexp(2^e) = 0.5·2^(e+1).
  for (int e = -32; e <= 29; ++e) {
    const QuantizedMultiplier q = QuantizeMultiplier(std::ldexp(1.0, e));
    EXPECT_EQ(q.multiplier, 1 << 30) << e;
    EXPECT_EQ(q.shift, e + 1) << e;
    EXPECT_EQ(QuantizedMultiplierValue(q), std::ldexp(1.0, e)) << e;
  }
  // {0.75·2^31, 0} → 0.75; {5·2^28, 2} → 2.5.
  EXPECT_EQ(QuantizedMultiplierValue({1610612736, 0}), 0.75);
  EXPECT_EQ(QuantizedMultiplierValue({1342177280, 2}), 2.5);
}

// ---------------------------------------------------------------------------------------------
// Random property. Power-of-two scales s_x = 2^a, s_w = 2^b, s_y = 2^c, M = 2^e (e = a + b − c in
// [−24, 6]), no bias, z_y in [0, 255], |acc| < 2^24, |acc·M| < 2^30.
// Relations and why they hold:
//  (1) exact == qnnpack_fp32 == fbgemm_fp32: f32(acc) = acc (|acc| < 2^24); every binary32
//      multiplier formula gives exactly 2^e (products/quotients/reciprocals of powers of two in
//      the normal range); acc·2^e is exact in binary32; cvtps2dq's RNE of an exact value is the
//      exact RNE; all three add z_y after rounding; |acc·M| < 2^31 so no integer indefinite.
//  (2) single_rounding == exact unless v = acc·2^e is an exact tie: Q31 of 2^e is {2^30, e+1},
//      exactly 2^e; away from ties half-up and half-even agree. At a tie v = j + 1/2 half-up
//      gives j + 1 and half-even gives j or j + 1, so single − exact ∈ {0, 1} (after the clamp
//      too, the clamp being monotone).
//  (3) onednn_fp32 == exact unless v is a tie and z_y is odd (RNE(v + z) = RNE(v) + z for even z).
//  (4) |double_rounding − exact| ≤ 1 (two roundings, each within 1/2).
// Ties (e < 0): acc mod 2^-e == 2^(-e-1). A quarter of the draws are built as ties.

TEST(RequantSchemesProperty, PowerOfTwoScalesAgreeWithExact) {
  std::mt19937 rng(0x5eed2024u);
  auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  constexpr int kChannels = 300;
  constexpr int kDrawsPerChannel = 1000;
  int64_t draws = 0, ties = 0, single_differs = 0, onednn_differs = 0, double_differs = 0,
          unsaturated = 0;
  std::set<int32_t> outputs;
  const Recipe exact = GetScheme(Scheme::kExact).recipe;
  const Recipe qnnpack = GetScheme(Scheme::kQnnpackFp32).recipe;
  const Recipe fbgemm = GetScheme(Scheme::kFbgemmFp32).recipe;
  const Recipe single = GetScheme(Scheme::kSingleRounding).recipe;
  const Recipe onednn = GetScheme(Scheme::kOnednnFp32).recipe;
  const Recipe dbl = GetScheme(Scheme::kDoubleRounding).recipe;
  for (int c = 0; c < kChannels; ++c) {
    const int e = static_cast<int>(uniform(-24, 6));
    const int a = static_cast<int>(uniform(-10, 6));
    const int b = static_cast<int>(uniform(-10, 6));
    ChannelQuant q;
    q.s_x = std::ldexp(1.0, a);
    q.s_w = std::ldexp(1.0, b);
    q.s_y = std::ldexp(1.0, a + b - e);
    q.per_channel = uniform(0, 1) == 1;
    q.z_y = static_cast<int32_t>(uniform(0, 3) == 0 ? kZeroPoints[uniform(0, 4)] : uniform(0, 255));
    q.range = QuantRange{uniform(0, 3) == 0 ? q.z_y : 0, 255};
    const ChannelTerms t = PrepareChannel(q);
    // |v| up to ~200 so that most outputs are not clamped.
    const int64_t limit = std::min<int64_t>((int64_t{1} << 24) - 1, std::llround(std::ldexp(200.0, -e)));
    for (int i = 0; i < kDrawsPerChannel; ++i) {
      int64_t acc;
      if (e < 0 && uniform(0, 3) == 0) {
        const int64_t half = int64_t{1} << (-e - 1);  // tie: (2j+1)·2^(-e-1)
        const int64_t jmax = std::max<int64_t>(0, (limit / half - 1) / 2);
        acc = (2 * uniform(-jmax - 1, jmax) + 1) * half;
      } else {
        acc = uniform(-limit, limit);
      }
      const bool tie = e < 0 && (acc & ((int64_t{1} << -e) - 1)) == (int64_t{1} << (-e - 1));
      const int32_t y = *EvaluateRecipe(exact, t, acc);
      const int32_t y_q = *EvaluateRecipe(qnnpack, t, acc);
      const int32_t y_f = *EvaluateRecipe(fbgemm, t, acc);
      const int32_t y_s = *EvaluateRecipe(single, t, acc);
      const int32_t y_o = *EvaluateRecipe(onednn, t, acc);
      const int32_t y_d = *EvaluateRecipe(dbl, t, acc);
      const auto context = [&] {
        std::ostringstream os;
        os << "acc=" << acc << " e=" << e << " s_x=2^" << a << " s_w=2^" << b << " z_y=" << q.z_y
           << " qmin=" << q.range.qmin << " tie=" << tie << " (seed 0x5eed2024, channel " << c
           << ")";
        return os.str();
      };
      ASSERT_EQ(y_q, y) << "qnnpack_fp32 vs exact " << context();
      ASSERT_EQ(y_f, y) << "fbgemm_fp32 vs exact " << context();
      if (tie) {
        ++ties;
        ASSERT_TRUE(y_s == y || y_s == y + 1) << "single_rounding at tie " << context();
      } else {
        ASSERT_EQ(y_s, y) << "single_rounding off tie " << context();
      }
      if (tie && (q.z_y & 1)) {
        ASSERT_LE(std::abs(y_o - y), 1) << "onednn_fp32 " << context();
      } else {
        ASSERT_EQ(y_o, y) << "onednn_fp32 " << context();
      }
      ASSERT_LE(std::abs(y_d - y), 1) << "double_rounding " << context();
      single_differs += y_s != y;
      onednn_differs += y_o != y;
      double_differs += y_d != y;
      unsaturated += y != q.range.qmin && y != 255;
      outputs.insert(y);
      ++draws;
    }
  }
  std::cout << "[ property ] draws=" << draws << " ties=" << ties
            << " single_rounding!=exact=" << single_differs << " onednn!=exact=" << onednn_differs
            << " double_rounding!=exact=" << double_differs << " unsaturated=" << unsaturated
            << "\n";
  RecordProperty("ties", static_cast<int>(ties));
  EXPECT_GT(ties, 0);
  EXPECT_GT(single_differs, 0);
  EXPECT_GT(onednn_differs, 0);
  EXPECT_GT(double_differs, 0);
  EXPECT_GT(unsaturated, draws / 2);
  EXPECT_GT(outputs.size(), 200u);
  CountFamily("random_power_of_two_property", draws);
}


// ---------------------------------------------------------------------------------------------
// rndnu, rndna, xnnpack_fp32 (oracles/schemes/): the same families. With power-of-two scales their
// binary32 multiplier M = f32(f32(s_x·s_w)/s_y) is exact, so only the rounding rule and the
// int32 bias set them apart: rndnu floor(v + 1/2) (2.5 → 3, −2.5 → −2), rndna away from zero
// (2.5 → 3, −2.5 → −3), xnnpack_fp32 RNE of the binary32 product with the zero point after and
// a float clamp before the conversion (no cvtps2dq overflow: it saturates).

TEST(RequantRndnu, ExactDivideByPowerOfTwo) { ExactDivideAllZeroPoints(Scheme::kRndnu); }
TEST(RequantRndna, ExactDivideByPowerOfTwo) { ExactDivideAllZeroPoints(Scheme::kRndna); }
TEST(RequantXnnpackFp32, ExactDivideByPowerOfTwo) { ExactDivideAllZeroPoints(Scheme::kXnnpackFp32); }

TEST(RequantRndnu, ExactTiesRoundHalfUp) { TiesAllZeroPoints(Scheme::kRndnu, TieExpectation::kHalfUp); }
TEST(RequantRndna, ExactTiesRoundHalfAway) { TiesAllZeroPoints(Scheme::kRndna, TieExpectation::kHalfAway); }
TEST(RequantXnnpackFp32, ExactTiesRoundHalfToEven) {
  TiesAllZeroPoints(Scheme::kXnnpackFp32, TieExpectation::kHalfEven);
}

TEST(RequantRndnu, OneStepFromTiesRoundsToNearest) { OneStepAllZeroPoints(Scheme::kRndnu, false); }
TEST(RequantRndna, OneStepFromTiesRoundsToNearest) { OneStepAllZeroPoints(Scheme::kRndna, false); }
TEST(RequantXnnpackFp32, OneStepFromTiesRoundsToNearest) {
  OneStepAllZeroPoints(Scheme::kXnnpackFp32, false);
}

TEST(RequantRndnu, LargeMultiplierSaturates) {
  OverflowAllZeroPoints(Scheme::kRndnu, OverflowExpectation::kSaturates);
}
TEST(RequantRndna, LargeMultiplierSaturates) {
  OverflowAllZeroPoints(Scheme::kRndna, OverflowExpectation::kSaturates);
}
TEST(RequantXnnpackFp32, LargeMultiplierSaturates) {
  OverflowAllZeroPoints(Scheme::kXnnpackFp32, OverflowExpectation::kSaturates);
}

TEST(RequantRndnu, HalfUnitBiasRoundsToZero) {
  HalfUnitBiasAll(Scheme::kRndnu, BiasExpectation::kRoundedToZero);
}
TEST(RequantRndna, HalfUnitBiasRoundsToZero) {
  HalfUnitBiasAll(Scheme::kRndna, BiasExpectation::kRoundedToZero);
}
TEST(RequantXnnpackFp32, HalfUnitBiasRoundsToZero) {
  HalfUnitBiasAll(Scheme::kXnnpackFp32, BiasExpectation::kRoundedToZero);
}

TEST(RequantRndnu, AccumulatorsBeyond2Pow24AreExact) { Beyond2Pow24All(Scheme::kRndnu, std::nullopt); }
TEST(RequantRndna, AccumulatorsBeyond2Pow24AreExact) { Beyond2Pow24All(Scheme::kRndna, std::nullopt); }
TEST(RequantXnnpackFp32, AccumulatorsBeyond2Pow24RoundInFloat) {
  Beyond2Pow24All(Scheme::kXnnpackFp32, TieExpectation::kHalfEven);
}

}  // namespace
}  // namespace qdiff
