// Tests of the qdiff command line: the real binary (QDIFF_BINARY) run as a user runs it, with its
// output in a temporary folder. Exit codes (docs/design.md#exit-codes): 0 nothing unexplained,
// 1 findings, 2 usage or input error, with a message naming the bad flag, value, file or field.
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "harness/torch/libtorch_runner.h"
#include "oracles/scheme.h"
#include "reports/summary.h"
#include "tests/support/qdiff_process.h"

namespace qdiff {
namespace {

namespace fs = std::filesystem;

#define EXPECT_MENTIONS(result, text)                                              \
  EXPECT_NE((result).output.find(text), std::string::npos)                          \
      << "output does not mention \"" << (text) << "\":\n" << (result).output

// ---------------------------------------------------------------------------------------------
// Usage and input errors: exit 2, the message names the flag, file or field.

struct UsageCase {
  const char* name;
  const char* args;
  const char* mentions;
  const char* also_mentions = "";  // a conflict names both flags
  const char* env = "";            // environment assignments in front of qdiff
};

void PrintTo(const UsageCase& u, std::ostream* os) { *os << "qdiff " << u.args; }

class CliUsageError : public ::testing::TestWithParam<UsageCase> {};

TEST_P(CliUsageError, ExitsTwoNamingTheFlag) {
  TempDir dir;
  const UsageCase& u = GetParam();
  const Result r = Qdiff(std::string(u.args) + " --out " + Quote((dir.path() / "out").string()), u.env);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, u.mentions);
  EXPECT_MENTIONS(r, u.also_mentions);
  // Refused before doing anything: no campaign ran.
  EXPECT_FALSE(fs::exists(dir.path() / "out" / "cases.csv"));
}

INSTANTIATE_TEST_SUITE_P(
    Flags, CliUsageError,
    ::testing::Values(UsageCase{"UnknownOption", "run --frobnicate 3", "--frobnicate"},
                      UsageCase{"UnknownEngine", "run --engines bogus", "--engines"},
                      UsageCase{"UnknownEngineInList", "run --engines qnnpack,bogus", "bogus"},
                      UsageCase{"UnknownScheme", "run --schemes bogus", "--schemes"},
                      UsageCase{"UnknownOp", "run --ops bogus", "--ops"},
                      UsageCase{"NegativeCases", "run --cases -3", "--cases"},
                      UsageCase{"CasesNotANumber", "run --cases many", "--cases"},
                      UsageCase{"NegativeBudget", "run --budget -1", "--budget"},
                      // An unsigned seed must not wrap (-1 → 2^64-1) or saturate silently: the
                      // run would not be the one the user asked for.
                      UsageCase{"NegativeSeed", "run --seed -1 --cases 1", "--seed"},
                      UsageCase{"SeedBeyondUint64", "run --seed 99999999999999999999999 --cases 1",
                                "--seed"},
                      // Conflicts: a run stops after --cases or after --budget, not the earlier.
                      UsageCase{"CasesAndBudget", "run --cases 10 --budget 5", "--cases", "--budget"},
                      UsageCase{"ResumeAndOverwrite", "run --cases 1 --resume --overwrite", "--resume",
                                "--overwrite"},
                      // A shard's findings against a whole run's: everything else reads as fixed.
                      UsageCase{"ShardAndBaseline", "run --cases 2 --shard 0/2 --baseline /nonexistent",
                                "--shard", "--baseline"},
                      UsageCase{"ShardFromEnvironmentAndBaseline",
                                "run --cases 2 --baseline /nonexistent", "--shard", "--baseline",
                                "GTEST_SHARD_INDEX=1 GTEST_TOTAL_SHARDS=2"}),
    [](const ::testing::TestParamInfo<UsageCase>& info) { return std::string(info.param.name); });

// explain on an op without weights lists every recipe of the op with its value, marks the engine
// path and the recipes equal to LibTorch. In this corpus case (QNNPACK max pool, dilated taps in
// the padding) the path gives the correct max 50 and only the LibTorch-bug recipe gives 60.
TEST(Cli, ExplainOpElementListsRecipesAndPath) {
  const std::string path =
      (fs::path(QDIFF_SOURCE_DIR) / "corpora" / "qnnpack_max_pool_dilated_padding.json").string();
  const Result r = Qdiff("explain " + Quote(path) + " --element 0");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_MENTIONS(r, "max_pool2d.exact = 50   <- engine path");
  EXPECT_MENTIONS(r, "max_pool2d.qnnpack = 60   (= LibTorch)");
  EXPECT_MENTIONS(r, "LibTorch 60");
  const Result out_of_range = Qdiff("explain " + Quote(path) + " --element 5");
  EXPECT_EQ(out_of_range.exit_code, 2) << out_of_range.output;
  EXPECT_MENTIONS(out_of_range, "--element");
}

// --resume continues the run in a given --out (without one, the default is a new folder).
TEST(Cli, ResumeNeedsOut) {
  const Result r = Qdiff("run --cases 1 --resume");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, "--resume");
  EXPECT_MENTIONS(r, "--out");
}

