// FloatOracle: what the forum user computed by hand. Dequantize input and weights the way
// LibTorch's dequantize() does, compute the layer in float64 with the float bias, and quantize
// with round half to even: y = clamp(RNE(real / s_y) + z_y), ReLU as a lower bound z_y.
#pragma once

#include <cstdint>
#include <vector>

#include "oracles/model.h"

namespace qdiff {

// Dequantized value of element `index` of a quantized tensor, as LibTorch's dequantize():
// per-tensor f32(f32(s)·f32(q − z)) (DequantScalar); per-channel f32(f64(f32(q) − z)·s) (double,
// docs/semantics.md#dequantize).
float DequantizeElement(const QTensor& t, int64_t index);
// DequantizeElement of every element, in order.
std::vector<double> DequantizedValues(const QTensor& t);

struct FloatLayerResult {
  std::vector<double> real;   // float64 layer output before quantization (bias included)
  std::vector<int32_t> out;   // quantized output
};

// Runs every layer, each fed with the oracle's own previous quantized output.
std::vector<FloatLayerResult> RunFloatOracle(const Model& model);

}  // namespace qdiff
