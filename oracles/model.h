// The quantized model that every runner executes: plain integers and floats, standard library only.
// A Model is fully concrete (no generator state): it is what a case file stores and what the
// integer pipeline, the float oracle and the LibTorch runner all read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qdiff {

enum class DType { kQUInt8, kQInt8 };

struct QuantRange {
  int32_t qmin;
  int32_t qmax;
};

// Number of elements of a shape (product of its dimensions).
int64_t ShapeElements(const std::vector<int64_t>& shape);

// Full value range of a quantized 8-bit type: quint8 [0,255], qint8 [-128,127].
QuantRange TypeRange(DType dtype);
const char* DTypeName(DType dtype);

// A quantized tensor as int_repr() values plus its quantization parameters.
// Per-tensor: scales.size() == zero_points.size() == 1 and axis == -1.
// Per-channel: one scale/zero point per index of dimension `axis`.
// Real value of element i: scale[c] * (values[i] - zero_point[c]).
struct QTensor {
  DType dtype = DType::kQUInt8;
  std::vector<int64_t> shape;
  std::vector<int32_t> values;  // row-major (contiguous NCHW / [out,in]) int_repr values
  std::vector<double> scales;   // as LibTorch stores them (double)
  std::vector<int32_t> zero_points;
  int axis = -1;

  bool per_channel() const { return axis >= 0; }
  int64_t NumElements() const { return ShapeElements(shape); }
  double Scale(int64_t channel) const { return per_channel() ? scales[channel] : scales[0]; }
  int32_t ZeroPoint(int64_t channel) const {
    return per_channel() ? zero_points[channel] : zero_points[0];
  }
};

enum class OpKind { kConv2d, kLinear };
const char* OpKindName(OpKind op);

struct Conv2dAttrs {
  int64_t stride[2] = {1, 1};
  int64_t padding[2] = {0, 0};
  int64_t dilation[2] = {1, 1};
  int64_t groups = 1;
};

// One quantized layer: y = requant(op(x, weight) + bias), optionally fused with ReLU.
// conv2d: x [N, C, H, W], weight [OC, C/groups, KH, KW]; linear: x [N, K], weight [OC, K].
// Weights are qint8, per-tensor or per-channel along axis 0.
struct Layer {
  OpKind op = OpKind::kConv2d;
  bool relu = false;
  Conv2dAttrs conv;                 // used by kConv2d only
  QTensor weight;
  std::optional<std::vector<float>> bias;  // float bias exactly as LibTorch receives it, [OC]
  double out_scale = 1.0;
  int32_t out_zero_point = 0;
  DType out_dtype = DType::kQUInt8;
};

// A chain of layers applied to one quantized input.
struct Model {
  QTensor input;
  std::vector<Layer> layers;
};

// Output shape of `layer` for an input of shape `in`; empty if the shapes do not fit.
std::vector<int64_t> LayerOutputShape(const Layer& layer, const std::vector<int64_t>& in);

// Checks everything a runner relies on (shapes, lengths, ranges, scales > 0 and finite).
// Returns an empty string when valid, otherwise a message naming the offending field.
std::string ValidateModel(const Model& model);

}  // namespace qdiff
