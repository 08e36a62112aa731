// Helpers shared by the two LibTorch translation units (libtorch_runner.cc, libtorch_dynamic.cc).
// Includes ATen: include it from harness/torch/ only.
#pragma once

#include <ATen/ATen.h>

#include <string>

#include "oracles/engine.h"

namespace qdiff {

// The at::QEngine of `engine` if this LibTorch build supports it; otherwise false, with *message
// naming the engines it does support.
bool SupportedQEngine(Engine engine, at::QEngine* out, std::string* message);

// LibTorch's error text as one line of at most 500 characters (never empty).
std::string OneLine(std::string msg);

}  // namespace qdiff
