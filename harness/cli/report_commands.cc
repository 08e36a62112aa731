// `qdiff report` and `qdiff merge`: the commands that read finished run folders
// (reports/run_record.h checks that they finished with the rows they record).
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>

#include "harness/cli/command.h"
#include "harness/cli/flags.h"
#include "harness/case/provenance.h"
#include "harness/campaign/run_folder.h"
#include "reports/html_report.h"
#include "reports/junit.h"
#include "reports/merge.h"
#include "reports/run_record.h"
#include "reports/summary.h"

namespace qdiff {

namespace {

int CommandReport(const std::vector<std::string>& dirs, const std::string& html) {
  std::vector<RunData> runs;
  bool unexplained = false;
  for (const std::string& dir : dirs) {
    const Report r = LoadRunFolder(dir);
    std::cout << (dirs.size() > 1 ? dir + ":\n" : "") << FormatSummaryTable(Summarize(r.cases, r.discrepancies));
    unexplained |= std::any_of(r.cases.begin(), r.cases.end(),
                               [](const CaseRow& c) { return c.verdict == Verdict::kUnexplained; });
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
            };
            auto f = std::make_shared<Flags>();
            report->add_option("dirs", f->dirs, "run output folders (several: classes over runs)")->required();
            report->add_option("--html", f->html, "also write a self-contained HTML page here");
            SetHelpFooter(report, nullptr, "qdiff report out/nightly-20261126 out/nightly-20261127 --html classes.html");
            return [f] { return CommandReport(f->dirs, f->html); };
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
