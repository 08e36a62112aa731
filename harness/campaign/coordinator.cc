#include "harness/campaign/campaign.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <climits>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <deque>
#include <set>
#include <tuple>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "harness/evaluation/case_evaluation.h"
#include "harness/case/case_json.h"
#include "harness/campaign/case_index.h"
#include "harness/torch/libtorch_runner.h"
#include "harness/case/provenance.h"
#include "harness/campaign/journal.h"
#include "harness/campaign/record.h"
#include "harness/campaign/rows.h"
#include "harness/campaign/run_folder.h"
#include "harness/evaluation/engines.h"
#include "harness/evaluation/kernel_column.h"
#include "harness/evaluation/shrink.h"
#include "harness/campaign/worker_process.h"
#include "reports/baseline.h"
#include "reports/findings.h"
#include "reports/html_report.h"
#include "reports/junit.h"
#include "reports/run_record.h"
#include "reports/schema.h"
#include "reports/summary.h"

namespace qdiff {

using nlohmann::json;

namespace {

// Reports are rewritten (atomically) this often, so a run that dies loses little; by time, not
// by case count, so that rewriting never dominates a long run.
constexpr double kFlushEverySeconds = 15.0;
// The journal header's fields that define the run: --resume needs them equal.
// journal_format 2: case records hold the span of their rows in the CSVs (RowSpan), not the rows.
constexpr int kJournalFormat = 2;
const std::vector<const char*> kHeaderKeys = {"journal_format", "seed", "cases", "engines", "schemes", "ops",
                                              "real_sizes", "max_example_rows", "injected_defect",
                                              "shard_index", "shard_count"};

struct Task {
  enum Kind { kNone, kCase, kShrink } kind = kNone;
  int64_t index = -1;
  int64_t previous = -1;
  std::string signature;
};

struct WorkerSlot {
  std::unique_ptr<WorkerProcess> process;
  Task task;
  std::chrono::steady_clock::time_point deadline;
  int64_t last_index = -1;  // the case this worker ran before (state-dependence)
};

class Coordinator {
 public:
  Coordinator(const CampaignSettings& s, CampaignResult* result)
      : s_(s), r_(*result), t0_(std::chrono::steady_clock::now()) {}

  void Run() {
    namespace fs = std::filesystem;
    // Everything that can refuse the run is checked before a file of the folder is touched.
    if (!s_.baseline_dir.empty()) baseline_ = LoadRunFolder(s_.baseline_dir);
    const RunFolder folder(s_.out_dir, s_.resume      ? RunFolder::Mode::kResume
                                       : s_.overwrite ? RunFolder::Mode::kOverwrite
                                                      : RunFolder::Mode::kNew);
    const std::string journal_path = s_.out_dir + "/" + kJournalFile;
    next_index_ = s_.cases > 0 ? s_.cases * s_.shard_index / s_.shard_count : s_.shard_index;
    end_index_ = s_.cases > 0 ? s_.cases * (s_.shard_index + 1) / s_.shard_count : INT64_MAX;
    step_ = s_.cases > 0 ? 1 : s_.shard_count;
    const std::vector<json> records =
        s_.resume ? Journal::Read(journal_path, Header(), kHeaderKeys,
                                  [this](int64_t line, const std::string& why) { DropJournalLine(line, why); })
                  : std::vector<json>();
    std::error_code ec;
    fs::create_directories(s_.out_dir + "/findings", ec);
    if (ec) throw std::runtime_error(s_.out_dir + ": cannot create the output folder: " + ec.message());
    started_ = UtcNowIso8601();
    sink_ = std::make_unique<RowSink>(s_.out_dir, next_index_, step_, s_.max_example_rows,
                                      [this](int64_t index, const RowSpan& span, const json& fields) {
                                        journal_->Append(CaseRecord(index, span, fields));
                                      });
    if (s_.resume) {
      Resume(journal_path, records);
    } else {
      sink_->Create();
      journal_ = std::make_unique<Journal>(journal_path, false, Header());
    }
    for (const auto& [sig, f] : findings_) {
      if (f.file.empty() && !f.case_id.empty()) shrinks_.push_back(pending_shrinks_[sig]);
    }
    slots_.resize(static_cast<size_t>(std::max<int64_t>(1, s_.jobs)));
    Loop();
    for (WorkerSlot& w : slots_) {
      if (w.process) {
        w.process->Send("quit");
        w.process->Wait();
      }
    }
    if (s_.progress) std::cerr << "\n";
    Flush(true);
  }

 private:
  double Elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }

