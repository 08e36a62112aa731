// Tests of the exact arithmetic behind the `exact` requantization scheme (oracles/exact_rational).
//
// Reference values come from three independent places:
//   - hand derivations from the binary expansions of the doubles involved (in the comments);
//   - __int128 arithmetic for BigInt;
//   - IEEE-754 double operations (correctly rounded by definition) and long double arithmetic
//     on inputs chosen so that long double is provably exact.
#include "oracles/exact_rational.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>

namespace qdiff {
namespace {

constexpr TieRule kEven = TieRule::kHalfEven;
constexpr TieRule kAway = TieRule::kHalfAway;
constexpr TieRule kUp = TieRule::kHalfUp;

__extension__ typedef __int128 i128;  // __extension__: no -Wpedantic warning
__extension__ typedef unsigned __int128 u128;

BigInt FromI128(i128 x) {
  u128 m = x < 0 ? u128{0} - static_cast<u128>(x) : static_cast<u128>(x);
  BigInt r = BigInt::FromUint64(static_cast<uint64_t>(m >> 64)).ShiftLeft(64) +
             BigInt::FromUint64(static_cast<uint64_t>(m));
  return x < 0 ? -r : r;
}

std::string I128ToString(i128 x) {
  if (x == 0) return "0";
  u128 m = x < 0 ? u128{0} - static_cast<u128>(x) : static_cast<u128>(x);
  std::string s;
  while (m != 0) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(m % 10)));
    m /= 10;
  }
  return x < 0 ? "-" + s : s;
}

// A 32-bit limb that is often all-zeros, all-ones or top-bit-only: the corner cases of carries
// and of Algorithm D's quotient estimate.
uint32_t RandomLimb(std::mt19937_64& rng) {
  switch (rng() % 5) {
    case 0: return 0;
    case 1: return 0xffffffffu;
    case 2: return 0x80000000u;
    default: return static_cast<uint32_t>(rng());
  }
}

// Random value with a random bit length in [0, max_bits] and a random sign.
i128 RandomI128(std::mt19937_64& rng, int max_bits) {
  int bits = static_cast<int>(rng() % static_cast<uint64_t>(max_bits + 1));
  u128 m = 0;
  for (int limb = 0; limb < 4; ++limb) {
    m |= static_cast<u128>(RandomLimb(rng)) << (32 * limb);
  }
  if (bits < 128) m &= (u128{1} << bits) - 1;
  if (bits == 128) m >>= 1;  // keep within i128
  i128 x = static_cast<i128>(m);
  return (rng() & 1) ? -x : x;
}

// Random BigInt with up to `max_limbs` limbs and a random sign.
BigInt RandomBig(std::mt19937_64& rng, int max_limbs) {
  int limbs = static_cast<int>(rng() % static_cast<uint64_t>(max_limbs + 1));
  BigInt r;
  for (int i = 0; i < limbs; ++i) {
    r = r.ShiftLeft(32) + BigInt::FromUint64(RandomLimb(rng));
  }
  return (rng() & 1) ? -r : r;
}

Rational Q(int64_t num, int64_t den) {
  return Rational::FromBigInts(BigInt::FromInt64(num), BigInt::FromInt64(den));
}

// Bitwise equality of doubles, so that +0 vs -0 and NaN are told apart.
bool SameDouble(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// A random double m * 2^e with 53-bit m and e spread over the whole exponent range (including
// subnormals), with a random sign.
double RandomWideDouble(std::mt19937_64& rng) {
  double m = std::ldexp(static_cast<double>(rng() >> 11), -53);  // [0, 1)
  int e = static_cast<int>(rng() % 2100) - 1074;
  double x = std::ldexp(m, e);
  if (x == 0 || !std::isfinite(x)) x = 1.0;
  return (rng() & 1) ? -x : x;
}

// ---------------------------------------------------------------------------------------------
// BigInt

TEST(BigIntTest, Int64RoundTripAndToString) {
  for (int64_t x : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{4294967296}, INT64_MAX, INT64_MIN,
                    int64_t{-1234567890123456789}}) {
    BigInt b = BigInt::FromInt64(x);
    ASSERT_TRUE(b.FitsInt64()) << x;
    EXPECT_EQ(b.ToInt64(), x);
    EXPECT_EQ(b.ToString(), std::to_string(x));
  }
  EXPECT_FALSE((BigInt::FromInt64(INT64_MAX) + BigInt::FromInt64(1)).FitsInt64());
  EXPECT_FALSE((BigInt::FromInt64(INT64_MIN) - BigInt::FromInt64(1)).FitsInt64());
  EXPECT_EQ(BigInt::FromInt64(1).ShiftLeft(100).ToString(), "1267650600228229401496703205376");
  EXPECT_EQ(BigInt::FromInt64(1000000000).ToString(), "1000000000");  // 9-digit group boundary
  EXPECT_EQ(BigInt::FromInt64(-1).ShiftLeft(70).BitLength(), 71);
  EXPECT_EQ(BigInt::FromInt64(-1).ShiftLeft(70).CountTrailingZeros(), 70);
  EXPECT_EQ((-BigInt()).Sign(), 0);  // no negative zero
  EXPECT_EQ(BigInt::FromInt64(5) - BigInt::FromInt64(5), BigInt());
}

