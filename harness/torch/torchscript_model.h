// A saved TorchScript model (scripted or traced, from PyTorch's eager, FX or dynamic quantization
// flows) run once in LibTorch with every intermediate tensor captured, and its quantized nodes
// read back as qdiff layers (docs/models.md). The third translation unit that includes torch.
// Exceptions: ModelFileError for a file that is not a loadable TorchScript module, UsageError-like
// std::invalid_argument for a bad input tensor; LibTorch's errors while running become a
// `rejected` ModelRun, never a crash.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "oracles/engine.h"
#include "oracles/linear_dynamic.h"
#include "oracles/model.h"

namespace qdiff {

// The file is not TorchScript, is truncated, or cannot be loaded; the message names the file.
class ModelFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What a graph node is to qdiff.
enum class NodeRole {
  kLayer,          // a quantized op qdiff has recipes for: `layer` with LibTorch's inputs/output
  kDynamicLinear,  // quantized::linear_dynamic / linear_relu_dynamic: `dynamic`
  kQuantize,       // aten::quantize_per_tensor: float_input → output
  kDequantize,     // aten::dequantize: inputs[0] → float_output
  kDataMovement,   // view/reshape/permute/contiguous/transpose/chunk/…: no arithmetic
  kFloat,          // an op on float tensors only (outside the quantized part)
  kUnknown,        // an op on quantized tensors qdiff has no recipe for: named and skipped
};
const char* NodeRoleName(NodeRole role);

// Where one input of a node comes from, as the C reference of `qdiff export` chains the graph:
// the output of node `node` of ModelRun::nodes (a layer or quantize; -1: anything else, e.g. a
// skipped node), through the data movement between them. Input element i is that output's element
// gather[i]; an empty gather means element i itself (same order, same count).
struct InputSource {
  int64_t node = -1;
  std::vector<int64_t> gather;
};

struct CapturedNode {
  std::string kind;         // node kind, e.g. "quantized::conv2d_relu"
  std::string module_path;  // from the inlined call stack, e.g. "features.3.conv" ("" = top)
  std::string source;       // "file.py:123" of the node's source range, or ""
  NodeRole role = NodeRole::kUnknown;
  std::string note;         // kUnknown / kFloat / kDataMovement: what it is and why skipped
  std::vector<int64_t> out_shape;  // the first tensor output's shape
  Layer layer;                     // kLayer: weights, attributes, output qparams
  std::vector<QTensor> inputs;     // kLayer, kDequantize: LibTorch's captured inputs
  QTensor output;                  // kLayer, kQuantize: LibTorch's captured output
  DynamicLinearCase dynamic;       // kDynamicLinear
  std::vector<float> float_input;  // kQuantize: the float input
  std::vector<float> float_output; // kDynamicLinear, kDequantize: LibTorch's float output
  std::vector<InputSource> sources;  // kLayer, kDequantize: one per `inputs` element
  bool reads_model_input = false;    // kQuantize: float_input is the model's own input tensor
};

// The input: a tensor file (torch.save of one float tensor), the float `values` of a tensor of
// `shape` (row-major), or a random tensor of `shape` drawn uniformly from the float range the
// model's first quantize_per_tensor maps onto its quantized range (else [-1, 1]) with `seed`.
struct ModelInputSpec {
  std::string tensor_file;
  std::vector<int64_t> shape;
  uint64_t seed = 0;
  std::vector<float> values;  // used when not empty; its size must be the product of `shape`
};

// A float tensor file (torch.save of one tensor), row-major, its shape in *shape. Throws
// std::invalid_argument naming the file when it cannot be read or holds no float tensor.
std::vector<float> LoadFloatTensorFile(const std::string& path, std::vector<int64_t>* shape);

// torch.randn(shape, generator=torch.Generator().manual_seed(seed)): LibTorch's own CPU
// generator, so Python gives the same values.
std::vector<float> TorchRandn(const std::vector<int64_t>& shape, uint64_t seed);

struct ModelRun {
  Engine engine = Engine::kQnnpack;
  bool rejected = false;         // LibTorch refused to load or run the model on this engine
  std::string message;           // why
  std::vector<int64_t> input_shape;
  std::vector<CapturedNode> nodes;  // the graph's nodes with a tensor output, in graph order
  double forward_seconds = 0;    // LibTorch's own module.forward on the input
  double capture_seconds = 0;    // the inlined graph run with every value captured
};

// Loads `path` with `engine` set (TorchScript repacks every packed weight on load for the
// engine set at that moment: conv_serialization.h / fbgemm_utils.cpp __setstate__), freezes and
// inlines forward, runs it on the input and reads every node. Throws ModelFileError when the
// file cannot be loaded at all, std::invalid_argument for a bad input tensor file or shape.
ModelRun CaptureModelRun(const std::string& path, Engine engine, const ModelInputSpec& input);

}  // namespace qdiff