  json Header() const {
    json schemes = json::array();
    for (Scheme id : s_.schemes) schemes.push_back(GetScheme(id).name);
    json ops = json::array();
    for (OpKind op : s_.generator.ops) ops.push_back(OpKindName(op));
    return json{{"type", "header"}, {"seed", s_.seed}, {"cases", s_.cases},
                {"engines", EngineNames(s_.engines)}, {"schemes", schemes}, {"ops", ops},
                {"real_sizes", s_.generator.real_size_percent}, {"journal_format", kJournalFormat},
                {"max_example_rows", s_.max_example_rows},
                {"injected_defect", s_.injected_defect}, {"shard_index", s_.shard_index},
                {"shard_count", s_.shard_count}, {"qdiff_git_hash", QdiffGitHash()}};
  }

  void DropJournalLine(int64_t number, const std::string& why) {
    ++r_.journal_lines_dropped;
    std::cerr << "qdiff: " << s_.out_dir << "/" << kJournalFile << " line " << number << ": " << why
              << "; the line is ignored and its case runs again\n";
  }

  // Case indices this shard runs: [begin, end) with a case count, else i ≡ shard_index (mod N).
  bool InShard(int64_t index) const {
    if (index < 0) return false;
    if (s_.cases > 0) return index >= s_.cases * s_.shard_index / s_.shard_count && index < end_index_;
    return index % s_.shard_count == s_.shard_index;
  }

  // A case's journal record: its index, the span of its rows and `fields` (CaseRows::journal).
  static json CaseRecord(int64_t index, const RowSpan& span, const json& fields) {
    json j = fields;
    j["type"] = "case";
    j["index"] = index;
    j["rows"] = RowSpanJson(span);
    return j;
  }

  // --resume: the journal's case records whose rows the CSVs still hold are taken (the others run
  // again), then the journal is rewritten with the records that still hold, and continues.
  void Resume(const std::string& journal_path, const std::vector<json>& records) {
    std::vector<JournaledCase> cases;
    std::vector<json> findings;
    for (const json& j : records) {  // a checksummed record is still checked
      const int64_t number = j.value("line", int64_t{0});
      try {
        const int64_t index = j.at("index").get<int64_t>();
        if (!InShard(index)) {
          DropJournalLine(number, "case index " + std::to_string(index) + " is not in this run");
          continue;
        }
        const std::string type = j.value("type", "");
        if (type == "case") {
          json fields = j;
          for (const char* key : {"type", "index", "rows", "line"}) fields.erase(key);
          cases.push_back(JournaledCase{index, number, RowSpanFromJson(j.at("rows")), fields});
        } else if (type == "finding") {
          json record = j;
          record.erase("line");
          findings.push_back(record);
        }
      } catch (const std::exception& e) {  // a field of the wrong type or shape
        DropJournalLine(number, std::string("malformed record (") + e.what() + ")");
      }
    }
    const std::vector<JournaledCase> kept = sink_->Resume(
        cases, [this](int64_t index) { return CaseId(s_.seed, index); },
        [this](const JournaledCase& c, const CaseRows& rows) {
          Account(c.index, rows, CornersForIndex(s_, c.index));
          ++r_.resumed_cases;
        },
        [this](int64_t line, const std::string& why) { DropJournalLine(line, why); });
    std::vector<json> still;
    for (const JournaledCase& c : kept) still.push_back(CaseRecord(c.index, c.span, c.journal));
    for (const json& f : findings) {
      TakeFinding(f);
      still.push_back(f);
    }
    Journal::Rewrite(journal_path, Header(), still);
    journal_ = std::make_unique<Journal>(journal_path, /*resume=*/true, Header());
  }

  // A case's result from a worker (or a dead worker's rows): counted, and its rows to the sink.
  // False when the case was already taken.
  bool TakeCaseResult(const json& j) {
    const int64_t index = j.at("index");
    if (done_.count(index)) return false;
    CaseRows d;
    int64_t line = 0;
    for (const json& f : j.at("cases")) {
      d.cases.push_back(CaseFromFields(f.get<std::vector<std::string>>(), "worker", ++line));
    }
    for (const json& f : j.at("discrepancies")) {
      d.discrepancies.push_back(DiscrepancyFromFields(f.get<std::vector<std::string>>(), "worker", ++line));
    }
    // What the journal keeps besides the rows: what findings and crashes need.
    const json signatures = j.value("signatures", json::array());
    if (!signatures.empty()) {
      d.journal["signatures"] = signatures;
      d.journal["previous"] = j.value("previous", int64_t{-1});
    }
    for (const char* key : {"crash", "file"}) {
      if (j.contains(key)) d.journal[key] = j.at(key);
    }
    r_.worker_seconds += j.value("total_s", 0.0);
    r_.libtorch_seconds += j.value("libtorch_s", 0.0);
    Account(index, d, j.at("corners").get<std::vector<std::string>>());
    const int64_t rss = j.value("rss_kb", int64_t{0});
    if (rss > 0) {
      if (r_.worker_rss_first_kb == 0) r_.worker_rss_first_kb = rss;
      if (r_.cases_run == 1000) r_.worker_rss_1000_kb = rss;  // after warm-up
      r_.worker_rss_last_kb = rss;
      r_.worker_rss_max_kb = std::max(r_.worker_rss_max_kb, rss);
    }
    sink_->Add(index, std::move(d));
    return true;
  }

