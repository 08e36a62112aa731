// The products of a convolution or linear layer (layer_products.h) summed as a lowered GEMM:
// per (batch, group) the input is unrolled into a matrix of output positions × (input channel,
// tap) (im2col; a tap that reads padding or that no input reaches holds 0), the weights into
// (input channel, tap) × output channel, and each output position is one row times that panel.
// Every output element receives its nonzero products in ForEachProduct's order, one addition at
// a time, so the sums equal ForEachProduct's bit for bit in every type:
//   integers: exactly;
//   double:   the same roundings in the same order; the zeros it adds in between change nothing
//             (a sum that starts at +0 never becomes −0, and s + (±0) = s for every other s),
//             as long as every value is finite (otherwise LayerProductSums falls back to the loop).
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
