// mean — at::mean(x, dims, keepdim) over H and W of a quantized [N, C, H, W]
// (cpu/ReduceOps.cpp::mean_out_quantized_cpu); output qparams are the input's. The exact mean,
// QNNPACK's global average pooling, the inner-dim kernel (qmean_inner_dim_kernel) and the generic
// path (dequantize → float at::mean → quantize_per_tensor). Upstream paths relative to
// aten/src/ATen/native/ (docs/semantics.md#mean). Per plane (n, c): Σq is the raw sum of its
// H·W values, c = Σ(q − z) the centred one.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

#include "oracles/float_oracle.h"
#include "oracles/ops/libtorch_float.h"
#include "oracles/ops/op_common.h"
#include "oracles/ops/op_recipe.h"
#include "oracles/ops/pool_common.h"

namespace qdiff {

namespace {

// Calls y[n·C + c] = reduce(plane values in memory order of an NCHW plane, count) for every plane.
template <typename Reduce>
std::vector<int32_t> ForEachPlane(const QTensor& x, Reduce reduce) {
  const int64_t planes = x.shape[0] * x.shape[1], hw = x.shape[2] * x.shape[3];
  std::vector<int32_t> y(planes);
  for (int64_t p = 0; p < planes; ++p) y[p] = reduce(x.values.data() + p * hw, hw);
  return y;
}

int64_t CentredSum(const int32_t* q, int64_t n, int32_t z) {
  int64_t c = 0;
  for (int64_t i = 0; i < n; ++i) c += q[i] - z;
  return c;
}

// mean.exact: clamp(RNE(c·s_x / (H·W·s_y)) + z_y), s_y = s_x.
std::vector<int32_t> RunMeanExact(const Layer& layer, const OpInputs& in, const OpShape&) {
  const OutputQParams o = OpOutQParams(layer, in);
  const QTensor& x = in[0];
  return ForEachPlane(x, [&](const int32_t* q, int64_t n) {
    return ExactMean(CentredSum(q, n, x.zero_points[0]), n, x, o);
  });
}

// mean.qnnpack (ReduceOps.cpp::qnnpack_mean → qnnpack/src/global-average-pooling.c, q8gavgpool):
// bias −H·W·z_x, m = f32(f32 s_x / f32(f32 s_y · f32(H·W))), y = clamp(RNE(f32(f32(c)·m)) + z_y,
// 0, 255): QNNPACK's average-pooling requantization (pool_common.h QnnpackMean).
std::vector<int32_t> RunMeanQnnpack(const Layer& layer, const OpInputs& in, const OpShape&) {
  const OutputQParams o = OpOutQParams(layer, in);
  const QTensor& x = in[0];
  return ForEachPlane(x, [&](const int32_t* q, int64_t n) {
    return QnnpackMean(CentredSum(q, n, x.zero_points[0]), n, x, o);
  });
}

// mean.inner_dim (cpu/kernels/QuantizedOpKernels.cpp::qmean_inner_dim_kernel, hsum): the raw
// sum, no zero-point subtraction, no clamp: y = (T)RNE(f32(f32(Σq) / f32(H·W))). The zero point
// rides inside Σq, i.e. enters before rounding; s_x/s_y is not used (it is 1).
std::vector<int32_t> RunMeanInnerDim(const Layer&, const OpInputs& in, const OpShape&) {
  return ForEachPlane(in[0], [&](const int32_t* q, int64_t n) {
    int64_t raw = 0;
    for (int64_t i = 0; i < n; ++i) raw += q[i];
    const float y = static_cast<float>(raw) / static_cast<float>(n);
    return static_cast<int32_t>(std::nearbyint(y));  // in range: a mean of in-range values
  });
}

// cpu/utils.h CeilLog2: 1 for x ≤ 2, else ⌈log2 x⌉.
int64_t CeilLog2(int64_t x) {
  int64_t bits = 1;
  while ((int64_t{1} << bits) < x) ++bits;
  return bits;
}

// cpu/SumKernel.cpp::multi_row_sum for one column: the n values value(0..n) summed in binary32
// in four cascade levels; chunks of 2^p (p = max(4, CeilLog2(n)/4)) go to level 0, each full
// chunk is carried up a level, and the levels are added at the end.
template <typename Value>
float CascadeSum(int64_t n, Value value) {
  const int64_t power = std::max<int64_t>(4, CeilLog2(n) / 4);
  const int64_t step = int64_t{1} << power, mask = step - 1;
  float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  int64_t i = 0;
  while (i + step <= n) {
    for (int64_t j = 0; j < step; ++j) acc[0] += value(i++);
    for (int j = 1; j < 4; ++j) {
      acc[j] += acc[j - 1];
      acc[j - 1] = 0.0f;
      if ((i & (mask << (j * power))) != 0) break;
    }
  }
  for (; i < n; ++i) acc[0] += value(i);
  for (int j = 1; j < 4; ++j) acc[0] += acc[j];
  return acc[0];
}

// SumKernel.cpp::row_sum: four interleaved cascades (value k, k+4, k+8, …), the n mod 4 last
// values added to the first, then the four partial sums in order.
template <typename Value>
float RowSum(int64_t n, Value value) {
  const int64_t rows = n / 4;
  float partial[4];
  for (int64_t k = 0; k < 4; ++k) {
    partial[k] = CascadeSum(rows, [&](int64_t i) { return value(i * 4 + k); });
  }
  for (int64_t i = rows * 4; i < n; ++i) partial[0] += value(i);
  return partial[0] + partial[1] + partial[2] + partial[3];
}

// mean.generic (mean_out_quantized_cpu's last branch: a channels-last input on a kernel other
// than QNNPACK's): d = dequantize_val = f32(f32 s_x · f32(q − z_x)), at::mean = sum_out(…).div_(H·W)
// on the NHWC float tensor, then quantize_per_tensor(m, s_x, z_x):
//   m = f32(S / f32(H·W)), y = clamp(z + RNE(f32(m · f32(1/f32 s_x))))
// S is cascade_sum's binary32 sum (SumKernel.cpp) over the H·W pixels of a channel, C contiguous:
// with C ≥ 8 (vectorized_outer_sum) channels [0, ⌊C/32⌋·32) take multi_row_sum (CascadeSum) and
// the rest row_sum (RowSum); with C < 8 (scalar_outer_sum) channels [0, ⌊C/4⌋·4) take
// multi_row_sum. One thread: with more, parallel_reduce splits the sum differently.
std::vector<int32_t> RunMeanGeneric(const Layer& layer, const OpInputs& in, const OpShape&) {
  const OutputQParams o = OpOutQParams(layer, in);
  const QTensor& x = in[0];
  const int64_t channels = x.shape[1];
  const int64_t cascade_channels = channels >= 8 ? channels / 32 * 32 : channels / 4 * 4;
  const double s = x.scales[0];
  const int32_t z = x.zero_points[0];
  int64_t plane = 0;
  return ForEachPlane(x, [&](const int32_t* q, int64_t n) {
    auto value = [&](int64_t i) { return DequantScalar(s, z, q[i]); };
    const bool cascade = plane++ % channels < cascade_channels;
    const float sum = cascade ? CascadeSum(n, value) : RowSum(n, value);
    return QuantizeValDoubleSum(s, z, sum / static_cast<float>(n), TypeRange(o.dtype));
  });
}

// The multipliers (or functions) of this op's recipes: one OpFormula each (op_recipe.h).
constexpr OpFormula kMeanExactMultiplier{"s_x/(s_y·H·W)"};
constexpr OpFormula kMeanQnnpackMultiplier{"f32(f32 s_x/f32(f32 s_y·H·W))"};
constexpr OpFormula kMeanInnerDimMultiplier{"1/f32(H·W) on the raw sum"};
constexpr OpFormula kMeanGenericMultiplier{"f32(1/f32 s_x) on f32(cascade sum of f32 dequantized / H·W)"};

const OpRecipeDef kMeanExact = {"mean.exact", OpKind::kMean,
                                ExactIngredients(&kMeanExactMultiplier),
                                "y = clamp(RNE(c·s_x/(H·W·s_y)) + z), c = Σ(q − z)", RunMeanExact};
const OpRecipeDef kMeanQnnpack = {
    "mean.qnnpack", OpKind::kMean,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kBinary32, OpLayout::kAny,
     &kMeanQnnpackMultiplier},
    "QNNPACK global average pooling: y = clamp(RNE(f32(f32(c)·m)) + z, 0, 255); "
    "ReduceOps.cpp::qnnpack_mean, qnnpack/src/global-average-pooling.c",
    RunMeanQnnpack};
const OpRecipeDef kMeanInnerDim = {
    "mean.inner_dim", OpKind::kMean,
    {OpRounding::kHalfEven, OpZeroPoint::kBeforeRounding, OpArithmetic::kBinary32, OpLayout::kNchw,
     &kMeanInnerDimMultiplier},
    "y = (T)RNE(f32(f32(Σq)/f32(H·W))), no zp subtraction, no clamp; "
    "QuantizedOpKernels.cpp::qmean_inner_dim_kernel",
    RunMeanInnerDim};
const OpRecipeDef kMeanGeneric = {
    "mean.generic", OpKind::kMean,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kBinary32, OpLayout::kNhwc,
     &kMeanGenericMultiplier},
    "quantize_per_tensor(f32(cascade_sum(dequantize)/f32(H·W))); ReduceOps.cpp "
    "mean_out_quantized_cpu, native/cpu/SumKernel.cpp cascade_sum",
    RunMeanGeneric};

