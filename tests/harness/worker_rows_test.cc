// WorkerRows (harness/campaign/rows.h): each campaign worker applies the example bounds to its
// own cases and sends only what they keep. Whatever the rows, bounds and the spread of cases over
// workers, the run's bounds applied to what the workers send must keep exactly the rows and cases
// they keep from every row of every case, and never a case whose lines were left out.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <tuple>
#include <vector>

#include "harness/campaign/rows.h"
#include "tests/support/example_rows_gen.h"

namespace qdiff {
namespace {

rc::Gen<CaseRow> GenCaseRow(const std::string& case_id) {
  return rc::gen::apply(
      [case_id](int engine, int scheme, int verdict, bool chain) {
        CaseRow r;
        r.case_id = case_id;
        r.op = chain ? "add>relu" : "conv2d";
        r.engine = engine ? "onednn" : "qnnpack";
        r.scheme = "s" + std::to_string(scheme);
        r.verdict = verdict == 0 ? Verdict::kExact : verdict == 1 ? Verdict::kExplained : Verdict::kUnexplained;
        r.elements = 4;
        return r;
      },
      rc::gen::inRange(0, 2), rc::gen::inRange(0, 3), rc::gen::element(0, 0, 0, 1, 1, 2), rc::gen::arbitrary<bool>());
}

// What the run writes: (case index, engine, scheme, layer, index) of each kept discrepancy row,
// and the indices of the kept cases.
struct Kept {
  std::vector<std::tuple<int64_t, std::string, std::string, int64_t, int64_t>> discrepancies;
  std::vector<int64_t> cases;
  bool operator==(const Kept& o) const { return discrepancies == o.discrepancies && cases == o.cases; }
};

RC_GTEST_PROP(WorkerRows, RunKeepsTheSameFromWhatWorkersSendAsFromEveryRow, ()) {
  const int64_t max_per_group = *rc::gen::inRange<int64_t>(0, 4);
  const int64_t all_rows_cases = *rc::gen::inRange<int64_t>(0, 6);
  const int cases = *rc::gen::inRange(1, 30);
  const int workers = *rc::gen::inRange(1, 4);
  std::vector<WorkerRows> worker(static_cast<size_t>(workers), WorkerRows(all_rows_cases, max_per_group));
  ExampleRowBound run_rows(max_per_group), sent_run_rows(max_per_group);
  CaseExampleBound run_cases(all_rows_cases, max_per_group), sent_run_cases(all_rows_cases, max_per_group);
  Kept from_every_row, from_sent;
  for (int64_t index = 0; index < cases; ++index) {  // the run's order; each worker's is increasing
    const std::string id = "c" + std::to_string(index);
    const std::vector<CaseRow> rows = *rc::gen::nonEmpty(rc::gen::container<std::vector<CaseRow>>(GenCaseRow(id)));
    std::vector<DiscrepancyRow> discrepancies =
        *rc::gen::container<std::vector<DiscrepancyRow>>(GenExampleDiscrepancy(id));
    ExampleRowBound case_bound(max_per_group);  // as the worker does before reading findings
    KeepExampleRows(&discrepancies, &case_bound);

    std::vector<DiscrepancyRow> every = discrepancies;  // the run's bounds on every row
    KeepExampleRows(&every, &run_rows);
    for (const DiscrepancyRow& d : every) from_every_row.discrepancies.emplace_back(index, d.engine, d.scheme, d.layer, d.index);
    if (run_cases.Keep(index, rows, !every.empty())) from_every_row.cases.push_back(index);

    const int w = *rc::gen::inRange(0, workers);
    const PackedRows sent = worker[static_cast<size_t>(w)].Pack(index, rows, discrepancies);
    bool kept_a_row = false;  // the run's bounds on what the worker sent (RowSink::Write)
    for (size_t i = 0; i < sent.discrepancy_keys.size(); ++i) {
      const ExampleRowKey& k = sent.discrepancy_keys[i];
      if (!sent_run_rows.Keep(sent.case_id, k)) continue;
      kept_a_row = true;
      from_sent.discrepancies.emplace_back(index, k.engine, k.scheme, k.layer, k.index);
    }
    if (sent_run_cases.Keep(index, sent.case_groups, sent.finding, kept_a_row)) {
      from_sent.cases.push_back(index);
      RC_ASSERT(std::none_of(sent.cases.begin(), sent.cases.end(), [](const std::string& l) { return l.empty(); }));
    }
  }
  RC_ASSERT(from_sent == from_every_row);
}

// Once a worker's groups are full, a case that is no finding sends counts only.
TEST(WorkerRows, AFullGroupSendsCountsOnly) {
  WorkerRows worker(/*all_rows_cases=*/0, /*max_example_rows=*/1);
  CaseRow row;
  row.op = "conv2d";
  row.engine = "qnnpack";
  row.scheme = "exact";
  row.verdict = Verdict::kExact;
  row.elements = 4;
  row.case_id = "c0";
  const PackedRows first = worker.Pack(0, {row}, {});
  row.case_id = "c1";
  const PackedRows second = worker.Pack(1, {row}, {});
  ASSERT_EQ(first.cases.size(), 1u);
  EXPECT_FALSE(first.cases[0].empty());
  ASSERT_EQ(second.cases.size(), 1u);
  EXPECT_TRUE(second.cases[0].empty());
  EXPECT_EQ(second.summary, first.summary);  // the counts are sent all the same
  row.verdict = Verdict::kUnexplained;  // a finding always sends its lines
  row.case_id = "c2";
  EXPECT_FALSE(worker.Pack(2, {row}, {}).cases[0].empty());
}

}  // namespace
}  // namespace qdiff
