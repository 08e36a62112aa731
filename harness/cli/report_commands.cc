// `qdiff report` and `qdiff merge`: the commands that read finished run folders
// (reports/run_record.h checks that they finished with the rows they record).
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>
#include <tuple>

#include "harness/cli/command.h"
#include "harness/cli/flags.h"
#include "harness/case/provenance.h"
#include "harness/campaign/record.h"
#include "harness/campaign/run_folder.h"
#include "harness/evaluation/kernel_column.h"
#include "reports/html_report.h"
#include "reports/junit.h"
#include "reports/merge.h"
#include "reports/run_record.h"
#include "reports/summary.h"

namespace qdiff {

namespace {

// `qdiff report`'s filters; an empty field keeps every value.
struct ReportFilter {
  std::string op, engine, scheme, cls;
};

// Every class name, in vocabulary order, joined with ", ".
std::string AllowedClasses() {
  std::string classes;
  for (int c = 0; c <= static_cast<int>(DiffClass::kUnexplained); ++c) {
    classes += (classes.empty() ? "" : ", ") + std::string(DiffClassName(static_cast<DiffClass>(c)));
  }
  return classes;
}

// Each filter value must be one qdiff knows (usage error naming the flag and the value).
void ValidateFilter(const ReportFilter& f) {
  auto check = [](const std::string& value, const std::string& flag, bool ok, const std::string& allowed) {
    if (!value.empty() && !ok) {
      throw UsageError(flag + ": unknown value '" + Printable(value) + "' (allowed: " + allowed + ")");
    }
  };
  check(f.op, "--op", ParseOpKind(f.op).has_value(), AllowedOps());
  std::string engines;
  for (Engine e : kAllEngines) engines += (engines.empty() ? "" : ", ") + std::string(EngineName(e));
  check(f.engine, "--engine", ParseEngine(f.engine).has_value(), engines);
  check(f.scheme, "--scheme", ParseScheme(f.scheme).has_value() || f.scheme == KernelColumnName(),
        AllowedSchemes() + ", " + KernelColumnName());
  check(f.cls, "--class", ParseDiffClass(f.cls).has_value(), AllowedClasses());
}

// The rows the filters keep: case rows of the engine and scheme whose op chain holds the op (as a
// family, OpFamily) and, with --class, that have an element of the class (at a layer of that op
// family: the rows' exact layer_classes); the example discrepancies of that layer op family and
// class. Findings likewise.
RunData Filter(RunData run, const ReportFilter& f) {
  auto holds_op = [&](const std::string& chain) {
    const std::vector<std::string> ops = ChainFamilies(chain);
    return f.op.empty() || std::find(ops.begin(), ops.end(), f.op) != ops.end();
  };
  auto has_class = [&](const CaseRow& c) {
    const std::vector<std::string> ops = ChainFamilies(c.op);
    for (const LayerClassCount& k : ParseLayerClassCounts(c.layer_classes)) {
      const bool op_ok = f.op.empty() || (k.layer < static_cast<int64_t>(ops.size()) &&
                                          ops[static_cast<size_t>(k.layer)] == f.op);
      if (op_ok && DiffClassName(k.cls) == f.cls) return true;
    }
    return false;
  };
  std::vector<DiscrepancyRow> discrepancies;
  for (DiscrepancyRow& d : run.discrepancies) {
    if ((!f.engine.empty() && d.engine != f.engine) || (!f.scheme.empty() && d.scheme != f.scheme) ||
        (!f.op.empty() && OpFamily(d.layer_op) != f.op) || (!f.cls.empty() && DiffClassName(d.cls) != f.cls)) {
      continue;
    }
    discrepancies.push_back(std::move(d));
  }
  std::vector<CaseRow> cases;
  std::set<std::tuple<std::string, std::string, std::string>> kept;
  for (CaseRow& c : run.cases) {
    if ((!f.engine.empty() && c.engine != f.engine) || (!f.scheme.empty() && c.scheme != f.scheme) ||
        !holds_op(c.op) || (!f.cls.empty() && !has_class(c))) {
      continue;
    }
    kept.insert({c.case_id, c.engine, c.scheme});
    cases.push_back(std::move(c));
  }
  discrepancies.erase(std::remove_if(discrepancies.begin(), discrepancies.end(), [&](const DiscrepancyRow& d) {
    return !kept.count({d.case_id, d.engine, d.scheme});
  }), discrepancies.end());
  std::vector<ReportFinding> findings;
  for (ReportFinding& x : run.context.findings) {
    const bool scheme_ok = f.scheme.empty() || x.schemes.empty() ||
                           std::find(x.schemes.begin(), x.schemes.end(), f.scheme) != x.schemes.end();
    if ((!f.engine.empty() && x.engine != f.engine && x.engine != "*") || !scheme_ok ||
        (!f.op.empty() && !FindingTouchesOp(x, f.op)) ||
        (!f.cls.empty() && x.cls != f.cls)) {
      continue;
    }
    findings.push_back(std::move(x));
  }
  run.cases = std::move(cases);
  run.discrepancies = std::move(discrepancies);
  run.context.findings = std::move(findings);
  if (!f.engine.empty()) run.context.engines = {f.engine};
  return run;
}

int CommandReport(const std::vector<std::string>& dirs, const std::string& html, const ReportFilter& filter) {
  ValidateFilter(filter);
  std::vector<RunData> runs;
  bool unexplained = false;
  for (const std::string& dir : dirs) {
    Report r = LoadRunFolder(dir);
    RunData run{dir, r.cases, r.discrepancies, RunContext()};
    if (std::filesystem::exists(dir + "/" + kRunRecordFile)) {
      run.context = RunContextFromRecord(ReadRunRecord(dir), dir + "/" + kRunRecordFile);
    } else {  // CSVs made by another tool: the engines and columns of the rows, no findings
      std::set<std::string> engines, columns;
      for (const CaseRow& c : run.cases) {
        engines.insert(c.engine);
        columns.insert(c.scheme);
      }
      run.context = MakeRunContext({engines.begin(), engines.end()}, {columns.begin(), columns.end()}, {}, 0);
    }
    // The tables: the run's exact counts (summary.csv, ops.csv) where its rows are examples, else
    // the rows'; --class needs each case's classes, so it counts the rows (examples) it keeps.
    const bool counted = r.summary && r.layer_summary && filter.cls.empty();
    std::vector<SummaryRow> summary, layers;  // with filters, their engine, scheme and op only
    auto wanted = [&](const SummaryRow& row, bool layer) {
      const std::vector<std::string> ops = ChainFamilies(row.op);
      const bool op_ok = filter.op.empty() || (layer ? OpFamily(row.op) == filter.op
                                                     : std::find(ops.begin(), ops.end(), filter.op) != ops.end());
      return op_ok && (filter.engine.empty() || row.engine == filter.engine) &&
             (filter.scheme.empty() || row.scheme == filter.scheme);
    };
    if (counted) {
      for (SummaryRow& row : *r.summary) {
        if (wanted(row, false)) summary.push_back(std::move(row));
      }
      for (SummaryRow& row : *r.layer_summary) {
        if (wanted(row, true)) layers.push_back(std::move(row));
      }
    }
    run = Filter(std::move(run), filter);
    if (!counted) {
      summary = Summarize(run.cases, run.discrepancies);
      for (SummaryRow& row : SummarizeLayers(run.cases)) {
        if (filter.op.empty() || OpFamily(row.op) == filter.op) layers.push_back(std::move(row));
      }
    }
    std::cout << (dirs.size() > 1 ? dir + ":\n" : "") << FormatRunTables(summary, layers, filter.scheme)
              << (r.summary && !counted ? "(--class: counted over the example rows cases.csv keeps)\n" : "");
    unexplained |= std::any_of(run.cases.begin(), run.cases.end(),
                               [](const CaseRow& c) { return c.verdict == Verdict::kUnexplained; });
    runs.push_back(std::move(run));
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
  // The shards' bounds on example rows (their settings agree); absent before the bounds existed.
  const nlohmann::json& settings = run.at("settings");
  auto setting = [&](const char* key) {
    return settings.contains(key) && settings.at(key).is_number_integer() ? settings.at(key).get<int64_t>() : INT64_MAX;
  };
  const Report merged = MergeShards(dirs, setting("max_example_rows"), setting("all_rows_cases"));
  std::filesystem::create_directories(out);
  const std::vector<SummaryRow> summary = ReportSummary(merged), layers = ReportLayerSummary(merged);
  WriteReport(out, merged.cases, merged.discrepancies, summary);
  WriteSummary(out + "/" + kOpsFile, layers);
  // The shards' findings, joined by root cause: counts add up, schemes unite, the first shard's
  // shrunk file stays (its name is the same under out/findings/).
  std::vector<ReportFinding> findings;
  for (const std::string& dir : dirs) {
    for (ReportFinding& f : FindingsFromRunRecord(ReadRunRecord(dir), dir + "/" + kRunRecordFile)) {
      auto it = std::find_if(findings.begin(), findings.end(), [&](const ReportFinding& g) { return g.key == f.key; });
      if (it == findings.end()) {
        for (std::string* command : {&f.replay, &f.explain}) {
          const size_t at = command->find(dir + "/findings/");
          if (at != std::string::npos) command->replace(at, dir.size(), out);
        }
        f.file = out + "/findings/" + std::filesystem::path(f.file).filename().string();
        findings.push_back(std::move(f));
        continue;
      }
      it->cases += f.cases;
      for (const std::string& s : f.schemes) {
        if (std::find(it->schemes.begin(), it->schemes.end(), s) == it->schemes.end()) it->schemes.push_back(s);
      }
      std::sort(it->schemes.begin(), it->schemes.end());
    }
  }
  nlohmann::json findings_json = nlohmann::json::array();
  for (const ReportFinding& f : findings) findings_json.push_back(FindingJson(f));
  run["findings"] = findings_json;
  const RunContext context = RunContextFromRecord(run, out + "/" + kRunRecordFile);
  WriteFileAtomically(out + "/junit.xml", FormatJUnit(layers, context));
  WriteFileAtomically(out + "/report.html", FormatHtmlReport({RunData{out, merged.cases, merged.discrepancies, context}}));
  run["merged_from"] = dirs;
  nlohmann::json corners = nlohmann::json::object();  // summed over the shards
  for (const std::string& dir : dirs) {
    const nlohmann::json shard = ReadRunRecord(dir);
    if (!shard.contains("corners")) continue;
    for (const auto& [name, n] : shard.at("corners").items()) {
      corners[name] = (corners.contains(name) ? corners[name].get<int64_t>() : 0) + n.get<int64_t>();
    }
  }
  run["corners"] = corners;
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
                                       [](const CaseRow& c) { return c.verdict == Verdict::kUnexplained; });
  return unexplained ? kExitFindings : kExitOk;
}

}  // namespace

CommandDef ReportCommand() {
  return {"report", "print the summary of run folders' CSVs",
          [](CLI::App* report, const std::string&) -> std::function<int()> {
            struct Flags {
              std::vector<std::string> dirs;
              std::string html;
              ReportFilter filter;
            };
            auto f = std::make_shared<Flags>();
            report->add_option("dirs", f->dirs, "run output folders (several: classes over runs)")->required();
            report->add_option("--html", f->html, "also write a self-contained HTML page here");
            report->add_option("--op", f->filter.op, "only cases whose op chain holds this op (and its layers)");
            report->add_option("--engine", f->filter.engine, "only this engine");
            report->add_option("--scheme", f->filter.scheme, "only this scheme (or kernel)");
            report->add_option("--class", f->filter.cls, "only elements of this class, and their cases");
            SetHelpFooter(report, [] {
              return HelpValues{{"--op", AllowedOps()}, {"--engine", AllowedEngines()},
                                {"--scheme", AllowedSchemes() + ", " + KernelColumnName()}, {"--class", AllowedClasses()}};
            }, "qdiff report out/nightly-20261126 --engine onednn --class unexplained --html onednn.html");
            return [f] { return CommandReport(f->dirs, f->html, f->filter); };
          }};
}

CommandDef MergeCommand() {
  return {"merge", "join shard outputs into one report",
          [](CLI::App* merge, const std::string&) -> std::function<int()> {
            struct Flags {
              std::vector<std::string> dirs;
              std::string out;
            };
            auto f = std::make_shared<Flags>();
            merge->add_option("dirs", f->dirs, "shard output folders")->required();
            merge->add_option("--out", f->out, "merged output folder (new or empty)")->required();
            SetHelpFooter(merge, nullptr, "qdiff merge out/shard-0 out/shard-1 out/shard-2 --out out/merged");
            return [f] { return CommandMerge(f->dirs, f->out); };
          }};
}

}  // namespace qdiff