TEST(BigIntTest, AddSubMulShiftMatchInt128) {
  std::mt19937_64 rng(1);
  for (int iter = 0; iter < 20000; ++iter) {
    i128 a = RandomI128(rng, 126), b = RandomI128(rng, 126);
    ASSERT_EQ((FromI128(a) + FromI128(b)).ToString(), I128ToString(a + b));
    ASSERT_EQ((FromI128(a) - FromI128(b)).ToString(), I128ToString(a - b));
    ASSERT_EQ(BigInt::Compare(FromI128(a), FromI128(b)), (a > b) - (a < b));
    i128 c = RandomI128(rng, 63), d = RandomI128(rng, 63);
    ASSERT_EQ((FromI128(c) * FromI128(d)).ToString(), I128ToString(c * d));
    int s = static_cast<int>(rng() % 64);
    ASSERT_EQ(FromI128(c).ShiftLeft(s).ToString(), I128ToString(c * (i128{1} << s)));
    // ShiftRight truncates toward zero, like C++ division by 2^s.
    ASSERT_EQ(FromI128(a).ShiftRight(s).ToString(), I128ToString(a / (i128{1} << s)));
  }
}

TEST(BigIntTest, DivModMatchesInt128) {
  std::mt19937_64 rng(2);
  for (int iter = 0; iter < 200000; ++iter) {
    i128 a = RandomI128(rng, 127), b = RandomI128(rng, 1 + iter % 127);
    if (b == 0) continue;
    BigInt q, r;
    BigInt::DivMod(FromI128(a), FromI128(b), &q, &r);  // C++ semantics, like __int128
    ASSERT_EQ(q.ToString(), I128ToString(a / b)) << I128ToString(a) << " / " << I128ToString(b);
    ASSERT_EQ(r.ToString(), I128ToString(a % b)) << I128ToString(a) << " % " << I128ToString(b);
    // Floor: step the truncated quotient down when the remainder's sign differs from b's.
    const bool step = a % b != 0 && ((a % b < 0) != (b < 0));
    BigInt::FloorDivMod(FromI128(a), FromI128(b), &q, &r);
    ASSERT_EQ(q.ToString(), I128ToString(a / b - (step ? 1 : 0)));
    ASSERT_EQ(r.ToString(), I128ToString(a % b + (step ? b : 0)));
  }
}

// The add-back step (D6) of Algorithm D runs with probability ~2^-31 per quotient digit on
// uniformly random limbs. These pairs (from the test data of Hacker's Delight's divmnu64.c,
// limbs listed most significant first) are verified to reach it: the estimate qhat survives the
// vn[n-2] test but is still one too large.
TEST(BigIntTest, DivModAddBackStep) {
  const u128 cases[][2] = {
      // u = 7fffffff 80000000 00000000 00000000, v = 80000000 00000000 00000001
      {(u128{0x7fffffff80000000ull} << 64), (u128{0x80000000ull} << 64) | 1},
      // u = 80000000 00000000 00000003, v = 20000000 00000000 00000001
      {(u128{0x80000000ull} << 64) | 3, (u128{0x20000000ull} << 64) | 1},
  };
  for (const auto& c : cases) {
    const i128 u = static_cast<i128>(c[0]), v = static_cast<i128>(c[1]);
    for (int sign : {1, -1}) {
      BigInt q, r;
      BigInt::DivMod(FromI128(sign * u), FromI128(v), &q, &r);
      EXPECT_EQ(q.ToString(), I128ToString(sign * u / v));
      EXPECT_EQ(r.ToString(), I128ToString(sign * u % v));
    }
  }
}

TEST(BigIntTest, LargeDivModIdentity) {
  std::mt19937_64 rng(3);
  for (int iter = 0; iter < 20000; ++iter) {
    BigInt a = RandomBig(rng, 24), b = RandomBig(rng, 1 + iter % 12);
    if (b.IsZero()) continue;
    BigInt q, r;
    BigInt::DivMod(a, b, &q, &r);
    ASSERT_EQ(q * b + r, a) << a.ToString() << " / " << b.ToString();
    ASSERT_LT(BigInt::CompareMagnitude(r, b), 0);
    ASSERT_TRUE(r.IsZero() || r.Sign() == a.Sign());
    BigInt::FloorDivMod(a, b, &q, &r);
    ASSERT_EQ(q * b + r, a);
    ASSERT_LT(BigInt::CompareMagnitude(r, b), 0);
    ASSERT_TRUE(r.IsZero() || r.Sign() == b.Sign());
  }
}

