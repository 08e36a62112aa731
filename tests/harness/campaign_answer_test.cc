// The worker→coordinator protocol (harness/campaign/answer.h): a case's answer, as the
// coordinator reads it, carries exactly the rows and counts of the in-process evaluation.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "harness/campaign/answer.h"
#include "harness/campaign/case_index.h"
#include "harness/evaluation/case_evaluation.h"
#include "harness/torch/libtorch_runner.h"
#include "reports/schema.h"
#include "reports/summary.h"

namespace qdiff {
namespace {

using Counts = std::map<std::string, int64_t>;

Counts ByKey(const std::vector<SummaryRow>& rows) {
  Counts out;
  std::string key;
  for (const SummaryRow& r : rows) {
    CountKey(&key, r.op, r.engine, r.scheme, r.kind, r.name);
    out[key] += r.count;
  }
  return out;
}

Counts Sum(const std::vector<std::pair<std::string, int64_t>>& counts) {
  Counts out;
  for (const auto& [key, n] : counts) out[key] += n;
  return out;
}

void CheckCases(const std::string& injected_defect, int64_t cases, int64_t* discrepancies, int64_t* findings) {
  InitLibTorch();
  CampaignSettings s;
  s.seed = 7;
  s.engines = AvailableEngines();
  for (const SchemeDef* d : AllSchemes()) s.schemes.push_back(d->id);
  s.injected_defect = injected_defect;
  for (int64_t index = 0; index < cases; ++index) {
    SCOPED_TRACE("case " + std::to_string(index));
    CaseAnswer sent;
    sent.index = index;
    sent.previous = index - 1;
    sent.size = 1000 + index;
    sent.rss_kb = 123456;
    sent.libtorch_s = 0.1 / 3;
    sent.total_s = 1e-7;
    const Case c = CaseForIndex(s, index, &sent.corners);
    CaseEvaluation ev = EvaluateRuns(c, RunCase(c, s.engines, s.schemes));
    ExampleRowBound case_bound(s.max_example_rows);
    KeepExampleRows(&ev.discrepancies, &case_bound);
    sent.signatures = {"conv2d/qnnpack/exact/tie", "with spaces, \"quotes\" and 12:colons"};
    sent.rows = PackRows(ev.case_rows, ev.discrepancies);
    const std::string line = FormatCaseAnswer(sent);
    ASSERT_EQ(line.find('\n'), std::string::npos);
    const std::optional<CaseAnswer> got = ParseCaseAnswer(line);
    ASSERT_TRUE(got);
    EXPECT_EQ(std::tie(got->index, got->previous, got->size, got->rss_kb, got->libtorch_s, got->total_s,
                       got->corners, got->signatures),
              std::tie(sent.index, sent.previous, sent.size, sent.rss_kb, sent.libtorch_s, sent.total_s,
                       sent.corners, sent.signatures));
    const PackedRows& r = got->rows;
    EXPECT_EQ(r.case_id, c.id);
    // The case rows in the order RowSink writes them, each the evaluation's row.
    std::vector<CaseRow> expected = ev.case_rows;
    std::sort(expected.begin(), expected.end(),
              [](const CaseRow& a, const CaseRow& b) { return std::tie(a.engine, a.scheme) < std::tie(b.engine, b.scheme); });
    ASSERT_EQ(r.cases.size(), expected.size());
    ASSERT_EQ(r.case_groups.size(), expected.size());
    int64_t unexplained = 0;
    bool finding = false;
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(CaseToFields(CaseFromFields(SplitCsvLine(r.cases[i]), "answer", 1)), CaseToFields(expected[i]));
      EXPECT_EQ(r.case_groups[i], CaseExampleBound::Group(expected[i]));
      unexplained += expected[i].verdict == Verdict::kUnexplained;
      finding = finding || IsFinding(expected[i].verdict);
    }
    EXPECT_EQ(r.unexplained, unexplained);
    EXPECT_EQ(r.finding, finding);
    ASSERT_EQ(r.discrepancies.size(), ev.discrepancies.size());
    ASSERT_EQ(r.discrepancy_keys.size(), ev.discrepancies.size());
    for (size_t i = 0; i < ev.discrepancies.size(); ++i) {
      const DiscrepancyRow& d = ev.discrepancies[i];
      EXPECT_EQ(DiscrepancyToFields(DiscrepancyFromFields(SplitCsvLine(r.discrepancies[i]), "answer", 1)),
                DiscrepancyToFields(d));
      const ExampleRowKey& k = r.discrepancy_keys[i];
      EXPECT_EQ(std::tie(k.engine, k.layer_op, k.scheme, k.cls, k.layer, k.index),
                std::tie(d.engine, d.layer_op, d.scheme, d.cls, d.layer, d.index));
    }
    // The counts are those the reports' own summaries derive from the rows.
    EXPECT_EQ(Sum(r.summary), ByKey(Summarize(ev.case_rows, {})));
    EXPECT_EQ(Sum(r.layer_summary), ByKey(SummarizeLayers(ev.case_rows)));
    *discrepancies += static_cast<int64_t>(r.discrepancies.size());
    *findings += finding;
  }
}

TEST(CampaignAnswer, CarriesTheRowsAndCountsOfTheEvaluation) {
  int64_t discrepancies = 0, findings = 0;
  CheckCases("", 40, &discrepancies, &findings);
  EXPECT_GT(discrepancies, 0);  // the cases exercise the discrepancy rows
  CheckCases("ties_up", 100, &discrepancies, &findings);
  EXPECT_GT(findings, 0);  // and findings
}

TEST(CampaignAnswer, AnythingElseIsNotAnAnswer) {
  CaseAnswer a;
  a.index = 3;
  a.corners = {"x"};
  CaseRow row;
  row.case_id = "s7-c000003";
  row.op = "conv2d";
  row.engine = "qnnpack";
  row.scheme = "exact";
  a.rows = PackRows({row}, {});
  const std::string line = FormatCaseAnswer(a);
  ASSERT_TRUE(ParseCaseAnswer(line));
  for (size_t at = 0; at < line.size(); ++at) {  // any byte garbled
    std::string garbled = line;
    garbled[at] ^= 0x20;
    EXPECT_FALSE(ParseCaseAnswer(garbled)) << at;
  }
  for (size_t length = 0; length < line.size(); ++length) EXPECT_FALSE(ParseCaseAnswer(line.substr(0, length)));
  EXPECT_FALSE(ParseCaseAnswer(line + "1:x"));
  EXPECT_FALSE(ParseCaseAnswer("{\"type\": \"case\", \"index\": 3}"));
  EXPECT_FALSE(ParseCaseAnswer("qdiff-case 0000000000000000 "));
  a.signatures = {"two\nlines"};
  EXPECT_THROW(FormatCaseAnswer(a), std::invalid_argument);
}

}  // namespace
}  // namespace qdiff
