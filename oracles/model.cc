#include "oracles/model.h"

#include <cmath>
#include <limits>
#include <sstream>

namespace qdiff {

QuantRange TypeRange(DType dtype) {
  return dtype == DType::kQUInt8 ? QuantRange{0, 255} : QuantRange{-128, 127};
}

const char* DTypeName(DType dtype) { return dtype == DType::kQUInt8 ? "quint8" : "qint8"; }

const char* OpKindName(OpKind op) {
  switch (op) {
    case OpKind::kConv2d: return "conv2d";
    case OpKind::kLinear: return "linear";
    case OpKind::kAdd: return "add";
    case OpKind::kMul: return "mul";
    case OpKind::kCat: return "cat";
    case OpKind::kMaxPool2d: return "max_pool2d";
    case OpKind::kAvgPool2d: return "avg_pool2d";
    case OpKind::kAdaptiveAvgPool2d: return "adaptive_avg_pool2d";
    case OpKind::kRelu: return "relu";
    case OpKind::kRelu6: return "relu6";
    case OpKind::kHardtanh: return "hardtanh";
    case OpKind::kClamp: return "clamp";
    case OpKind::kHardswish: return "hardswish";
    case OpKind::kSigmoid: return "sigmoid";
    case OpKind::kLeakyRelu: return "leaky_relu";
    case OpKind::kConv1d: return "conv1d";
    case OpKind::kConv3d: return "conv3d";
    case OpKind::kConvTranspose2d: return "conv_transpose2d";
    case OpKind::kFlatten: return "flatten";
  }
  return "?";
}

std::optional<OpKind> ParseOpKind(const std::string& name) {
  for (OpKind op : kAllOpKinds) {
    if (name == OpKindName(op)) return op;
  }
  return std::nullopt;
}

bool IsGemmOp(OpKind op) { return IsConvOp(op) || op == OpKind::kLinear; }

bool IsConvOp(OpKind op) { return ConvSpatialDims(op) > 0; }

bool IsTransposedConv(OpKind op) { return op == OpKind::kConvTranspose2d; }

bool IsPoolOp(OpKind op) {
  return op == OpKind::kMaxPool2d || op == OpKind::kAvgPool2d || op == OpKind::kAdaptiveAvgPool2d;
}

int ConvSpatialDims(OpKind op) {
  switch (op) {
    case OpKind::kConv1d: return 1;
    case OpKind::kConv2d:
    case OpKind::kConvTranspose2d: return 2;
    case OpKind::kConv3d: return 3;
    default: return 0;
  }
}

int64_t LayerOutChannels(const Layer& layer) {
  const std::vector<int64_t>& w = layer.weight.shape;
  if (w.size() < 2) return w.empty() ? 0 : w[0];
  return IsTransposedConv(layer.op) ? w[1] * layer.conv.groups : w[0];
}

int64_t WeightQuantIndex(const Layer& layer, int64_t oc) {
  if (!layer.weight.per_channel()) return 0;
  return layer.weight.axis == 1 ? oc % layer.weight.shape[1] : oc;
}

bool KeepsInputQParams(OpKind op) {
  switch (op) {
    case OpKind::kFlatten:
    case OpKind::kMaxPool2d:
    case OpKind::kAvgPool2d:
    case OpKind::kAdaptiveAvgPool2d:
    case OpKind::kRelu:
    case OpKind::kRelu6:
    case OpKind::kHardtanh:
    case OpKind::kClamp:
      return true;
    default:
      return false;
  }
}

int InputArity(OpKind op) {
  if (op == OpKind::kAdd || op == OpKind::kMul) return 2;
  return op == OpKind::kCat ? 0 : 1;
}

QTensor PerTensorQTensor(DType dtype, std::vector<int64_t> shape, std::vector<int32_t> values,
                         double scale, int32_t zero_point) {
  QTensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.values = std::move(values);
  t.scales = {scale};
  t.zero_points = {zero_point};
  return t;
}

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
  // One min/max reduction (vectorised) rather than a branch per value: every case is validated
  // several times on its way through the run.
  int32_t lo = r.qmin, hi = r.qmax;
  for (int32_t v : t.values) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (lo < r.qmin || hi > r.qmax) return name + ".values: out of the dtype's range";
  return "";
}

}  // namespace

