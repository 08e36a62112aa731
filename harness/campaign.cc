#include "harness/campaign.h"

#include <chrono>
#include <climits>
#include <cstdlib>
#include <stdexcept>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "harness/case_evaluation.h"
#include "harness/case_json.h"
#include "harness/fresh_process.h"
#include "harness/shrink.h"
#include "harness/libtorch_runner.h"
#include "harness/provenance.h"
#include "reports/baseline.h"
#include "reports/html_report.h"
#include "reports/junit.h"
#include "reports/merge.h"
#include "reports/summary.h"

namespace qdiff {

namespace {

// Reports are rewritten (atomically) this often, so a run that dies loses little; by time, not
// by case count, so that rewriting never dominates a long run.
constexpr double kFlushEverySeconds = 15.0;

std::string CaseId(uint64_t campaign_seed, int64_t index) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "s%llu-c%06lld", static_cast<unsigned long long>(campaign_seed),
                static_cast<long long>(index));
  return buf;
}

std::string FormatCornerTable(const std::map<std::string, int64_t>& counts, int64_t total) {
  std::ostringstream s;
  s << "Corners exercised (" << total << " cases):\n";
  for (const auto& [name, n] : counts) {
    char line[128];
    std::snprintf(line, sizeof line, "  %-34s %8lld  %5.1f%%\n", name.c_str(),
                  static_cast<long long>(n), total ? 100.0 * n / total : 0.0);
    s << line;
  }
  return s.str();
}

void CountCorners(const GeneratedModel& g, std::map<std::string, int64_t>* counts) {
  const Layer& l = g.model.layers[0];
  ++(*counts)["op=" + std::string(OpKindName(l.op)) + (l.relu ? "_relu" : "")];
  ++(*counts)["scales=" + g.tags.scale_kind];
  ++(*counts)["values=" + g.tags.value_kind];
  ++(*counts)["bias=" + g.tags.bias_kind];
  ++(*counts)[std::string("weights=") + (l.weight.per_channel() ? "per_channel" : "per_tensor")];
  if (l.op == OpKind::kConv2d && l.conv.groups > 1) {
    ++(*counts)[l.conv.groups == g.model.input.shape[1] ? "conv=depthwise" : "conv=grouped"];
  }
  if (g.tags.large_accumulator) ++(*counts)["acc_beyond_2^24"];
  if (!g.tags.observer.empty()) ++(*counts)["observer=" + g.tags.observer];
  ++(*counts)["layers=" + std::to_string(g.model.layers.size())];
  if (g.tags.weight_zero_point_nonzero) ++(*counts)["weight_zero_point!=0"];
  const int32_t z = g.model.input.zero_points[0];
  if (z == 0 || z == 255) ++(*counts)["input_zero_point_at_extreme"];
}

// A finding: saved at once as found, then shrunk (same op, engine, scheme and class), saved
// again, and confirmed by `qdiff replay` in a fresh process. Later cases with the same signature
// only count.
void RecordFinding(const CampaignSettings& s, Case c, const CaseEvaluation& ev,
                   const Case& previous, std::vector<Finding>* findings) {
  const std::optional<FailureSignature> sig = FirstFinding(ev);
  if (!sig) return;
  for (Finding& f : *findings) {
    if (f.signature == sig->ToString()) {
      ++f.count;
      return;
    }
  }
  Finding f;
  f.signature = sig->ToString();
  f.case_id = c.id;
  f.file = s.out_dir + "/findings/" + c.id + ".json";
  f.count = 1;
  c.description = "unexplained difference (" + f.signature + ") found by a campaign";
  SaveCaseFile(c, f.file);  // nothing is lost if shrinking dies
  ShrinkStats stats;
  Case shrunk = ShrinkCase(c, [&](const Case& cand) { return FailsTheSameWay(cand, *sig); }, &stats);
  shrunk.description = c.description + "; shrunk from " + std::to_string(stats.elements_before) +
                       " to " + std::to_string(stats.elements_after) + " elements";
  shrunk.engines = {sig->engine};
  shrunk.schemes = {sig->scheme};
  shrunk.expected_verdict = "unexplained";
  SaveCaseFile(shrunk, f.file);
  f.size_before = stats.elements_before;
  f.size_after = stats.elements_after;
  f.shrink_attempts = stats.attempts;
  f.shrink_seconds = stats.seconds;
  if (s.confirm_in_fresh_process && RunSelfInFreshProcess({"replay", "--quiet", f.file}) != 1) {
    f.state_dependent = true;
    Case before = previous;
    before.description = "ran just before " + c.id + ", whose finding did not reproduce alone";
    SaveCaseFile(before, s.out_dir + "/findings/" + c.id + ".previous.json");
  }
  findings->push_back(f);
}

