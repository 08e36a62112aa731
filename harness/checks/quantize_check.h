// `qdiff quantize-check`: the QuantStub / DeQuantStub boundary. Random float tensors (with exact
// ties at power-of-two scales and values beyond the type range) go through LibTorch's
// quantize_per_tensor / quantize_per_channel and dequantize(), and through qdiff's formulas
// (oracles/observers.h QuantizeValue, oracles/float_oracle.h DequantizeElement); every element
// must agree bit for bit (docs/semantics.md#quantize-and-dequantize).
#pragma once

#include <cstdint>
#include <ostream>

namespace qdiff {

struct QuantizeCheckResult {
  int64_t tensors = 0;
  int64_t elements = 0;
  int64_t ties = 0;                 // elements exactly halfway between two quantized values
  int64_t quantize_mismatches = 0;
  int64_t dequantize_mismatches = 0;
  int64_t rejected = 0;
};

QuantizeCheckResult RunQuantizeCheck(int64_t tensors, uint64_t seed, std::ostream& out);

}  // namespace qdiff
