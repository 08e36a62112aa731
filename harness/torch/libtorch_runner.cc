// LibTorchRunner: with libtorch_dynamic.cc, the only translation units in qdiff that include torch.
// How the ops are called: docs/semantics.md#calling-convention; the LibTorch traps it works around:
// docs/pitfalls.md#libtorch.
#include "harness/torch/libtorch_runner.h"
#include "harness/torch/libtorch_version.h"
#include "harness/torch/torch_support.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/dispatch/Dispatcher.h>

#include <algorithm>
#include <cstdlib>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

#if defined(__GLIBC__)
#include <malloc.h>
#include <sched.h>
#endif

namespace qdiff {
namespace {

struct EngineRow {
  Engine name;
  at::QEngine engine;
};
constexpr EngineRow kEngineRows[] = {{Engine::kQnnpack, at::QEngine::QNNPACK},
                                       {Engine::kOnednn, at::QEngine::ONEDNN},
                                       {Engine::kFbgemm, at::QEngine::FBGEMM},
                                       {Engine::kX86, at::QEngine::X86}};

// The int_repr tensor (kByte for quint8, kChar for qint8) holding t.values in shape t.shape.
at::Tensor IntRepr(const QTensor& t) {
  if (t.dtype == DType::kQUInt8) {
    at::Tensor raw = at::empty(t.shape, at::kByte);
    uint8_t* p = raw.data_ptr<uint8_t>();
    for (size_t i = 0; i < t.values.size(); ++i) p[i] = static_cast<uint8_t>(t.values[i]);
    return raw;
  }
  at::Tensor raw = at::empty(t.shape, at::kChar);
  int8_t* p = raw.data_ptr<int8_t>();
  for (size_t i = 0; i < t.values.size(); ++i) p[i] = static_cast<int8_t>(t.values[i]);
  return raw;
}

// Builds the quantized tensor directly from integers, so no float rounding is involved.
at::Tensor Quantized(const QTensor& t) {
  at::Tensor raw = IntRepr(t);
  if (!t.per_channel()) {
    return at::_make_per_tensor_quantized_tensor(raw, t.scales[0], t.zero_points[0]);
  }
  at::Tensor scales = at::empty({static_cast<int64_t>(t.scales.size())}, at::kDouble);
  at::Tensor zps = at::empty({static_cast<int64_t>(t.zero_points.size())}, at::kLong);
  for (size_t c = 0; c < t.scales.size(); ++c) {
    scales.data_ptr<double>()[c] = t.scales[c];
    zps.data_ptr<int64_t>()[c] = t.zero_points[c];
  }
  return at::_make_per_channel_quantized_tensor(raw, scales, zps, t.axis);
}

// Boxed call through the dispatcher (docs/pitfalls.md#boxed-dispatcher-calls: avoids typed<>
// signature mismatches).
// Returns the whole output stack of the op.
torch::jit::Stack CallOpStack(const char* name, const char* overload, torch::jit::Stack stack) {
  c10::OperatorHandle op = c10::Dispatcher::singleton().findSchemaOrThrow(name, overload);
  op.callBoxed(&stack);
  return stack;
}

// Returns the single output of the op.
c10::IValue CallOp(const char* name, const char* overload, torch::jit::Stack stack) {
  return std::move(CallOpStack(name, overload, std::move(stack)).at(0));
}

// The first `rank` entries of a per-spatial-dimension attribute, as the int[] of a schema.
c10::List<int64_t> Dims(const int64_t (&v)[ConvAttrs::kMaxSpatialDims], int rank) {
  return c10::List<int64_t>(std::vector<int64_t>(v, v + rank));
}

c10::IValue BiasTensor(const std::optional<std::vector<float>>& bias) {
  if (!bias) return c10::IValue();  // None
  at::Tensor b = at::empty({static_cast<int64_t>(bias->size())}, at::kFloat);
  std::copy(bias->begin(), bias->end(), b.data_ptr<float>());
  return b;
}

// Prepacks weight `w` and bias `bias` (a Tensor or None) with the current engine. The int[]
// attributes have one entry per spatial dimension (conv1d_prepack takes length-1 lists and
// unsqueezes them to a conv2d of height 1 itself, qconv_prepack.cpp MakeArgForConv1d).
c10::IValue PrepackTensors(OpKind op, const ConvAttrs& a, const at::Tensor& w,
                           const c10::IValue& bias) {
  const int rank = ConvSpatialDims(op);
  switch (op) {
    case OpKind::kConv1d:
    case OpKind::kConv2d:
    case OpKind::kConv3d: {
      const char* name = op == OpKind::kConv1d   ? "quantized::conv1d_prepack"
                         : op == OpKind::kConv2d ? "quantized::conv2d_prepack"
                                                 : "quantized::conv3d_prepack";
      return CallOp(name, "", {w, bias, Dims(a.stride, rank), Dims(a.padding, rank),
                               Dims(a.dilation, rank), a.groups});
    }
    case OpKind::kConvTranspose2d:
      return CallOp("quantized::conv_transpose2d_prepack", "",
                    {w, bias, Dims(a.stride, rank), Dims(a.padding, rank),
                     Dims(a.output_padding, rank), Dims(a.dilation, rank), a.groups});
    case OpKind::kLinear:
      return CallOp("quantized::linear_prepack", "", {w, bias});
    default:
      throw std::logic_error(std::string("PrepackTensors: not a GEMM op: ") + OpKindName(op));
  }
}

c10::IValue PrepackLayer(const Layer& layer) {
  return PrepackTensors(layer.op, layer.conv, Quantized(layer.weight), BiasTensor(layer.bias));
}

// Runs the op with packed weights (schemas: aten/src/ATen/native/quantized/library.cpp).
// conv2d(_relu) and conv3d(_relu) use overload "new" (their "" overload is the legacy signature
// with the attributes passed again); conv1d(_relu), conv_transpose2d and linear(_relu) use "".
// LibTorch has no conv_transpose2d_relu: ValidateModel rejects relu on it.
at::Tensor RunPacked(OpKind op, bool relu, const c10::IValue& packed, const at::Tensor& x,
                     double out_scale, int32_t out_zero_point) {
  const char* run_op = nullptr;
  const char* overload = "";
  switch (op) {
    case OpKind::kConv1d: run_op = relu ? "quantized::conv1d_relu" : "quantized::conv1d"; break;
    case OpKind::kConv2d:
      run_op = relu ? "quantized::conv2d_relu" : "quantized::conv2d";
      overload = "new";
      break;
    case OpKind::kConv3d:
      run_op = relu ? "quantized::conv3d_relu" : "quantized::conv3d";
      overload = "new";
      break;
    case OpKind::kConvTranspose2d: run_op = "quantized::conv_transpose2d"; break;
    case OpKind::kLinear: run_op = relu ? "quantized::linear_relu" : "quantized::linear"; break;
    default:
      throw std::logic_error(std::string("RunPacked: not a GEMM op: ") + OpKindName(op));
  }
  if (relu && op == OpKind::kConvTranspose2d) {
    throw std::logic_error("conv_transpose2d has no fused ReLU in LibTorch");
  }
  return CallOp(run_op, overload, {x, packed, out_scale, static_cast<int64_t>(out_zero_point)})
      .toTensor();
}

// Prepacks with the current engine, then runs the op.
at::Tensor RunGemm(const Layer& layer, const at::Tensor& x) {
  return RunPacked(layer.op, layer.relu, PrepackLayer(layer), x, layer.out_scale,
                   layer.out_zero_point);
}

// What a converted eager-mode model calls for the ops below (torch.ao.nn.quantized modules
// and FloatFunctional → QFunctional; unswapped float modules call the at:: ops):
//   add/add_relu/mul/mul_relu  QFunctional → quantized::add(_relu) / quantized::mul(_relu)
//   cat                         QFunctional.cat → quantized::cat(xs, dim, scale, zero_point)
//   pools, relu, sigmoid,       nn.* → F.* → at::max_pool2d (→ at::quantized_max_pool2d),
//   hardsigmoid                 at::avg_pool2d, at::adaptive_avg_pool2d, at::relu, at::sigmoid,
//                               at::hardsigmoid
//   mean                        x.mean([2, 3]) → at::mean (mean_quantized_cpu)
//   relu6                       nn.ReLU6 is Hardtanh(0., 6.) → at::hardtanh(x, 0.0, 6.0); the
//                               swapped-in nnq.ReLU6 calls quantized::relu6, which 1.13 implements
//                               as hardtanh_quantized_cpu(qx, 0.0f, 6.0f): the same kernel
//   hardtanh, clamp             at::hardtanh / at::clamp (both quantized_clamp_impl)
//   hardswish, leaky_relu       nnq.Hardswish → quantized::hardswish(x, s_y, z_y);
//                               nnq.LeakyReLU → quantized::leaky_relu(x, slope, False, s_y, z_y)

// The activations' float attributes are passed as the doubles a Python call would hold for them
// (the float value, exactly). Pools keep the input's qparams; avg_pool2d's divisor_override 0
// means None.
c10::optional<int64_t> DivisorOverride(const PoolAttrs& p) {
  return p.divisor_override == 0 ? c10::nullopt : c10::optional<int64_t>(p.divisor_override);
}

at::Tensor Binary(const char* name, const Layer& l, const std::vector<at::Tensor>& in) {
  return CallOp(name, "", {in.at(0), in.at(1), l.out_scale, static_cast<int64_t>(l.out_zero_point)})
      .toTensor();
}

using In = std::vector<at::Tensor>;

// One row per op kind: the LibTorch call of that op. Adding an op adds one row here; a kind
// without a row is refused by RunNode (and caught by the runner's tests).
struct OpCall {
  OpKind op;
  at::Tensor (*call)(const Layer& layer, const In& in);
};

const OpCall kOpCalls[] = {
    {OpKind::kConv1d, [](const Layer& l, const In& in) { return RunGemm(l, in.at(0)); }},
    {OpKind::kConv2d, [](const Layer& l, const In& in) { return RunGemm(l, in.at(0)); }},
    {OpKind::kConv3d, [](const Layer& l, const In& in) { return RunGemm(l, in.at(0)); }},
    {OpKind::kConvTranspose2d, [](const Layer& l, const In& in) { return RunGemm(l, in.at(0)); }},
    {OpKind::kLinear, [](const Layer& l, const In& in) { return RunGemm(l, in.at(0)); }},
    {OpKind::kAdd,
     [](const Layer& l, const In& in) {
       return Binary(l.relu ? "quantized::add_relu" : "quantized::add", l, in);
     }},
    {OpKind::kMul,
     [](const Layer& l, const In& in) {
       return Binary(l.relu ? "quantized::mul_relu" : "quantized::mul", l, in);
     }},
    {OpKind::kCat,
     [](const Layer& l, const In& in) {
       c10::List<at::Tensor> list;
       for (const at::Tensor& x : in) list.push_back(x);
       return CallOp("quantized::cat", "",
                     {list, l.cat_dim, l.out_scale, static_cast<int64_t>(l.out_zero_point)})
           .toTensor();
     }},
    {OpKind::kMaxPool2d,
     [](const Layer& l, const In& in) {
       const PoolAttrs& p = l.pool;
       return at::max_pool2d(in.at(0), p.kernel, p.stride, p.padding, p.dilation, p.ceil_mode);
     }},
    {OpKind::kAvgPool2d,
     [](const Layer& l, const In& in) {
       const PoolAttrs& p = l.pool;
       return at::avg_pool2d(in.at(0), p.kernel, p.stride, p.padding, p.ceil_mode,
                             p.count_include_pad, DivisorOverride(p));
     }},
    {OpKind::kAdaptiveAvgPool2d,
     [](const Layer& l, const In& in) { return at::adaptive_avg_pool2d(in.at(0), l.pool.output_size); }},
    {OpKind::kRelu, [](const Layer&, const In& in) { return at::relu(in.at(0)); }},
    {OpKind::kRelu6, [](const Layer&, const In& in) { return at::hardtanh(in.at(0), 0.0, 6.0); }},
    {OpKind::kHardtanh,
     [](const Layer& l, const In& in) {
       return at::hardtanh(in.at(0), static_cast<double>(l.act.min_value),
                           static_cast<double>(l.act.max_value));
     }},
    {OpKind::kClamp,
     [](const Layer& l, const In& in) {
       return at::clamp(in.at(0), c10::optional<at::Scalar>(static_cast<double>(l.act.min_value)),
                        c10::optional<at::Scalar>(static_cast<double>(l.act.max_value)));
     }},
    // output qparams fixed by LibTorch (1/256 and 0 or -128)
    {OpKind::kSigmoid, [](const Layer&, const In& in) { return at::sigmoid(in.at(0)); }},
    {OpKind::kHardsigmoid, [](const Layer&, const In& in) { return at::hardsigmoid(in.at(0)); }},
    // x.mean(dims, keepdim): the dims exactly as the layer gives them (QNNPACK's path needs [2, 3])
    {OpKind::kMean,
     [](const Layer& l, const In& in) {
       return at::mean(in.at(0), at::IntArrayRef(l.mean.dims, 2), l.mean.keepdim);
     }},
    {OpKind::kHardswish,
     [](const Layer& l, const In& in) {
       return CallOp("quantized::hardswish", "",
                     {in.at(0), l.out_scale, static_cast<int64_t>(l.out_zero_point)})
           .toTensor();
     }},
    {OpKind::kLeakyRelu,
     [](const Layer& l, const In& in) {
       return CallOp("quantized::leaky_relu", "",
                     {in.at(0), at::Scalar(static_cast<double>(l.act.negative_slope)),
                      /*inplace=*/false, l.out_scale, static_cast<int64_t>(l.out_zero_point)})
           .toTensor();
     }},
    // nn.Flatten(): a reshape of the quantized tensor
    {OpKind::kFlatten, [](const Layer&, const In& in) { return at::flatten(in.at(0), 1); }},
};

const OpCall* FindOpCall(OpKind op) {
  for (const OpCall& c : kOpCalls) {
    if (c.op == op) return &c;
  }
  return nullptr;
}

// Runs one layer on its inputs (already in the layer's memory format).
at::Tensor RunNode(const Layer& layer, const std::vector<at::Tensor>& in) {
  const OpCall* c = FindOpCall(layer.op);
  if (!c) throw std::logic_error(std::string("RunNode: no LibTorch call for ") + OpKindName(layer.op));
  return c->call(layer, in);
}

// The layout a layer's op is given: 4-D inputs channels-last when layer.channels_last, else
// contiguous NCHW. Normalizing both ways makes the kernel a function of the case file alone:
// conv and pool outputs are often channels-last, and passing them on as-is would let the
// previous op choose e.g. the NHWC avg_pool2d kernel (docs/semantics.md#average-pooling). Values
// are unchanged.
at::Tensor InLayerLayout(const at::Tensor& x, bool channels_last) {
  if (channels_last && x.dim() == 4) return x.contiguous(at::MemoryFormat::ChannelsLast);
  return x.contiguous();
}

// Outputs may be channels-last: make the int_repr contiguous (NCHW / [N, OC]) before reading.
LayerOutput ReadOutput(const at::Tensor& y) {
  LayerOutput out;
  out.shape = y.sizes().vec();
  at::Tensor ints = y.int_repr().to(at::kInt).contiguous();
  const int32_t* p = ints.data_ptr<int32_t>();
  out.values.assign(p, p + ints.numel());
  out.scale = y.q_scale();
  out.zero_point = static_cast<int32_t>(y.q_zero_point());
  return out;
}

EngineResult Rejected(std::string message) {
  EngineResult r;
  r.rejected = true;
  r.message = OneLine(std::move(message));
  return r;
}

EngineResult RunChecked(const Model& model, const EngineRow& engine) {
  // The engine is fixed when weights are prepacked, so set it first
  // (docs/pitfalls.md#set-the-engine-before-prepacking).
  at::globalContext().setQEngine(engine.engine);
  EngineResult result;
  std::vector<at::Tensor> graph_inputs = {Quantized(model.input)};  // node -1, then -2, -3, …
  for (const QTensor& extra : model.extra_inputs) graph_inputs.push_back(Quantized(extra));
  std::vector<at::Tensor> nodes;  // nodes[j] = layer j's output, in the layout LibTorch gave it
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const Layer& layer = model.layers[i];
    std::vector<at::Tensor> in;
    for (int id : LayerInputIds(model, i)) {
      in.push_back(InLayerLayout(id < 0 ? graph_inputs.at(-1 - id) : nodes.at(id),
                                 layer.channels_last));
    }
    nodes.push_back(RunNode(layer, in));
    result.layers.push_back(ReadOutput(nodes.back()));
  }
  return result;
}

// ideep in LibTorch 1.13 caches conv/matmul primitive descriptors in a thread_local LRU cache
// whose key omits the zero points (fixed upstream by intel/ideep#152, Dec 2022): a later call
// that differs only in the output zero point silently reuses the earlier one. Running each
// call on a fresh thread (fresh cache) makes a result depend on its own model only, at ~140 us
// per call for rebuilding descriptors; a repeat inside one multi-layer model is still visible,
// as for any LibTorch user, and reproducible from the case file.
bool UsesIdeep(at::QEngine e) { return e == at::QEngine::ONEDNN || e == at::QEngine::X86; }

// Runs `f` on a fresh thread started on the CPU the caller is on, and waits for it. The caller
// only waits meanwhile, so that CPU is free for it; left to the scheduler, a new thread was often
// queued behind the other worker on the other CPU while this one idled (with two workers on two
// CPUs, 5-11% of all CPU time was idle in steady state: perf, `qdiff run --jobs 2`). The thread
// inherits the caller's affinity at creation: the caller is bound to its CPU for that moment.
void RunOnFreshThreadHere(const std::function<void()>& f) {
#if defined(__GLIBC__)
  cpu_set_t caller_cpus, here;
  const int cpu = sched_getcpu();
  bool bound = cpu >= 0 && cpu < CPU_SETSIZE && sched_getaffinity(0, sizeof caller_cpus, &caller_cpus) == 0;
  if (bound) {
    CPU_ZERO(&here);
    CPU_SET(cpu, &here);
    bound = sched_setaffinity(0, sizeof here, &here) == 0;
  }
#else
  const bool bound = false;
#endif
  std::exception_ptr start_error;
  std::thread thread;
  try {
    thread = std::thread(f);
  } catch (...) {
    start_error = std::current_exception();
  }
#if defined(__GLIBC__)
  if (bound) sched_setaffinity(0, sizeof caller_cpus, &caller_cpus);
#endif
  if (start_error) std::rethrow_exception(start_error);
  thread.join();
}

}  // namespace

