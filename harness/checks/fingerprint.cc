#include "harness/checks/fingerprint.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <sstream>

#include "harness/evaluation/case_evaluation.h"
#include "harness/evaluation/engines.h"
#include "harness/case/provenance.h"
#include "oracles/fnv1a.h"
#include "properties/case_generator.h"

namespace qdiff {

namespace {

constexpr int kVariantsPerFamily = 4;  // relu off/on × per-tensor/per-channel weights

// Value ranges and scales of one diagnostic family.
struct FamilySpec {
  const char* name;
  int32_t x_zero_point;
  int x_spread;          // x = z_x + U[−x_spread, x_spread], or x_high_fraction at 255
  double x_high_fraction;
  int w_spread;          // w = U[−w_spread, w_spread], or w_high_fraction at 127
  double w_high_fraction;
  bool large;            // K ≈ 1024 (linear) / 64 input channels (conv)
  double s_x, s_w;       // per-channel: odd channels use s_w / 2
  // Output scale: s_y = s_x·s_w / fixed_multiplier when > 0; otherwise from the real range.
  double fixed_multiplier;
  bool bias_half_lsb;    // bias = (k + 1/2)·s_x·s_w exactly
  bool observer_scales;  // non-power-of-two float scales and a random float bias
};

const std::vector<FamilySpec>& Families() {
  static const std::vector<FamilySpec> kFamilies = {
      {"ties", 128, 3, 0, 3, 0, false, 0x1p-3, 0x1p-4, 0.5, false, false},
      {"bias_rounding", 128, 3, 0, 3, 0, false, 0x1p-3, 0x1p-4, 0.5, true, false},
      {"large_accumulator", 0, 0, 0.9, 0, 0.85, true, 0x1p-4, 0x1p-5, 0, false, false},
      {"multiplier_above_1", 128, 2, 0, 3, 0, false, 0x1p-3, 0x1p-4, 2.5, false, false},
      {"overflow", 0, 0, 0.9, 0, 0.85, true, 0x1p-4, 0x1p-5, 256, false, false},
      {"observer_scales", 0, 0, 0, 127, 0, false, 0, 0, 0, false, true},
  };
  return kFamilies;
}

Case BuildCase(OpKind op, const FamilySpec& f, int variant) {
  // Seeded from the op's and family's names, not enum values: adding an op changes no other op's cases.
  std::mt19937_64 rng(1000 * variant + Fnv1a64(OpKindName(op)) + Fnv1a64(f.name));
  auto uniform = [&](int lo, int hi) {
    return lo + static_cast<int>(rng() % static_cast<uint64_t>(hi - lo + 1));
  };
  auto chance = [&](double p) { return (rng() >> 11) * 0x1.0p-53 < p; };
  const bool relu = variant % 2 == 1;
  const bool per_channel = (variant / 2) % 2 == 1;

  Case c;
  c.id = std::string("fingerprint-") + OpKindName(op) + "-" + f.name + "-" + std::to_string(variant);
  c.description = std::string("diagnostic family ") + f.name;
  Model& m = c.model;
  Layer layer;
  layer.op = op;
  layer.relu = relu;
  const int64_t channels = 4;
  ConvAttrs& a = layer.conv;
  switch (op) {
    case OpKind::kLinear: {
      const int64_t k = f.large ? 1024 : 8;
      m.input.shape = {2, k};
      layer.weight.shape = {channels, k};
      break;
    }
    case OpKind::kConv1d: {  // K = 3·C: 256 channels take |acc| beyond 2^24
      const int64_t c_in = f.large ? 256 : 1;
      m.input.shape = {1, c_in, 6};
      layer.weight.shape = {channels, c_in, 3};
      a.padding[0] = 1;
      break;
    }
    case OpKind::kConv3d: {
      const int64_t c_in = f.large ? 32 : 1;
      m.input.shape = {1, c_in, 3, 3, 3};
      layer.weight.shape = {channels, c_in, 3, 3, 3};
      a.padding[0] = a.padding[1] = a.padding[2] = 1;
      break;
    }
    case OpKind::kConvTranspose2d: {
      // stride 2 (outputs of both parities: 1 or 2 taps per dimension); no output_padding,
      // which ONEDNN rejects. The large family uses stride 1 so that each output sums 9 taps.
      const int64_t c_in = f.large ? 64 : 1;
      m.input.shape = {1, c_in, 3, 3};
      layer.weight.shape = {c_in, channels, 3, 3};
      a.padding[0] = a.padding[1] = 1;
      if (!f.large) a.stride[0] = a.stride[1] = 2;
      layer.relu = false;  // LibTorch has no conv_transpose2d_relu
      break;
    }
    default: {
      const int64_t c_in = f.large ? 64 : 1;
      m.input.shape = {1, c_in, 4, 4};
      layer.weight.shape = {channels, c_in, 3, 3};
      a.padding[0] = a.padding[1] = 1;
      break;
    }
  }
  m.input.dtype = DType::kQUInt8;
  m.input.zero_points = {f.x_zero_point};
  m.input.scales = {f.observer_scales ? static_cast<float>(6.0f / 255.0f) : f.s_x};
  if (f.observer_scales) m.input.zero_points = {128};
  for (int64_t i = 0; i < m.input.NumElements(); ++i) {
    int32_t x;
    if (f.observer_scales) {
      x = uniform(0, 255);
    } else if (f.x_high_fraction > 0) {
      x = chance(f.x_high_fraction) ? 255 : uniform(0, 255);
    } else {
      x = f.x_zero_point + uniform(-f.x_spread, f.x_spread);
    }
    m.input.values.push_back(x);
  }
  QTensor& w = layer.weight;
  w.dtype = DType::kQInt8;
  // per-channel along the output-channel axis (conv_transpose2d: axis 1 of [C, OC, kH, kW]);
  // ONEDNN rejects per-channel transposed-conv weights (QNNPACK runs them): those rows are
  // counted as rejected in the table
  w.axis = per_channel ? (IsTransposedConv(op) ? 1 : 0) : -1;
  for (int64_t i = 0; i < w.NumElements(); ++i) {
    w.values.push_back(f.w_high_fraction > 0 ? (chance(f.w_high_fraction) ? 127 : uniform(-128, 127))
                                             : uniform(-f.w_spread, f.w_spread));
  }
  const int64_t n_scales = per_channel ? channels : 1;
  for (int64_t ch = 0; ch < n_scales; ++ch) {
    double s = ch % 2 == 1 ? f.s_w / 2 : f.s_w;
    if (f.observer_scales) s = static_cast<float>(static_cast<float>(0.05 + 0.01 * uniform(0, 40)) / 127.5f);
    w.scales.push_back(s);
    w.zero_points.push_back(0);
  }
  if (f.bias_half_lsb || f.observer_scales) {
    std::vector<float> bias;
    for (int64_t ch = 0; ch < channels; ++ch) {
      const double unit = m.input.scales[0] * w.Scale(ch);
      bias.push_back(static_cast<float>(f.bias_half_lsb ? (uniform(-10, 10) + 0.5) * unit
                                                        : uniform(-2000, 2000) * 0.001));
    }
    layer.bias = std::move(bias);
  }
  if (f.fixed_multiplier > 0) {
    layer.out_scale = static_cast<float>(m.input.scales[0] * w.scales[0] / f.fixed_multiplier);
    layer.out_zero_point = variant % 4 < 2 ? 127 : 128;  // odd and even: zero-point order shows
  } else {
    DeriveOutputQParams(&layer, m.input, 1.0, false);
  }
  m.layers.push_back(std::move(layer));
  return c;
}

// The "unexplained:N" entry of a CaseRow's classes ("bias:3;unexplained:2").
int64_t UnexplainedCount(const std::string& classes) {
  const std::string key = "unexplained:";
  const size_t at = classes.find(key);
  return at == std::string::npos ? 0 : std::stoll(classes.substr(at + key.size()));
}

}  // namespace

std::vector<DiagnosticCase> DiagnosticCases(OpKind op) {
  std::vector<DiagnosticCase> cases;
  for (const FamilySpec& f : Families()) {
    for (int v = 0; v < kVariantsPerFamily; ++v) cases.push_back({f.name, BuildCase(op, f, v)});
  }
  return cases;
}

FingerprintResult RunFingerprint(const std::vector<Engine>& engines,
                                 const std::vector<Scheme>& schemes) {
  FingerprintResult result;
  std::ostringstream table;
  for (OpKind op : {OpKind::kConv2d, OpKind::kLinear, OpKind::kConv1d, OpKind::kConv3d,
                    OpKind::kConvTranspose2d}) {
    const std::vector<DiagnosticCase> cases = DiagnosticCases(op);
    for (Engine engine : engines) {
      // (scheme, family) → accumulated counts, in scheme order.
      std::map<std::pair<size_t, std::string>, FingerprintRow> acc;
      int64_t rejected = 0;
      for (const DiagnosticCase& d : cases) {
        const CaseEvaluation ev = EvaluateRuns(d.c, RunCase(d.c, {engine}, schemes));
        for (size_t s = 0; s < ev.case_rows.size(); ++s) {
          const CaseRow& r = ev.case_rows[s];
          if (r.verdict == Verdict::kRejected) {
            ++rejected;
            continue;
          }
          FingerprintRow& row = acc[{s, d.family}];
          row.op = OpKindName(op);
          row.engine = EngineName(engine);
          row.scheme = r.scheme;
          row.family = d.family;
          ++row.cases;
          row.elements += r.elements;
          row.mismatches += r.mismatches_vs_libtorch;
          row.unexplained += UnexplainedCount(r.classes);
          row.max_abs_diff_lsb = std::max(row.max_abs_diff_lsb, r.max_abs_diff_lsb.value_or(0));
        }
      }
      const Scheme own = EngineScheme(engine, cases[0].c.model.layers[0], CpuHasVnni());
      table << "\n" << OpKindName(op) << " on " << engine << " (" << cases.size()
            << " diagnostic cases, accumulator "
            << AccumulatorModelName(EngineAccumulatorModel(engine, cases[0].c.model.layers[0])) << (rejected ? ", " + std::to_string(rejected) + " rejected" : "")
            << "):\n";
      char line[256];
      std::snprintf(line, sizeof line, "  %-16s %9s %10s %11s  %s\n", "scheme", "elements",
                    "mismatches", "unexplained", "families with differences");
      table << line;
      std::vector<std::string> reproducing;
      for (size_t s = 0; s < schemes.size(); ++s) {
        int64_t elements = 0, mismatches = 0, unexplained = 0;
        std::string families;
        for (auto& [key, row] : acc) {
          if (key.first != s) continue;
          elements += row.elements;
          mismatches += row.mismatches;
          unexplained += row.unexplained;
          if (row.mismatches) {
            families += (families.empty() ? "" : " ") + row.family + ":" + std::to_string(row.mismatches);
          }
          result.rows.push_back(row);
        }
        const std::string name = GetScheme(schemes[s]).name;
        const bool is_own = own == schemes[s];
        if (mismatches == 0 && elements > 0) reproducing.push_back(name);
        // The engine's recipe must explain everything: bit for bit, or through the kernel's
        // accumulator model (16-bit pair saturation when the CPU path has no VNNI).
        if (is_own && (unexplained != 0 || elements == 0)) result.engine_recipes_reproduce = false;
        std::snprintf(line, sizeof line, "  %-16s %9lld %10lld %11lld  %s%s\n", name.c_str(),
                      static_cast<long long>(elements), static_cast<long long>(mismatches),
                      static_cast<long long>(unexplained), families.empty() ? "-" : families.c_str(),
                      is_own ? "   <- engine's recipe" : "");
        table << line;
      }
      table << "  reproduces LibTorch bit for bit: ";
      for (size_t i = 0; i < reproducing.size(); ++i) table << (i ? ", " : "") << reproducing[i];
      table << (reproducing.empty() ? "(no scheme)" : "") << "\n";
    }
  }
  result.table = table.str();
  return result;
}

}  // namespace qdiff
