// qdiff's own helpers shared by the op files (oracles/ops/<op>.cc): the exact reference's rounding,
// the 256-entry lookup tables, ingredient lists, rejection messages and the float64 reference
// loop. LibTorch's formulas are in libtorch_float.h, the pooling windows in pool_common.h.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "oracles/exact_rational.h"
#include "oracles/float_oracle.h"
#include "oracles/model.h"
#include "oracles/ops/libtorch_float.h"
#include "oracles/ops/op_recipe.h"

namespace qdiff {

using OpInputs = std::vector<QTensor>;
using OpShape = std::vector<int64_t>;

// The exact reference rounding: clamp(RNE(v) + z, qmin, qmax).
int32_t ExactQuantize(const Rational& v, int32_t zp, QuantRange r);

// Exact real value s·(q − z) of element i of a per-tensor input, with the scale LibTorch stores
// (double).
Rational ExactInput(const QTensor& t, int64_t i);
// The same in long double, still exact: a 53-bit scale times a 9-bit integer fits its 64 bits.
inline long double ExactInputLd(const QTensor& t, int64_t i) {
  return static_cast<long double>(t.scales[0]) * (t.values[i] - t.zero_points[0]);
}

// The exact-arithmetic filter of the op references, as FilteredRound for conv and linear
// (recipe.cc): `v` is the exact value computed in long double from exact inputs with at most
// three roundings (relative error 2^-64 each), so |v − exact| ≤ |v|·2^-58 (generous). When v is
// farther than that from a half-integer, the exact value's RNE is known: clamp(RNE + z) is
// returned. Otherwise (near or at a tie, or |v| ≥ 2^40) std::nullopt: the caller computes the
// value as a Rational and rounds with ExactQuantize. Equal to the exact path on random and
// tie inputs (tests/oracles/op_exact_filter_test.cc).
std::optional<int32_t> FilteredExactQuantize(long double v, int32_t zp, QuantRange r);

// The layer's output qparams: LayerOutputQParams of input 0.
OutputQParams OpOutQParams(const Layer& layer, const OpInputs& in);

// <op>.exact of add and mul: v = combine(x_a, x_b) / s_y exactly, x = s(q − z); ReLU v = max(v, 0);
// y = clamp(RNE(v) + z_y).
// `combine` takes two Rationals or two long doubles (FilteredExactQuantize first, Rationals only
// near a tie).
template <typename Combine>
std::vector<int32_t> BinaryExact(const Layer& layer, const OpInputs& in, Combine combine) {
  const OutputQParams o = OpOutQParams(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  const Rational sy = Rational::FromDouble(o.scale);
  std::vector<int32_t> out(in[0].values.size());
  for (size_t i = 0; i < out.size(); ++i) {
    long double approx = combine(ExactInputLd(in[0], i), ExactInputLd(in[1], i)) / o.scale;
    if (layer.relu && approx < 0) approx = 0;  // |exact| ≤ the bound then: RNE gives 0 either way
    if (const std::optional<int32_t> y = FilteredExactQuantize(approx, o.zero_point, r)) {
      out[i] = *y;
      continue;
    }
    Rational v = combine(ExactInput(in[0], i), ExactInput(in[1], i)) / sy;
    if (layer.relu && v.Sign() < 0) v = Rational();
    out[i] = ExactQuantize(v, o.zero_point, r);
  }
  return out;
}

// Ingredients of an <op>.exact recipe whose multiplier is `multiplier`.
constexpr OpIngredients ExactIngredients(const OpFormula* multiplier) {
  return {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kExact, OpLayout::kAny,
          multiplier};
}

// ---------------------------------------------------------------------------------------------
// Lookup tables: a 256-entry table over the input's int_repr values, built once per call (= once
// per qparams) from a path's formula (exact, or the path's float formula) and applied by integer
// indexing.

using OpTable = std::array<int32_t, 256>;

// t[k] = f(qmin + k) for the 256 values of `dtype`.
template <typename F>
OpTable BuildTable(DType dtype, F&& f) {
  OpTable t{};
  const int32_t qmin = TypeRange(dtype).qmin;
  for (int32_t k = 0; k < 256; ++k) t[k] = f(qmin + k);
  return t;
}

int32_t Lookup(const OpTable& t, DType dtype, int32_t q);

// Lookup of every value of `x`, in its logical order.
std::vector<int32_t> LookupAll(const OpTable& t, const QTensor& x);

// The same with two tables, as the default kernels' cpu_kernel_vec runs them: `vec` for the
// elements that take the vector lambda (IsVectorElement), `tail` for the scalar tail.
std::vector<int32_t> LookupVectorOrTail(const Layer& layer, const OpShape& shape,
                                        const OpTable& vec, const OpTable& tail, const QTensor& x);

// The exact reference's table of an activation built on c = clamp(x + 3, 0, 6) (hardswish h = x·c,
// hardsigmoid h = c): x = s_x(q − z_x) exactly, y = clamp(RNE(h(x, c)/6/s_y) + z_y).
template <typename H>
std::vector<int32_t> ExactRelu6ShiftTable(const Layer& layer, const OpInputs& in, H h) {
  const OutputQParams o = OpOutQParams(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  const Rational sy = Rational::FromDouble(o.scale);
  const Rational three = Rational::FromInt(3), six = Rational::FromInt(6), zero;
  const OpTable t = BuildTable(in[0].dtype, [&](int32_t q) {
    const Rational x = Rational::FromDouble(in[0].scales[0]) * Rational::FromInt(q - in[0].zero_points[0]);
    Rational c = x + three;
    if (c.Sign() < 0) c = zero;
    if (Rational::Compare(c, six) > 0) c = six;
    return ExactQuantize(h(x, c) / six / sy, o.zero_point, r);
  });
  return LookupAll(t, in[0]);
}

// The default kernel's tables of an activation h (hardswish, hardsigmoid; QuantizedOpKernels.cpp
// qhardswish_kernel / qhardsigmoid_kernel), applied by LookupVectorOrTail:
//   vector lanes: Vec::quantize(f32(1/f64 s_y), h(DequantFma(q)))
//   scalar tail : quantize_val(s_y, h(DequantScalar(q)))
// The dequantize (FMA or not) and the inverse scale (f32(1.0/s_y) vs 1.0f/f32 s_y) can each move
// h·inv across a rounding boundary, so one table from the vector formula would miss the tail.
template <typename H>
std::vector<int32_t> DefaultActivationTables(const Layer& layer, const OpInputs& in, const OpShape& shape, H h) {
  const OutputQParams o = OpOutQParams(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  const QTensor& x = in[0];
  const float inv_vec = F32(1.0 / o.scale);
  const OpTable vec = BuildTable(x.dtype, [&](int32_t q) {
    return QuantizeVec(inv_vec, o.zero_point, h(DequantFma(x.scales[0], x.zero_points[0], q)), r);
  });
  const OpTable tail = BuildTable(x.dtype, [&](int32_t q) {
    return QuantizeVal(o.scale, o.zero_point, h(DequantScalar(x.scales[0], x.zero_points[0], q)), r);
  });
  return LookupVectorOrTail(layer, shape, vec, tail, x);
}

// QNNPACK's LUT of an activation h (qnnpack/src/hardswish.c, hardsigmoid.c):
// LUT[q] = lrintf(clamp(f32(f32(inv · h) + f32 z_y), qmin, qmax)), inv = 1.0f/f32 s_y,
// x = f32(f32 s_x · f32(q − z_x)): the zero point is added BEFORE rounding.
template <typename H>
std::vector<int32_t> QnnpackActivationTable(const Layer& layer, const OpInputs& in, H h) {
  const OutputQParams o = OpOutQParams(layer, in);
  const QuantRange r = TypeRange(o.dtype);
  const QTensor& x = in[0];
  const float inv = 1.0f / F32(o.scale);
  const OpTable t = BuildTable(x.dtype, [&](int32_t q) {
    float v = inv * h(DequantScalar(x.scales[0], x.zero_points[0], q)) +
              static_cast<float>(o.zero_point);  // two roundings (no FMA contraction)
    v = std::min(std::max(v, static_cast<float>(r.qmin)), static_cast<float>(r.qmax));
    return static_cast<int32_t>(std::lrint(v));
  });
  return LookupAll(t, x);
}

// ---------------------------------------------------------------------------------------------
// Engine paths and rejections.

// Where QNNPACK's own quint8 kernels run (add, clamp): the QNNPACK engine with quint8 inputs.
// A bug_applies function (OpRecipeDef).
bool QnnpackQuint8Kernel(Engine engine, const Layer& layer, const OpInputs& in);

// qnnpack/src/hardswish.c, sigmoid.c (QNNPACK engine, quint8): the input and output scales must be
// positive normal floats.
std::string QnnpackLutRejectionReason(Engine engine, const Layer& layer,
                                      const OpInputs& in);

// "" if lo ≤ ratio < hi, else "<what> input/output scale ratio <ratio> outside <range>".
std::string RatioRangeReason(const char* what, float ratio, float lo, float hi, const char* range);

// ---------------------------------------------------------------------------------------------
// Float64 reference of an elementwise op: real[i] = f(i) for every element of `out_shape`.
template <typename F>
std::vector<double> ElementwiseReal(const OpShape& out_shape, F&& f) {
  const int64_t n = ShapeElements(out_shape);
  std::vector<double> real(n);
  for (int64_t i = 0; i < n; ++i) real[i] = f(i);
  return real;
}

// Float64 reference of add and mul: y = combine(x_a, x_b) in double, inputs dequantized as LibTorch
// does (DequantizeElement); ReLU: max(y, 0).
template <typename Combine>
std::vector<double> BinaryReal(const Layer& layer, const OpInputs& in, const OpShape& out_shape,
                               Combine combine) {
  return ElementwiseReal(out_shape, [&](int64_t i) {
    const double y = combine(static_cast<double>(DequantizeElement(in[0], i)),
                             static_cast<double>(DequantizeElement(in[1], i)));
    return layer.relu ? std::max(y, 0.0) : y;
  });
}

}  // namespace qdiff
