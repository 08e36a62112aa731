// The dynamic-linear LibTorch call (docs/semantics.md#dynamic-linear, #calling-convention). Same
// calling conventions as libtorch_runner.cc: boxed dispatcher calls, engine set before prepack.
// Engine lookup and one-line messages are shared with the runner (torch_support.h).
#include "harness/torch/libtorch_dynamic.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/dispatch/Dispatcher.h>

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <thread>

#include "harness/torch/libtorch_runner.h"
#include "harness/torch/torch_support.h"

namespace qdiff {
namespace {

// The qint8 weight tensor, built from its integers (no float rounding involved).
at::Tensor QInt8Weight(const QTensor& w) {
  if (w.dtype != DType::kQInt8) throw std::invalid_argument("linear_dynamic weight must be qint8");
  at::Tensor raw = at::empty(w.shape, at::kChar);
  if (static_cast<int64_t>(w.values.size()) != raw.numel()) {
    throw std::invalid_argument("weight values do not match the shape");
  }
  int8_t* p = raw.data_ptr<int8_t>();
  for (size_t i = 0; i < w.values.size(); ++i) p[i] = static_cast<int8_t>(w.values[i]);
  if (!w.per_channel()) {
    return at::_make_per_tensor_quantized_tensor(raw, w.scales[0], w.zero_points[0]);
  }
  at::Tensor scales = at::empty({static_cast<int64_t>(w.scales.size())}, at::kDouble);
  at::Tensor zps = at::empty({static_cast<int64_t>(w.zero_points.size())}, at::kLong);
  for (size_t c = 0; c < w.scales.size(); ++c) {
    scales.data_ptr<double>()[c] = w.scales[c];
    zps.data_ptr<int64_t>()[c] = w.zero_points[c];
  }
  return at::_make_per_channel_quantized_tensor(raw, scales, zps, w.axis);
}

// QNNPACK warns on every reduce_range=true call in this build ("qnnpack incorrectly ignores
// reduce_range"), thousands of identical stderr lines per check; the check measures that
// behaviour instead, so warnings are dropped while the op runs.
class DropWarnings : public c10::WarningHandler {
 public:
  void process(const c10::SourceLocation&, const std::string&, const bool) override {}
};

c10::IValue CallOp(const char* name, torch::jit::Stack stack) {
  c10::OperatorHandle op = c10::Dispatcher::singleton().findSchemaOrThrow(name, "");
  op.callBoxed(&stack);
  return std::move(stack.at(0));
}

std::vector<float> Run(const DynamicLinearCase& c, at::QEngine engine) {
  // The engine is fixed when weights are prepacked
  // (docs/pitfalls.md#set-the-engine-before-prepacking).
  at::globalContext().setQEngine(engine);
  at::Tensor x = at::empty({c.n, c.k}, at::kFloat);
  if (static_cast<int64_t>(c.x.size()) != x.numel()) {
    throw std::invalid_argument("activation values do not match [n, k]");
  }
  std::copy(c.x.begin(), c.x.end(), x.data_ptr<float>());
  c10::IValue bias;  // None
  if (c.bias) {
    at::Tensor b = at::empty({static_cast<int64_t>(c.bias->size())}, at::kFloat);
    std::copy(c.bias->begin(), c.bias->end(), b.data_ptr<float>());
    bias = b;
  }
  c10::IValue packed = CallOp("quantized::linear_prepack", {QInt8Weight(c.weight), bias});
  const char* op = c.relu ? "quantized::linear_relu_dynamic" : "quantized::linear_dynamic";
  at::Tensor y = CallOp(op, {x, packed, c.reduce_range}).toTensor().contiguous();
  if (y.scalar_type() != at::kFloat) throw std::runtime_error("linear_dynamic output is not float");
  return std::vector<float>(y.data_ptr<float>(), y.data_ptr<float>() + y.numel());
}

}  // namespace

DynamicOutcome RunLinearDynamicOnLibTorch(const DynamicLinearCase& c, Engine engine) {
  DynamicOutcome out;
  std::string error;
  try {
    InitLibTorch();
    at::QEngine e{};
    if (!SupportedQEngine(engine, &e, &error)) {
      out.rejected = true;
      out.message = error;
      return out;
    }
    auto guarded = [&] {
      try {
        out.values = Run(c, e);
      } catch (const c10::Error& err) {
        error = OneLine(err.what_without_backtrace());  // what() appends a C++ stack trace
      } catch (const std::exception& err) {
        error = OneLine(err.what());
      } catch (...) {
        error = "unknown non-standard exception from LibTorch";
      }
    };
    if (e == at::QEngine::ONEDNN || e == at::QEngine::X86) {
      std::thread worker([&] {
        at::init_num_threads();  // applies InitLibTorch's thread count to this thread
        guarded();
      });
      worker.join();
    } else {
      // c10's warning handler is process-global and not thread-safe: swapped only on this
      // synchronous path, never from the ideep worker threads.
      DropWarnings drop;
      c10::Warning::WarningHandlerGuard quiet(&drop);
      guarded();
    }
  } catch (const std::exception& err) {
    error = OneLine(err.what());
  } catch (...) {
    error = "unknown non-standard exception";
  }
  if (!error.empty()) {
    out.rejected = true;
    out.message = error;
    out.values.clear();
  }
  return out;
}

}  // namespace qdiff
