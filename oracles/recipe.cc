#include "oracles/recipe.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "oracles/fixed_point.h"
#include "oracles/kernel_accumulators.h"
#include "oracles/multiversion.h"

namespace qdiff {

namespace {

float F32(double x) { return static_cast<float>(x); }

int64_t ClampToInt32(int64_t v) {
  return std::clamp<int64_t>(v, std::numeric_limits<int32_t>::min(),
                             std::numeric_limits<int32_t>::max());
}

TieRule ToTieRule(Rounding r) {
  switch (r) {
    case Rounding::kHalfAway: return TieRule::kHalfAway;
    case Rounding::kHalfUp: return TieRule::kHalfUp;
    default: return TieRule::kHalfEven;
  }
}

// Rounds a double by the rule; the double is exact (it holds a binary32 or small integer sum).
QDIFF_INLINE inline double RoundDouble(double v, Rounding r) {
  switch (r) {
    case Rounding::kHalfAway: return std::round(v);
    case Rounding::kHalfUp: return std::floor(v + 0.5);
    default: return std::nearbyint(v);  // default FP environment: ties to even
  }
}

// Final step shared by all paths: a rounded value r (zero point included) into the output range.
// kCvtIndefinite models cvtps2dq: a value beyond int32 becomes INT32_MIN, which the saturating
// packs turn into the range minimum (QNNPACK/FBGEMM with M > 1,
// docs/semantics.md#qnnpack-requantization).
QDIFF_INLINE inline int32_t Finish(int64_t rounded, bool out_of_int32, const Recipe& recipe,
                                   const QuantRange& range) {
  if (out_of_int32 && recipe.overflow == Overflow::kCvtIndefinite) return range.qmin;
  return static_cast<int32_t>(std::clamp<int64_t>(rounded, range.qmin, range.qmax));
}

float FloatBias(const Recipe& recipe, const ChannelTerms& t) {
  switch (recipe.bias) {
    case BiasForm::kFloatFbgemm: return t.bias_fbgemm;
    case BiasForm::kFloatOnednn: return t.bias_onednn;
    default: return F32(t.bias_exact().ToDouble());
  }
}

Rational BiasValue(const Recipe& recipe, const ChannelTerms& t) {
  switch (recipe.bias) {
    case BiasForm::kExactReal: return t.bias_exact();
    case BiasForm::kInt32Torch: return Rational::FromInt(t.bias_int32);
    default: return Rational::FromDouble(FloatBias(recipe, t));
  }
}

float FloatMultiplier(const Recipe& recipe, const ChannelTerms& t) {
  switch (recipe.multiplier) {
    case MultiplierForm::kF32Qnnpack: return t.multiplier_qnnpack;
    case MultiplierForm::kF32Fbgemm: return t.multiplier_fbgemm;
    case MultiplierForm::kF32Onednn: return t.multiplier_onednn;
    case MultiplierForm::kQ31: return F32(QuantizedMultiplierValue(t.q31));
    default: return F32(t.multiplier_exact().ToDouble());
  }
}

Rational MultiplierValue(const Recipe& recipe, const ChannelTerms& t) {
  switch (recipe.multiplier) {
    case MultiplierForm::kExactReal: return t.multiplier_exact();
    case MultiplierForm::kQ31: return Rational::FromDouble(QuantizedMultiplierValue(t.q31));
    default: return Rational::FromDouble(FloatMultiplier(recipe, t));
  }
}

// The exact-arithmetic filter. v = (acc + B)·M (+ z_y when the zero point comes first) is computed
// in double. B and M are exact in double except for the exact-real forms (their long double
// approximations, relative error ≤ 2^-62, rounded once more: ≤ 2^-52.9), acc is exact below
// 2^53, and the sum, product and zero-point addition round once each (2^-53), so
//   |v_approx − v| ≤ (|v_approx| + |B·M| + |z_y|) · 2^-49   (generous).
// When v_approx is farther than that from the nearest half-integer, the exact value rounds to the
// same integer under every tie rule, and the rational arithmetic is skipped. Otherwise (near or at
// a tie, or |v| ≥ 2^40) the caller falls back to exact rationals. Proven equal on random and
// near-tie inputs by tests/oracles/recipe_filter_test.cc.
// The filter's per-channel constants: B, M and the zero point added before rounding (or 0).
struct FilterConstants {
  double b = 0, m = 0, z = 0;
};

FilterConstants PrepareFilter(const Recipe& recipe, const ChannelTerms& t) {
  FilterConstants f;
  if (t.quant.bias) {
    switch (recipe.bias) {
      case BiasForm::kExactReal: f.b = static_cast<double>(t.bias_exact_approx); break;
      case BiasForm::kInt32Torch: f.b = static_cast<double>(t.bias_int32); break;
      default: f.b = FloatBias(recipe, t);
    }
  }
  switch (recipe.multiplier) {
    case MultiplierForm::kExactReal: f.m = static_cast<double>(t.multiplier_exact_approx); break;
    case MultiplierForm::kQ31: f.m = std::ldexp(static_cast<double>(t.q31.multiplier), t.q31.shift - 31); break;
    default: f.m = FloatMultiplier(recipe, t);
  }
  if (recipe.zero_point_order == ZeroPointOrder::kBeforeRounding) f.z = t.quant.z_y;
  return f;
}

QDIFF_INLINE inline std::optional<FilterApproximation> Approximate(const FilterConstants& f, int64_t acc) {
  if (!(acc > -(int64_t{1} << 53) && acc < (int64_t{1} << 53))) return std::nullopt;
  const double v = (static_cast<double>(acc) + f.b) * f.m + f.z;
  if (!(std::fabs(v) < 0x1p40)) return std::nullopt;
  return FilterApproximation{v, (std::fabs(v) + std::fabs(f.b * f.m) + std::fabs(f.z)) * 0x1p-49 + 0x1p-200};
}

QDIFF_INLINE inline std::optional<int64_t> FilteredRound(const FilterConstants& f, int64_t acc) {
  const std::optional<FilterApproximation> a = Approximate(f, acc);
  if (!a) return std::nullopt;
  int64_t floor_v = static_cast<int64_t>(a->value);  // |v| < 2^40: exact truncation, then floor
  if (a->value < static_cast<double>(floor_v)) --floor_v;
  const double frac = a->value - static_cast<double>(floor_v);  // exact: ≥ 12 fraction bits
  if (std::fabs(frac - 0.5) <= a->error) return std::nullopt;
  return floor_v + (frac > 0.5 ? 1 : 0);
}

// The binary32 recipes' per-channel constants: the multiplier and the float bias as the kernel
// holds them.
struct Float32Constants {
  float m = 0;
  float bias = 0;  // float bias forms only
};

Float32Constants PrepareFloat32(const Recipe& recipe, const ChannelTerms& t) {
  Float32Constants c;
  c.m = FloatMultiplier(recipe, t);
  if (t.quant.bias && recipe.bias != BiasForm::kInt32Torch) c.bias = FloatBias(recipe, t);
  return c;
}

// A binary32 recipe (rounding other than kDoubleRoundingQ31, which has no binary32 form).
QDIFF_INLINE inline int32_t EvaluateFloat32(const Recipe& recipe, const ChannelTerms& t,
                                            const Float32Constants& c, int64_t acc, RecipeTrace* trace) {
  const ChannelQuant& q = t.quant;
  // a = acc + bias as the kernel holds it: integer bias added in int32 before cvtepi32_ps,
  // float bias added to f32(acc).
  float a;
  if (!q.bias) {
    a = F32(static_cast<double>(acc));
  } else if (recipe.bias == BiasForm::kInt32Torch) {
    a = F32(static_cast<double>(WrapToInt32(acc + t.bias_int32)));  // the kernel adds in int32
  } else {
    a = F32(static_cast<double>(acc)) + c.bias;
  }
  const float prod = a * c.m;  // binary32 multiply (SSE: no excess precision; no FMA contraction)
  float v = prod;
  if (recipe.zero_point_order == ZeroPointOrder::kBeforeRounding) {
    v = prod + static_cast<float>(q.z_y);
  }
  const double r = RoundDouble(v, recipe.rounding);
  const bool out_of_int32 = !(r >= -2147483648.0 && r < 2147483648.0);
  // Beyond int32, kSaturate keeps the sign (the float clamp of onednn saturates before rounding).
  int64_t rounded = out_of_int32 ? (r > 0 ? INT32_MAX : INT32_MIN) : static_cast<int64_t>(r);
  if (recipe.zero_point_order == ZeroPointOrder::kAfterRounding) rounded += q.z_y;
  if (trace) {
    trace->bias_term = !q.bias ? 0.0
                       : recipe.bias == BiasForm::kInt32Torch ? double(t.bias_int32)
                                                               : c.bias;
    trace->multiplier = c.m;
    trace->sum = a;
    trace->value_before_rounding = prod;
    trace->exact_tie = false;
    trace->rounded = rounded;
  }
  return Finish(rounded, out_of_int32, recipe, q.range);
}

int32_t EvaluateRational(const Recipe& recipe, const ChannelTerms& t, int64_t acc, RecipeTrace* trace);

// EvaluateExact without a trace (rounding other than kDoubleRoundingQ31): the filtered rounding,
// or the rational path near a tie.
QDIFF_INLINE inline int32_t EvaluateFiltered(const Recipe& recipe, const ChannelTerms& t, const FilterConstants& f,
                                             int64_t acc) {
  if (std::optional<int64_t> fast = FilteredRound(f, acc)) {
    int64_t rounded = *fast;
    const bool out_of_int32 = rounded < std::numeric_limits<int32_t>::min() ||
                              rounded > std::numeric_limits<int32_t>::max();
    if (recipe.zero_point_order == ZeroPointOrder::kAfterRounding) rounded += t.quant.z_y;
    return Finish(rounded, out_of_int32, recipe, t.quant.range);
  }
  return EvaluateRational(recipe, t, acc, nullptr);
}

std::optional<int32_t> EvaluateExact(const Recipe& recipe, const ChannelTerms& t, int64_t acc,
                                     RecipeTrace* trace) {
  const ChannelQuant& q = t.quant;
  if (recipe.rounding == Rounding::kDoubleRoundingQ31) {
    const bool int_bias = !q.bias || recipe.bias == BiasForm::kInt32Torch;
    if (recipe.multiplier != MultiplierForm::kQ31 || !int_bias ||
        recipe.zero_point_order != ZeroPointOrder::kAfterRounding) {
      return std::nullopt;
    }
    // TFLite adds the int32 bias to the int32 accumulator; a sum beyond int32 saturates here.
    const int32_t x = static_cast<int32_t>(ClampToInt32(acc + (q.bias ? t.bias_int32 : 0)));
    const int64_t rounded =
        int64_t{MultiplyByQuantizedMultiplierDoubleRounding(x, t.q31.multiplier, t.q31.shift)} +
        q.z_y;
    if (trace) {
      trace->bias_term = q.bias ? double(t.bias_int32) : 0.0;
      trace->multiplier = QuantizedMultiplierValue(t.q31);
      trace->sum = x;
      trace->value_before_rounding = x * QuantizedMultiplierValue(t.q31);
      trace->exact_tie = false;
      trace->rounded = rounded;
    }
    return Finish(rounded, false, recipe, q.range);
  }
  if (!trace) return EvaluateFiltered(recipe, t, PrepareFilter(recipe, t), acc);
  return EvaluateRational(recipe, t, acc, trace);
}

// The rational path of EvaluateExact, out of line: its big-integer frame stays off the fast path.
[[gnu::noinline]] int32_t EvaluateRational(const Recipe& recipe, const ChannelTerms& t, int64_t acc,
                                           RecipeTrace* trace) {
  const ChannelQuant& q = t.quant;
  const Rational bias = q.bias ? BiasValue(recipe, t) : Rational::FromInt(0);
  const Rational multiplier = MultiplierValue(recipe, t);
  const Rational sum = Rational::FromInt(acc) + bias;
  Rational v = sum * multiplier;
  const double v_approx = v.ToDouble();
  if (recipe.zero_point_order == ZeroPointOrder::kBeforeRounding) {
    v = v + Rational::FromInt(q.z_y);
  }
  const RoundResult rr = RoundRational(v, ToTieRule(recipe.rounding));
  int64_t rounded = rr.value;
  const bool out_of_int32 = rounded < std::numeric_limits<int32_t>::min() ||
                            rounded > std::numeric_limits<int32_t>::max();
  if (recipe.zero_point_order == ZeroPointOrder::kAfterRounding) rounded += q.z_y;
  if (trace) {
    trace->bias_term = bias.ToDouble();
    trace->multiplier = multiplier.ToDouble();
    trace->sum = sum.ToDouble();
    trace->value_before_rounding = v_approx;
    trace->exact_tie = rr.is_tie;
    trace->rounded = rounded;
  }
  return Finish(rounded, out_of_int32, recipe, q.range);
}

}  // namespace

const Rational& ChannelTerms::bias_exact() const {
  if (!bias_exact_) {
    bias_exact_ = !quant.bias ? Rational::FromInt(0)
                              : Rational::FromDouble(*quant.bias) /
                                    (Rational::FromDouble(quant.s_x) * Rational::FromDouble(quant.s_w));
  }
  return *bias_exact_;
}

const Rational& ChannelTerms::multiplier_exact() const {
  if (!multiplier_exact_) {
    multiplier_exact_ = Rational::FromDouble(quant.s_x) * Rational::FromDouble(quant.s_w) /
                        Rational::FromDouble(quant.s_y);
  }
  return *multiplier_exact_;
}

namespace {

// Bits of the integer |x|·2^k that has no trailing zero bit (0 for x = 0): a product of values
// with a and b such bits has at most a + b.
int SignificantBits(double x) {
  if (x == 0 || !std::isfinite(x)) return x == 0 ? 0 : 64;
  int exponent = 0;
  // in [2^52, 2^53): bits 52 down to its lowest set bit are significant
  const uint64_t significand = static_cast<uint64_t>(std::ldexp(std::frexp(std::fabs(x), &exponent), 53));
  const uint64_t lowest_bit = significand & (~significand + 1);
  return 53 - std::ilogb(static_cast<double>(lowest_bit));
}

}  // namespace

ChannelTerms PrepareChannel(const ChannelQuant& q) {
  ChannelTerms t;
  t.quant = q;
  t.multiplier_double = q.s_x * q.s_w / q.s_y;
  t.q31 = QuantizeMultiplier(t.multiplier_double);

  // QNNPACK (QnnpackUtils.h::generate_requantization_scales).
  t.multiplier_qnnpack = (F32(q.s_w) * F32(q.s_x)) * (1.0f / F32(q.s_y));
  // FBGEMM (qconv.cpp / qlinear.cpp: act_times_w_scale / output scale, in float).
  const float act_times_w_scale = F32(q.s_x) * F32(q.s_w);
  t.multiplier_fbgemm = act_times_w_scale / F32(q.s_y);
  // ONEDNN via ideep (utils.hpp::compute_scales): reciprocal scales.
  const float src_s = F32(1.0 / q.s_x);
  const float w_inv = q.per_channel ? 1.0f / F32(q.s_w) : F32(1.0 / q.s_w);
  const float bias_scale = src_s * w_inv;
  const float dst_s = F32(1.0 / q.s_y);
  t.multiplier_onednn = dst_s / bias_scale;

  t.multiplier_exact_approx = static_cast<long double>(q.s_x) * q.s_w / q.s_y;
  // acc·s_x·s_w is exact in a 64-bit significand when |acc| < 2^(64 − bits(s_x) − bits(s_w)).
  const int product_bits = SignificantBits(q.s_x) + SignificantBits(q.s_w);
  if (SignificantBits(q.s_y) == 1 && product_bits < 64) {
    t.exact_product_acc_bound = product_bits <= 1 ? INT64_MAX : int64_t{1} << (64 - product_bits);
  }
  if (q.bias) {
    const float b = *q.bias;
    t.bias_exact_approx = static_cast<long double>(b) / (static_cast<long double>(q.s_x) * q.s_w);
    // quant_utils::QuantizeBias → quantize_per_tensor(b, s_x·s_w (double), 0, qint32).
    const float inv = 1.0f / F32(q.s_w * q.s_x);
    const double bq = std::nearbyint(static_cast<double>(b * inv));
    t.bias_int32 = ClampToInt32(static_cast<int64_t>(std::clamp(bq, -4e18, 4e18)));
    t.bias_fbgemm = q.per_channel ? b / act_times_w_scale
                                  : b * F32(1.0 / static_cast<double>(act_times_w_scale));
    t.bias_onednn = b * bias_scale;
  }
  return t;
}

std::optional<int32_t> EvaluateRecipe(const Recipe& recipe, const ChannelTerms& terms, int64_t acc,
                                      RecipeTrace* trace) {
  if (recipe.arithmetic == Arithmetic::kFloat32) {
    if (recipe.rounding == Rounding::kDoubleRoundingQ31) return std::nullopt;
    return EvaluateFloat32(recipe, terms, PrepareFloat32(recipe, terms), acc, trace);
  }
  return EvaluateExact(recipe, terms, acc, trace);
}

namespace {

// EvaluateFloat32 of each accumulator of a run, inlined without a trace; built per ISA, so that
// the rounding is one instruction rather than a call to nearbyint or floor.
QDIFF_MULTIVERSION
void Float32Run(const Recipe& recipe, const ChannelTerms& terms, const int64_t* acc, int64_t n, int32_t* out) {
  const Float32Constants c = PrepareFloat32(recipe, terms);
  for (int64_t i = 0; i < n; ++i) out[i] = EvaluateFloat32(recipe, terms, c, acc[i], nullptr);
}

// EvaluateFiltered over a run of accumulators of one channel, block by block: the filter of
// every element in one branch-free pass that the wider ISAs vectorise, then the rational path for
// the elements it leaves undecided. The pass keeps every value in double, where it is exact
// (|v| < 2^40: floor(v), floor(v) + 1, the zero point and the clamp bounds are integers below
// 2^41), so it gives EvaluateFiltered's integers: floor + (frac > 0.5), out of int32 before the
// zero point, z_y after rounding, then Finish.
QDIFF_MULTIVERSION
void FilteredRun(const Recipe& recipe, const ChannelTerms& terms, const int64_t* acc, int64_t n, int32_t* out) {
  const FilterConstants f = PrepareFilter(recipe, terms);  // once per run, not per element
  const double error_of_constants = std::fabs(f.b * f.m) + std::fabs(f.z);  // Approximate's bound
  const double z_after = recipe.zero_point_order == ZeroPointOrder::kAfterRounding ? terms.quant.z_y : 0;
  const bool cvt_indefinite = recipe.overflow == Overflow::kCvtIndefinite;
  const double qmin = terms.quant.range.qmin, qmax = terms.quant.range.qmax;
  constexpr int64_t kBlock = 256;
  int32_t undecided[kBlock];  // (as wide as `out`: GCC 12 vectorises no narrower)
  for (int64_t begin = 0; begin < n; begin += kBlock) {
    const int64_t count = std::min(kBlock, n - begin);
    const int64_t* a = acc + begin;
    int32_t* o = out + begin;
    for (int64_t i = 0; i < count; ++i) {  // no branches: bitwise & and selects
      const double x = static_cast<double>(a[i]);  // |x| < 2^53 exactly when |acc| < 2^53
      const double v = (x + f.b) * f.m + f.z;
      const double nearest = std::nearbyint(v);  // (floor is not vectorised under -ftrapping-math)
      const double floor_v = nearest > v ? nearest - 1 : nearest;
      const double frac = v - floor_v;
      const double error = (std::fabs(v) + error_of_constants) * 0x1p-49 + 0x1p-200;
      const bool decided = (std::fabs(x) < 0x1p53) & (std::fabs(v) < 0x1p40) & (std::fabs(frac - 0.5) > error);
      const double rounded = floor_v + (frac > 0.5 ? 1.0 : 0.0);
      const bool out_of_int32 = (rounded < -0x1p31) | (rounded > 0x1p31 - 1);
      const double clamped = std::min(std::max(rounded + z_after, qmin), qmax);
      const double value = out_of_int32 & cvt_indefinite ? qmin : clamped;
      o[i] = static_cast<int32_t>(decided ? value : 0.0);
      undecided[i] = !decided;
    }
    int32_t any_undecided = 0;
    for (int64_t i = 0; i < count; ++i) any_undecided |= undecided[i];
    if (!any_undecided) continue;
    for (int64_t i = 0; i < count; ++i) {
      if (undecided[i]) o[i] = EvaluateRational(recipe, terms, a[i], nullptr);
    }
  }
}

}  // namespace

std::optional<FilterApproximation> ApproximateExact(const Recipe& recipe, const ChannelTerms& terms, int64_t acc) {
  return Approximate(PrepareFilter(recipe, terms), acc);
}

void EvaluateRecipeRun(const Recipe& recipe, const ChannelTerms& terms, const int64_t* acc, int64_t n,
                       int32_t* out) {
  // Every named scheme is a valid ingredient combination; an invalid one gives z_y.
  if (recipe.arithmetic == Arithmetic::kFloat32 && recipe.rounding != Rounding::kDoubleRoundingQ31) {
    Float32Run(recipe, terms, acc, n, out);
    return;
  }
  if (recipe.arithmetic == Arithmetic::kFloat32) {
    std::fill(out, out + n, terms.quant.z_y);
    return;
  }
  if (recipe.rounding == Rounding::kDoubleRoundingQ31) {
    for (int64_t i = 0; i < n; ++i) out[i] = EvaluateExact(recipe, terms, acc[i], nullptr).value_or(terms.quant.z_y);
    return;
  }
  FilteredRun(recipe, terms, acc, n, out);
}

static_assert(std::numeric_limits<long double>::digits >= 64, "the real-output bound needs x87 long double or wider");

namespace {

// (acc·(s_x·s_w) + b)/s_y = (acc + B)·M with one rounding at most, and that rounding's error
// exactly, for |acc| below terms.exact_product_acc_bound (PrepareChannel): there s_x·s_w and
// acc·s_x·s_w are exact in long double and s_y is a power of two (the division is exact), so
// only the sum rounds, and Knuth's TwoSum gives its error e exactly (x87 arithmetic, round to
// nearest): |value − exact| = |e|/s_y is the error. This covers the generators' observer range,
// whose calls have s_y = 1 and lie exactly halfway between doubles too often for the general
// bound (acc·s_x·s_w has up to 62 significant bits).
std::optional<RealOutputApproximation> ShortScalesRealOutput(const ChannelTerms& terms, int64_t acc) {
  if (!(acc < terms.exact_product_acc_bound && acc > -terms.exact_product_acc_bound)) return std::nullopt;
  const ChannelQuant& q = terms.quant;
  const long double product = static_cast<long double>(acc) * (static_cast<long double>(q.s_x) * q.s_w);
  const long double b = q.bias ? *q.bias : 0.0f;
  const long double sum = product + b;
  const long double b_virtual = sum - product;
  const long double sum_error = (product - (sum - b_virtual)) + (b - b_virtual);
  return RealOutputApproximation{sum / q.s_y, std::fabs(sum_error) / q.s_y};
}

}  // namespace

RealOutputApproximation ApproximateRealOutput(const ChannelTerms& terms, int64_t acc) {
  if (const auto exact_steps = ShortScalesRealOutput(terms, acc)) return *exact_steps;
  const long double b = terms.quant.bias ? terms.bias_exact_approx : 0;
  const long double m = terms.multiplier_exact_approx;
  const long double v = (static_cast<long double>(acc) + b) * m;
  return {v, (std::fabs(v) + std::fabs(b * m)) * 0x1p-61L};
}

double ExactRealOutput(const ChannelTerms& terms, int64_t acc) {
  // The double nearest v is d when no midpoint between d and a neighbour lies within the bound
  // of v (midpoints of normal doubles are exact in long double's 64-bit significand).
  const auto [v, err] = ApproximateRealOutput(terms, acc);
  const double d = static_cast<double>(v);  // rounded to nearest, ties to even
  if (err == 0) return d + terms.quant.z_y;   // v is exact
  if (std::isnormal(d)) {
    const long double below = (static_cast<long double>(d) + std::nextafter(d, -HUGE_VAL)) / 2;
    const long double above = (static_cast<long double>(d) + std::nextafter(d, HUGE_VAL)) / 2;
    if (v - err > below && v + err < above) return d + terms.quant.z_y;
  }
  const Rational exact = (Rational::FromInt(acc) + terms.bias_exact()) * terms.multiplier_exact();
  return exact.ToDouble() + terms.quant.z_y;
}

}  // namespace qdiff
