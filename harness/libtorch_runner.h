// LibTorchRunner: runs a Model through LibTorch's quantized CPU ops on one engine and returns
// int_repr() of every layer's output. The only code in qdiff that includes torch (its .cc file).
// Exceptions never cross this interface: every c10::Error becomes a `rejected` result.
#pragma once

#include <string>
#include <vector>

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
  std::vector<LayerOutput> layers;  // one per Model layer, layer i fed with LibTorch's layer i-1
};

// Engines this LibTorch build supports, lower-case ("qnnpack", "onednn", "fbgemm", "x86"),
// in the order at::globalContext().supportedQEngines() reports them, "none" excluded.
std::vector<std::string> AvailableEngines();

// LibTorch version string, e.g. "1.13.1".
std::string LibTorchVersion();

// Pins LibTorch to one intra-op thread (deterministic, and workers are processes).
void InitLibTorch();

// Sets the engine, prepacks each layer's weights and bias, calls quantized::conv2d(_relu) /
// quantized::linear(_relu) through the dispatcher and returns the int_repr() of each layer.
EngineResult RunOnLibTorch(const Model& model, const std::string& engine);

}  // namespace qdiff
