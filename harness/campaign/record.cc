#include "harness/campaign/record.h"

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "harness/torch/libtorch_runner.h"  // LibTorchVersion
#include "harness/torch/libtorch_version.h"
#include "harness/case/provenance.h"
#include "reports/csv.h"  // WriteFileAtomically

namespace qdiff {

using nlohmann::json;

void WriteCampaignRecord(const CampaignSettings& s, const CampaignResult& r,
                         const std::string& started, const std::string& finished, RowCounts rows) {
  json schemes = json::array();
  for (Scheme id : s.schemes) schemes.push_back(GetScheme(id).name);
  json ops = json::array();
  for (OpKind op : s.generator.ops) ops.push_back(OpKindName(op));
  json environment = json::object();
  for (const auto& [name, value] : KernelEnvironment()) environment[name] = value;
  json findings = json::array();
  for (const Finding& f : r.findings) {
    findings.push_back({{"signature", f.signature}, {"case_id", f.case_id}, {"file", f.file},
                        {"count", f.count}, {"state_dependent", f.state_dependent},
                        {"size_before", f.size_before}, {"size_after", f.size_after},
                        {"shrink_attempts", f.shrink_attempts}, {"shrink_seconds", f.shrink_seconds},
                        {"shrink_failed", f.shrink_failed}});
  }
  const json j{{"qdiff_version", QdiffVersion()},
               {"qdiff_git_hash", QdiffGitHash()},
               {"libtorch_version", LibTorchVersion()},
               {"libtorch_version_source", LoadedLibTorchVersion().source},
               {"corners", r.corners},
               {"engines", EngineNames(s.engines)},
               {"cpu_flags", CpuFlags()},
               {"dnnl_max_cpu_isa", std::getenv("DNNL_MAX_CPU_ISA") ? std::getenv("DNNL_MAX_CPU_ISA") : ""},
               {"environment", environment},
               {"seed", s.seed},
               {"settings",
                {{"cases", s.cases},
                 {"budget_seconds", s.budget_seconds},
                 {"schemes", schemes},
                 {"ops", ops},
                 {"real_sizes", s.generator.real_size_percent},
                 {"injected_defect", s.injected_defect},
                 {"kernel", s.kernel_path},
                 {"shard_index", s.shard_index},
                 {"shard_count", s.shard_count},
                 {"command_line", s.command_line}}},
               {"jobs", s.jobs},
               {"started", started},
               {"finished", finished},
               {"rows", {{"cases", rows.cases}, {"discrepancies", rows.discrepancies}}},
               {"journal_lines_dropped", r.journal_lines_dropped},
               {"cases_run", r.cases_run},
               {"resumed_cases", r.resumed_cases},
               {"crashed", r.crashed},
               {"timeouts", r.timeouts},
               {"unexplained_rows", r.unexplained_cases},
               {"wall_seconds", r.wall_seconds},
               {"worker_seconds", r.worker_seconds},
               {"libtorch_seconds", r.libtorch_seconds},
               {"worker_rss_kb", {{"first", r.worker_rss_first_kb}, {"after_1000_cases", r.worker_rss_1000_kb},
                                  {"max", r.worker_rss_max_kb},
                                  {"last", r.worker_rss_last_kb}}},
               {"findings", findings}};
  WriteFileAtomically(s.out_dir + "/run.json", j.dump(2) + "\n");
}

}  // namespace qdiff
