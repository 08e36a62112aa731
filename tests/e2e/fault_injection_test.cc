// Fault injection: a campaign survives workers that segfault, abort, hang or throw (test-only
// switch QDIFF_FAULT_INJECTION, read by workers), a SIGKILL of the whole campaign followed by
// --resume, and a full disk; nothing already found is lost.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>

#include <chrono>
#include <thread>

#include "tests/support/qdiff_process.h"

namespace qdiff {
namespace {

int64_t CountLines(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

TEST(FaultInjection, CrashingAndHangingWorkersDoNotStopTheCampaign) {
  TempDir dir;
  const std::string out = (dir.path() / "run").string();
  const Result r = Qdiff("run --cases 30 --seed 1 --jobs 2 --case-timeout 3 --schemes exact --out " + Quote(out),
                         "QDIFF_FAULT_INJECTION=segfault:4,abort:9,hang:13,throw:17");
  EXPECT_EQ(r.exit_code, 1) << r.output;  // crashes are findings
  const std::string cases = ReadFile(out + "/cases.csv");
  // Every case is reported: 30 cases × engines × 1 scheme rows plus the header.
  const std::string engines_line = ReadFile(out + "/run.json");
  const int64_t engines = engines_line.find("\"onednn\"") != std::string::npos ? 2 : 1;
  EXPECT_EQ(CountLines(cases), 1 + 30 * engines) << cases;
  for (const char* id : {"s1-c000004", "s1-c000009", "s1-c000017"}) {
    EXPECT_NE(cases.find(std::string(id) + ","), std::string::npos) << id;
    EXPECT_TRUE(fs::exists(out + "/findings/" + id + ".json")) << id;
  }
  EXPECT_NE(cases.find("SIGSEGV"), std::string::npos);
  EXPECT_NE(cases.find("SIGABRT"), std::string::npos);
  EXPECT_NE(cases.find(",timeout,"), std::string::npos);
  EXPECT_TRUE(fs::exists(out + "/findings/s1-c000013.json"));
  // The saved case of a crashed worker replays fine in a healthy process (no injection there).
  EXPECT_EQ(Qdiff("replay --quiet " + Quote(out + "/findings/s1-c000004.json")).exit_code, 0);
}

TEST(FaultInjection, SigkillThenResumeEqualsAnUninterruptedRun) {
  TempDir dir;
  const std::string full = (dir.path() / "full").string(), cut = (dir.path() / "cut").string();
  // Enough cases that the run is still going when it is killed, also when a loaded machine
  // delays the polling below (1,200 cases take ~0.6 s at --jobs 2).
  const std::string args = "run --cases 2400 --seed 9 --jobs 2 --flush-seconds 0.2" + DeterministicOps() + " --out ";
  ASSERT_EQ(Qdiff(args + Quote(full)).exit_code, 0);
  // Start the same run in the background and SIGKILL it once its checkpoint counts some cases.
  const Result started = Qdiff_Background(args + Quote(cut));
  const pid_t pid = static_cast<pid_t>(std::stol(started.output));
  for (int i = 0; i < 1000 && CheckpointIndex(cut) < 100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const int64_t checkpointed = CheckpointIndex(cut);
  EXPECT_GT(checkpointed, 0);
  EXPECT_LT(checkpointed, 2400) << "the run finished before it was killed";
  const Result resumed = Qdiff(args + Quote(cut) + " --resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  // Every case counted once: the checkpoint's counters cover exactly the cases behind it.
  EXPECT_NE(resumed.output.find("2400 cases (" + std::to_string(checkpointed) + " from the checkpoint)"),
            std::string::npos)
      << resumed.output;
  for (const char* f : {"cases.csv", "discrepancies.csv", "summary.csv", "ops.csv"}) {
    EXPECT_EQ(ReadFile(cut + "/" + f), ReadFile(full + "/" + f)) << f;
  }
}

TEST(FaultInjection, ResumeRefusesDifferentSettings) {
  TempDir dir;
  const std::string out = (dir.path() / "run").string();
  ASSERT_EQ(Qdiff("run --cases 20 --seed 9" + DeterministicOps() + " --out " + Quote(out)).exit_code, 0);
  const Result r = Qdiff("run --cases 20 --seed 10" + DeterministicOps() + " --resume --out " + Quote(out));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("'seed'"), std::string::npos) << r.output;
}

TEST(FaultInjection, FullDiskGivesAClearError) {
  TempDir dir;
  const fs::path mnt = dir.path() / "small";
  fs::create_directories(mnt);
  if (mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=256k") != 0) {
    GTEST_SKIP() << "cannot mount a small tmpfs here (needs root)";
  }
  const Result r = Qdiff("run --cases 3000 --seed 1 --jobs 1 --out " + Quote((mnt / "out").string()));
  umount(mnt.c_str());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("No space left on device"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace qdiff
