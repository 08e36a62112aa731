// Findings by root cause, as every report shows them (console, findings/, junit.xml, report.html):
// one finding per (op, engine, class) with the SET of scheme columns it affects, not one per
// scheme. A LibTorch behaviour every scheme sees is one finding naming the schemes; an injected
// defect is one finding per op (of the failing layer), engine and class it produces. The kernel column and dead workers
// stay their own groups. The campaign groups (harness/campaign/coordinator.cc) and records them in
// run.json; `qdiff report` reads them back from there.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace qdiff {

struct ReportFinding {
  std::string key;     // GroupKey: "op/engine/class"; kernel "op/engine/kernel/class"; dead
                       // worker "op/*/*/crashed|timeout"
  std::string op;      // the layer it gets wrong: a scheme's, its op family ("conv2d"); a
                       // kernel's, the layer op ("conv2d_relu"); a dead worker's, the op chain
  std::string engine;  // "*" for a dead worker (every engine)
  std::string cls;     // "unexplained", a kernel's class, "crashed" or "timeout"
  std::vector<std::string> schemes;  // columns affected, sorted; {"kernel"}; {} for a dead worker
  int64_t cases = 0;   // distinct cases that showed it
  std::string case_id; // the first case that showed it (the one shrunk)
  std::string file;    // the shrunk case file (the raw case if it could not be shrunk)
  std::string replay;  // command that replays `file`
  std::string explain; // command that explains one finding element of `file` ("" if none known)
};

// What junit.xml and report.html need beyond the rows: the run's configuration (every
// engine × op × column is a JUnit testcase, however many cases ran), its findings, and which
// corpus files document the known LibTorch bugs of an op on an engine.
struct RunContext {
  std::vector<std::string> engines;
  std::vector<std::string> ops;      // every op qdiff knows (a case may hold ops outside --ops)
  std::vector<std::string> columns;  // the schemes, then "kernel" if a plugin ran
  std::vector<ReportFinding> findings;
  std::map<std::string, std::vector<std::string>> bug_corpora;  // "op/engine" → corpus files
  std::map<std::string, std::string> own_scheme;  // engine → the scheme that models it
  double seconds = 0;  // worker seconds of the run (JUnit time=, apportioned by layers)
};

// The op family of a layer op: a fused ReLU variant → its op ("conv2d_relu" → "conv2d",
// "add_relu" → "add"); others unchanged ("leaky_relu").
std::string OpFamily(const std::string& layer_op);
// The layer ops of an op chain ("conv2d>relu>add_relu"), as families, in order (repeats kept).
std::vector<std::string> ChainFamilies(const std::string& chain);

// Whether finding `f` is about op family `op`: its failing layer's family, or for a dead worker
// any layer of its chain.
bool FindingTouchesOp(const ReportFinding& f, const std::string& op);

// The '/'-separated parts of a signature or group key (op chains hold no '/').
std::vector<std::string> SplitSignature(const std::string& signature);

// The group of a per-scheme signature "op/engine/scheme/class": "op/engine/class" for a scheme,
// unchanged for the kernel column ("op/engine/kernel/class") and anything else (dead workers).
std::string FindingGroupKey(const std::string& signature);
// The column of a signature: its scheme, or "kernel"; "" for a dead worker or other text.
std::string FindingSignatureColumn(const std::string& signature);

// run.json's "findings" array back as ReportFindings (fields as WriteCampaignRecord writes them;
// findings of run folders written before the grouping, without "op" and "schemes", are grouped
// here). Throws ReportError naming `source` and the field when one is missing or of the wrong type.
std::vector<ReportFinding> FindingsFromRunRecord(const nlohmann::json& run, const std::string& source);
// The fields above as run.json holds them.
nlohmann::json FindingJson(const ReportFinding& f);

}  // namespace qdiff
