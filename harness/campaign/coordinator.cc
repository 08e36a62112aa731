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
#include <ctime>
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
#include "harness/campaign/answer.h"
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
#include "oracles/fnv1a.h"
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
// The journal header's fields that define the run: --resume needs them equal.
// journal_format 3: case records only for cases with findings or crashes (their signatures and
// files); the counts and rows of every case are behind the checkpoint (rows.h).
constexpr int kJournalFormat = 3;
const std::vector<const char*> kHeaderKeys = {"journal_format", "seed", "cases", "engines", "schemes", "ops",
                                              "real_sizes", "max_example_rows", "all_rows_cases", "injected_defect",
                                              "shard_index", "shard_count"};

struct Task {
  enum Kind { kNone, kCase, kShrink } kind = kNone;
  int64_t index = -1;
  int64_t previous = -1;
  std::string signature;
};

// A worker runs its tasks in the order sent. It holds one task, and up to kQueuedCases cases
// queued behind a case, so that it starts the next case the moment it has answered, and goes on
// while the coordinator is busy elsewhere (a flush). The deadline is the running task's: it
// starts when the task is sent to an idle worker, or when the task before it is answered.
constexpr size_t kQueuedCases = 2;

struct WorkerSlot {
  std::unique_ptr<WorkerProcess> process;
  Task task;                 // running (kNone: idle)
  std::deque<Task> queued;   // cases sent behind `task`, in order
  // Cases that were queued behind a task that killed the worker: they never ran, and run first
  // in the fresh worker, whose cases then still arrive in increasing index order (WorkerRows).
  std::deque<Task> retry;
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
    sink_ = std::make_unique<RowSink>(s_.out_dir, next_index_, step_, s_.all_rows_cases, s_.max_example_rows,
                                      [this](int64_t index, const CaseRows& rows) { Count(index, rows); });
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
                {"max_example_rows", s_.max_example_rows}, {"all_rows_cases", s_.all_rows_cases},
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

  // A case's journal record: its index and `fields` (CaseRows::journal).
  static json CaseRecord(int64_t index, const json& fields) {
    json j = fields;
    j["type"] = "case";
    j["index"] = index;
    return j;
  }

  // What the checkpoint keeps of the coordinator's counts (rows.h), and the journal's size and hash
  // then: a checkpoint vouches for the journal's records up to there.
  json State() const {
    return {{"cases_run", r_.cases_run}, {"unexplained_cases", r_.unexplained_cases}, {"crashed", r_.crashed},
            {"timeouts", r_.timeouts}, {"corners", corners_},
            {"journal", json::array({journal_->bytes(), journal_->hash()})}};
  }

