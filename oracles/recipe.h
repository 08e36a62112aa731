// A requantization recipe: how one int32 accumulator becomes one 8-bit output, described as a
// choice of independent ingredients. Every scheme (exact, double_rounding, single_rounding and
// the backend recipes qnnpack_fp32, onednn_fp32, fbgemm_fp32) is one Recipe, and the classifier
// explains a difference by switching one ingredient of a scheme to the engine's choice
// (a counterfactual) and evaluating this very same code again.
//
// Notation: acc = Σ (x − z_x)(w − z_w) exact, b = float bias, s_x, s_w, s_y the scales,
// f32(·) = round to binary32, RNE = round half to even.
#pragma once

#include <cstdint>
#include <optional>

#include "oracles/exact_rational.h"
#include "oracles/model.h"
#include "oracles/quantize_multiplier.h"

namespace qdiff {

// How the float bias enters the accumulator domain (units of s_x·s_w).
enum class BiasForm {
  kExactReal,    // b / (s_x·s_w), exactly
  kInt32Torch,   // LibTorch QuantizeBias: RNE(f32(b · f32(1 / f32(f64 s_x · s_w)))), int32, added to acc
  kFloatFbgemm,  // f32(b / f32(f32 s_x · f32 s_w)) (per-tensor: b · f32(1.0 / (double)that)), float
  kFloatOnednn,  // f32(b · f32(f32(1/(double)s_x) · w_inv)), w_inv = f32(1/(double)s_w) per-tensor,
                 // 1.0f/f32(s_w) per-channel; float
};

// The multiplier that maps accumulator units to output units.
enum class MultiplierForm {
  kExactReal,    // s_x·s_w/s_y, exactly
  kQ31,          // QuantizeMultiplier(s_x·s_w/s_y computed in double)
  kF32Qnnpack,   // f32(f32(f32 s_w · f32 s_x) · f32(1.f / f32 s_y))
  kF32Fbgemm,    // f32(f32(f32 s_x · f32 s_w) / f32 s_y); XNNPACK computes the same float formula
  kF32Onednn,    // f32(f32(1/(double)s_y) / bias_scale), bias_scale = f32(f32(1/(double)s_x) · w_inv)
};

// How (acc + bias) · M is evaluated.
enum class Arithmetic {
  kExact,    // exact rational value, rounded once by the rounding rule
  kFloat32,  // binary32: integer bias added in int32 then f32(·); float bias as f32(f32(acc) + bf);
             // t = f32(a · f32(M))
};

enum class Rounding {
  kHalfEven,            // RNE
  kHalfAway,            // ties away from zero
  kHalfUp,              // ties toward +inf: floor(v + 1/2)
  kDoubleRoundingQ31,   // gemmlowp SRDHM then RoundingDivideByPOT (needs kQ31 and an int32 bias)
};

enum class ZeroPointOrder {
  kAfterRounding,   // round(v) + z_y
  kBeforeRounding,  // round(v + z_y)   (float arithmetic: RNE(f32(t + f32 z_y)))
};

// What happens when the rounded value does not fit int32 (only reachable with M > 1).
enum class Overflow {
  kSaturate,        // clamp to the output range
  kCvtIndefinite,   // cvtps2dq returns INT32_MIN for |t| ≥ 2^31 → output = range minimum
};

struct Recipe {
  BiasForm bias = BiasForm::kExactReal;
  MultiplierForm multiplier = MultiplierForm::kExactReal;
  Arithmetic arithmetic = Arithmetic::kExact;
  Rounding rounding = Rounding::kHalfEven;
  ZeroPointOrder zero_point_order = ZeroPointOrder::kAfterRounding;
  Overflow overflow = Overflow::kSaturate;

