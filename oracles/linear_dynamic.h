// quantized::linear_dynamic / linear_relu_dynamic (LibTorch 1.13, qlinear_dynamic.cpp): float
// activations X [N, K] are quantized on the fly to quint8 with qparams chosen from X's min/max,
// multiplied with a prepacked qint8 weight [OC, K] (per-tensor or per-channel along axis 0) in
// exact integer arithmetic, and the int32 accumulators are turned back into float with an
// optional float bias and ReLU. Each engine does every step its own way; the recipes below are
// bit-exact models of them (docs/semantics.md#dynamic-linear). QNNPACK and ONEDNN were verified
// bit for bit against Debian's LibTorch 1.13.1 by `qdiff dynamic-check` (0 mismatches in
// 4 × 1500 random cases incl. exact ties and near-ties); FBGEMM (absent from that build) is from
// source only: pytorch v1.13 qlinear_dynamic.cpp + FBGEMM src/PackAWithQuantRowOffset.cc,
// QuantUtilsAvx2.cc.
//
// Notation: f32(·) rounds to binary32, RNE = round half to even, fma(a,b,c) = a·b + c rounded once.
// acc[n][oc] = Σ_k (x_q[n][k] − z_x)(w[oc][k] − z_w[oc]), exact (no engine saturates it on a
// VNNI CPU; FBGEMM/oneDNN on AVX2 use vpmaddubsw, see docs/semantics.md#kernel-accumulators —
// reduce_range keeps activations in [0,127], which makes the pairwise int16 sums safe there).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "oracles/engine.h"
#include "oracles/model.h"

