#include "harness/checks/seed_example.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

#include "harness/evaluation/case_evaluation.h"
#include "harness/evaluation/comparison.h"
#include "harness/evaluation/engines.h"
#include "harness/evaluation/explain.h"
#include "harness/torch/libtorch_runner.h"
#include "harness/case/provenance.h"
#include "oracles/observers.h"

namespace qdiff {

namespace {

// The float model of the forum thread: deterministic stand-ins for torch.randn and
// Conv2d(1,1,1)'s default init (kaiming_uniform(a=√5) with fan_in 1 → weight and bias U(−1, 1)).
struct FloatForumModel {
  std::vector<float> input;  // [4,1,4,4]
  float weight = 0;
  float bias = 0;
};

FloatForumModel MakeFloatModel() {
  std::mt19937_64 rng(20221118);  // fixed: every run shows the same numbers
  auto uniform = [&] { return (rng() >> 11) * 0x1.0p-53; };
  FloatForumModel m;
  for (int i = 0; i < 64; ++i) {  // Box–Muller, written out: std::normal_distribution varies by library
    const double u1 = 1.0 - uniform(), u2 = uniform();
    m.input.push_back(static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * M_PI * u2)));
  }
  m.weight = static_cast<float>(2 * uniform() - 1);
  m.bias = static_cast<float>(2 * uniform() - 1);
  return m;
}

// get_default_qconfig(engine) in 1.13 (docs/semantics.md#default-qconfigs), MinMaxObserver in
// place of the HistogramObserver for activations.
struct EngineQConfig {
  bool reduce_range;
  bool per_channel_weights;
};

EngineQConfig DefaultQConfig(Engine engine) {
  switch (engine) {
    case Engine::kQnnpack: return {false, false};
    case Engine::kOnednn: return {false, true};
    case Engine::kFbgemm:
    case Engine::kX86: break;
  }
  return {true, true};
}

Model CalibrateForumModel(const FloatForumModel& f, const EngineQConfig& qc) {
  // QuantStub's observer sees the input.
  const auto [in_min, in_max] = std::minmax_element(f.input.begin(), f.input.end());
  const QParams in_q = MinMaxQParams(*in_min, *in_max, DType::kQUInt8, QScheme::kAffine,
                                     qc.reduce_range);
  // The fused ConvReLU2d's observer sees relu(w·x + b) of the float model.
  float out_min = 0, out_max = 0;
  for (float x : f.input) {
    const float y = std::max(f.weight * x + f.bias, 0.0f);
    out_min = std::min(out_min, y);
    out_max = std::max(out_max, y);
  }
  const QParams out_q = MinMaxQParams(out_min, out_max, DType::kQUInt8, QScheme::kAffine,
                                      qc.reduce_range);
  const QParams w_q = MinMaxQParams(f.weight, f.weight, DType::kQInt8, QScheme::kSymmetric, false);

  Model m;
  m.input.dtype = DType::kQUInt8;
  m.input.shape = {4, 1, 4, 4};
  m.input.scales = {in_q.scale};
  m.input.zero_points = {in_q.zero_point};
  for (float x : f.input) {
    m.input.values.push_back(QuantizeValue(x, in_q.scale, in_q.zero_point, DType::kQUInt8));
  }
  Layer conv;
  conv.op = OpKind::kConv2d;
  conv.relu = true;
  conv.weight.dtype = DType::kQInt8;
  conv.weight.shape = {1, 1, 1, 1};
  conv.weight.axis = qc.per_channel_weights ? 0 : -1;
  conv.weight.scales = {w_q.scale};
  conv.weight.zero_points = {0};
  conv.weight.values = {QuantizeValue(f.weight, w_q.scale, 0, DType::kQInt8)};
  conv.bias = std::vector<float>{f.bias};
  conv.out_scale = out_q.scale;
  conv.out_zero_point = out_q.zero_point;
  m.layers.push_back(conv);
  return m;
}

// The element to walk through: the first where some scheme disagrees with LibTorch (the
// interesting case), else the largest output among inputs that are not 0 (so that the raw
// product x_q·w_q shown next to it is not trivially 0).
int64_t PickElement(const CaseRuns& runs, size_t engine, const QTensor& input) {
  const std::vector<int32_t>& lt = runs.libtorch[engine].layers[0].values;
  for (size_t i = 0; i < lt.size(); ++i) {
    for (const auto& p : runs.pipeline[engine]) {
      if (p[0].out[i] != lt[i]) return static_cast<int64_t>(i);
    }
  }
  int64_t best = 0;
  for (size_t i = 0; i < lt.size(); ++i) {
    const bool usable = input.values[i] != 0;
    if (usable && (input.values[best] == 0 || lt[i] > lt[best])) best = static_cast<int64_t>(i);
  }
  return best;
}

}  // namespace