std::vector<Engine> AvailableEngines() {
  std::vector<Engine> names;
  for (at::QEngine e : at::globalContext().supportedQEngines()) {
    for (const EngineRow& n : kEngineRows) {
      if (n.engine == e) names.push_back(n.name);  // NoQEngine has no entry: skipped
    }
  }
  return names;
}

std::string LibTorchVersion() { return LoadedLibTorchVersion().version; }

namespace {

// The table row of `engine`, or nullptr (with *message) if this build does not support it.
const EngineRow* FindEngine(Engine engine, std::string* message) {
  at::QEngine q{};
  if (!SupportedQEngine(engine, &q, message)) return nullptr;
  for (const EngineRow& n : kEngineRows) {
    if (n.name == engine) return &n;
  }
  return nullptr;
}

}  // namespace

bool SupportedQEngine(Engine engine, at::QEngine* out, std::string* message) {
  const auto& supported = at::globalContext().supportedQEngines();
  for (const EngineRow& n : kEngineRows) {
    if (n.name == engine && std::find(supported.begin(), supported.end(), n.engine) != supported.end()) {
      *out = n.engine;
      return true;
    }
  }
  *message = std::string("engine '") + EngineName(engine) +
             "' is not in this LibTorch build (available: " + EngineList(AvailableEngines()) + ")";
  return false;
}

