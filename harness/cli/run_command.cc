// `qdiff run` (a campaign), `qdiff throughput` and the internal `__worker` a campaign starts.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <thread>
#include <tuple>

#include "harness/campaign/campaign.h"
#include "harness/campaign/throughput.h"
#include "harness/cli/command.h"
#include "harness/cli/flags.h"
#include "harness/evaluation/engines.h"
#include "harness/evaluation/injected_defect.h"
#include "harness/evaluation/kernel_column.h"
#include "harness/case/provenance.h"
#include "harness/torch/libtorch_runner.h"
#include "reports/csv.h"
#include "reports/summary.h"

namespace qdiff {

// The run's console tables: per layer op on each engine's own scheme (ops.csv holds every
// scheme), then per scheme summed over ops (summary.csv holds them per op chain prefix).
std::string FormatRunTables(const std::vector<SummaryRow>& summary,
                            const std::vector<SummaryRow>& layer_summary, const std::string& scheme) {
  // The scheme of each engine's rows: the engine's own, or the one asked for.
  auto shown = [&](const SummaryRow& r) { return r.scheme == (scheme.empty() ? EngineOwnSchemeName(r.engine) : scheme); };
  std::vector<SummaryRow> own;
  for (const SummaryRow& r : layer_summary) {
    if (shown(r)) own.push_back(r);
  }
  // Rejections: (case, engine) runs LibTorch refused, counted once (on the shown scheme).
  std::map<std::string, std::pair<int64_t, int64_t>> rejected;  // engine → (rejected, runs)
  for (const SummaryRow& r : summary) {
    if (r.kind != "verdict" || !shown(r)) continue;
    rejected[r.engine].second += r.count;
    if (r.name == "rejected") rejected[r.engine].first += r.count;
  }
  std::ostringstream rates;
  for (const auto& [engine, n] : rejected) {
    rates << "LibTorch rejected " << n.first << " of " << n.second << " cases on " << engine << " ("
          << (n.second ? 100.0 * n.first / n.second : 0.0) << "%; messages in cases.csv)\n";
  }
  return "Per op (every layer of every case once; " +
         (scheme.empty() ? std::string("each engine against its own recipes") : "against " + scheme) +
         "; all schemes in ops.csv):\n" + FormatSummaryTable(own) + rates.str() +
         "\nPer scheme (all ops; per op chain prefix in summary.csv):\n" +
         FormatSummaryTable(SumOverOps(summary));
}

namespace {

// The run's first console line: PASS/FAIL, cases, findings, and per engine the scheme that
// reproduced every layer, known LibTorch bugs aside (the engine's own scheme if it is one, "(+N)"
// for the others unless the line would pass kConsoleWidth; "none" if no scheme did).
std::string FormatVerdictLine(const CampaignResult& r) {
  const bool fail = r.unexplained_cases > 0 || r.crashed > 0 || r.timeouts > 0;
  const size_t n = r.findings.size();
  const std::string head = std::string(fail ? "FAIL" : "PASS") + ": " + std::to_string(r.cases_run) +
                           " cases, " + std::to_string(n) + (n == 1 ? " finding" : " findings");
  std::string engines, engines_short;
  for (const auto& [engine, schemes] : SchemesReproducingEngines(r.layer_summary)) {
    std::vector<std::string> names;
    for (const std::string& s : schemes) {
      if (s != KernelColumnName()) names.push_back(s);
    }
    const std::string own = EngineOwnSchemeName(engine);
    const auto it = std::find(names.begin(), names.end(), own);
    if (it != names.end()) std::rotate(names.begin(), it, it + 1);
    const std::string item = (engines.empty() ? "" : ", ") + engine + "=" + (names.empty() ? "none" : names[0]);
    engines_short += item;
    engines += item + (names.size() > 1 ? "(+" + std::to_string(names.size() - 1) + ")" : "");
  }
  if (engines.empty()) return head;
  const std::string line = head + "; bit-exact: " + engines;
  return line.size() <= kConsoleWidth ? line : head + "; bit-exact: " + engines_short;
}

// One finding (a root cause, reports/findings.h): op/engine/class, the schemes it affects, its
// case count and shrink, then the replay and explain commands (which name the shrunk file).
std::string FormatFinding(const Finding& f, const std::string& kernel_path) {
  std::ostringstream out;
  const bool crash = f.verdict != Verdict::kUnexplained;
  const ReportFinding r = ToReportFinding(f, kernel_path);
  out << "finding " << f.signature << ": " << f.count << " case(s)\n";
  if (!r.schemes.empty()) {
    std::string schemes;
    for (const std::string& s : r.schemes) schemes += (schemes.empty() ? "" : ", ") + s;
    out << "  " << (r.schemes.size() == 1 ? "scheme: " : std::to_string(r.schemes.size()) + " schemes: ")
        << schemes << "\n";
  }
  if (!f.shrink_failed.empty()) {
    out << "  not shrunk: the shrink " << f.shrink_failed << " (the file is the raw case)\n";
  } else if (!crash) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.2f", f.shrink_seconds);
    out << "  shrunk " << f.size_before << " -> " << f.size_after << " elements (" << f.shrink_attempts
        << " attempts, " << seconds << " s)"
        << (f.state_dependent ? "; does NOT reproduce alone: state_dependent\n"
                              : "; reproduces in a fresh process\n");
  }
  out << "  replay: " << r.replay << "\n";
  if (!r.explain.empty()) out << "  explain: " << r.explain << "\n";
  return out.str();
}

std::string DefaultRunDir(uint64_t seed) {
  std::string now = UtcNowIso8601();  // 2026-11-26T17:05:01Z
  now.erase(std::remove_if(now.begin(), now.end(), [](char ch) { return ch == ':' || ch == '-'; }),
            now.end());
  return "out/run-" + now + "-s" + std::to_string(seed);
}

// `qdiff run`'s flags as given (validated by CommandRun).
struct RunFlags {
  std::string cases, budget, seed = "1", engines, schemes, ops, out, injected_defect, shard,
      baseline, case_timeout = "120", kernel,
      real_sizes = std::to_string(GeneratorSettings::kDefaultRealSizePercent),
      max_example_rows = std::to_string(kDefaultMaxExampleRows), all_rows_cases = std::to_string(kDefaultAllRowsCases),
      flush_seconds = "15";
  std::string jobs = std::to_string(std::max<unsigned>(1, std::thread::hardware_concurrency()));
  bool resume = false, overwrite = false, verbose = false;
};

int CommandRun(const RunFlags& f, const std::string& command_line) {
  CampaignSettings s;
  s.cases = f.cases.empty() ? 0 : ParseInteger(f.cases, "--cases", 1, kMaxCases);
  s.budget_seconds = f.budget.empty() ? 0 : ParseNumber(f.budget, "--budget", 0, kMaxBudgetSeconds);
  if (s.cases == 0 && s.budget_seconds == 0) s.budget_seconds = 60;  // the default: about a minute
  s.case_timeout_seconds = ParseNumber(f.case_timeout, "--case-timeout", 0, kMaxCaseTimeoutSeconds);
  s.jobs = CapJobs(ParseInteger(f.jobs, "--jobs", 1, kMaxJobsFlag), CaseLimits());
  if (f.resume && f.overwrite) throw UsageError("--resume and --overwrite: choose one");
  if (!f.injected_defect.empty() && !IsKnownDefect(f.injected_defect)) {
    throw UsageError("--inject-defect: unknown defect '" + Printable(f.injected_defect) + "' (known: " +
                     Join(KnownDefects()) + ")");
  }
  const uint64_t seed = ParseSeed(f.seed);
  s.seed = seed;
  s.engines = ParseEngines(f.engines);
  s.schemes = ParseSchemes(f.schemes);
  s.generator.ops = ParseOps(f.ops);
  s.generator.real_size_percent = static_cast<int>(ParseInteger(f.real_sizes, "--real-sizes", 0, 100));
  s.max_example_rows = ParseInteger(f.max_example_rows, "--max-example-rows", 0, kMaxExampleRowsFlag);
  s.all_rows_cases = ParseInteger(f.all_rows_cases, "--all-rows-cases", 0, kMaxCases);
  s.flush_seconds = ParseNumber(f.flush_seconds, "--flush-seconds", 0.01, 86400);
  s.out_dir = f.out.empty() ? DefaultRunDir(seed) : f.out;
  s.command_line = command_line;
  s.injected_defect = f.injected_defect;
  // Loaded here once so that a bad plugin is a usage error before any file is touched.
  if (const std::unique_ptr<KernelColumn> k = LoadKernelOrThrow(f.kernel)) {
    s.kernel_path = f.kernel;
    std::cerr << "kernel: " << k->Name() << " (" << f.kernel << "), aims at "
              << (k->Target() ? EngineName(*k->Target()) : "no engine") << "\n";
  }
  try {
    std::tie(s.shard_index, s.shard_count) = ResolveShard(f.shard);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  // A shard holds a part of the cases: every baseline finding outside it would read as fixed.
  if (!f.baseline.empty() && s.shard_count > 1) {
    throw UsageError("--baseline and --shard (or a shard from the environment): a shard holds " +
                     std::string("only part of the cases; compare the merged run (qdiff merge) instead"));
  }
  if (!f.baseline.empty() && SamePath(f.baseline, s.out_dir)) {
    throw UsageError("--baseline: " + f.baseline + " is the run's own --out; give a previous run");
  }
  s.baseline_dir = f.baseline;
  s.resume = f.resume;
  s.overwrite = f.overwrite;
  s.progress = isatty(STDERR_FILENO) && std::getenv("CI") == nullptr;
  // Before the run: stderr, so that stdout starts with the verdict.
  std::cerr << "qdiff run: seed " << seed << ", engines " << EngineList(s.engines) << ", "
            << (s.cases ? std::to_string(s.cases) + " cases" : "") << (s.cases && s.budget_seconds ? ", " : "")
            << (s.budget_seconds ? std::to_string(s.budget_seconds) + " s budget" : "")
            << ", output " << s.out_dir << std::endl;
  const CampaignResult r = RunCampaign(s);
  // The verdict, the findings, the tables (kConsoleWidth columns), then the details.
  std::cout << FormatVerdictLine(r) << "\n";
  for (const Finding& finding : r.findings) std::cout << FormatFinding(finding, s.kernel_path);
  std::cout << "\n" << FormatRunTables(r.summary, r.layer_summary) << "\n";
  if (!r.baseline_text.empty()) std::cout << "Compared with " << f.baseline << ":\n" << r.baseline_text << "\n";
  if (f.verbose) std::cout << r.corner_table << "\n";
  if (r.journal_lines_dropped > 0) {
    std::cout << r.journal_lines_dropped << " journal line(s) not trusted (named above)\n";
  }
  std::printf("%lld cases (%lld from the checkpoint) in %.1f s with %lld worker(s); %lld crashed, %lld timeouts\n"
              "%lld (case, engine, scheme) rows unexplained. Reports: %s/\n",
              static_cast<long long>(r.cases_run), static_cast<long long>(r.resumed_cases), r.wall_seconds,
              static_cast<long long>(s.jobs), static_cast<long long>(r.crashed),
              static_cast<long long>(r.timeouts), static_cast<long long>(r.unexplained_cases),
              s.out_dir.c_str());
  if (r.wall_seconds > 0 && r.worker_seconds > 0) {
    const std::string after_1000 =
        r.worker_rss_1000_kb ? std::to_string(r.worker_rss_1000_kb) + " KiB after 1000 cases, " : "";
    std::printf("throughput: %.1f cases/s; %.0f%% of worker time inside LibTorch\nworker RSS: %lld KiB "
                "after the first case, %s%lld KiB after the last (max %lld)\n",
                (r.cases_run - r.resumed_cases) / r.wall_seconds,
                100.0 * r.libtorch_seconds / r.worker_seconds,
                static_cast<long long>(r.worker_rss_first_kb), after_1000.c_str(),
                static_cast<long long>(r.worker_rss_last_kb), static_cast<long long>(r.worker_rss_max_kb));
  }
  return r.unexplained_cases > 0 || r.crashed > 0 || r.timeouts > 0 ? kExitFindings : kExitOk;
}

// `qdiff throughput`: qdiff's cost beside LibTorch's on the same cases in one process
// (harness/campaign/throughput.h), then the default campaign at --jobs 1 and --jobs 2.
int CommandThroughput(int64_t cases, int64_t repeats, int64_t campaign_cases, uint64_t seed,
                      const std::vector<Engine>& engines, const std::vector<OpKind>& ops) {
  InitLibTorch();
  std::printf("Check cost beside LibTorch alone, one process, the same cases interleaved (%lld per family "
              "and engine; fixed layers %lld times).\nall/t and own/t: the check's rate (every scheme; "
              "the engine's own) as a share of LibTorch's alone.\n",
              static_cast<long long>(cases), static_cast<long long>(repeats));
  std::vector<CheckCost> rows = MeasureFamilies(engines, ops, cases, seed);
  if (repeats > 0) {
    const std::vector<CheckCost> layers = MeasureLayers(engines, repeats, seed);
    rows.insert(rows.end(), layers.begin(), layers.end());
  }
  std::printf("%s", FormatCheckCosts(rows).c_str());
  if (campaign_cases == 0) return kExitOk;
  std::printf("\nThe default campaign (%lld cases, every op, engine and scheme) at --jobs 1 and 2:\n",
              static_cast<long long>(campaign_cases));
  std::printf("%6s %8s %10s %10s %10s %12s %14s\n", "jobs", "cases", "seconds", "cases/s", "steady c/s",
              "LibTorch %", "worker RSS KiB");
  for (int64_t jobs : {1, 2}) {
    CampaignSettings s;
    s.cases = campaign_cases;
    s.seed = seed;
    s.engines = engines;
    s.schemes = ParseSchemes("");
    s.generator.ops = ParseOps("");
    s.jobs = jobs;
    s.out_dir = (std::filesystem::temp_directory_path() /
                 ("qdiff-throughput-" + std::to_string(getpid()) + "-j" + std::to_string(jobs))).string();
    const CampaignResult r = RunCampaign(s);
    std::filesystem::remove_all(s.out_dir);
    // steady: the answers after the first, over the time from the first to the last
    const double span = r.last_answer_seconds - r.first_answer_seconds;
    const double steady = r.answers > 1 && span > 0 ? (r.answers - 1) / span : 0.0;
    std::printf("%6lld %8lld %10.2f %10.1f %10.1f %11.0f%% %14lld\n", static_cast<long long>(jobs),
                static_cast<long long>(r.cases_run), r.wall_seconds, r.cases_run / r.wall_seconds, steady,
                100.0 * r.libtorch_seconds / std::max(r.worker_seconds, 1e-9),
                static_cast<long long>(r.worker_rss_max_kb));
  }
  return kExitOk;
}

}  // namespace

CommandDef RunCommand() {
  return {"run", "random-model campaign over every op; reports to --out",
          [](CLI::App* run, const std::string& command_line) -> std::function<int()> {
            auto rf = std::make_shared<RunFlags>();
            // Conflicts are usage errors naming both flags (exit 2): a run stops after --cases or
            // after --budget, not whichever comes first; --resume continues a given --out.
            CLI::Option* cases =
                run->add_option("--cases", rf->cases, "number of cases, 1 to 10^12 (default: a 60 s budget)");
            run->add_option("--budget", rf->budget, "wall-time budget in seconds, up to 30 days")->excludes(cases);
            run->add_option("--seed", rf->seed, "campaign seed in [0, 2^64) (same seed: byte-identical CSVs)");
            run->add_option("--engines", rf->engines, "comma list (default: every available engine)");
            run->add_option("--schemes", rf->schemes, "comma list (default: all)");
            run->add_option("--ops", rf->ops, "comma list of ops (default: all)");
            run->add_option("--real-sizes", rf->real_sizes,
                            "percent of conv2d/linear cases at real model sizes, 0-100 (default " +
                                rf->real_sizes + ")");
            run->add_option("--max-example-rows", rf->max_example_rows,
                            "discrepancies.csv: example rows per engine, layer op, scheme and class; cases.csv: "
                            "example cases per engine, scheme, verdict and first op; 0-" +
                                std::to_string(kMaxExampleRowsFlag) + " (default " + rf->max_example_rows +
                                "; counts stay exact in summary.csv and ops.csv)");
            run->add_option("--all-rows-cases", rf->all_rows_cases,
                            "cases.csv and discrepancies.csv keep every row of the cases with index below this "
                            "(default " + rf->all_rows_cases + "), then example rows");
            run->add_option("--flush-seconds", rf->flush_seconds,
                            "write the reports and the checkpoint --resume continues from this often (default " +
                                rf->flush_seconds + ")");
            CLI::Option* out =
                run->add_option("--out", rf->out, "output folder, new or empty (default: out/run-<time>-s<seed>)");
            run->add_option("--jobs", rf->jobs, "worker processes (default and cap: one per core, as memory allows)");
            run->add_option("--case-timeout", rf->case_timeout,
                            "seconds before a case's worker is killed (default 120, at most 86400)");
            run->add_flag("--resume", rf->resume, "continue the run in --out from its checkpoint")->needs(out);
            run->add_flag("--overwrite", rf->overwrite, "replace the previous run in --out");
            run->add_option("--shard", rf->shard,
                            "i/N: run shard i of N (also GTEST_*, SLURM_ARRAY_*, JOB_COMPLETION_INDEX)");
            run->add_option("--baseline", rf->baseline,
                            "previous run folder: print new, fixed and persisting findings");
            run->add_option("--kernel", rf->kernel,
                            "your kernel plugin (.so, include/qdiff/kernel_plugin.h): one more column");
            run->add_flag("--verbose", rf->verbose,
                          "also print the generator's corner counts (always in run.json)");
            run->add_option("--inject-defect", rf->injected_defect,
                            "self-test of the finding pipeline only: apply a named defect");
            SetHelpFooter(run, [] {
              return HelpValues{{"--ops", AllowedOps()}, {"--engines", AllowedEngines()},
                                {"--schemes", AllowedSchemes()}, {"--inject-defect", Join(KnownDefects())}};
            }, "qdiff run --budget 600 --seed 7 --engines qnnpack --ops conv2d,add --out out/qnnpack-7");
            return [rf, command_line] { return CommandRun(*rf, command_line); };
          }};
}

CommandDef ThroughputCommand() {
  return {"throughput", "qdiff's cost beside LibTorch alone on the same cases; --jobs 1 vs 2",
          [](CLI::App* throughput, const std::string&) -> std::function<int()> {
            struct Flags {
              std::string cases = "200", repeats = "20", campaign_cases = "3000", seed = "1", engines, ops;
            };
            auto f = std::make_shared<Flags>();
            throughput->add_option("--cases", f->cases, "cases per op family and engine (default 200)");
            throughput->add_option("--ops", f->ops, "comma list: measure only these ops' families (default: all)");
            throughput->add_option("--repeats", f->repeats,
                                   "calls of each fixed layer per engine; 0 skips them (default 20)");
            throughput->add_option("--campaign-cases", f->campaign_cases,
                                   "cases of the --jobs 1 / --jobs 2 campaigns; 0 skips them (default 3000)");
            throughput->add_option("--seed", f->seed, "campaign seed");
            throughput->add_option("--engines", f->engines, "comma list (default: every available engine)");
            SetHelpFooter(throughput, [] { return HelpValues{{"--ops", AllowedOps()}, {"--engines", AllowedEngines()}}; },
                          "qdiff throughput --cases 500 --campaign-cases 0 --engines qnnpack");
            return [f] {
              return CommandThroughput(ParseInteger(f->cases, "--cases", 1, kMaxCases),
                                       ParseInteger(f->repeats, "--repeats", 0, 1000000),
                                       ParseInteger(f->campaign_cases, "--campaign-cases", 0, kMaxCases),
                                       ParseSeed(f->seed), ParseEngines(f->engines), ParseOps(f->ops));
            };
          }};
}

// Internal: a campaign worker process (harness/campaign/campaign.h). Hidden from --help.
CommandDef WorkerCommand() {
  return {"__worker", "", [](CLI::App* worker, const std::string&) -> std::function<int()> {
            struct Flags {
              std::string seed = "1", engines, schemes, ops, out, defect, kernel, real_sizes = "0",
                          max_example_rows = std::to_string(kDefaultMaxExampleRows),
                          all_rows_cases = std::to_string(kDefaultAllRowsCases);
            };
            auto f = std::make_shared<Flags>();
            worker->add_option("--seed", f->seed);
            worker->add_option("--engines", f->engines);
            worker->add_option("--schemes", f->schemes);
            worker->add_option("--ops", f->ops);
            worker->add_option("--real-sizes", f->real_sizes);
            worker->add_option("--out", f->out);
            worker->add_option("--max-example-rows", f->max_example_rows);
            worker->add_option("--all-rows-cases", f->all_rows_cases);
            worker->add_option("--inject-defect", f->defect);
            worker->add_option("--kernel", f->kernel);
            return [f] {
              CampaignSettings ws;
              ws.seed = ParseSeed(f->seed);
              ws.engines = ParseEngines(f->engines);
              ws.schemes = ParseSchemes(f->schemes);
              ws.generator.ops = ParseOps(f->ops);
              ws.generator.real_size_percent =
                  static_cast<int>(ParseInteger(f->real_sizes, "--real-sizes", 0, 100));
              ws.out_dir = f->out;
              ws.max_example_rows = ParseInteger(f->max_example_rows, "--max-example-rows", 0, kMaxExampleRowsFlag);
              ws.all_rows_cases = ParseInteger(f->all_rows_cases, "--all-rows-cases", 0, kMaxCases);
              ws.injected_defect = f->defect;
              ws.kernel_path = f->kernel;
              return RunCampaignWorker(ws);
            };
          }};
}

}  // namespace qdiff
