// The campaign loop of `qdiff run`: draws cases from the generators for a budget, sends each
// through the data flow (case_evaluation.h), saves every finding as it is found, and writes the
// reports. Only this loop knows the order of the steps.
#pragma once

#include <cstdint>
#include <string>
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
};

// Throws std::runtime_error (with the path) when the output folder cannot be written.
CampaignResult RunCampaign(const CampaignSettings& settings);

}  // namespace qdiff