std::string OneLine(std::string msg) {
  std::replace(msg.begin(), msg.end(), '\n', ' ');
  std::replace(msg.begin(), msg.end(), '\r', ' ');
  if (msg.size() > 500) msg.resize(500);
  while (!msg.empty() && msg.back() == ' ') msg.pop_back();
  return msg.empty() ? "LibTorch error without a message" : msg;
}

QTensor QTensorOf(const at::Tensor& t) {
  QTensor q;
  if (t.scalar_type() == at::kQInt8) {
    q.dtype = DType::kQInt8;
  } else if (t.scalar_type() == at::kQUInt8) {
    q.dtype = DType::kQUInt8;
  } else {
    throw std::runtime_error(std::string("quantized tensor has dtype ") +
                             c10::toString(t.scalar_type()));
  }
  q.shape = t.sizes().vec();
  at::Tensor ints = t.int_repr().to(at::kInt).contiguous();
  q.values.assign(ints.data_ptr<int32_t>(), ints.data_ptr<int32_t>() + ints.numel());
  if (t.qscheme() == at::kPerTensorAffine) {
    q.scales = {t.q_scale()};
    q.zero_points = {static_cast<int32_t>(t.q_zero_point())};
    q.axis = -1;
  } else if (t.qscheme() == at::kPerChannelAffine) {
    at::Tensor scales = t.q_per_channel_scales().to(at::kDouble).contiguous();
    at::Tensor zps = t.q_per_channel_zero_points().to(at::kLong).contiguous();
    q.scales.assign(scales.data_ptr<double>(), scales.data_ptr<double>() + scales.numel());
    for (int64_t c = 0; c < zps.numel(); ++c) {
      q.zero_points.push_back(static_cast<int32_t>(zps.data_ptr<int64_t>()[c]));
    }
    q.axis = static_cast<int>(t.q_per_channel_axis());
  } else {
    throw std::runtime_error(std::string("quantized tensor has qscheme ") +
                             c10::toString(t.qscheme()));
  }
  return q;
}

