#include "oracles/ops/op_common.h"

#include <algorithm>
#include <cmath>

#include "oracles/ops/libtorch_float.h"

namespace qdiff {

int32_t ExactQuantize(const Rational& v, int32_t zp, QuantRange r) {
  const RoundResult rr = RoundRational(v, TieRule::kHalfEven);
  return static_cast<int32_t>(std::clamp<int64_t>(rr.value + zp, r.qmin, r.qmax));
}

std::optional<int32_t> FilteredExactQuantize(long double v, int32_t zp, QuantRange r) {
  if (!(std::fabs(v) < 0x1p40L)) return std::nullopt;
  const long double err = std::fabs(v) * 0x1p-58L + 0x1p-200L;
  const long double floor_v = std::floor(v);
  const long double frac = v - floor_v;  // exact: |v| < 2^40 leaves ≥ 23 fraction bits
  if (std::fabs(frac - 0.5L) <= err) return std::nullopt;
  const int64_t rounded = static_cast<int64_t>(floor_v) + (frac > 0.5L ? 1 : 0);
  return static_cast<int32_t>(std::clamp<int64_t>(rounded + zp, r.qmin, r.qmax));
}

Rational ExactInput(const QTensor& t, int64_t i) {
  return Rational::FromDouble(t.scales[0]) * Rational::FromInt(t.values[i] - t.zero_points[0]);
}

OutputQParams OpOutQParams(const Layer& layer, const OpInputs& in) {
  return LayerOutputQParams(layer, in[0]);
}

int32_t Lookup(const OpTable& t, DType dtype, int32_t q) { return t[q - TypeRange(dtype).qmin]; }

std::vector<int32_t> LookupAll(const OpTable& t, const QTensor& x) {
  std::vector<int32_t> out(x.values.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = Lookup(t, x.dtype, x.values[i]);
  return out;
}

std::vector<int32_t> LookupVectorOrTail(const Layer& layer, const OpShape& shape,
                                        const OpTable& vec, const OpTable& tail, const QTensor& x) {
  std::vector<int32_t> out(x.values.size());
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = Lookup(IsVectorElement(layer, shape, i) ? vec : tail, x.dtype, x.values[i]);
  }
  return out;
}

bool QnnpackQuint8Kernel(Engine engine, const Layer&, const OpInputs& in) {
  return engine == Engine::kQnnpack && !in.empty() && in[0].dtype == DType::kQUInt8;
}

std::string QnnpackLutRejectionReason(Engine engine, const Layer& layer,
                                      const OpInputs& in) {
  if (engine != Engine::kQnnpack) return "";
  const OutputQParams o = LayerOutputQParams(layer, in[0]);
  if (in[0].dtype == DType::kQUInt8 && (!IsNormalF32(in[0].scales[0]) || !IsNormalF32(o.scale))) {
    return "QNNPACK LUT op: scales must be normal floats";
  }
  return "";
}

std::string RatioRangeReason(const char* what, float ratio, float lo, float hi, const char* range) {
  if (ratio >= lo && ratio < hi) return "";
  return std::string(what) + " input/output scale ratio " + std::to_string(ratio) + " outside " +
         range;
}

}  // namespace qdiff
