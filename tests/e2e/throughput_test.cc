// `qdiff throughput` as a user runs it: one row per engine and workload (the listed ops'
// families and the two fixed layers), the stage table, and usage errors. No timing is asserted:
// speed is what the command reports, not what a test checks.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>

#include "harness/torch/libtorch_runner.h"
#include "tests/support/qdiff_process.h"

namespace qdiff {
namespace {

// The "elements" column of the first table's row for (engine, workload), or -1.
int64_t Elements(const std::string& output, const std::string& engine, const std::string& workload) {
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(engine + " ", 0) != 0) continue;
    const size_t at = line.find(" " + workload + " ");
    if (at == std::string::npos || line.find_first_not_of(' ', engine.size()) != at + 1) continue;
    std::istringstream fields(line.substr(at + 1 + workload.size()));
    int64_t cases = 0, elements = -1;
    fields >> cases >> elements;
    return elements;
  }
  return -1;
}

TEST(Throughput, OneRowPerEngineAndWorkloadAndTheStageTable) {
  const Result r = Qdiff("throughput --cases 4 --repeats 1 --campaign-cases 0 --ops conv2d,linear,add");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("microseconds per case by stage"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("pools+activations"), std::string::npos) << "--ops not applied:\n" << r.output;
  for (Engine e : AvailableEngines()) {
    const std::string engine = EngineName(e);
    for (const char* family : {"conv2d+linear", "conv2d+linear real", "add/mul/cat"}) {
      EXPECT_GT(Elements(r.output, engine, family), 0) << engine << " " << family << "\n" << r.output;
    }
    // the stage table has both checks, every scheme and the engine's own
    for (const char* check : {"all", "own"}) {
      EXPECT_TRUE(std::regex_search(r.output, std::regex(engine + R"(\s+conv2d\+linear\s+)" + check + R"(\s+\d+)")))
          << engine << " " << check << "\n" << r.output;
    }
    // One call of each fixed layer: 32·28·28 outputs of the conv, 8·1024 of the linear.
    EXPECT_EQ(Elements(r.output, engine, "conv2d 32x28x28 k3"), 32 * 28 * 28) << r.output;
    EXPECT_EQ(Elements(r.output, engine, "linear 1024x1024 b8"), 8 * 1024) << r.output;
  }
}

// The campaign table: a row per --jobs with every case run, and a steady rate (the answers after
// the first over the time to the last) that is there and at least the whole run's.
TEST(Throughput, CampaignRowsCountEveryCaseAndASteadyRate) {
  const Result r = Qdiff("throughput --cases 1 --repeats 0 --ops relu --campaign-cases 60");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const size_t table = r.output.find("steady c/s");
  ASSERT_NE(table, std::string::npos) << r.output;
  std::istringstream in(r.output.substr(r.output.find('\n', table) + 1));
  for (int64_t expected_jobs : {1, 2}) {
    int64_t jobs = 0, cases = 0;
    double seconds = 0, rate = 0, steady = 0;
    in >> jobs >> cases >> seconds >> rate >> steady;
    in.ignore(1 << 20, '\n');
    EXPECT_EQ(jobs, expected_jobs) << r.output;
    EXPECT_EQ(cases, 60) << r.output;
    EXPECT_GT(steady, 0.0) << r.output;
    EXPECT_GE(steady, rate) << "the start-up and the final reports are outside the steady rate\n" << r.output;
  }
}

TEST(Throughput, BadCountsAreUsageErrors) {
  for (const char* args : {"throughput --repeats -1", "throughput --cases 0", "throughput --ops conv9d"}) {
    const Result r = Qdiff(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
  }
}

}  // namespace
}  // namespace qdiff
