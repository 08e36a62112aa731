// discrepancies.csv's example-row bound (reports/example_rows.h): a campaign worker bounds each
// case's rows with a fresh ExampleRowBound before sending them, and the coordinator bounds what
// arrives with the run's. The written rows must be those of the run's bound on the unfiltered
// cases, for any rows and any bound.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <tuple>
#include <vector>

#include "reports/example_rows.h"
#include "tests/support/example_rows_gen.h"

namespace qdiff {
namespace {

using Written = std::vector<std::tuple<std::string, std::string, std::string, int64_t, int64_t>>;

void Append(const std::vector<DiscrepancyRow>& rows, Written* out) {
  for (const DiscrepancyRow& r : rows) out->emplace_back(r.case_id, r.engine, r.scheme, r.layer, r.index);
}

RC_GTEST_PROP(ExampleRows, WorkerBoundThenRunBoundKeepsTheRunBoundsRows, ()) {
  const int64_t max_per_group = *rc::gen::inRange<int64_t>(0, 5);
  const int cases = *rc::gen::inRange(1, 5);
  ExampleRowBound run_direct(max_per_group), run_after_worker(max_per_group);
  Written direct, after_worker;
  for (int c = 0; c < cases; ++c) {
    const std::string id = "c" + std::to_string(c);
    std::vector<DiscrepancyRow> rows = *rc::gen::container<std::vector<DiscrepancyRow>>(GenExampleDiscrepancy(id));
    std::vector<DiscrepancyRow> sent = rows;
    ExampleRowBound worker(max_per_group);
    KeepExampleRows(&sent, &worker);
    KeepExampleRows(&sent, &run_after_worker);
    KeepExampleRows(&rows, &run_direct);
    Append(rows, &direct);
    Append(sent, &after_worker);
  }
  RC_ASSERT(after_worker == direct);
}

// The bound itself: one row per libtorch_bug element of a case, at most max_per_group per group.
TEST(ExampleRows, OneRowPerBugElementAndAtMostKPerGroup) {
  std::vector<DiscrepancyRow> rows;
  for (const char* scheme : {"a", "b", "c"}) {
    for (int64_t index = 0; index < 4; ++index) {
      DiscrepancyRow r;
      r.case_id = "c0";
      r.engine = "onednn";
      r.scheme = scheme;
      r.index = index;
      r.layer_op = "conv2d";
      r.cls = index < 2 ? DiffClass::kLibTorchBug : DiffClass::kTie;
      rows.push_back(r);
    }
  }
  ExampleRowBound bound(1);
  KeepExampleRows(&rows, &bound);
  // bug elements 0 and 1: scheme a keeps index 0 (group (onednn, conv2d, a, bug) then full);
  // index 1 is a bug element seen first under a, so b and c drop it; ties: one per scheme.
  Written kept;
  Append(rows, &kept);
  const Written expected = {{"c0", "onednn", "a", 0, 0}, {"c0", "onednn", "a", 0, 2},
                            {"c0", "onednn", "b", 0, 2}, {"c0", "onednn", "c", 0, 2}};
  EXPECT_EQ(kept, expected);
}

}  // namespace
}  // namespace qdiff
