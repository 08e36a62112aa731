#include "oracles/integer_pipeline.h"

#include <algorithm>

#include "oracles/layer_products.h"

namespace qdiff {

int64_t LayerTrace::ChannelOf(int64_t index) const { return OutputChannelOf(shape, index); }

std::vector<int64_t> LayerAccumulators(const Layer& layer, const QTensor& x,
                                       const std::vector<int64_t>& out_shape) {
  std::vector<int64_t> acc(static_cast<size_t>(ShapeElements(out_shape)), 0);
  const int32_t z_x = x.zero_points[0];
  const QTensor& w = layer.weight;
  const int64_t k_per_channel = w.NumElements() / w.shape[0];
  ForEachProduct(layer, x.shape, out_shape, [&](int64_t o, int64_t i, int64_t k) {
    const int32_t z_w = w.ZeroPoint(k / k_per_channel);
    acc[o] += int64_t{x.values[i] - z_x} * (w.values[k] - z_w);  // |each| ≤ 255·255
  });
  return acc;
}

std::vector<ChannelTerms> LayerChannelTerms(const Layer& layer, double s_x) {
  const QuantRange type_range = TypeRange(layer.out_dtype);
  const QuantRange range{layer.relu ? std::max(type_range.qmin, layer.out_zero_point)
                                    : type_range.qmin,
                         type_range.qmax};
  std::vector<ChannelTerms> terms;
  const int64_t channels = layer.weight.shape[0];
  terms.reserve(channels);
  for (int64_t oc = 0; oc < channels; ++oc) {
    ChannelQuant q;
    q.s_x = s_x;
    q.s_w = layer.weight.Scale(oc);
    q.per_channel = layer.weight.per_channel();
    q.s_y = layer.out_scale;
    q.z_y = layer.out_zero_point;
    if (layer.bias) q.bias = (*layer.bias)[oc];
    q.range = range;
    terms.push_back(PrepareChannel(q));
  }
  return terms;
}

QTensor LayerOutputTensor(const Layer& layer, const std::vector<int64_t>& shape,
                          const std::vector<int32_t>& values) {
  QTensor t;
  t.dtype = layer.out_dtype;
  t.shape = shape;
  t.values = values;
  t.scales = {layer.out_scale};
  t.zero_points = {layer.out_zero_point};
  return t;
}

LayerTrace RunIntegerLayer(const Layer& layer, const QTensor& x, const Recipe& recipe) {
  LayerTrace t;
  t.input = x;
  t.shape = LayerOutputShape(layer, x.shape);
  t.acc = LayerAccumulators(layer, x, t.shape);
  t.channels = LayerChannelTerms(layer, x.scales[0]);
  t.out.resize(t.acc.size());
  for (size_t i = 0; i < t.acc.size(); ++i) {
    const ChannelTerms& c = t.channels[t.ChannelOf(static_cast<int64_t>(i))];
    // Every named scheme is a valid ingredient combination, so the value is always present.
    t.out[i] = EvaluateRecipe(recipe, c, t.acc[i]).value_or(c.quant.z_y);
  }
  return t;
}

std::vector<LayerTrace> RunIntegerPipelineFed(const Model& model, const Recipe& recipe,
                                              const std::vector<std::optional<QTensor>>& inputs) {
  std::vector<LayerTrace> traces;
  QTensor x = model.input;
  for (size_t l = 0; l < model.layers.size(); ++l) {
    if (l < inputs.size() && inputs[l]) x = *inputs[l];
    traces.push_back(RunIntegerLayer(model.layers[l], x, recipe));
    x = LayerOutputTensor(model.layers[l], traces.back().shape, traces.back().out);
  }
  return traces;
}

std::vector<LayerTrace> RunIntegerPipeline(const Model& model, const Recipe& recipe) {
  return RunIntegerPipelineFed(model, recipe, {});
}

}  // namespace qdiff
