// The exact-arithmetic filter of EvaluateRecipe (long double approximation, rationals only near a
// tie) must give the same output as the rational path on every input. EvaluateRecipe with a trace
// always takes the rational path, so the two are compared directly on random channels, exact
// ties (power-of-two scales), values one rational step beside ties, and huge accumulators.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "oracles/recipe.h"
#include "oracles/scheme.h"

namespace qdiff {
namespace {

TEST(RecipeFilter, EqualsRationalArithmeticEverywhere) {
  std::vector<Recipe> recipes;
  for (const SchemeDef* s : AllSchemes()) {
    if (s->recipe.arithmetic == Arithmetic::kExact) recipes.push_back(s->recipe);
  }
  // Counterfactual variants the classifier evaluates.
  for (Recipe r : std::vector<Recipe>(recipes)) {
    for (Rounding rounding : {Rounding::kHalfEven, Rounding::kHalfAway, Rounding::kHalfUp}) {
      for (ZeroPointOrder order : {ZeroPointOrder::kAfterRounding, ZeroPointOrder::kBeforeRounding}) {
        r.rounding = rounding;
        r.zero_point_order = order;
        recipes.push_back(r);
      }
    }
  }
  std::mt19937_64 rng(5);
  int64_t checked = 0, ties = 0;
  for (int c = 0; c < 3000; ++c) {
    ChannelQuant q;
    const bool pow2 = rng() % 2;
    auto scale = [&] {
      return pow2 ? std::ldexp(1.0, -static_cast<int>(rng() % 12))
                  : static_cast<double>(static_cast<float>(std::ldexp(1.0 + (rng() % 1000000) / 1e6, -static_cast<int>(rng() % 12))));
    };
    q.s_x = scale();
    q.s_w = scale();
    q.s_y = scale();
    q.per_channel = rng() % 2;
    q.z_y = static_cast<int32_t>(rng() % 256);
    if (rng() % 3) {
      // Often a bias of a whole or half number of accumulator steps (ties), sometimes arbitrary.
      const double unit = q.s_x * q.s_w;
      q.bias = static_cast<float>(rng() % 2 ? unit * (static_cast<int>(rng() % 2001) - 1000) / 2.0
                                            : (static_cast<int>(rng() % 20001) - 10000) * 1e-3);
    }
    q.range = {0, 255};
    const ChannelTerms t = PrepareChannel(q);
    for (int i = 0; i < 40; ++i) {
      // Accumulators that land inside the output range, plus some huge ones.
      const double m = q.s_x * q.s_w / q.s_y;
      int64_t acc = static_cast<int64_t>((static_cast<double>(rng() % 600) - 300) / m);
      if (i % 10 == 0) acc += static_cast<int64_t>(rng() % 5) - 2;  // steps beside ties
      if (i == 39) acc = static_cast<int32_t>(rng());
      for (const Recipe& r : recipes) {
        RecipeTrace trace;
        const std::optional<int32_t> rational = EvaluateRecipe(r, t, acc, &trace);
        const std::optional<int32_t> filtered = EvaluateRecipe(r, t, acc);
        ASSERT_EQ(rational.has_value(), filtered.has_value());
        if (!rational) continue;
        ASSERT_EQ(*filtered, *rational) << "acc=" << acc << " s_x=" << q.s_x << " s_w=" << q.s_w
                                        << " s_y=" << q.s_y << " z_y=" << q.z_y;
        ++checked;
        ties += trace.exact_tie;
      }
    }
  }
  std::cout << "[ filter ] " << checked << " evaluations, " << ties << " exact ties\n";
  EXPECT_GT(ties, 1000);
}

}  // namespace
}  // namespace qdiff

