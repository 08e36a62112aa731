// discrepancies.csv holds example rows, not every differing element: the exact counts are the
// case rows' `classes` and `layer_classes` (rows.h), from which summary.csv, ops.csv, junit.xml,
// the tables of report.html, `report`, `merge` and `--baseline` derive. The bound, applied in
// file order (case by case, a case's rows by engine, scheme, layer, index):
//   - a libtorch_bug element (case, engine, layer, index) keeps one row, its first scheme's: a
//     known LibTorch bug is the same element under every scheme;
//   - at most max_per_group rows per group (engine, layer_op, scheme, cls) in the whole run.
// A run, a resumed run and merged shards apply it in the same order, so they keep the same rows.
//
// cases.csv likewise holds every row of the first all_rows_cases case indices and then example
// cases only (CaseExampleBound): the summaries count every case row whether written or not.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "reports/rows.h"

namespace qdiff {

inline constexpr int64_t kDefaultMaxExampleRows = 20;  // `qdiff run --max-example-rows`
inline constexpr int64_t kDefaultAllRowsCases = 2000;   // `qdiff run --all-rows-cases`

// The fields of a discrepancy row that ExampleRowBound decides by (a campaign worker sends
// them beside the row's CSV line, so the coordinator need not parse the row).
struct ExampleRowKey {
  std::string engine, layer_op, scheme;
  DiffClass cls = DiffClass::kUnexplained;
  int64_t layer = 0, index = 0;
};
ExampleRowKey ExampleKeyOf(const DiscrepancyRow& row);

class ExampleRowBound {
 public:
  explicit ExampleRowBound(int64_t max_per_group) : max_per_group_(max_per_group) {}
  // Whether `row` is written; counts it if so.
  bool Keep(const DiscrepancyRow& row) { return Keep(row.case_id, ExampleKeyOf(row)); }
  bool Keep(const std::string& case_id, const ExampleRowKey& key);

 private:
  int64_t max_per_group_;
  std::unordered_map<std::string, int64_t> kept_;  // "engine\x1flayer_op\x1fscheme\x1fclass" → rows
  std::string key_;                                // reused: a hit allocates nothing
  std::string bug_case_;  // the case whose libtorch_bug elements bug_elements_ holds
  std::set<std::tuple<std::string, int64_t, int64_t>> bug_elements_;  // (engine, layer, index)
};

// One case's discrepancy rows in file order (engine, scheme, layer, index; stable), then only
// those `bound` keeps. A campaign worker applies it with a fresh bound per case (it reads the
// case's findings from those rows), then with one over all its cases (WorkerRows,
// harness/campaign/rows.h) before it sends the rows, and the coordinator again with the run's: a
// row the run's bound keeps has fewer rows of its group before it in the case, or in the
// worker's cases, than in the run, and a repeated libtorch_bug element is dropped by all, so the
// coordinator writes the same rows as from the unfiltered case.
void KeepExampleRows(std::vector<DiscrepancyRow>* rows, ExampleRowBound* bound);

// Which cases cases.csv keeps (all of a case's rows or none), applied in case-index order after
// the case's discrepancy rows were bounded. A case is kept when
//   - its index is below all_rows_cases (short runs keep every row), or
//   - a row is a finding (unexplained, crashed, timeout: --baseline and shrinking need them), or
//   - one of its discrepancy rows was kept (every example row joins its case row), or
//   - a row's group (engine, scheme, verdict, first layer op) has fewer than max_per_group kept
//     cases before it.
// As for ExampleRowBound, a shard keeps a superset of what the unsharded run keeps among its
// cases, so the bound applied again in index order over merged shards gives the unsharded rows.
class CaseExampleBound {
 public:
  CaseExampleBound(int64_t all_rows_cases, int64_t max_per_group)
      : all_rows_cases_(all_rows_cases), max_per_group_(max_per_group) {}
  // Whether the case at `index` with these rows is written; counts its groups if so.
  bool Keep(int64_t index, const std::vector<CaseRow>& rows, bool kept_discrepancies);
  // The same from each row's Group and whether a row is a finding (IsFinding of its verdict).
  bool Keep(int64_t index, const std::vector<std::string>& groups, bool finding, bool kept_discrepancies);
  // A row's group: "engine\x1fscheme\x1fverdict\x1ffirst layer op".
  static std::string Group(const CaseRow& row);

 private:
  int64_t all_rows_cases_, max_per_group_;
  std::unordered_map<std::string, int64_t> kept_;  // "engine\x1fscheme\x1fverdict\x1ffirst op" → cases
};

// The case index of a case id "s<seed>-c<index>" (CaseId); -1 when `id` has no "-c<digits>" tail.
int64_t CaseIndexOfId(const std::string& id);

}  // namespace qdiff
