// Reads a saved TorchScript model into qdiff layers (torchscript_model.h, docs/models.md).
// Capture: freeze (attributes and packed params become constants, the if-constant branches of
// scripted modules keep only raise-blocks), inline forward, register every top-level value as a
// graph output and run the graph once in the interpreter; node inputs are then LibTorch's own
// tensors, exactly what each op saw inside the model.
#include "harness/torch/torchscript_model.h"
#include "harness/torch/torch_support.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/freeze_module.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/runtime/interpreter.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/dispatch/Dispatcher.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <unordered_map>

namespace qdiff {

const char* NodeRoleName(NodeRole role) {
  switch (role) {
    case NodeRole::kLayer: return "layer";
    case NodeRole::kDynamicLinear: return "linear_dynamic";
    case NodeRole::kQuantize: return "quantize";
    case NodeRole::kDequantize: return "dequantize";
    case NodeRole::kDataMovement: return "data movement";
    case NodeRole::kFloat: return "float";
    case NodeRole::kUnknown: return "unknown";
  }
  return "?";
}

namespace {

using torch::jit::Node;
using torch::jit::Value;

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// A broadcast operand of add/mul as the tensor it acts as: its int_repr expanded to `sizes`
// (data movement; the case's "model vs alone" count confirms LibTorch's broadcast agrees).
QTensor ReadQuantizedExpanded(const at::Tensor& t, at::IntArrayRef sizes) {
  if (t.sizes() == sizes) return QTensorOf(t);
  QTensor q = QTensorOf(t);
  at::Tensor ints = t.int_repr().to(at::kInt).expand(sizes).contiguous();
  q.shape = sizes.vec();
  q.values.assign(ints.data_ptr<int32_t>(), ints.data_ptr<int32_t>() + ints.numel());
  return q;
}

std::vector<float> ReadFloats(const at::Tensor& t) {
  at::Tensor f = t.to(at::kFloat).contiguous();
  return std::vector<float>(f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
}

bool IsQuantizedTensor(const c10::IValue& v) { return v.isTensor() && v.toTensor().is_quantized(); }

// Module path of a node from its inlined call stack: the instance names of the modules whose
// forward it was inlined from, outermost first ("features.3.conv").
std::string ModulePath(const Node* n) {
  std::string path;
  if (auto cs = n->callstack()) {
    for (const torch::jit::InlinedCallStackEntry& e : (*cs)->vec()) {
      const auto& info = std::get<2>(e);
      if (!info) continue;
      const std::string name = info->instance_name();
      if (name.empty() || name == "self") continue;
      path += (path.empty() ? "" : ".") + name;
    }
  }
  return path;
}

std::string SourceLine(const Node* n) {
  const torch::jit::SourceRange& r = n->sourceRange();
  if (auto file_line = r.file_line_col()) {
    return std::get<0>(*file_line) + ":" + std::to_string(std::get<1>(*file_line));
  }
  return "";
}

c10::IValue CallOp(const char* name, torch::jit::Stack stack) {
  c10::OperatorHandle op = c10::Dispatcher::singleton().findSchemaOrThrow(name, "");
  op.callBoxed(&stack);
  return stack.at(0);
}

void ReadDims(const c10::IValue& list, int64_t (&out)[ConvAttrs::kMaxSpatialDims], size_t rank) {
  const c10::List<int64_t> v = list.toIntList();
  // conv1d packs as a 2-D conv of height 1 (qconv_prepack.cpp MakeArgForConv1d): take the last.
  for (size_t d = 0; d < rank; ++d) out[d] = v.get(v.size() - rank + d);
}

// Weights, bias and attributes of a packed conv or linear (unpack and the packed params'
// stride/padding/dilation/groups/transpose accessors, aten/src/ATen/native/quantized/library.cpp).
void ReadPacked(const c10::IValue& packed, Layer* layer) {
  const bool linear = layer->op == OpKind::kLinear;
  const bool conv3d = layer->op == OpKind::kConv3d;
  const std::string prefix = linear ? "quantized::linear"
                             : conv3d ? "quantized::conv3d"
                             : layer->op == OpKind::kConvTranspose2d ? "quantized::conv_transpose2d"
                                                                     : "quantized::conv2d";
  c10::OperatorHandle unpack =
      c10::Dispatcher::singleton().findSchemaOrThrow((prefix + "_unpack").c_str(), "");
  torch::jit::Stack s{packed};
  unpack.callBoxed(&s);
  at::Tensor w = s.at(0).toTensor();
  if (layer->op == OpKind::kConv1d && w.dim() == 4) w = w.squeeze(2);  // [OC, C/g, 1, K] → 3-D
  layer->weight = QTensorOf(w);
  if (s.at(1).isTensor()) layer->bias = ReadFloats(s.at(1).toTensor());
  if (linear) return;
  const size_t rank = static_cast<size_t>(ConvSpatialDims(layer->op));
  ReadDims(CallOp((prefix + "_stride").c_str(), {packed}), layer->conv.stride, rank);
  ReadDims(CallOp((prefix + "_padding").c_str(), {packed}), layer->conv.padding, rank);
  ReadDims(CallOp((prefix + "_dilation").c_str(), {packed}), layer->conv.dilation, rank);
  if (layer->op == OpKind::kConvTranspose2d) {
    ReadDims(CallOp((prefix + "_output_padding").c_str(), {packed}), layer->conv.output_padding, rank);
  }
  layer->conv.groups = CallOp((prefix + "_groups").c_str(), {packed}).toInt();
  const bool transposed = CallOp((prefix + "_transpose").c_str(), {packed}).toInt() != 0;
  if (transposed != (layer->op == OpKind::kConvTranspose2d)) {
    throw std::runtime_error("packed params say transpose=" + std::to_string(transposed) +
                             " for " + OpKindName(layer->op));
  }
}

std::pair<int64_t, int64_t> PairOf(const c10::IValue& v, const char* what) {
  const c10::List<int64_t> l = v.toIntList();
  if (l.size() == 1) return {l.get(0), l.get(0)};
  if (l.size() != 2) throw std::runtime_error(std::string(what) + " is not a pair");
  return {l.get(0), l.get(1)};
}

void SetPair(const c10::IValue& v, const char* what, int64_t (&out)[2]) {
  auto [a, b] = PairOf(v, what);
  out[0] = a;
  out[1] = b;
}

// kernel_size, stride (an empty list: the kernel) and padding, inputs 1–3 of max_pool2d and
// avg_pool2d.
void SetPoolWindow(const std::vector<c10::IValue>& in, PoolAttrs* pool) {
  SetPair(in.at(1), "kernel_size", pool->kernel);
  if (in.at(2).toIntList().empty()) {
    std::copy(pool->kernel, pool->kernel + 2, pool->stride);
  } else {
    SetPair(in.at(2), "stride", pool->stride);
  }
  SetPair(in.at(3), "padding", pool->padding);
}

struct OpSpec {
  const char* kind;
  OpKind op;
  bool relu;
};
// Nodes that become one qdiff layer; their arguments are read in ReadLayer.
constexpr OpSpec kLayerOps[] = {
    {"quantized::conv1d", OpKind::kConv1d, false},
    {"quantized::conv1d_relu", OpKind::kConv1d, true},
    {"quantized::conv2d", OpKind::kConv2d, false},
    {"quantized::conv2d_relu", OpKind::kConv2d, true},
    {"quantized::conv3d", OpKind::kConv3d, false},
    {"quantized::conv3d_relu", OpKind::kConv3d, true},
    {"quantized::conv_transpose2d", OpKind::kConvTranspose2d, false},
    {"quantized::linear", OpKind::kLinear, false},
    {"quantized::linear_relu", OpKind::kLinear, true},
    {"quantized::add", OpKind::kAdd, false},
    {"quantized::add_relu", OpKind::kAdd, true},
    {"quantized::mul", OpKind::kMul, false},
    {"quantized::mul_relu", OpKind::kMul, true},
    {"quantized::cat", OpKind::kCat, false},
    {"aten::cat", OpKind::kCat, false},
    {"aten::max_pool2d", OpKind::kMaxPool2d, false},
    {"aten::avg_pool2d", OpKind::kAvgPool2d, false},
    {"aten::adaptive_avg_pool2d", OpKind::kAdaptiveAvgPool2d, false},
    {"aten::relu", OpKind::kRelu, false},
    {"aten::relu_", OpKind::kRelu, false},
    {"quantized::relu6", OpKind::kRelu6, false},
    {"aten::hardtanh", OpKind::kHardtanh, false},
    {"aten::hardtanh_", OpKind::kHardtanh, false},
    {"aten::clamp", OpKind::kClamp, false},
    {"quantized::hardswish", OpKind::kHardswish, false},
    {"aten::sigmoid", OpKind::kSigmoid, false},
    {"aten::leaky_relu", OpKind::kLeakyRelu, false},
    {"quantized::leaky_relu", OpKind::kLeakyRelu, false},
    {"aten::flatten", OpKind::kFlatten, false},
    {"aten::hardsigmoid", OpKind::kHardsigmoid, false},
    {"aten::mean", OpKind::kMean, false},
};

// Ops that only move or regroup int8 values (compared by nobody: no arithmetic).
const std::set<std::string> kDataMovement = {
    "aten::view", "aten::reshape", "aten::permute", "aten::contiguous", "aten::transpose",
    "aten::chunk", "aten::split", "aten::squeeze", "aten::unsqueeze", "aten::flatten",
    "aten::dropout", "aten::clone", "aten::detach", "aten::select", "aten::slice",
    "prim::ListUnpack", "prim::ListConstruct", "prim::TupleConstruct", "prim::TupleUnpack",
    "aten::__getitem__", "aten::expand", "aten::expand_as", "aten::unbind", "aten::t",
    "aten::numpy_T", "aten::split_with_sizes", "aten::unsafe_chunk", "aten::identity"};

// Reads a known op's layer from its node and LibTorch's captured values. Returns false (with
// *why) when the node's arguments take it outside what qdiff's layer models.
bool ReadLayer(const OpSpec& spec, const std::vector<c10::IValue>& in, const c10::IValue& out,
               CapturedNode* node, std::string* why) {
  Layer& l = node->layer;
  l.op = spec.op;
  l.relu = spec.relu;
  const at::Tensor y = out.toTensor();
  auto out_qparams = [&] {  // output qparams as LibTorch produced them
    l.out_scale = y.q_scale();
    l.out_zero_point = static_cast<int32_t>(y.q_zero_point());
  };
  if (IsGemmOp(spec.op)) {
    if (in.size() != 4 || !in[1].isObject()) {
      *why = "unexpected signature (" + std::to_string(in.size()) + " arguments)";
      return false;
    }
    ReadPacked(in[1], &l);
    l.out_scale = in[2].toDouble();
    l.out_zero_point = static_cast<int32_t>(in[3].toInt());
    l.out_dtype = y.scalar_type() == at::kQInt8 ? DType::kQInt8 : DType::kQUInt8;
    node->inputs = {QTensorOf(in[0].toTensor())};
    return true;
  }
  switch (spec.op) {
    case OpKind::kAdd:
    case OpKind::kMul:
      if (!IsQuantizedTensor(in.at(1))) {
        *why = "the second operand is a scalar (add_scalar/mul_scalar: no qdiff recipe)";
        return false;
      }
      l.out_scale = in.at(2).toDouble();
      l.out_zero_point = static_cast<int32_t>(in.at(3).toInt());
      node->inputs = {ReadQuantizedExpanded(in[0].toTensor(), y.sizes()),
                      ReadQuantizedExpanded(in[1].toTensor(), y.sizes())};
      return true;
    case OpKind::kCat: {
      for (const at::Tensor& t : in.at(0).toTensorList().vec()) node->inputs.push_back(QTensorOf(t));
      l.cat_dim = in.at(1).toInt();
      if (l.cat_dim < 0) l.cat_dim += static_cast<int64_t>(node->inputs.at(0).shape.size());
      out_qparams();  // quantized::cat's optional scale/zero point, else the first input's
      if (node->inputs.size() < 2) {
        *why = "cat of a single tensor";
        return false;
      }
      return true;
    }
    case OpKind::kMaxPool2d:
      SetPoolWindow(in, &l.pool);
      SetPair(in.at(4), "dilation", l.pool.dilation);
      l.pool.ceil_mode = in.at(5).toBool();
      break;
    case OpKind::kAvgPool2d:
      SetPoolWindow(in, &l.pool);
      l.pool.ceil_mode = in.at(4).toBool();
      l.pool.count_include_pad = in.at(5).toBool();
      l.pool.divisor_override = in.at(6).isNone() ? 0 : in.at(6).toInt();
      break;
    case OpKind::kAdaptiveAvgPool2d:
      SetPair(in.at(1), "output_size", l.pool.output_size);
      break;
    case OpKind::kHardtanh: {
      l.act.min_value = static_cast<float>(in.at(1).toScalar().toDouble());
      l.act.max_value = static_cast<float>(in.at(2).toScalar().toDouble());
      if (l.act.min_value == 0.0f && l.act.max_value == 6.0f) l.op = OpKind::kRelu6;
      break;
    }
    case OpKind::kClamp:
      if (in.at(1).isNone() || in.at(2).isNone()) {
        *why = "clamp with one bound (qdiff's clamp takes both)";
        return false;
      }
      l.act.min_value = static_cast<float>(in.at(1).toScalar().toDouble());
      l.act.max_value = static_cast<float>(in.at(2).toScalar().toDouble());
      break;
    case OpKind::kHardswish:
      l.out_scale = in.at(1).toDouble();
      l.out_zero_point = static_cast<int32_t>(in.at(2).toInt());
      break;
    case OpKind::kLeakyRelu:
      l.act.negative_slope = static_cast<float>(in.at(1).toScalar().toDouble());
      out_qparams();
      break;
    case OpKind::kMean: {
      // mean.dim(self, int[1]? dim, bool keepdim, *, ScalarType? dtype); qdiff's mean is over H and
      // W of a 4-D tensor without a dtype (mean.cc).
      if (in.size() != 4 || !in.at(1).isIntList() || !in.at(3).isNone() || in[0].toTensor().dim() != 4) {
        *why = "mean over all elements, with a dtype or of a tensor that is not 4-D (qdiff's mean "
               "is over H and W of [N, C, H, W])";
        return false;
      }
      const std::vector<int64_t> dims = in[1].toIntVector();
      std::vector<int64_t> wrapped;
      std::string listed;
      for (int64_t d : dims) {
        wrapped.push_back(d < 0 ? d + 4 : d);
        listed += (listed.empty() ? "" : ", ") + std::to_string(d);
      }
      std::sort(wrapped.begin(), wrapped.end());
      if (wrapped != std::vector<int64_t>{2, 3}) {
        *why = "mean over dims [" + listed +
               "] (qdiff's mean is over H and W: dims [2, 3], [-1, -2] or either swapped)";
        return false;
      }
      std::copy(dims.begin(), dims.end(), l.mean.dims);
      l.mean.keepdim = in.at(2).toBool();
      break;
    }
    case OpKind::kFlatten: {
      const int64_t rank = in.at(0).toTensor().dim();
      int64_t start = in.at(1).toInt(), end = in.at(2).toInt();
      if (start < 0) start += rank;
      if (end < 0) end += rank;
      if (start != 1 || end != rank - 1) {
        *why = "flatten(" + std::to_string(start) + ", " + std::to_string(end) + ")";
        return false;  // data movement other than qdiff's flatten(x, 1)
      }
      break;
    }
    default:
      break;
  }
  node->inputs = {QTensorOf(in.at(0).toTensor())};
  return true;
}

// The float range [lo, hi] the first quantize_per_tensor of the graph maps onto its quantized
// range: scale·(qmin − z) … scale·(qmax − z); [-1, 1] when there is none.
std::pair<double, double> InputRange(const torch::jit::Graph& g) {
  for (const Node* n : g.nodes()) {
    if (n->kind().toQualString() != std::string("aten::quantize_per_tensor")) continue;
    auto scale = torch::jit::toIValue(n->input(1));
    auto zp = torch::jit::toIValue(n->input(2));
    auto dtype = torch::jit::toIValue(n->input(3));
    if (!scale || !zp || !dtype || !scale->isDouble() || !zp->isInt() || !dtype->isInt()) break;
    const bool qint8 = static_cast<at::ScalarType>(dtype->toInt()) == at::kQInt8;
    const double s = scale->toDouble();
    const int64_t z = zp->toInt();
    return {s * ((qint8 ? -128 : 0) - z), s * ((qint8 ? 127 : 255) - z)};
  }
  return {-1.0, 1.0};
}

at::Tensor LoadInputTensor(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::invalid_argument("--input " + file + ": cannot open the file");
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  c10::IValue v;
  try {
    v = torch::jit::pickle_load(bytes);
  } catch (const std::exception& e) {
    throw std::invalid_argument("--input " + file + ": not a tensor saved with torch.save (" +
                                OneLine(e.what()).substr(0, 160) + ")");
  }
  if (!v.isTensor()) throw std::invalid_argument("--input " + file + ": holds a " + v.tagKind() + ", not a tensor");
  at::Tensor t = v.toTensor();
  if (t.is_quantized() || !t.is_floating_point()) {
    throw std::invalid_argument("--input " + file + ": must be a float tensor (it is " +
                                std::string(c10::toString(t.scalar_type())) + ")");
  }
  return t.to(at::kFloat).contiguous();
}

at::Tensor RandomInput(const std::vector<int64_t>& shape, uint64_t seed, std::pair<double, double> range) {
  at::Tensor t = at::empty(shape, at::kFloat);
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(range.first, range.second);
  float* p = t.data_ptr<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>(u(gen));
  return t;
}

// Where the elements of each quantized value come from (InputSource). A layer's or quantize's
// output is produced: element i is that node's element i. Data movement is replayed on index
// tensors: the node's own operation runs with the int64 indices of its (one) traced input in place
// of the quantized values, so view/reshape/permute/transpose/chunk/... need no model of their own.
// Lists (ListConstruct, chunk) carry one origin per element.
class ElementOrigins {
 public:
  void SetProduced(const Value* v, int64_t node, at::IntArrayRef shape) {
    const int64_t numel = c10::multiply_integers(shape);
    origins_[v] = {{node, numel, at::arange(numel, at::kLong).view(shape)}};
  }

  void Propagate(Node* n, const std::function<c10::IValue(const Value*)>& value_of) {
    const std::string kind = n->kind().toQualString();
    if (kind == "prim::ListConstruct" || kind == "prim::TupleConstruct") {
      std::vector<Origin> list;
      for (const Value* v : n->inputs()) list.push_back(Single(v));
      origins_[n->output(0)] = list;
      return;
    }
    if (kind == "prim::ListUnpack" || kind == "prim::TupleUnpack") {
      auto it = origins_.find(n->input(0));
      if (it == origins_.end() || it->second.size() != n->outputs().size()) return;
      for (size_t i = 0; i < n->outputs().size(); ++i) origins_[n->output(i)] = {it->second[i]};
      return;
    }
    if (kind == "aten::__getitem__") {
      auto it = origins_.find(n->input(0));
      const c10::IValue at = value_of(n->input(1));
      if (it == origins_.end() || !at.isInt()) return;
      int64_t i = at.toInt();
      if (i < 0) i += static_cast<int64_t>(it->second.size());
      if (i >= 0 && i < static_cast<int64_t>(it->second.size())) origins_[n->output(0)] = {it->second[i]};
      return;
    }
    const Value* traced = nullptr;  // the one input whose origin is known
    for (const Value* v : n->inputs()) {
      const Origin o = Single(v);
      if (o.node < 0) continue;
      if (traced != nullptr) return;  // two traced inputs: not a data movement qdiff replays
      traced = v;
    }
    if (traced == nullptr) return;
    const Origin from = Single(traced);
    torch::jit::Stack stack;
    for (const Value* v : n->inputs()) stack.push_back(v == traced ? c10::IValue(from.index) : value_of(v));
    try {
      n->getOperation()(stack);
    } catch (const std::exception&) {
      return;  // the op does not run on int64 indices: its consumers read LibTorch's tensors
    }
    const size_t first = stack.size() - n->outputs().size();
    for (size_t i = 0; i < n->outputs().size(); ++i) {
      const c10::IValue& r = stack[first + i];
      if (r.isTensor()) {
        origins_[n->output(i)] = {{from.node, from.numel, r.toTensor()}};
      } else if (r.isTensorList()) {
        std::vector<Origin> list;
        for (const at::Tensor& t : r.toTensorList().vec()) list.push_back({from.node, from.numel, t});
        origins_[n->output(i)] = list;
      }
    }
  }

  // The source of value `v` (element `list_index` of a list value), broadcast to `shape`.
  InputSource Source(const Value* v, size_t list_index, at::IntArrayRef shape) const {
    auto it = origins_.find(v);
    if (it == origins_.end() || list_index >= it->second.size()) return {};
    const Origin& o = it->second[list_index];
    if (o.node < 0 || !o.index.defined()) return {};
    at::Tensor idx = o.index;
    if (idx.sizes() != shape) idx = idx.expand(shape);
    idx = idx.contiguous();
    InputSource s{o.node, std::vector<int64_t>(idx.data_ptr<int64_t>(), idx.data_ptr<int64_t>() + idx.numel())};
    bool identity = static_cast<int64_t>(s.gather.size()) == o.numel;
    for (size_t i = 0; identity && i < s.gather.size(); ++i) identity = s.gather[i] == static_cast<int64_t>(i);
    if (identity) s.gather.clear();
    return s;
  }

 private:
  struct Origin {
    int64_t node = -1;
    int64_t numel = 0;   // of the producing node's output
    at::Tensor index;    // int64 element indices into that output, in this value's shape
  };
  Origin Single(const Value* v) const {
    auto it = origins_.find(v);
    return it == origins_.end() || it->second.size() != 1 ? Origin{} : it->second[0];
  }
  std::unordered_map<const Value*, std::vector<Origin>> origins_;
};

// Opens the archive first, so a file that is not a TorchScript zip (or is cut short) is an
// input error naming the file, not an engine's rejection.
void CheckArchive(const std::string& path) {
  std::ifstream probe(path, std::ios::binary);
  if (!probe) throw ModelFileError(path + ": cannot open the file");
  try {
    caffe2::serialize::PyTorchStreamReader reader(path);
    if (!reader.hasRecord("constants.pkl") || !reader.hasRecord("data.pkl")) {
      throw ModelFileError(path + ": a PyTorch zip archive but not a TorchScript module (no "
                           "constants.pkl/data.pkl: saved with torch.save instead of "
                           "torch.jit.save?)");
    }
  } catch (const c10::Error& e) {
    std::string what = OneLine(e.what_without_backtrace());
    throw ModelFileError(path + ": not a TorchScript file or truncated (" + what.substr(0, 200) + ")");
  }
}

}  // namespace

std::vector<float> LoadFloatTensorFile(const std::string& path, std::vector<int64_t>* shape) {
  const at::Tensor t = LoadInputTensor(path);
  *shape = t.sizes().vec();
  return ReadFloats(t);
}

std::vector<float> TorchRandn(const std::vector<int64_t>& shape, uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  return ReadFloats(at::randn(shape, gen, at::kFloat));
}

ModelRun CaptureModelRun(const std::string& path, Engine engine, const ModelInputSpec& spec) {
  CheckArchive(path);
  ModelRun run;
  run.engine = engine;
  at::QEngine qengine{};
  if (!SupportedQEngine(engine, &qengine, &run.message)) {
    run.rejected = true;
    return run;
  }
  at::globalContext().setQEngine(qengine);  // before load: __setstate__ packs for this engine
  torch::jit::Module module;
  try {
    module = torch::jit::load(path);
  } catch (const c10::Error& e) {
    const std::string what = OneLine(e.what_without_backtrace());
    if (what.find("PytorchStreamReader") != std::string::npos) {
      throw ModelFileError(path + ": not a TorchScript file or truncated (" + what.substr(0, 200) + ")");
    }
    run.rejected = true;
    run.message = "LibTorch cannot load the model on this engine: " + what;
    return run;
  }
  try {
    module.eval();
    torch::jit::Module frozen = torch::jit::freeze_module(module);
    std::shared_ptr<torch::jit::Graph> graph = frozen.get_method("forward").graph()->copy();
    torch::jit::Inline(*graph);
    if (graph->inputs().size() != 2) {
      throw std::invalid_argument(path + ": forward takes " +
                                  std::to_string(graph->inputs().size() - 1) +
                                  " inputs; qdiff model runs models with one input tensor");
    }
    at::Tensor x;
    if (!spec.tensor_file.empty()) {
      x = LoadInputTensor(spec.tensor_file);
    } else if (!spec.values.empty()) {
      x = at::tensor(spec.values, at::kFloat);
      if (x.numel() != c10::multiply_integers(spec.shape)) {
        throw std::invalid_argument("input: " + std::to_string(x.numel()) +
                                    " values do not fill the shape given");
      }
      x = x.reshape(spec.shape);
    } else {
      x = RandomInput(spec.shape, spec.seed, InputRange(*graph));
    }
    run.input_shape = x.sizes().vec();

    // LibTorch's own forward, as a user runs it (the time reference).
    auto t0 = std::chrono::steady_clock::now();
    module.forward({x});
    run.forward_seconds = Seconds(t0);

    // Every top-level value becomes a graph output, so one interpreter run keeps them all.
    std::vector<Value*> values;
    for (Node* n : graph->nodes()) {
      for (Value* v : n->outputs()) values.push_back(v);
    }
    for (Value* v : values) graph->registerOutput(v);
    t0 = std::chrono::steady_clock::now();
    torch::jit::Code code(graph, "qdiff_capture");
    torch::jit::Stack stack{frozen._ivalue(), x};
    torch::jit::InterpreterState(code).run(stack);
    run.capture_seconds = Seconds(t0);
    std::unordered_map<const Value*, c10::IValue> captured;
    captured[graph->inputs()[0]] = frozen._ivalue();
    captured[graph->inputs()[1]] = x;
    const size_t first = stack.size() - values.size();
    for (size_t i = 0; i < values.size(); ++i) captured[values[i]] = stack[first + i];

    auto value_of = [&](const Value* v) -> c10::IValue {
      auto it = captured.find(v);
      if (it != captured.end()) return it->second;
      if (auto c = torch::jit::toIValue(v)) return *c;
      return c10::IValue();
    };
    ElementOrigins origins;
    for (Node* n : graph->nodes()) {
      const std::string kind = n->kind().toQualString();
      std::vector<c10::IValue> in;
      for (const Value* v : n->inputs()) in.push_back(value_of(v));
      // The node's first tensor output, and whether any tensor it touches is quantized.
      if (n->kind() == c10::prim::Constant) continue;  // a value, not a computation
      c10::IValue out;
      const Value* out_value = nullptr;  // out's graph value (nullptr: inside a list)
      bool quantized = false, any_tensor = false, any_float = false;
      for (const Value* v : n->outputs()) {
        c10::IValue iv = value_of(v);
        auto note = [&](const c10::IValue& t) {
          if (!t.isTensor()) return;
          any_tensor = true;
          quantized = quantized || t.toTensor().is_quantized();
          any_float = any_float || t.toTensor().is_floating_point();
          if (out.isNone()) {
            out = t;
            out_value = iv.isTensor() ? v : nullptr;
          }
        };
        note(iv);
        if (iv.isTensorList()) {
          for (const at::Tensor& t : iv.toTensorList().vec()) note(t);
        }
      }
      bool nested_tensor_ops = false;  // control flow whose blocks compute tensors
      for (const torch::jit::Block* b : n->blocks()) {
        for (const Node* inner : b->nodes()) {
          for (const Value* v : inner->outputs()) {
            if (v->type()->kind() == c10::TypeKind::TensorType) nested_tensor_ops = true;
          }
        }
      }
      if (!any_tensor && !nested_tensor_ops) continue;  // bookkeeping: sizes, raise-blocks
      for (const c10::IValue& v : in) {
        if (IsQuantizedTensor(v)) quantized = true;
        if (v.isTensorList()) {
          for (const at::Tensor& t : v.toTensorList().vec()) quantized = quantized || t.is_quantized();
        }
      }
      // Integer tensors from shape arithmetic (traced models: prim::NumToTensor, floor_divide).
      if (!quantized && !any_float && !nested_tensor_ops) continue;
      CapturedNode node;
      node.kind = kind;
      node.module_path = ModulePath(n);
      node.source = SourceLine(n);
      if (out.isTensor()) node.out_shape = out.toTensor().sizes().vec();
      if (nested_tensor_ops) {
        node.role = NodeRole::kUnknown;
        node.note = "control flow computing tensors inside its blocks: not captured";
      } else if (kind == "aten::quantize_per_tensor" && in.size() == 4 && in[0].isTensor() &&
                 out.isTensor()) {
        node.role = NodeRole::kQuantize;
        node.float_input = ReadFloats(in[0].toTensor());
        node.reads_model_input = n->input(0) == graph->inputs()[1];
        node.output = QTensorOf(out.toTensor());
      } else if (kind == "aten::dequantize" && IsQuantizedTensor(in.at(0)) &&
                 in[0].toTensor().qscheme() == at::kPerTensorAffine) {
        node.role = NodeRole::kDequantize;
        node.inputs = {QTensorOf(in[0].toTensor())};
        node.float_output = ReadFloats(out.toTensor());
      } else if ((kind == "quantized::linear_dynamic" || kind == "quantized::linear_relu_dynamic") &&
                 in.size() == 3 && in[0].isTensor() && in[1].isObject()) {
        node.role = NodeRole::kDynamicLinear;
        Layer l;
        l.op = OpKind::kLinear;
        ReadPacked(in[1], &l);
        DynamicLinearCase& d = node.dynamic;
        const at::Tensor xin = in[0].toTensor();
        d.k = xin.size(-1);
        d.n = xin.numel() / std::max<int64_t>(1, d.k);
        d.oc = l.weight.shape.at(0);
        d.x = ReadFloats(xin);
        d.weight = l.weight;
        d.bias = l.bias;
        d.reduce_range = in[2].toBool();
        d.relu = kind == "quantized::linear_relu_dynamic";
        node.float_output = ReadFloats(out.toTensor());
      } else if (!quantized) {
        node.role = NodeRole::kFloat;
        node.note = "float op outside the quantized part";
      } else {
        const OpSpec* spec_row = nullptr;
        for (const OpSpec& s : kLayerOps) {
          if (kind == s.kind) spec_row = &s;
        }
        std::string why;
        if (spec_row != nullptr && out.isTensor() && out.toTensor().is_quantized() &&
            ReadLayer(*spec_row, in, out, &node, &why)) {
          node.role = NodeRole::kLayer;
          node.output = QTensorOf(out.toTensor());
          // LibTorch picks kernels by memory format: keep the model's.
          const at::Tensor x0 = spec_row->op == OpKind::kCat ? in[0].toTensorList().get(0)
                                                             : in[0].toTensor();
          node.layer.channels_last = x0.dim() == 4 && !x0.is_contiguous() &&
                                     x0.is_contiguous(at::MemoryFormat::ChannelsLast);
          const std::string invalid = [&] {
            Model m;
            m.input = node.inputs[0];
            for (size_t i = 1; i < node.inputs.size(); ++i) m.extra_inputs.push_back(node.inputs[i]);
            m.layers = {node.layer};
            for (size_t i = 0; i < node.inputs.size(); ++i) m.layers[0].inputs.push_back(-1 - static_cast<int>(i));
            if (node.inputs.size() == 1) m.layers[0].inputs.clear();
            return ValidateModel(m);
          }();
          if (!invalid.empty()) {
            node.role = NodeRole::kUnknown;
            node.note = "outside qdiff's layer model: " + invalid;
          }
        } else if (kDataMovement.count(kind) != 0) {
          node.role = NodeRole::kDataMovement;
          node.note = why.empty() ? "data movement" : "data movement: " + why;
        } else {
          node.role = NodeRole::kUnknown;
          node.note = spec_row ? why : "no qdiff recipe for " + kind;
        }
      }
      const int64_t index = static_cast<int64_t>(run.nodes.size());
      if (node.role == NodeRole::kDataMovement) origins.Propagate(n, value_of);
      if (node.role == NodeRole::kDequantize) node.sources = {origins.Source(n->input(0), 0, node.inputs[0].shape)};
      if (node.role == NodeRole::kLayer) {
        for (size_t i = 0; i < node.inputs.size(); ++i) {
          const bool list = node.layer.op == OpKind::kCat;  // quantized::cat(Tensor[] qx, dim, ...)
          node.sources.push_back(origins.Source(n->input(list ? 0 : i), list ? i : 0, node.inputs[i].shape));
        }
      }
      if ((node.role == NodeRole::kLayer || node.role == NodeRole::kQuantize) && out_value != nullptr) {
        origins.SetProduced(out_value, index, out.toTensor().sizes());
      }
      run.nodes.push_back(std::move(node));
    }
  } catch (const c10::Error& e) {
    run.rejected = true;
    run.message = "LibTorch: " + OneLine(e.what_without_backtrace());
  } catch (const std::invalid_argument&) {
    throw;  // the input tensor or shape: a usage error
  } catch (const std::exception& e) {  // a node qdiff could not read (e.g. unexpected packed params)
    run.rejected = true;
    run.message = OneLine(e.what());
  }
  return run;
}

}  // namespace qdiff