namespace qdiff {
namespace {

// (acc + b/(s_x·s_w))·s_x·s_w/s_y rounded to double by the rationals alone, + z_y.
// (acc + b/(s_x·s_w))·s_x·s_w/s_y, exactly.
Rational RationalRealValue(const ChannelQuant& q, int64_t acc) {
  const Rational sxw = Rational::FromDouble(q.s_x) * Rational::FromDouble(q.s_w);
  Rational v = Rational::FromInt(acc);
  if (q.bias) v = v + Rational::FromDouble(*q.bias) / sxw;
  return v * sxw / Rational::FromDouble(q.s_y);
}

double RationalRealOutput(const ChannelQuant& q, int64_t acc) { return RationalRealValue(q, acc).ToDouble() + q.z_y; }

// Full-precision scales 2^-(exponents − 1) .. 2, z_y in [0, 255], and in three channels of four a
// bias of (−10000 .. 10000)·bias_step.
ChannelQuant RandomChannel(std::mt19937_64& rng, int exponents = 20, double bias_step = 1e-3) {
  ChannelQuant q;
  auto scale = [&] { return std::ldexp(1.0 + (rng() >> 11) * 0x1.0p-53, -static_cast<int>(rng() % exponents)); };
  q.s_x = scale();
  q.s_w = scale();
  q.s_y = scale();
  q.z_y = static_cast<int32_t>(rng() % 256);
  if (rng() % 4) q.bias = static_cast<float>((static_cast<double>(rng() % 20001) - 10000) * bias_step);
  return q;
}

// ApproximateRealOutput's bound (recipe.h) holds, measured in rationals: the long double is
// split into two doubles, exactly. A bound 2^3 times smaller fails here.
TEST(RecipeFilter, RealOutputApproximationStaysWithinItsErrorBound) {
  std::mt19937_64 rng(17);
  long double worst = 0;  // the largest |approximation − exact| / error seen
  for (int c = 0; c < 2000; ++c) {
    const ChannelQuant q = RandomChannel(rng);
    const ChannelTerms t = PrepareChannel(q);
    for (int i = 0; i < 50; ++i) {
      const int64_t acc = i == 49 ? static_cast<int64_t>(rng() >> 20) - (int64_t{1} << 43)
                                  : static_cast<int64_t>(rng() % 2000001) - 1000000;
      const RealOutputApproximation a = ApproximateRealOutput(t, acc);
      const double hi = static_cast<double>(a.value);
      const double lo = static_cast<double>(a.value - hi);  // exact: 64 bits fit in two doubles
      const Rational distance = RationalRealValue(q, acc) - Rational::FromDouble(hi) - Rational::FromDouble(lo);
      const long double d = std::fabs(static_cast<long double>(distance.ToDouble()));
      ASSERT_LE(d, a.error) << "channel " << c << " acc " << acc;
      if (a.error > 0) worst = std::max(worst, d / a.error);
    }
  }
  EXPECT_GT(worst, 0.01L);  // the approximations are not all exact: the bound is exercised
}

// The channels of the generators' observer range: float scales (24-bit significands) s_x and s_w,
// s_y a power of two (1 in a third: RealOutputRange's calls), a float bias in three of four.
// ApproximateRealOutput computes these with one rounding and knows its error exactly.
ChannelQuant ShortScalesChannel(std::mt19937_64& rng) {
  ChannelQuant q;
  auto float_scale = [&] { return static_cast<double>(static_cast<float>(std::ldexp(1.0 + (rng() >> 11) * 0x1.0p-53, -static_cast<int>(rng() % 16)))); };
  q.s_x = float_scale();
  q.s_w = rng() % 8 == 0 ? std::ldexp(1.0, -static_cast<int>(rng() % 12)) : float_scale();
  q.s_y = rng() % 3 == 0 ? 1.0 : std::ldexp(1.0, static_cast<int>(rng() % 20) - 14);
  q.z_y = static_cast<int32_t>(rng() % 256);
  if (rng() % 4) q.bias = static_cast<float>(std::ldexp(static_cast<double>(rng() % 2000001) - 1000000, -static_cast<int>(rng() % 30)));
  return q;
}

// An accumulator below the channel's exact-product bound, or at most twice past it (where
// the product may need 65 bits: the bound must not admit those).
int64_t AccAroundExactBound(std::mt19937_64& rng, const ChannelTerms& t, int i) {
  const int64_t bound = std::min<int64_t>(t.exact_product_acc_bound, int64_t{1} << 52);
  const int64_t span = i % 5 == 4 ? 2 * bound : i % 5 == 3 ? bound : 1 << 16;
  const int64_t acc = static_cast<int64_t>(rng() % static_cast<uint64_t>(span));
  return rng() % 2 ? acc : -acc;
}

TEST(RecipeFilter, ShortScalesRealOutputIsExactButForOneRoundingItMeasures) {
  std::mt19937_64 rng(23);
  int64_t short_path = 0, inexact = 0, exact = 0;
  for (int c = 0; c < 3000; ++c) {
    const ChannelQuant q = ShortScalesChannel(rng);
    const ChannelTerms t = PrepareChannel(q);
    ASSERT_GT(t.exact_product_acc_bound, int64_t{1} << 15) << "channel " << c;
    for (int i = 0; i < 40; ++i) {
      const int64_t acc = AccAroundExactBound(rng, t, i);
      const RealOutputApproximation a = ApproximateRealOutput(t, acc);
      const double hi = static_cast<double>(a.value);
      const double lo = static_cast<double>(a.value - hi);
      const Rational distance = RationalRealValue(q, acc) - Rational::FromDouble(hi) - Rational::FromDouble(lo);
      const long double d = std::fabs(static_cast<long double>(distance.ToDouble()));
      ASSERT_LE(d, a.error) << "channel " << c << " acc " << acc;
      ASSERT_EQ(ExactRealOutput(t, acc), RationalRealOutput(q, acc)) << "channel " << c << " acc " << acc;
      if (std::llabs(acc) < t.exact_product_acc_bound) {
        ++short_path;
        (a.error == 0 ? exact : inexact) += 1;
        // the error is the sum's rounding error exactly, not a bound on it
        const double error_hi = static_cast<double>(a.error);
        const Rational error = Rational::FromDouble(error_hi) + Rational::FromDouble(static_cast<double>(a.error - error_hi));
        const Rational magnitude = distance.Sign() < 0 ? -distance : distance;
        ASSERT_EQ(Rational::Compare(magnitude, error), 0) << "channel " << c << " acc " << acc;
      }
    }
  }
  EXPECT_GT(exact, 10000);    // no bias, or a sum that fits: no rounding at all
  EXPECT_GT(inexact, 10000);  // the sum rounded, by the error given
  EXPECT_GT(short_path, 100000);
}

// ExactRealOutput rounds a long double when its error bound allows: the same double as the
// rationals on random channels (some lie near enough to a midpoint to take the rational path),
// on huge accumulators and on values exactly halfway between two doubles.
TEST(RecipeFilter, ExactRealOutputEqualsTheRationalRounding) {
  std::mt19937_64 rng(11);
  int64_t checked = 0;
  for (int c = 0; c < 2000; ++c) {
    const ChannelQuant q = RandomChannel(rng);
    const ChannelTerms t = PrepareChannel(q);
    for (int i = 0; i < 50; ++i) {
      int64_t acc = static_cast<int64_t>(rng() % 2000001) - 1000000;
      if (i == 49) acc = static_cast<int64_t>(rng() >> 20) - (int64_t{1} << 43);
      ASSERT_EQ(ExactRealOutput(t, acc), RationalRealOutput(q, acc)) << "channel " << c << " acc " << acc;
      ++checked;
    }
  }
  // Exactly halfway: 2^53 + 1 lies between the doubles 2^53 and 2^53 + 2 and rounds to even.
  ChannelQuant half;
  half.z_y = 0;
  const ChannelTerms t = PrepareChannel(half);
  for (int64_t acc : {(int64_t{1} << 53) + 1, (int64_t{1} << 53) + 3, -(int64_t{1} << 54) - 2}) {
    EXPECT_EQ(ExactRealOutput(t, acc), RationalRealOutput(half, acc)) << acc;
  }
  EXPECT_EQ(ExactRealOutput(t, (int64_t{1} << 53) + 1), 0x1p53);
  EXPECT_EQ(ExactRealOutput(t, (int64_t{1} << 53) + 3), 0x1p53 + 4);
  EXPECT_EQ(checked, 100000);
}

}  // namespace
}  // namespace qdiff