TEST(BigIntTest, DivideByZeroThrows) {
  BigInt q, r;
  EXPECT_THROW(BigInt::DivMod(BigInt::FromInt64(1), BigInt(), &q, &r), std::domain_error);
}

// ---------------------------------------------------------------------------------------------
// Rational

TEST(RationalTest, FromDoubleIsExact) {
  // 0.1 = 0x1.999999999999ap-4 = 0x1999999999999a * 2^-56 = 3602879701896397 * 2^-55.
  Rational tenth = Rational::FromDouble(0.1);
  EXPECT_EQ(tenth.num().ToString(), "3602879701896397");
  EXPECT_EQ(tenth.den(), BigInt::FromInt64(1).ShiftLeft(55));
  // Smallest subnormal 2^-1074, largest double (2^53 - 1) * 2^971, -0.0 and 0.
  Rational tiny = Rational::FromDouble(std::ldexp(1.0, -1074));
  EXPECT_EQ(tiny.num(), BigInt::FromInt64(1));
  EXPECT_EQ(tiny.den(), BigInt::FromInt64(1).ShiftLeft(1074));
  Rational big = Rational::FromDouble(DBL_MAX);
  EXPECT_EQ(big.num(), BigInt::FromInt64((int64_t{1} << 53) - 1).ShiftLeft(971));
  EXPECT_EQ(big.den(), BigInt::FromInt64(1));
  EXPECT_EQ(Rational::FromDouble(-0.0).Sign(), 0);
  EXPECT_EQ(Rational::FromDouble(-3.0).num(), BigInt::FromInt64(-3));
  // A subnormal float (2^-149) is a normal double: exact too.
  EXPECT_EQ(Rational::FromDouble(static_cast<double>(std::ldexp(1.0f, -149))).den(),
            BigInt::FromInt64(1).ShiftLeft(149));
  EXPECT_THROW(Rational::FromDouble(HUGE_VAL), std::invalid_argument);
  EXPECT_THROW(Rational::FromDouble(std::nan("")), std::invalid_argument);
  EXPECT_THROW(Rational::FromRatio(1.0, 0.0), std::domain_error);
}

TEST(RationalTest, ArithmeticCompareFloor) {
  EXPECT_EQ(Rational::Compare(Q(1, 2) + Q(1, 3), Q(5, 6)), 0);
  EXPECT_EQ(Rational::Compare(Q(1, 2) - Q(1, 3), Q(1, 6)), 0);
  EXPECT_EQ(Rational::Compare(Q(-2, 3) * Q(9, 4), Q(-3, 2)), 0);
  EXPECT_EQ(Rational::Compare(Q(1, 3) / Q(-2, 7), Q(-7, 6)), 0);
  EXPECT_EQ(Rational::Compare(Q(1, 3), Q(33333, 100000)), 1);
  EXPECT_EQ(Rational::Compare(Q(-1, 3), Q(-33333, 100000)), -1);
  EXPECT_EQ(Q(7, 2).Floor(), BigInt::FromInt64(3));
  EXPECT_EQ(Q(-7, 2).Floor(), BigInt::FromInt64(-4));
  EXPECT_EQ(Q(-8, 2).Floor(), BigInt::FromInt64(-4));
  EXPECT_TRUE(Q(6, 3).IsInteger());  // no gcd reduction, still recognised
  EXPECT_FALSE(Q(7, 3).IsInteger());
  EXPECT_GT(Q(5, -3).den().Sign(), 0);
  EXPECT_THROW(Q(1, 2) / Rational(), std::domain_error);
  // Common factors of two are removed: 0.75 + 0.25 = 1/1.
  Rational one = Rational::FromDouble(0.75) + Rational::FromDouble(0.25);
  EXPECT_EQ(one.num(), BigInt::FromInt64(1));
  EXPECT_EQ(one.den(), BigInt::FromInt64(1));
}

