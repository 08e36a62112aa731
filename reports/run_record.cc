#include "reports/run_record.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <tuple>

namespace qdiff {

using nlohmann::json;

namespace {

std::string RecordPath(const std::string& dir) { return dir + "/" + kRunRecordFile; }

// j[key] as T, or ReportError naming the file and field (never nlohmann's type_error text).
template <typename T>
T Field(const json& j, const char* key, const std::string& file) {
  const auto it = j.find(key);
  if (it == j.end()) throw ReportError(file + ": field '" + key + "' is missing");
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    throw ReportError(file + ": field '" + key + "' has the wrong type (" + it->dump() + ")");
  }
}

// Settings that must agree between shards of one run: everything but the shard index and the
// command line.
json ShardIdentity(const std::string& dir) {
  const std::string file = RecordPath(dir);
  const json j = ReadRunRecord(dir);
  if (Field<std::string>(j, "finished", file).empty()) {
    throw ReportError(file + ": the shard did not finish (field 'finished' is empty)");
  }
  json id = json::object();
  for (const char* key : {"qdiff_version", "qdiff_git_hash", "libtorch_version", "engines", "seed",
                          "environment", "cpu_flags"}) {
    id[key] = j.contains(key) ? j[key] : json();
  }
  json settings = Field<json>(j, "settings", file);
  if (!settings.is_object()) throw ReportError(file + ": field 'settings' is not an object");
  settings.erase("shard_index");
  settings.erase("command_line");
  id["settings"] = settings;
  return id;
}

// Every discrepancy row must belong to a case row of the same folder.
Report CheckedJoin(Report report, const std::string& dir) {
  std::set<std::tuple<std::string, std::string, std::string>> keys;
  for (const CaseRow& c : report.cases) keys.emplace(c.case_id, c.engine, c.scheme);
  for (size_t i = 0; i < report.discrepancies.size(); ++i) {
    const DiscrepancyRow& d = report.discrepancies[i];
    if (!keys.count({d.case_id, d.engine, d.scheme})) {
      throw ReportError(dir + "/" + kDiscrepanciesFile, static_cast<int64_t>(i) + 2, "case_id",
                        "case " + d.case_id + " (engine " + d.engine + ", scheme " + d.scheme +
                            ") has no row in " + dir + "/" + kCasesFile);
    }
  }
  return report;
}

}  // namespace

json ReadRunRecord(const std::string& dir) {
  const std::string file = RecordPath(dir);
  std::ifstream in(file);
  if (!in) throw ReportError(dir + ": no " + kRunRecordFile + " (not a qdiff run folder)");
  const json j = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) throw ReportError(file + ": not a valid JSON object");
  return j;
}

Report LoadRunFolder(const std::string& dir) {
  namespace fs = std::filesystem;
  if (!fs::exists(RecordPath(dir))) {
    if (fs::exists(dir + "/journal.jsonl")) {
      throw ReportError(dir + ": the run did not finish (no " + kRunRecordFile +
                        "); continue it with qdiff run --resume --out " + dir);
    }
    return CheckedJoin(LoadReport(dir), dir);
  }
  const std::string file = RecordPath(dir);
  const json j = ReadRunRecord(dir);
  if (Field<std::string>(j, "finished", file).empty()) {
    throw ReportError(file + ": the run did not finish (field 'finished' is empty); continue it "
                      "with qdiff run --resume and the same settings");
  }
  Report report = LoadReport(dir);
  if (j.contains("rows")) {  // absent in run folders written before it was recorded
    const json rows = Field<json>(j, "rows", file);
    const std::pair<const char*, size_t> counts[] = {{"cases", report.cases.size()},
                                                     {"discrepancies", report.discrepancies.size()}};
    for (const auto& [name, have] : counts) {
      const int64_t want = Field<int64_t>(rows, name, file + " rows");
      if (static_cast<int64_t>(have) != want) {
        throw ReportError(dir + "/" + name + ".csv: holds " + std::to_string(have) +
                          " rows where run.json records " + std::to_string(want) +
                          " (the file was cut or altered after the run)");
      }
    }
  }
  // A campaign whose rows are examples (all_rows_cases, reports/example_rows.h): its exact counts.
  if (j.contains("settings") && j.at("settings").is_object() && j.at("settings").contains("all_rows_cases")) {
    report.summary = ReadSummary(dir + "/" + kSummaryFile);
    report.layer_summary = ReadSummary(dir + "/" + kOpsFile);
  }
  return CheckedJoin(std::move(report), dir);
}

json CheckShardsOfOneRun(const std::vector<std::string>& dirs) {
  if (dirs.empty()) throw ReportError("merge: no shard folders given");
  const json first = ShardIdentity(dirs[0]);
  const int64_t count = Field<int64_t>(first["settings"], "shard_count", RecordPath(dirs[0]) + " settings");
  if (count < 1 || count > (int64_t{1} << 20)) {
    throw ReportError(RecordPath(dirs[0]) + ": field 'settings.shard_count' is out of range");
  }
  std::vector<bool> seen(static_cast<size_t>(count), false);
  for (const std::string& dir : dirs) {
    const json id = ShardIdentity(dir);
    for (const auto& [key, value] : first.items()) {
      if (id[key] != value) {
        throw ReportError(dir + ": run.json field '" + key + "' differs from " + dirs[0] + " (" +
                          id[key].dump() + " vs " + value.dump() + "): shards of different runs");
      }
    }
    const json settings = Field<json>(ReadRunRecord(dir), "settings", RecordPath(dir));
    const int64_t index = Field<int64_t>(settings, "shard_index", RecordPath(dir) + " settings");
    if (index < 0 || index >= count || seen[static_cast<size_t>(index)]) {
      throw ReportError(dir + ": shard " + std::to_string(index) + " is duplicated or out of range");
    }
    seen[static_cast<size_t>(index)] = true;
  }
  for (size_t i = 0; i < seen.size(); ++i) {
    if (!seen[i]) {
      throw ReportError("merge: shard " + std::to_string(i) + " of " + std::to_string(seen.size()) +
                        " is missing");
    }
  }
  return ReadRunRecord(dirs[0]);
}

}  // namespace qdiff
