// Exact arithmetic for the `exact` requantization scheme: no rounding anywhere until the final,
// explicitly chosen rounding to an integer.
//
// Every finite double (and hence every float) is an integer times a power of two, m * 2^e, so the
// real value of a requantized output
//
//   v = (acc * s_x * s_w + b) / s_y
//
// is a rational number whose numerator and denominator are (big) integers. This file provides
// just enough machinery to compute such values exactly and to round them:
//
//   BigInt    sign + magnitude integer of unbounded size (add, sub, mul, shifts, compare,
//             division with remainder).
//   Rational  num / den with den > 0, built exactly from doubles, closed under + - * /.
//   RoundRational  nearest integer under a tie rule, plus exact "is a tie" / "is an integer".
//
// Sizes: a double needs at most 53 significant bits and an exponent in [-1074, 971], so values
// built from a handful of doubles stay within a few thousand bits even in the worst case; with
// exponents within +-60 everything fits in two to four 32-bit limbs.
//
// Standard library only, no I/O. Errors that are programming mistakes (non-finite doubles,
// division by zero) throw std::invalid_argument / std::domain_error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace qdiff {

// Little-endian base-2^32 limbs, the first kInline of them stored in place: values built from a
// few doubles with exponents within about ±100 (every scale and bias qdiff meets) never touch the
// heap. The subset of std::vector's interface BigInt uses; new limbs are zero unless given.
class LimbVector {
 public:
  static constexpr size_t kInline = 8;

  LimbVector() = default;
  explicit LimbVector(size_t n, uint32_t value = 0) { resize(n, value); }
  LimbVector(const LimbVector& o) { *this = o; }
  LimbVector(LimbVector&& o) noexcept { *this = std::move(o); }
  LimbVector& operator=(const LimbVector& o);
  LimbVector& operator=(LimbVector&& o) noexcept;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  uint32_t* data() { return on_heap_ ? heap_.data() : inline_; }
  const uint32_t* data() const { return on_heap_ ? heap_.data() : inline_; }
  uint32_t& operator[](size_t i) { return data()[i]; }
  uint32_t operator[](size_t i) const { return data()[i]; }
  uint32_t back() const { return data()[size_ - 1]; }

  void resize(size_t n, uint32_t value = 0);
  void assign(size_t n, uint32_t value) {
    clear();
    resize(n, value);
  }
  void push_back(uint32_t x) { resize(size_ + 1, x); }
  void pop_back() { resize(size_ - 1); }
  void clear() {
    size_ = 0;
    on_heap_ = false;
    heap_.clear();
  }

 private:
  uint32_t inline_[kInline] = {};
  std::vector<uint32_t> heap_;  // the limbs when on_heap_
  size_t size_ = 0;
  bool on_heap_ = false;
};

// Arbitrary-precision signed integer.
// Invariants: mag_ is little-endian base 2^32 with no most-significant zero limbs; zero is the
// empty magnitude and is never negative (so there is exactly one representation of each value).
class BigInt {
 public:
  BigInt() = default;  // zero
  static BigInt FromInt64(int64_t x);  // any int64, including INT64_MIN
  static BigInt FromUint64(uint64_t x);

  bool IsZero() const { return mag_.empty(); }
  int Sign() const { return IsZero() ? 0 : (neg_ ? -1 : 1); }
  bool IsOdd() const { return !mag_.empty() && (mag_[0] & 1u); }
  // Number of bits of |*this| (0 for zero).
  int64_t BitLength() const;
  // Number of trailing zero bits of |*this| (0 for zero).
  int64_t CountTrailingZeros() const;
  // True if the value fits in int64_t; ToInt64 requires it.
  bool FitsInt64() const;
  int64_t ToInt64() const;
  // Low 64 bits of |*this|.
  uint64_t MagnitudeLow64() const;

  BigInt operator-() const;
  BigInt operator+(const BigInt& o) const;
  BigInt operator-(const BigInt& o) const;
  BigInt operator*(const BigInt& o) const;
  // *this * 2^bits.
  BigInt ShiftLeft(int64_t bits) const;
  // sign(*this) * floor(|*this| / 2^bits): truncates toward zero; exact when the low bits are 0.
  BigInt ShiftRight(int64_t bits) const;

  // -1, 0, +1 as a <, ==, > b (signed), and as |a| <, ==, > |b|.
  static int Compare(const BigInt& a, const BigInt& b);
  static int CompareMagnitude(const BigInt& a, const BigInt& b);

  // Truncating division, like C++ integer division: a = q*b + r, q rounded toward zero,
  // r has the sign of a (or is 0), |r| < |b|. Throws std::domain_error if b == 0.
  static void DivMod(const BigInt& a, const BigInt& b, BigInt* q, BigInt* r);
  // Floor division: a = q*b + r, q = floor(a/b), r has the sign of b (or is 0), |r| < |b|.
  static void FloorDivMod(const BigInt& a, const BigInt& b, BigInt* q, BigInt* r);

  std::string ToString() const;  // decimal, with a leading '-' if negative

