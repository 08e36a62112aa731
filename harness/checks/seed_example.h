// `qdiff seed-example`: the forum question answered on the forum model as PyTorch's eager flow
// makes it (scripts/fixtures/make_models.py: QuantStub → Conv2d(1,1,1)+ReLU fused → DeQuantStub,
// each engine's get_default_qconfig, HistogramObserver included). Per engine the model is
// captured in LibTorch (harness/torch/torchscript_model.h) and checked node by node
// (harness/evaluation/model_check.h) on the forum input extended by one float per input code;
// it prints the QuantStub step, every recipe against LibTorch's int_repr(), where the Q31 form
// differs (or how close it comes), and one element derived in integers.
#pragma once

#include <ostream>
#include <string>

namespace qdiff {

struct SeedExampleOptions {
  // One TorchScript file run on every engine; "" = each engine's forum fixture of the build
  // (made on demand by the fixture script when the build has none).
  std::string model;
  // A float tensor file [N, 1, H, W] (torch.save); "" = torch.randn(4, 1, 4, 4) from a generator
  // seeded with 1, the four batches the fixture was calibrated on.
  std::string input;
};

// Returns 0 iff on every available engine the engine's own recipes (quantize, conv, dequantize)
// reproduce LibTorch on every element; 1 otherwise. Throws std::invalid_argument or
// ModelFileError, naming the file, when a model or input cannot be used (a usage error).
int RunSeedExample(const SeedExampleOptions& options, std::ostream& out);

}  // namespace qdiff