// --version: qdiff's version and commit, the loaded LibTorch's version, the engines; exit 0.
TEST(Cli, VersionNamesQdiffLibTorchAndEngines) {
  const Result r = Qdiff("--version");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_MENTIONS(r, "qdiff ");
  EXPECT_MENTIONS(r, "(git ");
  EXPECT_MENTIONS(r, "LibTorch " + LibTorchVersion() + " (from ");
  for (Engine e : AvailableEngines()) EXPECT_MENTIONS(r, EngineName(e));
}

// The commands --help lists (the lines under "Subcommands:").
std::vector<std::string> Commands() {
  std::istringstream lines(Qdiff("--help").output);
  std::vector<std::string> commands;
  bool in_list = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("Subcommands:", 0) == 0) in_list = true;
    else if (in_list && line.rfind("  ", 0) == 0) commands.push_back(line.substr(2, line.find(' ', 2) - 2));
    else if (in_list && !commands.empty()) break;
  }
  return commands;
}

// Every command's --help ends with an example of it; run's lists every op, engine and scheme.
TEST(Cli, HelpListsAllowedValuesAndAnExample) {
  const std::vector<std::string> commands = Commands();
  EXPECT_GE(commands.size(), 10u) << Qdiff("--help").output;
  for (const std::string& command : commands) {
    const Result r = Qdiff(command + " --help");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_MENTIONS(r, "Example:\n  qdiff " + command);
  }
  const Result run = Qdiff("run --help");
  auto names = [&run](const std::string& name) {  // a whole word of the allowed values
    return std::regex_search(run.output, std::regex("Allowed values:[\\s\\S]*[ ,]" + name + "(,|\n| )"));
  };
  for (OpKind op : kAllOpKinds) EXPECT_TRUE(names(OpKindName(op))) << OpKindName(op) << "\n" << run.output;
  for (const SchemeDef* s : AllSchemes()) EXPECT_TRUE(names(s->name)) << s->name << "\n" << run.output;
  for (Engine e : AvailableEngines()) EXPECT_TRUE(names(EngineName(e))) << EngineName(e);
  EXPECT_EQ(run.output.find("conv2d/linear campaign"), std::string::npos) << run.output;
}

TEST(Cli, UnknownSubcommandIsNamed) {
  const Result r = Qdiff("frobnicate");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, "frobnicate");
}

TEST(Cli, ReplayOfMissingFileNamesIt) {
  TempDir dir;
  const std::string path = (dir.path() / "no-such-case.json").string();
  const Result r = Qdiff("replay " + Quote(path));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, path);
}

TEST(Cli, ReplayOfMalformedFileNamesFileAndField) {
  TempDir dir;
  // A valid corpus case with one field broken: a zero output scale.
  std::string text = ReadFile(fs::path(QDIFF_SOURCE_DIR) / "corpora" / "golden_conv1x1_exact.json");
  const std::string key = "\"out_scale\": 1.0";
  const size_t at = text.find(key);
  ASSERT_NE(at, std::string::npos) << "golden_conv1x1_exact.json changed: update this test";
  text.replace(at, key.size(), "\"out_scale\": 0");
  const std::string path = (dir.path() / "broken.json").string();
  WriteFile(path, text);
  const Result r = Qdiff("replay " + Quote(path));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, path);
  EXPECT_MENTIONS(r, "layers[0].out_scale");
}

