#include "oracles/kernel_accumulators.h"

#include <algorithm>

#include "oracles/layer_products.h"

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
  // Convolutions of any rank: K order (taps row-major, ic innermost); a tap that reads no input
  // element (padding, and for a transposed conv the taps no input element scatters to) is padded.
  const ConvGeometry g = MakeConvGeometry(layer, x.shape, out_shape);
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t oc = 0; oc < g.c_out; ++oc) {
      const int64_t group = oc / g.ocpg, ocg = oc % g.ocpg;
      int64_t o[3];
      for (o[0] = 0; o[0] < g.out[0]; ++o[0])
        for (o[1] = 0; o[1] < g.out[1]; ++o[1])
          for (o[2] = 0; o[2] < g.out[2]; ++o[2]) {
            terms.clear();
            int64_t t[3], i[3];
            for (t[0] = 0; t[0] < g.k[0]; ++t[0])
              for (t[1] = 0; t[1] < g.k[1]; ++t[1])
                for (t[2] = 0; t[2] < g.k[2]; ++t[2]) {
                  bool padded = false;
                  for (int d = 0; d < 3; ++d) padded |= (i[d] = g.InputPos(d, o[d], t[d])) < 0;
                  for (int64_t ic = 0; ic < g.icpg; ++ic) {
                    const int32_t xv =
                        padded ? z_x : x.values[g.InIndex(n, group * g.icpg + ic, i)];
                    terms.push_back({xv, w.values[g.WeightIndex(group, ic, ocg, t)], padded});
                  }
                }
            reduce(g.OutIndex(n, oc, o),
                   model == AccumulatorModel::kSat16ChannelPairs ? g.icpg : 0);
          }
    }
  return acc;
}

}  // namespace qdiff