// Any nonzero byte: glibc writes its complement into each block malloc returns.
constexpr int kMallocPerturbByte = 0xA5;

void InitLibTorch() {
  static std::once_flag once;
  std::call_once(once, [] {
    at::set_num_threads(1);
    // oneDNN's process-wide primitive cache (default 1,024 primitives with their JIT kernels)
    // rarely hits across qdiff's cases, whose shapes are drawn at random (within a call ideep's
    // per-thread cache reuses primitives). Filling it, then evicting in LRU order, made a
    // worker's RSS grow for tens of thousands of cases: ~16 MiB live plus ~10 MiB of fragments
    // in the ONEDNN thread's malloc arena. 32 entries bound that and still serve a layer called
    // again with the same shapes (`qdiff throughput`'s fixed layers: 0 made each call JIT its
    // kernel again, ~8x slower). The cache only memoises primitive creation, so results do not
    // change (byte-identical CSVs, seed 1, 3,000 cases). oneDNN reads the variable at its first
    // primitive, hence here, before any; a user's ONEDNN_/DNNL_PRIMITIVE_CACHE_CAPACITY wins.
    if (!std::getenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY")) {
      setenv("DNNL_PRIMITIVE_CACHE_CAPACITY", "32", /*overwrite=*/0);
    }
#if defined(__GLIBC__)
    if (!std::getenv("MALLOC_PERTURB_")) mallopt(M_PERTURB, kMallocPerturbByte);  // glibc's own setting wins
#endif
  });
}