int RunSeedExample(std::ostream& out) {
  InitLibTorch();
  const FloatForumModel f = MakeFloatModel();
  std::vector<Scheme> schemes;
  for (const SchemeDef* s : AllSchemes()) schemes.push_back(s->id);
  int exit_code = 0;
  out << "qdiff seed-example: QuantStub -> Conv2d(1,1,1)+ReLU (fused) -> DeQuantStub,\n"
      << "input randn(4,1,4,4), float weight " << f.weight << ", float bias " << f.bias << ".\n"
      << "Calibration: PyTorch's observer formulas for each engine's default qconfig, with\n"
      << "MinMaxObserver in place of the HistogramObserver for activations.\n"
      << "LibTorch " << LibTorchVersion() << ", CPU flags: " << CpuFlags() << "\n";
  for (Engine engine : AvailableEngines()) {
    const EngineQConfig qc = DefaultQConfig(engine);
    Case c;
    c.id = std::string("seed-example-") + EngineName(engine);
    c.model = CalibrateForumModel(f, qc);
    const CaseRuns runs = RunCase(c, {engine}, schemes);
    const Layer& layer = c.model.layers[0];
    out << "\n=== engine " << engine << " (qconfig '" << engine << "': activations quint8 ["
        << (qc.reduce_range ? "0,127" : "0,255") << "], weights qint8 "
        << (qc.per_channel_weights ? "per-channel" : "per-tensor") << " symmetric) ===\n";
    if (runs.libtorch[0].rejected) {
      out << "LibTorch rejected the model: " << runs.libtorch[0].message << "\n";
      exit_code = 1;
      continue;
    }
    const std::vector<int32_t>& lt = runs.libtorch[0].layers[0].values;
    out << "x: s_x=" << DoubleWithHex(c.model.input.scales[0])
        << " z_x=" << c.model.input.zero_points[0] << "\n"
        << "w: w_q=" << layer.weight.values[0] << " s_w=" << DoubleWithHex(layer.weight.scales[0])
        << " z_w=0\n"
        << "y: s_y=" << DoubleWithHex(layer.out_scale) << " z_y=" << layer.out_zero_point << "\n"
        << "LibTorch int_repr(): " << lt.size() << " elements\n";
    const Scheme own = EngineScheme(engine, layer, CpuHasVnni());
    char line[160];
    std::snprintf(line, sizeof line, "  %-34s %s\n", "recipe", "elements differing from LibTorch");
    out << line;
    for (size_t s = 0; s < schemes.size(); ++s) {
      const int64_t n = CompareOutputs(runs.pipeline[0][s][0].out, lt).mismatches;
      const bool is_own = own == schemes[s];
      std::snprintf(line, sizeof line, "  %-34s %lld / %zu\n",
                    (std::string(GetScheme(schemes[s]).name) +
                     (is_own ? " (this engine's recipe)" : "")).c_str(),
                    static_cast<long long>(n), lt.size());
      out << line;
      if (is_own && n != 0) exit_code = 1;
    }
    const int64_t float_diff = CompareOutputs(runs.float_oracle[0].out, lt).mismatches;
    std::snprintf(line, sizeof line, "  %-34s %lld / %zu\n", "float oracle (dequantize, f64)",
                  static_cast<long long>(float_diff), lt.size());
    out << line;

    // One element, in integers.
    const int64_t i = PickElement(runs, 0, c.model.input);
    const LayerTrace& trace = runs.pipeline[0][0][0];
    const ChannelTerms& terms = trace.channels[0];
    const int32_t xq = c.model.input.values[i], zx = c.model.input.zero_points[0];
    const int32_t wq = layer.weight.values[0];
    out << "\nElement " << i << " (n=" << i / 16 << ", h=" << (i / 4) % 4 << ", w=" << i % 4
        << "), in integers:\n"
        << "  x_q - z_x = " << xq << " - " << zx << " = " << xq - zx << "\n"
        << "  w_q - z_w = " << wq << " - 0 = " << wq << "\n"
        << "  acc = (x_q - z_x)(w_q - z_w) = " << trace.acc[i] << "   (int32 accumulator)\n"
        << "  raw int_repr product x_q*w_q = " << int64_t{xq} * wq
        << " skips the zero point and the multiplier: that is why hand-multiplied int_repr\n"
        << "  values come out far too large; the multiplier M = s_x*s_w/s_y = "
        << DoubleWithHex(terms.multiplier_double) << " brings acc back to output units.\n";
    for (size_t s = 0; s < schemes.size(); ++s) {
      const SchemeDef& def = GetScheme(schemes[s]);
      out << " " << def.name << (own == schemes[s] ? " (this engine's recipe)" : "")
          << ": " << def.formula << "\n"
          << ExplainScheme(def, terms, trace.acc[i], "    ");
    }
    out << "  LibTorch int_repr() = " << lt[i] << ";  float oracle = "
        << runs.float_oracle[0].out[i] << " (real " << runs.float_oracle[0].real[i]
        << " / s_y, RNE, + z_y)\n"
        << "  dequantized output = s_y*(y - z_y) = "
        << layer.out_scale * (lt[i] - layer.out_zero_point) << "\n";
  }
  out << "\nResult: " << (exit_code == 0 ? "every engine's own recipe reproduces LibTorch bit for bit"
                                         : "an engine's recipe does NOT reproduce LibTorch")
      << "\n";
  return exit_code;
}

}  // namespace qdiff
