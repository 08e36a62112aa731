#include "harness/campaign/throughput.h"


#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <sstream>
#include <tuple>

#include "harness/campaign/answer.h"
#include "harness/campaign/case_index.h"
#include "harness/evaluation/case_evaluation.h"
#include "harness/evaluation/engines.h"
#include "harness/evaluation/shrink.h"
#include "harness/torch/libtorch_runner.h"
#include "reports/example_rows.h"

namespace qdiff {

namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int64_t OutputElements(const EngineResult& r) {
  int64_t n = 0;
  for (const LayerOutput& layer : r.layers) n += static_cast<int64_t>(layer.values.size());
  return n;
}

// What a worker keeps across the cases it checks: the bounds of the rows it sends (WorkerRows),
// one per check (every scheme; the engine's own), as in the steady state of a long campaign (past
// its first --all-rows-cases cases, which send every row).
struct WorkerState {
  WorkerRows all{0, kDefaultMaxExampleRows}, own{0, kDefaultMaxExampleRows};
};

// What a worker does for case `index` once it is drawn (worker.cc): run (with the accumulators
// the draw computed, if any), evaluate, read its findings, serialise the rows it sends. Adds the
// time of each stage to `stages`.
void FullCheck(const Case& c, const SharedValues<int64_t>& first_layer_acc, int64_t index, Engine engine,
               const std::vector<Scheme>& schemes, WorkerRows* worker_rows, CheckStages* stages) {
  Clock::time_point t0 = Clock::now();
  const CaseRuns runs = RunCase(c, {engine}, schemes, nullptr, first_layer_acc);
  const double run_s = SecondsSince(t0);
  t0 = Clock::now();
  CaseEvaluation ev = EvaluateRuns(c, runs);
  const double evaluate_s = SecondsSince(t0);
  t0 = Clock::now();
  ExampleRowBound case_bound(kDefaultMaxExampleRows);
  KeepExampleRows(&ev.discrepancies, &case_bound);
  CaseAnswer answer;
  for (const FailureSignature& sig : AllFindings(ev)) answer.signatures.push_back(sig.ToString());
  answer.rows = worker_rows->Pack(index, std::move(ev.case_rows), std::move(ev.discrepancies));
  const std::string rows = FormatCaseAnswer(answer);
  if (rows.empty()) std::abort();  // keeps the serialisation from being optimised away
  stages->libtorch_s += runs.libtorch_seconds;
  stages->pipelines_s += run_s - runs.libtorch_seconds;
  stages->evaluate_s += evaluate_s;
  stages->rows_s += SecondsSince(t0);
}

// One timed round of a case on an engine: LibTorch alone, the full check with every scheme and
// the full check with the engine's own (each check plus `draw_s`, the time it took to draw the
// case). The order rotates with `round`, so that no measurement always pays for a cold start.
void TimeCase(const Case& c, const SharedValues<int64_t>& first_layer_acc, int64_t index, Engine engine,
              const std::vector<Scheme>& all, double draw_s, WorkerState* worker, CheckCost* cost) {
  for (int64_t step = 0; step < 3; ++step) {
    const Clock::time_point t0 = Clock::now();
    switch ((index + step) % 3) {
      case 0: {
        const EngineResult alone = RunOnLibTorch(c.model, engine);
        cost->libtorch_s += SecondsSince(t0);
        cost->elements += OutputElements(alone);
        cost->rejected += alone.rejected ? 1 : 0;
        break;
      }
      case 1:
        FullCheck(c, first_layer_acc, index, engine, all, &worker->all, &cost->all_stages);
        cost->check_all_s += SecondsSince(t0) + draw_s;
        cost->all_stages.draw_s += draw_s;
        break;
      default:
        FullCheck(c, first_layer_acc, index, engine, {EngineOwnScheme(engine)}, &worker->own, &cost->own_stages);
        cost->check_own_s += SecondsSince(t0) + draw_s;
        cost->own_stages.draw_s += draw_s;
    }
  }
  ++cost->cases;
}

std::vector<Scheme> EveryScheme() {
  std::vector<Scheme> all;
  for (const SchemeDef* def : AllSchemes()) all.push_back(def->id);
  return all;
}

// Deterministic values in [lo, hi].
std::vector<int32_t> RandomValues(std::mt19937_64& rng, int64_t n, int32_t lo, int32_t hi) {
  std::uniform_int_distribution<int32_t> d(lo, hi);
  std::vector<int32_t> v(static_cast<size_t>(n));
  for (int32_t& x : v) x = d(rng);
  return v;
}

// A GEMM layer with per-channel qint8 weights of `weight_shape`, a float bias, and output qparams
// as MinMaxObserver would derive them from the exact outputs.
Case GemmLayerCase(const std::string& id, OpKind op, std::vector<int64_t> in_shape,
                   std::vector<int64_t> weight_shape, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Case c;
  c.id = id;
  c.description = "throughput layer " + id;
  c.model.input = PerTensorQTensor(DType::kQUInt8, in_shape,
                                   RandomValues(rng, ShapeElements(in_shape), 0, 255), 0.02, 128);
  Layer layer;
  layer.op = op;
  if (op == OpKind::kConv2d) layer.conv.padding[0] = layer.conv.padding[1] = 1;
  const int64_t oc = weight_shape[0];
  layer.weight.dtype = DType::kQInt8;
  layer.weight.shape = weight_shape;
  layer.weight.values = RandomValues(rng, ShapeElements(weight_shape), -127, 127);
  layer.weight.axis = 0;
  std::uniform_real_distribution<double> scale(0.001, 0.01);
  std::uniform_real_distribution<float> bias(-1.0f, 1.0f);
  for (int64_t o = 0; o < oc; ++o) {
    layer.weight.scales.push_back(scale(rng));
    layer.weight.zero_points.push_back(0);
  }
  layer.bias.emplace();
  for (int64_t o = 0; o < oc; ++o) layer.bias->push_back(bias(rng));
  DeriveOutputQParams(&layer, c.model.input, 1.0, false);
  c.model.layers.push_back(std::move(layer));
  return c;
}

}  // namespace