  // Counts case `index` (from a worker or the journal): verdicts, crashes, corners, findings.
  void Account(int64_t index, const CaseRows& d, const std::vector<std::string>& corners) {
    done_.insert(index);
    for (const CaseRow& row : d.cases) {
      if (row.verdict == Verdict::kUnexplained) ++r_.unexplained_cases;
    }
    const std::string crash = d.journal.value("crash", std::string());
    if (crash == "crashed") ++r_.crashed;
    if (crash == "timeout") ++r_.timeouts;
    for (const std::string& k : corners) ++corners_[k];
    ++r_.cases_run;
    // The case's signatures by root cause (FindingGroupKey): a group counts each case once and
    // gathers its schemes; its first case is shrunk once, for the engine's own scheme when that
    // scheme shows it, else for the group's first signature in the case.
    std::vector<std::pair<std::string, std::vector<std::string>>> groups;  // key → signatures
    for (const json& js : d.journal.value("signatures", json::array())) {
      const std::string sig = js.get<std::string>();
      const std::string key = FindingGroupKey(sig);
      auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == key; });
      if (it == groups.end()) it = groups.insert(groups.end(), {key, {}});
      it->second.push_back(sig);
    }
    for (const auto& [key, sigs] : groups) {
      Finding& f = findings_[key];
      for (const std::string& sig : sigs) {
        if (const std::string column = FindingSignatureColumn(sig); !column.empty()) f.schemes.insert(column);
      }
      if (f.count++ > 0) continue;
      std::string shrunk = sigs.front();
      for (const std::string& sig : sigs) {
        const std::optional<FailureSignature> parsed = FailureSignature::Parse(sig);
        if (parsed && parsed->scheme == EngineOwnScheme(parsed->engine)) shrunk = sig;
      }
      f.signature = key;
      f.shrunk_signature = shrunk;
      f.verdict = ParseVerdict(crash).value_or(Verdict::kUnexplained);
      f.case_id = CaseId(s_.seed, index);
      // Crashes are saved by the coordinator; a finding record taken before (--resume) keeps its file.
      if (f.file.empty()) f.file = d.journal.value("file", std::string());
      if (f.file.empty()) {
        pending_shrinks_[key] = Task{Task::kShrink, index, d.journal.value("previous", int64_t{-1}), shrunk};
        if (journal_) shrinks_.push_back(pending_shrinks_[key]);  // --resume queues them when it ends
      }
      finding_order_.push_back(key);
    }
  }

  void TakeFinding(const json& j) {
    Finding& f = findings_[FindingGroupKey(j.at("signature").get<std::string>())];
    f.file = j.at("file");
    f.element = j.value("element", int64_t{-1});
    f.layer = j.value("layer", int64_t{-1});
    f.size_before = j.value("size_before", int64_t{0});
    f.size_after = j.value("size_after", int64_t{0});
    f.shrink_attempts = j.value("attempts", int64_t{0});
    f.shrink_seconds = j.value("seconds", 0.0);
    f.state_dependent = j.value("state_dependent", false);
    f.shrink_failed = j.value("shrink_failed", std::string());
  }

  // The case in flight died with its worker: crashed/timeout rows for every engine × scheme and
  // its case file, kept as a finding.
  void RecordCrash(const Task& task, const std::string& how, bool timeout) {
    if (task.kind == Task::kShrink) {
      // The shrink died: keep the raw case the worker saved before shrinking, unshrunk.
      const std::string file = s_.out_dir + "/findings/" + CaseId(s_.seed, task.index) + ".json";
      const json j{{"type", "finding"}, {"index", task.index}, {"signature", task.signature},
                   {"file", file}, {"shrink_failed", how}};
      journal_->Append(j);
      TakeFinding(j);
      return;
    }
    std::vector<std::string> corners;
    Case c = CaseForIndex(s_, task.index, &corners);
    const Verdict verdict = timeout ? Verdict::kTimeout : Verdict::kCrashed;
    c.description = "the worker " + (timeout ? "exceeded the case timeout and was killed"
                                             : "died (" + how + ")") + " on this case";
    c.expected_verdict = VerdictName(verdict);
    const std::string file = s_.out_dir + "/findings/" + c.id + ".json";
    SaveCaseFile(c, file);
    std::vector<CaseRow> rows;
    std::string op;
    for (const Layer& l : c.model.layers) op += (op.empty() ? "" : ">") + LayerOpName(l);
    for (Engine engine : s_.engines) {
      for (Scheme scheme : s_.schemes) {
        CaseRow row;
        row.case_id = c.id;
        row.seed = c.seed;
        row.op = op;
        row.engine = EngineName(engine);
        row.scheme = GetScheme(scheme).name;
        row.verdict = verdict;
        row.message = "worker " + how;
        rows.push_back(row);
      }
    }
    json j = RowsJson(rows, {});
    j["type"] = "case";
    j["index"] = task.index;
    j["corners"] = corners;
    j["crash"] = VerdictName(verdict);
    j["signatures"] = json::array({op + "/*/*/" + VerdictName(verdict)});
    j["file"] = file;
    TakeCaseResult(j);
  }

  bool NextCase(Task* t) {
    if (stop_new_) return false;
    if (s_.budget_seconds > 0 && Elapsed() >= s_.budget_seconds) stop_new_ = true;
    while (!stop_new_ && next_index_ < end_index_ && done_.count(next_index_)) next_index_ += step_;
    if (stop_new_ || next_index_ >= end_index_) return false;
    *t = Task{Task::kCase, next_index_, -1, ""};
    next_index_ += step_;
    return true;
  }

  void Assign(WorkerSlot& w) {
    Task t;
    if (!shrinks_.empty()) {
      t = shrinks_.front();
      shrinks_.pop_front();
    } else if (!NextCase(&t)) {
      return;
    }
    if (!w.process) w.process = std::make_unique<WorkerProcess>(WorkerArguments(s_));
    const std::string line = t.kind == Task::kCase
                                 ? "case " + std::to_string(t.index)
                                 : "shrink " + std::to_string(t.index) + " " +
                                       std::to_string(t.previous) + " " + t.signature;
    w.task = t;
    // A shrink evaluates the case many times: it gets ten case timeouts.
    // (bounded: a deadline past the clock's range would wrap into the past)
    const double seconds = std::min(1e7, s_.case_timeout_seconds * (t.kind == Task::kShrink ? 10 : 1));
    w.deadline = std::chrono::steady_clock::now() +
                 std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
    if (!w.process->Send(line)) {
      // The idle worker is gone (killed from outside): the task never started; a fresh worker
      // takes it.
      w.process->Kill();
      w.process = std::make_unique<WorkerProcess>(WorkerArguments(s_));
      if (!w.process->Send(line)) WorkerDied(w, false);
    }
  }

  void WorkerDied(WorkerSlot& w, bool timeout) {
    if (timeout) w.process->Kill();
    const std::string how = w.process->Wait();
    if (w.task.kind != Task::kNone) RecordCrash(w.task, timeout ? "killed after the case timeout" : how, timeout);
    w.process.reset();
    w.task = Task{};
  }

  void HandleLine(WorkerSlot& w, const std::string& line) {
    json j;
    try {
      j = json::parse(line);
    } catch (const json::exception&) {
      return;  // not a protocol line (something else wrote to the worker's stdout)
    }
    if (!j.is_object()) return;
    const std::string type = j.value("type", "");
    if (type == "case") {  // journaled when its rows are written (RowSink::Written)
      TakeCaseResult(j);
      w.last_index = j.value("index", int64_t{-1});
    } else if (type == "finding") {
      journal_->Append(j);
      TakeFinding(j);
    } else {
      return;  // the task is still in flight
    }
    w.task = Task{};
  }

  void Loop() {
    double next_flush = kFlushEverySeconds, next_progress = 0;
    for (;;) {
      for (WorkerSlot& w : slots_) {
        if (w.task.kind == Task::kNone) Assign(w);
      }
      std::vector<pollfd> fds;
      std::vector<WorkerSlot*> polled;
      for (WorkerSlot& w : slots_) {
        if (w.task.kind != Task::kNone && w.process) {
          fds.push_back({w.process->out_fd(), POLLIN, 0});
          polled.push_back(&w);
        }
      }
      if (fds.empty()) break;  // nothing in flight and nothing left to assign
      poll(fds.data(), fds.size(), 200);
      const auto now = std::chrono::steady_clock::now();
      for (size_t i = 0; i < fds.size(); ++i) {
        WorkerSlot& w = *polled[i];
        if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
          const bool alive = w.process->ReadAvailable();
          std::string line;
          while (w.process->NextLine(&line)) HandleLine(w, line);
          if (!alive) WorkerDied(w, false);
        } else if (now > w.deadline) {
          WorkerDied(w, true);
        }
      }
      if (Elapsed() >= next_flush) {
        Flush(false);
        next_flush = Elapsed() + kFlushEverySeconds;
      }
      if (s_.progress && Elapsed() >= next_progress) {
        PrintProgress();
        next_progress = Elapsed() + 0.5;
      }
    }
  }

  void PrintProgress() const {
    const double t = Elapsed();
    const double rate = t > 0 ? (r_.cases_run - r_.resumed_cases) / t : 0;
    std::string left;
    if (s_.cases > 0 && rate > 0) {
      left = ", ~" + std::to_string(static_cast<int64_t>((end_index_ - next_index_) / step_ / rate)) + " s left";
    } else if (s_.budget_seconds > 0) {
      left = ", " + std::to_string(static_cast<int64_t>(std::max(0.0, s_.budget_seconds - t))) + " s left";
    }
    std::fprintf(stderr, "\r[qdiff] %lld cases, %.0f cases/s, %zu findings, %lld crashed, %lld timeouts%s   ",
                 static_cast<long long>(r_.cases_run), rate, findings_.size(),
                 static_cast<long long>(r_.crashed), static_cast<long long>(r_.timeouts), left.c_str());
  }

  // Reports are rewritten (atomically) every kFlushEverySeconds and when the run finishes.
  void Flush(bool finished) {
    journal_->Sync();
    sink_->Flush(finished);
    if (finished) r_.summary = sink_->Summary();  // one row per op chain: grows with the run
    r_.layer_summary = sink_->LayerSummary();
    r_.findings.clear();
    for (const std::string& sig : finding_order_) r_.findings.push_back(findings_.at(sig));
    r_.wall_seconds = Elapsed();
    if (finished) {
      const Report& sample = sink_->sample();
      const std::string note = sink_->sample_complete() ? "" : " (a sample: see summary.csv for all counts)";
      const RunContext context = Context();
      // junit.xml counts every case (the layer summary streams); the page shows the sample.
      WriteFileAtomically(s_.out_dir + "/junit.xml", FormatJUnit(r_.layer_summary, context));
      WriteFileAtomically(s_.out_dir + "/report.html",
                          FormatHtmlReport({RunData{s_.out_dir + note, sample.cases, sample.discrepancies, context}}));
      if (!s_.baseline_dir.empty()) {
        r_.baseline_text = FormatBaselineDiff(CompareWithBaseline(sample, baseline_));
      }
      r_.corners = corners_;
      r_.corner_table = FormatCornerTable(corners_, r_.cases_run);
    }
    WriteRunJson(finished);
  }

  RunContext Context() const {
    std::vector<std::string> columns;
    for (Scheme id : s_.schemes) columns.push_back(GetScheme(id).name);
    if (!s_.kernel_path.empty()) columns.push_back(KernelColumnName());
    std::vector<ReportFinding> findings;
    for (const Finding& f : r_.findings) findings.push_back(ToReportFinding(f, s_.kernel_path));
    return MakeRunContext(EngineNames(s_.engines), columns, findings, r_.worker_seconds);
  }

  void WriteRunJson(bool finished) {
    WriteCampaignRecord(s_, r_, started_, finished ? UtcNowIso8601() : "",
                        {sink_->case_rows(), sink_->discrepancy_rows()});
  }

  const CampaignSettings& s_;
  CampaignResult& r_;
  const std::chrono::steady_clock::time_point t0_;
  std::string started_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<RowSink> sink_;           // cases.csv, discrepancies.csv, summaries, sample
  std::vector<WorkerSlot> slots_;
  std::set<int64_t> done_;                  // case indices with results (journal included)
  Report baseline_;                         // --baseline's rows, loaded before the run
  std::map<std::string, int64_t> corners_;
  std::map<std::string, Finding> findings_;
  std::vector<std::string> finding_order_;
  std::map<std::string, Task> pending_shrinks_;
  std::deque<Task> shrinks_;
  int64_t next_index_ = 0, end_index_ = 0, step_ = 1;
  bool stop_new_ = false;
};

}  // namespace

CampaignResult RunCampaign(const CampaignSettings& s) {
  CampaignResult result;
  Coordinator(s, &result).Run();
  return result;
}

}  // namespace qdiff
