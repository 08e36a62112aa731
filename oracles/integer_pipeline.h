// IntegerPipeline: runs a Model with integers only (int_repr values, exact accumulation with
// explicit zero points) and requantizes every layer with one Recipe, keeping every accumulator and
// the per-channel bias/multiplier terms it used.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "oracles/engine.h"
#include "oracles/model.h"
#include "oracles/recipe.h"
#include "oracles/shared_values.h"

namespace qdiff {

struct OpRecipeDef;

// What the pipeline computes with: `gemm` requantizes the conv and linear layers; every other op runs
// the recipe of the LibTorch path that engine `op_engine` takes for it (EngineOpRecipe), or the
// op's exact reference when `op_engine` is unset or qdiff has no recipe for the path.
struct PipelineRecipe {
  Recipe gemm;
  std::optional<Engine> op_engine;
};

struct LayerTrace {
  SharedValues<QTensor> inputs;         // the layer's inputs (see RunIntegerPipelineFed)
  std::vector<int64_t> shape;           // output shape
  // GEMM layers only:
  SharedValues<int64_t> acc;            // exact Σ (x − z_x)(w − z_w), bias excluded, per element
  SharedValues<ChannelTerms> channels;  // per output channel: bias and multiplier forms
  // Other ops only: the recipe that computed `out`.
  const OpRecipeDef* op_recipe = nullptr;
  std::vector<int32_t> out;            // quantized outputs
  const QTensor& input() const { return inputs[0]; }
  int64_t ChannelOf(int64_t index) const;  // output channel of flat output index
};

// Exact accumulators of one GEMM layer for the quantized input `x` (values, dtype and qparams).
// Shape must be valid (ValidateModel). Products are exact in int64; the int32 range is not
// enforced here (reports show acc as it is).
std::vector<int64_t> LayerAccumulators(const Layer& layer, const QTensor& x,
                                       const std::vector<int64_t>& out_shape);

// ChannelQuant of every output channel of GEMM `layer` for input scale `s_x`.
std::vector<ChannelTerms> LayerChannelTerms(const Layer& layer, double s_x);

// The op recipe the pipeline uses for a non-GEMM layer (see PipelineRecipe).
const OpRecipeDef& PipelineOpRecipe(std::optional<Engine> op_engine, const Layer& layer,
                                    const std::vector<QTensor>& inputs);

// One layer on given inputs.
LayerTrace RunIntegerLayer(const Layer& layer, const std::vector<QTensor>& inputs,
                           const PipelineRecipe& recipe);
// One GEMM layer on one input.
LayerTrace RunIntegerLayer(const Layer& layer, const QTensor& input, const Recipe& recipe);

// Runs every layer on the model's graph, each fed with this pipeline's own node outputs.
std::vector<LayerTrace> RunIntegerPipeline(const Model& model, const Recipe& recipe);

// What layers fed only the model input or fed tensors compute independently of the scheme: a
// GEMM layer's accumulators and channel terms (before requantization), and another op's output
// per op recipe (schemes without an engine op path all run the op's exact reference, whose
// 256-entry tables are exact rational arithmetic). Filled by the first pipeline that runs such a
// layer, read by the others. Index: layer. One per model and set of fed tensors.
struct SharedLayerWork {
  struct Terms {
    SharedValues<int64_t> acc;
    SharedValues<ChannelTerms> channels;
  };
  struct Layer {
    SharedValues<QTensor> inputs;  // once taken
    std::optional<Terms> gemm;
    std::map<const OpRecipeDef*, std::vector<int32_t>> op_out;
  };
  std::vector<Layer> layers;
};

// Runs every layer; where fed[j] is given it replaces this pipeline's output of layer j as the
// input of later layers (e.g. LibTorch's output of layer j, so that every layer is judged on the
// inputs LibTorch saw), else the pipeline's own output is used. With `shared`, what
// recipe-independent layers compute is computed once for every pipeline that passes it.
std::vector<LayerTrace> RunIntegerPipelineFed(const Model& model, const PipelineRecipe& recipe,
                                              const std::vector<std::optional<QTensor>>& fed,
                                              SharedLayerWork* shared = nullptr);

// The quantized tensor a layer produces (dtype, shape, values, output qparams per
// LayerOutputQParams for input 0 `input0`), to feed later layers.
QTensor LayerOutputTensor(const Layer& layer, const QTensor& input0,
                          const std::vector<int64_t>& shape, const std::vector<int32_t>& values);

}  // namespace qdiff