const OpRecipeDef* const kMeanRecipes[] = {&kMeanExact, &kMeanQnnpack, &kMeanInnerDim,
                                           &kMeanGeneric};

// mean_out_quantized_cpu: QNNPACK engine, quint8 and the literal dims [2, 3] → qnnpack_mean
// ([-1, -2] or [3, 2] do not qualify); else an NCHW-contiguous input (is_contiguous(), also true
// for channels-last with C == 1 or H·W == 1) → qmean_inner_dim_kernel, as every H, W dims list is
// innermost; else the generic path.
const OpRecipeDef* MeanEnginePath(Engine engine, const Layer& layer, const OpInputs& in) {
  const QTensor& x = in[0];
  if (x.shape.size() != 4 || x.per_channel()) return nullptr;
  if (engine == Engine::kQnnpack && x.dtype == DType::kQUInt8 && layer.mean.dims[0] == 2 &&
      layer.mean.dims[1] == 3) {
    return &kMeanQnnpack;
  }
  return IsNchwContiguous(x.shape, layer.channels_last) ? &kMeanInnerDim : &kMeanGeneric;
}

// global-average-pooling.c rejects a scale that is not a positive normal float (and an
// input/output ratio outside [2^-8, 2^8), here 1).
std::string MeanRejectionReason(Engine engine, const Layer& layer, const OpInputs& in) {
  if (MeanEnginePath(engine, layer, in) != &kMeanQnnpack) return "";
  return QnnpackAvgPoolScaleReason(in[0]);
}

// Float64 reference: the mean of the dequantized values of each (n, c) plane.
std::vector<double> MeanFloatReal(const Layer&, const OpInputs& in, const OpShape& out_shape) {
  const QTensor& x = in[0];
  const int64_t hw = x.shape[2] * x.shape[3];
  return ElementwiseReal(out_shape, [&](int64_t p) {
    double sum = 0.0;
    for (int64_t i = p * hw; i < (p + 1) * hw; ++i) sum += static_cast<double>(DequantizeElement(x, i));
    return sum / static_cast<double>(hw);
  });
}

}  // namespace

extern const OpDef kMeanOp = {OpKind::kMean,       kMeanRecipes,        std::size(kMeanRecipes),
                              MeanEnginePath,      MeanRejectionReason, MeanFloatReal};

}  // namespace qdiff