  bool operator==(const Recipe& o) const {
    return bias == o.bias && multiplier == o.multiplier && arithmetic == o.arithmetic &&
           rounding == o.rounding && zero_point_order == o.zero_point_order &&
           overflow == o.overflow;
  }
};

// Quantization parameters of one output channel, exactly as LibTorch receives them.
struct ChannelQuant {
  double s_x = 1.0;          // input scale
  double s_w = 1.0;          // weight scale of this channel
  bool per_channel = false;  // weights quantized per channel (changes fbgemm/onednn float steps)
  double s_y = 1.0;          // output scale
  int32_t z_y = 0;           // output zero point
  std::optional<float> bias;
  QuantRange range{0, 255};  // output clamp range, ReLU already applied (qmin = max(qmin, z_y))
};

// Every form of the bias and multiplier for one channel, computed once (the exact rationals on
// first use: most evaluations need only their long double approximations).
struct ChannelTerms {
  ChannelQuant quant;
  const Rational& bias_exact() const;        // b / (s_x·s_w), 0 without a bias
  const Rational& multiplier_exact() const;  // s_x·s_w/s_y
  int64_t bias_int32 = 0;         // kInt32Torch
  float bias_fbgemm = 0.0f;       // kFloatFbgemm
  float bias_onednn = 0.0f;       // kFloatOnednn
  double multiplier_double = 0;   // s_x·s_w/s_y rounded to double (input of QuantizeMultiplier)
  QuantizedMultiplier q31;        // kQ31
  float multiplier_qnnpack = 0;   // kF32Qnnpack
  float multiplier_fbgemm = 0;    // kF32Fbgemm
  float multiplier_onednn = 0;    // kF32Onednn
  // long double approximations of the exact forms (≤ 2 roundings each, relative error ≤ 2^-62),
  // for the exact-arithmetic filter in EvaluateRecipe.
  long double bias_exact_approx = 0;
  long double multiplier_exact_approx = 0;
  // For |acc| below it, acc·s_x·s_w is exact in long double and s_y is a power of two (0: never),
  // so ApproximateRealOutput needs only one rounding, whose error it knows exactly.
  int64_t exact_product_acc_bound = 0;

 private:
  mutable std::optional<Rational> bias_exact_, multiplier_exact_;
};

ChannelTerms PrepareChannel(const ChannelQuant& quant);

// Intermediate values of one evaluation, for reports and `explain`.
struct RecipeTrace {
  double bias_term = 0;              // the bias as this recipe adds it, in accumulator units
  double multiplier = 0;             // the multiplier this recipe applies (value of its form)
  double sum = 0;                    // acc + bias as held before the multiply (f32 if float)
  double value_before_rounding = 0;  // (acc + bias)·M, zero point excluded (approximate if exact)
  bool exact_tie = false;            // exact arithmetic: the value was exactly halfway
  int64_t rounded = 0;               // after rounding and zero point, before clamp
};

// Output of `recipe` for accumulator `acc`, or nullopt when the ingredients do not combine
// (kDoubleRoundingQ31 without kQ31 or with a float bias).
std::optional<int32_t> EvaluateRecipe(const Recipe& recipe, const ChannelTerms& terms, int64_t acc,
                                      RecipeTrace* trace = nullptr);

// out[i] = EvaluateRecipe(recipe, terms, acc[i]) (z_y where that is nullopt) for i < n: one
// channel's outputs, with the recipe's per-channel constants prepared once.
void EvaluateRecipeRun(const Recipe& recipe, const ChannelTerms& terms, const int64_t* acc, int64_t n,
                       int32_t* out);

// The exact-arithmetic filter of EvaluateRecipe (exact recipes other than kDoubleRoundingQ31):
// (acc + B)·M, plus z_y when the zero point comes first, in double, and a bound on its distance
// from the exact value; nullopt beyond |acc| < 2^53 and |value| < 2^40. Where the value lies
// farther than `error` from a half-integer it rounds like the exact value, and the rationals are
// skipped.
struct FilterApproximation {
  double value = 0;
  double error = 0;
};
std::optional<FilterApproximation> ApproximateExact(const Recipe& recipe, const ChannelTerms& terms, int64_t acc);

// (acc + B)·M in long double (64-bit significand), B = b/(s_x·s_w) and M = s_x·s_w/s_y as
// ChannelTerms hold them (two roundings each: relative error ≤ 2·2^-64), the sum and product
// rounded once each (2^-64). So |value − (acc + B)·M| ≤ |v|·(2^-64 + 2·2^-64 + 2^-64) +
// |B·M|·2·2^-64 + O(2^-128) ≤ (|value| + |B·M|)·2^-61 = error, a factor two to spare.
struct RealOutputApproximation {
  long double value = 0;
  long double error = 0;
};
RealOutputApproximation ApproximateRealOutput(const ChannelTerms& terms, int64_t acc);

// Exact real output value (acc·s_x·s_w + b)/s_y, correctly rounded to double, + z_y (reports,
// the generators' observer range): from ApproximateRealOutput when its error bound proves the
// rounding, else from the exact rationals.
double ExactRealOutput(const ChannelTerms& terms, int64_t acc);

}  // namespace qdiff