namespace {

std::vector<int64_t> GemmOutputShape(const Layer& layer, const std::vector<int64_t>& in) {
  const std::vector<int64_t>& w = layer.weight.shape;
  if (layer.op == OpKind::kLinear) {
    if (in.size() != 2 || w.size() != 2 || in[1] != w[1]) return {};
    return {in[0], w[0]};
  }
  const ConvAttrs& a = layer.conv;
  const size_t rank = static_cast<size_t>(ConvSpatialDims(layer.op));
  if (in.size() != rank + 2 || w.size() != rank + 2 || a.groups < 1) return {};
  if (in[1] % a.groups != 0) return {};
  std::vector<int64_t> out = {in[0], LayerOutChannels(layer)};
  if (IsTransposedConv(layer.op)) {
    // weight [C, OC/g, k...]: the input channels are weight.shape[0]
    if (w[0] != in[1]) return {};
  } else if (w[0] % a.groups != 0 || in[1] / a.groups != w[1]) {
    return {};
  }
  for (size_t d = 0; d < rank; ++d) {
    const int64_t s = a.stride[d], p = a.padding[d], dil = a.dilation[d], op = a.output_padding[d];
    if (s < 1 || dil < 1 || p < 0 || op < 0) return {};
    if (s > kMaxElements || dil > kMaxElements || p > kMaxElements) return {};
    const int64_t span = dil * (w[2 + d] - 1) + 1;
    if (IsTransposedConv(layer.op)) {
      // PyTorch (ConvUtils.h / _ConvTransposeNd): output_padding must be smaller than either the
      // stride or the dilation; every output dimension must be positive.
      if (op >= s && op >= dil) return {};
      const int64_t o = (in[2 + d] - 1) * s - 2 * p + span + op;
      if (o < 1) return {};
      out.push_back(o);
    } else {
      if (op != 0) return {};
      const int64_t padded = in[2 + d] + 2 * p;
      if (padded < span) return {};
      out.push_back((padded - span) / s + 1);
    }
  }
  for (size_t d = rank; d < ConvAttrs::kMaxSpatialDims; ++d) {
    // unused entries keep their defaults, so that a case file has one meaning
    if (a.stride[d] != 1 || a.padding[d] != 0 || a.dilation[d] != 1 || a.output_padding[d] != 0) {
      return {};
    }
  }
  return out;
}

// PyTorch's pooling_output_shape (Pool.h) for one spatial dimension; 0 if invalid.
int64_t PoolOutputSize(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode) {
  if (k < 1 || s < 1 || d < 1 || p < 0 || p > k / 2 || in > kMaxElements) return 0;
  const int64_t num = in + 2 * p - d * (k - 1) - 1 + (ceil_mode ? s - 1 : 0);
  if (num < 0) return 0;
  int64_t out = num / s + 1;
  if (ceil_mode && (out - 1) * s >= in + p) --out;
  return out;
}

std::vector<int64_t> PoolOutputShape(const Layer& layer, const std::vector<int64_t>& in) {
  if (in.size() != 4) return {};
  const PoolAttrs& a = layer.pool;
  std::vector<int64_t> out = {in[0], in[1], 0, 0};
  for (int d = 0; d < 2; ++d) {
    if (layer.op == OpKind::kAdaptiveAvgPool2d) {
      out[2 + d] = a.output_size[d];
      if (out[2 + d] < 1 || out[2 + d] > kMaxElements) return {};
      continue;
    }
    const int64_t dil = layer.op == OpKind::kMaxPool2d ? a.dilation[d] : 1;
    out[2 + d] = PoolOutputSize(in[2 + d], a.kernel[d], a.stride[d], a.padding[d], dil, a.ceil_mode);
    if (out[2 + d] < 1) return {};
  }
  if (layer.op == OpKind::kAvgPool2d && a.divisor_override < 0) return {};
  return out;
}

}  // namespace

std::vector<int64_t> LayerOutputShape(const Layer& layer,
                                      const std::vector<std::vector<int64_t>>& in) {
  const int arity = InputArity(layer.op);
  if (arity > 0 ? static_cast<int>(in.size()) != arity : in.empty()) return {};
  switch (layer.op) {
    case OpKind::kConv1d:
    case OpKind::kConv2d:
    case OpKind::kConv3d:
    case OpKind::kConvTranspose2d:
    case OpKind::kLinear:
      return GemmOutputShape(layer, in[0]);
    case OpKind::kAdd:
    case OpKind::kMul:
      return in[0] == in[1] ? in[0] : std::vector<int64_t>();
    case OpKind::kCat: {
      const int64_t rank = static_cast<int64_t>(in[0].size());
      if (layer.cat_dim < 0 || layer.cat_dim >= rank) return {};
      std::vector<int64_t> out = in[0];
      for (size_t i = 1; i < in.size(); ++i) {
        if (static_cast<int64_t>(in[i].size()) != rank) return {};
        for (int64_t d = 0; d < rank; ++d) {
          if (d != layer.cat_dim && in[i][d] != in[0][d]) return {};
        }
        out[layer.cat_dim] += in[i][layer.cat_dim];
      }
      return out;
    }
    case OpKind::kFlatten: {
      if (in[0].size() < 2) return {};
      int64_t rest = 1;
      for (size_t d = 1; d < in[0].size(); ++d) rest *= in[0][d];
      return {in[0][0], rest};
    }
    case OpKind::kMaxPool2d:
    case OpKind::kAvgPool2d:
    case OpKind::kAdaptiveAvgPool2d:
      return PoolOutputShape(layer, in[0]);
    default:
      return in[0];
  }
}

