#include "oracles/layer_gemm.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "oracles/layer_products.h"

// The row kernels are built for AVX2 and AVX-512 beside the baseline (oracles/multiversion.h);
// all versions compute the same sums (integers: exact; double: lane-wise in the same order).
#include "oracles/multiversion.h"

namespace qdiff {

namespace {

// int32 lanes hold at most kIntBlock products of |x·w| ≤ 255·255 before they move to int64:
// 32768 · 65025 < 2^31.
constexpr int64_t kIntBlock = 32768;
// Output columns per pass, at most: a pass keeps its sums in registers over the whole row.
constexpr int64_t kWidth = 32;
// Rows of the unrolled input made at a time: a block stays in the L2 cache.
constexpr int64_t kRowBlock = 64;

// Integers, one row times the panel: sums[o] = Σ_j c[j]·panel[j·m + o] (exact), for o in
// [o0, o0 + W); W = kWidth lets the compiler keep the lanes in registers, W = 0 handles a
// narrower tail. For short rows (few products per output), as a depthwise conv has.
template <int64_t W>
QDIFF_INLINE inline void IntPass(const int16_t* c, const int16_t* panel, int64_t k, int64_t m, int64_t o0, int64_t width,
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

// Integers, one row times R rows, each a dot product over j (exact; the compiler turns the int16
// products and their int32 sums into pairwise multiply-adds): sums[r] = Σ_j a[j]·b[r·k + j].
template <int R>
QDIFF_INLINE inline void IntDots(const int16_t* a, const int16_t* b, int64_t k, int64_t* sums) {
  int64_t total[R] = {};
  for (int64_t j0 = 0; j0 < k; j0 += kIntBlock) {
    const int64_t j1 = std::min(k, j0 + kIntBlock);
    int32_t s[R] = {};
    for (int64_t j = j0; j < j1; ++j) {
      for (int r = 0; r < R; ++r) s[r] += int32_t{a[j]} * b[r * k + j];
    }
    for (int r = 0; r < R; ++r) total[r] += s[r];
  }
  for (int r = 0; r < R; ++r) sums[r] = total[r];
}

// Doubles, one row times the panel: sums[o] = ((0 + c[0]·p[0,o]) + c[1]·p[1,o]) + ..., each
// product and sum rounded, j in order, for o in [o0, o0 + W).
template <int64_t W>
QDIFF_INLINE inline void DoublePass(const double* c, const double* panel, int64_t k, int64_t m, int64_t o0,
                                    int64_t width, double* sums) {
  const int64_t n = W ? W : width;
  double lanes[kWidth] = {};
  for (int64_t j = 0; j < k; ++j) {
    const double cj = c[j];
    if (cj == 0.0) continue;  // adds ±0, which changes no sum (layer_gemm.h)
    const double* row = panel + j * m + o0;
    for (int64_t o = 0; o < n; ++o) lanes[o] += cj * row[o];
  }
  for (int64_t o = 0; o < n; ++o) sums[o0 + o] = lanes[o];
}

// The same for four rows c + r·k at once and 16 columns (sums + r·m): the rows share each load
// of the panel. Zero c[j] add ±0, which changes no sum (layer_gemm.h).
QDIFF_INLINE inline void DoublePass4x16(const double* c, const double* panel, int64_t k, int64_t m, int64_t o0,
                                        double* sums) {
  const double *c0 = c, *c1 = c + k, *c2 = c + 2 * k, *c3 = c + 3 * k;
  double l0[16] = {}, l1[16] = {}, l2[16] = {}, l3[16] = {};
  for (int64_t j = 0; j < k; ++j) {
    const double* row = panel + j * m + o0;
    for (int64_t o = 0; o < 16; ++o) {
      l0[o] += c0[j] * row[o];
      l1[o] += c1[j] * row[o];
      l2[o] += c2[j] * row[o];
      l3[o] += c3[j] * row[o];
    }
  }
  for (int64_t o = 0; o < 16; ++o) {
    sums[o0 + o] = l0[o];
    sums[m + o0 + o] = l1[o];
    sums[2 * m + o0 + o] = l2[o];
    sums[3 * m + o0 + o] = l3[o];
  }
}

template <int64_t W>
struct IntPasses {
  QDIFF_INLINE static void Run(const int16_t* c, const int16_t* p, int64_t k, int64_t m, int64_t o0, int64_t w,
                               int64_t* s) {
    IntPass<W>(c, p, k, m, o0, w, s);
  }
};
template <int64_t W>
struct DoublePasses {
  QDIFF_INLINE static void Run(const double* c, const double* p, int64_t k, int64_t m, int64_t o0, int64_t w,
                               double* s) {
    DoublePass<W>(c, p, k, m, o0, w, s);
  }
};
// Passes over the columns o0 ≤ o < m: of 32 columns, then of 16, 8 and 4, then the last 1–3.
template <template <int64_t> class Pass, typename T, typename S>
QDIFF_INLINE inline void AllPasses(const T* c, const T* panel, int64_t k, int64_t m, int64_t o0, S* sums) {
  for (; o0 + 32 <= m; o0 += 32) Pass<32>::Run(c, panel, k, m, o0, 32, sums);
  if (o0 + 16 <= m) Pass<16>::Run(c, panel, k, m, o0, 16, sums), o0 += 16;
  if (o0 + 8 <= m) Pass<8>::Run(c, panel, k, m, o0, 8, sums), o0 += 8;
  if (o0 + 4 <= m) Pass<4>::Run(c, panel, k, m, o0, 4, sums), o0 += 4;
  if (o0 < m) Pass<0>::Run(c, panel, k, m, o0, m - o0, sums);
}

// One row times the panel: sums[o] for o0 ≤ o < m. Each kernel is its own (multi-versioned)
// function, called once per row: inlined into a loop over rows, the compiler vectorises that
// loop instead, through gathers, several times slower.
QDIFF_MULTIVERSION
void RowTimesPanel(const int16_t* c, const int16_t* panel, int64_t k, int64_t m, int64_t o0, int64_t* sums) {
  AllPasses<IntPasses>(c, panel, k, m, o0, sums);
}

QDIFF_MULTIVERSION
void RowTimesPanel(const double* c, const double* panel, int64_t k, int64_t m, int64_t o0, double* sums) {
  AllPasses<DoublePasses>(c, panel, k, m, o0, sums);
}

// Four rows (c + r·k) times the panel's first `wide` columns, 16 at a time (64 lanes fit the
// registers): sums[r·m + o] for o < wide.
QDIFF_MULTIVERSION
void FourRowsTimesPanel(const double* c, const double* panel, int64_t k, int64_t m, int64_t wide, double* sums) {
  for (int64_t o0 = 0; o0 < wide; o0 += 16) DoublePass4x16(c, panel, k, m, o0, sums);
}

// Row i of `rows` ([r][k]) times the panel ([k][m]) is row i of `sums` ([r][m]).
void RowsTimesPanel(const int16_t* rows, int64_t r, const int16_t* panel, int64_t k, int64_t m, int64_t* sums) {
  for (int64_t i = 0; i < r; ++i) RowTimesPanel(rows + i * k, panel, k, m, 0, sums + i * m);
}

void RowsTimesPanel(const double* rows, int64_t r, const double* panel, int64_t k, int64_t m, double* sums) {
  const int64_t wide = m / 16 * 16;
  int64_t i = 0;
  for (; wide > 0 && i + 4 <= r; i += 4) {
    FourRowsTimesPanel(rows + i * k, panel, k, m, wide, sums + i * m);
    for (int64_t q = i; q < i + 4; ++q) RowTimesPanel(rows + q * k, panel, k, m, wide, sums + q * m);
  }
  for (; i < r; ++i) RowTimesPanel(rows + i * k, panel, k, m, 0, sums + i * m);
}

// Integers with rows of at least kDotRow products: sums[i·m + o] = Σ_j a[i·k + j]·b[o·k + j],
// rows of a times rows of b (both [·][k]), four rows of b at a time.
constexpr int64_t kDotRow = 32;
QDIFF_MULTIVERSION
void RowDotRows(const int16_t* a, const int16_t* b, int64_t m, int64_t k, int64_t* sums) {
  int64_t o = 0;
  for (; o + 4 <= m; o += 4) IntDots<4>(a, b + o * k, k, sums + o);
  for (; o < m; ++o) IntDots<1>(a, b + o * k, k, sums + o);
}

void RowsDotRows(const int16_t* a, int64_t r, const int16_t* b, int64_t m, int64_t k, int64_t* sums) {
  for (int64_t i = 0; i < r; ++i) RowDotRows(a + i * k, b, m, k, sums + i * m);
}

// Integers with rows of kDotRow products or more multiply rows by rows; everything else rows by
// a panel.
template <typename T>
constexpr bool UseDots(int64_t k) {
  return std::is_integral_v<T> && k >= kDotRow;
}

// sums[i·m + o] = Σ_j rows[i·k + j]·W[j][o] for i < r, where W is given as `w_rows` ([m][k],
// read by dots) or as `w_panel` ([k][m]), whichever UseDots asks for.
template <typename T, typename S>
void Product(const T* rows, int64_t r, const T* w_rows, const T* w_panel, int64_t k, int64_t m, S* sums) {
  if constexpr (std::is_integral_v<T>) {
    if (UseDots<T>(k)) return RowsDotRows(rows, r, w_rows, m, k, sums);
  }
  RowsTimesPanel(rows, r, w_panel, k, m, sums);
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
    // [N,K] × [OC,K]ᵀ: rows of x by rows of w, or the smaller operand becomes a panel (transposed
    // in cache-sized tiles) and the rows of the other are multiplied by it.
    const int64_t rows = in_shape[0], k = in_shape[1], oc = layer.weight.shape[0];
    if constexpr (std::is_integral_v<T>) {
      if (UseDots<T>(k)) return RowsDotRows(x.data(), rows, w.data(), oc, k, out->data());
    }
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
    if (weight_panel) return RowsTimesPanel(large.data(), r, panel.data(), k, m, out->data());
    sums.resize(static_cast<size_t>(r * m));  // [OC][N]
    RowsTimesPanel(large.data(), r, panel.data(), k, m, sums.data());
    for (int64_t o = 0; o < r; ++o)
      for (int64_t n = 0; n < m; ++n) (*out)[n * oc + o] = sums[o * m + n];
    return;
  }
  const ConvGeometry g = MakeConvGeometry(layer, in_shape, out_shape);
  const int64_t taps = g.k[0] * g.k[1] * g.k[2];
  const int64_t positions = g.out[0] * g.out[1] * g.out[2];
  const int64_t k = g.icpg * taps;
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
  // Few output channels per group (depthwise) and short rows: the unrolled input is the panel,
  // (ic·taps + t) × positions, and each output channel's weight row times it gives that
  // channel's outputs, which are contiguous. Otherwise the input is unrolled into rows, one per
  // output position (im2col), kRowBlock positions at a time, and each row times the weights.
  const bool input_panel = !UseDots<T>(k) && g.ocpg < 16 && positions > g.ocpg;
  const int64_t groups = g.c_out / g.ocpg;
  std::vector<T> wmat(static_cast<size_t>(k * g.ocpg)), wrows(wmat.size());
  for (int64_t group = 0; group < groups; ++group) {
    // wmat[(ic·taps + t)·ocpg + ocg] = wrows[ocg·K + ic·taps + t] = w(group, ic, ocg, t)
    for (int64_t ic = 0; ic < g.icpg; ++ic) {
      int64_t t[3], tap = 0;
      for (t[0] = 0; t[0] < g.k[0]; ++t[0])
        for (t[1] = 0; t[1] < g.k[1]; ++t[1])
          for (t[2] = 0; t[2] < g.k[2]; ++t[2], ++tap)
            for (int64_t ocg = 0; ocg < g.ocpg; ++ocg) {
              const T v = w[g.WeightIndex(group, ic, ocg, t)];
              wmat[(ic * taps + tap) * g.ocpg + ocg] = v;
              wrows[ocg * k + ic * taps + tap] = v;
            }
    }
    if (input_panel) {
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
        // the output channels of the group, [ocpg][positions], are contiguous in out
        RowsTimesPanel(wrows.data(), g.ocpg, panel.data(), k, positions,
                       out->data() + (n * g.c_out + group * g.ocpg) * positions);
      }
      continue;
    }
    col.resize(static_cast<size_t>(std::min(positions, kRowBlock) * k));
    sums.resize(static_cast<size_t>(std::min(positions, kRowBlock) * g.ocpg));
    for (int64_t n = 0; n < g.batch; ++n) {
      for (int64_t p0 = 0; p0 < positions; p0 += kRowBlock) {
        const int64_t rows = std::min(kRowBlock, positions - p0);
        // col[(p − p0)·K + ic·taps + t] = x(n, group·icpg + ic, input position of tap t at output p), or 0
        for (int64_t p = p0; p < p0 + rows; ++p) {
          T* row = col.data() + (p - p0) * k;
          const int64_t* offs = offsets.data() + p * taps;
          for (int64_t ic = 0; ic < g.icpg; ++ic, row += taps) {
            const T* channel = x.data() + (n * g.c_in + group * g.icpg + ic) * in_spatial;
            for (int64_t t = 0; t < taps; ++t) row[t] = offs[t] < 0 ? T{0} : channel[offs[t]];
          }
        }
        Product(col.data(), rows, wrows.data(), wmat.data(), k, g.ocpg, sums.data());
        const int64_t base = (n * g.c_out + group * g.ocpg) * positions;
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t ocg = 0; ocg < g.ocpg; ++ocg) (*out)[base + ocg * positions + p0 + i] = sums[i * g.ocpg + ocg];
      }
    }
  }
}

bool AllFinite(const std::vector<double>& v) {
  bool finite = true;  // no early exit: the loop vectorises
  for (double d : v) finite &= std::abs(d) <= std::numeric_limits<double>::max();
  return finite;
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