TEST(Cli, ReplayOfNonJsonNamesFile) {
  TempDir dir;
  const std::string path = (dir.path() / "notjson.json").string();
  WriteFile(path, "conv2d(1, 1, 1)\n");
  const Result r = Qdiff("replay " + Quote(path));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, path);
}

// ---------------------------------------------------------------------------------------------
// Campaigns: exit 0, CSVs written, byte-identical for the same seed.

class CliRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    for (const char* name : {"seed5a", "seed5b", "seed6"}) {
      const std::string seed = std::string(name).substr(4, 1);
      results_.push_back(Qdiff("run --cases 40 --seed " + seed + DeterministicOps() + " --out " +
                               Quote((dir_->path() / name).string())));
    }
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
    results_.clear();
  }
  static fs::path Out(const char* name) { return dir_->path() / name; }

  static TempDir* dir_;
  static std::vector<Result> results_;  // seed5a, seed5b, seed6
};

TempDir* CliRun::dir_ = nullptr;
std::vector<Result> CliRun::results_;

TEST_F(CliRun, ExitsZeroAndWritesReports) {
  for (size_t i = 0; i < results_.size(); ++i) {
    EXPECT_EQ(results_[i].exit_code, 0) << results_[i].output;
  }
  for (const char* name : {"seed5a", "seed5b", "seed6"}) {
    for (const char* file : {"cases.csv", "discrepancies.csv", "summary.csv", "run.json"}) {
      EXPECT_TRUE(fs::is_regular_file(Out(name) / file)) << Out(name) / file;
    }
  }
  EXPECT_MENTIONS(results_[0], "40 cases");
}

// The console (stdout) starts with the verdict line, then the findings; every line fits 120
// columns; the corner counts only with --verbose (they are in run.json either way).
TEST(Cli, RunConsoleStartsWithVerdictAndFits) {
  TempDir dir;
  for (const bool verbose : {false, true}) {
    const fs::path out = dir.path() / (verbose ? "verbose" : "quiet");
    const Result r = RunShell(Quote(QDIFF_BINARY) + " run --cases 12 --seed 4 --jobs 1" + DeterministicOps() +
                              " --out " + Quote(out.string()) + (verbose ? " --verbose" : "") + " 2>/dev/null");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output.rfind("PASS: 12 cases, 0 findings; bit-exact: ", 0), 0u) << r.output;
    for (Engine e : AvailableEngines()) {
      EXPECT_NE(r.output.substr(0, r.output.find('\n')).find(std::string(EngineName(e)) + "="), std::string::npos)
          << r.output;
    }
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 120u) << line;
    EXPECT_EQ(r.output.find("Corners exercised") != std::string::npos, verbose) << r.output;
    EXPECT_NE(ReadFile(out / "run.json").find("\"corners\": {"), std::string::npos);
  }
}

TEST_F(CliRun, SameSeedGivesByteIdenticalCsvs) {
  for (const char* file : {"cases.csv", "discrepancies.csv", "summary.csv"}) {
    const std::string a = ReadFile(Out("seed5a") / file);
    const std::string b = ReadFile(Out("seed5b") / file);
    EXPECT_FALSE(a.empty()) << file;
    EXPECT_TRUE(a == b) << file << " differs between two runs with --seed 5";
  }
  // 40 cases, one row per (case, engine, scheme): more than a header.
  const std::string cases = ReadFile(Out("seed5a") / "cases.csv");
  EXPECT_GT(std::count(cases.begin(), cases.end(), '\n'), 40);
}

