// qdiff_scheme_bias: how far, and in which direction, every scheme strays from `exact` on random
// realistic inputs. A mean signed difference that is not ~0 reveals a biased rule (gemmlowp's
// test statistics): rounding ties toward +inf (single_rounding, rndnu) pushes the mean up, and the
// columns restricted to exact ties show it directly.
//
//   qdiff_scheme_bias [N [seed]]      N inputs (default 10^6; "1e7" accepted), seed default 1
//
// Inputs come from scheme_inputs.h: a new channel (scales, z_y, bias, range) every
// kInputsPerChannel accumulators. For each input every scheme's clamped output y_s is compared
// with y_exact; d = y_s − y_exact in output LSB. A tie is an input whose exact value
// (acc·s_x·s_w + b)/s_y is exactly halfway between two integers (the exact scheme's trace).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "oracles/scheme.h"
#include "tests/benchmarks/scheme_inputs.h"

namespace qdiff {
namespace {

constexpr int kInputsPerChannel = 16;

struct Stats {
  int64_t evaluated = 0;   // inputs where the scheme's ingredients combine (all, for the schemes)
  int64_t mismatches = 0;
  int64_t sum_diff = 0;
  int64_t max_abs_diff = 0;
  int64_t tie_mismatches = 0;
  int64_t tie_sum_diff = 0;
  int64_t non_tie_sum_diff = 0;
};

double Ratio(int64_t num, int64_t den) { return den ? static_cast<double>(num) / den : 0.0; }

int Run(int64_t n, uint64_t seed) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<const SchemeDef*>& schemes = AllSchemes();
  std::vector<Stats> stats(schemes.size());
  std::mt19937_64 rng(seed);
  int64_t ties = 0, clamped = 0, channels = 0, power_of_two_channels = 0;
  ChannelTerms terms;
  for (int64_t i = 0; i < n; ++i) {
    if (i % kInputsPerChannel == 0) {
      terms = PrepareChannel(bench::DrawChannelQuant(rng));
      ++channels;
      int exponent = 0;
      power_of_two_channels += std::frexp(terms.multiplier_double, &exponent) == 0.5;
    }
    const int64_t acc = bench::DrawAccumulator(rng, terms);
    RecipeTrace trace;
    const int32_t exact = *EvaluateRecipe(kExactScheme.recipe, terms, acc, &trace);
    ties += trace.exact_tie;
    clamped += trace.rounded < terms.quant.range.qmin || trace.rounded > terms.quant.range.qmax;
    for (size_t s = 0; s < schemes.size(); ++s) {
      const std::optional<int32_t> y = EvaluateRecipe(schemes[s]->recipe, terms, acc);
      if (!y) continue;
      Stats& st = stats[s];
      const int64_t d = int64_t{*y} - exact;
      ++st.evaluated;
      st.mismatches += d != 0;
      st.sum_diff += d;
      st.max_abs_diff = std::max<int64_t>(st.max_abs_diff, d < 0 ? -d : d);
      if (trace.exact_tie) {
        st.tie_mismatches += d != 0;
        st.tie_sum_diff += d;
      } else {
        st.non_tie_sum_diff += d;
      }
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::printf("qdiff_scheme_bias: N = %" PRId64 ", seed = %" PRIu64 ", %" PRId64
              " channels (%d inputs each), %.1f s\n",
              n, seed, channels, kInputsPerChannel, seconds);
  std::printf("channels with M = 2^-k: %" PRId64 " (%.1f%%); exact ties: %" PRId64
              " (%.3f%% of inputs); exact outputs clamped: %.1f%%\n",
              power_of_two_channels, 100 * Ratio(power_of_two_channels, channels), ties,
              100 * Ratio(ties, n), 100 * Ratio(clamped, n));
  std::printf("d = y_scheme - y_exact in output LSB; 'ties' columns: inputs whose exact value is "
              "k + 1/2\n\n");
  std::printf("%-16s %10s %12s %7s | %10s %10s | %12s\n", "scheme", "mismatch", "mean d",
              "max|d|", "tie mism.", "tie mean d", "non-tie mean");
  for (size_t s = 0; s < schemes.size(); ++s) {
    const Stats& st = stats[s];
    if (st.evaluated != n) {
      std::printf("%-16s (evaluated on %" PRId64 " inputs only)\n", schemes[s]->name,
                  st.evaluated);
    }
    std::printf("%-16s %9.4f%% %+12.3e %7" PRId64 " | %9.2f%% %+10.4f | %+12.3e\n",
                schemes[s]->name, 100 * Ratio(st.mismatches, st.evaluated),
                Ratio(st.sum_diff, st.evaluated), st.max_abs_diff,
                100 * Ratio(st.tie_mismatches, ties), Ratio(st.tie_sum_diff, ties),
                Ratio(st.non_tie_sum_diff, st.evaluated - ties));
  }
  return 0;
}

}  // namespace
}  // namespace qdiff

int main(int argc, char** argv) {
  const int64_t n = argc > 1 ? static_cast<int64_t>(std::strtod(argv[1], nullptr)) : 1000000;
  const uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1;
  if (n <= 0 || argc > 3) {
    std::fprintf(stderr, "usage: %s [N (default 1e6) [seed (default 1)]]\n", argv[0]);
    return 2;
  }
  return qdiff::Run(n, seed);
}