nlohmann::json FindingsJson(const std::vector<Finding>& findings) {
  nlohmann::json out = nlohmann::json::array();
  for (const Finding& f : findings) {
    out.push_back({{"signature", f.signature}, {"case_id", f.case_id}, {"file", f.file},
                   {"count", f.count}, {"state_dependent", f.state_dependent},
                   {"size_before", f.size_before}, {"size_after", f.size_after},
                   {"shrink_attempts", f.shrink_attempts}, {"shrink_seconds", f.shrink_seconds}});
  }
  return out;
}

void WriteRunJson(const CampaignSettings& s, const CampaignResult& r, const std::string& started,
                  bool finished) {
  nlohmann::json schemes = nlohmann::json::array();
  for (Scheme id : s.schemes) schemes.push_back(GetScheme(id).name);
  nlohmann::json ops = nlohmann::json::array();
  for (OpKind op : s.generator.ops) ops.push_back(OpKindName(op));
  nlohmann::json j{{"qdiff_version", QdiffVersion()},
                   {"qdiff_git_hash", QdiffGitHash()},
                   {"libtorch_version", LibTorchVersion()},
                   {"engines", s.engines},
                   {"cpu_flags", CpuFlags()},
                   {"seed", s.seed},
                   {"settings",
                    {{"cases", s.cases},
                     {"injected_defect", s.injected_defect},
                     {"shard_index", s.shard_index},
                     {"shard_count", s.shard_count},
                     {"budget_seconds", s.budget_seconds},
                     {"schemes", schemes},
                     {"ops", ops},
                     {"command_line", s.command_line}}},
                   {"started", started},
                   {"finished", finished ? UtcNowIso8601() : ""},
                   {"cases_run", r.cases_run},
                   {"findings", FindingsJson(r.findings)},
                   {"unexplained_rows", r.unexplained_cases}};
  WriteFileAtomically(s.out_dir + "/run.json", j.dump(2) + "\n");
}

}  // namespace

namespace {

int64_t ParseShardNumber(const std::string& text, const std::string& what) {
  size_t used = 0;
  long long v = -1;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || v < 0) {
    throw std::invalid_argument(what + ": expected a non-negative integer, got '" + text + "'");
  }
  return v;
}

std::pair<int64_t, int64_t> CheckedShard(int64_t index, int64_t count, const std::string& what) {
  if (count < 1 || index >= count) {
    throw std::invalid_argument(what + ": shard " + std::to_string(index) + " of " +
                                std::to_string(count) + " does not exist");
  }
  return {index, count};
}

}  // namespace

std::pair<int64_t, int64_t> ResolveShard(const std::string& flag) {
  if (!flag.empty()) {
    const size_t slash = flag.find('/');
    if (slash == std::string::npos) throw std::invalid_argument("--shard: expected i/N, got '" + flag + "'");
    return CheckedShard(ParseShardNumber(flag.substr(0, slash), "--shard"),
                        ParseShardNumber(flag.substr(slash + 1), "--shard"), "--shard");
  }
  auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
  };
  if (!env("GTEST_TOTAL_SHARDS").empty()) {
    return CheckedShard(ParseShardNumber(env("GTEST_SHARD_INDEX"), "GTEST_SHARD_INDEX"),
                        ParseShardNumber(env("GTEST_TOTAL_SHARDS"), "GTEST_TOTAL_SHARDS"),
                        "GTEST_SHARD_INDEX");
  }
  if (!env("SLURM_ARRAY_TASK_COUNT").empty()) {
    const int64_t min = env("SLURM_ARRAY_TASK_MIN").empty()
                            ? 0 : ParseShardNumber(env("SLURM_ARRAY_TASK_MIN"), "SLURM_ARRAY_TASK_MIN");
    return CheckedShard(ParseShardNumber(env("SLURM_ARRAY_TASK_ID"), "SLURM_ARRAY_TASK_ID") - min,
                        ParseShardNumber(env("SLURM_ARRAY_TASK_COUNT"), "SLURM_ARRAY_TASK_COUNT"),
                        "SLURM_ARRAY_TASK_ID");
  }
  if (!env("JOB_COMPLETION_INDEX").empty()) {
    if (env("QDIFF_TOTAL_SHARDS").empty()) {
      throw std::invalid_argument("JOB_COMPLETION_INDEX is set: set QDIFF_TOTAL_SHARDS to the Job's completions");
    }
    return CheckedShard(ParseShardNumber(env("JOB_COMPLETION_INDEX"), "JOB_COMPLETION_INDEX"),
                        ParseShardNumber(env("QDIFF_TOTAL_SHARDS"), "QDIFF_TOTAL_SHARDS"),
                        "JOB_COMPLETION_INDEX");
  }
  return {0, 1};
}

