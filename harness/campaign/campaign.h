// The campaign of `qdiff run`: a coordinator hands case indices to worker processes (one per
// job), each of which draws the case from the generators, sends it through the data flow
// (case_evaluation.h) and answers with report rows. A worker that crashes or hangs takes only
// itself down: the case in flight becomes a `crashed`/`timeout` finding with its case file, and a
// new worker continues. The counts and rows are checkpointed every --flush-seconds (rows.h) and
// findings are journaled, so a campaign killed in any way continues with --resume to the same
// final report. Only this loop knows the order of steps.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "oracles/engine.h"
#include <utility>
#include <vector>

#include "oracles/scheme.h"
#include "properties/case_generator.h"
#include "reports/example_rows.h"
#include "reports/findings.h"
#include "reports/rows.h"

namespace qdiff {

struct CampaignSettings {
  int64_t cases = 0;            // stop after this many cases (0: no case limit)
  double budget_seconds = 0;    // stop after this much wall time (0: no time limit)
  uint64_t seed = 1;
  std::vector<Engine> engines;       // validated, non-empty
  std::vector<Scheme> schemes;       // non-empty
  GeneratorSettings generator;
  std::string out_dir;               // created if missing
  std::string command_line;          // recorded in run.json
  std::string injected_defect;       // self-test only (harness/evaluation/injected_defect.h); "" normally
  std::string kernel_path;           // --kernel: the user's kernel plugin, a column beside the schemes
  int64_t max_example_rows = kDefaultMaxExampleRows;  // the example rows' bound (reports/example_rows.h)
  int64_t all_rows_cases = kDefaultAllRowsCases;      // cases.csv keeps every row of cases below it
  double flush_seconds = 15;         // reports and the checkpoint rewritten this often (at least)
  // Sharding: this process runs shard `shard_index` of `shard_count`. With a case count, shard i
  // takes the contiguous index range [cases·i/N, cases·(i+1)/N); with a time budget, the indices
  // i ≡ shard_index (mod N). Case ids and seeds depend only on the index, so `qdiff merge` of all
  // shards equals the unsharded run.
  int64_t shard_index = 0;
  int64_t shard_count = 1;
  std::string baseline_dir;          // compare findings with a previous run folder, if set
  bool confirm_in_fresh_process = true;  // re-run each finding with `qdiff replay` in a new process
  int64_t jobs = 1;                  // worker processes
  double case_timeout_seconds = 120; // a case (or shrink) running longer kills its worker
  bool resume = false;               // continue from out_dir/journal.jsonl
  bool overwrite = false;            // replace a previous run in out_dir (else it is refused)
  bool progress = false;             // a live progress line on stderr
};

// One root cause (reports/findings.h): the per-scheme signatures of one op, engine and class,
// grouped; its first case, shrunk once (for one of its schemes), and how many cases showed it.
struct Finding {
  std::string signature;     // the group key, FindingGroupKey: op/engine/class (kernel:
                             // op/engine/kernel/class; op/*/*/crashed|timeout for a dead worker)
  std::set<std::string> schemes;  // the scheme columns of its signatures ("kernel" for a kernel)
  std::string shrunk_signature;   // the per-scheme signature the file was shrunk for
  Verdict verdict = Verdict::kUnexplained;  // or kCrashed / kTimeout
  std::string case_id;       // first case that showed it
  std::string file;          // findings/<case_id>.<engine>.<scheme>.shrunk.json (crashes and
                             // failed shrinks: the raw findings/<case_id>.json)
  int64_t element = -1;      // a finding element of `file` (flat index) and its layer, for
  int64_t layer = -1;        // `qdiff explain`; -1 if unknown (crashes, failed shrinks)
  int64_t count = 0;         // distinct cases that showed any of its signatures
  bool state_dependent = false;  // did not reproduce in a fresh process
  int64_t size_before = 0;   // CaseSize before and after shrinking
  int64_t size_after = 0;
  int64_t shrink_attempts = 0;
  double shrink_seconds = 0;
  std::string shrink_failed; // why the shrink did not finish ("" if it did): file is the raw case
};

struct CampaignResult {
  int64_t cases_run = 0;
  int64_t unexplained_cases = 0;     // (case, engine, scheme) rows with verdict unexplained
  std::vector<SummaryRow> summary;
  std::vector<SummaryRow> layer_summary;  // per layer op (ops.csv, SummarizeLayers)
  std::map<std::string, int64_t> corners;  // generator corner → cases exercising it (run.json)
  std::string corner_table;          // the same as a table (`run --verbose`)
  std::vector<Finding> findings;
  std::string baseline_text;         // new / fixed / persisting findings, if a baseline was given
  int64_t crashed = 0;               // cases whose worker died
  int64_t timeouts = 0;              // cases whose worker was killed for exceeding the timeout
  int64_t resumed_cases = 0;         // cases taken from the checkpoint (--resume)
  int64_t journal_lines_dropped = 0; // journal lines not trusted (checksum, index) on --resume
  double wall_seconds = 0;
  // When the first and the last workers' answers of this run arrived (seconds into the run): the
  // cases between them over that time is the rate once workers are up, without their start-up
  // and the final reports.
  double first_answer_seconds = -1, last_answer_seconds = -1;
  int64_t answers = 0;               // workers' case answers taken in this run
  double worker_seconds = 0;         // time workers spent on cases
  double libtorch_seconds = 0;       // of which inside LibTorch
  int64_t worker_rss_first_kb = 0;   // a worker's RSS after its first case
  int64_t worker_rss_1000_kb = 0;    // a worker's RSS when the 1000th case finished
  int64_t worker_rss_max_kb = 0;     // the largest RSS any worker reported
  int64_t worker_rss_last_kb = 0;    // a worker's RSS after the last case
};

// The shard named by --shard "i/N", else by the environment: GTEST_SHARD_INDEX/GTEST_TOTAL_SHARDS,
// SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT (minus SLURM_ARRAY_TASK_MIN), or Kubernetes'
// JOB_COMPLETION_INDEX with QDIFF_TOTAL_SHARDS. Returns {0, 1} when none is set; throws
// std::invalid_argument naming the flag or variable when a value is malformed.
std::pair<int64_t, int64_t> ResolveShard(const std::string& flag);

// Throws RunFolderError (harness/campaign/run_folder.h) when the output folder is in use, holds another
// run (without resume/overwrite) or its journal's settings differ; ReportError when the baseline
// cannot be read; std::runtime_error (with the path) when the output folder cannot be written.
// All of these before any file of the folder is changed, except write failures.
CampaignResult RunCampaign(const CampaignSettings& settings);

// A finding as the reports show it, with its replay and explain commands (--kernel for a kernel
// finding).
ReportFinding ToReportFinding(const Finding& f, const std::string& kernel_path);

// The worker side (`qdiff __worker ...`): reads "case I" / "shrink I PREV SIGNATURE" lines on
// stdin, answers one line each on stdout, and ends the process at "quit" or the end of its input.
// A case's answer (harness/campaign/answer.h) carries its rows as the CSV lines the coordinator
// writes, beside what the run's bounds and counts need (PackRows, harness/campaign/rows.h), so
// the coordinator parses only the rows it keeps; a shrink's answer is a JSON "finding" record.
// The coordinator ignores any other line (the task stays in flight until its worker answers,
// dies or times out). Test-only fault injection: QDIFF_FAULT_INJECTION=
// "segfault:I,abort:I,hang:I,throw:I" makes the worker fail that way on case index I;
// "hang_shrink:I" hangs the shrink of case I's finding (I = -1: every shrink).
int RunCampaignWorker(const CampaignSettings& settings);

// The arguments that start a worker for these settings.
std::vector<std::string> WorkerArguments(const CampaignSettings& settings);

}  // namespace qdiff
