#include "harness/checks/dynamic_check.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <optional>
#include <random>
#include <sstream>

#include "harness/torch/libtorch_dynamic.h"
#include "harness/torch/libtorch_runner.h"
#include "oracles/linear_dynamic.h"

namespace qdiff {
namespace {

// Kinds of activation tensors, with their weights (out of the sum) in one table.
enum class ActKind { kUniform, kConstant, kAllNegative, kAllPositive, kTiny, kPow2Grid, kNearTie };
struct ActKindWeight {
  ActKind kind;
  int weight;
};
constexpr ActKindWeight kActKinds[] = {
    {ActKind::kUniform, 25},  {ActKind::kConstant, 8},  {ActKind::kAllNegative, 8},
    {ActKind::kAllPositive, 5}, {ActKind::kTiny, 9},   {ActKind::kPow2Grid, 20},
    {ActKind::kNearTie, 25}};

constexpr int kMaxPrinted = 5;  // mismatch / rejection lines printed per engine

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}
  int Int(int lo, int hi) { return lo + static_cast<int>(rng_() % static_cast<uint64_t>(hi - lo + 1)); }
  double Unit() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }  // [0, 1)
  bool Coin(int percent) { return Int(0, 99) < percent; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) { return v[static_cast<size_t>(Int(0, static_cast<int>(v.size()) - 1))]; }

 private:
  std::mt19937_64 rng_;
};

ActKind PickKind(Gen& g) {
  int total = 0;
  for (const auto& k : kActKinds) total += k.weight;
  int r = g.Int(0, total - 1);
  for (const auto& k : kActKinds) {
    if (r < k.weight) return k.kind;
    r -= k.weight;
  }
  return ActKind::kUniform;
}

// Moves v by `steps` binary32 ulps (sign = direction).
float NudgeUlps(float v, int steps) {
  for (; steps > 0; --steps) v = std::nextafter(v, HUGE_VALF);
  for (; steps < 0; ++steps) v = std::nextafter(v, -HUGE_VALF);
  return v;
}

// Fills c.x (size n·k). The grid kinds aim at the qparams the op will choose, so that many
// activations are exact ties x/s = j + 1/2 or lie within an ulp or two of one.
void FillActivations(Gen& g, DynamicLinearCase& c) {
  const size_t count = static_cast<size_t>(c.n * c.k);
  c.x.assign(count, 0.0f);
  const double magnitude = g.Pick(std::vector<double>{1e-3, 0.1, 1.0, 10.0, 1000.0});
  auto uniform = [&](double lo, double hi) { return static_cast<float>(lo + (hi - lo) * g.Unit()); };
  switch (PickKind(g)) {
    case ActKind::kUniform: {
      const double lo = -magnitude * g.Unit(), hi = magnitude * g.Unit();
      for (float& v : c.x) v = uniform(lo, hi);
      break;
    }
    case ActKind::kConstant: {
      const float v = g.Pick(std::vector<float>{0.0f, static_cast<float>(magnitude * g.Unit()),
                                                -static_cast<float>(magnitude * g.Unit())});
      std::fill(c.x.begin(), c.x.end(), v);
      break;
    }
    case ActKind::kAllNegative:
      for (float& v : c.x) v = uniform(-magnitude, -magnitude * 0.01);
      break;
    case ActKind::kAllPositive:
      for (float& v : c.x) v = uniform(magnitude * 0.01, magnitude);
      break;
    case ActKind::kTiny: {
      // max − min < 255 · 6.1e-5: the SMALL_SCALE_THRESHOLD branch (all three of its cases).
      const double r = g.Pick(std::vector<double>{1e-7, 1e-5, 1e-3});
      const int sign = g.Int(-1, 1);  // −1 all ≤ 0, +1 all ≥ 0, 0 mixed
      for (float& v : c.x) {
        v = sign < 0 ? uniform(-r, 0) : sign > 0 ? uniform(0, r) : uniform(-r, r);
      }
      break;
    }
    case ActKind::kPow2Grid: {
      // s = 2^-e exactly; min = −z·s and max = (Q − z)·s make ChooseQuantizationParams return
      // (s, z), and (j + 1/2)·s is an exact tie. Q follows reduce_range (QNNPACK ignores it, so
      // its grid is then not a tie grid: fine, the values are still valid activations).
      const int q = c.reduce_range ? 127 : 255;
      const double s = std::ldexp(1.0, -g.Int(2, 8));
      const int z = g.Int(1, q - 1);
      for (float& v : c.x) {
        const int j = g.Int(-z, q - z - 1);
        v = static_cast<float>((g.Coin(70) ? j + 0.5 : j) * s);
      }
      c.x[0] = static_cast<float>(-z * s);
      c.x[count - 1] = static_cast<float>((q - z) * s);
      break;
    }
    case ActKind::kNearTie: {
      const float lo = -static_cast<float>(magnitude * g.Unit());
      const float hi = static_cast<float>(magnitude * g.Unit());
      const ChosenQParams p = ChooseQuantizationParams(lo, hi, 0, 255, c.reduce_range);
      const int q = c.reduce_range ? 127 : 255;
      for (float& v : c.x) {
        const int j = g.Int(-p.zero_point, q - p.zero_point - 1);
        v = NudgeUlps(static_cast<float>((j + 0.5) * p.scale), g.Int(-2, 2));
        v = std::clamp(v, lo, hi);
      }
      c.x[0] = lo;
      c.x[count - 1] = hi;
      break;
    }
  }
}

