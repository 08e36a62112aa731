// Nothing a user does to a run folder loses results: a refused --resume, a second campaign on the
// same --out, a new run into a finished folder, an altered journal line, a cut shard CSV, and
// shards of different kernel environments are all refused or repaired, never silently accepted.
// Each test reproduces a way results were lost before run folders were locked, journals
// checksummed and row counts recorded in run.json.
#include <gtest/gtest.h>

#include <functional>
#include <signal.h>

#include <chrono>
#include <thread>

#include "harness/torch/libtorch_runner.h"
#include "harness/campaign/journal.h"
#include "tests/support/qdiff_process.h"

namespace qdiff {
namespace {

// Small, fast campaigns: the safety properties do not depend on the ops.
const std::string kOps = " --ops conv2d,linear,relu,add,max_pool2d --schemes exact,qnnpack_fp32,onednn_fp32";

std::string RunArgs(int cases, int seed, const fs::path& out, const std::string& extra = "") {
  return "run --cases " + std::to_string(cases) + " --seed " + std::to_string(seed) + kOps +
         " --jobs 1 --out " + Quote(out.string()) + extra;
}

int64_t DataRows(const fs::path& csv) {
  const std::string text = ReadFile(csv);
  return static_cast<int64_t>(std::count(text.begin(), text.end(), '\n')) - 1;
}

#define EXPECT_MENTIONS(result, text)                                              \
  EXPECT_NE((result).output.find(text), std::string::npos)                          \
      << "output does not mention \"" << (text) << "\":\n" << (result).output

// Issue item 1: a refused --resume (different settings) used to truncate the finished run's CSVs.
TEST(RunFolderSafety, RefusedResumeLeavesTheFinishedRunIntact) {
  TempDir dir;
  const fs::path out = dir.path() / "run";
  ASSERT_EQ(Qdiff(RunArgs(30, 9, out)).exit_code, 0);
  const std::string cases = ReadFile(out / "cases.csv"), run_json = ReadFile(out / "run.json");
  const Result refused = Qdiff(RunArgs(30, 10, out, " --resume"));
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_MENTIONS(refused, "'seed'");
  EXPECT_EQ(ReadFile(out / "cases.csv"), cases);
  EXPECT_EQ(ReadFile(out / "run.json"), run_json);
  const Result report = Qdiff("report " + Quote(out.string()));
  EXPECT_EQ(report.exit_code, 0) << report.output;
}

// Issue item 2: merge used to accept a shard cut at a row boundary, or holding only the header.
TEST(RunFolderSafety, MergeRefusesShardsWithMissingRows) {
  TempDir dir;
  const fs::path d = dir.path();
  ASSERT_EQ(Qdiff(RunArgs(40, 21, d / "s0", " --shard 0/2")).exit_code, 0);
  ASSERT_EQ(Qdiff(RunArgs(40, 21, d / "s1", " --shard 1/2")).exit_code, 0);
  const std::string merge = "merge " + Quote((d / "s0").string()) + " " + Quote((d / "s1").string());
  ASSERT_EQ(Qdiff(merge + " --out " + Quote((d / "ok").string())).exit_code, 0);
  const std::string cases = ReadFile(d / "s1" / "cases.csv");
  // Cut after the last complete row but ten: still a well-formed CSV.
  size_t cut = cases.size();
  for (int i = 0; i < 11; ++i) cut = cases.rfind('\n', cut - 1);
  WriteFile(d / "s1" / "cases.csv", cases.substr(0, cut + 1));
  Result r = Qdiff(merge + " --out " + Quote((d / "m1").string()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, (d / "s1" / "cases.csv").string());
  EXPECT_MENTIONS(r, "run.json records");
  WriteFile(d / "s1" / "cases.csv", cases.substr(0, cases.find('\n') + 1));  // the header only
  r = Qdiff(merge + " --out " + Quote((d / "m2").string()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, "holds 0 rows");
  // `report` checks the same counts.
  r = Qdiff("report " + Quote((d / "s1").string()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
}

// Issue item 3: two campaigns writing one --out at once used to tear each other's CSVs.
TEST(RunFolderSafety, SecondCampaignOnTheSameFolderIsRefused) {
  // Long enough (several seconds at ~600 cases/s) that the second and third runs start while the
  // first holds the lock; 400 cases finished before them once the check got faster.
  constexpr int kCases = 4000;
  TempDir dir;
  const fs::path out = dir.path() / "run";
  const std::string all_rows = " --all-rows-cases " + std::to_string(kCases);  // cases.csv: every row
  const Result started = Qdiff_Background(RunArgs(kCases, 3, out, all_rows));
  const pid_t pid = static_cast<pid_t>(std::stol(started.output));
  for (int i = 0; i < 500 && !fs::exists(out / "journal.jsonl"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const Result second = Qdiff(RunArgs(kCases, 3, out, all_rows + " --resume"));
  EXPECT_EQ(second.exit_code, 2) << second.output;
  EXPECT_MENTIONS(second, "in use by another qdiff process (pid " + std::to_string(pid) + ")");
  const Result third = Qdiff(RunArgs(kCases, 3, out, all_rows + " --overwrite"));
  EXPECT_EQ(third.exit_code, 2) << third.output;
  // The first run is undisturbed and finishes with all its rows.
  for (int i = 0; i < 6000 && kill(pid, 0) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    waitpid(pid, nullptr, WNOHANG);
  }
  const Result report = Qdiff("report " + Quote(out.string()));
  EXPECT_EQ(report.exit_code, 0) << report.output;
  EXPECT_EQ(DataRows(out / "cases.csv"), kCases * 3 * static_cast<int64_t>(AvailableEngines().size()));
}

// Issue item 4: a new run (no --resume) into a finished run's folder used to replace it.
TEST(RunFolderSafety, NewRunIntoAFinishedFolderNeedsOverwrite) {
  TempDir dir;
  const fs::path out = dir.path() / "run";
  ASSERT_EQ(Qdiff(RunArgs(20, 5, out)).exit_code, 0);
  const std::string cases = ReadFile(out / "cases.csv");
  WriteFile(out / "findings" / "kept.json", "{}");
  Result r = Qdiff(RunArgs(20, 6, out));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, "--overwrite");
  EXPECT_EQ(ReadFile(out / "cases.csv"), cases);
  EXPECT_TRUE(fs::exists(out / "findings" / "kept.json"));
  // An explicit --overwrite replaces it, old findings included.
  r = Qdiff(RunArgs(20, 6, out, " --overwrite"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(ReadFile(out / "cases.csv"), cases);
  EXPECT_FALSE(fs::exists(out / "findings" / "kept.json"));
  // --overwrite never empties a folder that is not a qdiff run.
  const fs::path mine = dir.path() / "mine";
  fs::create_directories(mine);
  WriteFile(mine / "thesis.tex", "precious");
  r = Qdiff(RunArgs(5, 6, mine, " --overwrite"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(ReadFile(mine / "thesis.tex"), "precious");
  r = Qdiff(RunArgs(5, 6, mine, " --resume --overwrite"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
}

// Issue item 5: a journal line whose index was altered used to be taken, duplicating rows. The
// journal holds the records of cases with findings; the checkpoint vouches for its bytes.
TEST(RunFolderSafety, AlteredJournalLinesAreNotTrusted) {
  TempDir dir;
  const fs::path full = dir.path() / "full";
  const std::string defect = " --inject-defect ties_up";
  ASSERT_EQ(Qdiff(RunArgs(60, 4, full, defect)).exit_code, 1);
  const auto resume_with = [&](const std::string& name, const std::function<void(std::vector<std::string>*)>& alter) {
    const fs::path cut = dir.path() / name;
    EXPECT_EQ(Qdiff(RunArgs(60, 4, cut, defect)).exit_code, 1);
    std::istringstream lines(ReadFile(cut / "journal.jsonl"));
    std::vector<std::string> kept;
    for (std::string line; std::getline(lines, line);) kept.push_back(line);
    EXPECT_GT(kept.size(), 6u) << "too few findings for this test";
    alter(&kept);
    std::string journal;
    for (const std::string& line : kept) journal += line + "\n";
    WriteFile(cut / "journal.jsonl", journal);
    fs::remove(cut / "run.json");
    const Result resumed = Qdiff(RunArgs(60, 4, cut, defect + " --resume"));
    EXPECT_EQ(resumed.exit_code, 1) << resumed.output;
    for (const char* f : {"cases.csv", "discrepancies.csv", "summary.csv", "ops.csv"}) {
      EXPECT_EQ(ReadFile(cut / f), ReadFile(full / f)) << f;
    }
    return resumed;
  };
  // A record edited in place (its checksum no longer matches): behind the checkpoint, so the
  // checkpoint is not trusted and every case runs again.
  Result r = resume_with("edited", [](std::vector<std::string>* kept) {
    const size_t at = (*kept)[3].find("\"index\":");
    ASSERT_NE(at, std::string::npos);
    (*kept)[3].replace(at, 8, "\"index\":1");
  });
  EXPECT_MENTIONS(r, "line 4: its checksum does not match");
  EXPECT_MENTIONS(r, "journal.jsonl are not the ones it recorded");
  EXPECT_MENTIONS(r, "60 cases (0 from the checkpoint)");
  // A record re-checksummed with an index outside the run, appended after the checkpoint's bytes:
  // dropped, naming it; the checkpoint holds.
  r = resume_with("appended", [](std::vector<std::string>* kept) {
    std::optional<nlohmann::json> record = ParseJournalLine((*kept)[5]);
    ASSERT_TRUE(record.has_value());
    (*record)["index"] = 100;  // beyond --cases 60
    std::string line = JournalLine(*record);
    line.pop_back();  // JournalLine ends with '\n'
    kept->push_back(line);
  });
  EXPECT_MENTIONS(r, "case index 100 is not in this run");
  EXPECT_MENTIONS(r, "60 cases (60 from the checkpoint)");
}

TEST(RunFolderSafety, MergeRefusesShardsOfDifferentKernelEnvironments) {
  TempDir dir;
  const fs::path d = dir.path();
  ASSERT_EQ(Qdiff(RunArgs(20, 8, d / "s0", " --shard 0/2")).exit_code, 0);
  ASSERT_EQ(Qdiff(RunArgs(20, 8, d / "s1", " --shard 1/2"), "DNNL_MAX_CPU_ISA=AVX2").exit_code, 0);
  const Result r = Qdiff("merge " + Quote((d / "s0").string()) + " " + Quote((d / "s1").string()) +
                         " --out " + Quote((d / "m").string()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, "'environment' differs");
  EXPECT_MENTIONS(r, "DNNL_MAX_CPU_ISA");
}

// Issue item 13: a malformed --baseline used to be read after the whole campaign (losing it),
// and --baseline equal to --out compared the run with itself.
TEST(RunFolderSafety, BaselineIsCheckedBeforeTheRun) {
  TempDir dir;
  const fs::path bad = dir.path() / "bad", out = dir.path() / "run";
  fs::create_directories(bad);
  WriteFile(bad / "cases.csv", "not,a,qdiff,header\n");
  Result r = Qdiff(RunArgs(20, 1, out, " --baseline " + Quote(bad.string())));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, (bad / "cases.csv").string());
  EXPECT_FALSE(fs::exists(out / "journal.jsonl"));
  r = Qdiff(RunArgs(20, 1, out, " --baseline " + Quote(out.string())));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, "--baseline");
}

// Issue item 14: a negative shard index from the environment used to be accepted.
TEST(RunFolderSafety, NegativeShardIndexFromTheEnvironmentIsRefused) {
  TempDir dir;
  const Result r = Qdiff(RunArgs(5, 1, dir.path() / "run"),
                         "SLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_COUNT=2");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, "SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN: shard -1 of 2");
}

// Issue item 11: a shrink killed by its deadline used to be reported as "shrunk 0 -> 0
// elements in 0 attempts; reproduces in a fresh process".
TEST(RunFolderSafety, KilledShrinkIsReportedAsNotShrunk) {
  TempDir dir;
  const fs::path out = dir.path() / "run";
  // With ties_up, case 15 of seed 1 is the first with an unexplained element on QNNPACK.
  const Result r = Qdiff("run --cases 16 --seed 1 --ops conv2d --schemes exact --engines qnnpack "
                         "--jobs 1 --inject-defect ties_up --case-timeout 1 --out " + Quote(out.string()),
                         "QDIFF_FAULT_INJECTION=hang_shrink:-1");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_MENTIONS(r, "not shrunk: the shrink killed after the case timeout");
  EXPECT_EQ(r.output.find("shrunk 0 -> 0"), std::string::npos) << r.output;
}

// Journal lines: the checksum covers the record's bytes exactly.
TEST(RunFolderSafety, JournalLineChecksumCoversEveryByte) {
  const nlohmann::json record = {{"type", "case"}, {"index", 7}, {"rows", {1, 2, 3}}};
  std::string line = JournalLine(record);
  ASSERT_EQ(line.back(), '\n');
  line.pop_back();
  ASSERT_TRUE(ParseJournalLine(line).has_value());
  EXPECT_EQ(*ParseJournalLine(line), record);
  for (size_t i = 0; i < line.size(); ++i) {
    std::string altered = line;
    altered[i] = altered[i] == '1' ? '2' : '1';
    EXPECT_FALSE(ParseJournalLine(altered).has_value()) << "byte " << i << ": " << altered;
  }
  EXPECT_FALSE(ParseJournalLine(line.substr(0, line.size() - 1)).has_value());  // torn
  EXPECT_FALSE(ParseJournalLine(record.dump()).has_value());  // a bare record is not trusted
}

}  // namespace
}  // namespace qdiff
