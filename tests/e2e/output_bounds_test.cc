// Output that does not grow with the run (issue 11): discrepancies.csv keeps at most
// --max-example-rows rows per (engine, layer op, scheme, class) and one row per known-LibTorch-bug
// element, while every count (cases.csv, summary.csv, ops.csv, junit.xml, `report`, `merge`)
// stays exact; cases.csv keeps every row of the first --all-rows-cases cases, then example cases;
// a killed run resumes from its checkpoint to the CSVs of an uninterrupted one.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <map>
#include <regex>
#include <set>
#include <thread>
#include <tuple>

#include "harness/campaign/journal.h"
#include "reports/example_rows.h"
#include "reports/schema.h"
#include "reports/summary.h"
#include "tests/support/qdiff_process.h"

namespace qdiff {
namespace {

using Group = std::tuple<std::string, std::string, std::string, DiffClass>;  // engine, layer op, scheme, class

Group GroupOf(const DiscrepancyRow& d) { return {d.engine, d.layer_op, d.scheme, d.cls}; }

// A defect that makes many differing elements in every group it touches.
std::string DefectRun(int cases, const fs::path& out, const std::string& extra) {
  return "run --cases " + std::to_string(cases) + " --seed 1 --inject-defect ties_up" + DeterministicOps() +
         " --jobs 2 --out " + Quote(out.string()) + extra;
}

// A run that finished, with findings (1) or without (0).
bool Ran(const Result& r) { return r.exit_code == 0 || r.exit_code == 1; }

constexpr int64_t kSmallBound = 3;

// junit.xml without what differs between two folders of the same run: times and the folder.
std::string JUnitCounts(const fs::path& dir) {
  const std::string text = std::regex_replace(ReadFile(dir / "junit.xml"), std::regex(" time=\"[0-9.]+\""), "");
  return std::regex_replace(text, std::regex(dir.string()), "DIR");
}
constexpr char kNoBound[] = " --max-example-rows 1000000000";

TEST(OutputBounds, ExampleRowsAreBoundedPerGroupAndEveryCountStaysExact) {
  TempDir dir;
  const fs::path bounded = dir.path() / "bounded", all = dir.path() / "all";
  ASSERT_TRUE(Ran(Qdiff(DefectRun(150, bounded, " --max-example-rows " + std::to_string(kSmallBound)))));
  ASSERT_TRUE(Ran(Qdiff(DefectRun(150, all, kNoBound))));
  const std::vector<DiscrepancyRow> kept = ReadDiscrepancies((bounded / "discrepancies.csv").string());
  const std::vector<DiscrepancyRow> every = ReadDiscrepancies((all / "discrepancies.csv").string());
  // The bound holds, and it cut something (else this test would test nothing).
  std::map<Group, std::vector<std::string>> kept_rows, first_rows;
  for (const DiscrepancyRow& d : kept) kept_rows[GroupOf(d)].push_back(FormatCsvLine(DiscrepancyToFields(d)));
  for (const auto& [group, rows] : kept_rows) EXPECT_LE(static_cast<int64_t>(rows.size()), kSmallBound);
  int64_t groups_cut = 0;
  std::map<Group, int64_t> every_count;
  for (const DiscrepancyRow& d : every) {
    std::vector<std::string>& first = first_rows[GroupOf(d)];
    if (static_cast<int64_t>(first.size()) < kSmallBound) first.push_back(FormatCsvLine(DiscrepancyToFields(d)));
    groups_cut += ++every_count[GroupOf(d)] == kSmallBound + 1;
  }
  EXPECT_GT(groups_cut, 10);
  // The rows kept are each group's first rows of the unbounded run, in its order.
  EXPECT_EQ(kept_rows, first_rows);
  // Every count is the same with and without the bound ...
  for (const char* f : {"cases.csv", "summary.csv", "ops.csv"}) {
    EXPECT_TRUE(ReadFile(bounded / f) == ReadFile(all / f)) << f;
  }
  EXPECT_TRUE(JUnitCounts(bounded) == JUnitCounts(all));
  for (const char* filter : {"", " --class tie", " --op add --class unexplained"}) {
    const Result a = Qdiff("report " + Quote(bounded.string()) + filter);
    const Result b = Qdiff("report " + Quote(all.string()) + filter);
    EXPECT_TRUE(Ran(a)) << a.output;
    EXPECT_EQ(a.exit_code, b.exit_code) << filter;
    EXPECT_EQ(a.output, b.output) << filter;
  }
  // ... and equal to the rows the unbounded run wrote, class by class (libtorch_bug aside: one
  // row per element, not per scheme).
  std::map<std::tuple<std::string, std::string, std::string>, int64_t> from_rows, from_counts;
  for (const DiscrepancyRow& d : every) {
    if (d.cls != DiffClass::kLibTorchBug) ++from_rows[{d.engine, d.scheme, DiffClassName(d.cls)}];
  }
  for (const SummaryRow& r : ReadSummary((bounded / "summary.csv").string())) {
    if (r.kind == "class" && r.name != DiffClassName(DiffClass::kLibTorchBug)) {
      from_counts[{r.engine, r.scheme, r.name}] += r.count;
    }
  }
  EXPECT_EQ(from_counts, from_rows);
}

// --all-rows-cases above its default reaches the workers too (they leave out the lines of cases
// their own bounds do not keep, harness/campaign/rows.h): every row of every case is written.
TEST(OutputBounds, AllRowsCasesAboveTheDefaultKeepsEveryRow) {
  TempDir dir;
  const int64_t cases = kDefaultAllRowsCases + 100;
  const Result r = Qdiff("run --cases " + std::to_string(cases) + " --seed 5 --jobs 2 --ops relu --schemes exact" +
                         " --all-rows-cases " + std::to_string(cases) + " --out " + Quote(dir.path().string()));
  ASSERT_TRUE(Ran(r)) << r.output;
  std::set<std::string> ids;
  for (const CaseRow& c : ReadCases((dir.path() / "cases.csv").string())) ids.insert(c.case_id);
  EXPECT_EQ(static_cast<int64_t>(ids.size()), cases);
}

// cases.csv: every row of the cases below --all-rows-cases, then whole example cases (findings,
// cases with example discrepancy rows, the first few per engine, scheme, verdict and first op);
// every count stays that of the run that keeps every row.
TEST(OutputBounds, CaseRowsAreExamplesAfterTheFirstCasesAndEveryCountStaysExact) {
  TempDir dir;
  const fs::path bounded = dir.path() / "bounded", all = dir.path() / "all";
  constexpr int64_t kAllRows = 40;
  const std::string bound = " --max-example-rows " + std::to_string(kSmallBound);
  ASSERT_TRUE(Ran(Qdiff("run --cases 400 --seed 3 --jobs 2" + DeterministicOps() + bound +
                        " --all-rows-cases " + std::to_string(kAllRows) + " --out " + Quote(bounded.string()))));
  ASSERT_TRUE(Ran(Qdiff("run --cases 400 --seed 3 --jobs 2" + DeterministicOps() + bound +
                        " --all-rows-cases 1000 --out " + Quote(all.string()))));
  std::map<std::string, std::vector<std::string>> kept, every;  // case id -> its rows as written
  for (const CaseRow& c : ReadCases((bounded / "cases.csv").string())) kept[c.case_id].push_back(FormatCsvLine(CaseToFields(c)));
  std::set<std::string> findings;
  for (const CaseRow& c : ReadCases((all / "cases.csv").string())) {
    every[c.case_id].push_back(FormatCsvLine(CaseToFields(c)));
    if (IsFinding(c.verdict)) findings.insert(c.case_id);
  }
  ASSERT_EQ(every.size(), 400u);
  EXPECT_LT(kept.size(), 300u) << "the bound cut (almost) nothing: the test tests nothing";
  for (const auto& [id, rows] : kept) EXPECT_EQ(rows, every[id]) << id << ": a kept case has all its rows";
  for (const auto& [id, rows] : every) {
    const int64_t index = std::stoll(id.substr(id.find("-c") + 2));
    if (index < kAllRows || findings.count(id)) EXPECT_EQ(kept.count(id), 1u) << id;
  }
  for (const DiscrepancyRow& d : ReadDiscrepancies((bounded / "discrepancies.csv").string())) {
    EXPECT_EQ(kept.count(d.case_id), 1u) << d.case_id << ": an example row without its case";
  }
  EXPECT_TRUE(ReadFile(bounded / "discrepancies.csv") == ReadFile(all / "discrepancies.csv"));
  for (const char* f : {"summary.csv", "ops.csv"}) EXPECT_TRUE(ReadFile(bounded / f) == ReadFile(all / f)) << f;
  EXPECT_EQ(JUnitCounts(bounded), JUnitCounts(all));
  for (const char* filter : {"", " --engine onednn --op add"}) {
    const Result a = Qdiff("report " + Quote(bounded.string()) + filter);
    const Result b = Qdiff("report " + Quote(all.string()) + filter);
    EXPECT_TRUE(Ran(a)) << a.output;
    EXPECT_EQ(a.output, b.output) << filter;
  }
}

TEST(OutputBounds, ShardsMergeToTheBoundedUnshardedRun) {
  TempDir dir;
  const fs::path d = dir.path();
  const std::string bound = " --max-example-rows " + std::to_string(kSmallBound) + " --all-rows-cases 20";
  ASSERT_TRUE(Ran(Qdiff(DefectRun(90, d / "full", bound))));
  ASSERT_TRUE(Ran(Qdiff(DefectRun(90, d / "s0", bound + " --shard 0/2"))));
  ASSERT_TRUE(Ran(Qdiff(DefectRun(90, d / "s1", bound + " --shard 1/2"))));
  const Result merge = Qdiff("merge " + Quote((d / "s0").string()) + " " + Quote((d / "s1").string()) +
                             " --out " + Quote((d / "merged").string()));
  ASSERT_TRUE(Ran(merge)) << merge.output;
  // Each shard kept its own first rows; the merge keeps the run's.
  EXPECT_GT(ReadFile(d / "s0" / "discrepancies.csv").size() + ReadFile(d / "s1" / "discrepancies.csv").size(),
            ReadFile(d / "full" / "discrepancies.csv").size());
  EXPECT_GT(ReadFile(d / "s0" / "cases.csv").size() + ReadFile(d / "s1" / "cases.csv").size(),
            ReadFile(d / "full" / "cases.csv").size());
  for (const char* f : {"cases.csv", "discrepancies.csv", "summary.csv", "ops.csv"}) {
    EXPECT_TRUE(ReadFile(d / "merged" / f) == ReadFile(d / "full" / f)) << f;
  }
  EXPECT_EQ(JUnitCounts(d / "merged"), JUnitCounts(d / "full"));
}

// QNNPACK's clamp paths on channels-last quint8 are a known LibTorch bug (README, Findings): the
// same elements differ under every scheme.
TEST(OutputBounds, KnownBugElementsHaveOneRowPerElement) {
  TempDir dir;
  const fs::path out = dir.path() / "run";
  const Result r = Qdiff("run --cases 80 --seed 2 --engines qnnpack --ops hardtanh,clamp,relu6 --jobs 2" +
                         std::string(kNoBound) + " --out " + Quote(out.string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  using Layer = std::tuple<std::string, std::string, int64_t>;  // case, engine, layer
  std::map<Layer, std::set<int64_t>> bug_elements;
  std::map<Layer, int64_t> bug_rows;
  for (const DiscrepancyRow& d : ReadDiscrepancies((out / "discrepancies.csv").string())) {
    if (d.cls != DiffClass::kLibTorchBug) continue;
    bug_elements[{d.case_id, d.engine, d.layer}].insert(d.index);
    ++bug_rows[{d.case_id, d.engine, d.layer}];
  }
  // Per layer: the most elements one scheme counts, and the elements all schemes count.
  std::map<Layer, int64_t> most, counted;
  for (const CaseRow& c : ReadCases((out / "cases.csv").string())) {
    for (const LayerClassCount& k : ParseLayerClassCounts(c.layer_classes)) {
      if (k.cls != DiffClass::kLibTorchBug) continue;
      const Layer layer{c.case_id, c.engine, k.layer};
      most[layer] = std::max(most[layer], k.count);
      counted[layer] += k.count;
    }
  }
  ASSERT_FALSE(most.empty()) << "no known-bug element in this run: the test tests nothing";
  int64_t rows = 0, counts = 0;
  for (const auto& [layer, n] : most) {
    EXPECT_EQ(bug_rows[layer], static_cast<int64_t>(bug_elements[layer].size())) << "an element has two rows";
    EXPECT_GE(static_cast<int64_t>(bug_elements[layer].size()), n) << "an element has no row";
    rows += bug_rows[layer];
    counts += counted[layer];
  }
  EXPECT_LT(rows, counts) << "every element was counted under one scheme only";
}

// Killed at any moment, a run resumes from its checkpoint to the uninterrupted run's files: what
// the kill left half-written behind the checkpoint is cut, the cases behind it run again.
TEST(OutputBounds, KilledRunResumesToTheUninterruptedCsvs) {
  TempDir dir;
  const fs::path full = dir.path() / "full", cut = dir.path() / "cut";
  const std::string bound = " --max-example-rows " + std::to_string(kSmallBound) + " --all-rows-cases 100 --flush-seconds 0.2";
  ASSERT_TRUE(Ran(Qdiff(DefectRun(600, full, bound))));
  const Result started = Qdiff_Background(DefectRun(600, cut, bound));
  const pid_t pid = static_cast<pid_t>(std::stol(started.output));
  for (int i = 0; i < 1000 && CheckpointIndex(cut) < 150; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_GT(CheckpointIndex(cut), 0);
  ASSERT_LT(CheckpointIndex(cut), 600) << "the run finished before it was killed";
  // A write the kill cut short: bytes past what the checkpoint vouches for.
  for (const char* f : {"cases.csv.partial", "discrepancies.csv.partial"}) {
    std::ofstream(cut / f, std::ios::app) << "s1-c999999,half a row";
  }
  const Result resumed = Qdiff(DefectRun(600, cut, bound + " --resume"));
  ASSERT_TRUE(Ran(resumed)) << resumed.output;
  EXPECT_NE(resumed.output.find("from the checkpoint"), std::string::npos) << resumed.output;
  for (const char* f : {"cases.csv", "discrepancies.csv", "summary.csv", "ops.csv"}) {
    EXPECT_TRUE(ReadFile(cut / f) == ReadFile(full / f)) << f;
  }
  EXPECT_EQ(JUnitCounts(cut), JUnitCounts(full));
  // Nothing of the checkpoint's own is left but checkpoint.json (the counts files are gone).
  for (const auto& entry : fs::directory_iterator(cut)) {
    const std::string name = entry.path().filename().string();
    EXPECT_TRUE(name.rfind("checkpoint.", 0) != 0 || name == "checkpoint.json") << name;
  }
}

// A checkpoint whose CSV bytes or counts file do not match what it records (altered after it was
// written), or whose own checksum fails, is not trusted: the run starts again and still ends with
// the uninterrupted run's files. A CSV that is not qdiff's is refused, naming it.
TEST(OutputBounds, ResumeChecksWhatTheCheckpointVouchesFor) {
  TempDir dir;
  const fs::path full = dir.path() / "full", cut = dir.path() / "cut";
  ASSERT_TRUE(Ran(Qdiff(DefectRun(40, full, ""))));
  const auto alter = [](const fs::path& file, char from, char to) {
    std::string text = ReadFile(file);
    const size_t at = text.rfind(from);
    ASSERT_NE(at, std::string::npos) << file;
    text[at] = to;
    WriteFile(file, text);
  };
  const std::vector<std::tuple<std::string, char, char, std::string>> alterations = {
      {"cases.csv", '1', '2', "the cases rows it records are not in"},
      {"discrepancies.csv", '1', '2', "the discrepancies rows it records are not in"},
      {"summary.csv", '1', '2', "summary.csv is not the file it recorded"},
      {"checkpoint.json", '1', '2', "its checksum does not match"}};
  for (const auto& [file, from, to, why] : alterations) {
    fs::remove_all(cut);
    ASSERT_TRUE(Ran(Qdiff(DefectRun(40, cut, ""))));
    alter(cut / file, from, to);
    fs::remove(cut / "run.json");
    const Result resumed = Qdiff(DefectRun(40, cut, " --resume"));
    EXPECT_TRUE(Ran(resumed)) << resumed.output;
    EXPECT_NE(resumed.output.find("checkpoint.json is not trusted"), std::string::npos) << file << resumed.output;
    EXPECT_NE(resumed.output.find(why), std::string::npos) << file << resumed.output;
    EXPECT_NE(resumed.output.find("(0 from the checkpoint)"), std::string::npos) << file << resumed.output;
    for (const char* f : {"cases.csv", "discrepancies.csv", "summary.csv", "ops.csv"}) {
      EXPECT_TRUE(ReadFile(cut / f) == ReadFile(full / f)) << f << " after altering " << file;
    }
  }
  fs::remove(cut / "run.json");
  WriteFile(cut / "cases.csv", "case_id,something else\n");
  const Result refused = Qdiff(DefectRun(40, cut, " --resume"));
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find((cut / "cases.csv").string() + ": its header is not qdiff's"), std::string::npos)
      << refused.output;
}

}  // namespace
}  // namespace qdiff