// IEEE-754 +, *, / and fma are correctly rounded, so each must equal ToDouble() of the exact
// rational result; random operands span the whole exponent range, so results include
// subnormals, underflow to zero and overflow to infinity.
TEST(RationalTest, ToDoubleIsCorrectlyRounded) {
  std::mt19937_64 rng(4);
  int subnormal = 0, overflow = 0;
  for (int iter = 0; iter < 30000; ++iter) {
    double a = RandomWideDouble(rng), b = RandomWideDouble(rng), c = RandomWideDouble(rng);
    // Every third divisor is close to the dividend in magnitude: quotients near 1.
    if (iter % 3 == 0) b = std::ldexp(b, -std::ilogb(b) + std::ilogb(a) - (int)(rng() % 80));
    if (b == 0) b = 1;
    Rational ra = Rational::FromDouble(a), rb = Rational::FromDouble(b);
    double quo = a / b;
    if (std::fpclassify(quo) == FP_SUBNORMAL) ++subnormal;
    if (std::isinf(quo)) ++overflow;
    ASSERT_TRUE(SameDouble((ra / rb).ToDouble(), quo) || (quo == 0 && (ra / rb).ToDouble() == 0))
        << std::hexfloat << a << " / " << b;
    double prod = a * b;
    ASSERT_TRUE(SameDouble((ra * rb).ToDouble(), prod) || prod == 0)
        << std::hexfloat << a << " * " << b;
    if (a + b != 0) {
      ASSERT_TRUE(SameDouble((ra + rb).ToDouble(), a + b)) << std::hexfloat << a << " + " << b;
    }
    double f = std::fma(a, b, c);
    if (f != 0) {
      ASSERT_TRUE(SameDouble((ra * rb + Rational::FromDouble(c)).ToDouble(), f))
          << std::hexfloat << "fma " << a << " " << b << " " << c;
    }
  }
  EXPECT_GT(subnormal, 10);
  EXPECT_GT(overflow, 10);
}

TEST(RationalTest, ToDoubleEdgeCases) {
  const BigInt one = BigInt::FromInt64(1);
  EXPECT_EQ(Q(1, 3).ToDouble(), 1.0 / 3.0);
  EXPECT_EQ(Q(-1, 3).ToDouble(), -1.0 / 3.0);
  // Halfway between 0 and the smallest subnormal: ties to even, i.e. to 0.
  EXPECT_TRUE(SameDouble(Rational::FromBigInts(one, one.ShiftLeft(1075)).ToDouble(), 0.0));
  EXPECT_TRUE(SameDouble(Rational::FromBigInts(-one, one.ShiftLeft(1075)).ToDouble(), -0.0));
  // 3 * 2^-1076 = 0.75 * 2^-1074 rounds up to 2^-1074; 2^-1075 + 2^-1200 also.
  EXPECT_EQ(Rational::FromBigInts(BigInt::FromInt64(3), one.ShiftLeft(1076)).ToDouble(),
            std::ldexp(1.0, -1074));
  EXPECT_EQ(Rational::FromBigInts(one.ShiftLeft(125) + one, one.ShiftLeft(1200)).ToDouble(),
            std::ldexp(1.0, -1074));
  // 2^1024 - 2^970 is halfway between DBL_MAX and 2^1024: rounds (to even) to infinity.
  BigInt halfway = one.ShiftLeft(1024) - one.ShiftLeft(970);
  EXPECT_EQ(Rational::FromBigInts(halfway, one).ToDouble(), HUGE_VAL);
  EXPECT_EQ(Rational::FromBigInts(halfway - one, one).ToDouble(), DBL_MAX);
  EXPECT_EQ(Rational::FromBigInts(-halfway, one).ToDouble(), -HUGE_VAL);
  EXPECT_EQ(Rational::FromBigInts(one.ShiftLeft(5000), one).ToDouble(), HUGE_VAL);
  EXPECT_TRUE(SameDouble(Rational::FromBigInts(one, one.ShiftLeft(5000)).ToDouble(), 0.0));
}

// ---------------------------------------------------------------------------------------------
// RoundRational

struct TieCase {
  int64_t num, den;
  int64_t even, away, up;
  bool tie, integer;
};

TEST(RoundRationalTest, TieRulesTable) {
  const TieCase cases[] = {
      // v          even away  up   tie    integer
      {5, 2, /*2.5*/ 2, 3, 3, true, false},
      {-5, 2, /*-2.5*/ -2, -3, -2, true, false},
      {1, 2, /*0.5*/ 0, 1, 1, true, false},
      {-1, 2, /*-0.5*/ 0, -1, 0, true, false},
      {7, 2, /*3.5*/ 4, 4, 4, true, false},
      {-7, 2, /*-3.5*/ -4, -4, -3, true, false},
      {3, 2, /*1.5*/ 2, 2, 2, true, false},
      {15, 6, /*2.5, unreduced*/ 2, 3, 3, true, false},
      {12, 5, /*2.4*/ 2, 2, 2, false, false},
      {13, 5, /*2.6*/ 3, 3, 3, false, false},
      {-12, 5, /*-2.4*/ -2, -2, -2, false, false},
      {-13, 5, /*-2.6*/ -3, -3, -3, false, false},
      {-1, 3, /*-0.33*/ 0, 0, 0, false, false},
      {9, 3, /*3*/ 3, 3, 3, false, true},
      {-3, 1, /*-3*/ -3, -3, -3, false, true},
      {0, 1, /*0*/ 0, 0, 0, false, true},
  };
  for (const TieCase& c : cases) {
    const TieRule rules[] = {kEven, kAway, kUp};
    const int64_t want[] = {c.even, c.away, c.up};
    for (int i = 0; i < 3; ++i) {
      RoundResult r = RoundRational(Q(c.num, c.den), rules[i]);
      EXPECT_EQ(r.value, want[i]) << c.num << "/" << c.den << " " << TieRuleName(rules[i]);
      EXPECT_EQ(r.is_tie, c.tie) << c.num << "/" << c.den;
      EXPECT_EQ(r.is_integer, c.integer) << c.num << "/" << c.den;
      EXPECT_FALSE(r.saturated);
    }
  }
}

