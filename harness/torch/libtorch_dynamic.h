// Runs quantized::linear_dynamic / linear_relu_dynamic on one LibTorch engine. The second (and
// last) translation unit of qdiff that includes torch; see libtorch_runner.h for the first.
// Exceptions never cross this interface: every error becomes a `rejected` result.
#pragma once

#include <string>
#include <vector>

#include "oracles/linear_dynamic.h"

namespace qdiff {

struct DynamicOutcome {
  bool rejected = false;
  std::string message;       // LibTorch's error text when rejected (one line)
  std::vector<float> values;  // [n, oc] float output, row-major
};

// Sets `engine`, prepacks c.weight and c.bias with
// quantized::linear_prepack, then calls quantized::linear_dynamic (c.relu: linear_relu_dynamic)
// on the float tensor c.x [n, k] with c.reduce_range. ONEDNN/X86 calls run on a fresh thread
// (ideep keeps per-thread primitive caches, see libtorch_runner.cc), so each result depends on
// its own case only.
DynamicOutcome RunLinearDynamicOnLibTorch(const DynamicLinearCase& c, Engine engine);

}  // namespace qdiff
