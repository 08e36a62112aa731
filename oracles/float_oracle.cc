#include "oracles/float_oracle.h"

#include <algorithm>
#include <cmath>

#include "oracles/integer_pipeline.h"
#include "oracles/layer_gemm.h"
#include "oracles/layer_products.h"
#include "oracles/ops/libtorch_float.h"
#include "oracles/ops/op_recipe.h"

namespace qdiff {

float DequantizeElement(const QTensor& t, int64_t index) {
  if (!t.per_channel()) return DequantScalar(t.scales[0], t.zero_points[0], t.values[index]);
  int64_t inner = 1;
  for (size_t d = t.axis + 1; d < t.shape.size(); ++d) inner *= t.shape[d];
  const int64_t c = (index / inner) % t.shape[t.axis];
  return static_cast<float>(
      (static_cast<double>(static_cast<float>(t.values[index])) - t.zero_points[c]) * t.scales[c]);
}

std::vector<double> DequantizedValues(const QTensor& t) {
  std::vector<double> out(t.values.size());
  t.ForEachQuantRun([&](int64_t q, int64_t begin, int64_t end) {
    const double s = t.scales[q];
    const int32_t z = t.zero_points[q];
    if (t.per_channel()) {
      for (int64_t i = begin; i < end; ++i) {
        out[i] = static_cast<float>((static_cast<double>(static_cast<float>(t.values[i])) - z) * s);
      }
    } else {
      for (int64_t i = begin; i < end; ++i) out[i] = DequantScalar(s, z, t.values[i]);
    }
  });
  return out;
}

namespace {

// Real output of a GEMM layer: Σ dequant(x)·dequant(w) + bias, in float64, each output's
// products added in ForEachProduct's order (LayerProductSums).
std::vector<double> GemmReal(const Layer& layer, const QTensor& x,
                             const std::vector<int64_t>& shape) {
  std::vector<double> real;
  LayerProductSums(layer, x.shape, shape, DequantizedValues(x), DequantizedValues(layer.weight), &real);
  if (layer.bias) {
    for (size_t o = 0; o < real.size(); ++o) {
      real[o] += (*layer.bias)[OutputChannelOf(shape, static_cast<int64_t>(o))];
    }
  }
  return real;
}

}  // namespace

std::vector<FloatLayerResult> RunFloatOracle(const Model& model) {
  std::vector<FloatLayerResult> results;
  std::vector<QTensor> nodes;
  for (size_t l = 0; l < model.layers.size(); ++l) {
    const Layer& layer = model.layers[l];
    std::vector<QTensor> inputs;
    std::vector<std::vector<int64_t>> in_shapes;
    for (int id : LayerInputIds(model, l)) {
      inputs.push_back(id < 0 ? GraphInput(model, id) : nodes[id]);
      in_shapes.push_back(inputs.back().shape);
    }
    const std::vector<int64_t> shape = LayerOutputShape(layer, in_shapes);
    FloatLayerResult r;
    r.real = IsGemmOp(layer.op) ? GemmReal(layer, inputs[0], shape)
                                : FloatOpReal(layer, inputs, shape);
    const OutputQParams q = LayerOutputQParams(layer, inputs[0]);
    const QuantRange range = TypeRange(q.dtype);
    const int32_t lo = layer.relu ? std::max(range.qmin, q.zero_point) : range.qmin;
    r.out.resize(r.real.size());
    for (size_t o = 0; o < r.real.size(); ++o) {
      const double v = std::nearbyint(r.real[o] / q.scale) + q.zero_point;
      r.out[o] = static_cast<int32_t>(std::clamp<double>(v, lo, range.qmax));
    }
    nodes.push_back(LayerOutputTensor(layer, inputs[0], shape, r.out));
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace qdiff