CampaignResult RunCampaign(const CampaignSettings& s) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(s.out_dir + "/findings", ec);
  if (ec) throw std::runtime_error(s.out_dir + ": cannot create the output folder: " + ec.message());
  InitLibTorch();

  const std::string started = UtcNowIso8601();
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  CampaignResult result;
  std::vector<CaseRow> cases;
  std::vector<DiscrepancyRow> discrepancies;
  std::map<std::string, int64_t> corners;
  auto flush = [&](bool finished) {
    // Canonical row order (case id, engine, scheme): the same for a run and its merged shards.
    const Report report = MergeReports({Report{cases, discrepancies}}, {s.out_dir});
    result.summary = Summarize(report.cases, report.discrepancies);
    WriteReport(s.out_dir, report.cases, report.discrepancies, result.summary);
    if (finished) {
      WriteFileAtomically(s.out_dir + "/junit.xml",
                          FormatJUnit(report.cases, report.discrepancies, "qdiff replay " + s.out_dir + "/findings"));
      WriteFileAtomically(s.out_dir + "/report.html",
                          FormatHtmlReport({RunData{s.out_dir, report.cases, report.discrepancies}}));
      if (!s.baseline_dir.empty()) {
        result.baseline_text = FormatBaselineDiff(CompareWithBaseline(report, LoadReport(s.baseline_dir)));
      }
    }
    WriteRunJson(s, result, started, finished);
  };
  Provenance provenance{QdiffVersion(), QdiffGitHash(), LibTorchVersion(), CpuFlags(),
                        "qdiff run --seed " + std::to_string(s.seed), started};

  double next_flush = kFlushEverySeconds;
  Case previous;  // the case run just before, kept for state-dependent findings
  // This shard's case indices (all of them when unsharded).
  const int64_t first = s.cases > 0 ? s.cases * s.shard_index / s.shard_count : s.shard_index;
  const int64_t end = s.cases > 0 ? s.cases * (s.shard_index + 1) / s.shard_count : INT64_MAX;
  const int64_t step = s.cases > 0 ? 1 : s.shard_count;
  for (int64_t i = first;; i += step) {
    if (i >= end) break;
    if (s.budget_seconds > 0 && elapsed() >= s.budget_seconds) break;
    const uint64_t seed = CaseSeed(s.seed, static_cast<uint64_t>(i));
    GeneratedModel g = GenerateModel(seed, s.generator);
    CountCorners(g, &corners);
    Case c;
    c.id = CaseId(s.seed, i);
    c.seed = seed;
    c.model = std::move(g.model);
    c.provenance = provenance;
    c.injected_defect = s.injected_defect;
    const CaseEvaluation ev = EvaluateRuns(c, RunCase(c, s.engines, s.schemes));
    for (const CaseRow& row : ev.case_rows) {
      if (row.verdict == "unexplained") ++result.unexplained_cases;
    }
    if (ev.unexplained_elements > 0) RecordFinding(s, c, ev, previous, &result.findings);
    previous = c;
    cases.insert(cases.end(), ev.case_rows.begin(), ev.case_rows.end());
    discrepancies.insert(discrepancies.end(), ev.discrepancies.begin(), ev.discrepancies.end());
    ++result.cases_run;
    if (elapsed() >= next_flush) {
      flush(false);
      next_flush = elapsed() + kFlushEverySeconds;
    }
  }
  flush(true);
  result.corner_table = FormatCornerTable(corners, result.cases_run);
  return result;
}

}  // namespace qdiff
