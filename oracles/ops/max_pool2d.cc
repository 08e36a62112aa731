// max_pool2d — at::max_pool2d on quantized tensors (cpu/Pooling.cpp): the exact max, which is the
// path of every kernel, QNNPACK's edge-clamped taps (a LibTorch bug) and the single-pixel NHWC bug
// recipe. Shared pooling helpers and the kernel map: pool_common.h.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "oracles/float_oracle.h"
#include "oracles/ops/libtorch_float.h"
#include "oracles/ops/op_recipe.h"
#include "oracles/ops/pool_common.h"

namespace qdiff {

namespace {

// Taps of one dilated window along one dimension: o·s − p + t·dil for t in [0, k).
// Default kernels (spatial_dilated_max_pooling, _qmaxpool_2d_nhwc_kernel) skip taps outside
// [0, I); an all-padding window (possible with dilation) yields the type's lowest value.
// QNNPACK (indirection.c::pytorch_qnnp_indirection_init_maxpool2d) instead clamps every tap to
// min(doz(o·s + t·dil, p), I − 1): a padding tap reads the edge pixel, which with dilation > 1 may
// lie outside the window's own taps.
std::vector<int64_t> MaxTaps(int64_t o, int64_t in, int64_t k, int64_t s, int64_t p, int64_t dil,
                             bool edge_clamp) {
  std::vector<int64_t> taps;
  for (int64_t t = 0; t < k; ++t) {
    const int64_t pos = o * s - p + t * dil;
    if (edge_clamp) {
      taps.push_back(std::min(std::max<int64_t>(pos, 0), in - 1));
    } else if (pos >= 0 && pos < in) {
      taps.push_back(pos);
    }
  }
  return taps;
}

// Calls f(out_index, n, c, taps_y, taps_x) for every output element in NCHW order.
template <typename F>
void ForEachMaxWindow(const PoolAttrs& a, const PoolDims& d, bool edge_clamp, F f) {
  int64_t o = 0;
  for (int64_t n = 0; n < d.n; ++n) {
    for (int64_t c = 0; c < d.c; ++c) {
      for (int64_t oy = 0; oy < d.oh; ++oy) {
        const std::vector<int64_t> ty =
            MaxTaps(oy, d.h, a.kernel[0], a.stride[0], a.padding[0], a.dilation[0], edge_clamp);
        for (int64_t ox = 0; ox < d.ow; ++ox) {
          const std::vector<int64_t> tx =
              MaxTaps(ox, d.w, a.kernel[1], a.stride[1], a.padding[1], a.dilation[1], edge_clamp);
          f(o++, n, c, ty, tx);
        }
      }
    }
  }
}

// y = max q over the taps (none: qmin). Output qparams = input's, so the max of the reals is the
// max of q.
std::vector<int32_t> MaxPool(const Layer& layer, const std::vector<QTensor>& in,
                             const std::vector<int64_t>& out_shape, bool edge_clamp) {
  const QTensor& x = in[0];
  const PoolDims d = PoolDimsOf(x, out_shape);
  std::vector<int32_t> y(ShapeElements(out_shape));
  ForEachMaxWindow(layer.pool, d, edge_clamp,
                   [&](int64_t o, int64_t n, int64_t c, const std::vector<int64_t>& ty,
                       const std::vector<int64_t>& tx) {
                     int32_t m = TypeRange(x.dtype).qmin;
                     for (int64_t yy : ty) {
                       for (int64_t xx : tx) m = std::max(m, x.values[PoolInIndex(d, n, c, yy, xx)]);
                     }
                     y[o] = m;
                   });
  return y;
}

std::vector<int32_t> MaxExact(const Layer& layer, const std::vector<QTensor>& in,
                              const std::vector<int64_t>& out_shape) {
  return MaxPool(layer, in, out_shape, /*edge_clamp=*/false);
}

std::vector<int32_t> MaxQnnpack(const Layer& layer, const std::vector<QTensor>& in,
                                const std::vector<int64_t>& out_shape) {
  return MaxPool(layer, in, out_shape, /*edge_clamp=*/true);
}

// The multipliers (or functions) of this op's recipes: one OpFormula each (op_recipe.h).
constexpr OpFormula kMaxInBoundsTaps{"max over in-bounds dilated taps"};
constexpr OpFormula kMaxEdgeClampedTaps{"max over edge-clamped dilated taps"};

const OpRecipeDef kMaxPoolExact = {
    "max_pool2d.exact", OpKind::kMaxPool2d,
    {OpRounding::kNone, OpZeroPoint::kNone, OpArithmetic::kExact, OpLayout::kAny,
     &kMaxInBoundsTaps},
    "y = max q over taps o·s−p+t·d inside the input (none: qmin); Pooling.cpp, "
    "QuantizedOpKernels.cpp::_qmaxpool_2d_nhwc_kernel",
    MaxExact};

// A LibTorch (QNNPACK) bug: taps in the padding read the edge pixel, which with dilation need
// not belong to the window (corpora/qnnpack_max_pool_dilated_padding.json). The QNNPACK path's
// recipe is max_pool2d.exact; this one only classifies.
const OpRecipeDef kMaxPoolQnnpack = {
    "max_pool2d.qnnpack", OpKind::kMaxPool2d,
    {OpRounding::kNone, OpZeroPoint::kNone, OpArithmetic::kExact, OpLayout::kAny,
     &kMaxEdgeClampedTaps},
    "y = max q over taps clamp(o·s−p+t·d, 0, I−1); qnnpack/src/indirection.c "
    "(init_maxpool2d), max-pooling.c",
    MaxQnnpack, "corpora/qnnpack_max_pool_dilated_padding.json", QnnpackPoolKernelRuns};

const OpRecipeDef kMaxPoolSinglePixelBug = {
    "max_pool2d.nhwc_into_nchw", OpKind::kMaxPool2d,
    {OpRounding::kNone, OpZeroPoint::kNone, OpArithmetic::kExact, OpLayout::kNhwc,
     &kMaxInBoundsTaps},
    kSinglePixelFormula, NhwcOrderIntoNchw<MaxExact>, kSinglePixelBug, DefaultPoolKernelRuns};

const OpRecipeDef* const kMaxPoolRecipes[] = {&kMaxPoolExact, &kMaxPoolQnnpack,
                                              &kMaxPoolSinglePixelBug};

// Every kernel computes the exact max (QNNPACK's edge-clamped taps are a bug: kMaxPoolQnnpack).
const OpRecipeDef* MaxPoolEnginePath(Engine, const Layer& layer,
                                     const std::vector<QTensor>& inputs) {
  return PoolInputsUsable(layer, inputs) ? &kMaxPoolExact : nullptr;
}

// QNNPACK (quint8, no ceil_mode) rejects a 1×1 kernel.
std::string MaxPoolRejectionReason(Engine engine, const Layer& layer,
                                   const std::vector<QTensor>& inputs) {
  if (!PoolInputsUsable(layer, inputs)) return "";
  const bool qnnpack_max =
      engine == Engine::kQnnpack && inputs[0].dtype == DType::kQUInt8 && !layer.pool.ceil_mode;
  if (qnnpack_max && layer.pool.kernel[0] * layer.pool.kernel[1] == 1) {
    return "QNNPACK max_pool2d rejects a 1x1 kernel (max-pooling.c: \"1x1 pooling is "
           "meaningless\"; TORCH_INTERNAL_ASSERT in Pooling.cpp::qnnpack_maxpool2d)";
  }
  return "";
}

// Float64 reference: the max of the dequantized in-bounds taps; an all-padding window gives the
// real of qmin, what LibTorch outputs.
std::vector<double> MaxPoolFloatReal(const Layer& layer, const std::vector<QTensor>& inputs,
                                     const std::vector<int64_t>& out_shape) {
  const QTensor& x = inputs[0];
  const PoolDims d = PoolDimsOf(x, out_shape);
  std::vector<double> real(ShapeElements(out_shape), 0.0);
  const double empty = x.scales[0] * (TypeRange(x.dtype).qmin - x.zero_points[0]);
  ForEachMaxWindow(layer.pool, d, /*edge_clamp=*/false,
                   [&](int64_t o, int64_t n, int64_t c, const std::vector<int64_t>& ty,
                       const std::vector<int64_t>& tx) {
                     double m = -std::numeric_limits<double>::infinity();
                     for (int64_t yy : ty) {
                       for (int64_t xx : tx) {
                         m = std::max(m, static_cast<double>(
                                             DequantizeElement(x, PoolInIndex(d, n, c, yy, xx))));
                       }
                     }
                     real[o] = std::isinf(m) ? empty : m;
                   });
  return real;
}

}  // namespace

extern const OpDef kMaxPool2dOp = {OpKind::kMaxPool2d,   kMaxPoolRecipes,
                                   std::size(kMaxPoolRecipes), MaxPoolEnginePath,
                                   MaxPoolRejectionReason, MaxPoolFloatReal};

}  // namespace qdiff
