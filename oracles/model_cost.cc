#include "oracles/model_cost.h"

#include <algorithm>
#include <limits>
#include <vector>

namespace qdiff {

namespace {

constexpr int64_t kSaturated = std::numeric_limits<int64_t>::max();

int64_t SaturatingMul(int64_t a, int64_t b) {
  if (a == 0 || b == 0) return 0;
  return a > kSaturated / b ? kSaturated : a * b;
}

int64_t SaturatingAdd(int64_t a, int64_t b) { return a > kSaturated - b ? kSaturated : a + b; }

int64_t SaturatingProduct(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n = SaturatingMul(n, d);
  return n;
}

// Taps per output element of `layer` given its first input's shape.
int64_t TapsPerOutput(const Layer& l, const std::vector<int64_t>& in,
                      const std::vector<int64_t>& out) {
  if (IsGemmOp(l.op)) {
    // weight [OC, C/g, k...] (conv_transpose2d: [C, OC/g, k...], C/g inputs reach an output)
    const std::vector<int64_t>& w = l.weight.shape;
    const int64_t per_group_in = IsTransposedConv(l.op) ? w[0] / l.conv.groups : w[1];
    return SaturatingMul(per_group_in, SaturatingProduct(std::vector<int64_t>(w.begin() + 2, w.end())));
  }
  switch (l.op) {
    case OpKind::kMaxPool2d:
    case OpKind::kAvgPool2d:
      return SaturatingMul(std::min(l.pool.kernel[0], in[2]), std::min(l.pool.kernel[1], in[3]));
    case OpKind::kAdaptiveAvgPool2d:
      return SaturatingMul(in[2] / out[2] + 2, in[3] / out[3] + 2);
    case OpKind::kMean:
      return SaturatingMul(in[2], in[3]);
    case OpKind::kAdd:
    case OpKind::kMul:
      return 2;
    default:
      return 1;
  }
}

}  // namespace

ModelCost EstimateModelCost(const Model& model) {
  ModelCost cost;
  const std::vector<std::vector<int64_t>> shapes = NodeShapes(model);
  cost.elements = model.input.NumElements();
  for (const QTensor& extra : model.extra_inputs) {
    cost.elements = SaturatingAdd(cost.elements, extra.NumElements());
  }
  for (size_t i = 0; i < model.layers.size() && i < shapes.size(); ++i) {
    const Layer& l = model.layers[i];
    const int id0 = LayerInputIds(model, i)[0];
    const std::vector<int64_t>& in = id0 < 0 ? GraphInput(model, id0).shape : shapes[id0];
    const int64_t outputs = SaturatingProduct(shapes[i]);
    cost.elements = SaturatingAdd(cost.elements, outputs);
    if (IsGemmOp(l.op)) cost.elements = SaturatingAdd(cost.elements, l.weight.NumElements());
    cost.multiply_adds =
        SaturatingAdd(cost.multiply_adds, SaturatingMul(outputs, TapsPerOutput(l, in, shapes[i])));
  }
  return cost;
}

}  // namespace qdiff
