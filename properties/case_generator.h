// RapidCheck generators of whole quantized models (conv2d / linear, and graphs of the other ops,
// see op_layers.h) that reach the corners
// where requantization recipes disagree: exact ties (power-of-two scales), zero points at the
// extremes, accumulators beyond 2^24, biases on half-LSB boundaries, and output scales derived
// from the accumulator range so that outputs are not all clamped.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <rapidcheck.h>

#include "oracles/model.h"
#include "oracles/shared_values.h"

namespace qdiff {

struct GeneratorSettings {
  // Ops a model is built around (one drawn uniformly per case); ops without weights also follow
  // conv2d/linear models, and conv2d also precedes them, when listed.
  std::vector<OpKind> ops = std::vector<OpKind>(std::begin(kAllOpKinds), std::end(kAllOpKinds));
  // Percent of the conv2d and linear models drawn at the sizes of real models (the size tier:
  // channels 3–4096 with the multiples of 8/16/32/64 and one off them, spatial extents to 56,
  // batch > 1; see kRealSizeMacs), which reach the engines' blocked, vectorised and tail paths.
  int real_size_percent = kDefaultRealSizePercent;
  static constexpr int kDefaultRealSizePercent = 2;
};

// Multiply-accumulates and outputs of one layer of the size tier, at most: such a layer costs a
// few milliseconds to check with every scheme.
constexpr int64_t kRealSizeMacs = int64_t{1} << 22;
constexpr int64_t kRealSizeOutputs = int64_t{1} << 16;

// The corners a generated case was aimed at (counted and printed by campaigns).
struct CaseTags {
  std::string scale_kind;   // "power_of_two" | "observer" | "log_uniform" | "qconfig_<engine>"
  std::string observer;     // qconfig cases: "minmax" | "moving_average"
  std::string value_kind;   // "uniform" | "extremes" | "near_zero_point" | "constant"
  std::string bias_kind;    // "none" | "random" | "half_lsb"
  bool large_accumulator = false;  // some |acc| > 2^24
  bool weight_zero_point_nonzero = false;
  bool real_size = false;          // drawn by the size tier
};

struct GeneratedModel {
  Model model;
  CaseTags tags;
  // LayerAccumulators of layer 0 on the model input when layer 0 is a conv/linear layer (the draw
  // computes them to derive its output qparams), else empty: RunCase need not compute them again.
  SharedValues<int64_t> first_layer_acc;
};

rc::Gen<GeneratedModel> GenModel(const GeneratorSettings& settings);

// Deterministic draw of one model: the same (seed, settings) always gives the same model.
GeneratedModel GenerateModel(uint64_t seed, const GeneratorSettings& settings);

// [min, max] of the layer's exact real outputs over input `x`, extended to include 0.
// `acc`, if given, receives the layer's accumulators (LayerAccumulators) computed on the way.
std::pair<double, double> RealOutputRange(const Layer& layer, const QTensor& x,
                                          std::vector<int64_t>* acc = nullptr);

// Output scale and zero point of `layer` (quint8) as MinMaxObserver would choose them from the
// exact real output range over input `x`, with the span multiplied by `factor` (< 1 clamps the
// tails, > 1 leaves headroom) and optionally rounded to a power of two (exact ties).
void DeriveOutputQParams(Layer* layer, const QTensor& x, double factor, bool power_of_two,
                         std::vector<int64_t>* acc = nullptr);

// Seed of case `index` of a campaign with seed `campaign_seed` (SplitMix64 of both).
uint64_t CaseSeed(uint64_t campaign_seed, uint64_t index);

}  // namespace qdiff
