// The exact references of add, mul and cat (BinaryExact, RunCatExact) round a long double value
// first and use rationals only near a tie (FilteredExactQuantize). Where the filter answers, it
// must give the rational path's output: checked on random scales, exact ties (power-of-two
// scales, where half-integers are common) and values beside them; and the ties themselves must
// be left to the rational path.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "oracles/ops/op_common.h"

namespace qdiff {
namespace {

TEST(OpExactFilter, EqualsRationalArithmeticWhereItAnswers) {
  std::mt19937_64 rng(11);
  int64_t answered = 0, ties = 0, deferred = 0;
  for (int c = 0; c < 4000; ++c) {
    const bool pow2 = rng() % 2;
    auto scale = [&] {
      return pow2 ? std::ldexp(1.0, -static_cast<int>(rng() % 12))
                  : static_cast<double>(static_cast<float>(
                        std::ldexp(1.0 + (rng() % 1000000) / 1e6, -static_cast<int>(rng() % 12))));
    };
    const DType dtype = rng() % 2 ? DType::kQUInt8 : DType::kQInt8;
    const QuantRange r = TypeRange(dtype);
    auto zero_point = [&] { return r.qmin + static_cast<int32_t>(rng() % 256); };
    const QTensor a = PerTensorQTensor(dtype, {1}, {r.qmin + static_cast<int32_t>(rng() % 256)}, scale(), zero_point());
    const QTensor b = PerTensorQTensor(dtype, {1}, {r.qmin + static_cast<int32_t>(rng() % 256)}, scale(), zero_point());
    const double sy = scale();
    const int32_t zy = zero_point();
    const Rational sy_exact = Rational::FromDouble(sy);
    const Rational xa = ExactInput(a, 0), xb = ExactInput(b, 0);
    const long double la = ExactInputLd(a, 0), lb = ExactInputLd(b, 0);
    // add, mul (the BinaryExact combines) and cat's single input
    const std::pair<long double, Rational> values[] = {
        {(la + lb) / sy, (xa + xb) / sy_exact}, {(la * lb) / sy, (xa * xb) / sy_exact}, {la / sy, xa / sy_exact}};
    for (const auto& [approx, exact] : values) {
      const std::optional<int32_t> filtered = FilteredExactQuantize(approx, zy, r);
      const RoundResult rr = RoundRational(exact, TieRule::kHalfEven);
      if (rr.is_tie) {
        ++ties;
        EXPECT_FALSE(filtered) << "an exact tie must go to the rational path: " << exact.ToString();
      }
      if (!filtered) {
        ++deferred;
        continue;
      }
      ++answered;
      ASSERT_EQ(*filtered, ExactQuantize(exact, zy, r)) << "value " << exact.ToString() << ", z_y " << zy;
    }
  }
  // The inputs reach both paths: most elements are answered, exact ties exist and are deferred.
  EXPECT_GT(answered, 8000);
  EXPECT_GT(ties, 100);
  EXPECT_GE(deferred, ties);
}

}  // namespace
}  // namespace qdiff
