// qdiff command line. Exit codes: 0 nothing unexplained, 1 findings (unexplained differences),
// 2 usage or input error (the message names the bad flag, value, file or field).
#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>
#include <thread>
#include <tuple>
#include <signal.h>
#include <sys/time.h>
#include <unistd.h>
#include <cmath>
#include <csignal>
#include <cstring>
#include <iostream>

#include "harness/campaign.h"
#include "harness/engines.h"
#include "harness/case_evaluation.h"
#include "harness/case_json.h"
#include "harness/explain.h"
#include "harness/fingerprint.h"
#include "harness/injected_defect.h"
#include "harness/shrink.h"
#include "oracles/float32_twin.h"
#include "harness/libtorch_runner.h"
#include "harness/provenance.h"
#include "harness/run_folder.h"
#include "harness/dynamic_check.h"
#include "harness/quantize_check.h"
#include "oracles/ops/op_recipe.h"
#include "harness/seed_example.h"
#include "reports/html_report.h"
#include "reports/junit.h"
#include "reports/merge.h"
#include "reports/run_record.h"
#include "reports/schema.h"
#include "reports/summary.h"

namespace qdiff {
namespace {

constexpr int kExitOk = 0, kExitFindings = 1, kExitUsage = 2;

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream s(text);
  std::string item;
  while (std::getline(s, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

std::vector<std::string> ParseEngines(const std::string& flag) {
  const std::vector<std::string> available = AvailableEngines();
  if (flag.empty()) return available;
  std::vector<std::string> engines;
  for (const std::string& e : SplitList(flag)) {
    if (std::find(available.begin(), available.end(), e) == available.end()) {
      throw UsageError("--engines: unknown or unavailable engine '" + e + "' (available: " +
                       Join(available) + ")");
    }
    engines.push_back(e);
  }
  if (engines.empty()) throw UsageError("--engines: empty list");
  return engines;
}

std::vector<Scheme> ParseSchemes(const std::string& flag) {
  std::vector<Scheme> schemes;
  std::vector<std::string> names;
  for (const SchemeDef* s : AllSchemes()) names.push_back(s->name);
  if (flag.empty()) {
    for (const SchemeDef* s : AllSchemes()) schemes.push_back(s->id);
    return schemes;
  }
  for (const std::string& name : SplitList(flag)) {
    std::optional<Scheme> s = ParseScheme(name);
    if (!s) throw UsageError("--schemes: unknown scheme '" + name + "' (known: " + Join(names) + ")");
    schemes.push_back(*s);
  }
  if (schemes.empty()) throw UsageError("--schemes: empty list");
  return schemes;
}

std::vector<OpKind> ParseOps(const std::string& flag) {
  if (flag.empty()) return std::vector<OpKind>(std::begin(kAllOpKinds), std::end(kAllOpKinds));
  std::vector<OpKind> ops;
  for (const std::string& name : SplitList(flag)) {
    if (std::optional<OpKind> op = ParseOpKind(name)) {
      ops.push_back(*op);
    } else {
      std::string known;
      for (OpKind k : kAllOpKinds) known += (known.empty() ? "" : ", ") + std::string(OpKindName(k));
      throw UsageError("--ops: unknown op '" + name + "' (known: " + known + ")");
    }
  }
  if (ops.empty()) throw UsageError("--ops: empty list");
  return ops;
}

// An integer flag: optional '-', digits only (no exponent or fraction), within [lo, hi].
int64_t ParseInteger(const std::string& text, const std::string& flag, int64_t lo, int64_t hi) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || v < lo || v > hi) {
    throw UsageError(flag + ": expected an integer in [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "], got '" + Printable(text) + "'");
  }
  return v;
}

// A real-valued flag (seconds, GiB, counts): finite, within [lo, hi] (lo excluded if open_lo).
double ParseNumber(const std::string& text, const std::string& flag, double lo, double hi,
                   bool open_lo = true) {
  double v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(v) || v > hi ||
      (open_lo ? v <= lo : v < lo)) {
    char range[64];
    std::snprintf(range, sizeof range, "%s%g, %g]", open_lo ? "(" : "[", lo, hi);
    throw UsageError(flag + ": expected a finite number in " + range + ", got '" + Printable(text) + "'");
  }
  return v;
}

// Flag ranges: past these, a value is a typo, not a plan.
constexpr int64_t kMaxCases = 1'000'000'000'000;        // --cases
constexpr double kMaxBudgetSeconds = 30 * 24 * 3600.0;  // --budget: 30 days
constexpr double kMaxCaseTimeoutSeconds = 24 * 3600.0;  // --case-timeout: one day
constexpr int64_t kMaxJobsFlag = 1024;                  // --jobs before capping

// --jobs capped by the cores and by the memory a worker may need (a case at the memory limit plus
// LibTorch and the worker's own state, about 512 MiB); says so on stderr when it caps.
int64_t CapJobs(int64_t jobs, const CaseLimits& limits) {
  const int64_t cores = std::max<int64_t>(1, std::thread::hardware_concurrency());
  const int64_t available = static_cast<int64_t>(sysconf(_SC_AVPHYS_PAGES)) * sysconf(_SC_PAGESIZE);
  const int64_t per_worker = limits.MaxBytes() + (int64_t{512} << 20);
  const int64_t by_memory = std::max<int64_t>(1, available / per_worker);
  const int64_t cap = std::min(cores, by_memory);
  if (jobs <= cap) return jobs;
  std::cerr << "qdiff: --jobs " << jobs << " capped to " << cap << " (" << cores
            << " cores; available memory holds " << by_memory << " workers of "
            << per_worker / (1 << 20) << " MiB)\n";
  return cap;
}

// replay, shrink and explain end with a `timeout` message (exit 1, a finding, as in a campaign)
// when they run longer than `seconds`.
char g_timeout_message[1024];

void ExitOnTimeout(int) {
  const ssize_t ignored = write(STDERR_FILENO, g_timeout_message, std::strlen(g_timeout_message));
  (void)ignored;
  _exit(1);
}

void ArmTimeout(double seconds, const std::string& what) {
  std::snprintf(g_timeout_message, sizeof g_timeout_message,
                "qdiff: %s: timeout: still running after %g s (--case-timeout)\n",
                Printable(what).c_str(), seconds);
  std::signal(SIGALRM, ExitOnTimeout);
  itimerval t{};
  t.it_value.tv_sec = static_cast<time_t>(seconds);
  t.it_value.tv_usec = static_cast<suseconds_t>((seconds - std::floor(seconds)) * 1e6);
  if (t.it_value.tv_sec == 0 && t.it_value.tv_usec == 0) t.it_value.tv_usec = 1;
  setitimer(ITIMER_REAL, &t, nullptr);
}

// Flags shared by the commands that read one case file.
struct CaseFlags {
  std::string case_timeout = "120";
  std::string max_gib = "2";
  std::string max_work = "1073741824";

