// The index structure of a convolution (conv1d/2d/3d, conv_transpose2d) or linear layer, shared
// by the integer kernels, the kernel-accumulator models and the float oracle: which input and
// weight elements multiply into which output element.
#pragma once

#include <cstdint>
#include <vector>

#include "oracles/model.h"

namespace qdiff {

// The index arithmetic of a convolution of any rank, with its spatial dimensions right-aligned
// into three (conv1d L → [1, 1, L], conv2d [H, W] → [1, H, W]): leading dimensions of extent 1
// with stride 1 and no padding add nothing, so every convolution runs through one loop nest.
struct ConvGeometry {
  bool transposed = false;
  int64_t batch = 0, c_in = 0, c_out = 0, icpg = 0, ocpg = 0;  // per group: ic, oc
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, k[3] = {1, 1, 1};
  int64_t stride[3] = {1, 1, 1}, pad[3] = {0, 0, 0}, dil[3] = {1, 1, 1};

  int64_t InIndex(int64_t n, int64_t c, const int64_t (&p)[3]) const {
    return (((n * c_in + c) * in[0] + p[0]) * in[1] + p[1]) * in[2] + p[2];
  }
  int64_t OutIndex(int64_t n, int64_t oc, const int64_t (&p)[3]) const {
    return (((n * c_out + oc) * out[0] + p[0]) * out[1] + p[1]) * out[2] + p[2];
  }
  // Weight element of tap t between input channel ic and output channel oc (both 0-based within
  // their group g): [OC, C/g, k...] for a conv, [C, OC/g, k...] for a transposed conv.
  int64_t WeightIndex(int64_t g, int64_t ic, int64_t oc, const int64_t (&t)[3]) const {
    const int64_t row = transposed ? (g * icpg + ic) * ocpg + oc : (g * ocpg + oc) * icpg + ic;
    return ((row * k[0] + t[0]) * k[1] + t[1]) * k[2] + t[2];
  }
  // Input position that tap t of output position o reads along dimension d, or -1 when there is
  // none (padding; for a transposed conv also the taps no input element scatters to).
  //   conv:       i = o·s − p + t·d
  //   transposed: output o receives input i through tap t when o = i·s − p + t·d, so
  //               i = (o + p − t·d) / s, which must be an exact quotient inside the input.
  int64_t InputPos(int dim, int64_t o, int64_t t) const {
    if (!transposed) {
      const int64_t i = o * stride[dim] - pad[dim] + t * dil[dim];
      return i >= 0 && i < in[dim] ? i : -1;
    }
    const int64_t num = o + pad[dim] - t * dil[dim];
    if (num < 0 || num % stride[dim] != 0) return -1;
    const int64_t i = num / stride[dim];
    return i < in[dim] ? i : -1;
  }
};

inline ConvGeometry MakeConvGeometry(const Layer& layer, const std::vector<int64_t>& in_shape,
                                     const std::vector<int64_t>& out_shape) {
  ConvGeometry g;
  const ConvAttrs& a = layer.conv;
  const int rank = ConvSpatialDims(layer.op);
  g.transposed = IsTransposedConv(layer.op);
  g.batch = in_shape[0];
  g.c_in = in_shape[1];
  g.c_out = out_shape[1];
  g.icpg = g.c_in / a.groups;
  g.ocpg = g.c_out / a.groups;
  for (int d = 0; d < rank; ++d) {
    const int at = 3 - rank + d;  // right-aligned
    g.in[at] = in_shape[2 + d];
    g.out[at] = out_shape[2 + d];
    g.k[at] = layer.weight.shape[2 + d];
    g.stride[at] = a.stride[d];
    g.pad[at] = a.padding[d];
    g.dil[at] = a.dilation[d];
  }
  return g;
}

// Calls fn(out_index, in_index, weight_index) once for every product of the layer, with flat
// row-major indices (NC[D]HW / NCL input and output, weight as Layer documents it; linear:
// [N,K] x [OC,K] → [N,OC]). Padded input positions are skipped: they hold the real value 0
// (quantized z_x) in every backend. A transposed conv is computed as the gather equivalent of
// its scatter: input element i reaches output o = i·s − p + t·d through tap t (ConvGeometry::
// InputPos), and output positions no input reaches (output_padding, stride gaps) get no product.
// For one output element the products come in the order (input channel, taps row-major).
// `out_shape` must be LayerOutputShape(layer, in_shape).
template <typename Fn>
void ForEachProduct(const Layer& layer, const std::vector<int64_t>& in_shape,
                    const std::vector<int64_t>& out_shape, Fn&& fn) {
  const std::vector<int64_t>& w = layer.weight.shape;
  if (layer.op == OpKind::kLinear) {
    const int64_t n_rows = in_shape[0], k_dim = in_shape[1], oc_dim = w[0];
    for (int64_t n = 0; n < n_rows; ++n)
      for (int64_t oc = 0; oc < oc_dim; ++oc)
        for (int64_t k = 0; k < k_dim; ++k) fn(n * oc_dim + oc, n * k_dim + k, oc * k_dim + k);
    return;
  }
  const ConvGeometry g = MakeConvGeometry(layer, in_shape, out_shape);
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t oc = 0; oc < g.c_out; ++oc) {
      const int64_t group = oc / g.ocpg, ocg = oc % g.ocpg;
      int64_t o[3];
      for (o[0] = 0; o[0] < g.out[0]; ++o[0])
        for (o[1] = 0; o[1] < g.out[1]; ++o[1])
          for (o[2] = 0; o[2] < g.out[2]; ++o[2]) {
            const int64_t out_index = g.OutIndex(n, oc, o);
            for (int64_t ic = 0; ic < g.icpg; ++ic) {
              const int64_t c = group * g.icpg + ic;
              int64_t t[3], i[3];
              for (t[0] = 0; t[0] < g.k[0]; ++t[0]) {
                if ((i[0] = g.InputPos(0, o[0], t[0])) < 0) continue;
                for (t[1] = 0; t[1] < g.k[1]; ++t[1]) {
                  if ((i[1] = g.InputPos(1, o[1], t[1])) < 0) continue;
                  for (t[2] = 0; t[2] < g.k[2]; ++t[2]) {
                    if ((i[2] = g.InputPos(2, o[2], t[2])) < 0) continue;
                    fn(out_index, g.InIndex(n, c, i), g.WeightIndex(group, ic, ocg, t));
                  }
                }
              }
            }
          }
    }
}

// Output channel of flat output index `index` (dimension 1 of the output, any rank ≥ 2).
inline int64_t OutputChannelOf(const std::vector<int64_t>& out_shape, int64_t index) {
  int64_t inner = 1;
  for (size_t d = 2; d < out_shape.size(); ++d) inner *= out_shape[d];
  return (index / inner) % out_shape[1];
}

}  // namespace qdiff