  // --resume: the counts and rows behind the checkpoint are taken, and the journal's records up to
  // its size give their findings (a case's record) and shrunk files (a finding record). The
  // journal is cut there; the finding records after it are kept, the case records after it
  // dropped: every case from the checkpoint on runs again. Without a trusted checkpoint the run
  // starts again, keeping the finding records.
  void Resume(const std::string& journal_path, const std::vector<json>& records) {
    int64_t journal_bytes = 0, journal_lines = 0;
    const std::optional<Checkpoint> checkpoint = sink_->Resume(
        [this](const std::string& why) { std::cerr << "qdiff: " << why << "\n"; },
        [&](const json& state) {
          journal_bytes = state.at("journal").at(0).get<int64_t>();
          std::ifstream in(journal_path, std::ios::binary);
          std::string prefix(static_cast<size_t>(std::max<int64_t>(0, journal_bytes)), '\0');
          if (journal_bytes <= 0 || !in.read(prefix.data(), journal_bytes) ||
              Fnv1a64(prefix) != state.at("journal").at(1).get<uint64_t>()) {
            throw std::invalid_argument("the first " + std::to_string(journal_bytes) + " bytes of " + journal_path +
                                        " are not the ones it recorded");
          }
          journal_lines = std::count(prefix.begin(), prefix.end(), '\n');
        });
    if (checkpoint) {
      const json& st = checkpoint->state;
      r_.cases_run = r_.resumed_cases = st.at("cases_run").get<int64_t>();
      r_.unexplained_cases = st.at("unexplained_cases").get<int64_t>();
      r_.crashed = st.at("crashed").get<int64_t>();
      r_.timeouts = st.at("timeouts").get<int64_t>();
      corners_ = st.at("corners").get<std::map<std::string, int64_t>>();
      next_index_ = checkpoint->next_index;
    }
    std::vector<json> after;  // finding records behind the checkpoint's journal
    std::set<int64_t> cases_seen;
    for (const json& j : records) {  // a checksummed record is still checked
      const int64_t number = j.value("line", int64_t{0});
      const bool vouched = checkpoint && number <= journal_lines;
      try {
        const int64_t index = j.at("index").get<int64_t>();
        if (!InShard(index)) {
          DropJournalLine(number, "case index " + std::to_string(index) + " is not in this run");
          continue;
        }
        json record = j;
        record.erase("line");
        const std::string type = j.value("type", "");
        if (type == "case" && vouched && cases_seen.insert(index).second) {
          for (const char* key : {"type", "index"}) record.erase(key);
          AccountFindings(index, record);
        } else if (type == "finding") {
          TakeFinding(record);
          if (!vouched) after.push_back(record);
        }  // a case record after the checkpoint: the case runs again
      } catch (const std::exception& e) {  // a field of the wrong type or shape
        DropJournalLine(number, std::string("malformed record (") + e.what() + ")");
      }
    }
    if (checkpoint && truncate(journal_path.c_str(), static_cast<off_t>(journal_bytes)) != 0) {
      throw std::runtime_error(journal_path + ": cannot cut the journal: " + std::strerror(errno));
    }
    if (!checkpoint) Journal::Rewrite(journal_path, Header(), {});
    journal_ = std::make_unique<Journal>(journal_path, /*resume=*/true, Header());
    for (const json& record : after) journal_->Append(record);
  }

  // A case's result from a worker (or a dead worker's rows, `journal` holding its crash and file):
  // counted, and its rows to the sink. False when the case was already taken.
  bool TakeCaseResult(CaseAnswer a, json journal = json::object()) {
    if (Taken(a.index)) return false;
    CaseRows d;
    // What the journal keeps besides the rows: what findings and crashes need.
    d.journal = std::move(journal);
    if (!a.signatures.empty()) {
      d.journal["signatures"] = a.signatures;
      d.journal["previous"] = a.previous;
    }
    r_.worker_seconds += a.total_s;
    r_.libtorch_seconds += a.libtorch_s;
    d.corners = std::move(a.corners);
    d.rows = std::move(a.rows);
    done_.insert(a.index);
    ++cases_received_;
    if (a.rss_kb > 0) {
      if (r_.worker_rss_first_kb == 0) r_.worker_rss_first_kb = a.rss_kb;
      if (cases_received_ == 1000) r_.worker_rss_1000_kb = a.rss_kb;  // after warm-up
      r_.worker_rss_last_kb = a.rss_kb;
      r_.worker_rss_max_kb = std::max(r_.worker_rss_max_kb, a.rss_kb);
    }
    sink_->Add(a.index, std::move(d));
    done_.erase(done_.begin(), done_.lower_bound(sink_->next_index()));  // Taken knows them
    return true;
  }

  // Whether case `index` has its result already (behind the sink's frontier, or waiting there).
  bool Taken(int64_t index) const { return index < sink_->next_index() || done_.count(index); }

  // Counts case `index` as its rows are written (RowSink::Written, in index order), so the
  // counters a checkpoint records cover exactly the cases behind it; journals its findings.
  void Count(int64_t index, const CaseRows& d) {
    // In index order, not as answers arrive (workers run cases ahead): a finding's first case,
    // the one shrunk, is the same in every run and in merged shards.
    AccountFindings(index, d.journal);
    r_.unexplained_cases += d.rows.unexplained;
    const std::string crash = d.journal.value("crash", std::string());
    if (crash == "crashed") ++r_.crashed;
    if (crash == "timeout") ++r_.timeouts;
    for (const std::string& k : d.corners) ++corners_[k];
    ++r_.cases_run;
    // Most cases need nothing beyond the checkpoint's counts.
    if (!d.journal.empty()) journal_->Append(CaseRecord(index, d.journal));
  }

