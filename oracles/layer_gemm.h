// The products of a convolution or linear layer (layer_products.h) summed as a lowered GEMM:
// per (batch, group) the input is unrolled into rows, one per output position, of (input
// channel, tap) values (im2col, 64 positions at a time; a tap that reads padding or that no input
// reaches holds 0), and each row is multiplied by the weights: integers as dot products with each
// output channel's weight row (the compiler makes pairwise int16 multiply-adds of them), doubles
// by a panel of (input channel, tap) × output channel, four rows at a time. Depthwise-like layers
// (few output channels per group, rows shorter than 32) unroll the input into a panel instead
// and multiply each weight row by it. Every output element receives its nonzero products in
// ForEachProduct's order, so the sums equal ForEachProduct's bit for bit in every type:
//   integers: exactly (in any order);
//   double:   one addition at a time, the same roundings in the same order; the zeros it adds in
//             between change nothing (a sum that starts at +0 never becomes −0, and s + (±0) = s
//             for every other s), as long as every value is finite (otherwise LayerProductSums
//             falls back to the loop).
#pragma once

#include <cstdint>
#include <vector>

#include "oracles/model.h"

namespace qdiff {

// out[o] = Σ x[i]·w[k] over the products (o, i, k) of ForEachProduct(layer, in_shape, out_shape),
// in that order, out resized to the output's element count. x is indexed like the layer input,
// w like layer.weight.
//   int16 operands with |x|, |w| ≤ 255 (zero points already subtracted): exact int64 sums;
void LayerProductSums(const Layer& layer, const std::vector<int64_t>& in_shape,
                      const std::vector<int64_t>& out_shape, const std::vector<int16_t>& x,
                      const std::vector<int16_t>& w, std::vector<int64_t>* out);
//   double operands: each product rounded, then added in order.
void LayerProductSums(const Layer& layer, const std::vector<int64_t>& in_shape,
                      const std::vector<int64_t>& out_shape, const std::vector<double>& x,
                      const std::vector<double>& w, std::vector<double>* out);

}  // namespace qdiff