DynamicLinearCase MakeCase(Gen& g) {
  DynamicLinearCase c;
  c.n = g.Int(1, 4);
  c.k = g.Int(1, 300);
  c.oc = g.Int(1, 16);
  c.reduce_range = g.Coin(50);
  c.relu = g.Coin(50);
  FillActivations(g, c);
  QTensor& w = c.weight;
  w.dtype = DType::kQInt8;
  w.shape = {c.oc, c.k};
  w.axis = g.Coin(50) ? 0 : -1;
  const bool asymmetric = g.Coin(25);  // nonzero weight zero points: ONEDNN rejects them
  const int channels = w.per_channel() ? static_cast<int>(c.oc) : 1;
  for (int ch = 0; ch < channels; ++ch) {
    const double raw = 1e-3 * std::pow(50.0, g.Unit());  // [1e-3, 5e-2)
    switch (g.Int(0, 2)) {
      case 0: w.scales.push_back(raw); break;                           // any double
      case 1: w.scales.push_back(static_cast<float>(raw)); break;       // a float value (observers)
      default: w.scales.push_back(std::ldexp(1.0, -g.Int(5, 10)));      // power of two
    }
    w.zero_points.push_back(asymmetric ? g.Int(-10, 10) : 0);
  }
  const int wmax = g.Pick(std::vector<int>{127, 127, 20, 1});
  for (int64_t i = 0; i < c.oc * c.k; ++i) w.values.push_back(g.Int(std::max(-128, -wmax - 1), wmax));
  if (g.Coin(50)) {
    std::vector<float> b(static_cast<size_t>(c.oc));
    for (float& v : b) v = g.Coin(10) ? 0.0f : static_cast<float>(4.0 * g.Unit() - 2.0);  // never −0
    c.bias = b;
  }
  return c;
}

std::string Hex(float f) {
  std::ostringstream s;
  s << std::hexfloat << f;
  return s.str();
}

}  // namespace