std::vector<int64_t> LayerOutputShape(const Layer& layer, const std::vector<int64_t>& in) {
  return LayerOutputShape(layer, std::vector<std::vector<int64_t>>{in});
}

OutputQParams LayerOutputQParams(const Layer& layer, const QTensor& input0) {
  if (KeepsInputQParams(layer.op)) {
    return {input0.scales[0], input0.zero_points[0], input0.dtype};
  }
  if (layer.op == OpKind::kSigmoid) {
    return {1.0 / 256, input0.dtype == DType::kQUInt8 ? 0 : -128, input0.dtype};
  }
  return {layer.out_scale, layer.out_zero_point, IsGemmOp(layer.op) ? layer.out_dtype : input0.dtype};
}

const QTensor& GraphInput(const Model& model, int id) {
  return id == -1 ? model.input : model.extra_inputs.at(static_cast<size_t>(-2 - id));
}

std::vector<int> LayerInputIds(const Model& model, size_t i) {
  if (!model.layers[i].inputs.empty()) return model.layers[i].inputs;
  return {static_cast<int>(i) - 1};
}

std::vector<DType> NodeDTypes(const Model& model) {
  std::vector<DType> dtypes;
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const Layer& l = model.layers[i];
    const int id0 = LayerInputIds(model, i)[0];
    const DType in0 = id0 >= static_cast<int>(i) ? model.input.dtype
                      : id0 < 0 && -2 - id0 < static_cast<int>(model.extra_inputs.size())
                          ? GraphInput(model, id0).dtype
                      : id0 < 0 ? model.input.dtype
                                : dtypes[id0];
    dtypes.push_back(IsGemmOp(l.op) ? l.out_dtype : in0);
  }
  return dtypes;
}

std::vector<std::vector<int64_t>> NodeShapes(const Model& model) {
  if (!ValidateModel(model).empty()) return {};
  std::vector<std::vector<int64_t>> shapes;
  for (size_t i = 0; i < model.layers.size(); ++i) {
    std::vector<std::vector<int64_t>> in;
    for (int id : LayerInputIds(model, i)) {
      in.push_back(id < 0 ? GraphInput(model, id).shape : shapes[id]);
    }
    shapes.push_back(LayerOutputShape(model.layers[i], in));
  }
  return shapes;
}

namespace {

bool ValidScale(double s) {
  return s > 0 && std::isfinite(s) && std::isnormal(static_cast<float>(s));
}

std::string ValidateGemmLayer(const Layer& l, const std::string& at) {
  std::string err = ValidateTensor(l.weight, at + ".weight");
  if (!err.empty()) return err;
  if (l.weight.dtype != DType::kQInt8) return at + ".weight.dtype: must be qint8";
  const int out_axis = IsTransposedConv(l.op) ? 1 : 0;  // the weight's output-channel axis
  if (l.weight.per_channel() && l.weight.axis != out_axis) {
    return at + ".weight.axis: must be " + std::to_string(out_axis) + " (the output-channel axis)";
  }
  if (l.weight.shape.size() != static_cast<size_t>(IsConvOp(l.op) ? ConvSpatialDims(l.op) + 2 : 2)) {
    return at + ".weight.shape: wrong rank for " + OpKindName(l.op);
  }
  if (l.conv.groups < 1 || l.conv.groups > kMaxElements) return at + ".groups: must be >= 1";
  const int64_t oc = LayerOutChannels(l);
  if (l.bias && static_cast<int64_t>(l.bias->size()) != oc) {
    return at + ".bias: length must equal the output channels";
  }
  if (l.bias) {
    for (float b : *l.bias) {
      if (!std::isfinite(b)) return at + ".bias: every value must be finite";
    }
  }
  return "";
}

std::string ValidateActivation(const Layer& l, const std::string& at) {
  const ActivationAttrs& a = l.act;
  if (l.op == OpKind::kHardtanh || l.op == OpKind::kClamp) {
    if (!std::isfinite(a.min_value) || !std::isfinite(a.max_value) || a.min_value > a.max_value) {
      return at + ".min_value/max_value: must be finite with min_value <= max_value";
    }
  }
  if (l.op == OpKind::kLeakyRelu && !std::isfinite(a.negative_slope)) {
    return at + ".negative_slope: must be finite";
  }
  return "";
}

}  // namespace