  friend bool operator==(const BigInt& a, const BigInt& b) { return Compare(a, b) == 0; }
  friend bool operator!=(const BigInt& a, const BigInt& b) { return Compare(a, b) != 0; }
  friend bool operator<(const BigInt& a, const BigInt& b) { return Compare(a, b) < 0; }

 private:
  bool neg_ = false;
  LimbVector mag_;
};

// Exact rational number num / den.
// Invariants: den > 0; num and den are not both even (common factors of two are removed after
// every operation, which keeps values built from doubles small; no other gcd reduction is done,
// so e.g. 6/3 is a valid representation of 2). Zero is 0/1.
class Rational {
 public:
  Rational() : den_(BigInt::FromInt64(1)) {}
  // num / den; throws std::domain_error if den == 0.
  static Rational FromBigInts(const BigInt& num, const BigInt& den);
  static Rational FromInt(int64_t x);
  // Exact value of a finite double (floats convert to double exactly, so this covers floats).
  // Throws std::invalid_argument for inf/NaN. -0.0 gives 0.
  static Rational FromDouble(double x);
  // a / b exactly (not the rounded double quotient). Throws if b == 0 or either is non-finite.
  static Rational FromRatio(double a, double b);

  const BigInt& num() const { return num_; }
  const BigInt& den() const { return den_; }

  Rational operator-() const;
  Rational operator+(const Rational& o) const;
  Rational operator-(const Rational& o) const;
  Rational operator*(const Rational& o) const;
  Rational operator/(const Rational& o) const;  // throws std::domain_error if o == 0

  int Sign() const { return num_.Sign(); }
  bool IsInteger() const;
  BigInt Floor() const;
  static int Compare(const Rational& a, const Rational& b);  // -1, 0, +1

  // Correctly rounded (round-to-nearest-even) double, including subnormals; +-inf on overflow.
  double ToDouble() const;
  std::string ToString() const;  // "num/den" in decimal

 private:
  Rational(BigInt num, BigInt den) : num_(std::move(num)), den_(std::move(den)) {}
  void Normalize();  // restores the invariants (den > 0, not both even)

  BigInt num_;
  BigInt den_;
};

// How an exact tie (fractional part exactly 1/2) is resolved.
enum class TieRule {
  kHalfEven,  // to the even neighbour: 2.5 -> 2, -2.5 -> -2, 3.5 -> 4
  kHalfAway,  // away from zero:        2.5 -> 3, -2.5 -> -3
  kHalfUp,    // toward +infinity:      2.5 -> 3, -2.5 -> -2
};
const char* TieRuleName(TieRule rule);

// Results beyond this magnitude are saturated: RoundResult::value stays in
// [-kRoundSaturation, kRoundSaturation], so adding any int32 zero point cannot overflow int64.
constexpr int64_t kRoundSaturation = int64_t{1} << 40;

struct RoundResult {
  int64_t value = 0;        // nearest integer to v under the tie rule, clamped to +-2^40
  bool is_tie = false;      // v - floor(v) == 1/2 exactly
  bool is_integer = false;  // v is an integer exactly
  bool saturated = false;   // the true rounded value was outside +-2^40 (value is clamped)
};

// Rounds v to the nearest integer; exact ties are broken by `rule`. is_tie and is_integer are
// exact properties of v and are meaningful even when saturated.
RoundResult RoundRational(const Rational& v, TieRule rule);

// v = (acc * s_x * s_w + bias) / s_y exactly (bias = 0 if absent). Any int64 acc is accepted.
// Throws std::invalid_argument for non-finite inputs and std::domain_error if s_y == 0; the
// sign of the scales is not checked (the formula is exact for any sign).
Rational RequantRealValue(int64_t acc, double s_x, double s_w, std::optional<float> bias,
                          double s_y);

// The general form used by counterfactual recipes: v = (acc + B) * M exactly, e.g.
//   (acc + integer_bias) * f32_multiplier:
//       B = FromInt(integer_bias), M = FromDouble(multiplier)
//   (acc + b / (s_x*s_w)) * (s_x*s_w / s_y), which equals RequantRealValue():
//       B = FromDouble(b) / (FromDouble(s_x) * FromDouble(s_w)), M = ... / FromDouble(s_y)
Rational AffineTimes(int64_t acc, const Rational& B, const Rational& M);

// Everything the `exact` scheme reports for one output element.
struct ExactRequantResult {
  RoundResult rounded;  // round(v) under the tie rule (before the zero point)
  int32_t q = 0;        // clamp(rounded.value + z_y, qmin, qmax)
  double v_approx = 0;  // v correctly rounded to double, for reporting
};

// Rounds v = RequantRealValue(acc, s_x, s_w, bias, s_y) under `rule`, adds z_y and clamps to
// [qmin, qmax] (requires qmin <= qmax).
ExactRequantResult ExactRequantize(int64_t acc, double s_x, double s_w,
                                   std::optional<float> bias, double s_y, int32_t z_y,
                                   int32_t qmin, int32_t qmax, TieRule rule);

}  // namespace qdiff
