// IntegerPipeline: runs a Model with integers only (int_repr values, exact accumulation with
// explicit zero points) and requantizes every layer with one Recipe, keeping every accumulator and
// the per-channel bias/multiplier terms it used.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "oracles/model.h"
#include "oracles/recipe.h"

namespace qdiff {

struct LayerTrace {
  QTensor input;                       // the layer's input (this pipeline's previous output)
  std::vector<int64_t> shape;          // output shape
  std::vector<int64_t> acc;            // exact Σ (x − z_x)(w − z_w), bias excluded, per element
  std::vector<ChannelTerms> channels;  // per output channel: bias and multiplier forms
  std::vector<int32_t> out;            // requantized outputs
  int64_t ChannelOf(int64_t index) const;  // output channel of flat output index
};

// Exact accumulators of one layer for the quantized input `x` (values, dtype and qparams).
// Shape must be valid (ValidateModel). Products are exact in int64; the int32 range is not
// enforced here (reports show acc as it is).
std::vector<int64_t> LayerAccumulators(const Layer& layer, const QTensor& x,
                                       const std::vector<int64_t>& out_shape);

// ChannelQuant of every output channel of `layer` for input scale `s_x`.
std::vector<ChannelTerms> LayerChannelTerms(const Layer& layer, double s_x);

// One layer on a given input.
LayerTrace RunIntegerLayer(const Layer& layer, const QTensor& input, const Recipe& recipe);

// Runs every layer, each fed with this pipeline's own previous output.
std::vector<LayerTrace> RunIntegerPipeline(const Model& model, const Recipe& recipe);

// Runs every layer l fed with inputs[l] where given (e.g. another runner's output of layer l−1,
// so that each layer is judged on identical inputs), else with this pipeline's own output.
std::vector<LayerTrace> RunIntegerPipelineFed(const Model& model, const Recipe& recipe,
                                              const std::vector<std::optional<QTensor>>& inputs);

// The quantized tensor a layer produces (dtype, shape, values, out qparams), to feed the next.
QTensor LayerOutputTensor(const Layer& layer, const std::vector<int64_t>& shape,
                          const std::vector<int32_t>& values);

}  // namespace qdiff