std::vector<WorkloadFamily> ThroughputFamilies() {
  using K = OpKind;
  return {{"conv2d+linear", {K::kConv2d, K::kLinear}},
          {"conv2d+linear real", {K::kConv2d, K::kLinear}, 100},
          {"conv1d/3d/transposed", {K::kConv1d, K::kConv3d, K::kConvTranspose2d}},
          {"add/mul/cat", {K::kAdd, K::kMul, K::kCat}},
          {"pools+activations",
           {K::kMaxPool2d, K::kAvgPool2d, K::kAdaptiveAvgPool2d, K::kRelu, K::kRelu6, K::kHardtanh,
            K::kClamp, K::kHardswish, K::kSigmoid, K::kLeakyRelu, K::kFlatten, K::kHardsigmoid,
            K::kMean}}};
}

std::vector<CheckCost> MeasureFamilies(const std::vector<Engine>& engines, const std::vector<OpKind>& ops,
                                       int64_t cases, uint64_t seed) {
  const std::vector<Scheme> all = EveryScheme();
  std::vector<CheckCost> rows;
  for (const WorkloadFamily& family : ThroughputFamilies()) {
    CampaignSettings s;
    s.seed = seed;
    s.engines = engines;
    s.schemes = all;
    s.generator.ops.clear();
    s.generator.real_size_percent = family.real_size_percent;
    for (OpKind op : family.ops) {
      if (std::find(ops.begin(), ops.end(), op) != ops.end()) s.generator.ops.push_back(op);
    }
    if (s.generator.ops.empty()) continue;
    const size_t first = rows.size();
    for (Engine e : engines) rows.push_back(CheckCost{EngineName(e), family.name});
    // Untimed: one case of the family through every step first, as a worker has done long before
    // its millionth case (the provenance's one-time dpkg look-up alone takes ~15 ms, engines
    // initialise on their first call).
    const Case warm_up = CaseForIndex(s, cases, nullptr);  // not one of the timed cases
    for (Engine e : engines) {
      CheckCost ignored;
      WorkerState worker;
      TimeCase(warm_up, {}, cases, e, all, 0.0, &worker, &ignored);
    }
    std::vector<WorkerState> workers(engines.size());
    for (int64_t i = 0; i < cases; ++i) {
      const Clock::time_point t0 = Clock::now();
      SharedValues<int64_t> first_layer_acc;
      const Case c = CaseForIndex(s, i, nullptr, &first_layer_acc);
      const double draw_s = SecondsSince(t0);
      for (size_t e = 0; e < engines.size(); ++e) {
        TimeCase(c, first_layer_acc, i, engines[e], all, draw_s, &workers[e], &rows[first + e]);
      }
    }
  }
  return rows;
}

