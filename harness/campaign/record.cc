#include "harness/campaign/record.h"

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "harness/torch/libtorch_runner.h"  // LibTorchVersion
#include "harness/torch/libtorch_version.h"
#include "harness/case/provenance.h"
#include "harness/evaluation/kernel_column.h"  // KernelColumnName
#include "harness/evaluation/engines.h"
#include "harness/evaluation/libtorch_bugs.h"
#include "reports/csv.h"  // WriteFileAtomically

namespace qdiff {

using nlohmann::json;

ReportFinding ToReportFinding(const Finding& f, const std::string& kernel_path) {
  ReportFinding r;
  r.key = f.signature;
  const std::vector<std::string> parts = SplitSignature(f.signature);  // op/engine/.../class
  r.op = parts.empty() ? "" : parts[0];
  r.engine = parts.size() > 1 ? parts[1] : "";
  r.cls = parts.empty() ? "" : parts.back();
  r.schemes.assign(f.schemes.begin(), f.schemes.end());
  r.cases = f.count;
  r.case_id = f.case_id;
  r.file = f.file;
  const bool kernel = f.schemes.count(KernelColumnName()) > 0;
  const std::string with_kernel = kernel ? " --kernel " + kernel_path : "";
  r.replay = "qdiff replay " + f.file + with_kernel;
  if (f.element >= 0) {
    r.explain = "qdiff explain " + f.file + " --element " + std::to_string(f.element) +
                (f.layer > 0 ? " --layer " + std::to_string(f.layer) : std::string()) + with_kernel;
  }
  return r;
}

RunContext MakeRunContext(const std::vector<std::string>& engines, const std::vector<std::string>& columns,
                          std::vector<ReportFinding> findings, double seconds) {
  RunContext ctx;
  ctx.engines = engines;
  ctx.columns = columns;
  ctx.findings = std::move(findings);
  ctx.seconds = seconds;
  for (const std::string& engine : engines) ctx.own_scheme[engine] = EngineOwnSchemeName(engine);
  for (OpKind op : kAllOpKinds) {
    ctx.ops.push_back(OpKindName(op));
    for (const std::string& name : engines) {
      const std::optional<Engine> engine = ParseEngine(name);
      if (!engine) continue;
      const std::vector<std::string> corpora = KnownBugCorpora(op, *engine);
      if (!corpora.empty()) ctx.bug_corpora[std::string(OpKindName(op)) + "/" + name] = corpora;
    }
  }
  return ctx;
}

RunContext RunContextFromRecord(const json& run, const std::string& source) {
  auto strings = [&](const json& parent, const char* field, const std::string& path) {
    if (!parent.is_object() || !parent.contains(field) || !parent.at(field).is_array()) {
      throw ReportError(source + ": " + path + ": missing or not an array");
    }
    std::vector<std::string> out;
    for (const json& v : parent.at(field)) {
      if (!v.is_string()) throw ReportError(source + ": " + path + ": not a string");
      out.push_back(v.get<std::string>());
    }
    return out;
  };
  std::vector<std::string> columns =
      strings(run.contains("settings") ? run.at("settings") : json(), "schemes", "settings.schemes");
  if (columns.empty()) {  // every scheme
    for (const SchemeDef* def : AllSchemes()) columns.push_back(def->name);
  }
  if (run.contains("settings") && run.at("settings").value("kernel", std::string()) != "") {
    columns.push_back(KernelColumnName());
  }
  const double seconds = run.contains("worker_seconds") && run.at("worker_seconds").is_number()
                             ? run.at("worker_seconds").get<double>() : 0.0;
  return MakeRunContext(strings(run, "engines", "engines"), columns, FindingsFromRunRecord(run, source),
                        seconds);
}

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
    json j = FindingJson(ToReportFinding(f, s.kernel_path));
    j.update({{"shrunk_signature", f.shrunk_signature}, {"element", f.element}, {"layer", f.layer},
              {"state_dependent", f.state_dependent}, {"size_before", f.size_before},
              {"size_after", f.size_after}, {"shrink_attempts", f.shrink_attempts},
              {"shrink_seconds", f.shrink_seconds}, {"shrink_failed", f.shrink_failed}});
    findings.push_back(j);
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
                 {"max_example_rows", s.max_example_rows},
                 {"all_rows_cases", s.all_rows_cases},
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