  // The findings of case `index` (from a worker or the journal), by its journal fields.
  void AccountFindings(int64_t index, const json& journal) {
    const std::string crash = journal.value("crash", std::string());
    // The case's signatures by root cause (FindingGroupKey): a group counts each case once and
    // gathers its schemes; its first case is shrunk once, for the engine's own scheme when that
    // scheme shows it, else for the group's first signature in the case.
    std::vector<std::pair<std::string, std::vector<std::string>>> groups;  // key → signatures
    for (const json& js : journal.value("signatures", json::array())) {
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
      if (f.file.empty()) f.file = journal.value("file", std::string());
      if (f.file.empty()) {
        pending_shrinks_[key] = Task{Task::kShrink, index, journal.value("previous", int64_t{-1}), shrunk};
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
    CaseAnswer a;
    a.index = task.index;
    a.corners = std::move(corners);
    a.signatures = {op + "/*/*/" + VerdictName(verdict)};
    a.rows = PackRows(std::move(rows), {});
    TakeCaseResult(std::move(a), json{{"crash", VerdictName(verdict)}, {"file", file}});
  }

  bool NextCase(Task* t) {
    if (stop_new_) return false;
    if (s_.budget_seconds > 0 && Elapsed() >= s_.budget_seconds) stop_new_ = true;
    while (!stop_new_ && next_index_ < end_index_ && Taken(next_index_)) next_index_ += step_;
    if (stop_new_ || next_index_ >= end_index_) return false;
    *t = Task{Task::kCase, next_index_, -1, ""};
    next_index_ += step_;
    return true;
  }

  // Gives an idle worker a task (its retry, a shrink, the next case) and then, behind a case, the
  // next case as well; tops up the queue of a busy one.
  void Assign(WorkerSlot& w) {
    if (w.task.kind == Task::kNone) {
      Task t;
      if (!w.retry.empty()) {
        t = w.retry.front();
        w.retry.pop_front();
      } else if (!shrinks_.empty()) {
        t = shrinks_.front();
        shrinks_.pop_front();
      } else if (!NextCase(&t)) {
        return;
      }
      if (!w.process) w.process = std::make_unique<WorkerProcess>(WorkerArguments(s_));
      w.task = t;
      StartDeadline(w);
      if (!w.process->Send(TaskLine(t))) {
        // The idle worker is gone (killed from outside): the task never started; a fresh worker
        // takes it.
        w.process->Kill();
        w.process = std::make_unique<WorkerProcess>(WorkerArguments(s_));
        if (!w.process->Send(TaskLine(t))) {
          WorkerDied(w, false);
          return;
        }
      }
    }
    // Only cases queue, and only behind a case: a shrink's findings come before the next case's.
    while (w.task.kind == Task::kCase && w.queued.size() < kQueuedCases && shrinks_.empty()) {
      // A retry goes first; a worker that is gone has not received the case: it runs in the
      // fresh worker, after the poll has read what the old one wrote.
      Task next;
      if (!w.retry.empty()) {
        next = w.retry.front();
        w.retry.pop_front();
      } else if (!NextCase(&next)) {
        return;
      }
      if (!w.process->Send(TaskLine(next))) {
        w.retry.push_front(next);
        return;
      }
      w.queued.push_back(next);
    }
  }

  static std::string TaskLine(const Task& t) {
    return t.kind == Task::kCase ? "case " + std::to_string(t.index)
                                 : "shrink " + std::to_string(t.index) + " " + std::to_string(t.previous) + " " +
                                       t.signature;
  }

  void StartDeadline(WorkerSlot& w) {
    // A shrink evaluates the case many times: it gets ten case timeouts.
    // (bounded: a deadline past the clock's range would wrap into the past)
    const double seconds = std::min(1e7, s_.case_timeout_seconds * (w.task.kind == Task::kShrink ? 10 : 1));
    w.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  }

  // The running task is done: the queued case (already in the worker's input) runs next.
  void TaskDone(WorkerSlot& w) {
    w.task = Task{};
    if (w.queued.empty()) return;
    w.task = w.queued.front();
    w.queued.pop_front();
    StartDeadline(w);
  }

  void WorkerDied(WorkerSlot& w, bool timeout) {
    if (timeout) w.process->Kill();
    const std::string how = w.process->Wait();
    if (w.task.kind != Task::kNone) RecordCrash(w.task, timeout ? "killed after the case timeout" : how, timeout);
    w.process.reset();
    w.task = Task{};
    // never started; they precede the retries (cases sent after them)
    w.retry.insert(w.retry.begin(), w.queued.begin(), w.queued.end());
    w.queued.clear();
  }

  // A case's answer goes to `answers`, to be taken once the worker has its next task.
  void HandleLine(WorkerSlot& w, const std::string& line, std::vector<CaseAnswer>* answers) {
    if (std::optional<CaseAnswer> a = ParseCaseAnswer(line)) {  // journaled when its rows are written
      if (w.task.kind != Task::kCase || a->index != w.task.index) return;  // not the running case's
      w.last_index = a->index;
      answers->push_back(std::move(*a));
      TaskDone(w);
      return;
    }
    json j;
    try {
      j = json::parse(line);
    } catch (const json::exception&) {
      return;  // not a protocol line (something else wrote to the worker's stdout)
    }
    if (!j.is_object()) return;
    if (j.value("type", "") != "finding") return;  // the task is still in flight
    journal_->Append(j);
    TakeFinding(j);
    TaskDone(w);
  }

  void Loop() {
    double next_flush = s_.flush_seconds, next_progress = 0;
    for (;;) {
      for (WorkerSlot& w : slots_) Assign(w);
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
      std::vector<CaseAnswer> answers;
      for (size_t i = 0; i < fds.size(); ++i) {
        WorkerSlot& w = *polled[i];
        if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
          const bool alive = w.process->ReadAvailable();
          std::string line;
          while (w.process->NextLine(&line)) HandleLine(w, line, &answers);
          if (!alive) WorkerDied(w, false);
        } else if (now > w.deadline) {
          WorkerDied(w, true);
        }
      }
      // The workers run their next cases while this process takes their answers.
      for (WorkerSlot& w : slots_) {
        if (w.process) Assign(w);
      }
      if (!answers.empty()) {
        r_.last_answer_seconds = Elapsed();
        if (r_.answers == 0) r_.first_answer_seconds = r_.last_answer_seconds;
        r_.answers += static_cast<int64_t>(answers.size());
      }
      for (CaseAnswer& a : answers) TakeCaseResult(std::move(a));
      if (Elapsed() >= next_flush) {
        const std::clock_t start = std::clock();
        Flush(false);
        // At most 5% of the coordinator's CPU time goes to the checkpoint (its fsyncs wait
        // without it).
        const double cpu = static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
        next_flush = Elapsed() + std::max(s_.flush_seconds, 20 * cpu);
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

  // Reports and the checkpoint are rewritten (atomically) every --flush-seconds and when the run
  // finishes.
  void Flush(bool finished) {
    journal_->Sync();
    sink_->Flush(finished, State());
    if (finished) r_.summary = sink_->Summary();  // a row per op chain prefix (SummaryChain)
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
  int64_t cases_received_ = 0;              // from workers, in any order (RSS samples)
  bool stop_new_ = false;
};

}  // namespace

CampaignResult RunCampaign(const CampaignSettings& s) {
  CampaignResult result;
  Coordinator(s, &result).Run();
  return result;
}

}  // namespace qdiff
