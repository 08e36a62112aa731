// The campaign's report rows as cases finish. cases.csv and discrepancies.csv stream in
// case-index order (as NAME.csv.partial until the run finishes), each case's rows sorted by
// (engine, scheme[, layer, index]): the order of MergeReports, so a run, a resumed run and merged
// shards write identical files. discrepancies.csv keeps example rows only (ExampleRowBound);
// summary.csv and ops.csv are counts over every case row's exact class counts. A bounded sample
// of rows stays in memory for junit.xml, report.html and --baseline.
//
// The journal (journal.h) records, per case written, where its rows lie in the two CSVs (RowSpan);
// --resume keeps the rows those records vouch for and continues behind them.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/example_rows.h"
#include "reports/rows.h"
#include "reports/summary.h"  // Report

namespace qdiff {

// One case's report rows, and what its journal record holds besides their span (signatures,
// crash, file, previous; see the coordinator).
struct CaseRows {
  std::vector<CaseRow> cases;
  std::vector<DiscrepancyRow> discrepancies;
  nlohmann::json journal = nlohmann::json::object();
};

// Where a case's rows lie: bytes [offset, offset + length) of cases.csv and of
// discrepancies.csv, and the FNV-1a 64 of the cases.csv bytes followed by the discrepancies.csv
// bytes. In the journal as "rows": [cases_offset, cases_length, discrepancies_offset,
// discrepancies_length, checksum].
struct RowSpan {
  int64_t cases_offset = 0, cases_length = 0;
  int64_t discrepancies_offset = 0, discrepancies_length = 0;
  uint64_t checksum = 0;
};
nlohmann::json RowSpanJson(const RowSpan& span);
// std::invalid_argument when `j` is not five non-negative integers.
RowSpan RowSpanFromJson(const nlohmann::json& j);

// A case record of the journal: its index, line number, span and other fields.
struct JournaledCase {
  int64_t index = 0;
  int64_t line = 0;
  RowSpan span;
  nlohmann::json journal;  // the record's fields besides type, index and rows
};

class RowSink {
 public:
  // Called when a case's rows are in both CSVs (written and flushed): the journal records it.
  using Written = std::function<void(int64_t index, const RowSpan& span, const nlohmann::json& journal)>;

  // Case indices arrive as first_index + k·step, in any order. No file is opened before Create
  // or Resume.
  RowSink(std::string dir, int64_t first_index, int64_t step, int64_t max_example_rows, Written written);
  ~RowSink();
  RowSink(const RowSink&) = delete;
  RowSink& operator=(const RowSink&) = delete;

  // A new run: creates DIR/cases.csv.partial and DIR/discrepancies.csv.partial.
  void Create();

  using CaseIdOf = std::function<std::string(int64_t index)>;
  using Taken = std::function<void(const JournaledCase& c, const CaseRows& rows)>;
  using Untrusted = std::function<void(int64_t line, const std::string& why)>;
  // --resume: reads each journaled case's rows from the previous CSVs (NAME.csv.partial, or
  // NAME.csv of a finished run). A case whose span lies beyond a file's end, whose bytes do not
  // match its checksum, that does not parse, whose rows name another case than case_id(index), or
  // that repeats an index, goes to `untrusted` (it runs again); every other to `taken`. The cases
  // contiguous from the header in index order stay where they are: they are returned (the
  // journal keeps their records), the CSVs are cut behind them and continue there. The others
  // wait in memory and are written again in their turn. RunFolderError if a CSV's header is not
  // qdiff's.
  std::vector<JournaledCase> Resume(const std::vector<JournaledCase>& journaled, const CaseIdOf& case_id,
                                    const Taken& taken, const Untrusted& untrusted);

  // Takes one case's rows; they are written once every earlier index has been.
  void Add(int64_t index, CaseRows rows);
  // fsyncs the streaming CSVs and rewrites ops.csv. With `finished`, first writes what waits
  // behind a gap that will never be filled (a budget's end), then closes the CSVs, gives them
  // their final names and writes summary.csv.
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
  void WriteWaiting();
  void Write(int64_t index, CaseRows& rows);
  // Counts a case whose (already bounded) rows are in the CSVs: summaries, sample, row counts.
  void Account(const CaseRows& rows);
  void Append(std::FILE* f, const std::string& text, const char* name);

  std::string dir_;
  int64_t next_ = 0, step_ = 1;             // next case index to write, index stride
  ExampleRowBound bound_;                   // which discrepancy rows are written
  Written written_;
  std::map<int64_t, CaseRows> waiting_;     // rows waiting for an earlier index
  std::FILE* cases_ = nullptr;
  std::FILE* discrepancies_ = nullptr;
  int64_t cases_bytes_ = 0, discrepancies_bytes_ = 0;  // the files' sizes
  int64_t case_rows_ = 0, discrepancy_rows_ = 0;
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  using Counts = std::unordered_map<Key, int64_t, KeyHash>;  // sorted when read (Rows)
  Counts summary_, layer_summary_;  // (op, engine, scheme, kind, name) → count
  // The first kSampleCases cases and up to kSampleCases cases with findings.
  static constexpr int64_t kSampleCases = 20000;
  Report sample_;
  int64_t sampled_cases_ = 0, sampled_findings_ = 0;
  bool sample_complete_ = true;
};

}  // namespace qdiff