TEST(RoundRationalTest, Saturation) {
  const BigInt one = BigInt::FromInt64(1);
  RoundResult r = RoundRational(Rational::FromDouble(1e300), kEven);
  EXPECT_EQ(r.value, kRoundSaturation);
  EXPECT_TRUE(r.saturated);
  EXPECT_TRUE(r.is_integer);
  r = RoundRational(Rational::FromDouble(-1e300) + Q(1, 2), kUp);  // huge exact tie
  EXPECT_EQ(r.value, -kRoundSaturation);
  EXPECT_TRUE(r.saturated);
  EXPECT_TRUE(r.is_tie);
  // +-2^40 exactly is representable; 2^40 + 1/2 rounds to 2^40 (even) or saturates (up).
  r = RoundRational(Rational::FromInt(-kRoundSaturation), kEven);
  EXPECT_EQ(r.value, -kRoundSaturation);
  EXPECT_FALSE(r.saturated);
  r = RoundRational(Rational::FromInt(kRoundSaturation) + Q(1, 2), kEven);
  EXPECT_EQ(r.value, kRoundSaturation);
  EXPECT_FALSE(r.saturated);
  r = RoundRational(Rational::FromInt(kRoundSaturation) + Q(1, 2), kUp);
  EXPECT_EQ(r.value, kRoundSaturation);
  EXPECT_TRUE(r.saturated);
  r = RoundRational(Rational::FromInt(INT64_MIN), kAway);
  EXPECT_EQ(r.value, -kRoundSaturation);
  EXPECT_TRUE(r.saturated);
}

// ---------------------------------------------------------------------------------------------
// Requantization: v = (acc * s_x * s_w + b) / s_y

RoundResult Req(int64_t acc, double sx, double sw, std::optional<float> b, double sy,
                TieRule rule) {
  return RoundRational(RequantRealValue(acc, sx, sw, b, sy), rule);
}

TEST(RequantTest, ExactTieAndOneStepEitherSide) {
  // 5 * 0.25 * 1 / 0.5 = 2.5 exactly (all powers of two).
  EXPECT_EQ(Req(5, 0.25, 1, std::nullopt, 0.5, kEven).value, 2);
  EXPECT_EQ(Req(5, 0.25, 1, std::nullopt, 0.5, kAway).value, 3);
  EXPECT_EQ(Req(5, 0.25, 1, std::nullopt, 0.5, kUp).value, 3);
  EXPECT_TRUE(Req(5, 0.25, 1, std::nullopt, 0.5, kEven).is_tie);
  EXPECT_EQ(Req(-5, 0.25, 1, std::nullopt, 0.5, kEven).value, -2);
  EXPECT_EQ(Req(-5, 0.25, 1, std::nullopt, 0.5, kAway).value, -3);
  EXPECT_EQ(Req(-5, 0.25, 1, std::nullopt, 0.5, kUp).value, -2);
  // One double step above 0.25 is 0.25 * (1 + 2^-52): v = 2.5 + 2.5 * 2^-52 > 2.5 -> 3 always.
  // One step below is 0.25 * (1 - 2^-53): v = 2.5 - 2.5 * 2^-53 < 2.5 -> 2 always.
  const double above = std::nextafter(0.25, 1.0), below = std::nextafter(0.25, 0.0);
  for (TieRule rule : {kEven, kAway, kUp}) {
    RoundResult hi = Req(5, above, 1, std::nullopt, 0.5, rule);
    RoundResult lo = Req(5, below, 1, std::nullopt, 0.5, rule);
    EXPECT_EQ(hi.value, 3);
    EXPECT_EQ(lo.value, 2);
    EXPECT_FALSE(hi.is_tie || lo.is_tie || hi.is_integer || lo.is_integer);
    EXPECT_EQ(Req(-5, above, 1, std::nullopt, 0.5, rule).value, -3);
    EXPECT_EQ(Req(-5, below, 1, std::nullopt, 0.5, rule).value, -2);
  }
  // The same through s_y: one step above 0.5 pulls v below the tie.
  EXPECT_EQ(Req(5, 0.25, 1, std::nullopt, std::nextafter(0.5, 1.0), kUp).value, 2);
}

