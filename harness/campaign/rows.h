// The campaign's report rows as cases finish. cases.csv and discrepancies.csv stream in
// case-index order (as NAME.csv.partial until the run finishes), each case's rows sorted by
// (engine, scheme[, layer, index]): the order of MergeReports, so a run, a resumed run and merged
// shards write identical files. Both hold example rows only (reports/example_rows.h: every row of
// the first cases, then bounded examples, findings always); summary.csv and ops.csv count every
// case row's exact class counts, written or not. The written rows (up to a cap) stay in memory
// for junit.xml, report.html and --baseline.
//
// Checkpoint: at each Flush, after the CSVs are fsynced, checkpoint.json records the case index
// below which every case of the run is counted, the CSVs' sizes and the FNV-1a 64 of their bytes,
// where the counts are (checkpoint.N.summary.csv and checkpoint.N.ops.csv while the run goes on;
// summary.csv and ops.csv once it finished; each with its size and hash) and the caller's state.
// It is written atomically and checksummed like a journal line. --resume continues from it: the
// CSVs are cut back to the recorded sizes and the cases behind it run again.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/example_rows.h"
#include "reports/rows.h"
#include "reports/summary.h"  // Report

namespace qdiff {

// One case's rows as a campaign worker sends them (PackRows): formatted, with what the sink's
// bounds and counts need computed beside them, so the coordinator parses only the rows it writes.
struct PackedRows {
  std::string case_id;
  std::vector<std::string> cases;        // CSV lines without '\n', sorted by (engine, scheme)
  std::vector<std::string> case_groups;  // CaseExampleBound::Group of each
  bool finding = false;                  // a row's verdict is a finding (IsFinding)
  int64_t unexplained = 0;               // rows with verdict unexplained
  std::vector<std::string> discrepancies;         // CSV lines without '\n', in file order
  std::vector<ExampleRowKey> discrepancy_keys;    // ExampleKeyOf each
  // What the case adds to summary.csv (CaseRowCounts) and ops.csv (CaseRowLayerCounts): count
  // key (CountKey) → count, a key possibly repeated.
  std::vector<std::pair<std::string, int64_t>> summary, layer_summary;
};

// `discrepancies` in file order, as KeepExampleRows leaves them; the case rows in any order.
PackedRows PackRows(std::vector<CaseRow> cases, const std::vector<DiscrepancyRow>& discrepancies);

// A campaign worker's side of the example bounds (reports/example_rows.h): the same bounds as the
// run's, over the cases this worker runs, which reach it in increasing index order. Like a shard,
// it keeps a superset of what the run keeps among its cases: a row or case the run keeps has no
// more kept rows or cases of its group before it in the worker's cases than in the run's (a case
// the worker keeps and the run does not came when the run's group was full already). So a
// worker sends only the discrepancy rows its bound keeps, and a case's lines only when its case
// bound keeps the case (else the lines are empty; groups and counts are there all the same); the
// run's sink checks that it never keeps a case without its lines.
// The groups of the first cases fill at once: after them most cases send counts only.
class WorkerRows {
 public:
  WorkerRows(int64_t all_rows_cases, int64_t max_example_rows)
      : discrepancies_(max_example_rows), cases_(all_rows_cases, max_example_rows) {}
  PackedRows Pack(int64_t index, std::vector<CaseRow> cases, std::vector<DiscrepancyRow> discrepancies);

 private:
  ExampleRowBound discrepancies_;
  CaseExampleBound cases_;
};

// A summary count's key: "op\x1fengine\x1fscheme\x1fkind\x1fname". No field holds a byte below
// \x1f, so the keys sort in (op, engine, scheme, kind, name) order.
void CountKey(std::string* key, const std::string& op, const std::string& engine, const std::string& scheme,
              const std::string& kind, const std::string& name);

// One case's report rows, and what its journal record holds (signatures, crash, file, previous;
// see the coordinator; empty for most cases).
struct CaseRows {
  PackedRows rows;
  nlohmann::json journal = nlohmann::json::object();
  std::vector<std::string> corners;  // the case's corner keys (the corner table)
};

inline constexpr char kCheckpointFile[] = "checkpoint.json";

// What --resume takes from a checkpoint besides the sink's own state.
struct Checkpoint {
  int64_t next_index = 0;                     // every case index below it is counted
  nlohmann::json state = nlohmann::json::object();  // the caller's, as given to Flush
};

class RowSink {
 public:
  // Called for each case as its rows are written, in index order, with all of them (before the
  // bounds): what the caller counts there is exactly what a checkpoint covers.
  using Written = std::function<void(int64_t index, const CaseRows& rows)>;

