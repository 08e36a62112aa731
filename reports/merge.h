// `qdiff merge`: joins the rows of shard outputs into one report. Run settings (run.json) are
// checked by the caller, not here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "reports/rows.h"
#include "reports/summary.h"  // Report, ReportError

namespace qdiff {

// Orders case ids so that digit runs compare by numeric value ("s1-c999999" < "s1-c1000000"),
// other characters bytewise; ids equal in value but not in text ("c7" vs "c007") fall back to
// bytewise order. For ids of equal zero-padded width this is plain string order.
bool CaseIdLess(const std::string& a, const std::string& b);

// Pure merge of already-loaded shards; names[i] names shards[i] in error messages (a dir).
// Output order, deterministic and independent of shard order:
//   cases:         case_id (CaseIdLess), engine, scheme;
//   discrepancies: case_id (CaseIdLess), engine, scheme, layer, index (stable, so rows equal in
//                  all five keep their order within their shard, shards taken in given order).
// Throws ReportError if: names.size() != shards.size(); a (case_id, engine, scheme) occurs twice
// (message names both shards, or the one shard twice); a discrepancy has no case row with its
// (case_id, engine, scheme) in its own shard (message names the shard).
// Then the example rows are bounded again as one run's (ExampleRowBound and CaseExampleBound,
// max_example_rows per group, every row of the cases below all_rows_cases; the defaults keep
// every row, as for run folders written before the bounds). The counts (summary,
// layer_summary) are the shards' summed when every shard has them, else left empty.
Report MergeReports(const std::vector<Report>& shards, const std::vector<std::string>& names,
                    int64_t max_example_rows = INT64_MAX, int64_t all_rows_cases = INT64_MAX);

// LoadRunFolder(dir) for each dir (finished, row counts as run.json records; its ReportError
// propagates: file, line, column), then
// MergeReports with the dirs as names. Throws ReportError for an empty list.
Report MergeShards(const std::vector<std::string>& dirs, int64_t max_example_rows = INT64_MAX,
                   int64_t all_rows_cases = INT64_MAX);

}  // namespace qdiff
