#include "oracles/model.h"

#include <cmath>
#include <limits>
#include <sstream>

namespace qdiff {

QuantRange TypeRange(DType dtype) {
  return dtype == DType::kQUInt8 ? QuantRange{0, 255} : QuantRange{-128, 127};
}

const char* DTypeName(DType dtype) { return dtype == DType::kQUInt8 ? "quint8" : "qint8"; }

const char* OpKindName(OpKind op) { return op == OpKind::kConv2d ? "conv2d" : "linear"; }

int64_t ShapeElements(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

namespace {

// Largest tensor a case may hold: keeps hostile case files from exhausting memory.
constexpr int64_t kMaxElements = int64_t{1} << 24;

// Product of dims, or -1 if any dim is < 1 or the product exceeds kMaxElements.
int64_t CheckedProduct(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 1 || d > kMaxElements || n > kMaxElements / d) return -1;
    n *= d;
  }
  return n;
}

std::string ValidateTensor(const QTensor& t, const std::string& name) {
  std::ostringstream err;
  int64_t n = CheckedProduct(t.shape);
  if (t.shape.empty() || n < 0) {
    err << name << ".shape: every dimension must be >= 1 and the product <= " << kMaxElements;
    return err.str();
  }
  if (static_cast<int64_t>(t.values.size()) != n) {
    err << name << ".values: has " << t.values.size() << " values, shape needs " << n;
    return err.str();
  }
  size_t channels = 1;
  if (t.per_channel()) {
    if (t.axis >= static_cast<int>(t.shape.size())) return name + ".axis: out of range";
    channels = static_cast<size_t>(t.shape[t.axis]);
  } else if (t.axis != -1) {
    return name + ".axis: must be -1 (per-tensor) or a dimension index";
  }
  if (t.scales.size() != channels) return name + ".scales: wrong length";
  if (t.zero_points.size() != channels) return name + ".zero_points: wrong length";
  QuantRange r = TypeRange(t.dtype);
  for (double s : t.scales) {
    if (!(s > 0) || !std::isfinite(s) || !std::isnormal(static_cast<float>(s))) {
      return name + ".scales: each scale must be finite, > 0 and a normal float";
    }
  }
  for (int32_t z : t.zero_points) {
    if (z < r.qmin || z > r.qmax) return name + ".zero_points: out of the dtype's range";
  }
  for (int32_t v : t.values) {
    if (v < r.qmin || v > r.qmax) return name + ".values: out of the dtype's range";
  }
  return "";
}

}  // namespace

std::vector<int64_t> LayerOutputShape(const Layer& layer, const std::vector<int64_t>& in) {
  const std::vector<int64_t>& w = layer.weight.shape;
  if (layer.op == OpKind::kLinear) {
    if (in.size() != 2 || w.size() != 2 || in[1] != w[1]) return {};
    return {in[0], w[0]};
  }
  const Conv2dAttrs& a = layer.conv;
  if (in.size() != 4 || w.size() != 4 || a.groups < 1) return {};
  if (in[1] % a.groups != 0 || w[0] % a.groups != 0 || in[1] / a.groups != w[1]) return {};
  std::vector<int64_t> out = {in[0], w[0], 0, 0};
  for (int d = 0; d < 2; ++d) {
    if (a.stride[d] < 1 || a.dilation[d] < 1 || a.padding[d] < 0) return {};
    int64_t span = a.dilation[d] * (w[2 + d] - 1) + 1;
    int64_t padded = in[2 + d] + 2 * a.padding[d];
    if (padded < span) return {};
    out[2 + d] = (padded - span) / a.stride[d] + 1;
  }
  return out;
}

std::string ValidateModel(const Model& model) {
  std::string err = ValidateTensor(model.input, "input");
  if (!err.empty()) return err;
  if (model.layers.empty()) return "layers: at least one layer is required";
  std::vector<int64_t> shape = model.input.shape;
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const Layer& l = model.layers[i];
    std::string at = "layers[" + std::to_string(i) + "]";
    err = ValidateTensor(l.weight, at + ".weight");
    if (!err.empty()) return err;
    if (l.weight.dtype != DType::kQInt8) return at + ".weight.dtype: must be qint8";
    if (l.weight.per_channel() && l.weight.axis != 0) return at + ".weight.axis: must be 0";
    int64_t oc = l.weight.shape[0];
    if (l.bias && static_cast<int64_t>(l.bias->size()) != oc) {
      return at + ".bias: length must equal the output channels";
    }
    if (l.bias) {
      for (float b : *l.bias) {
        if (!std::isfinite(b)) return at + ".bias: every value must be finite";
      }
    }
    if (!(l.out_scale > 0) || !std::isfinite(l.out_scale) ||
        !std::isnormal(static_cast<float>(l.out_scale))) {
      return at + ".out_scale: must be finite, > 0 and a normal float";
    }
    QuantRange r = TypeRange(l.out_dtype);
    if (l.out_zero_point < r.qmin || l.out_zero_point > r.qmax) {
      return at + ".out_zero_point: out of the output dtype's range";
    }
    std::vector<int64_t> out = LayerOutputShape(l, shape);
    if (out.empty() || CheckedProduct(out) < 0) {
      return at + ": weight shape or conv attributes do not fit the input shape";
    }
    shape = out;
  }
  return "";
}

}  // namespace qdiff
