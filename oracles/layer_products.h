// The index structure of a conv2d or linear layer, shared by the integer kernels and the float
// oracle: which input and weight elements multiply into which output element.
#pragma once

#include <cstdint>
#include <vector>

#include "oracles/model.h"

namespace qdiff {

// Calls fn(out_index, in_index, weight_index) once for every product of the layer, with flat
// row-major indices (NCHW input/output, OIHW weight; linear: [N,K] x [OC,K] → [N,OC]).
// Padded input positions are skipped: they hold the real value 0 (quantized z_x) in every backend.
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
  const Conv2dAttrs& a = layer.conv;
  const int64_t batch = in_shape[0], c_in = in_shape[1], h_in = in_shape[2], w_in = in_shape[3];
  const int64_t c_out = out_shape[1], h_out = out_shape[2], w_out = out_shape[3];
  const int64_t kh_dim = w[2], kw_dim = w[3];
  const int64_t ic_per_group = c_in / a.groups, oc_per_group = c_out / a.groups;
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t oc = 0; oc < c_out; ++oc) {
      const int64_t group = oc / oc_per_group;
      for (int64_t oh = 0; oh < h_out; ++oh)
        for (int64_t ow = 0; ow < w_out; ++ow) {
          const int64_t out_index = ((n * c_out + oc) * h_out + oh) * w_out + ow;
          for (int64_t ic = 0; ic < ic_per_group; ++ic)
            for (int64_t kh = 0; kh < kh_dim; ++kh) {
              const int64_t ih = oh * a.stride[0] - a.padding[0] + kh * a.dilation[0];
              if (ih < 0 || ih >= h_in) continue;
              for (int64_t kw = 0; kw < kw_dim; ++kw) {
                const int64_t iw = ow * a.stride[1] - a.padding[1] + kw * a.dilation[1];
                if (iw < 0 || iw >= w_in) continue;
                const int64_t c = group * ic_per_group + ic;
                fn(out_index, ((n * c_in + c) * h_in + ih) * w_in + iw,
                   ((oc * ic_per_group + ic) * kh_dim + kh) * kw_dim + kw);
              }
            }
        }
    }
}

// Output channel of flat output index `index` (dimension 1 of the output).
inline int64_t OutputChannelOf(const std::vector<int64_t>& out_shape, int64_t index) {
  int64_t inner = 1;
  for (size_t d = 2; d < out_shape.size(); ++d) inner *= out_shape[d];
  return (index / inner) % out_shape[1];
}

}  // namespace qdiff
