#include "oracles/layer_gemm.h"

#include <algorithm>
#include <cmath>

#include "oracles/layer_products.h"

// The row kernels are built for AVX2 and AVX-512 beside the baseline and chosen at load time
// (GCC function multi-versioning); all versions compute the same sums (integers: exact; double:
// lane-wise in the same order, and this library is built with -ffp-contract=off).
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define QDIFF_MULTIVERSION __attribute__((target_clones("default", "avx2", "arch=x86-64-v4")))
#else
#define QDIFF_MULTIVERSION
#endif

namespace qdiff {

namespace {

// int32 lanes hold at most kIntBlock products of |x·w| ≤ 255·255 before they move to int64:
// 32768 · 65025 < 2^31.
constexpr int64_t kIntBlock = 32768;
// Output columns per pass, at most: a pass keeps its sums in registers over the whole row.
constexpr int64_t kWidth = 32;

// sums[o] = Σ_j c[j]·panel[j·m + o] (exact), for o in [o0, o0 + W), j in order; W = kWidth
// lets the compiler keep the lanes in registers, W = 0 handles a narrower tail.
template <int64_t W>
inline void IntPass(const int16_t* c, const int16_t* panel, int64_t k, int64_t m, int64_t o0, int64_t width,
                    int64_t* sums) {
  const int64_t n = W ? W : width;
  int64_t total[kWidth] = {};
  for (int64_t j0 = 0; j0 < k; j0 += kIntBlock) {
    int32_t lanes[kWidth] = {};
    const int64_t j1 = std::min(k, j0 + kIntBlock);
    for (int64_t j = j0; j < j1; ++j) {
      const int32_t cj = c[j];
      if (cj == 0) continue;
      const int16_t* row = panel + j * m + o0;
      for (int64_t o = 0; o < n; ++o) lanes[o] += cj * int32_t{row[o]};
    }
    for (int64_t o = 0; o < n; ++o) total[o] += lanes[o];
  }
  for (int64_t o = 0; o < n; ++o) sums[o0 + o] = total[o];
}

// The same in double: (((0 + c[0]·p[0,o]) + c[1]·p[1,o]) + ...), each product and sum rounded;
// zero c[j] are skipped (adding ±0 changes no sum, see layer_gemm.h).
template <int64_t W>
inline void DoublePass(const double* c, const double* panel, int64_t k, int64_t m, int64_t o0, int64_t width,
                       double* sums) {
  const int64_t n = W ? W : width;
  double lanes[kWidth] = {};
  for (int64_t j = 0; j < k; ++j) {
    const double cj = c[j];
    if (cj == 0.0) continue;
    const double* row = panel + j * m + o0;
    for (int64_t o = 0; o < n; ++o) lanes[o] += cj * row[o];
  }
  for (int64_t o = 0; o < n; ++o) sums[o0 + o] = lanes[o];
}

// sums[o] = Σ_j c[j]·panel[j·m + o] for every o < m: passes of 32 columns, then of 16, 8 and 4,
// then the last 1–3.
template <typename T, typename S, template <int64_t> class Pass>
inline void AllPasses(const T* c, const T* panel, int64_t k, int64_t m, S* sums) {
  int64_t o0 = 0;
  for (; o0 + 32 <= m; o0 += 32) Pass<32>::Run(c, panel, k, m, o0, 32, sums);
  if (o0 + 16 <= m) Pass<16>::Run(c, panel, k, m, o0, 16, sums), o0 += 16;
  if (o0 + 8 <= m) Pass<8>::Run(c, panel, k, m, o0, 8, sums), o0 += 8;
  if (o0 + 4 <= m) Pass<4>::Run(c, panel, k, m, o0, 4, sums), o0 += 4;
  if (o0 < m) Pass<0>::Run(c, panel, k, m, o0, m - o0, sums);
}
template <int64_t W>
struct IntPasses {
  static void Run(const int16_t* c, const int16_t* p, int64_t k, int64_t m, int64_t o0, int64_t w, int64_t* s) {
    IntPass<W>(c, p, k, m, o0, w, s);
  }
};
template <int64_t W>
struct DoublePasses {
  static void Run(const double* c, const double* p, int64_t k, int64_t m, int64_t o0, int64_t w, double* s) {
    DoublePass<W>(c, p, k, m, o0, w, s);
  }
};

QDIFF_MULTIVERSION
void RowTimesPanel(const int16_t* c, const int16_t* panel, int64_t k, int64_t m, int64_t* sums) {
  AllPasses<int16_t, int64_t, IntPasses>(c, panel, k, m, sums);
}

QDIFF_MULTIVERSION
void RowTimesPanel(const double* c, const double* panel, int64_t k, int64_t m, double* sums) {
  AllPasses<double, double, DoublePasses>(c, panel, k, m, sums);
}

// The lowered GEMM of layer_gemm.h; S is the sum type (int64_t or double).
template <typename T, typename S>
void LoweredProductSums(const Layer& layer, const std::vector<int64_t>& in_shape,
                        const std::vector<int64_t>& out_shape, const std::vector<T>& x,
                        const std::vector<T>& w, std::vector<S>* out) {
  out->assign(static_cast<size_t>(ShapeElements(out_shape)), S{0});
  std::vector<T> panel, col;
  std::vector<S> sums;
  if (layer.op == OpKind::kLinear) {
    // [N,K] × [OC,K]ᵀ. The smaller operand becomes the panel (transposed in cache-sized tiles),
    // the rows of the other are multiplied by it: x rows × weight panel, or weight rows × x panel.
    const int64_t rows = in_shape[0], k = in_shape[1], oc = layer.weight.shape[0];
    const bool weight_panel = oc <= rows;
    const std::vector<T>& small = weight_panel ? w : x;
    const std::vector<T>& large = weight_panel ? x : w;
    const int64_t m = weight_panel ? oc : rows, r = weight_panel ? rows : oc;
    panel.resize(static_cast<size_t>(k * m));
    constexpr int64_t kTile = 32;
    for (int64_t o0 = 0; o0 < m; o0 += kTile)
      for (int64_t j0 = 0; j0 < k; j0 += kTile)
        for (int64_t o = o0; o < std::min(m, o0 + kTile); ++o)
          for (int64_t j = j0; j < std::min(k, j0 + kTile); ++j) panel[j * m + o] = small[o * k + j];
    sums.resize(m);
    for (int64_t i = 0; i < r; ++i) {
      RowTimesPanel(large.data() + i * k, panel.data(), k, m, sums.data());
      // out[n·OC + o]: row i is input row n (weight panel) or output channel o (input panel)
      for (int64_t j = 0; j < m; ++j) (*out)[weight_panel ? i * oc + j : j * oc + i] = sums[j];
    }
    return;
  }
  const ConvGeometry g = MakeConvGeometry(layer, in_shape, out_shape);
  const int64_t taps = g.k[0] * g.k[1] * g.k[2];
  const int64_t positions = g.out[0] * g.out[1] * g.out[2];
  const int64_t k = g.icpg * taps;
  sums.resize(g.ocpg);
  // offsets[p·taps + t]: flat spatial index of the input position tap t of output position p
  // reads, or −1 (padding, or no input reaches it); the same for every batch and channel.
  const int64_t in_spatial = g.in[0] * g.in[1] * g.in[2];
  std::vector<int64_t> offsets(static_cast<size_t>(positions * taps));
  {
    int64_t o[3], p = 0;
    for (o[0] = 0; o[0] < g.out[0]; ++o[0])
      for (o[1] = 0; o[1] < g.out[1]; ++o[1])
        for (o[2] = 0; o[2] < g.out[2]; ++o[2], ++p) {
          int64_t t[3], tap = 0;
          for (t[0] = 0; t[0] < g.k[0]; ++t[0])
            for (t[1] = 0; t[1] < g.k[1]; ++t[1])
              for (t[2] = 0; t[2] < g.k[2]; ++t[2], ++tap) {
                const int64_t i0 = g.InputPos(0, o[0], t[0]), i1 = g.InputPos(1, o[1], t[1]),
                              i2 = g.InputPos(2, o[2], t[2]);
                offsets[p * taps + tap] = i0 < 0 || i1 < 0 || i2 < 0 ? -1 : (i0 * g.in[1] + i1) * g.in[2] + i2;
              }
        }
  }
  // Few output channels per group (depthwise): the unrolled input is the panel, (ic·taps + t) ×
  // positions, and each output channel's weight row times it gives that channel's outputs, which
  // are contiguous. Otherwise the weights are the panel and each output position is one row.
  const bool input_panel = g.ocpg < 16 && positions > g.ocpg;
  const int64_t groups = g.c_out / g.ocpg;
  for (int64_t group = 0; group < groups; ++group) {
    // wmat[(ic·taps + t)·ocpg + ocg] = w(group, ic, ocg, t)
    std::vector<T>& wmat = input_panel ? col : panel;
    wmat.resize(static_cast<size_t>(k * g.ocpg));
    for (int64_t ic = 0; ic < g.icpg; ++ic) {
      int64_t t[3], tap = 0;
      for (t[0] = 0; t[0] < g.k[0]; ++t[0])
        for (t[1] = 0; t[1] < g.k[1]; ++t[1])
          for (t[2] = 0; t[2] < g.k[2]; ++t[2], ++tap)
            for (int64_t ocg = 0; ocg < g.ocpg; ++ocg) {
              wmat[(ic * taps + tap) * g.ocpg + ocg] = w[g.WeightIndex(group, ic, ocg, t)];
            }
    }
    if (input_panel) {  // weight rows: wrows[ocg·K + j]
      std::vector<T> wrows(static_cast<size_t>(k * g.ocpg));
      for (int64_t j = 0; j < k; ++j)
        for (int64_t ocg = 0; ocg < g.ocpg; ++ocg) wrows[ocg * k + j] = wmat[j * g.ocpg + ocg];
      panel.resize(static_cast<size_t>(k * positions));
      for (int64_t n = 0; n < g.batch; ++n) {
        // panel[(ic·taps + t)·positions + p] = x(n, group·icpg + ic, tap t of output p), or 0
        for (int64_t ic = 0; ic < g.icpg; ++ic) {
          const T* channel = x.data() + (n * g.c_in + group * g.icpg + ic) * in_spatial;
          for (int64_t t = 0; t < taps; ++t) {
            T* row = panel.data() + (ic * taps + t) * positions;
            for (int64_t p = 0; p < positions; ++p) {
              const int64_t off = offsets[p * taps + t];
              row[p] = off < 0 ? T{0} : channel[off];
            }
          }
        }
        for (int64_t ocg = 0; ocg < g.ocpg; ++ocg) {
          S* dst = out->data() + (n * g.c_out + group * g.ocpg + ocg) * positions;
          RowTimesPanel(wrows.data() + ocg * k, panel.data(), k, positions, dst);
        }
      }
      continue;
    }
    col.resize(static_cast<size_t>(positions * k));
    for (int64_t n = 0; n < g.batch; ++n) {
      // col[p·K + ic·taps + t] = x(n, group·icpg + ic, input position of tap t at output p), or 0
      for (int64_t p = 0; p < positions; ++p) {
        T* row = col.data() + p * k;
        const int64_t* offs = offsets.data() + p * taps;
        for (int64_t ic = 0; ic < g.icpg; ++ic, row += taps) {
          const T* channel = x.data() + (n * g.c_in + group * g.icpg + ic) * in_spatial;
          for (int64_t t = 0; t < taps; ++t) row[t] = offs[t] < 0 ? T{0} : channel[offs[t]];
        }
      }
      for (int64_t p = 0; p < positions; ++p) {
        RowTimesPanel(col.data() + p * k, panel.data(), k, g.ocpg, sums.data());
        const int64_t base = (n * g.c_out + group * g.ocpg) * positions + p;
        for (int64_t ocg = 0; ocg < g.ocpg; ++ocg) (*out)[base + ocg * positions] = sums[ocg];
      }
    }
  }
}

bool AllFinite(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double d) { return std::isfinite(d); });
}

}  // namespace

void LayerProductSums(const Layer& layer, const std::vector<int64_t>& in_shape,
                      const std::vector<int64_t>& out_shape, const std::vector<int16_t>& x,
                      const std::vector<int16_t>& w, std::vector<int64_t>* out) {
  LoweredProductSums(layer, in_shape, out_shape, x, w, out);
}

void LayerProductSums(const Layer& layer, const std::vector<int64_t>& in_shape,
                      const std::vector<int64_t>& out_shape, const std::vector<double>& x,
                      const std::vector<double>& w, std::vector<double>* out) {
  if (AllFinite(x) && AllFinite(w)) return LoweredProductSums(layer, in_shape, out_shape, x, w, out);
  out->assign(static_cast<size_t>(ShapeElements(out_shape)), 0.0);  // 0·inf must stay NaN
  ForEachProduct(layer, in_shape, out_shape, [&](int64_t o, int64_t i, int64_t k) { (*out)[o] += x[i] * w[k]; });
}

}  // namespace qdiff
