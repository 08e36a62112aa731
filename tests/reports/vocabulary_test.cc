// The typed vocabulary: every verdict and class has one name that parses back to it, and a CSV
// row whose verdict or class is not one of them is an error naming the file, line and column.
#include <gtest/gtest.h>

#include "reports/schema.h"
#include "reports/vocabulary.h"

namespace qdiff {
namespace {

TEST(Vocabulary, EveryVerdictNameParsesBack) {
  std::set<std::string> names;
  for (Verdict v : AllVerdicts()) {
    EXPECT_EQ(ParseVerdict(VerdictName(v)), v);
    names.insert(VerdictName(v));
  }
  EXPECT_EQ(names.size(), AllVerdicts().size());
  EXPECT_EQ(ParseVerdict("Unexplained"), std::nullopt);
  EXPECT_TRUE(IsFinding(Verdict::kCrashed) && IsFinding(Verdict::kTimeout) &&
              IsFinding(Verdict::kUnexplained));
  EXPECT_FALSE(IsFinding(Verdict::kRejected) || IsFinding(Verdict::kExplained));
  EXPECT_TRUE(ComparedNothing(Verdict::kRejected) && ComparedNothing(Verdict::kCrashed));
  EXPECT_FALSE(ComparedNothing(Verdict::kDegenerate));
}

TEST(Vocabulary, UnknownVerdictInACsvRowIsAnError) {
  CaseRow row;
  row.case_id = "c1";
  row.op = "relu";
  row.engine = "qnnpack";
  row.scheme = "exact";
  row.verdict = Verdict::kTimeout;
  std::vector<std::string> fields = CaseToFields(row);
  EXPECT_EQ(CaseFromFields(fields, "cases.csv", 2).verdict, Verdict::kTimeout);
  const size_t column = std::find(CaseColumns().begin(), CaseColumns().end(), "verdict") -
                        CaseColumns().begin();
  fields[column] = "timed_out";
  try {
    CaseFromFields(fields, "cases.csv", 2);
    FAIL() << "an unknown verdict was accepted";
  } catch (const ReportError& e) {
    EXPECT_NE(std::string(e.what()).find("cases.csv:2: column verdict: unknown verdict"),
              std::string::npos) << e.what();
  }
}

TEST(Vocabulary, UnknownClassInADiscrepancyRowIsAnError) {
  DiscrepancyRow row;
  row.case_id = "c1";
  row.engine = "qnnpack";
  row.scheme = "exact";
  row.cls = DiffClass::kZeroPointOrder;
  std::vector<std::string> fields = DiscrepancyToFields(row);
  EXPECT_EQ(DiscrepancyFromFields(fields, "discrepancies.csv", 2).cls, DiffClass::kZeroPointOrder);
  const size_t column = std::find(DiscrepancyColumns().begin(), DiscrepancyColumns().end(), "cls") -
                        DiscrepancyColumns().begin();
  fields[column] = "zero_point";
  try {
    DiscrepancyFromFields(fields, "discrepancies.csv", 2);
    FAIL() << "an unknown class was accepted";
  } catch (const ReportError& e) {
    EXPECT_NE(std::string(e.what()).find("discrepancies.csv:2: column cls: unknown class"),
              std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace qdiff
