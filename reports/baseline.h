// Comparison of a run's findings with a baseline run's (e.g. last night's).
#pragma once

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "reports/rows.h"
#include "reports/summary.h"  // Report, ReportError

namespace qdiff {

// A kind of finding in one op x engine x scheme. cls is "unexplained" (cases with verdict
// "unexplained" and/or discrepancy rows with cls "unexplained"), "crashed" or "timeout".
struct FindingSignature {
  std::string op;
  std::string engine;
  std::string scheme;
  std::string cls;

  bool operator<(const FindingSignature& o) const {
    return std::tie(op, engine, scheme, cls) < std::tie(o.op, o.engine, o.scheme, o.cls);
  }
  bool operator==(const FindingSignature& o) const {
    return std::tie(op, engine, scheme, cls) == std::tie(o.op, o.engine, o.scheme, o.cls);
  }
};

// Counts of one signature in both reports. cases: distinct case ids (for "unexplained": verdict
// "unexplained" or at least one "unexplained" discrepancy row); elements: "unexplained"
// discrepancy rows (0 for crashed/timeout). case_ids: sorted (CaseIdLess), unique.
struct SignatureDelta {
  FindingSignature signature;
  int64_t baseline_cases = 0;
  int64_t baseline_elements = 0;
  int64_t current_cases = 0;
  int64_t current_elements = 0;
  std::vector<std::string> baseline_case_ids;
  std::vector<std::string> current_case_ids;
};

struct BaselineDiff {
  std::vector<SignatureDelta> new_findings;  // in current, not in baseline
  std::vector<SignatureDelta> fixed;         // in baseline, not in current
  std::vector<SignatureDelta> persisting;    // in both
  // each list sorted by signature (op, engine, scheme, cls)
  bool has_new() const { return !new_findings.empty(); }
};

// Throws ReportError (naming "current" or "baseline") if a discrepancy row has no case row with
// its (case_id, engine, scheme) in the same report, since its op is then unknown.
BaselineDiff CompareWithBaseline(const Report& current, const Report& baseline);

// Three sections, "new findings (N):", "fixed (N):", "persisting (N):", each followed by one
// line per signature: op engine scheme class, "cases B -> C", "elements B -> C" (unexplained
// only), then up to 5 case ids of the current run (of the baseline for fixed ones), "..." if
// more. Empty sections print "  none". Every line ends with '\n'.
std::string FormatBaselineDiff(const BaselineDiff& diff);

}  // namespace qdiff
