// Sharding: N shards run locally (by --shard and by the GoogleTest/Slurm/Kubernetes variables)
// and merged give byte-identical CSVs to the unsharded run; merge refuses foreign or missing
// shards with a clear message.
#include <gtest/gtest.h>

#include "tests/support/qdiff_process.h"

namespace qdiff {
namespace {

const std::string kRun = "run --cases 120 --seed 21" + DeterministicOps() + " --out ";

TEST(ShardMerge, ThreeShardsMergeToTheUnshardedRun) {
  TempDir dir;
  const fs::path d = dir.path();
  ASSERT_EQ(Qdiff(kRun + Quote((d / "full").string())).exit_code, 0);
  // Shard 0 by flag, shard 1 by GoogleTest's variables, shard 2 by Slurm's (task ids 1..3).
  ASSERT_EQ(Qdiff(kRun + Quote((d / "s0").string()) + " --shard 0/3").exit_code, 0);
  ASSERT_EQ(Qdiff(kRun + Quote((d / "s1").string()), "GTEST_TOTAL_SHARDS=3 GTEST_SHARD_INDEX=1").exit_code, 0);
  ASSERT_EQ(Qdiff(kRun + Quote((d / "s2").string()),
                  "SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_ID=3 SLURM_ARRAY_TASK_COUNT=3").exit_code, 0);
  const Result merge = Qdiff("merge " + Quote((d / "s0").string()) + " " + Quote((d / "s1").string()) +
                             " " + Quote((d / "s2").string()) + " --out " + Quote((d / "merged").string()));
  ASSERT_EQ(merge.exit_code, 0) << merge.output;
  for (const char* f : {"cases.csv", "discrepancies.csv", "summary.csv"}) {
    const std::string full = ReadFile(d / "full" / f);
    EXPECT_FALSE(full.empty()) << f;
    EXPECT_EQ(ReadFile(d / "merged" / f), full) << f;
  }
  // Each shard ran a third of the cases, not all of them.
  EXPECT_LT(ReadFile(d / "s1" / "cases.csv").size(), ReadFile(d / "full" / "cases.csv").size() / 2);
}

TEST(ShardMerge, KubernetesIndexNeedsTheShardCount) {
  TempDir dir;
  const Result r = Qdiff(kRun + Quote((dir.path() / "k").string()), "JOB_COMPLETION_INDEX=1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("QDIFF_TOTAL_SHARDS"), std::string::npos) << r.output;
  EXPECT_EQ(Qdiff(kRun + Quote((dir.path() / "k").string()), "JOB_COMPLETION_INDEX=1 QDIFF_TOTAL_SHARDS=2").exit_code, 0);
}

TEST(ShardMerge, RefusesMissingForeignAndCorruptShards) {
  TempDir dir;
  const fs::path d = dir.path();
  ASSERT_EQ(Qdiff(kRun + Quote((d / "a0").string()) + " --shard 0/2").exit_code, 0);
  ASSERT_EQ(Qdiff(kRun + Quote((d / "a1").string()) + " --shard 1/2").exit_code, 0);
  ASSERT_EQ(Qdiff("run --cases 120 --seed 22" + DeterministicOps() + " --shard 1/2 --out " + Quote((d / "b1").string())).exit_code, 0);
  const std::string out = " --out " + Quote((d / "m").string());
  Result r = Qdiff("merge " + Quote((d / "a0").string()) + out);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("shard 1 of 2 is missing"), std::string::npos) << r.output;
  r = Qdiff("merge " + Quote((d / "a0").string()) + " " + Quote((d / "b1").string()) + out);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("'seed' differs"), std::string::npos) << r.output;
  // A truncated CSV in a shard: the error names the file and line.
  const std::string cases = ReadFile(d / "a1" / "cases.csv");
  WriteFile(d / "a1" / "cases.csv", cases.substr(0, cases.size() / 2));
  r = Qdiff("merge " + Quote((d / "a0").string()) + " " + Quote((d / "a1").string()) + out);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("cases.csv:"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace qdiff