namespace qdiff {

// The LibTorch code path that runs the op. The FBGEMM and X86 engines both prepack linear weights
// as fbgemm::PackedLinearWeight (qlinear_prepack.cpp), so both are kFbgemm.
enum class DynamicEngine { kQnnpack, kFbgemm, kOnednn };
const char* DynamicEngineName(DynamicEngine e);
// QNNPACK → kQnnpack, ONEDNN → kOnednn, FBGEMM and X86 → kFbgemm.
DynamicEngine DynamicEngineOf(Engine engine);

// The inputs of one quantized::linear_dynamic call.
struct DynamicLinearCase {
  int64_t n = 1;              // rows of X (all leading dims flattened)
  int64_t k = 1;              // input features
  int64_t oc = 1;             // output features
  std::vector<float> x;       // [n, k] row-major, finite
  QTensor weight;             // qint8 [oc, k]; per-tensor (axis −1) or per-channel (axis 0)
  std::optional<std::vector<float>> bias;  // [oc] float, as given to linear_prepack
  bool reduce_range = false;  // the op's argument
  bool relu = false;          // linear_relu_dynamic
};

// quant_utils::ChooseQuantizationParams (ATen/native/quantized/cpu/QuantUtils.h) with
// preserve_sparsity = force_scale_power_of_two = false, as linear_dynamic calls it:
//   reduce_range: qmin /= 2, qmax /= 2 (C integer division: [0,255] → [0,127])
//   min = min(min, 0.f), max = max(max, 0.f)                         (float)
//   scale = (f64(max) − f64(min)) / (qmax − qmin)                     (double, NOT rounded to float)
//   if f32(scale) == 0 or 1.f/f32(scale) == inf: scale = 0.1          (e.g. an all-zero X)
//   if scale < f64(6.1e-5f) (SMALL_SCALE_THRESHOLD): scale = f64(6.1e-5f) and min/max are widened
//      in float (min == 0: max = 6.1e-5f·(qmax−qmin); max == 0: min = −6.1e-5f·(qmax−qmin);
//      else both ·= f32(6.1e-5f / f32(old scale)))
//   from_min = qmin − min/scale, from_max = qmax − max/scale          (double)
//   err_min  = |qmin| − |min/scale|, err_max = |qmax| − |max/scale|   (a MINUS: FBGEMM's own copy,
//      src/QuantUtils.cc, adds; the comment above both says "sum of absolute values")
//   initial  = err_min < err_max ? from_min : from_max
//   zp = initial < qmin ? qmin : initial > qmax ? qmax : nearbyint(initial)   (RNE)
// With qmin = 0 the sign only changes `initial` when min == 0 (minus picks from_max ≈ 0, plus
// picks from_min = 0); both then nudge to zp 0, so the final qparams never show it.
struct ChosenQParams {
  double scale = 0.1;          // as TensorQuantizationParams::scale holds it (double)
  int32_t zero_point = 0;
  double initial_zero_point = 0.0;  // the candidate chosen by the error terms, before nudging
  bool from_min = true;             // which candidate was chosen
};
ChosenQParams ChooseQuantizationParams(float min, float max, int32_t qmin, int32_t qmax,
                                       bool reduce_range);

// The activation qparams an engine uses for X: ChooseQuantizationParams(min X, max X, 0, 255,
// reduce_range), except that QNNPACK ignores reduce_range (qlinear_dynamic.cpp warns and passes
// none). An empty X gives min = max = 0.
ChosenQParams DynamicActivationQParams(const std::vector<float>& x, DynamicEngine engine,
                                       bool reduce_range);

// Quantization of one activation to quint8 by the engine (s = the double scale above):
//   QNNPACK (at::quantize_per_tensor, docs/semantics.md#quantize-per-tensor):
//                                             inv = f32(1.f / f32(s)),  q = clamp(z + RNE(f32(x·inv)), 0, 255)
//   FBGEMM  (PackAWithQuantRowOffset → QuantizeAvx2<uint8_t, LEGACY=true>):
//                                             inv = f32(1.f / f32(s)),  q = clamp(RNE(fma(x, inv, f32(z))), 0, 255)
//   ONEDNN  (ideep matmul src reorder f32 → u8 with scale 1/s and zero point; derived empirically,
//            the fma form and the 1.f/f32(s) reciprocal both mismatch LibTorch):
//                                             inv = f32(1.0 / s) (double reciprocal, then float),
//                                             q = RNE(clamp(f32(f32(x·inv) + f32(z)), 0, 255))
// The three differ at exact ties (zero point before vs after rounding, fma) and in inv.
int32_t QuantizeActivation(float x, const ChosenQParams& p, DynamicEngine engine);

// The float epilogue of one output element from its exact accumulator. s_w = weight scale of the
// channel (double, as the qint8 tensor holds it), b = bias (0 and ignored when absent).
//   QNNPACK (qnnpack/src/q8gemm/4x4c2-dq-sse2.c; multiplier from QnnpackUtils.h::
//            generate_requantization_scales(w_scales, f32(s_x), 1.f)):
//       M = f32(f32(f32(s_w)·f32(s_x)) · f32(1.f/1.f));  y = f32(f32(M·f32(acc)) + b)
//       (without a bias QNNPACK adds the zeros it stored at prepack: +0.0f)
//       ReLU: output.relu_() afterwards, max(y, 0)
//   FBGEMM  (OutputProcessing-inl.h ReQuantizeForFloat::f → QuantUtilsAvx2.cc::requantizeForFloatAvx2,
//            used for avx2 and avx512 builds alike; the scalar anyarch branch computes
//            f32(f32(acc·s_x)·s_w) instead but FBGEMM refuses CPUs without AVX2). Numerically the
//            same formula as QNNPACK's (bias absent: no +0 added, which only matters for −0):
//       m = f32(f32(s_x)·f32(s_w));  y = f32(f32(acc)·m);  y = f32(y + b) if bias;  ReLU max(0, y)
//   ONEDNN  (ideep matmul with f32 dst: bias pre-scaled, output scale, the same order as static
//            int8, docs/semantics.md#onednn-requantization; the naive f32(acc·op) + b is off by
//            ~1 ulp on ~12% of biased outputs):
//       src_s = f32(1.0/s_x), w_inv = per-tensor f32(1.0/f64 s_w), per-channel 1.f/f32(s_w)
//       bs = f32(src_s·w_inv), op = f32(1.f/bs), bf = f32(b·bs)
//       y = f32(f32(f32(acc) + bf)·op)   (no bias: y = f32(f32(acc)·op));  ReLU max(y, 0)
float DynamicEpilogue(int32_t acc, double s_x, double s_w, bool per_channel_weight,
                      std::optional<float> bias, bool relu, DynamicEngine engine);

// Everything the recipe computed for one case, for reports and tests.
struct DynamicRecipeOutput {
  ChosenQParams act;              // activation qparams
  std::vector<int32_t> x_q;       // [n, k] quantized activations
  std::vector<int32_t> acc;       // [n, oc] exact accumulators
  std::vector<float> y;           // [n, oc] the op's float output
};
DynamicRecipeOutput LinearDynamicRecipe(const DynamicLinearCase& c, DynamicEngine engine);

// Exact reference for the float-oracle comparison: the engine's own quantized activations,
// dequantized exactly (s_x as the double above), times the dequantized weights, plus bias, in
// float64 (exact up to double rounding of the sum, far below one binary32 ulp), then ReLU.
std::vector<double> LinearDynamicExact(const DynamicLinearCase& c, DynamicEngine engine);

// Distance in binary32 units in the last place between a float and the binary32 value nearest
// to `exact` (0 when equal; ±0 are the same point). Both must be finite.
int64_t UlpDistance(float value, double exact);

}  // namespace qdiff
