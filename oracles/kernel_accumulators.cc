#include "oracles/kernel_accumulators.h"

#include <algorithm>

namespace qdiff {

namespace {

int64_t Sat16(int64_t v) { return std::clamp<int64_t>(v, -32768, 32767); }

}  // namespace

const char* AccumulatorModelName(AccumulatorModel m) {
  switch (m) {
    case AccumulatorModel::kExact: return "exact";
    case AccumulatorModel::kSat16ChannelPairs: return "sat16_channel_pairs";
    case AccumulatorModel::kSat16FlatKPairs: return "sat16_flat_k_pairs";
  }
  return "exact";
}

int64_t OnednnGemmKBlock(int64_t k) {
  constexpr int64_t kBkTraditional = 256, kBk = 384;
  if (k <= kBkTraditional) return k;
  if (k < 2 * kBk) return (k + 1) / 2;
  return kBk;
}

int64_t WrapToInt32(int64_t v) {
  return static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(v))));
}

std::vector<int64_t> KernelAccumulators(const Layer& layer, const QTensor& x,
                                        const std::vector<int64_t>& out_shape,
                                        AccumulatorModel model) {
  std::vector<int64_t> acc(static_cast<size_t>(ShapeElements(out_shape)), 0);
  const QTensor& w = layer.weight;
  const int32_t z_x = x.zero_points[0];
  // (raw x, w) products of one output element in the kernel's K order; a padded position is
  // flagged so that each model can treat it its own way.
  struct Term {
    int32_t x;
    int32_t w;
    bool padded;
  };
  std::vector<Term> terms;
  auto reduce = [&](int64_t o, int64_t pair_break) {
    // pair_break > 0: pairs never straddle a multiple of pair_break (a tap's channels, a K block)
    int64_t raw = 0, w_sum = 0;
    for (size_t i = 0; i < terms.size();) {
      const bool pair = i + 1 < terms.size() &&
                        (pair_break <= 0 || static_cast<int64_t>((i + 1) % pair_break) != 0);
      int64_t p = 0;
      for (size_t j = i; j < i + (pair ? 2 : 1); ++j) {
        if (terms[j].padded && model == AccumulatorModel::kSat16ChannelPairs) continue;
        p += int64_t{terms[j].padded ? z_x : terms[j].x} * terms[j].w;
        w_sum += terms[j].w;
      }
      raw += model == AccumulatorModel::kExact ? p : Sat16(p);
      i += pair ? 2 : 1;
    }
    acc[o] = WrapToInt32(raw - int64_t{z_x} * w_sum);
  };

  if (layer.op == OpKind::kLinear) {
    const int64_t rows = x.shape[0], k_dim = x.shape[1], oc_dim = w.shape[0];
    for (int64_t n = 0; n < rows; ++n)
      for (int64_t oc = 0; oc < oc_dim; ++oc) {
        terms.clear();
        for (int64_t k = 0; k < k_dim; ++k) {
          terms.push_back({x.values[n * k_dim + k], w.values[oc * k_dim + k], false});
        }
        reduce(n * oc_dim + oc,
               model == AccumulatorModel::kSat16ChannelPairs ? OnednnGemmKBlock(k_dim) : 0);
      }
    return acc;
  }
  const Conv2dAttrs& a = layer.conv;
  const int64_t c_in = x.shape[1], h_in = x.shape[2], w_in = x.shape[3];
  const int64_t c_out = out_shape[1], h_out = out_shape[2], w_out = out_shape[3];
  const int64_t kh_dim = w.shape[2], kw_dim = w.shape[3];
  const int64_t icpg = c_in / a.groups, ocpg = c_out / a.groups;
  for (int64_t n = 0; n < out_shape[0]; ++n)
    for (int64_t oc = 0; oc < c_out; ++oc)
      for (int64_t oh = 0; oh < h_out; ++oh)
        for (int64_t ow = 0; ow < w_out; ++ow) {
          terms.clear();
          for (int64_t kh = 0; kh < kh_dim; ++kh)  // K order: (kh, kw, ic), ic innermost
            for (int64_t kw = 0; kw < kw_dim; ++kw) {
              const int64_t ih = oh * a.stride[0] - a.padding[0] + kh * a.dilation[0];
              const int64_t iw = ow * a.stride[1] - a.padding[1] + kw * a.dilation[1];
              const bool padded = ih < 0 || ih >= h_in || iw < 0 || iw >= w_in;
              for (int64_t ic = 0; ic < icpg; ++ic) {
                const int64_t c = (oc / ocpg) * icpg + ic;
                const int32_t xv = padded ? z_x : x.values[((n * c_in + c) * h_in + ih) * w_in + iw];
                terms.push_back({xv, w.values[((oc * icpg + ic) * kh_dim + kh) * kw_dim + kw], padded});
              }
            }
          reduce(((n * c_out + oc) * h_out + oh) * w_out + ow,
                 model == AccumulatorModel::kSat16ChannelPairs ? icpg : 0);
        }
  return acc;
}

}  // namespace qdiff