DynamicCheckResult RunDynamicCheck(int64_t cases, uint64_t seed,
                                   const std::vector<Engine>& engines, std::ostream& out) {
  InitLibTorch();
  DynamicCheckResult r;
  for (Engine e : engines.empty() ? AvailableEngines() : engines) {
    DynamicEngineCounts counts;
    counts.engine = e;
    r.engines.push_back(counts);
  }
  std::vector<int> printed(r.engines.size(), 0);
  Gen g(seed);
  for (int64_t t = 0; t < cases; ++t) {
    const DynamicLinearCase c = MakeCase(g);
    ++r.cases;
    {
      // Diagnostic: how often the three activation formulas disagree (non-vacuity).
      const ChosenQParams p = DynamicActivationQParams(c.x, DynamicEngine::kFbgemm, c.reduce_range);
      for (float v : c.x) {
        const int32_t a = QuantizeActivation(v, p, DynamicEngine::kQnnpack);
        r.activation_form_splits += a != QuantizeActivation(v, p, DynamicEngine::kFbgemm) ||
                                    a != QuantizeActivation(v, p, DynamicEngine::kOnednn);
      }
    }
    for (size_t ei = 0; ei < r.engines.size(); ++ei) {
      DynamicEngineCounts& ec = r.engines[ei];
      ++ec.cases;
      const DynamicEngine recipe_engine = DynamicEngineOf(ec.engine);
      const DynamicOutcome lt = RunLinearDynamicOnLibTorch(c, ec.engine);
      if (lt.rejected) {
        ++ec.rejected;
        if (printed[ei]++ < kMaxPrinted) {
          out << ec.engine << " case " << t << " rejected: " << lt.message << "\n";
        }
        continue;
      }
      const DynamicRecipeOutput ours = LinearDynamicRecipe(c, recipe_engine);
      const std::vector<double> exact = LinearDynamicExact(c, recipe_engine);
      for (size_t i = 0; i < ours.y.size(); ++i) {
        ++ec.elements;
        const float theirs = i < lt.values.size() ? lt.values[i] : NAN;
        const int64_t oc = static_cast<int64_t>(i) % c.oc;
        if (std::memcmp(&ours.y[i], &theirs, sizeof theirs) != 0) {
          ++ec.mismatches;
          if (printed[ei]++ < kMaxPrinted) {
            out << ec.engine << " mismatch: seed " << seed << " case " << t << " [n=" << c.n
                << " k=" << c.k << " oc=" << c.oc << (c.weight.per_channel() ? " per-channel" : "")
                << (c.bias ? " bias" : "") << (c.relu ? " relu" : "")
                << (c.reduce_range ? " reduce_range" : "") << "] element " << i
                << " acc=" << ours.acc[i] << " s_x=" << std::setprecision(17) << ours.act.scale
                << " z_x=" << ours.act.zero_point << " s_w=" << c.weight.Scale(oc)
                << " qdiff=" << Hex(ours.y[i]) << " libtorch=" << Hex(theirs) << "\n";
          }
        }
        if (std::isfinite(theirs)) {
          ec.max_ulp_exact = std::max(ec.max_ulp_exact, UlpDistance(theirs, exact[i]));
          const double unit = ours.act.scale * c.weight.Scale(oc);
          ec.max_error_acc_units =
              std::max(ec.max_error_acc_units, std::fabs(theirs - exact[i]) / unit);
        }
      }
    }
  }
  out << "dynamic-check: " << r.cases << " cases, seed " << seed << ", "
      << r.activation_form_splits << " activations where the engines' quantize formulas split\n";
  out << std::left << std::setw(9) << "engine" << std::right << std::setw(7) << "cases"
      << std::setw(10) << "elements" << std::setw(12) << "mismatches" << std::setw(10)
      << "rejected" << std::setw(15) << "max_ulp_exact" << std::setw(16) << "max_err_acc_u" << "\n";
  for (const DynamicEngineCounts& ec : r.engines) {
    out << std::left << std::setw(9) << ec.engine << std::right << std::setw(7) << ec.cases
        << std::setw(10) << ec.elements << std::setw(12) << ec.mismatches << std::setw(10)
        << ec.rejected << std::setw(15) << ec.max_ulp_exact << std::setw(16)
        << std::setprecision(3) << ec.max_error_acc_units << "\n";
  }
  return r;
}

}  // namespace qdiff
