// `qdiff replay`, `shrink` and `explain`: the commands that read one case file. Each honours
// --case-timeout and the case limits (harness/case/case_limits.h).
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>

#include "harness/evaluation/case_evaluation.h"
#include "harness/case/case_json.h"
#include "harness/cli/command.h"
#include "harness/cli/flags.h"
#include "harness/evaluation/explain.h"
#include "harness/evaluation/injected_defect.h"
#include "harness/evaluation/kernel_column.h"
#include "harness/torch/libtorch_runner.h"
#include "harness/evaluation/shrink.h"
#include "oracles/float32_twin.h"
#include "oracles/ops/op_recipe.h"

namespace qdiff {

namespace {

int CommandReplay(const std::string& path, bool quiet, const CaseFlags& flags) {
  const CaseLimits limits = flags.Limits();
  ArmTimeout(flags.TimeoutSeconds(), path);
  InitLibTorch();
  const Case c = LoadCaseFile(path, limits);
  std::vector<Engine> unavailable;
  const std::vector<Engine> engines = CaseEngines(c, AvailableEngines(), &unavailable);
  const std::vector<Scheme> schemes = CaseSchemes(c);
  if (!unavailable.empty()) {
    std::cerr << path << ": not available here, skipped: " << EngineList(unavailable) << "\n";
  }
  if (engines.empty()) throw UsageError(path + ": field 'engines': none of them is available");
  const std::unique_ptr<KernelColumn> kernel = LoadKernelOrThrow(flags.kernel);
  const CaseEvaluation ev =
      EvaluateRuns(c, RunCase(c, engines, schemes, kernel.get()));
  const int64_t findings = ev.unexplained_elements + ev.kernel_findings;
  if (quiet) return findings > 0 ? kExitFindings : kExitOk;
  std::printf("%-8s %-16s %5s %7s %9s %9s %8s %8s %8s %5s  %s\n", "engine", "scheme", "layer",
              "index", "acc", "exact", "integer", "libtorch", "float", "diff", "class");
  // Not applicable ("" in the CSV): "-".
  auto cell = [](const auto& v, const char* format) {
    char text[32] = "-";
    if (v) std::snprintf(text, sizeof text, format, *v);
    return std::string(text);
  };
  for (const DiscrepancyRow& d : ev.discrepancies) {
    std::printf("%-8s %-16s %5lld %7lld %9s %9s %8lld %8lld %8s %5lld  %s\n", d.engine.c_str(),
                d.scheme.c_str(), (long long)d.layer, (long long)d.index, cell(d.acc, "%" PRId64).c_str(),
                cell(d.exact_value, "%.4f").c_str(), (long long)d.integer_out, (long long)d.libtorch_out,
                cell(d.float_out, "%" PRId64).c_str(), (long long)d.diff_lsb, DiffClassName(d.cls));
  }
  std::printf("\n%-8s %-16s %8s %10s %8s  %s\n", "engine", "scheme", "elements", "mismatches",
              "max|d|", "verdict");
  for (const CaseRow& r : ev.case_rows) {
    std::printf("%-8s %-16s %8lld %10lld %8lld  %s%s%s\n", r.engine.c_str(), r.scheme.c_str(),
                (long long)r.elements, (long long)r.mismatches_vs_libtorch,
                (long long)r.max_abs_diff_lsb.value_or(0), VerdictName(r.verdict), r.message.empty() ? "" : ": ",
                r.message.c_str());
  }
  std::printf("\n%s: %lld unexplained elements", path.c_str(), (long long)ev.unexplained_elements);
  if (kernel) {
    std::printf("; kernel %s: %lld finding elements", kernel->Name().c_str(),
                (long long)ev.kernel_findings);
  }
  std::printf("\n");
  return findings > 0 ? kExitFindings : kExitOk;
}

int CommandShrink(const std::string& path, std::string out, const CaseFlags& flags) {
  const CaseLimits limits = flags.Limits();
  // A shrink evaluates the case many times: ten case timeouts, as in a campaign.
  ArmTimeout(10 * flags.TimeoutSeconds(), path);
  InitLibTorch();
  const Case c = LoadCaseFile(path, limits);
  const std::unique_ptr<KernelColumn> kernel = LoadKernelOrThrow(flags.kernel);
  const CaseEvaluation ev = EvaluateRuns(c, RunCase(c, CaseEngines(c, AvailableEngines(), nullptr),
                                                    CaseSchemes(c), kernel.get()));
  const std::optional<FailureSignature> sig = FirstFinding(ev);
  if (!sig) {
    std::cout << path << ": no unexplained element here; nothing to shrink\n";
    return kExitOk;
  }
  ShrinkStats stats;
  const Case shrunk = ShrinkFinding(c, *sig, &stats, kernel.get());
  if (out.empty()) out = path.substr(0, path.rfind(".json")) + ".shrunk.json";
  SaveCaseFile(shrunk, out);
  std::cout << "signature " << sig->ToString() << ": " << stats.elements_before << " -> "
            << stats.elements_after << " elements, " << stats.accepted << " steps in "
            << stats.attempts << " attempts, " << stats.seconds << " s\nwrote " << out << "\n";
  return kExitFindings;
}

int CommandExplain(const std::string& path, int64_t element, int64_t layer_index,
                   const CaseFlags& flags) {
  const CaseLimits limits = flags.Limits();
  ArmTimeout(flags.TimeoutSeconds(), path);
  InitLibTorch();
  const Case c = LoadCaseFile(path, limits);
  const std::vector<Engine> engines = CaseEngines(c, AvailableEngines(), nullptr);
  std::vector<Scheme> schemes;
  for (const SchemeDef* s : AllSchemes()) schemes.push_back(s->id);
  const std::unique_ptr<KernelColumn> kernel = LoadKernelOrThrow(flags.kernel);
  const CaseRuns runs = RunCase(c, engines, schemes, kernel.get());
  if (layer_index < 0 || layer_index >= static_cast<int64_t>(c.model.layers.size())) {
    throw UsageError("--layer: " + std::to_string(layer_index) + " is not a layer of " + path);
  }
  const LayerTrace& trace = runs.pipeline[0][0][layer_index];
  if (element < 0 || element >= static_cast<int64_t>(trace.out.size())) {
    throw UsageError("--element: " + std::to_string(element) + " is outside the layer's " +
                     std::to_string(trace.out.size()) + " outputs");
  }
  std::cout << ExplainElement(c, runs, static_cast<size_t>(layer_index), element, path);
  return kExitOk;
}

}  // namespace

CommandDef ReplayCommand() {
  return {"replay", "rerun a case file bit for bit; exit 1 if it fails",
          [](CLI::App* replay, const std::string&) -> std::function<int()> {
            struct Flags {
              bool quiet = false;
              CaseFlags limits;
            };
            auto f = std::make_shared<Flags>();
            replay->add_flag("--quiet", f->quiet, "no table; the exit code only");
            f->limits.AddTo(replay, "seconds before the replay stops as a timeout (default 120)");
            f->limits.AddKernelTo(replay);
            SetHelpFooter(replay, nullptr, "qdiff replay out/run-1/findings/s1-c000042.json --quiet");
            return [f] { return CommandReplay(f->limits.path, f->quiet, f->limits); };
          }};
}

CommandDef ShrinkCommand() {
  return {"shrink", "minimize a failing case file",
          [](CLI::App* shrink, const std::string&) -> std::function<int()> {
            struct Flags {
              std::string out;
              CaseFlags limits;
            };
            auto f = std::make_shared<Flags>();
            shrink->add_option("--out", f->out, "output file (default: CASE.shrunk.json)");
            f->limits.AddTo(shrink, "the shrink stops as a timeout after ten of these (default 120 s)");
            f->limits.AddKernelTo(shrink);
            SetHelpFooter(shrink, nullptr, "qdiff shrink out/run-1/findings/s1-c000042.json --out small.json");
            return [f] { return CommandShrink(f->limits.path, f->out, f->limits); };
          }};
}

CommandDef ExplainCommand() {
  return {"explain", "one output element, derived under every scheme",
          [](CLI::App* explain, const std::string&) -> std::function<int()> {
            struct Flags {
              std::string element, layer = "0";
              CaseFlags limits;
            };
            auto f = std::make_shared<Flags>();
            explain->add_option("--element", f->element, "flat output index")->required();
            explain->add_option("--layer", f->layer, "layer index (default 0)");
            f->limits.AddTo(explain, "seconds before explain stops as a timeout (default 120)");
            f->limits.AddKernelTo(explain);
            SetHelpFooter(explain, nullptr, "qdiff explain corpora/golden_conv1x1_exact.json --element 0 --layer 0");
            return [f] {
              return CommandExplain(f->limits.path, ParseInteger(f->element, "--element", 0, int64_t{1} << 40),
                                    ParseInteger(f->layer, "--layer", 0, 1 << 16), f->limits);
            };
          }};
}

}  // namespace qdiff