QuantizeOutcome QuantizeOnLibTorch(const std::vector<float>& x, const QTensor& params) {
  QuantizeOutcome out;
  try {
    at::Tensor input = at::empty(params.shape, at::kFloat);
    if (static_cast<int64_t>(x.size()) != input.numel()) {
      throw std::invalid_argument("float values do not match the shape");
    }
    std::copy(x.begin(), x.end(), input.data_ptr<float>());
    const at::ScalarType dtype = params.dtype == DType::kQUInt8 ? at::kQUInt8 : at::kQInt8;
    at::Tensor q;
    if (!params.per_channel()) {
      q = at::quantize_per_tensor(input, params.scales[0], params.zero_points[0], dtype);
    } else {
      at::Tensor scales = at::empty({static_cast<int64_t>(params.scales.size())}, at::kDouble);
      at::Tensor zps = at::empty({static_cast<int64_t>(params.zero_points.size())}, at::kLong);
      for (size_t c = 0; c < params.scales.size(); ++c) {
        scales.data_ptr<double>()[c] = params.scales[c];
        zps.data_ptr<int64_t>()[c] = params.zero_points[c];
      }
      q = at::quantize_per_channel(input, scales, zps, params.axis, dtype);
    }
    at::Tensor ints = q.int_repr().to(at::kInt).contiguous();
    out.values.assign(ints.data_ptr<int32_t>(), ints.data_ptr<int32_t>() + ints.numel());
    at::Tensor d = q.dequantize().contiguous();
    out.dequantized.assign(d.data_ptr<float>(), d.data_ptr<float>() + d.numel());
  } catch (const std::exception& e) {
    out.rejected = true;
    out.message = OneLine(e.what());
  }
  return out;
}