TEST(RequantTest, TenthOverFifthIsAnExactTie) {
  // 0.1 = 0x1.999999999999ap-4 and 0.2 = 0x1.999999999999ap-3 have the same mantissa, so
  // 0.1 / 0.2 = 2^-4 / 2^-3 = 1/2 exactly, although neither is 1/10 or 1/5.
  for (TieRule rule : {kEven, kAway, kUp}) {
    RoundResult r = Req(1, 0.1, 1, std::nullopt, 0.2, rule);
    EXPECT_TRUE(r.is_tie);
    EXPECT_EQ(r.value, rule == kEven ? 0 : 1);
    RoundResult n = Req(-1, 0.1, 1, std::nullopt, 0.2, rule);
    EXPECT_TRUE(n.is_tie);
    EXPECT_EQ(n.value, rule == kAway ? -1 : 0);
  }
  EXPECT_EQ(Req(3, 0.1, 1, std::nullopt, 0.2, kEven).value, 2);  // 1.5 -> 2
}

TEST(RequantTest, DoubleArithmeticFakesATie) {
  // 0.1 = 3602879701896397 * 2^-55 and 0.6 = 0x1.3333333333333p-1 = 5404319552844595 * 2^-53:
  //   15 * 0.1 / 0.6 = 15 * 3602879701896397 / (4 * 5404319552844595)
  //                  = 54043195528445955 / 21617278211378380,
  // and 2.5 * 21617278211378380 = 54043195528445950, five less than the numerator: v is just
  // above 2.5 and rounds to 3 under every rule. In doubles, 15 * 0.1 rounds to 1.5 and 1.5 / 0.6
  // rounds to 2.5, a fake tie that half-to-even would send to 2.
  ASSERT_EQ(15 * 0.1 / 0.6, 2.5);
  Rational v = RequantRealValue(15, 0.1, 1, std::nullopt, 0.6);
  EXPECT_EQ(Rational::Compare(v, Q(5, 2) + Q(5, 1) / Q(21617278211378380, 1)), 0);
  for (TieRule rule : {kEven, kAway, kUp}) {
    RoundResult r = RoundRational(v, rule);
    EXPECT_EQ(r.value, 3);
    EXPECT_FALSE(r.is_tie);
  }
  // 3 * 0.1 / 0.3 with 0.3 = 0x13333333333333 * 2^-54: 3 * 0x1999999999999a = 0x4ccccccccccccce
  // vs 4 * 0x13333333333333 = 0x4ccccccccccccc, so v = 1 + 2/0x4ccccccccccccc: not an integer.
  RoundResult r = Req(3, 0.1, 1, std::nullopt, 0.3, kEven);
  EXPECT_EQ(r.value, 1);
  EXPECT_FALSE(r.is_integer);
}

TEST(RequantTest, BiasOnly) {
  const float min_sub = std::ldexp(1.0f, -149);  // smallest subnormal float
  EXPECT_EQ(Req(0, 0.3, 0.7, 2.5f, 1.0, kEven).value, 2);
  EXPECT_TRUE(Req(0, 0.3, 0.7, 2.5f, 1.0, kEven).is_tie);
  EXPECT_EQ(Req(0, 0.3, 0.7, -2.5f, 1.0, kUp).value, -2);
  EXPECT_EQ(Req(0, 0.3, 0.7, -2.5f, 1.0, kAway).value, -3);
  // 2^-149 / 2^-150 = 2 and 2^-149 / 2^-148 = 1/2 (a tie).
  RoundResult two = Req(0, 1, 1, min_sub, std::ldexp(1.0, -150), kEven);
  EXPECT_EQ(two.value, 2);
  EXPECT_TRUE(two.is_integer);
  EXPECT_TRUE(Req(0, 1, 1, min_sub, std::ldexp(1.0, -148), kEven).is_tie);
  for (float b : {0.0f, -0.0f}) {
    RoundResult z = Req(0, 0.1, 0.1, b, 0.1, kAway);
    EXPECT_EQ(z.value, 0);
    EXPECT_TRUE(z.is_integer);
    EXPECT_FALSE(z.is_tie);
  }
}

TEST(RequantTest, TinyBiasBreaksATie) {
  // 5 * 0.25 / 0.5 = 2.5; adding b = +-2^-149 gives v = 2.5 +- 2^-148, which needs ~150 bits:
  // neither double nor long double can see it, the exact value must.
  const float min_sub = std::ldexp(1.0f, -149);
  for (TieRule rule : {kEven, kAway, kUp}) {
    EXPECT_EQ(Req(5, 0.25, 1, min_sub, 0.5, rule).value, 3);
    EXPECT_EQ(Req(5, 0.25, 1, -min_sub, 0.5, rule).value, 2);
    EXPECT_FALSE(Req(5, 0.25, 1, min_sub, 0.5, rule).is_tie);
  }
}

