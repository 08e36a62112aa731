// run.json, the record of a run folder, as the commands that read run folders trust it:
// `report`, `merge` and `run --baseline`. A campaign writes it (harness/campaign/coordinator.cc) with
//   finished       UTC time the run finished; "" while it runs or after it died
//   rows           {"cases": N, "discrepancies": M}: the data rows of cases.csv and
//                  discrepancies.csv when it finished
//   settings, seed, engines, qdiff_version, qdiff_git_hash, libtorch_version: what ran
//   environment    the kernel-changing environment variables (harness/case/provenance.h)
//   cpu_flags      the CPU flags that change LibTorch's kernels
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/summary.h"  // Report, ReportError

namespace qdiff {

constexpr char kRunRecordFile[] = "run.json";

// DIR's rows, checked against its run.json: the run must have finished and each CSV must hold
// exactly the rows run.json records (a file cut at a row boundary or altered is an error naming
// it). A folder without run.json but with a journal is an unfinished run (error: resume it); a
// folder with neither is read as plain CSVs (made by another tool). A campaign that records
// settings.all_rows_cases wrote example rows: its counts are read from summary.csv and ops.csv
// (Report::summary, layer_summary). Throws ReportError.
Report LoadRunFolder(const std::string& dir);

// `merge`: every dir is a finished shard of one run (same settings but the shard index, versions,
// engines, environment and CPU flags), each shard index exactly once and none missing. Returns
// the first dir's run.json. Throws ReportError naming the dir and the field that differs.
nlohmann::json CheckShardsOfOneRun(const std::vector<std::string>& dirs);

// DIR/run.json parsed; ReportError naming the file if it is missing or not a JSON object.
nlohmann::json ReadRunRecord(const std::string& dir);

}  // namespace qdiff