EngineResult RunOnLibTorch(const Model& model, Engine engine) {
  try {
    std::string invalid = ValidateModel(model);
    if (!invalid.empty()) return Rejected(invalid);
    std::string unknown;
    const EngineRow* found = FindEngine(engine, &unknown);
    if (found == nullptr) return Rejected(unknown);
    if (!UsesIdeep(found->engine)) return RunChecked(model, *found);
    EngineResult result;
    std::exception_ptr error;
    RunOnFreshThreadHere([&] {
      try {
        at::init_num_threads();  // applies InitLibTorch's thread count to this thread
        result = RunChecked(model, *found);
      } catch (...) {
        error = std::current_exception();
      }
    });
    if (error) std::rethrow_exception(error);
    return result;
  } catch (const c10::Error& e) {
    return Rejected(e.what_without_backtrace());  // what() appends a C++ stack trace
  } catch (const std::exception& e) {
    return Rejected(e.what());
  } catch (...) {
    return Rejected("unknown non-standard exception from LibTorch");
  }
}

// ---- PackedModule --------------------------------------------------------------------------

namespace {

// Runs `f`, turning any exception into one line of text; "" when f returned normally.
std::string Guarded(const std::function<void()>& f) {
  try {
    f();
    return "";
  } catch (const c10::Error& e) {
    return OneLine(e.what_without_backtrace());  // what() appends a C++ stack trace
  } catch (const std::exception& e) {
    return OneLine(e.what());
  } catch (...) {
    return "unknown non-standard exception from LibTorch";
  }
}

// One persistent thread running submitted tasks in order, one at a time. Call() blocks until
// its task has run; tasks must not throw (wrap them in Guarded).
class WorkerThread {
 public:
  WorkerThread() : thread_([this] { Loop(); }) {}
  ~WorkerThread() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  WorkerThread(const WorkerThread&) = delete;
  WorkerThread& operator=(const WorkerThread&) = delete;