TEST(RequantTest, HugeAndTinyExponents) {
  // 3 * 2^-1074 * 2^1023 / 2^-52 = 3 * 2^1 = 6 (s_x is the smallest subnormal double).
  RoundResult six = Req(3, std::ldexp(1.0, -1074), std::ldexp(1.0, 1023), std::nullopt,
                        std::ldexp(1.0, -52), kEven);
  EXPECT_EQ(six.value, 6);
  EXPECT_TRUE(six.is_integer);
  // 5 * 2^900 * 2^-1000 / 2^-99 = 5 / 2: a tie built from extreme exponents.
  EXPECT_TRUE(Req(5, std::ldexp(1.0, 900), std::ldexp(1.0, -1000), std::nullopt,
                  std::ldexp(1.0, -99), kEven).is_tie);
  // 1e-30 * 1e30 is not exactly 1; its double approximation is the correctly rounded product.
  Rational v = RequantRealValue(1, 1e-30, 1e30, std::nullopt, 1.0);
  EXPECT_FALSE(v.IsInteger());
  EXPECT_EQ(RoundRational(v, kEven).value, 1);
  EXPECT_EQ(v.ToDouble(), 1e-30 * 1e30);
  // Astronomically large and small results saturate / round to 0.
  RoundResult big = Req((int64_t{1} << 61) + 1, 1e30, 1e30, 1e30f, 1e-30, kEven);
  EXPECT_EQ(big.value, kRoundSaturation);
  EXPECT_TRUE(big.saturated);
  EXPECT_EQ(Req(-(int64_t{1} << 61), 1e30, 1e30, std::nullopt, 1e-30, kEven).value,
            -kRoundSaturation);
  RoundResult small = Req(int64_t{1} << 61, 1e-300, 1e-300, std::nullopt, 1e300, kUp);
  EXPECT_EQ(small.value, 0);
  EXPECT_FALSE(small.is_integer);
  EXPECT_EQ(RequantRealValue(int64_t{1} << 61, 1e-300, 1e-300, std::nullopt, 1e300).ToDouble(),
            0.0);  // 2^61 * 1e-900 underflows
}

TEST(RequantTest, ExactRequantizeAddsZeroPointAndClamps) {
  ExactRequantResult r = ExactRequantize(5, 0.25, 1, std::nullopt, 0.5, 128, 0, 255, kEven);
  EXPECT_EQ(r.q, 130);  // round(2.5) = 2 (even), + 128
  EXPECT_TRUE(r.rounded.is_tie);
  EXPECT_EQ(r.v_approx, 2.5);
  r = ExactRequantize(5, 0.25, 1, std::nullopt, 0.5, -128, -128, 127, kAway);
  EXPECT_EQ(r.q, -125);
  r = ExactRequantize(int64_t{1} << 61, 1e30, 1e30, std::nullopt, 1e-30, 0, -128, 127, kEven);
  EXPECT_EQ(r.q, 127);
  EXPECT_TRUE(r.rounded.saturated);
  r = ExactRequantize(-1000, 0.5, 1, std::nullopt, 1, 0, 0, 255, kEven);
  EXPECT_EQ(r.q, 0);
  EXPECT_EQ(r.rounded.value, -500);
  EXPECT_EQ(r.v_approx, -500.0);
}

TEST(RequantTest, GeneralAffineForm) {
  // (acc + integer_bias) * f32_multiplier: (3 + 2) * 0.5f = 2.5, a tie; one float step above
  // 0.5f gives 2.5 + 5 * 2^-24 -> 3.
  Rational m = Rational::FromDouble(0.5f);
  EXPECT_TRUE(RoundRational(AffineTimes(3, Rational::FromInt(2), m), kEven).is_tie);
  Rational m_up = Rational::FromDouble(std::nextafter(0.5f, 1.0f));
  EXPECT_EQ(RoundRational(AffineTimes(3, Rational::FromInt(2), m_up), kEven).value, 3);
  // (acc + b/(s_x*s_w)) * (s_x*s_w/s_y) is algebraically the same real as RequantRealValue.
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> unit(0.5, 2.0);
  for (int iter = 0; iter < 2000; ++iter) {
    int64_t acc = static_cast<int64_t>(rng() % 2000001) - 1000000;
    double sx = std::ldexp(unit(rng), -static_cast<int>(rng() % 40));
    double sw = std::ldexp(unit(rng), -static_cast<int>(rng() % 40));
    double sy = std::ldexp(unit(rng), -static_cast<int>(rng() % 40));
    float b = static_cast<float>(std::ldexp(unit(rng) - 1.25, -static_cast<int>(rng() % 60)));
    Rational sxw = Rational::FromDouble(sx) * Rational::FromDouble(sw);
    Rational B = Rational::FromDouble(b) / sxw;
    Rational M = sxw / Rational::FromDouble(sy);
    ASSERT_EQ(Rational::Compare(AffineTimes(acc, B, M), RequantRealValue(acc, sx, sw, b, sy)), 0);
  }
}