namespace qdiff {
namespace {

// The filter's claimed bound holds: |approximation − (acc + B)·M (+ z_y)| ≤ error, measured in
// rationals, for every exact recipe on channels with full-precision scales and biases, whose
// approximations are rarely exact (a too small bound fails here long before it could turn an
// output).
TEST(RecipeFilter, ApproximationStaysWithinItsErrorBound) {
  std::mt19937_64 rng(13);
  int64_t inexact = 0;
  for (const SchemeDef* scheme : AllSchemes()) {
    const Recipe& r = scheme->recipe;
    if (r.arithmetic != Arithmetic::kExact || r.rounding == Rounding::kDoubleRoundingQ31) continue;
    for (int c = 0; c < 300; ++c) {
      const ChannelQuant q = RandomChannel(rng, 16, 1.37e-3);
      const ChannelTerms t = PrepareChannel(q);
      // B and M as the recipe's forms hold them (recipe.h), exactly.
      Rational b = Rational::FromInt(0);
      if (q.bias) {
        switch (r.bias) {
          case BiasForm::kExactReal: b = t.bias_exact(); break;
          case BiasForm::kInt32Torch: b = Rational::FromInt(t.bias_int32); break;
          case BiasForm::kFloatFbgemm: b = Rational::FromDouble(t.bias_fbgemm); break;
          case BiasForm::kFloatOnednn: b = Rational::FromDouble(t.bias_onednn); break;
        }
      }
      Rational m = t.multiplier_exact();
      switch (r.multiplier) {
        case MultiplierForm::kExactReal: break;
        case MultiplierForm::kQ31: m = Rational::FromDouble(QuantizedMultiplierValue(t.q31)); break;
        case MultiplierForm::kF32Qnnpack: m = Rational::FromDouble(t.multiplier_qnnpack); break;
        case MultiplierForm::kF32Fbgemm: m = Rational::FromDouble(t.multiplier_fbgemm); break;
        case MultiplierForm::kF32Onednn: m = Rational::FromDouble(t.multiplier_onednn); break;
      }
      for (int i = 0; i < 30; ++i) {
        const int64_t acc = static_cast<int64_t>(rng() % 4000001) - 2000000;
        const std::optional<FilterApproximation> a = ApproximateExact(r, t, acc);
        if (!a) continue;
        Rational exact = (Rational::FromInt(acc) + b) * m;
        if (r.zero_point_order == ZeroPointOrder::kBeforeRounding) exact = exact + Rational::FromInt(q.z_y);
        const Rational distance = exact - Rational::FromDouble(a->value);
        const double d = std::fabs(distance.ToDouble());
        ASSERT_LE(d, a->error) << scheme->name << " acc " << acc;
        inexact += d > 0;
      }
    }
  }
  EXPECT_GT(inexact, 1000);  // the bound was tested where it matters
}

}  // namespace
}  // namespace qdiff
