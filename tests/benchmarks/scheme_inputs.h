// Seeded, realistic requantization inputs shared by the scheme benchmark and qdiff_scheme_bias:
// channel quantization parameters as a quantized conv/linear layer sees them, and accumulators
// that mostly land inside the output range. Every weight of the draw lives in kInputWeights.
//
// Scales are binary32 values (observers compute them in float; LibTorch stores them as double),
// log-uniform over a few octaves:
//   s_x ∈ [2^-8, 2^-3]   activations spanning about 1 … 32 in 256 steps
//   s_w ∈ [2^-10, 2^-5]  int8 weights of magnitude up to about 0.1 … 4
//   s_y ∈ [2^-7, 2^-2]
// so M = s_x·s_w/s_y ∈ [2^-16, 2^-1] (never M ≥ 1: the cvtps2dq overflow path is not exercised).
// A share of the channels has all three scales exact powers of two: then M = 2^-k and a float
// bias that is a whole number of s_x·s_w keeps v = (acc + b/(s_x·s_w))·M on the grid 2^-k, so
// exact ties (v − floor(v) = 1/2) occur with probability ≈ 2^-k and expose the tie rules.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>

#include "oracles/recipe.h"

namespace qdiff {
namespace bench {

struct InputWeights {
  double power_of_two_channel;  // all scales powers of two (ties possible)
  double bias;                  // the layer has a bias
  double per_channel;           // weights quantized per channel (fbgemm/onednn steps change)
  double qint8;                 // qint8 output (else quint8)
  double relu;                  // fused ReLU: qmin = max(qmin, z_y)
  double zero_z_y;              // z_y = 0 (else uniform over the range)
  double saturating_acc;        // accumulator drawn up to 256 LSB beyond the output range
};

constexpr InputWeights kInputWeights = {
    /*power_of_two_channel=*/0.25, /*bias=*/0.75,        /*per_channel=*/0.5,
    /*qint8=*/0.5,                 /*relu=*/0.25,        /*zero_z_y=*/0.25,
    /*saturating_acc=*/0.1,
};

constexpr int kSxLog2Lo = -8, kSxLog2Hi = -3;
constexpr int kSwLog2Lo = -10, kSwLog2Hi = -5;
constexpr int kSyLog2Lo = -7, kSyLog2Hi = -2;
constexpr double kBiasMaxOutputLsb = 32;  // |b| ≤ 32·s_y: the bias moves y by up to 32 steps

inline bool Chance(std::mt19937_64& rng, double p) {
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng) < p;
}

// A binary32 scale, log-uniform over [2^lo, 2^hi], or 2^e with e uniform in [lo, hi].
inline double DrawScale(std::mt19937_64& rng, int lo, int hi, bool power_of_two) {
  if (power_of_two) return std::ldexp(1.0, std::uniform_int_distribution<int>(lo, hi)(rng));
  const double e = std::uniform_real_distribution<double>(lo, hi)(rng);
  return static_cast<float>(std::exp2(e));
}

inline ChannelQuant DrawChannelQuant(std::mt19937_64& rng) {
  const InputWeights& w = kInputWeights;
  ChannelQuant q;
  const bool p2 = Chance(rng, w.power_of_two_channel);
  q.s_x = DrawScale(rng, kSxLog2Lo, kSxLog2Hi, p2);
  q.s_w = DrawScale(rng, kSwLog2Lo, kSwLog2Hi, p2);
  q.s_y = DrawScale(rng, kSyLog2Lo, kSyLog2Hi, p2);
  q.per_channel = Chance(rng, w.per_channel);
  const QuantRange type = Chance(rng, w.qint8) ? QuantRange{-128, 127} : QuantRange{0, 255};
  q.z_y = Chance(rng, w.zero_z_y)
              ? 0
              : std::uniform_int_distribution<int32_t>(type.qmin, type.qmax)(rng);
  q.range = type;
  if (Chance(rng, w.relu)) q.range.qmin = std::max(q.range.qmin, q.z_y);
  if (Chance(rng, w.bias)) {
    const double b = std::uniform_real_distribution<double>(-kBiasMaxOutputLsb, kBiasMaxOutputLsb)(
                         rng) * q.s_y;
    if (p2) {
      // A whole number of accumulator units, exact in binary32 (|j| < 2^24).
      const double unit = q.s_x * q.s_w;
      q.bias = static_cast<float>(std::nearbyint(b / unit) * unit);
    } else {
      q.bias = static_cast<float>(b);
    }
  }
  return q;
}

// An accumulator whose real output (acc·s_x·s_w + b)/s_y + z_y is uniform over the output range
// widened by half a step (or by 256 steps for the saturating share), rounded to an integer.
inline int64_t DrawAccumulator(std::mt19937_64& rng, const ChannelTerms& t) {
  const ChannelQuant& q = t.quant;
  const double margin = Chance(rng, kInputWeights.saturating_acc) ? 256.0 : 0.5;
  const double u = std::uniform_real_distribution<double>(q.range.qmin - q.z_y - margin,
                                                          q.range.qmax - q.z_y + margin)(rng);
  const double bias_acc = q.bias ? *q.bias / (q.s_x * q.s_w) : 0.0;
  const double acc = std::nearbyint(u / t.multiplier_double - bias_acc);
  return static_cast<int64_t>(std::clamp(acc, -2147483648.0, 2147483647.0));
}

}  // namespace bench
}  // namespace qdiff