  void Call(const std::function<void()>& task) {
    std::promise<void> done;
    std::future<void> finished = done.get_future();
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks_.push_back([&] {
        task();
        done.set_value();
      });
    }
    cv_.notify_one();
    finished.wait();
  }

 private:
  void Loop() {
    at::init_num_threads();  // applies InitLibTorch's thread count to this thread
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stop_ || !tasks_.empty(); });
        if (tasks_.empty()) return;  // stop_ and nothing left
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

void ReadPair(const c10::IValue& list, int64_t (&out)[ConvAttrs::kMaxSpatialDims]) {
  const c10::List<int64_t> v = list.toIntList();
  if (v.size() != 2) throw std::runtime_error("packed conv2d attribute is not a pair");
  out[0] = v.get(0);
  out[1] = v.get(1);
}

// What unpack returns for a packed layer, plus the conv attributes the packed object reports.
struct UnpackedTensors {
  at::Tensor weight;
  c10::IValue bias;  // Tensor or None
  ConvAttrs conv;
};

UnpackedTensors UnpackPacked(OpKind op, const c10::IValue& packed) {
  UnpackedTensors u;
  const bool conv = op == OpKind::kConv2d;
  torch::jit::Stack out =
      CallOpStack(conv ? "quantized::conv2d_unpack" : "quantized::linear_unpack", "", {packed});
  u.weight = out.at(0).toTensor();
  u.bias = out.at(1);
  if (conv) {
    ReadPair(CallOp("quantized::conv2d_stride", "", {packed}), u.conv.stride);
    ReadPair(CallOp("quantized::conv2d_padding", "", {packed}), u.conv.padding);
    ReadPair(CallOp("quantized::conv2d_dilation", "", {packed}), u.conv.dilation);
    u.conv.groups = CallOp("quantized::conv2d_groups", "", {packed}).toInt();
  }
  return u;
}

// A one-layer model with the smallest input that fits `layer`, to validate the layer alone.
Model ProbeModel(const Layer& layer) {
  Model m;
  m.input.dtype = DType::kQUInt8;
  m.input.scales = {1.0};
  m.input.zero_points = {0};
  const std::vector<int64_t>& w = layer.weight.shape;
  if (layer.op == OpKind::kLinear) {
    m.input.shape = {1, w.size() == 2 ? w[1] : 1};
  } else if (w.size() == 4) {
    const ConvAttrs& a = layer.conv;
    m.input.shape = {1, w[1] * a.groups, a.dilation[0] * (w[2] - 1) + 1,
                     a.dilation[1] * (w[3] - 1) + 1};
  }
  m.input.values.assign(static_cast<size_t>(std::max<int64_t>(0, m.input.NumElements())), 0);
  m.layers = {layer};
  return m;
}

}  // namespace

struct PackedModule::Impl {
  WorkerThread worker;  // first member: destroyed last, after the torch state below is released
  const EngineRow* engine = nullptr;
  Layer layer;          // op, relu, conv, out_dtype as prepacked; out qparams of the last Run
  c10::IValue packed;   // the packed params object; only ever touched on the worker thread

  ~Impl() {
    worker.Call([this] { packed = c10::IValue(); });  // free on the thread that used it
  }
};

PackedModule::PackedModule() = default;
PackedModule::~PackedModule() = default;
PackedModule::PackedModule(PackedModule&&) noexcept = default;
PackedModule& PackedModule::operator=(PackedModule&&) noexcept = default;

