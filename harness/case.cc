#include "harness/case.h"

#include <sstream>

namespace qdiff {

std::string LayerOpName(const Layer& layer) {
  return std::string(OpKindName(layer.op)) + (layer.relu ? "_relu" : "");
}

std::string LayerShapeSummary(const Layer& layer, const std::vector<int64_t>& in_shape) {
  std::ostringstream s;
  s << "x";
  for (size_t i = 0; i < in_shape.size(); ++i) s << (i ? "x" : "") << in_shape[i];
  s << " w";
  for (size_t i = 0; i < layer.weight.shape.size(); ++i) {
    s << (i ? "x" : "") << layer.weight.shape[i];
  }
  if (layer.op == OpKind::kConv2d) {
    const Conv2dAttrs& a = layer.conv;
    s << " g" << a.groups << " s" << a.stride[0] << "," << a.stride[1] << " p" << a.padding[0]
      << "," << a.padding[1] << " d" << a.dilation[0] << "," << a.dilation[1];
  }
  s << (layer.weight.per_channel() ? " pc" : " pt") << (layer.bias ? " b" : " nb");
  return s.str();
}

}  // namespace qdiff
