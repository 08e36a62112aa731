// The campaign's report rows as cases finish. cases.csv and discrepancies.csv stream in
// case-index order (as NAME.csv.partial until the run finishes), each case's rows sorted by
// (engine, scheme[, layer, index]): the order of MergeReports, so a run, a resumed run and merged
// shards write identical files. summary.csv and ops.csv are counts over every row. A bounded
// sample of rows stays in memory for junit.xml, report.html and --baseline.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "reports/rows.h"
#include "reports/summary.h"  // Report

namespace qdiff {

// One case's report rows.
struct CaseRows {
  std::vector<CaseRow> cases;
  std::vector<DiscrepancyRow> discrepancies;
};

class RowSink {
 public:
  // Creates DIR/cases.csv.partial and DIR/discrepancies.csv.partial. Case indices arrive as
  // first_index + k·step, in any order.
  RowSink(std::string dir, int64_t first_index, int64_t step);
  ~RowSink();
  RowSink(const RowSink&) = delete;
  RowSink& operator=(const RowSink&) = delete;

  // Takes one case's rows; they are written once every earlier index has been.
  void Add(int64_t index, CaseRows rows);
  // fsyncs the streaming CSVs and rewrites summary.csv and ops.csv. With `finished`, first writes
  // what waits behind a gap that will never be filled (a budget's end), then closes the CSVs and
  // gives them their final names.
  void Flush(bool finished);

  std::vector<SummaryRow> Summary() const;       // summary.csv
  std::vector<SummaryRow> LayerSummary() const;  // ops.csv
  const Report& sample() const { return sample_; }
  // False when the sample left cases out (junit.xml and report.html then say so).
  bool sample_complete() const { return sample_complete_; }
  int64_t case_rows() const { return case_rows_; }
  int64_t discrepancy_rows() const { return discrepancy_rows_; }

 private:
  using Key = std::tuple<std::string, std::string, std::string, std::string, std::string>;
  void Write(CaseRows& rows);
  void WriteLine(std::FILE* f, const std::string& line, const char* name);

  std::string dir_;
  int64_t next_ = 0, step_ = 1;             // next case index to write, index stride
  std::map<int64_t, CaseRows> waiting_;     // rows waiting for an earlier index
  std::FILE* cases_ = nullptr;
  std::FILE* discrepancies_ = nullptr;
  int64_t case_rows_ = 0, discrepancy_rows_ = 0;
  std::map<Key, int64_t> summary_, layer_summary_;  // (op, engine, scheme, kind, name) → count
  // The first kSampleCases cases and up to kSampleCases cases with findings.
  static constexpr int64_t kSampleCases = 20000;
  Report sample_;
  int64_t sampled_cases_ = 0, sampled_findings_ = 0;
  bool sample_complete_ = true;
};

}  // namespace qdiff
