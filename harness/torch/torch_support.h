// Helpers shared by the LibTorch translation units (libtorch_runner.cc, libtorch_dynamic.cc,
// torchscript_model.cc).
// Includes ATen: include it from harness/torch/ only.
#pragma once

#include <ATen/ATen.h>

#include <string>

#include "oracles/engine.h"
#include "oracles/model.h"

namespace qdiff {

// The at::QEngine of `engine` if this LibTorch build supports it; otherwise false, with *message
// naming the engines it does support.
bool SupportedQEngine(Engine engine, at::QEngine* out, std::string* message);

// LibTorch's error text as one line of at most 500 characters (never empty).
std::string OneLine(std::string msg);

// A quint8 or qint8 tensor, per-tensor or per-channel affine, as a QTensor (int_repr values in
// logical row-major order whatever the memory format). Throws std::runtime_error naming the dtype
// or qscheme of any other tensor.
QTensor QTensorOf(const at::Tensor& t);

}  // namespace qdiff
