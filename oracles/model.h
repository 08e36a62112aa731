// The quantized model that every runner executes: plain integers and floats, standard library only.
// A Model is fully concrete (no generator state): it is what a case file stores and what the
// integer pipeline, the float oracle and the LibTorch runner all read.
#pragma once

#include <algorithm>
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
  // Index of the scale/zero point that applies to flat element `index` (0 when per-tensor).
  int64_t QuantIndexOf(int64_t index) const {
    if (!per_channel()) return 0;
    int64_t inner = 1;
    for (size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
    return (index / inner) % shape[axis];
  }
  // Calls fn(q, begin, end) for every run [begin, end) of consecutive elements whose scale and
  // zero point are those of index q (= QuantIndexOf of each), in order; one run when per-tensor.
  template <typename Fn>
  void ForEachQuantRun(Fn&& fn) const {
    const int64_t n = static_cast<int64_t>(values.size());
    if (!per_channel()) return fn(int64_t{0}, int64_t{0}, n);
    int64_t inner = 1;
    for (size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
    if (inner == 0) return;
    for (int64_t b = 0; b < n; b += inner) fn((b / inner) % shape[axis], b, std::min(n, b + inner));
  }
};

// A per-tensor quantized tensor from its int_repr values (row-major) and qparams.
QTensor PerTensorQTensor(DType dtype, std::vector<int64_t> shape, std::vector<int32_t> values,
                         double scale, int32_t zero_point);

// GEMM ops (the convolutions and linear) carry weights and a bias and are requantized by a
// Scheme (oracles/scheme.h). Every other op has no weights; its engine recipes live in oracles/ops/.
// New kinds go at the end: the enum's values seed the fingerprint's diagnostic cases.
enum class OpKind {
  kConv2d,
  kLinear,
  kAdd,                // quantized::add(a, b, s_y, z_y); relu → add_relu
  kMul,                // quantized::mul(a, b, s_y, z_y); relu → mul_relu
  kCat,                // quantized::cat(xs, dim, s_y, z_y)
  kMaxPool2d,          // at::max_pool2d            (output qparams = input's)
  kAvgPool2d,          // at::avg_pool2d            (output qparams = input's)
  kAdaptiveAvgPool2d,  // at::adaptive_avg_pool2d   (output qparams = input's)
  kRelu,               // at::relu                  (output qparams = input's)
  kRelu6,              // at::hardtanh(x, 0, 6) / quantized relu6 (output qparams = input's)
  kHardtanh,           // at::hardtanh(x, lo, hi)   (output qparams = input's)
  kClamp,              // at::clamp(x, lo, hi)      (output qparams = input's)
  kHardswish,          // quantized::hardswish(x, s_y, z_y)
  kSigmoid,            // at::sigmoid: output qparams fixed (quint8 1/256,0; qint8 1/256,-128)
  kLeakyRelu,          // quantized::leaky_relu(x, slope, false, s_y, z_y)
  kConv1d,             // quantized::conv1d(_relu):   x [N,C,L],     weight [OC, C/g, K]
  kConv3d,             // quantized::conv3d(_relu):   x [N,C,D,H,W], weight [OC, C/g, kD, kH, kW]
  kConvTranspose2d,    // quantized::conv_transpose2d: x [N,C,H,W],  weight [C, OC/g, kH, kW]
  kFlatten,            // at::flatten(x, 1): [N, ...] → [N, prod(...)] (output qparams = input's)
  kHardsigmoid,        // at::hardsigmoid: output qparams fixed like sigmoid's
  kMean,               // at::mean(x, dims, keepdim) over H and W of [N,C,H,W] (output qparams = input's)
};
const char* OpKindName(OpKind op);
std::optional<OpKind> ParseOpKind(const std::string& name);
constexpr OpKind kAllOpKinds[] = {
    OpKind::kConv2d,    OpKind::kLinear,    OpKind::kAdd,   OpKind::kMul,
    OpKind::kCat,       OpKind::kMaxPool2d, OpKind::kAvgPool2d, OpKind::kAdaptiveAvgPool2d,
    OpKind::kRelu,      OpKind::kRelu6,     OpKind::kHardtanh,  OpKind::kClamp,
    OpKind::kHardswish, OpKind::kSigmoid,   OpKind::kLeakyRelu, OpKind::kConv1d,
    OpKind::kConv3d,    OpKind::kConvTranspose2d, OpKind::kFlatten, OpKind::kHardsigmoid,
    OpKind::kMean};

bool IsGemmOp(OpKind op);             // the convolutions and linear
bool IsConvOp(OpKind op);             // conv1d, conv2d, conv3d, conv_transpose2d
bool IsTransposedConv(OpKind op);     // conv_transpose2d
bool IsPoolOp(OpKind op);             // max_pool2d, avg_pool2d, adaptive_avg_pool2d
bool NeedsFourDInput(OpKind op);      // the pools and mean: [N, C, H, W] inputs only
int ConvSpatialDims(OpKind op);       // 1, 2 or 3 for the convolutions, 0 otherwise
bool KeepsInputQParams(OpKind op);    // pools, mean and clamps: output scale/zp/dtype = input 0's
// sigmoid and hardsigmoid: LibTorch fixes the output qparams (quint8 1/256, 0; qint8 1/256, −128)
bool HasFixedOutputQParams(OpKind op);
int InputArity(OpKind op);            // 2 for add/mul, 0 (= one or more) for cat, else 1

// Attributes of every convolution, one entry per spatial dimension in the order of the input's
// spatial dimensions: conv1d uses [0] (L), conv2d and conv_transpose2d [0..1] (H, W), conv3d
// [0..2] (D, H, W). Entries past the op's rank are unused and stay at their defaults.
// Output size per spatial dimension (PyTorch's conv_output_size / MakeDeConvOutputShape):
//   conv:       o = floor((i + 2p − d(k−1) − 1) / s) + 1
//   transposed: o = (i − 1)s − 2p + d(k−1) + output_padding + 1, output_padding < s or < d
struct ConvAttrs {
  static constexpr int kMaxSpatialDims = 3;
  int64_t stride[kMaxSpatialDims] = {1, 1, 1};
  int64_t padding[kMaxSpatialDims] = {0, 0, 0};
  int64_t dilation[kMaxSpatialDims] = {1, 1, 1};
  int64_t output_padding[kMaxSpatialDims] = {0, 0, 0};  // conv_transpose2d only
  int64_t groups = 1;
};

// Pooling windows, [H, W] pairs. Output size per PyTorch's pooling_output_shape:
// o = floor_or_ceil((i + 2p − d(k−1) − 1) / s) + 1, and with ceil_mode the last window must
// start inside the input or left padding ((o−1)s < i + p), else o − 1.
struct PoolAttrs {
  int64_t kernel[2] = {2, 2};
  int64_t stride[2] = {2, 2};
  int64_t padding[2] = {0, 0};       // ≤ kernel/2
  int64_t dilation[2] = {1, 1};      // max_pool2d only
  bool ceil_mode = false;
  bool count_include_pad = true;     // avg_pool2d only
  int64_t divisor_override = 0;      // avg_pool2d only; 0 = none
  int64_t output_size[2] = {1, 1};   // adaptive_avg_pool2d only
};

// at::mean(x, dims, keepdim) over the two spatial dimensions of a 4-D input: dims as the call
// gives them ([2, 3], [3, 2], [-1, -2], …; they must wrap to {2, 3}). QNNPACK takes its own kernel
// only for the literal [2, 3] (docs/semantics.md#mean). Output [N, C, 1, 1] with keepdim, else [N, C].
struct MeanAttrs {
  int64_t dims[2] = {2, 3};
  bool keepdim = false;
};

// Float parameters of the elementwise activations, as the Python call receives them.
struct ActivationAttrs {
  float min_value = -1.0f;        // hardtanh / clamp lower bound (relu6: 0)
  float max_value = 1.0f;         // hardtanh / clamp upper bound (relu6: 6)
  float negative_slope = 0.01f;   // leaky_relu
};

// One quantized layer (a node of the model's graph).
// GEMM: y = requant(op(x, weight) + bias), optionally fused with ReLU.
//   conv1d: x [N, C, L], weight [OC, C/groups, K]; conv2d: x [N, C, H, W], weight
//   [OC, C/groups, KH, KW]; conv3d: x [N, C, D, H, W], weight [OC, C/groups, KD, KH, KW];
//   conv_transpose2d: x [N, C, H, W], weight in PyTorch's layout [C, OC/groups, KH, KW] (no fused
//   ReLU: LibTorch has no quantized::conv_transpose2d_relu); linear: x [N, K], weight [OC, K].
//   Weights are qint8, per-tensor or per-channel along the output-channel axis: axis 0, or axis 1
//   for conv_transpose2d (whose output channel oc then uses the scale of oc mod OC/groups, as
//   a per-channel weight along axis 1 dequantizes).
// Other ops: no weight or bias; `relu` fuses ReLU into add/mul/cat (add_relu, mul_relu, cat's relu
// variant is not used: relu must be false for cat); pools and activations take 4-D NCHW inputs
// (activations: any rank).
struct Layer {
  OpKind op = OpKind::kConv2d;
  bool relu = false;
  // Node ids of the inputs: -1 = the model input, j ≥ 0 = the output of layer j (j < this layer).
  // Empty = the previous node (layer i−1, or the model input for layer 0).
  std::vector<int> inputs;
  // LibTorch is given the 4-D inputs of this layer in channels-last memory format (values and
  // all outputs are still compared in logical NCHW order). Layouts select different kernels.
  bool channels_last = false;
  ConvAttrs conv;                   // convolutions only
  PoolAttrs pool;                   // pools only
  MeanAttrs mean;                   // kMean only
  ActivationAttrs act;              // hardtanh, clamp, leaky_relu
  int64_t cat_dim = 1;              // kCat only
  QTensor weight;                   // GEMM only
  std::optional<std::vector<float>> bias;  // GEMM only: float bias as LibTorch receives it, [OC]
  double out_scale = 1.0;           // ignored when KeepsInputQParams(op)
  int32_t out_zero_point = 0;
  DType out_dtype = DType::kQUInt8; // GEMM only; other ops produce their input's dtype
};

// Output channels of a GEMM layer (weight.shape[0], or shape[1]·groups for conv_transpose2d).
int64_t LayerOutChannels(const Layer& layer);

// Index into layer.weight's scales/zero points that applies to output channel `oc` (0 when the
// weight is per-tensor).
int64_t WeightQuantIndex(const Layer& layer, int64_t oc);

// A graph of layers applied to one quantized input; the last layer's output is the model output.
// extra_inputs: further graph inputs, node ids −2, −3, … (extra_inputs[0] is −2): the second
// input of a binary op or cat taken from a real model (`qdiff model`), where both operands are
// LibTorch's captured tensors. Per-tensor, like `input`.
struct Model {
  QTensor input;
  std::vector<Layer> layers;
  std::vector<QTensor> extra_inputs;
};

// The graph input with node id `id` < 0: −1 = input, −2 − k = extra_inputs[k].
const QTensor& GraphInput(const Model& model, int id);

// Node ids of layer i's inputs with the "empty = previous node" default applied.
std::vector<int> LayerInputIds(const Model& model, size_t i);

// Output shape of a layer for its inputs' shapes; empty if the shapes do not fit.
std::vector<int64_t> LayerOutputShape(const Layer& layer,
                                      const std::vector<std::vector<int64_t>>& in);
// Single-input form (GEMM and unary ops).
std::vector<int64_t> LayerOutputShape(const Layer& layer, const std::vector<int64_t>& in);

// The output qparams and dtype a layer gives for the given input qparams (input 0's for
// KeepsInputQParams ops, the fixed ones for sigmoid, else the layer's out_*).
struct OutputQParams {
  double scale;
  int32_t zero_point;
  DType dtype;
};
OutputQParams LayerOutputQParams(const Layer& layer, const QTensor& input0);

// Dtype of every node output (index j = layer j): GEMM layers' out_dtype, else input 0's dtype.
std::vector<DType> NodeDTypes(const Model& model);

// Shapes of every node output (index j = layer j); empty vector if the model does not validate.
std::vector<std::vector<int64_t>> NodeShapes(const Model& model);

// Checks everything a runner relies on (shapes, lengths, ranges, scales > 0 and finite).
// Returns an empty string when valid, otherwise a message naming the offending field.
std::string ValidateModel(const Model& model);

}  // namespace qdiff