std::vector<Case> ThroughputLayers(uint64_t seed) {
  return {GemmLayerCase("conv2d 32x28x28 k3", OpKind::kConv2d, {1, 32, 28, 28}, {32, 32, 3, 3}, seed),
          GemmLayerCase("linear 1024x1024 b8", OpKind::kLinear, {8, 1024}, {1024, 1024}, seed + 1)};
}

std::vector<CheckCost> MeasureLayers(const std::vector<Engine>& engines, int64_t repeats, uint64_t seed) {
  const std::vector<Scheme> all = EveryScheme();
  std::vector<CheckCost> rows;
  for (const Case& c : ThroughputLayers(seed)) {
    for (Engine e : engines) {
      CheckCost cost{EngineName(e), c.id};
      if (repeats > 0) {  // untimed first call, as in MeasureFamilies
        CheckCost ignored;
        WorkerState worker;
        TimeCase(c, {}, 0, e, all, 0.0, &worker, &ignored);
      }
      WorkerState worker;
      for (int64_t r = 0; r < repeats; ++r) TimeCase(c, {}, r, e, all, 0.0, &worker, &cost);
      rows.push_back(cost);
    }
  }
  return rows;
}

std::string FormatCheckCosts(const std::vector<CheckCost>& rows) {
  std::ostringstream out;
  char line[256];
  std::snprintf(line, sizeof line, "%-8s %-21s %6s %10s %10s %9s %9s %9s %7s %7s\n", "engine", "workload",
                "cases", "elements", "torch c/s", "all c/s", "own c/s", "torch e/s", "all/t", "own/t");
  out << line;
  for (const CheckCost& r : rows) {
    const auto rate = [&](double seconds) { return seconds > 0 ? r.cases / seconds : 0.0; };
    std::snprintf(line, sizeof line, "%-8s %-21s %6lld %10lld %10.1f %9.1f %9.1f %9.3g %6.0f%% %6.0f%%\n",
                  r.engine.c_str(), r.workload.c_str(), static_cast<long long>(r.cases),
                  static_cast<long long>(r.elements), rate(r.libtorch_s), rate(r.check_all_s),
                  rate(r.check_own_s), r.libtorch_s > 0 ? r.elements / r.libtorch_s : 0.0,
                  r.check_all_s > 0 ? 100.0 * r.libtorch_s / r.check_all_s : 0.0,
                  r.check_own_s > 0 ? 100.0 * r.libtorch_s / r.check_own_s : 0.0);
    out << line;
  }
  out << "\nEach full check (every scheme: all; the engine's own: own), microseconds per case by stage:\n";
  std::snprintf(line, sizeof line, "%-8s %-21s %5s %9s %9s %11s %9s %9s %9s\n", "engine", "workload", "check",
                "draw", "LibTorch", "pipelines", "compare", "rows", "total");
  out << line;
  for (const CheckCost& r : rows) {
    const auto us = [&](double seconds) { return r.cases ? 1e6 * seconds / r.cases : 0.0; };
    for (const auto& [name, st, total] : {std::tuple{"all", r.all_stages, r.check_all_s},
                                          std::tuple{"own", r.own_stages, r.check_own_s}}) {
      std::snprintf(line, sizeof line, "%-8s %-21s %5s %9.0f %9.0f %11.0f %9.0f %9.0f %9.0f\n", r.engine.c_str(),
                    r.workload.c_str(), name, us(st.draw_s), us(st.libtorch_s), us(st.pipelines_s),
                    us(st.evaluate_s), us(st.rows_s), us(total));
      out << line;
    }
  }
  return out.str();
}

}  // namespace qdiff