  void AddTo(CLI::App* command, const char* timeout_help) {
    command->add_option("--case-timeout", case_timeout, timeout_help);
    command->add_option("--max-case-gib", max_gib, "memory a case may need, GiB (default 2)");
    command->add_option("--max-case-work", max_work, "multiply-adds a case may need (default 2^30)");
  }
  CaseLimits Limits() const {
    try {
      return MakeCaseLimits(ParseNumber(max_gib, "--max-case-gib", 0, 1 << 20),
                            ParseNumber(max_work, "--max-case-work", 1, 1e18, false));
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }
  double TimeoutSeconds() const {
    return ParseNumber(case_timeout, "--case-timeout", 0, kMaxCaseTimeoutSeconds);
  }
};

uint64_t ParseSeed(const std::string& text) {
  uint64_t seed = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, seed);
  if (text.empty() || ec != std::errc() || ptr != end) {
    throw UsageError("--seed: expected an integer in [0, 2^64), got '" + text + "'");
  }
  return seed;
}

// The run's console tables: per layer op on each engine's own scheme (ops.csv holds every
// scheme), then per scheme summed over ops (summary.csv holds every op chain).
std::string FormatRunTables(const std::vector<SummaryRow>& summary,
                            const std::vector<SummaryRow>& layer_summary) {
  std::vector<SummaryRow> own;
  for (const SummaryRow& r : layer_summary) {
    if (r.scheme == EngineOwnScheme(r.engine)) own.push_back(r);
  }
  // Rejections: (case, engine) runs LibTorch refused, counted once (on the engine's own scheme).
  std::map<std::string, std::pair<int64_t, int64_t>> rejected;  // engine → (rejected, runs)
  for (const SummaryRow& r : summary) {
    if (r.kind != "verdict" || r.scheme != EngineOwnScheme(r.engine)) continue;
    rejected[r.engine].second += r.count;
    if (r.name == "rejected") rejected[r.engine].first += r.count;
  }
  std::ostringstream rates;
  for (const auto& [engine, n] : rejected) {
    rates << "LibTorch rejected " << n.first << " of " << n.second << " cases on " << engine << " ("
          << (n.second ? 100.0 * n.first / n.second : 0.0) << "%; messages in cases.csv)\n";
  }
  return "Per op (every layer of every case once; each engine against its own recipes; all "
         "schemes in ops.csv):\n" + FormatSummaryTable(own) + rates.str() +
         "\nPer scheme (all ops; per op chain in summary.csv):\n" +
         FormatSummaryTable(SumOverOps(summary));
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
      baseline, case_timeout = "120";
  std::string jobs = std::to_string(std::max<unsigned>(1, std::thread::hardware_concurrency()));
  bool resume = false, overwrite = false;
};

bool SamePath(const std::string& a, const std::string& b) {
  std::error_code ec;
  return std::filesystem::weakly_canonical(a, ec) == std::filesystem::weakly_canonical(b, ec);
}

int CommandRun(const RunFlags& f, const std::string& command_line) {
  CampaignSettings s;
  s.cases = f.cases.empty() ? 0 : ParseInteger(f.cases, "--cases", 1, kMaxCases);
  s.budget_seconds = f.budget.empty() ? 0 : ParseNumber(f.budget, "--budget", 0, kMaxBudgetSeconds);
  if (s.cases == 0 && s.budget_seconds == 0) s.budget_seconds = 60;  // the default: about a minute
  s.case_timeout_seconds = ParseNumber(f.case_timeout, "--case-timeout", 0, kMaxCaseTimeoutSeconds);
  s.jobs = CapJobs(ParseInteger(f.jobs, "--jobs", 1, kMaxJobsFlag), CaseLimits());
  if (f.resume && f.overwrite) throw UsageError("--resume and --overwrite: choose one");
  if (!f.injected_defect.empty() && !IsKnownDefect(f.injected_defect)) {
    throw UsageError("--inject-defect: unknown defect '" + Printable(f.injected_defect) + "' (known: ties_up)");
  }
  const uint64_t seed = ParseSeed(f.seed);
  s.seed = seed;
  s.engines = ParseEngines(f.engines);
  s.schemes = ParseSchemes(f.schemes);
  s.generator.ops = ParseOps(f.ops);
  s.out_dir = f.out.empty() ? DefaultRunDir(seed) : f.out;
  s.command_line = command_line;
  s.injected_defect = f.injected_defect;
  try {
    std::tie(s.shard_index, s.shard_count) = ResolveShard(f.shard);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  if (!f.baseline.empty() && SamePath(f.baseline, s.out_dir)) {
    throw UsageError("--baseline: " + f.baseline + " is the run's own --out; give a previous run");
  }
  s.baseline_dir = f.baseline;
  s.resume = f.resume;
  s.overwrite = f.overwrite;
  s.progress = isatty(STDERR_FILENO) && std::getenv("CI") == nullptr;
  std::cout << "qdiff run: seed " << seed << ", engines " << Join(s.engines) << ", "
            << (s.cases ? std::to_string(s.cases) + " cases" : "") << (s.cases && s.budget_seconds ? ", " : "")
            << (s.budget_seconds ? std::to_string(s.budget_seconds) + " s budget" : "")
            << ", output " << s.out_dir << std::endl;
  const CampaignResult r = RunCampaign(s);
  std::cout << r.corner_table << "\n" << FormatRunTables(r.summary, r.layer_summary) << "\n";
  if (!r.baseline_text.empty()) std::cout << "Compared with " << f.baseline << ":\n" << r.baseline_text << "\n";
  for (const Finding& f : r.findings) {
    const bool crash = f.signature.find("/*/*/") != std::string::npos;
    std::cout << "finding " << f.signature << ": " << f.count << " case(s); case file " << f.file;
    if (!f.shrink_failed.empty()) {
      std::cout << " (not shrunk: the shrink " << f.shrink_failed << "; the file is the raw case)";
    } else if (!crash) {
      std::cout << " (shrunk " << f.size_before << " -> " << f.size_after << " elements in "
                << f.shrink_attempts << " attempts, " << f.shrink_seconds << " s)"
                << (f.state_dependent ? "; does NOT reproduce alone: state_dependent"
                                      : "; reproduces in a fresh process");
    }
    std::cout << "\n  replay: qdiff replay " << f.file << "\n";
  }
  if (r.journal_lines_dropped > 0) {
    std::cout << r.journal_lines_dropped << " journal line(s) not trusted; their cases ran again\n";
  }
  std::cout
            << r.cases_run << " cases (" << r.resumed_cases << " from the journal) in "
            << r.wall_seconds << " s with " << s.jobs << " worker(s); "
            << r.crashed << " crashed, " << r.timeouts << " timeouts; "
            << r.unexplained_cases
            << " (case, engine, scheme) rows unexplained. Reports: " << s.out_dir << "/"
            << std::endl;
  if (r.wall_seconds > 0 && r.worker_seconds > 0) {
    const std::string after_1000 =
        r.worker_rss_1000_kb ? std::to_string(r.worker_rss_1000_kb) + " KiB after 1000 cases, " : "";
    std::printf("throughput: %.1f cases/s; %.0f%% of worker time inside LibTorch; worker RSS %lld KiB "
                "after the first case, %s%lld KiB after the last (max %lld)\n",
                (r.cases_run - r.resumed_cases) / r.wall_seconds,
                100.0 * r.libtorch_seconds / r.worker_seconds,
                static_cast<long long>(r.worker_rss_first_kb), after_1000.c_str(),
                static_cast<long long>(r.worker_rss_last_kb), static_cast<long long>(r.worker_rss_max_kb));
  }
  return r.unexplained_cases > 0 || r.crashed > 0 || r.timeouts > 0 ? kExitFindings : kExitOk;
}

// `qdiff throughput`: the same campaign at --jobs 1 and --jobs 2, side by side in one run.
int CommandThroughput(int64_t cases, uint64_t seed) {
  std::printf("%6s %8s %10s %10s %12s %14s\n", "jobs", "cases", "seconds", "cases/s", "LibTorch %",
              "worker RSS KiB");
  for (int64_t jobs : {1, 2}) {
    CampaignSettings s;
    s.cases = cases;
    s.seed = seed;
    s.engines = ParseEngines("");
    s.schemes = ParseSchemes("");
    s.generator.ops = ParseOps("");
    s.jobs = jobs;
    s.out_dir = (std::filesystem::temp_directory_path() /
                 ("qdiff-throughput-" + std::to_string(getpid()) + "-j" + std::to_string(jobs))).string();
    const CampaignResult r = RunCampaign(s);
    std::filesystem::remove_all(s.out_dir);
    std::printf("%6lld %8lld %10.2f %10.1f %11.0f%% %14lld\n", static_cast<long long>(jobs),
                static_cast<long long>(r.cases_run), r.wall_seconds, r.cases_run / r.wall_seconds,
                100.0 * r.libtorch_seconds / std::max(r.worker_seconds, 1e-9),
                static_cast<long long>(r.worker_rss_max_kb));
  }
  return kExitOk;
}

int CommandReplay(const std::string& path, bool quiet, const CaseFlags& flags) {
  const CaseLimits limits = flags.Limits();
  ArmTimeout(flags.TimeoutSeconds(), path);
  InitLibTorch();
  const Case c = LoadCaseFile(path, limits);
  std::vector<std::string> unknown;
  const std::vector<std::string> engines = CaseEngines(c, AvailableEngines(), &unknown);
  const std::vector<Scheme> schemes = CaseSchemes(c, &unknown);
  if (!unknown.empty()) {
    std::cerr << path << ": not available here, skipped: " << Join(unknown) << "\n";
  }
  if (engines.empty()) throw UsageError(path + ": field 'engines': none of them is available");
  const CaseEvaluation ev = EvaluateRuns(c, RunCase(c, engines, schemes));
  if (quiet) return ev.unexplained_elements > 0 ? kExitFindings : kExitOk;
  std::printf("%-8s %-16s %5s %7s %9s %9s %8s %8s %8s %5s  %s\n", "engine", "scheme", "layer",
              "index", "acc", "exact", "integer", "libtorch", "float", "diff", "class");
  for (const DiscrepancyRow& d : ev.discrepancies) {
    std::printf("%-8s %-16s %5lld %7lld %9lld %9.4f %8lld %8lld %8lld %5lld  %s\n",
                d.engine.c_str(), d.scheme.c_str(), (long long)d.layer, (long long)d.index,
                (long long)d.acc, d.exact_value, (long long)d.integer_out,
                (long long)d.libtorch_out, (long long)d.float_out, (long long)d.diff_lsb,
                d.cls.c_str());
  }
  std::printf("\n%-8s %-16s %8s %10s %8s  %s\n", "engine", "scheme", "elements", "mismatches",
              "max|d|", "verdict");
  for (const CaseRow& r : ev.case_rows) {
    std::printf("%-8s %-16s %8lld %10lld %8lld  %s%s%s\n", r.engine.c_str(), r.scheme.c_str(),
                (long long)r.elements, (long long)r.mismatches_vs_libtorch,
                (long long)r.max_abs_diff_lsb, r.verdict.c_str(), r.message.empty() ? "" : ": ",
                r.message.c_str());
  }
  std::printf("\n%s: %lld unexplained elements\n", path.c_str(),
              (long long)ev.unexplained_elements);
  return ev.unexplained_elements > 0 ? kExitFindings : kExitOk;
}

int CommandShrink(const std::string& path, std::string out, const CaseFlags& flags) {
  const CaseLimits limits = flags.Limits();
  // A shrink evaluates the case many times: ten case timeouts, as in a campaign.
  ArmTimeout(10 * flags.TimeoutSeconds(), path);
  InitLibTorch();
  const Case c = LoadCaseFile(path, limits);
  std::vector<std::string> unknown;
  const CaseEvaluation ev = EvaluateRuns(
      c, RunCase(c, CaseEngines(c, AvailableEngines(), &unknown), CaseSchemes(c, &unknown)));
  const std::optional<FailureSignature> sig = FirstFinding(ev);
  if (!sig) {
    std::cout << path << ": no unexplained element here; nothing to shrink\n";
    return kExitOk;
  }
  ShrinkStats stats;
  const Case shrunk = ShrinkFinding(c, *sig, &stats);
  if (out.empty()) out = path.substr(0, path.rfind(".json")) + ".shrunk.json";
  SaveCaseFile(shrunk, out);
  std::cout << "signature " << sig->ToString() << ": " << stats.elements_before << " -> "
            << stats.elements_after << " elements, " << stats.accepted << " steps in "
            << stats.attempts << " attempts, " << stats.seconds << " s\nwrote " << out << "\n";
  return kExitFindings;
}

// An element of an op without weights: every recipe of the op on the inputs each engine's layer
// saw, with its formula; which recipe is the engine's path and which reproduce LibTorch.
std::string ExplainOpElement(const Case& c, const CaseRuns& runs, size_t layer, int64_t element) {
  const Layer& l = c.model.layers[layer];
  std::ostringstream out;
  out << "layer " << layer << " (" << LayerOpName(l) << "), element " << element << "\n";
  for (size_t e = 0; e < std::max<size_t>(runs.engines.size(), 1); ++e) {
    const LayerTrace& t = runs.pipeline[e][0][layer];
    const bool has_engine = e < runs.engines.size();
    const std::string engine = has_engine ? runs.engines[e] : "";
    const EngineResult* lt = has_engine ? &runs.libtorch[e] : nullptr;
    const bool ran = lt && !lt->rejected &&
                     element < static_cast<int64_t>(lt->layers[layer].values.size());
    const OpRecipeDef* path = has_engine ? EngineOpRecipe(engine, l, t.inputs) : nullptr;
    out << (has_engine ? "  on " + engine + " (inputs as LibTorch's layers produced them)"
                       : std::string("  (no engine)"))
        << ": LibTorch "
        << (!lt ? std::string("-")
            : lt->rejected ? "rejected: " + lt->message
            : ran ? std::to_string(lt->layers[layer].values[element])
                  : std::string("(no such element in LibTorch's output)"))
        << "\n";
    for (size_t i = 0; i < t.inputs.size(); ++i) {
      const QTensor& x = t.inputs[i];
      out << "    input " << i << ": " << DTypeName(x.dtype) << " s = " << DoubleWithHex(x.scales[0])
          << ", z = " << x.zero_points[0]
          << (element < x.NumElements() ? ", value at this index = " + std::to_string(x.values[element]) : "")
          << "\n";
    }
    if (element >= static_cast<int64_t>(t.out.size())) continue;
    for (const OpRecipeDef* r : OpRecipes(l.op)) {
      const int32_t y = r->run(l, t.inputs, t.shape)[element];
      out << "    " << r->name << " = " << y
          << (r == path ? "   <- engine path" : "")
          << (ran && y == lt->layers[layer].values[element] ? "   (= LibTorch)" : "")
          << (r->libtorch_bug ? std::string("   [LibTorch bug: ") + r->libtorch_bug + "]" : "")
          << "\n      " << r->formula << "\n";
    }
  }
  const FloatLayerResult& f = runs.float_oracle[layer];
  if (element < static_cast<int64_t>(f.out.size())) {
    out << "  float oracle: " << f.out[element] << " (real " << f.real[element] << ")\n";
  }
  return out.str();
}

int CommandExplain(const std::string& path, int64_t element, int64_t layer_index,
                   const CaseFlags& flags) {
  const CaseLimits limits = flags.Limits();
  ArmTimeout(flags.TimeoutSeconds(), path);
  InitLibTorch();
  const Case c = LoadCaseFile(path, limits);
  std::vector<std::string> unknown;
  const std::vector<std::string> engines = CaseEngines(c, AvailableEngines(), &unknown);
  std::vector<Scheme> schemes;
  for (const SchemeDef* s : AllSchemes()) schemes.push_back(s->id);
  const CaseRuns runs = RunCase(c, engines, schemes);
  if (layer_index < 0 || layer_index >= static_cast<int64_t>(c.model.layers.size())) {
    throw UsageError("--layer: " + std::to_string(layer_index) + " is not a layer of " + path);
  }
  const LayerTrace& trace = runs.pipeline[0][0][layer_index];
  if (element < 0 || element >= static_cast<int64_t>(trace.out.size())) {
    throw UsageError("--element: " + std::to_string(element) + " is outside the layer's " +
                     std::to_string(trace.out.size()) + " outputs");
  }
  if (!IsGemmOp(c.model.layers[layer_index].op)) {
    std::cout << ExplainOpElement(c, runs, static_cast<size_t>(layer_index), element);
    return kExitOk;
  }
  const ChannelTerms& terms = trace.channels[trace.ChannelOf(element)];
  const ChannelQuant& q = terms.quant;
  std::cout << path << ", layer " << layer_index << ", element " << element << " (channel "
            << trace.ChannelOf(element) << ")\n"
            << "  acc = sum (x - z_x)(w - z_w) = " << trace.acc[element] << "\n"
            << "  s_x = " << DoubleWithHex(q.s_x) << ", s_w = " << DoubleWithHex(q.s_w)
            << ", s_y = " << DoubleWithHex(q.s_y) << ", z_y = " << q.z_y << ", bias = "
            << (q.bias ? DoubleWithHex(*q.bias) : std::string("none")) << "\n"
            << "  exact real output = " << ExactRealOutput(terms, trace.acc[element]) << "\n";
  for (size_t s = 0; s < schemes.size(); ++s) {
    const SchemeDef& def = GetScheme(schemes[s]);
    const SchemeDef effective{def.id, def.name, ApplyDefect(def.recipe, c.injected_defect), def.formula};
    std::cout << " " << def.name << ": " << def.formula << "\n"
              << ExplainScheme(effective, terms, trace.acc[element], "    ");
    if (std::optional<Float32TwinParams> p = MakeFloat32TwinParams(effective.recipe, terms)) {
      char buf[200];
      std::snprintf(buf, sizeof buf,
                    "    integer-only twin: bias %s 0x%08x (int %d), multiplier bits 0x%08x -> y = %d\n",
                    p->bias_is_int32 ? "int32" : "bits", p->bias_bits, p->bias_int32,
                    p->multiplier_bits, RequantizeFloat32Twin(*p, trace.acc[element]));
      std::cout << buf;
    }
  }
  for (size_t e = 0; e < engines.size(); ++e) {
    const EngineResult& r = runs.libtorch[e];
    std::cout << "  LibTorch " << engines[e] << ": "
              << (r.rejected ? "rejected: " + r.message
                             : std::to_string(r.layers[layer_index].values[element]))
              << "\n";
  }
  std::cout << "  float oracle: " << runs.float_oracle[layer_index].out[element] << " (real "
            << runs.float_oracle[layer_index].real[element] << ")\n";
  return kExitOk;
}

int CommandReport(const std::vector<std::string>& dirs, const std::string& html) {
  std::vector<RunData> runs;
  bool unexplained = false;
  for (const std::string& dir : dirs) {
    const Report r = LoadRunFolder(dir);
    std::cout << (dirs.size() > 1 ? dir + ":\n" : "") << FormatSummaryTable(Summarize(r.cases, r.discrepancies));
    unexplained |= std::any_of(r.cases.begin(), r.cases.end(),
                               [](const CaseRow& c) { return c.verdict == "unexplained"; });
    runs.push_back(RunData{dir, r.cases, r.discrepancies});
  }
  if (!html.empty()) {
    WriteFileAtomically(html, FormatHtmlReport(runs));
    std::cout << "wrote " << html << "\n";
  }
  return unexplained ? kExitFindings : kExitOk;
}

int CommandMerge(const std::vector<std::string>& dirs, const std::string& out) {
  for (const std::string& dir : dirs) {
    if (SamePath(dir, out)) throw UsageError("--out: " + out + " is one of the shards");
  }
  nlohmann::json run = CheckShardsOfOneRun(dirs);
  const RunFolder folder(out, RunFolder::Mode::kNew);
  const Report merged = MergeShards(dirs);
  std::filesystem::create_directories(out);
  const std::vector<SummaryRow> summary = Summarize(merged.cases, merged.discrepancies);
  WriteReport(out, merged.cases, merged.discrepancies, summary);
  WriteFileAtomically(out + "/junit.xml", FormatJUnit(merged.cases, merged.discrepancies, "qdiff replay " + out + "/findings"));
  WriteFileAtomically(out + "/report.html", FormatHtmlReport({RunData{out, merged.cases, merged.discrepancies}}));
  run["merged_from"] = dirs;
  run["settings"]["shard_index"] = 0;
  run["settings"]["shard_count"] = 1;
  run["rows"] = {{"cases", merged.cases.size()}, {"discrepancies", merged.discrepancies.size()}};
  run["finished"] = UtcNowIso8601();
  WriteFileAtomically(out + "/run.json", run.dump(2) + "\n");
  std::filesystem::create_directories(out + "/findings");
  for (const std::string& dir : dirs) {
    std::error_code ec;
    for (const auto& f : std::filesystem::directory_iterator(dir + "/findings", ec)) {
      std::filesystem::copy_file(f.path(), out + "/findings/" + f.path().filename().string(),
                                 std::filesystem::copy_options::overwrite_existing);
    }
  }
  std::cout << FormatSummaryTable(summary) << "merged " << dirs.size() << " shards into " << out << "\n";
  const bool unexplained = std::any_of(merged.cases.begin(), merged.cases.end(),
                                       [](const CaseRow& c) { return c.verdict == "unexplained"; });
  return unexplained ? kExitFindings : kExitOk;
}

constexpr int64_t kFingerprintQuantizeTensors = 300;
constexpr int64_t kFingerprintDynamicCases = 200;

// Elements where an engine's linear_dynamic recipe missed LibTorch (no accepted case counts as
// a miss: nothing was compared).
int64_t DynamicMismatches(const DynamicCheckResult& r) {
  int64_t n = 0;
  for (const DynamicEngineCounts& e : r.engines) n += e.mismatches + (e.elements == 0 ? 1 : 0);
  return n;
}

int CommandFingerprint(const std::string& engines_flag, const std::string& schemes_flag,
                       const std::string& out_dir) {
  InitLibTorch();
  const std::vector<std::string> engines = ParseEngines(engines_flag);
  FingerprintResult r = RunFingerprint(engines, ParseSchemes(schemes_flag));
  RunOpFingerprint(engines, &r);
  // quantize_per_tensor / quantize_per_channel / dequantize: one kernel for every engine.
  std::ostringstream quantize_table;
  quantize_table << "\nquantize_per_tensor, quantize_per_channel, dequantize (every engine):\n";
  const QuantizeCheckResult q = RunQuantizeCheck(kFingerprintQuantizeTensors, 1, quantize_table);
  if (q.quantize_mismatches || q.dequantize_mismatches || q.elements == 0) {
    r.engine_recipes_reproduce = false;
  }
  r.table += quantize_table.str();
  // linear_dynamic: float activations quantized on the fly, per engine.
  std::ostringstream dynamic_table;
  dynamic_table << "\nlinear_dynamic, linear_relu_dynamic:\n";
  const DynamicCheckResult d =
      RunDynamicCheck(kFingerprintDynamicCases, 1, engines, dynamic_table);
  if (DynamicMismatches(d) > 0) r.engine_recipes_reproduce = false;
  r.table += dynamic_table.str();
  std::cout << "qdiff fingerprint: which scheme reproduces each engine (LibTorch " << LibTorchVersion()
            << ", CPU flags: " << CpuFlags() << ")\n" << r.table;
  std::filesystem::create_directories(out_dir);
  CsvWriter csv(FingerprintColumns());
  for (const FingerprintRow& row : r.rows) csv.AddRow(FingerprintToFields(row));
  const std::string path = out_dir + "/" + kFingerprintFile;
  csv.WriteFile(path);
  std::cout << "\nWrote " << path << "\n";
  return r.engine_recipes_reproduce ? kExitOk : kExitFindings;
}

int Main(int argc, char** argv) {
  CLI::App app{"qdiff: differential tester of quantized inference (integer recipes vs LibTorch)"};
  app.require_subcommand(1);
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);

  RunFlags rf;
  CLI::App* run = app.add_subcommand("run", "random-model campaign over every op; reports to --out");
  run->add_option("--cases", rf.cases, "number of cases, 1 to 10^12 (default: a 60 s budget)");
  run->add_option("--budget", rf.budget, "wall-time budget in seconds, up to 30 days");
  run->add_option("--seed", rf.seed, "campaign seed in [0, 2^64) (same seed: byte-identical CSVs)");
  run->add_option("--engines", rf.engines, "comma list (default: every available engine)");
  run->add_option("--schemes", rf.schemes, "comma list (default: all)");
  run->add_option("--ops", rf.ops, "comma list of ops (default: all; see README)");
  run->add_option("--out", rf.out, "output folder, new or empty (default: out/run-<time>-s<seed>)");
  run->add_option("--jobs", rf.jobs, "worker processes (default and cap: one per core, as memory allows)");
  run->add_option("--case-timeout", rf.case_timeout, "seconds before a case's worker is killed (default 120, at most 86400)");
  run->add_flag("--resume", rf.resume, "continue the run in --out from its journal");
  run->add_flag("--overwrite", rf.overwrite, "replace the previous run in --out");
  run->add_option("--shard", rf.shard, "i/N: run shard i of N (also GTEST_*, SLURM_ARRAY_*, JOB_COMPLETION_INDEX)");
  run->add_option("--baseline", rf.baseline, "previous run folder: print new, fixed and persisting findings");
  run->add_option("--inject-defect", rf.injected_defect,
                  "self-test of the finding pipeline only: apply a named defect (ties_up)");

  std::string case_path;
  bool quiet = false;
  CLI::App* replay = app.add_subcommand("replay", "rerun a case file bit for bit; exit 1 if it fails");
  replay->add_option("case", case_path, "case JSON file")->required();
  replay->add_flag("--quiet", quiet, "no table; the exit code only");
  CaseFlags replay_flags, shrink_flags, explain_flags;
  replay_flags.AddTo(replay, "seconds before the replay stops as a timeout (default 120)");

  std::string shrink_out;
  CLI::App* shrink = app.add_subcommand("shrink", "minimize a failing case file");
  shrink->add_option("case", case_path, "case JSON file")->required();
  shrink->add_option("--out", shrink_out, "output file (default: CASE.shrunk.json)");
  shrink_flags.AddTo(shrink, "the shrink stops as a timeout after ten of these (default 120 s)");

  std::string element, layer_index = "0";
  CLI::App* explain = app.add_subcommand("explain", "one output element, derived under every scheme");
  explain->add_option("case", case_path, "case JSON file")->required();
  explain->add_option("--element", element, "flat output index")->required();
  explain->add_option("--layer", layer_index, "layer index (default 0)");
  explain_flags.AddTo(explain, "seconds before explain stops as a timeout (default 120)");

  std::vector<std::string> report_dirs;
  std::string report_html;
  CLI::App* report = app.add_subcommand("report", "print the summary of run folders' CSVs");
  report->add_option("dirs", report_dirs, "run output folders (several: classes over runs)")->required();
  report->add_option("--html", report_html, "also write a self-contained HTML page here");

  std::vector<std::string> merge_dirs;
  std::string merge_out;
  CLI::App* merge = app.add_subcommand("merge", "join shard outputs into one report");
  merge->add_option("dirs", merge_dirs, "shard output folders")->required();
  merge->add_option("--out", merge_out, "merged output folder")->required();

  std::string fp_engines, fp_schemes, fp_out = "out/fingerprint";
  CLI::App* fingerprint =
      app.add_subcommand("fingerprint", "which scheme reproduces each engine, op by op");
  fingerprint->add_option("--engines", fp_engines, "comma list (default: every available engine)");
  fingerprint->add_option("--schemes", fp_schemes, "comma list (default: all)");
  fingerprint->add_option("--out", fp_out, "folder for fingerprint.csv (default: out/fingerprint)");

  std::string tp_cases = "3000", tp_seed = "1";
  CLI::App* throughput = app.add_subcommand("throughput", "cases per second at --jobs 1 and 2, LibTorch's share");
  throughput->add_option("--cases", tp_cases, "cases per measurement (default 3000)");
  throughput->add_option("--seed", tp_seed, "campaign seed");

  std::string qc_tensors = "2000", qc_seed = "1";
  CLI::App* quantize_check = app.add_subcommand(
      "quantize-check", "quantize_per_tensor/_per_channel and dequantize vs qdiff's formulas");
  quantize_check->add_option("--tensors", qc_tensors, "random tensors (default 2000)");
  quantize_check->add_option("--seed", qc_seed, "seed");
  std::string dc_cases = "1000", dc_seed = "1", dc_engines;
  CLI::App* dynamic_check = app.add_subcommand(
      "dynamic-check", "quantized::linear_dynamic (float activations) per engine vs qdiff's recipes");
  dynamic_check->add_option("--cases", dc_cases, "random cases (default 1000)");
  dynamic_check->add_option("--seed", dc_seed, "seed");
  dynamic_check->add_option("--engines", dc_engines, "comma list (default: all available)");

  // Internal: a campaign worker process (harness/campaign.h). Hidden from --help.
  std::string w_seed = "1", w_engines, w_schemes, w_ops, w_out, w_defect;
  CLI::App* worker = app.add_subcommand("__worker", "")->group("");
  worker->add_option("--seed", w_seed);
  worker->add_option("--engines", w_engines);
  worker->add_option("--schemes", w_schemes);
  worker->add_option("--ops", w_ops);
  worker->add_option("--out", w_out);
  worker->add_option("--inject-defect", w_defect);

  CLI::App* seed_example =
      app.add_subcommand("seed-example", "the forum question: Conv2d(1,1,1)+ReLU in integers");

  auto is_command = [&](const char* name) {
    try {
      return app.get_subcommand(name) != nullptr;
    } catch (const CLI::OptionNotFound&) {
      return false;
    }
  };
  if (argc > 1 && argv[1][0] != '-' && !is_command(argv[1])) {
    std::cerr << "qdiff: unknown command '" << argv[1]
              << "' (commands: run, replay, shrink, explain, report, merge, fingerprint, throughput, quantize-check, dynamic-check, seed-example)\n";
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "qdiff: " << e.what() << "\n";
    return kExitUsage;
  }
  try {
    if (*run) return CommandRun(rf, command_line);
    if (*replay) return CommandReplay(case_path, quiet, replay_flags);
    if (*shrink) return CommandShrink(case_path, shrink_out, shrink_flags);
    if (*explain) {
      return CommandExplain(case_path, ParseInteger(element, "--element", 0, int64_t{1} << 40),
                            ParseInteger(layer_index, "--layer", 0, 1 << 16), explain_flags);
    }
    if (*report) return CommandReport(report_dirs, report_html);
    if (*merge) return CommandMerge(merge_dirs, merge_out);
    if (*seed_example) return RunSeedExample(std::cout);
    if (*dynamic_check) {
      const int64_t n = ParseInteger(dc_cases, "--cases", 1, kMaxCases);
      InitLibTorch();
      const DynamicCheckResult r =
          RunDynamicCheck(n, ParseSeed(dc_seed), ParseEngines(dc_engines), std::cout);
      return DynamicMismatches(r) > 0 ? kExitFindings : kExitOk;
    }
    if (*quantize_check) {
      const QuantizeCheckResult r = RunQuantizeCheck(
          ParseInteger(qc_tensors, "--tensors", 1, kMaxCases), ParseSeed(qc_seed), std::cout);
      return r.quantize_mismatches + r.dequantize_mismatches > 0 ? kExitFindings : kExitOk;
    }
    if (*throughput) {
      return CommandThroughput(ParseInteger(tp_cases, "--cases", 1, kMaxCases), ParseSeed(tp_seed));
    }
    if (*worker) {
      CampaignSettings ws;
      ws.seed = ParseSeed(w_seed);
      ws.engines = ParseEngines(w_engines);
      ws.schemes = ParseSchemes(w_schemes);
      ws.generator.ops = ParseOps(w_ops);
      ws.out_dir = w_out;
      ws.injected_defect = w_defect;
      return RunCampaignWorker(ws);
    }
    if (*fingerprint) return CommandFingerprint(fp_engines, fp_schemes, fp_out);
  } catch (const std::exception& e) {
    // Usage, case-file, report and run-folder errors name their flag, file or field; echoed
    // values may come from a hostile file, so the message is made printable.
    std::cerr << "qdiff: " << Printable(e.what(), 4000) << "\n";
    return kExitUsage;
  }
  return kExitUsage;
}

}  // namespace
}  // namespace qdiff

int main(int argc, char** argv) { return qdiff::Main(argc, argv); }
