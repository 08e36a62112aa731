#include "harness/case/case.h"

#include <sstream>

namespace qdiff {

std::string LayerOpName(const Layer& layer) {
  return std::string(OpKindName(layer.op)) + (layer.relu ? "_relu" : "");
}

std::string LayerShapeSummary(const Layer& layer, const std::vector<int64_t>& in_shape) {
  std::ostringstream s;
  s << "x";
  for (size_t i = 0; i < in_shape.size(); ++i) s << (i ? "x" : "") << in_shape[i];
  if (layer.channels_last) s << " cl";
  const PoolAttrs& p = layer.pool;
  // "a,b[,c]": the op's entries of a per-spatial-dimension conv attribute
  auto dims = [&](const int64_t* v) {
    std::ostringstream d;
    for (int i = 0; i < ConvSpatialDims(layer.op); ++i) d << (i ? "," : "") << v[i];
    return d.str();
  };
  switch (layer.op) {
    case OpKind::kConv1d:
    case OpKind::kConv2d:
    case OpKind::kConv3d:
    case OpKind::kConvTranspose2d:
    case OpKind::kLinear: {
      s << " w";
      for (size_t i = 0; i < layer.weight.shape.size(); ++i) {
        s << (i ? "x" : "") << layer.weight.shape[i];
      }
      if (IsConvOp(layer.op)) {
        const ConvAttrs& a = layer.conv;
        s << " g" << a.groups << " s" << dims(a.stride) << " p" << dims(a.padding);
        if (IsTransposedConv(layer.op)) s << " op" << dims(a.output_padding);
        s << " d" << dims(a.dilation);
      }
      s << (layer.weight.per_channel() ? " pc" : " pt") << (layer.bias ? " b" : " nb");
      break;
    }
    case OpKind::kMaxPool2d:
    case OpKind::kAvgPool2d:
      s << " k" << p.kernel[0] << "," << p.kernel[1] << " s" << p.stride[0] << "," << p.stride[1]
        << " p" << p.padding[0] << "," << p.padding[1];
      if (layer.op == OpKind::kMaxPool2d) s << " d" << p.dilation[0] << "," << p.dilation[1];
      if (p.ceil_mode) s << " ceil";
      if (layer.op == OpKind::kAvgPool2d) {
        s << (p.count_include_pad ? " incpad" : " excpad");
        if (p.divisor_override) s << " div" << p.divisor_override;
      }
      break;
    case OpKind::kAdaptiveAvgPool2d:
      s << " o" << p.output_size[0] << "," << p.output_size[1];
      break;
    case OpKind::kCat:
      s << " dim" << layer.cat_dim << " n" << layer.inputs.size();
      break;
    case OpKind::kHardtanh:
    case OpKind::kClamp:
      s << " [" << layer.act.min_value << "," << layer.act.max_value << "]";
      break;
    case OpKind::kLeakyRelu:
      s << " slope" << layer.act.negative_slope;
      break;
    default:
      break;
  }
  return s.str();
}

std::vector<std::string> RequiredCpuFlags(const std::string& description) {
  const std::string key = "Requires CPU flags:";
  const size_t at = description.find(key);
  if (at == std::string::npos) return {};
  const size_t end = description.find('.', at);
  std::istringstream words(description.substr(at + key.size(), end - at - key.size()));
  std::vector<std::string> flags;
  for (std::string w; words >> w;) flags.push_back(w);
  return flags;
}

}  // namespace qdiff