  // Case indices arrive as first_index + k·step, in any order. No file is opened before Create
  // or Resume.
  RowSink(std::string dir, int64_t first_index, int64_t step, int64_t all_rows_cases, int64_t max_example_rows,
          Written written);
  ~RowSink();
  RowSink(const RowSink&) = delete;
  RowSink& operator=(const RowSink&) = delete;

  // A new run: creates DIR/cases.csv.partial and DIR/discrepancies.csv.partial.
  void Create();

  // --resume: continues from DIR/checkpoint.json. Its CSVs (NAME.csv.partial, or NAME.csv of a
  // finished run) must hold at least the bytes it records, with the recorded hash, and its counts
  // files likewise; then the rows behind it are read back (bounds, sample), the CSVs are cut to
  // the recorded sizes and continue there. A missing checkpoint starts anew (nullopt); one that
  // does not hold (checksum, sizes, hashes, unparsable rows, or `check` of its state throws
  // std::invalid_argument) is reported to `untrusted` with the reason and starts anew too.
  // RunFolderError if a CSV's header is not qdiff's.
  using Untrusted = std::function<void(const std::string& why)>;
  using CheckState = std::function<void(const nlohmann::json& state)>;
  std::optional<Checkpoint> Resume(const Untrusted& untrusted, const CheckState& check);

  // Takes one case's rows; they are written once every earlier index has been.
  void Add(int64_t index, CaseRows rows);
  // fsyncs the streaming CSVs, writes the counts and the checkpoint with `state`, rewrites
  // ops.csv. With `finished`, first writes what waits behind a gap that will never be filled (a
  // budget's end), then closes the CSVs, gives them their final names and writes summary.csv.
  void Flush(bool finished, const nlohmann::json& state);

  // Every case index below it has been written (or taken from the checkpoint).
  int64_t next_index() const { return next_; }
  std::vector<SummaryRow> Summary() const;       // summary.csv
  std::vector<SummaryRow> LayerSummary() const;  // ops.csv
  const Report& sample() const { return sample_; }
  // False when the sample left cases out (junit.xml and report.html then say so).
  bool sample_complete() const { return sample_complete_; }
  int64_t case_rows() const { return case_rows_; }
  int64_t discrepancy_rows() const { return discrepancy_rows_; }

 private:
  // A streaming CSV: its file, size and the FNV-1a 64 of every byte written to it.
  struct Stream {
    std::FILE* file = nullptr;
    int64_t bytes = 0;
    uint64_t hash = 0;
  };
  void WriteWaiting();
  void Write(int64_t index, const CaseRows& rows);
  // A written case of these many rows: counted; true if the sample takes its rows.
  bool Sampled(size_t case_rows, size_t discrepancy_rows, bool finding);
  void Append(Stream* s, const std::string& text, const char* name);
  // Writes the counts files and then checkpoint.json; `final` names summary.csv and ops.csv.
  void WriteCheckpoint(const nlohmann::json& state, bool final);

  std::string dir_;
  int64_t next_ = 0, step_ = 1;             // next case index to write, index stride
  int64_t all_rows_cases_, max_example_rows_;
  ExampleRowBound bound_;                   // which discrepancy rows are written
  CaseExampleBound case_bound_;             // which cases' rows are written
  Written written_;
  std::map<int64_t, CaseRows> waiting_;     // rows waiting for an earlier index
  Stream cases_, discrepancies_;
  int64_t case_rows_ = 0, discrepancy_rows_ = 0;
  int64_t generation_ = 0;                  // of the checkpoint's counts files
  // CountKey → count (hashed once, no allocation on a hit); sorted when read.
  using Counts = std::unordered_map<std::string, int64_t>;
  static void AddCount(Counts* counts, const std::string& key, int64_t n);
  static std::vector<SummaryRow> Rows(const Counts& counts);
  Counts summary_, layer_summary_;
  // Up to kSampleCases written cases, and up to kSampleCases written cases with findings.
  static constexpr int64_t kSampleCases = 20000;
  Report sample_;
  int64_t sampled_cases_ = 0, sampled_findings_ = 0;
  bool sample_complete_ = true;
};

}  // namespace qdiff
