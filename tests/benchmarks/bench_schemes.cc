// qdiff_bench_schemes: cost per output element of every requantization scheme, and of each
// binary32 recipe against its integer-only twin, over one fixed pre-generated batch.
//
//   BM_Scheme/<scheme>        EvaluateRecipe(scheme.recipe, terms, acc) for every element
//   BM_FloatRecipe/<scheme>   the same, binary32 schemes only (hardware float)
//   BM_IntegerTwin/<scheme>   RequantizeFloat32Twin(params, acc), params precomputed per channel
//
// The batch is kChannels channels × kAccsPerChannel accumulators drawn by scheme_inputs.h with a
// fixed seed; PrepareChannel and MakeFloat32TwinParams run once, outside the timed loop. Items
// processed = elements, so Google Benchmark prints items/s (and t/elem); CPU ns/element per
// scheme and the twin/float ratios are summarized after the run (medians with repetitions).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "oracles/float32_twin.h"
#include "oracles/scheme.h"
#include "tests/benchmarks/scheme_inputs.h"

namespace qdiff {
namespace {

constexpr int kChannels = 16;
constexpr int kAccsPerChannel = 4096;
constexpr int64_t kBatch = int64_t{kChannels} * kAccsPerChannel;
constexpr uint64_t kSeed = 20240611;

struct Batch {
  std::vector<ChannelTerms> terms;          // [kChannels]
  std::vector<std::vector<int64_t>> accs;   // [kChannels][kAccsPerChannel]
};

const Batch& GetBatch() {
  static const Batch batch = [] {
    Batch b;
    std::mt19937_64 rng(kSeed);
    for (int c = 0; c < kChannels; ++c) {
      b.terms.push_back(PrepareChannel(bench::DrawChannelQuant(rng)));
      std::vector<int64_t> accs(kAccsPerChannel);
      for (int64_t& a : accs) a = bench::DrawAccumulator(rng, b.terms.back());
      b.accs.push_back(std::move(accs));
    }
    return b;
  }();
  return batch;
}

void SetElementCounters(benchmark::State& state) {
  state.SetItemsProcessed(state.iterations() * kBatch);
  // Seconds per element (printed as e.g. "12.3n"): the rate of elements, inverted.
  state.counters["t/elem"] = benchmark::Counter(
      static_cast<double>(kBatch),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void BmRecipe(benchmark::State& state, const SchemeDef* scheme) {
  const Batch& b = GetBatch();
  for (auto _ : state) {
    int64_t checksum = 0;
    for (int c = 0; c < kChannels; ++c) {
      for (int64_t acc : b.accs[c]) {
        const std::optional<int32_t> y = EvaluateRecipe(scheme->recipe, b.terms[c], acc);
        checksum += y ? *y : 0;
      }
    }
    benchmark::DoNotOptimize(checksum);
  }
  SetElementCounters(state);
}

void BmTwin(benchmark::State& state, const SchemeDef* scheme) {
  const Batch& b = GetBatch();
  std::vector<Float32TwinParams> params;
  for (const ChannelTerms& t : b.terms) params.push_back(*MakeFloat32TwinParams(scheme->recipe, t));
  for (auto _ : state) {
    int64_t checksum = 0;
    for (int c = 0; c < kChannels; ++c) {
      for (int64_t acc : b.accs[c]) checksum += RequantizeFloat32Twin(params[c], acc);
    }
    benchmark::DoNotOptimize(checksum);
  }
  SetElementCounters(state);
}

// The twin must reproduce the float recipe on this very batch, or the ratio compares different
// computations. Cheap (one pass), so it runs before any benchmark.
bool TwinMatchesFloat(const SchemeDef& scheme) {
  const Batch& b = GetBatch();
  for (int c = 0; c < kChannels; ++c) {
    const Float32TwinParams p = *MakeFloat32TwinParams(scheme.recipe, b.terms[c]);
    for (int64_t acc : b.accs[c]) {
      if (RequantizeFloat32Twin(p, acc) != EvaluateRecipe(scheme.recipe, b.terms[c], acc)) {
        std::fprintf(stderr, "twin differs from %s: channel %d acc %lld\n", scheme.name, c,
                     static_cast<long long>(acc));
        return false;
      }
    }
  }
  return true;
}

// Console output as usual, plus a summary of ns/element and twin/float ratios at the end.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  explicit SummaryReporter(OutputOptions options) : ConsoleReporter(options) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.error_occurred || r.iterations == 0) continue;
      // With repetitions, keep the median aggregate (or the last plain run when none).
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
      // CPU time, like the items/s and t/elem columns: on a shared machine the wall clock also
      // counts time spent descheduled.
      const double elements = static_cast<double>(r.iterations) * kBatch;
      ns_per_element_[r.run_name.function_name] = r.cpu_accumulated_time * 1e9 / elements;
    }
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    GetOutputStream().flush();
    std::FILE* out = stdout;
    std::fprintf(out, "\n%-18s %12s\n", "scheme", "CPU ns/elem");
    for (const SchemeDef* s : AllSchemes()) {
      const auto it = ns_per_element_.find(std::string("BM_Scheme/") + s->name);
      if (it != ns_per_element_.end()) std::fprintf(out, "%-18s %12.2f\n", s->name, it->second);
    }
    std::fprintf(out, "\n%-18s %12s %12s %12s\n", "binary32 scheme", "float ns", "twin ns",
                 "twin/float");
    for (const SchemeDef* s : AllSchemes()) {
      const auto f = ns_per_element_.find(std::string("BM_FloatRecipe/") + s->name);
      const auto t = ns_per_element_.find(std::string("BM_IntegerTwin/") + s->name);
      if (f == ns_per_element_.end() || t == ns_per_element_.end()) continue;
      std::fprintf(out, "%-18s %12.2f %12.2f %12.2f\n", s->name, f->second, t->second,
                   t->second / f->second);
    }
  }

 private:
  std::map<std::string, double> ns_per_element_;
};

}  // namespace
}  // namespace qdiff

int main(int argc, char** argv) {
  using namespace qdiff;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  for (const SchemeDef* s : AllSchemes()) {
    benchmark::RegisterBenchmark((std::string("BM_Scheme/") + s->name).c_str(), BmRecipe, s);
  }
  for (const SchemeDef* s : AllSchemes()) {
    if (!MakeFloat32TwinParams(s->recipe, GetBatch().terms[0])) continue;  // not binary32
    if (!TwinMatchesFloat(*s)) return 1;
    benchmark::RegisterBenchmark((std::string("BM_FloatRecipe/") + s->name).c_str(), BmRecipe, s);
    benchmark::RegisterBenchmark((std::string("BM_IntegerTwin/") + s->name).c_str(), BmTwin, s);
  }

  // Colour only on a terminal, so a redirected log stays plain text.
  SummaryReporter reporter(isatty(STDOUT_FILENO) ? benchmark::ConsoleReporter::OO_Color
                                                 : benchmark::ConsoleReporter::OO_None);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