bool PackedModule::valid() const { return impl_ != nullptr; }

std::optional<Engine> PackedModule::engine() const {
  if (!impl_) return std::nullopt;
  return impl_->engine->name;
}

PackedModule PackedModule::Prepack(const Layer& layer, Engine engine,
                                   std::string* error) {
  PackedModule module;
  const std::string message = Guarded([&] {
    std::string unknown;
    const EngineRow* found = FindEngine(engine, &unknown);
    if (found == nullptr) throw std::runtime_error(unknown);
    if (layer.op != OpKind::kConv2d && layer.op != OpKind::kLinear) {
      // conv1d/conv3d/conv_transpose2d run through RunOnLibTorch only (their packed objects have
      // other unpack and attribute ops; nothing stateful is known about them yet).
      throw std::runtime_error(std::string("PackedModule supports conv2d and linear only, not ") +
                               OpKindName(layer.op));
    }
    const std::string invalid = ValidateModel(ProbeModel(layer));
    if (!invalid.empty()) throw std::runtime_error(invalid);
    auto impl = std::make_unique<Impl>();
    impl->engine = found;
    impl->layer = layer;
    std::string failed;
    Impl* p = impl.get();
    p->worker.Call([&] {
      failed = Guarded([&] {
        // The engine is fixed when weights are prepacked
        // (docs/pitfalls.md#set-the-engine-before-prepacking).
        at::globalContext().setQEngine(p->engine->engine);
        p->packed = PrepackLayer(p->layer);
      });
    });
    if (!failed.empty()) throw std::runtime_error(failed);
    module.impl_ = std::move(impl);
  });
  if (error != nullptr) *error = message;
  return module;
}

EngineResult PackedModule::Run(const QTensor& input, double out_scale, int32_t out_zero_point) {
  if (!impl_) return Rejected("PackedModule::Run on an empty module");
  Impl* p = impl_.get();
  Model model;
  model.input = input;
  model.layers = {p->layer};
  model.layers[0].out_scale = out_scale;
  model.layers[0].out_zero_point = out_zero_point;
  const std::string invalid = Guarded([&] {
    const std::string text = ValidateModel(model);
    if (!text.empty()) throw std::runtime_error(text);
  });
  if (!invalid.empty()) return Rejected(invalid);
  p->layer.out_scale = out_scale;
  p->layer.out_zero_point = out_zero_point;
  EngineResult result;
  std::string failed;
  p->worker.Call([&] {
    failed = Guarded([&] {
      at::Tensor y = RunPacked(p->layer.op, p->layer.relu, p->packed, Quantized(input),
                               out_scale, out_zero_point);
      result.layers.push_back(ReadOutput(y));
    });
  });
  if (!failed.empty()) return Rejected(failed);
  return result;
}

std::optional<Layer> PackedModule::Unpacked(std::string* error) const {
  std::string failed = "PackedModule::Unpacked on an empty module";
  std::optional<Layer> layer;
  if (impl_) {
    Impl* p = impl_.get();
    p->worker.Call([&] {
      failed = Guarded([&] {
        UnpackedTensors u = UnpackPacked(p->layer.op, p->packed);
        Layer l = p->layer;
        l.weight = QTensorOf(u.weight);
        l.bias.reset();
        if (!u.bias.isNone()) {
          at::Tensor b = u.bias.toTensor().to(at::kFloat).contiguous();
          l.bias.emplace(b.data_ptr<float>(), b.data_ptr<float>() + b.numel());
        }
        if (l.op == OpKind::kConv2d) l.conv = u.conv;
        layer = std::move(l);
      });
    });
  }
  if (error != nullptr) *error = failed;
  return layer;
}

bool PackedModule::Repack(std::string* error) {
  std::string failed = "PackedModule::Repack on an empty module";
  if (impl_) {
    Impl* p = impl_.get();
    p->worker.Call([&] {
      failed = Guarded([&] {
        UnpackedTensors u = UnpackPacked(p->layer.op, p->packed);
        at::globalContext().setQEngine(p->engine->engine);
        c10::IValue repacked = PrepackTensors(p->layer.op, u.conv, u.weight, u.bias);
        p->packed = std::move(repacked);
      });
    });
  }
  if (error != nullptr) *error = failed;
  return failed.empty();
}

bool HasLibTorchCall(OpKind op) { return FindOpCall(op) != nullptr; }

}  // namespace qdiff