// Inputs with small mantissas, where long double (64-bit significand) is provably exact:
//   acc < 2^15, s_x = mx * 2^ex, s_w = mw * 2^ew, b = mb * 2^eb with m* < 2^8, ex, ew in
//   [-8, 8], eb in [-16, 8]: P = acc*s_x*s_w + b is a multiple of 2^-16 below 2^48, i.e. an
//   integer below 2^64 times 2^-16, so every step of computing P is exact.
struct SmallInputs {
  int64_t acc;
  double sx, sw;
  float b;
  long double P;
};

// Integer-valued x clamped to [-2^40, 2^40], as RoundRational saturates.
int64_t Sat(long double x) {
  const long double lim = static_cast<long double>(kRoundSaturation);
  return static_cast<int64_t>(x > lim ? lim : x < -lim ? -lim : x);
}

SmallInputs RandomSmall(std::mt19937_64& rng) {
  auto mant = [&] { return static_cast<double>(1 + rng() % 255); };
  auto expo = [&](int lo, int hi) { return lo + static_cast<int>(rng() % (hi - lo + 1)); };
  SmallInputs in;
  in.acc = static_cast<int64_t>(rng() % 65535) - 32767;
  in.sx = std::ldexp(mant(), expo(-8, 8));
  in.sw = std::ldexp(mant(), expo(-8, 8));
  in.b = static_cast<float>(std::ldexp((rng() & 1 ? -1 : 1) * mant(), expo(-16, 8)));
  in.P = static_cast<long double>(in.acc) * in.sx * in.sw + in.b;
  return in;
}

TEST(RequantTest, MatchesExactLongDoubleWithPowerOfTwoOutputScale) {
  // s_y = 2^ey with ey in [-8, 40]: v = P / s_y is exact in long double, so the libm rounding
  // functions are a reference: nearbyintl (to nearest even), roundl (half away from zero), and
  // floor + (frac >= 1/2) for half-up (v - floorl(v) is exact); clamped to +-2^40 like
  // RoundRational.
  static_assert(LDBL_MANT_DIG >= 64, "needs x87 extended long double");
  std::mt19937_64 rng(6);
  int ties = 0, integers = 0, saturated = 0;
  for (int iter = 0; iter < 100000; ++iter) {
    SmallInputs in = RandomSmall(rng);
    double sy = std::ldexp(1.0, -8 + static_cast<int>(rng() % 49));
    long double v = in.P / sy;
    long double fl = std::floor(v), frac = v - fl;
    Rational exact = RequantRealValue(in.acc, in.sx, in.sw, in.b, sy);
    RoundResult even = RoundRational(exact, kEven);
    ASSERT_EQ(even.value, Sat(std::nearbyint(v))) << static_cast<double>(v);
    ASSERT_EQ(RoundRational(exact, kAway).value, Sat(std::round(v)));
    ASSERT_EQ(RoundRational(exact, kUp).value, Sat(fl + (frac >= 0.5L ? 1 : 0)));
    ASSERT_EQ(even.is_tie, frac == 0.5L);
    ASSERT_EQ(even.is_integer, frac == 0);
    ASSERT_EQ(exact.ToDouble(), static_cast<double>(v));  // one rounding from an exact value
    ties += even.is_tie;
    integers += even.is_integer;
    saturated += even.saturated;
  }
  EXPECT_GT(ties, 1000);  // the tie, integer and saturation paths really ran
  EXPECT_GT(integers, 1000);
  EXPECT_GT(saturated, 1000);
}

TEST(RequantTest, MatchesExactLongDoubleWithGeneralOutputScale) {
  // s_y = my * 2^ey, my < 2^8, ey in [-8, 30]. P / s_y is not exact, but with q the candidate
  // floor, q * s_y (q < 2^56 times my < 2^8: below 2^64) and the remainder P - q * s_y are
  // exact, so the floor is checked and the fraction compared with 1/2 exactly.
  std::mt19937_64 rng(7);
  for (int iter = 0; iter < 100000; ++iter) {
    SmallInputs in = RandomSmall(rng);
    double sy = std::ldexp(static_cast<double>(1 + rng() % 255), -8 + static_cast<int>(rng() % 39));
    long double q = std::floor(in.P / sy);
    long double rem = in.P - q * sy;
    if (rem < 0) { q -= 1; rem += sy; }
    if (rem >= sy) { q += 1; rem -= sy; }
    ASSERT_TRUE(rem >= 0 && rem < sy);
    int64_t f = static_cast<int64_t>(q);
    int64_t want_even = Sat(2 * rem < sy ? f : 2 * rem > sy ? f + 1 : f + (f & 1));
    Rational exact = RequantRealValue(in.acc, in.sx, in.sw, in.b, sy);
    RoundResult r = RoundRational(exact, kEven);
    ASSERT_EQ(r.value, want_even);
    ASSERT_EQ(r.is_tie, 2 * rem == sy);
    ASSERT_EQ(r.is_integer, rem == 0);
  }
}

}  // namespace
}  // namespace qdiff
