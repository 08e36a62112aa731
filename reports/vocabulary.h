// The typed vocabulary shared by the harness and the report sinks. Values stay typed from the
// evaluation to the sink that writes them; names appear only at the boundary (CSV, JSON, text).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace qdiff {

// The outcome of one (case, engine, scheme) comparison, cases.csv's `verdict` column.
enum class Verdict {
  kExact,        // every element equals LibTorch's
  kExplained,    // some differ; the classifier explains each
  kUnexplained,  // some element nothing explains: a finding
  kRejected,     // LibTorch refused the case (nothing compared)
  kDegenerate,   // the comparison tested nothing (classifier.h IsDegenerate)
  kCrashed,      // the worker died on the case: a finding
  kTimeout,      // the worker ran past --case-timeout and was killed: a finding
};

// Every verdict, in the column order of the summary tables.
const std::vector<Verdict>& AllVerdicts();
const char* VerdictName(Verdict v);
std::optional<Verdict> ParseVerdict(const std::string& name);
// The verdicts every summary table shows as columns; crashed and timeout get one only when
// present.
const std::vector<std::string>& TableVerdictColumns();
// unexplained, crashed and timeout: what a campaign reports, saves and fails on.
bool IsFinding(Verdict v);
// rejected, crashed and timeout: no element was compared.
bool ComparedNothing(Verdict v);

}  // namespace qdiff
