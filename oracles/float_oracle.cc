#include "oracles/float_oracle.h"

#include <algorithm>
#include <cmath>

#include "oracles/integer_pipeline.h"
#include "oracles/layer_products.h"

namespace qdiff {

float DequantizeElement(const QTensor& t, int64_t index) {
  if (!t.per_channel()) {
    return static_cast<float>(t.scales[0]) * static_cast<float>(t.values[index] - t.zero_points[0]);
  }
  int64_t inner = 1;
  for (size_t d = t.axis + 1; d < t.shape.size(); ++d) inner *= t.shape[d];
  const int64_t c = (index / inner) % t.shape[t.axis];
  return static_cast<float>(
      (static_cast<double>(static_cast<float>(t.values[index])) - t.zero_points[c]) * t.scales[c]);
}

std::vector<FloatLayerResult> RunFloatOracle(const Model& model) {
  std::vector<FloatLayerResult> results;
  QTensor x = model.input;
  for (const Layer& layer : model.layers) {
    const std::vector<int64_t> shape = LayerOutputShape(layer, x.shape);
    FloatLayerResult r;
    r.real.assign(static_cast<size_t>(ShapeElements(shape)), 0.0);
    ForEachProduct(layer, x.shape, shape, [&](int64_t o, int64_t i, int64_t k) {
      r.real[o] += static_cast<double>(DequantizeElement(x, i)) *
                   static_cast<double>(DequantizeElement(layer.weight, k));
    });
    const QuantRange range = TypeRange(layer.out_dtype);
    const int32_t lo = layer.relu ? std::max(range.qmin, layer.out_zero_point) : range.qmin;
    r.out.resize(r.real.size());
    for (size_t o = 0; o < r.real.size(); ++o) {
      if (layer.bias) r.real[o] += (*layer.bias)[OutputChannelOf(shape, static_cast<int64_t>(o))];
      const double q = std::nearbyint(r.real[o] / layer.out_scale) + layer.out_zero_point;
      r.out[o] = static_cast<int32_t>(std::clamp<double>(q, lo, range.qmax));
    }
    x = LayerOutputTensor(layer, shape, r.out);
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace qdiff
