#include "oracles/integer_pipeline.h"

#include "oracles/layer_gemm.h"

#include <algorithm>

#include "oracles/layer_products.h"
#include "oracles/ops/op_recipe.h"

namespace qdiff {

int64_t LayerTrace::ChannelOf(int64_t index) const { return OutputChannelOf(shape, index); }

std::vector<int64_t> LayerAccumulators(const Layer& layer, const QTensor& x,
                                       const std::vector<int64_t>& out_shape) {
  // Operands with their zero points subtracted: |x − z_x|, |w − z_w| ≤ 255 for 8-bit values.
  const QTensor& w = layer.weight;
  std::vector<int16_t> xs(x.values.size()), ws(w.values.size());
  int32_t least = 0, most = 0;  // of every v − z: min/max reductions, no branch (vectorised)
  const auto centre = [&least, &most](const int32_t* v, int32_t z, int64_t n, int16_t* out) {
    for (int64_t i = 0; i < n; ++i) {
      const int32_t d = v[i] - z;
      least = std::min(least, d);
      most = std::max(most, d);
      out[i] = static_cast<int16_t>(d);  // kept only if every d fits
    }
  };
  centre(x.values.data(), x.zero_points[0], static_cast<int64_t>(xs.size()), xs.data());
  w.ForEachQuantRun([&](int64_t q, int64_t begin, int64_t end) {
    centre(w.values.data() + begin, w.ZeroPoint(q), end - begin, ws.data() + begin);
  });
  std::vector<int64_t> acc;
  if (least >= -255 && most <= 255) {
    LayerProductSums(layer, x.shape, out_shape, xs, ws, &acc);
    return acc;
  }
  acc.assign(static_cast<size_t>(ShapeElements(out_shape)), 0);  // values beyond 8 bits
  const int32_t z_x = x.zero_points[0];
  ForEachProduct(layer, x.shape, out_shape, [&](int64_t o, int64_t i, int64_t k) {
    acc[o] += (int64_t{x.values[i]} - z_x) * (int64_t{w.values[k]} - w.ZeroPoint(w.QuantIndexOf(k)));
  });
  return acc;
}

std::vector<ChannelTerms> LayerChannelTerms(const Layer& layer, double s_x) {
  const QuantRange type_range = TypeRange(layer.out_dtype);
  const QuantRange range{layer.relu ? std::max(type_range.qmin, layer.out_zero_point)
                                    : type_range.qmin,
                         type_range.qmax};
  std::vector<ChannelTerms> terms;
  const int64_t channels = LayerOutChannels(layer);
  terms.reserve(channels);
  for (int64_t oc = 0; oc < channels; ++oc) {
    ChannelQuant q;
    q.s_x = s_x;
    q.s_w = layer.weight.Scale(WeightQuantIndex(layer, oc));
    q.per_channel = layer.weight.per_channel();
    q.s_y = layer.out_scale;
    q.z_y = layer.out_zero_point;
    if (layer.bias) q.bias = (*layer.bias)[oc];
    q.range = range;
    terms.push_back(PrepareChannel(q));
  }
  return terms;
}

QTensor LayerOutputTensor(const Layer& layer, const QTensor& input0,
                          const std::vector<int64_t>& shape, const std::vector<int32_t>& values) {
  const OutputQParams q = LayerOutputQParams(layer, input0);
  return PerTensorQTensor(q.dtype, shape, values, q.scale, q.zero_point);
}

const OpRecipeDef& PipelineOpRecipe(std::optional<Engine> op_engine, const Layer& layer,
                                    const std::vector<QTensor>& inputs) {
  const OpRecipeDef* r = !op_engine ? nullptr : EngineOpRecipe(*op_engine, layer, inputs);
  return r ? *r : ExactOpRecipe(layer.op);
}

namespace {

// t.out of a GEMM layer from its accumulators and channel terms: one recipe evaluation each,
// channel by channel (the outputs of a channel are runs of `inner` = Π spatial extents).
void RequantizeGemm(const Recipe& recipe, LayerTrace& t) {
  const int64_t n = static_cast<int64_t>(t.acc.size());
  t.out.resize(t.acc.size());
  int64_t inner = 1;
  for (size_t d = 2; d < t.shape.size(); ++d) inner *= t.shape[d];
  const int64_t channels = t.shape.size() > 1 ? t.shape[1] : 1;
  for (int64_t begin = 0; begin < n && inner > 0; begin += inner) {
    EvaluateRecipeRun(recipe, t.channels[(begin / inner) % channels], t.acc.data() + begin,
                      std::min(n - begin, inner), t.out.data() + begin);
  }
}

}  // namespace

LayerTrace RunIntegerLayer(const Layer& layer, const QTensor& x, const Recipe& recipe) {
  return RunIntegerLayer(layer, std::vector<QTensor>{x}, PipelineRecipe{recipe, std::nullopt});
}

LayerTrace RunIntegerLayer(const Layer& layer, const std::vector<QTensor>& inputs,
                           const PipelineRecipe& recipe) {
  LayerTrace t;
  t.inputs = inputs;
  std::vector<std::vector<int64_t>> in_shapes;
  for (const QTensor& x : inputs) in_shapes.push_back(x.shape);
  t.shape = LayerOutputShape(layer, in_shapes);
  if (!IsGemmOp(layer.op)) {
    t.op_recipe = &PipelineOpRecipe(recipe.op_engine, layer, inputs);
    t.out = t.op_recipe->run(layer, inputs, t.shape);
    return t;
  }
  const QTensor& x = inputs[0];
  t.acc = LayerAccumulators(layer, x, t.shape);
  t.channels = LayerChannelTerms(layer, x.scales[0]);
  RequantizeGemm(recipe.gemm, t);
  return t;
}

std::vector<LayerTrace> RunIntegerPipelineFed(const Model& model, const PipelineRecipe& recipe,
                                              const std::vector<std::optional<QTensor>>& fed,
                                              SharedLayerWork* shared) {
  std::vector<LayerTrace> traces;
  std::vector<QTensor> nodes;  // node j: the tensor later layers read as layer j's output
  if (shared) shared->layers.resize(model.layers.size());
  for (size_t l = 0; l < model.layers.size(); ++l) {
    const Layer& layer = model.layers[l];
    bool recipe_independent = true;  // every input is the model input or a fed tensor
    for (int id : LayerInputIds(model, l)) {
      recipe_independent = recipe_independent && (id < 0 || (id < static_cast<int>(fed.size()) && fed[id]));
    }
    SharedValues<QTensor> inputs = shared && recipe_independent ? shared->layers[l].inputs : SharedValues<QTensor>();
    if (inputs.empty()) {
      std::vector<QTensor> taken;
      for (int id : LayerInputIds(model, l)) taken.push_back(id < 0 ? GraphInput(model, id) : nodes[id]);
      inputs = std::move(taken);
      if (shared && recipe_independent) shared->layers[l].inputs = inputs;
    }
    if (shared && recipe_independent && IsGemmOp(layer.op)) {
      std::optional<SharedLayerWork::Terms>& terms = shared->layers[l].gemm;
      LayerTrace t;
      t.inputs = inputs;
      t.shape = LayerOutputShape(layer, inputs[0].shape);
      if (!terms) {
        terms = SharedLayerWork::Terms{LayerAccumulators(layer, inputs[0], t.shape),
                                       LayerChannelTerms(layer, inputs[0].scales[0])};
      }
      t.acc = terms->acc;
      t.channels = terms->channels;
      RequantizeGemm(recipe.gemm, t);
      traces.push_back(std::move(t));
    } else if (shared && recipe_independent) {
      LayerTrace t;
      t.inputs = inputs;
      std::vector<std::vector<int64_t>> in_shapes;
      for (const QTensor& x : inputs) in_shapes.push_back(x.shape);
      t.shape = LayerOutputShape(layer, in_shapes);
      t.op_recipe = &PipelineOpRecipe(recipe.op_engine, layer, inputs);
      auto [it, first] = shared->layers[l].op_out.try_emplace(t.op_recipe);
      if (first) it->second = t.op_recipe->run(layer, inputs, t.shape);
      t.out = it->second;
      traces.push_back(std::move(t));
    } else {
      traces.push_back(RunIntegerLayer(layer, inputs, recipe));
    }
    const LayerTrace& t = traces.back();
    nodes.push_back(l < fed.size() && fed[l]
                        ? *fed[l]
                        : LayerOutputTensor(model.layers[l], inputs[0], t.shape, t.out));
  }
  return traces;
}

std::vector<LayerTrace> RunIntegerPipeline(const Model& model, const Recipe& recipe) {
  return RunIntegerPipelineFed(model, PipelineRecipe{recipe, std::nullopt}, {});
}

}  // namespace qdiff
