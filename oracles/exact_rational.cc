#include "oracles/exact_rational.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace qdiff {

LimbVector& LimbVector::operator=(const LimbVector& o) {
  if (this == &o) return *this;
  clear();
  if (o.on_heap_) {
    heap_ = o.heap_;
    on_heap_ = true;
  } else {
    std::copy(o.inline_, o.inline_ + o.size_, inline_);
  }
  size_ = o.size_;
  return *this;
}

LimbVector& LimbVector::operator=(LimbVector&& o) noexcept {
  if (this == &o) return *this;
  clear();
  if (o.on_heap_) {
    heap_ = std::move(o.heap_);
    on_heap_ = true;
  } else {
    std::copy(o.inline_, o.inline_ + o.size_, inline_);
  }
  size_ = o.size_;
  o.clear();
  return *this;
}

void LimbVector::resize(size_t n, uint32_t value) {
  if (!on_heap_ && n <= kInline) {
    std::fill(inline_ + std::min(size_, n), inline_ + n, value);
  } else {
    if (!on_heap_) {
      heap_.assign(inline_, inline_ + size_);
      on_heap_ = true;
    }
    heap_.resize(n, value);
  }
  size_ = n;
}

namespace {

// Magnitudes: little-endian base-2^32 limbs without most-significant zero limbs ("trimmed").
using Limbs = LimbVector;
constexpr uint64_t kBase = uint64_t{1} << 32;

void Trim(Limbs* a) {
  while (!a->empty() && a->back() == 0) a->pop_back();
}

int CountLeadingZeros32(uint32_t x) {
  int n = 0;
  for (uint32_t bit = 0x80000000u; bit != 0 && !(x & bit); bit >>= 1) ++n;
  return n;
}

int CountTrailingZeros32(uint32_t x) {  // x != 0
  int n = 0;
  while (!(x & 1u)) {
    x >>= 1;
    ++n;
  }
  return n;
}

Limbs FromU64(uint64_t x) {
  Limbs r;
  while (x != 0) {
    r.push_back(static_cast<uint32_t>(x));
    x >>= 32;
  }
  return r;
}

int CompareMag(const Limbs& a, const Limbs& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  for (size_t i = a.size(); i-- > 0;) {
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

Limbs AddMag(const Limbs& a, const Limbs& b) {
  const Limbs& big = a.size() >= b.size() ? a : b;
  const Limbs& small = a.size() >= b.size() ? b : a;
  Limbs r(big.size() + 1);
  uint64_t carry = 0;
  for (size_t i = 0; i < big.size(); ++i) {
    uint64_t t = uint64_t{big[i]} + (i < small.size() ? small[i] : 0) + carry;
    r[i] = static_cast<uint32_t>(t);
    carry = t >> 32;
  }
  r[big.size()] = static_cast<uint32_t>(carry);
  Trim(&r);
  return r;
}

// a - b; requires |a| >= |b|.
Limbs SubMag(const Limbs& a, const Limbs& b) {
  Limbs r(a.size());
  uint64_t borrow = 0;  // 0 or 1
  for (size_t i = 0; i < a.size(); ++i) {
    uint64_t sub = (i < b.size() ? b[i] : 0) + borrow;
    borrow = a[i] < sub ? 1 : 0;
    r[i] = static_cast<uint32_t>(a[i] - sub);  // mod 2^32
  }
  Trim(&r);
  return r;
}

// Schoolbook product. Per step t <= (B-1)^2 + 2(B-1) = B^2 - 1 with B = 2^32: no overflow.
Limbs MulMag(const Limbs& a, const Limbs& b) {
  if (a.empty() || b.empty()) return {};
  Limbs r(a.size() + b.size(), 0);
  for (size_t i = 0; i < a.size(); ++i) {
    uint64_t carry = 0;
    for (size_t j = 0; j < b.size(); ++j) {
      uint64_t t = uint64_t{a[i]} * b[j] + r[i + j] + carry;
      r[i + j] = static_cast<uint32_t>(t);
      carry = t >> 32;
    }
    r[i + b.size()] = static_cast<uint32_t>(carry);
  }
  Trim(&r);
  return r;
}

Limbs ShlMag(const Limbs& a, int64_t bits) {
  if (a.empty()) return {};
  const size_t limbs = static_cast<size_t>(bits / 32);
  const int s = static_cast<int>(bits % 32);
  Limbs r(a.size() + limbs + 1, 0);
  for (size_t i = 0; i < a.size(); ++i) {
    uint64_t t = uint64_t{a[i]} << s;
    r[i + limbs] |= static_cast<uint32_t>(t);
    r[i + limbs + 1] = static_cast<uint32_t>(t >> 32);
  }
  Trim(&r);
  return r;
}

Limbs ShrMag(const Limbs& a, int64_t bits) {
  const size_t limbs = static_cast<size_t>(bits / 32);
  if (limbs >= a.size()) return {};
  const int s = static_cast<int>(bits % 32);
  Limbs r(a.size() - limbs);
  for (size_t i = 0; i < r.size(); ++i) {
    uint64_t t = a[i + limbs];
    if (i + limbs + 1 < a.size()) t |= uint64_t{a[i + limbs + 1]} << 32;
    r[i] = static_cast<uint32_t>(t >> s);
  }
  Trim(&r);
  return r;
}

// u = q*v + r with 0 <= r < v; v != 0. Knuth, TAOCP vol. 2, 4.3.1, Algorithm D (in the form of
// Hacker's Delight `divmnu`), with base B = 2^32.
void DivModMag(const Limbs& u, const Limbs& v, Limbs* q, Limbs* r) {
  if (CompareMag(u, v) < 0) {
    q->clear();
    *r = u;
    return;
  }
  const size_t n = v.size();
  const size_t m = u.size() - n;
  if (n == 1) {  // short division, one limb at a time from the top
    q->assign(u.size(), 0);
    uint64_t rem = 0;
    for (size_t i = u.size(); i-- > 0;) {
      uint64_t cur = (rem << 32) | u[i];
      (*q)[i] = static_cast<uint32_t>(cur / v[0]);
      rem = cur % v[0];
    }
    Trim(q);
    *r = FromU64(rem);
    return;
  }
  // D1: normalize so that the top limb of the divisor has its high bit set; then the estimate
  // qhat below is at most 2 too large, and the correction loop makes it at most 1 too large.
  const int s = CountLeadingZeros32(v[n - 1]);
  Limbs vn(n), un(u.size() + 1);
  for (size_t i = n - 1; i > 0; --i) {
    vn[i] = (v[i] << s) | (s ? v[i - 1] >> (32 - s) : 0);
  }
  vn[0] = v[0] << s;
  un[m + n] = s ? u[m + n - 1] >> (32 - s) : 0;
  for (size_t i = m + n - 1; i > 0; --i) {
    un[i] = (u[i] << s) | (s ? u[i - 1] >> (32 - s) : 0);
  }
  un[0] = u[0] << s;

  q->assign(m + 1, 0);
  for (size_t j = m + 1; j-- > 0;) {
    // D3: estimate qhat = floor((un[j+n]*B + un[j+n-1]) / vn[n-1]), refined with vn[n-2].
    // Invariant: un[j..j+n] < vn * B, so the true digit is <= B-1 and qhat <= B after the loop.
    const uint64_t num = (uint64_t{un[j + n]} << 32) | un[j + n - 1];
    uint64_t qhat = num / vn[n - 1];
    uint64_t rhat = num % vn[n - 1];
    while (qhat >= kBase || qhat * vn[n - 2] > ((rhat << 32) | un[j + n - 2])) {
      --qhat;
      rhat += vn[n - 1];
      if (rhat >= kBase) break;
    }
    // D4: un[j..j+n] -= qhat * vn. With qhat <= B, vn[i] <= B-1 and carry <= B-1,
    // p <= B(B-1) + B-1 < 2^64.
    uint64_t carry = 0, borrow = 0;
    for (size_t i = 0; i < n; ++i) {
      uint64_t p = qhat * vn[i] + carry;
      carry = p >> 32;
      uint64_t sub = (p & 0xffffffffu) + borrow;
      borrow = un[i + j] < sub ? 1 : 0;
      un[i + j] = static_cast<uint32_t>(un[i + j] - sub);
    }
    uint64_t sub = carry + borrow;
    bool negative = un[j + n] < sub;
    un[j + n] = static_cast<uint32_t>(un[j + n] - sub);
    // D5/D6: qhat was one too large (rare, probability ~2/B): add vn back once.
    if (negative) {
      --qhat;
      uint64_t c = 0;
      for (size_t i = 0; i < n; ++i) {
        uint64_t t = uint64_t{un[i + j]} + vn[i] + c;
        un[i + j] = static_cast<uint32_t>(t);
        c = t >> 32;
      }
      un[j + n] = static_cast<uint32_t>(un[j + n] + c);  // the carry out cancels the borrow
    }
    (*q)[j] = static_cast<uint32_t>(qhat);
  }
  Trim(q);
  // D8: the remainder is un[0..n-1] >> s.
  un.resize(n);
  Trim(&un);
  *r = ShrMag(un, s);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// BigInt

BigInt BigInt::FromUint64(uint64_t x) {
  BigInt r;
  r.mag_ = FromU64(x);
  return r;
}

BigInt BigInt::FromInt64(int64_t x) {
  // |x| computed in uint64 so that INT64_MIN does not overflow.
  uint64_t m = x < 0 ? uint64_t{0} - static_cast<uint64_t>(x) : static_cast<uint64_t>(x);
  BigInt r = FromUint64(m);
  r.neg_ = x < 0;
  return r;
}

int64_t BigInt::BitLength() const {
  if (mag_.empty()) return 0;
  return static_cast<int64_t>(mag_.size()) * 32 - CountLeadingZeros32(mag_.back());
}

int64_t BigInt::CountTrailingZeros() const {
  for (size_t i = 0; i < mag_.size(); ++i) {
    if (mag_[i] != 0) return static_cast<int64_t>(i) * 32 + CountTrailingZeros32(mag_[i]);
  }
  return 0;
}

uint64_t BigInt::MagnitudeLow64() const {
  uint64_t r = 0;
  if (mag_.size() > 0) r |= mag_[0];
  if (mag_.size() > 1) r |= uint64_t{mag_[1]} << 32;
  return r;
}

bool BigInt::FitsInt64() const {
  if (BitLength() <= 63) return true;
  // The only 64-bit magnitude that fits is 2^63, as INT64_MIN.
  return neg_ && BitLength() == 64 && MagnitudeLow64() == (uint64_t{1} << 63);
}

int64_t BigInt::ToInt64() const {
  uint64_t m = MagnitudeLow64();
  return neg_ ? static_cast<int64_t>(uint64_t{0} - m) : static_cast<int64_t>(m);
}

BigInt BigInt::operator-() const {
  BigInt r = *this;
  r.neg_ = !r.mag_.empty() && !neg_;
  return r;
}

BigInt BigInt::operator+(const BigInt& o) const {
  BigInt r;
  if (neg_ == o.neg_) {
    r.mag_ = AddMag(mag_, o.mag_);
    r.neg_ = neg_;
  } else if (CompareMag(mag_, o.mag_) >= 0) {  // |this| >= |o|: result has this's sign
    r.mag_ = SubMag(mag_, o.mag_);
    r.neg_ = neg_;
  } else {
    r.mag_ = SubMag(o.mag_, mag_);
    r.neg_ = o.neg_;
  }
  if (r.mag_.empty()) r.neg_ = false;
  return r;
}

BigInt BigInt::operator-(const BigInt& o) const { return *this + (-o); }

BigInt BigInt::operator*(const BigInt& o) const {
  BigInt r;
  r.mag_ = MulMag(mag_, o.mag_);
  r.neg_ = !r.mag_.empty() && (neg_ != o.neg_);
  return r;
}

BigInt BigInt::ShiftLeft(int64_t bits) const {
  if (bits < 0) return ShiftRight(-bits);
  BigInt r;
  r.mag_ = ShlMag(mag_, bits);
  r.neg_ = neg_;
  return r;
}

BigInt BigInt::ShiftRight(int64_t bits) const {
  if (bits < 0) return ShiftLeft(-bits);
  BigInt r;
  r.mag_ = ShrMag(mag_, bits);
  r.neg_ = !r.mag_.empty() && neg_;
  return r;
}

int BigInt::CompareMagnitude(const BigInt& a, const BigInt& b) {
  return CompareMag(a.mag_, b.mag_);
}

int BigInt::Compare(const BigInt& a, const BigInt& b) {
  if (a.neg_ != b.neg_) return a.neg_ ? -1 : 1;
  int c = CompareMag(a.mag_, b.mag_);
  return a.neg_ ? -c : c;
}

void BigInt::DivMod(const BigInt& a, const BigInt& b, BigInt* q, BigInt* r) {
  if (b.IsZero()) throw std::domain_error("BigInt::DivMod: division by zero");
  BigInt qq, rr;
  DivModMag(a.mag_, b.mag_, &qq.mag_, &rr.mag_);
  qq.neg_ = !qq.mag_.empty() && (a.neg_ != b.neg_);
  rr.neg_ = !rr.mag_.empty() && a.neg_;
  *q = std::move(qq);
  *r = std::move(rr);
}

void BigInt::FloorDivMod(const BigInt& a, const BigInt& b, BigInt* q, BigInt* r) {
  BigInt qq, rr;
  DivMod(a, b, &qq, &rr);
  // Truncation rounded toward zero; when the exact quotient is negative and inexact, step down.
  if (!rr.IsZero() && rr.neg_ != b.neg_) {
    qq = qq - FromInt64(1);
    rr = rr + b;
  }
  *q = std::move(qq);
  *r = std::move(rr);
}

std::string BigInt::ToString() const {
  if (mag_.empty()) return "0";
  std::string digits;  // least significant first
  Limbs cur = mag_;
  while (!cur.empty()) {
    // cur /= 10^9, collecting the remainder as 9 decimal digits.
    uint64_t rem = 0;
    for (size_t i = cur.size(); i-- > 0;) {
      uint64_t t = (rem << 32) | cur[i];
      cur[i] = static_cast<uint32_t>(t / 1000000000u);
      rem = t % 1000000000u;
    }
    Trim(&cur);
    for (int k = 0; k < 9 && (rem != 0 || !cur.empty()); ++k) {
      digits.push_back(static_cast<char>('0' + rem % 10));
      rem /= 10;
    }
  }
  if (neg_) digits.push_back('-');
  std::reverse(digits.begin(), digits.end());
  return digits;
}

// ---------------------------------------------------------------------------------------------
// Rational

void Rational::Normalize() {
  if (den_.IsZero()) throw std::domain_error("Rational: zero denominator");
  if (den_.Sign() < 0) {
    num_ = -num_;
    den_ = -den_;
  }
  if (num_.IsZero()) {
    den_ = BigInt::FromInt64(1);
    return;
  }
  int64_t twos = std::min(num_.CountTrailingZeros(), den_.CountTrailingZeros());
  if (twos > 0) {
    num_ = num_.ShiftRight(twos);  // exact: both have at least `twos` trailing zero bits
    den_ = den_.ShiftRight(twos);
  }
}

Rational Rational::FromBigInts(const BigInt& num, const BigInt& den) {
  Rational r(num, den);
  r.Normalize();
  return r;
}

Rational Rational::FromInt(int64_t x) {
  return FromBigInts(BigInt::FromInt64(x), BigInt::FromInt64(1));
}

Rational Rational::FromDouble(double x) {
  if (!std::isfinite(x)) throw std::invalid_argument("Rational::FromDouble: non-finite value");
  if (x == 0) return Rational();
  // |x| = frac * 2^e with frac in [0.5, 1); frac * 2^53 is an integer < 2^53 (also for
  // subnormals, whose frac simply has trailing zero bits), so |x| = m * 2^(e-53) exactly.
  int e = 0;
  double frac = std::frexp(std::fabs(x), &e);
  uint64_t m = static_cast<uint64_t>(std::ldexp(frac, 53));
  BigInt num = BigInt::FromUint64(m);
  if (x < 0) num = -num;
  const int64_t exp2 = int64_t{e} - 53;
  BigInt one = BigInt::FromInt64(1);
  if (exp2 >= 0) return FromBigInts(num.ShiftLeft(exp2), one);
  return FromBigInts(num, one.ShiftLeft(-exp2));
}

Rational Rational::FromRatio(double a, double b) { return FromDouble(a) / FromDouble(b); }

Rational Rational::operator-() const { return Rational(-num_, den_); }

// a/b + c/d = (a*d + c*b) / (b*d)
Rational Rational::operator+(const Rational& o) const {
  if (BigInt::Compare(den_, o.den_) == 0) return FromBigInts(num_ + o.num_, den_);
  return FromBigInts(num_ * o.den_ + o.num_ * den_, den_ * o.den_);
}

Rational Rational::operator-(const Rational& o) const { return *this + (-o); }

// (a/b) * (c/d) = (a*c) / (b*d)
Rational Rational::operator*(const Rational& o) const {
  return FromBigInts(num_ * o.num_, den_ * o.den_);
}

// (a/b) / (c/d) = (a*d) / (b*c); Normalize() moves the sign of c into the numerator.
Rational Rational::operator/(const Rational& o) const {
  if (o.num_.IsZero()) throw std::domain_error("Rational: division by zero");
  return FromBigInts(num_ * o.den_, den_ * o.num_);
}

bool Rational::IsInteger() const {
  BigInt q, r;
  BigInt::DivMod(num_, den_, &q, &r);
  return r.IsZero();
}

BigInt Rational::Floor() const {
  BigInt q, r;
  BigInt::FloorDivMod(num_, den_, &q, &r);
  return q;
}

// a/b vs c/d with b, d > 0: sign(a*d - c*b).
int Rational::Compare(const Rational& a, const Rational& b) {
  return BigInt::Compare(a.num_ * b.den_, b.num_ * a.den_);
}

double Rational::ToDouble() const {
  if (num_.IsZero()) return 0.0;
  const double sign = num_.Sign() < 0 ? -1.0 : 1.0;
  const BigInt n = num_.Sign() < 0 ? -num_ : num_;
  // With bl = bitlen(n) - bitlen(den), n/den lies in (2^(bl-1), 2^(bl+1)). Scaling by 2^k with
  // k = 63 - bl gives Q = floor(n * 2^k / den) in [2^62, 2^64): 63 or 64 significant bits, plus
  // a sticky bit for the discarded remainder. |v| = (Q + frac) * 2^-k with frac in [0, 1).
  const int64_t k = 63 - (n.BitLength() - den_.BitLength());
  BigInt quot, rem;
  if (k >= 0) {
    BigInt::DivMod(n.ShiftLeft(k), den_, &quot, &rem);
  } else {
    BigInt::DivMod(n, den_.ShiftLeft(-k), &quot, &rem);
  }
  const uint64_t Q = quot.MagnitudeLow64();
  const bool sticky = !rem.IsZero();
  const int64_t lead = 63 - CountLeadingZeros32(static_cast<uint32_t>(Q >> 32));  // 62 or 63
  const int64_t E = lead - k;  // |v| in [2^E, 2^(E+1))
  if (E > 1023) return sign * HUGE_VAL;
  // The result is M * 2^u with u the weight of the last mantissa bit: 53 significant bits for
  // normal results, fixed u = -1074 for subnormal ones. |v| / 2^u = Q / 2^dropped (+ sticky).
  const int64_t u = std::max<int64_t>(E - 52, -1074);
  const int64_t dropped = u + k;  // >= lead - 52 >= 10
  if (dropped > 64) return sign * 0.0;  // |v| < 2^(u + 64 - dropped) <= 2^(u-1): rounds to 0
  uint64_t M = dropped == 64 ? 0 : Q >> dropped;
  const uint64_t low = dropped == 64 ? Q : Q & ((uint64_t{1} << dropped) - 1);
  const uint64_t half = uint64_t{1} << (dropped - 1);
  if (low > half || (low == half && (sticky || (M & 1)))) ++M;  // round half to even
  // M <= 2^53 converts exactly; ldexp is exact here (or overflows to inf, as it should).
  return sign * std::ldexp(static_cast<double>(M), static_cast<int>(u));
}

std::string Rational::ToString() const { return num_.ToString() + "/" + den_.ToString(); }

// ---------------------------------------------------------------------------------------------
// Rounding and requantization

const char* TieRuleName(TieRule rule) {
  switch (rule) {
    case TieRule::kHalfEven: return "half_even";
    case TieRule::kHalfAway: return "half_away";
    case TieRule::kHalfUp: return "half_up";
  }
  return "?";
}

RoundResult RoundRational(const Rational& v, TieRule rule) {
  // v = f + r/den with f = floor(v) and 0 <= r < den. The fractional part r/den is compared
  // with 1/2 as 2r vs den: below rounds to f, above to f+1, equal is a tie.
  BigInt f, r;
  BigInt::FloorDivMod(v.num(), v.den(), &f, &r);
  RoundResult out;
  out.is_integer = r.IsZero();
  const int c = BigInt::Compare(r.ShiftLeft(1), v.den());
  out.is_tie = c == 0;
  bool up = c > 0;
  if (out.is_tie) {
    switch (rule) {
      case TieRule::kHalfEven: up = f.IsOdd(); break;
      case TieRule::kHalfAway: up = v.Sign() > 0; break;  // v < 0: f is the one away from 0
      case TieRule::kHalfUp: up = true; break;
    }
  }
  // |f| >= 2^60 is far outside +-2^40; otherwise f (+1) fits in int64 and is clamped there.
  if (f.BitLength() > 60) {
    out.value = f.Sign() < 0 ? -kRoundSaturation : kRoundSaturation;
    out.saturated = true;
    return out;
  }
  int64_t value = f.ToInt64() + (up ? 1 : 0);
  if (value > kRoundSaturation || value < -kRoundSaturation) {
    value = value < 0 ? -kRoundSaturation : kRoundSaturation;
    out.saturated = true;
  }
  out.value = value;
  return out;
}

Rational RequantRealValue(int64_t acc, double s_x, double s_w, std::optional<float> bias,
                          double s_y) {
  Rational v = Rational::FromInt(acc) * Rational::FromDouble(s_x) * Rational::FromDouble(s_w);
  if (bias.has_value()) v = v + Rational::FromDouble(static_cast<double>(*bias));
  return v / Rational::FromDouble(s_y);
}

Rational AffineTimes(int64_t acc, const Rational& B, const Rational& M) {
  return (Rational::FromInt(acc) + B) * M;
}

ExactRequantResult ExactRequantize(int64_t acc, double s_x, double s_w,
                                   std::optional<float> bias, double s_y, int32_t z_y,
                                   int32_t qmin, int32_t qmax, TieRule rule) {
  const Rational v = RequantRealValue(acc, s_x, s_w, bias, s_y);
  ExactRequantResult out;
  out.rounded = RoundRational(v, rule);
  // |rounded.value| <= 2^40, so the sum cannot overflow.
  const int64_t q = std::clamp<int64_t>(out.rounded.value + z_y, qmin, qmax);
  out.q = static_cast<int32_t>(q);
  out.v_approx = v.ToDouble();
  return out;
}

}  // namespace qdiff
