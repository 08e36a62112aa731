#include "oracles/linear_dynamic.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "oracles/ops/libtorch_float.h"

namespace qdiff {

const char* DynamicEngineName(DynamicEngine e) {
  switch (e) {
    case DynamicEngine::kQnnpack: return "qnnpack";
    case DynamicEngine::kFbgemm: return "fbgemm";
    case DynamicEngine::kOnednn: return "onednn";
  }
  return "?";
}

DynamicEngine DynamicEngineOf(Engine engine) {
  switch (engine) {
    case Engine::kQnnpack: return DynamicEngine::kQnnpack;
    case Engine::kOnednn: return DynamicEngine::kOnednn;
    case Engine::kFbgemm:
    case Engine::kX86: return DynamicEngine::kFbgemm;
  }
  return DynamicEngine::kFbgemm;
}

ChosenQParams ChooseQuantizationParams(float min, float max, int32_t qmin, int32_t qmax,
                                       bool reduce_range) {
  // QuantUtils.h: `if (reduce_range) { qmin = qmin/2; qmax = qmax/2; }` (int division).
  if (reduce_range) {
    qmin = qmin / 2;
    qmax = qmax / 2;
  }
  min = std::min(min, 0.f);
  max = std::max(max, 0.f);
  // Double arithmetic on float inputs; the result stays a double.
  double scale = (static_cast<double>(max) - min) / (qmax - qmin);
  if (static_cast<float>(scale) == 0.0f || std::isinf(1.0f / static_cast<float>(scale))) {
    scale = 0.1;
  }
  constexpr float kSmallScaleThreshold = 6.1e-5f;  // SMALL_SCALE_THRESHOLD, fp16's min normal
  if (scale < kSmallScaleThreshold) {
    const float org_scale = static_cast<float>(scale);
    scale = kSmallScaleThreshold;
    if (min == 0.0f) {
      max = kSmallScaleThreshold * static_cast<float>(qmax - qmin);
    } else if (max == 0.0f) {
      min = -kSmallScaleThreshold * static_cast<float>(qmax - qmin);
    } else {
      const float amplifier = kSmallScaleThreshold / org_scale;
      min *= amplifier;
      max *= amplifier;
    }
  }
  const double zero_point_from_min = qmin - min / scale;
  const double zero_point_from_max = qmax - max / scale;
  // Upstream's error terms subtract (QuantUtils.h); see the header.
  const double zero_point_from_min_error = std::abs(qmin) - std::abs(min / scale);
  const double zero_point_from_max_error = std::abs(qmax) - std::abs(max / scale);
  ChosenQParams p;
  p.from_min = zero_point_from_min_error < zero_point_from_max_error;
  p.initial_zero_point = p.from_min ? zero_point_from_min : zero_point_from_max;
  if (p.initial_zero_point < qmin) {
    p.zero_point = qmin;
  } else if (p.initial_zero_point > qmax) {
    p.zero_point = qmax;
  } else {
    p.zero_point = static_cast<int32_t>(std::nearbyint(p.initial_zero_point));
  }
  p.scale = scale;
  return p;
}

ChosenQParams DynamicActivationQParams(const std::vector<float>& x, DynamicEngine engine,
                                       bool reduce_range) {
  float lo = 0.0f, hi = 0.0f;
  if (!x.empty()) {
    lo = *std::min_element(x.begin(), x.end());
    hi = *std::max_element(x.begin(), x.end());
  }
  // QNNPACK calls ChooseQuantizationParams(x_min, x_max, 0, 255) without reduce_range.
  const bool rr = engine == DynamicEngine::kQnnpack ? false : reduce_range;
  return ChooseQuantizationParams(lo, hi, 0, 255, rr);
}

int32_t QuantizeActivation(float x, const ChosenQParams& p, DynamicEngine engine) {
  const float z = static_cast<float>(p.zero_point);
  switch (engine) {
    case DynamicEngine::kQnnpack:
      // quantize_val: zero point added after rounding (in double), then clamp.
      return QuantizeValDoubleSum(p.scale, p.zero_point, x, TypeRange(DType::kQUInt8));
    case DynamicEngine::kFbgemm: {
      // QuantizeAvx2<uint8_t, LEGACY=true>: _mm256_fmadd_ps(x, inv, zp), min with 2^31−128,
      // cvtps2dq (RNE), clamp to [0, 255]. Finite x: |x·inv| ≤ ~2^8 here, no int32 overflow.
      const float inv = 1.0f / static_cast<float>(p.scale);
      const float t = std::min(std::fma(x, inv, z), 2147483520.0f);
      return static_cast<int32_t>(std::clamp(std::nearbyint(t), 0.0f, 255.0f));
    }
    case DynamicEngine::kOnednn: {
      const float inv = static_cast<float>(1.0 / p.scale);
      const float t = x * inv + z;  // two roundings (-ffp-contract=off)
      return static_cast<int32_t>(std::nearbyint(std::clamp(t, 0.0f, 255.0f)));
    }
  }
  return 0;
}

float DynamicEpilogue(int32_t acc, double s_x, double s_w, bool per_channel_weight,
                      std::optional<float> bias, bool relu, DynamicEngine engine) {
  const float accf = static_cast<float>(acc);  // cvtdq2ps: RNE for |acc| > 2^24
  float y = 0.0f;
  switch (engine) {
    case DynamicEngine::kQnnpack: {
      const float inverse_output_scale = 1.f / 1.f;
      const float m = (static_cast<float>(s_w) * static_cast<float>(s_x)) * inverse_output_scale;
      y = m * accf + bias.value_or(0.0f);
      break;
    }
    case DynamicEngine::kFbgemm: {
      const float m = static_cast<float>(s_x) * static_cast<float>(s_w);
      y = accf * m;
      if (bias) y = y + *bias;
      break;
    }
    case DynamicEngine::kOnednn: {
      const float src_s = static_cast<float>(1.0 / s_x);
      const float w_inv = per_channel_weight ? 1.0f / static_cast<float>(s_w)
                                             : static_cast<float>(1.0 / s_w);
      const float bs = src_s * w_inv;
      const float op = 1.0f / bs;
      y = bias ? (accf + *bias * bs) * op : accf * op;
      break;
    }
  }
  if (relu) y = y < 0.0f ? 0.0f : y;
  return y;
}

namespace {

// Exact Σ (x_q − z_x)(w − z_w) per output; |acc| ≤ K·255·255 fits int32 for K ≤ 33 000.
std::vector<int32_t> Accumulate(const DynamicLinearCase& c, const std::vector<int32_t>& x_q,
                                int32_t z_x) {
  std::vector<int32_t> acc(static_cast<size_t>(c.n * c.oc));
  for (int64_t i = 0; i < c.n; ++i) {
    for (int64_t o = 0; o < c.oc; ++o) {
      int64_t sum = 0;
      const int32_t z_w = c.weight.ZeroPoint(o);
      for (int64_t j = 0; j < c.k; ++j) {
        sum += static_cast<int64_t>(x_q[i * c.k + j] - z_x) * (c.weight.values[o * c.k + j] - z_w);
      }
      acc[i * c.oc + o] = static_cast<int32_t>(sum);
    }
  }
  return acc;
}

}  // namespace

DynamicRecipeOutput LinearDynamicRecipe(const DynamicLinearCase& c, DynamicEngine engine) {
  DynamicRecipeOutput r;
  r.act = DynamicActivationQParams(c.x, engine, c.reduce_range);
  r.x_q.reserve(c.x.size());
  for (float v : c.x) r.x_q.push_back(QuantizeActivation(v, r.act, engine));
  r.acc = Accumulate(c, r.x_q, r.act.zero_point);
  r.y.resize(r.acc.size());
  for (int64_t i = 0; i < c.n; ++i) {
    for (int64_t o = 0; o < c.oc; ++o) {
      std::optional<float> b;
      if (c.bias) b = (*c.bias)[o];
      r.y[i * c.oc + o] = DynamicEpilogue(r.acc[i * c.oc + o], r.act.scale, c.weight.Scale(o),
                                          c.weight.per_channel(), b, c.relu, engine);
    }
  }
  return r;
}

std::vector<double> LinearDynamicExact(const DynamicLinearCase& c, DynamicEngine engine) {
  const DynamicRecipeOutput r = LinearDynamicRecipe(c, engine);
  std::vector<double> y(r.acc.size());
  for (int64_t i = 0; i < c.n; ++i) {
    for (int64_t o = 0; o < c.oc; ++o) {
      // acc·s_x·s_w is the exact product of the dequantized values, summed; the double product
      // of three factors rounds twice (relative error ≤ 2^-52), negligible against 2^-24.
      double v = static_cast<double>(r.acc[i * c.oc + o]) * r.act.scale * c.weight.Scale(o);
      if (c.bias) v += (*c.bias)[o];
      if (c.relu) v = std::max(v, 0.0);
      y[i * c.oc + o] = v;
    }
  }
  return y;
}

namespace {
// Position of a float on a line where consecutive floats are consecutive integers (±0 → 0).
int64_t OrderedBits(float f) {
  int32_t i;
  std::memcpy(&i, &f, sizeof i);
  return i >= 0 ? static_cast<int64_t>(i) : -static_cast<int64_t>(i & 0x7fffffff);
}
}  // namespace

int64_t UlpDistance(float value, double exact) {
  return std::llabs(OrderedBits(value) - OrderedBits(static_cast<float>(exact)));
}

}  // namespace qdiff
