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
  // float64 layer output before quantization (bias included), for the layers other than
  // conv/linear; those take FloatOracleReal, one element at a time.
  std::vector<double> real;
  std::vector<int32_t> out;   // quantized output
};

// Runs every layer, each fed with the oracle's own previous quantized output. A conv/linear
// layer's float64 sum Σ x̂·ŵ in product order differs from the exact s_x·s_w·acc (acc the exact
// integer accumulator) by at most s_x·s_w·A·(2^-22 + K·2^-52), A = Σ|x − z_x||w − z_w|
// ≤ K·max|x − z_x|·max|w − z_w| over the channel's K products: the binary32 rounding of each
// dequantized operand (2^-24 each) and K double additions. Where (s_x·s_w·acc + b)/s_y lies
// farther than that bound (plus the double roundings of both computations) from a half-integer,
// it rounds to the same integer as the float64 sum, and the sum is not formed; nearer, the
// element's products are summed in order (all of the layer's when more than one element in eight
// needs it). `known_acc[l]`, when given, holds the exact accumulators of layer l, which must read
// only graph inputs (the pipelines have them).
std::vector<FloatLayerResult> RunFloatOracle(const Model& model,
                                             const std::vector<const std::vector<int64_t>*>& known_acc = {});

// The float64 value before quantization of output `element` of layer `layer`, as RunFloatOracle
// computes it (`results` is its result for `model`).
double FloatOracleReal(const Model& model, const std::vector<FloatLayerResult>& results, size_t layer,
                       int64_t element);

}  // namespace qdiff