// "Not applicable" is an empty cell: the Q31 columns outside Q31 schemes, the int32 bias outside
// the schemes that add it, the GEMM columns of ops without weights.
TEST_F(CliRun, NotApplicableCellsAreEmpty) {
  int64_t exact = 0, q31 = 0, op_rows = 0;
  for (const DiscrepancyRow& d : ReadDiscrepancies((Out("seed5a") / "discrepancies.csv").string())) {
    const bool gemm = d.recipe == d.scheme;  // conv/linear rows name the scheme as their recipe
    if (!gemm) {
      ++op_rows;
      EXPECT_FALSE(d.acc || d.bias || d.integer_bias || d.multiplier || d.shift) << d.case_id << " " << d.recipe;
    } else if (d.scheme == "exact") {
      ++exact;
      EXPECT_TRUE(d.acc.has_value()) << d.case_id;
      EXPECT_FALSE(d.integer_bias || d.multiplier || d.shift) << d.case_id;
    } else if (d.scheme == "double_rounding" || d.scheme == "single_rounding") {
      ++q31;
      EXPECT_TRUE(d.acc && d.multiplier && d.shift) << d.case_id;
    }
  }
  EXPECT_GT(exact + op_rows, 0);  // some rows were checked
  EXPECT_GT(q31, 0);
}

TEST_F(CliRun, DifferentSeedGivesDifferentCases) {
  EXPECT_NE(ReadFile(Out("seed5a") / "cases.csv"), ReadFile(Out("seed6") / "cases.csv"));
}

TEST_F(CliRun, ReportPrintsEveryEngine) {
  const Result r = Qdiff("report " + Quote(Out("seed5a").string()));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const std::vector<Engine> engines = AvailableEngines();
  ASSERT_FALSE(engines.empty());
  for (Engine e : engines) EXPECT_MENTIONS(r, EngineName(e));
  EXPECT_MENTIONS(r, "exact");
}

// `report` prints the per-op table as `run` does, and its filters keep only what they name.
TEST_F(CliRun, ReportPrintsThePerOpTableAndFilters) {
  const std::string dir = Out("seed5a").string();
  const Result all = Qdiff("report " + Quote(dir));
  EXPECT_MENTIONS(all, "Per op (");
  EXPECT_MENTIONS(all, "Per scheme (");
  // Data lines of the per-op table: "op engine scheme counts...".
  auto per_op_lines = [](const std::string& output) {
    std::vector<std::string> lines;
    std::istringstream in(output.substr(0, output.find("Per scheme")));
    std::string line;
    std::getline(in, line);  // the title
    std::getline(in, line);  // the header
    while (std::getline(in, line) && !line.empty() && line.rfind("LibTorch rejected", 0) != 0) lines.push_back(line);
    return lines;
  };
  ASSERT_FALSE(per_op_lines(all.output).empty()) << all.output;
  const std::string html = (dir_->path() / "filtered.html").string();
  const Result some = Qdiff("report " + Quote(dir) + " --op conv2d --engine qnnpack --scheme exact --html " + Quote(html));
  EXPECT_EQ(some.exit_code, 0) << some.output;
  const std::vector<std::string> lines = per_op_lines(some.output);
  ASSERT_FALSE(lines.empty()) << some.output;
  for (const std::string& line : lines) {
    std::istringstream words(line);
    std::string op, engine, scheme;
    words >> op >> engine >> scheme;
    EXPECT_TRUE(op == "conv2d" || op == "conv2d_relu") << line;
    EXPECT_EQ(engine, "qnnpack") << line;
    EXPECT_EQ(scheme, "exact") << line;
  }
  EXPECT_EQ(some.output.find("onednn"), std::string::npos) << some.output;
  const std::string page = ReadFile(html);
  EXPECT_EQ(page.find("onednn"), std::string::npos);
  EXPECT_NE(page.find("qnnpack"), std::string::npos);
  // --class keeps the cases with an element of that class: none has an unexplained one here.
  const Result none = Qdiff("report " + Quote(dir) + " --class unexplained");
  EXPECT_EQ(none.exit_code, 0) << none.output;
  EXPECT_TRUE(per_op_lines(none.output).empty()) << none.output;
}

TEST_F(CliRun, ReportRejectsUnknownFilterValuesNamingFlagAndValue) {
  for (const char* flag : {"--op", "--engine", "--scheme", "--class"}) {
    const Result r = Qdiff("report " + Quote(Out("seed5a").string()) + " " + flag + " bogus_value");
    EXPECT_EQ(r.exit_code, 2) << flag << ": " << r.output;
    EXPECT_MENTIONS(r, std::string(flag) + ": unknown value 'bogus_value'");
  }
}

