// LibTorchRunner: the only translation unit in qdiff that includes torch.
// How the ops are called follows /work/shared/SEMANTICS.md §6 and PITFALLS.md (LibTorch section).
#include "harness/libtorch_runner.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/version.h>

#include <algorithm>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

namespace qdiff {
namespace {

struct EngineName {
  const char* name;
  at::QEngine engine;
};
constexpr EngineName kEngineNames[] = {{"qnnpack", at::QEngine::QNNPACK},
                                       {"onednn", at::QEngine::ONEDNN},
                                       {"fbgemm", at::QEngine::FBGEMM},
                                       {"x86", at::QEngine::X86}};

// LibTorch's error text as one line of at most kMaxMessage characters.
constexpr size_t kMaxMessage = 500;
std::string OneLine(std::string msg) {
  std::replace(msg.begin(), msg.end(), '\n', ' ');
  std::replace(msg.begin(), msg.end(), '\r', ' ');
  if (msg.size() > kMaxMessage) msg.resize(kMaxMessage);
  while (!msg.empty() && msg.back() == ' ') msg.pop_back();
  return msg.empty() ? "LibTorch error without a message" : msg;
}

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

// Boxed call through the dispatcher (PITFALLS.md: avoids typed<> signature mismatches).
// Returns the single output of the op.
c10::IValue CallOp(const char* name, const char* overload, torch::jit::Stack stack) {
  c10::OperatorHandle op = c10::Dispatcher::singleton().findSchemaOrThrow(name, overload);
  op.callBoxed(&stack);
  return std::move(stack.at(0));
}

c10::List<int64_t> Pair(const int64_t (&v)[2]) { return c10::List<int64_t>({v[0], v[1]}); }

// Prepacks with the current engine, then runs the op. conv2d(_relu) uses overload "new"
// (the "" overload is the legacy signature), linear(_relu) uses "" (SEMANTICS.md §6).
at::Tensor RunLayer(const Layer& layer, const at::Tensor& x) {
  at::Tensor w = Quantized(layer.weight);
  c10::IValue bias;  // None
  if (layer.bias) {
    at::Tensor b = at::empty({static_cast<int64_t>(layer.bias->size())}, at::kFloat);
    std::copy(layer.bias->begin(), layer.bias->end(), b.data_ptr<float>());
    bias = b;
  }
  c10::IValue packed;
  const char* run_op;
  const char* run_overload;
  if (layer.op == OpKind::kConv2d) {
    const Conv2dAttrs& a = layer.conv;
    packed = CallOp("quantized::conv2d_prepack", "",
                    {w, bias, Pair(a.stride), Pair(a.padding), Pair(a.dilation), a.groups});
    run_op = layer.relu ? "quantized::conv2d_relu" : "quantized::conv2d";
    run_overload = "new";
  } else {
    packed = CallOp("quantized::linear_prepack", "", {w, bias});
    run_op = layer.relu ? "quantized::linear_relu" : "quantized::linear";
    run_overload = "";
  }
  return CallOp(run_op, run_overload,
                {x, packed, layer.out_scale, static_cast<int64_t>(layer.out_zero_point)})
      .toTensor();
}

// ONEDNN may return channels-last: make the int_repr contiguous (NCHW / [N, OC]) before reading.
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

EngineResult RunChecked(const Model& model, const EngineName& engine) {
  // The engine is fixed when weights are prepacked, so set it first (SEMANTICS.md §3.0).
  at::globalContext().setQEngine(engine.engine);
  EngineResult result;
  at::Tensor x = Quantized(model.input);
  for (const Layer& layer : model.layers) {
    x = RunLayer(layer, x);  // layer i consumes LibTorch's own layer i-1 output, as-is
    result.layers.push_back(ReadOutput(x));
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

}  // namespace

std::vector<std::string> AvailableEngines() {
  std::vector<std::string> names;
  for (at::QEngine e : at::globalContext().supportedQEngines()) {
    for (const EngineName& n : kEngineNames) {
      if (n.engine == e) names.push_back(n.name);  // NoQEngine has no entry: skipped
    }
  }
  return names;
}

// Note: Debian's libtorch-dev 1.13.1+dfsg ships version.h (and TorchConfigVersion.cmake)
// saying "1.13.0"; we report what the headers say.
std::string LibTorchVersion() { return TORCH_VERSION; }

void InitLibTorch() {
  static std::once_flag once;
  std::call_once(once, [] { at::set_num_threads(1); });
}

EngineResult RunOnLibTorch(const Model& model, const std::string& engine) {
  try {
    std::string invalid = ValidateModel(model);
    if (!invalid.empty()) return Rejected(invalid);
    const EngineName* found = nullptr;
    for (const EngineName& n : kEngineNames) {
      if (engine == n.name) found = &n;
    }
    const auto& supported = at::globalContext().supportedQEngines();
    if (found == nullptr ||
        std::find(supported.begin(), supported.end(), found->engine) == supported.end()) {
      std::string avail;
      for (const std::string& n : AvailableEngines()) avail += (avail.empty() ? "" : ", ") + n;
      return Rejected("unknown or unsupported engine '" + engine + "' (available: " + avail + ")");
    }
    if (!UsesIdeep(found->engine)) return RunChecked(model, *found);
    EngineResult result;
    std::exception_ptr error;
    std::thread worker([&] {
      try {
        at::init_num_threads();  // applies InitLibTorch's thread count to this thread
        result = RunChecked(model, *found);
      } catch (...) {
        error = std::current_exception();
      }
    });
    worker.join();
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

}  // namespace qdiff
