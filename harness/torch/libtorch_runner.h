// LibTorchRunner: runs a Model through LibTorch's quantized CPU ops on one engine and returns
// int_repr() of every layer's output. The only code in qdiff that includes torch (its .cc file).
// Exceptions never cross this interface: every c10::Error becomes a `rejected` result.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "oracles/engine.h"
#include "oracles/model.h"

namespace qdiff {

struct LayerOutput {
  std::vector<int64_t> shape;
  std::vector<int32_t> values;  // int_repr(), contiguous row-major
  double scale = 0.0;           // q_scale() of the output LibTorch produced
  int32_t zero_point = 0;       // q_zero_point()
};

struct EngineResult {
  bool rejected = false;
  std::string message;              // LibTorch's error text when rejected
  std::vector<LayerOutput> layers;  // one per Model layer; layer i fed with LibTorch's own
                                    // outputs of the nodes LayerInputIds(model, i)
};

// Engines this LibTorch build supports, in the order at::globalContext().supportedQEngines()
// reports them, NoQEngine excluded.
std::vector<Engine> AvailableEngines();

// Whether the runner's table (one LibTorch call per op kind) has a row for `op`.
bool HasLibTorchCall(OpKind op);

// The loaded library's version, e.g. "1.13.1" (harness/torch/libtorch_version.h says from where).
std::string LibTorchVersion();

// at::quantize_per_tensor (params.axis == -1) or at::quantize_per_channel of float values `x`
// with the scales, zero points, dtype and shape of `params` (its values are ignored), then
// dequantize() of the result: the QuantStub / DeQuantStub boundary of a quantized model.
struct QuantizeOutcome {
  bool rejected = false;
  std::string message;
  std::vector<int32_t> values;     // int_repr() of the quantized tensor
  std::vector<float> dequantized;  // dequantize() of it
};
QuantizeOutcome QuantizeOnLibTorch(const std::vector<float>& x, const QTensor& params);

// Pins LibTorch to one intra-op thread (deterministic, and workers are processes), and with glibc
// fills every malloc'd block with a fixed byte pattern (mallopt M_PERTURB): a kernel that reads
// memory it never wrote then gives the same wrong values in every process instead of the zeros
// of fresh pages in one and stale data in another (corpora/onednn_deconv_stride_holes.json is
// exact without it in a fresh process, unexplained with it). MALLOC_PERTURB_ in the environment
// (glibc's own switch; 0 turns it off) takes precedence. Also caps oneDNN's process-wide
// primitive cache at 32 entries (DNNL_PRIMITIVE_CACHE_CAPACITY, unless set): a bound on the
// worker's memory that changes no result.
void InitLibTorch();

// Sets the engine and runs the model's graph: node -1 is the model input, node j layer j's
// output; layer i is given the outputs of LayerInputIds(model, i), its 4-D inputs in channels-last
// memory format if layer.channels_last and contiguous NCHW otherwise. GEMM layers prepack the
// weights and bias (quantized::conv1d_prepack / conv2d_prepack / conv3d_prepack /
// conv_transpose2d_prepack / linear_prepack) and call quantized::conv1d(_relu), conv2d(_relu),
// conv3d(_relu), conv_transpose2d or linear(_relu); the other ops
// call what an eager-mode quantized model calls (quantized::add(_relu), mul(_relu), cat,
// hardswish, leaky_relu; at::max_pool2d, avg_pool2d, adaptive_avg_pool2d, relu, hardtanh (also
// for relu6), clamp, sigmoid; see libtorch_runner.cc). Returns the int_repr() of each layer in
// logical NCHW order, or `rejected` with LibTorch's message if any call throws.
EngineResult RunOnLibTorch(const Model& model, Engine engine);

// One layer prepacked once and used over its life as a real program uses it: called many times
// with changing inputs and output qparams, unpacked and repacked. Unlike RunOnLibTorch (a fresh
// thread per call), every call of one module runs on ONE persistent worker thread that the module
// owns, like a program's inference thread, so state that LibTorch keeps per thread (ideep's
// primitive cache, see libtorch_runner.cc) carries over from call to call as it would there.
// Calls block until the worker has finished them. Exceptions never escape: errors are returned.
// Move-only; a default-constructed or failed module is empty (valid() false).
// conv2d and linear only: Prepack refuses the other GEMM ops with an error.
class PackedModule {
 public:
  PackedModule();
  ~PackedModule();
  PackedModule(PackedModule&&) noexcept;
  PackedModule& operator=(PackedModule&&) noexcept;
  PackedModule(const PackedModule&) = delete;
  PackedModule& operator=(const PackedModule&) = delete;

  // Sets the engine and prepacks layer.weight and layer.bias (conv2d: with layer.conv). The
  // layer's op, relu and out_dtype are kept for Run; its out_scale/out_zero_point are ignored.
  // On failure returns an empty module and sets *error (if non-null) to LibTorch's message.
  static PackedModule Prepack(const Layer& layer, Engine engine, std::string* error);

  bool valid() const;
  std::optional<Engine> engine() const;  // nullopt when empty

  // Calls quantized::conv2d(_relu) / linear(_relu) with the packed weights on `input` and the
  // given output qparams. One LayerOutput when accepted.
  EngineResult Run(const QTensor& input, double out_scale, int32_t out_zero_point);

  // What LibTorch's unpack returns, as a Layer: weight, bias (nullopt when LibTorch returns None)
  // and, for conv2d, stride/padding/dilation/groups read back from the packed object; op, relu and
  // out_dtype as prepacked, out_scale/out_zero_point of the last Run (else the prepacked layer's).
  std::optional<Layer> Unpacked(std::string* error) const;

  // Unpacks, then prepacks again (same engine) from the unpacked weight and bias tensors and the
  // packed conv attributes, replacing the packed object. On failure keeps the old one.
  bool Repack(std::string* error);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qdiff