// A cases.csv cut in the middle of a row.
class CliTruncatedReport : public CliRun {
 protected:
  void SetUp() override {
    const std::string cases = ReadFile(Out("seed5a") / "cases.csv");
    // Cut halfway through the fourth line (line 4 = the third data row).
    size_t start = 0;
    for (int line = 1; line < 4; ++line) start = cases.find('\n', start) + 1;
    const size_t end = cases.find('\n', start);
    ASSERT_NE(end, std::string::npos);
    folder_ = Out("truncated");
    fs::create_directories(folder_);
    for (const char* file : {"discrepancies.csv", "summary.csv", "run.json"}) {
      fs::copy_file(Out("seed5a") / file, folder_ / file, fs::copy_options::overwrite_existing);
    }
    // The cut falls outside a quoted field (a cut inside one is a different error, without a
    // column): the last field boundary at or before the middle of the line.
    size_t cut = start;
    bool quoted = false;
    for (size_t i = start; i < start + (end - start) / 2; ++i) {
      if (cases[i] == '"') quoted = !quoted;
      if (cases[i] == ',' && !quoted) cut = i;
    }
    WriteFile(folder_ / "cases.csv", cases.substr(0, cut));
    result_ = Qdiff("report " + Quote(folder_.string()));
  }
  fs::path folder_;
  Result result_;
};

TEST_F(CliTruncatedReport, ExitsTwoNamingFileAndLine) {
  EXPECT_EQ(result_.exit_code, 2) << result_.output;
  EXPECT_MENTIONS(result_, (folder_ / "cases.csv").string() + ":4");
}

// docs/design.md#reports: a truncated CSV gets an error naming the file, line AND column
// ("column NAME" with NAME one of the header's columns, as ReportError writes it).
TEST_F(CliTruncatedReport, NamesTheColumn) {
  EXPECT_EQ(result_.exit_code, 2) << result_.output;
  const std::string header = ReadFile(folder_ / "cases.csv").substr(0, ReadFile(folder_ / "cases.csv").find('\n'));
  std::istringstream columns(header);
  bool named = false;
  for (std::string column; std::getline(columns, column, ',');) {
    named = named || result_.output.find("column " + column) != std::string::npos;
  }
  EXPECT_TRUE(named) << "no column of " << header << " named in:\n" << result_.output;
}

// ---------------------------------------------------------------------------------------------
// The README's test command is the one CI runs.

TEST(Cli, ReadmeTestCommandIsWhatCiRuns) {
  const fs::path readme = fs::path(QDIFF_SOURCE_DIR) / "README.md";
  const fs::path ci = fs::path(QDIFF_SOURCE_DIR) / ".ci" / "run";
  ASSERT_TRUE(fs::is_regular_file(readme)) << readme;
  ASSERT_TRUE(fs::is_regular_file(ci)) << ci;
  std::istringstream text(ReadFile(readme));
  std::vector<std::string> commands;
  bool fenced = false;
  for (std::string line; std::getline(text, line);) {
    const size_t first = line.find_first_not_of(" \t");
    if (first != std::string::npos && line.compare(first, 3, "```") == 0) {
      fenced = !fenced;
      continue;
    }
    if (!fenced || line.find("ctest") == std::string::npos) continue;
    // The command as typed: no indentation, no "$ " prompt, no trailing blanks.
    line = line.substr(line.find_first_not_of(" \t"));
    if (line.rfind("$ ", 0) == 0) line = line.substr(2);
    line = line.substr(0, line.find_last_not_of(" \t\r") + 1);
    commands.push_back(line);
  }
  // The first one is the test command; later ones may show variations (a subset, say).
  ASSERT_FALSE(commands.empty()) << "README.md: no fenced line contains 'ctest'";
  EXPECT_NE(ReadFile(ci).find(commands[0]), std::string::npos)
      << ".ci/run does not contain README.md's test command:\n  " << commands[0];
}

}  // namespace
}  // namespace qdiff