std::string ValidateModel(const Model& model) {
  std::string err = ValidateTensor(model.input, "input");
  if (!err.empty()) return err;
  if (model.input.per_channel()) return "input.axis: the model input must be per-tensor";
  for (size_t k = 0; k < model.extra_inputs.size(); ++k) {
    const std::string at = "extra_inputs[" + std::to_string(k) + "]";
    err = ValidateTensor(model.extra_inputs[k], at);
    if (!err.empty()) return err;
    if (model.extra_inputs[k].per_channel()) return at + ".axis: a graph input must be per-tensor";
  }
  const int lowest_id = -1 - static_cast<int>(model.extra_inputs.size());
  if (model.layers.empty()) return "layers: at least one layer is required";
  std::vector<std::vector<int64_t>> shapes;
  std::vector<DType> dtypes;
  std::vector<double> scales;  // each node's output scale
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const Layer& l = model.layers[i];
    const std::string at = "layers[" + std::to_string(i) + "]";
    std::vector<int> ids = LayerInputIds(model, i);
    const int arity = InputArity(l.op);
    if (arity > 0 ? static_cast<int>(ids.size()) != arity : ids.size() < 2) {
      return at + ".inputs: " + OpKindName(l.op) + " takes " +
             (arity > 0 ? std::to_string(arity) + " input(s)" : std::string("2 or more inputs"));
    }
    std::vector<std::vector<int64_t>> in;
    std::vector<DType> in_dtypes;
    for (int id : ids) {
      if (id < lowest_id || id >= static_cast<int>(i)) {
        return at + ".inputs: node " + std::to_string(id) +
               " is not the model input (-1), an extra input (-2 …) or an earlier layer";
      }
      in.push_back(id < 0 ? GraphInput(model, id).shape : shapes[id]);
      in_dtypes.push_back(id < 0 ? GraphInput(model, id).dtype : dtypes[id]);
    }
    for (DType d : in_dtypes) {
      if (d != in_dtypes[0]) return at + ".inputs: all inputs must have the same dtype";
    }
    const double in_scale = ids[0] < 0 ? GraphInput(model, ids[0]).scales[0] : scales[ids[0]];
    if (IsGemmOp(l.op) && l.out_dtype != in_dtypes[0]) {
      err = at + ".out_dtype: must equal the input's dtype (LibTorch's quantized conv and linear "
                 "return the activation dtype they are given)";
    } else if (IsGemmOp(l.op)) {
      err = ValidateGemmLayer(l, at);
    } else if (!l.weight.values.empty() || !l.weight.shape.empty() || l.bias) {
      err = at + ".weight/bias: only convolution and linear layers have weights";
    } else {
      err = ValidateActivation(l, at);
    }
    if (!err.empty()) return err;
    if (l.relu && !((IsGemmOp(l.op) && !IsTransposedConv(l.op)) || l.op == OpKind::kAdd ||
                    l.op == OpKind::kMul)) {
      return at + ".relu: only the convolutions (not transposed), linear, add and mul have a "
                  "fused ReLU";
    }
    if (!KeepsInputQParams(l.op) && l.op != OpKind::kSigmoid) {
      if (!ValidScale(l.out_scale)) return at + ".out_scale: must be finite, > 0 and a normal float";
      const QuantRange r = TypeRange(IsGemmOp(l.op) ? l.out_dtype : in_dtypes[0]);
      if (l.out_zero_point < r.qmin || l.out_zero_point > r.qmax) {
        return at + ".out_zero_point: out of the output dtype's range";
      }
    }
    if (IsGemmOp(l.op)) {
      // Every engine forms the requantization multiplier s_x·s_w/s_y as a float32 at some point.
      for (double s_w : l.weight.scales) {
        const double m = in_scale * s_w / l.out_scale;
        if (!std::isfinite(static_cast<float>(m))) {
          std::ostringstream err;
          err << at << ".out_scale: the multiplier input scale × weight scale / out_scale = " << m
              << " overflows float32 (out_scale too small for its input)";
          return err.str();
        }
      }
    }
    std::vector<int64_t> out = LayerOutputShape(l, in);
    if (out.empty() || CheckedProduct(out) < 0) {
      return at + ": " + OpKindName(l.op) +
             " attributes (weight shape, window, dims) do not fit the input shape(s)";
    }
    shapes.push_back(out);
    dtypes.push_back(IsGemmOp(l.op) ? l.out_dtype : in_dtypes[0]);
    scales.push_back(KeepsInputQParams(l.op) ? in_scale
                     : l.op == OpKind::kSigmoid ? 1.0 / 256
                                                : l.out_scale);
  }
  return "";
}

}  // namespace qdiff
