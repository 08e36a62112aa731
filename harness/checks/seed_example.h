// `qdiff seed-example`: the forum question answered. QuantStub → Conv2d(1,1,1)+ReLU (fused) →
// DeQuantStub, input randn(4,1,4,4), calibrated per engine; every recipe compared with LibTorch
// and one output element derived step by step in integers.
#pragma once

#include <ostream>

namespace qdiff {

// Returns 0 iff on every available engine the engine's own recipe matches LibTorch on every
// element; 1 otherwise.
int RunSeedExample(std::ostream& out);

}  // namespace qdiff
