// The campaign loop of `qdiff run`: draws cases from the generators for a budget, sends each
// through the data flow (case_evaluation.h), saves every finding as it is found, and writes the
// reports. Only this loop knows the order of the steps.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "oracles/scheme.h"
#include "properties/case_generator.h"
#include "reports/rows.h"

namespace qdiff {

struct CampaignSettings {
  int64_t cases = 0;            // stop after this many cases (0: no case limit)
  double budget_seconds = 0;    // stop after this much wall time (0: no time limit)
  uint64_t seed = 1;
  std::vector<std::string> engines;  // validated, non-empty
  std::vector<Scheme> schemes;       // non-empty
  GeneratorSettings generator;
  std::string out_dir;               // created if missing
  std::string command_line;          // recorded in run.json
  std::string injected_defect;       // self-test only (harness/injected_defect.h); "" normally
  // Sharding: this process runs shard `shard_index` of `shard_count`. With a case count, shard i
  // takes the contiguous index range [cases·i/N, cases·(i+1)/N); with a time budget, the indices
  // i ≡ shard_index (mod N). Case ids and seeds depend only on the index, so `qdiff merge` of all
  // shards equals the unsharded run.
  int64_t shard_index = 0;
  int64_t shard_count = 1;
  std::string baseline_dir;          // compare findings with a previous run folder, if set
  bool confirm_in_fresh_process = true;  // re-run each finding with `qdiff replay` in a new process
};

// One distinct failure (deduplicated by signature), its smallest saved case and how often it hit.
struct Finding {
  std::string signature;     // op/engine/scheme/class
  std::string case_id;       // first case that showed it
  std::string file;          // findings/<case_id>.json: the shrunk case
  int64_t count = 0;         // cases that showed this signature
  bool state_dependent = false;  // did not reproduce in a fresh process
  int64_t size_before = 0;   // CaseSize before and after shrinking
  int64_t size_after = 0;
  int64_t shrink_attempts = 0;
  double shrink_seconds = 0;
};

struct CampaignResult {
  int64_t cases_run = 0;
  int64_t unexplained_cases = 0;     // (case, engine, scheme) rows with verdict unexplained
  std::vector<SummaryRow> summary;
  std::string corner_table;          // what the generators exercised
  std::vector<Finding> findings;
  std::string baseline_text;         // new / fixed / persisting findings, if a baseline was given
};

// The shard named by --shard "i/N", else by the environment: GTEST_SHARD_INDEX/GTEST_TOTAL_SHARDS,
// SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT (minus SLURM_ARRAY_TASK_MIN), or Kubernetes'
// JOB_COMPLETION_INDEX with QDIFF_TOTAL_SHARDS. Returns {0, 1} when none is set; throws
// std::invalid_argument naming the flag or variable when a value is malformed.
std::pair<int64_t, int64_t> ResolveShard(const std::string& flag);

// Throws std::runtime_error (with the path) when the output folder cannot be written.
CampaignResult RunCampaign(const CampaignSettings& settings);

}  // namespace qdiff
