// What every qdiff command shares: exit codes, the usage error, and flag parsers that refuse
// anything out of range with a message naming the flag and the value (made printable).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness/case/case_limits.h"
#include "oracles/engine.h"
#include "oracles/model.h"
#include "oracles/scheme.h"

namespace qdiff {

// 0: nothing unexplained; 1: findings (unexplained, crashed, timeout); 2: usage or input error.
constexpr int kExitOk = 0, kExitFindings = 1, kExitUsage = 2;

// A bad flag or argument; the message names it.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Flag ranges: past these, a value is a typo, not a plan.
constexpr int64_t kMaxCases = 1'000'000'000'000;        // --cases
constexpr double kMaxBudgetSeconds = 30 * 24 * 3600.0;  // --budget: 30 days
constexpr int64_t kMaxExampleRowsFlag = int64_t{1} << 30;  // --max-example-rows
constexpr double kMaxCaseTimeoutSeconds = 24 * 3600.0;  // --case-timeout: one day
constexpr int64_t kMaxJobsFlag = 1024;                  // --jobs before capping

std::vector<std::string> SplitList(const std::string& text);
std::string Join(const std::vector<std::string>& v);
// The allowed values of --ops, --schemes and --engines, from the code's own tables
// (kAllOpKinds, AllSchemes(), AvailableEngines()), joined with ", ".
std::string AllowedOps();
std::string AllowedSchemes();
std::string AllowedEngines();  // the available ones, then "(not in this LibTorch: ...)"
// What --help prints after a command's options: "Allowed values:" (one "--flag: values" entry
// per pair, wrapped at 100 columns) and "Example: qdiff ...". Evaluated only when help is asked
// for (CLI::App::footer takes a function).
using HelpValues = std::vector<std::pair<std::string, std::string>>;
void SetHelpFooter(CLI::App* command, std::function<HelpValues()> values, std::string example);
// Comma lists; empty = every available engine / every scheme / every op.
std::vector<Engine> ParseEngines(const std::string& flag);
std::vector<Scheme> ParseSchemes(const std::string& flag);
std::vector<OpKind> ParseOps(const std::string& flag);
// An integer flag: optional '-', digits only (no exponent or fraction), within [lo, hi].
int64_t ParseInteger(const std::string& text, const std::string& flag, int64_t lo, int64_t hi);
// A real-valued flag: finite, within [lo, hi] (lo excluded if open_lo).
double ParseNumber(const std::string& text, const std::string& flag, double lo, double hi,
                   bool open_lo = true);
// --seed: an integer in [0, 2^64).
uint64_t ParseSeed(const std::string& text);
// --jobs capped by the cores and by the memory a worker may need; says so on stderr.
int64_t CapJobs(int64_t jobs, const CaseLimits& limits);
bool SamePath(const std::string& a, const std::string& b);

// Ends the process with a `timeout` message and exit 1 (a finding, as in a campaign) when
// `seconds` pass: replay, shrink and explain.
void ArmTimeout(double seconds, const std::string& what);

// What the commands that read one case file share: the file (positional), --case-timeout,
// --max-case-gib and --max-case-work.
struct CaseFlags {
  std::string path;
  std::string case_timeout = "120";
  std::string max_gib = "2";
  std::string max_work = "1073741824";
  std::string kernel;  // --kernel (replay, shrink)

  void AddTo(CLI::App* command, const char* timeout_help);
  void AddKernelTo(CLI::App* command);
  CaseLimits Limits() const;
  double TimeoutSeconds() const;
};

}  // namespace qdiff
