// `--kernel`: the user's kernel plugin as one more column of a campaign, replay and shrink. The
// plugins are built by tests/CMakeLists.txt (examples/kernel_plugin/reference_kernel.c and
// tests/kernel/plugins/*.c).
#include <gtest/gtest.h>

#include <filesystem>
#include <algorithm>
#include <cstdio>
#include <string>

#include <fstream>
#include <nlohmann/json.hpp>

#include "harness/case/case_json.h"
#include "oracles/integer_pipeline.h"
#include "oracles/scheme.h"
#include "properties/case_generator.h"
#include "oracles/model.h"
#include "tests/kernel/plugin_comparison.h"
#include "tests/support/qdiff_process.h"

namespace qdiff {
namespace {

namespace fs = std::filesystem;

// A campaign small enough for a test: conv2d and linear on QNNPACK, the plugins' target engine.
std::string KernelRun(const std::string& plugin, const std::string& out, int cases,
                      const std::string& extra = "") {
  return "run --cases " + std::to_string(cases) + " --seed 3 --jobs 1 --engines qnnpack " +
         "--ops conv2d,linear --schemes exact --kernel " + Quote(plugin) + " --out " + Quote(out) +
         " " + extra;
}

int64_t Count(const std::string& text, const std::string& what) {
  int64_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

TEST(KernelColumn, ReferenceKernelMatchesQnnpackOnEveryCase) {
  TempDir dir;
  const std::string out = (dir.path() / "run").string();
  const Result r = Qdiff(KernelRun(QDIFF_PLUGIN_REFERENCE, out, 150));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const std::string cases = ReadFile(out + "/cases.csv");
  // One kernel row per case, beside the exact scheme's.
  EXPECT_EQ(Count(cases, ",qnnpack,kernel,"), 150) << cases.substr(0, 2000);
  EXPECT_EQ(ReadFile(out + "/discrepancies.csv").find(",kernel,"), std::string::npos)
      << "the reference kernel differs from QNNPACK somewhere";
}

TEST(KernelColumn, TiesAwayMutantIsAFindingClassifiedTieShrunkAndReplayable) {
  TempDir dir;
  const std::string out = (dir.path() / "run").string();
  const Result r = Qdiff(KernelRun(QDIFF_PLUGIN_TIES_AWAY, out, 150));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("/qnnpack/kernel/tie"), std::string::npos) << r.output;
  const std::string discrepancies = ReadFile(out + "/discrepancies.csv");
  EXPECT_NE(discrepancies.find(",kernel:ties_away"), std::string::npos);
  EXPECT_NE(discrepancies.find(",qnnpack,kernel,"), std::string::npos);
  // The shrunk finding replays bit for bit with the kernel, and is clean without it.
  std::string shrunk;
  for (const auto& e : fs::directory_iterator(out + "/findings")) {
    const std::string name = e.path().filename().string();
    if (name.find(".qnnpack.kernel.") != std::string::npos) shrunk = e.path().string();
  }
  ASSERT_FALSE(shrunk.empty()) << r.output;
  EXPECT_EQ(Qdiff("replay --quiet " + Quote(shrunk) + " --kernel " + Quote(QDIFF_PLUGIN_TIES_AWAY)).exit_code, 1);
  EXPECT_EQ(Qdiff("replay --quiet " + Quote(shrunk) + " --kernel " + Quote(QDIFF_PLUGIN_REFERENCE)).exit_code, 0);
  EXPECT_EQ(Qdiff("replay --quiet " + Quote(shrunk)).exit_code, 0);
}

// add and mul: a plugin aiming at no engine is compared with every engine; its double-precision
// add/mul differs from the engines only where an ingredient (the tie rule) explains it, while
// the truncating variant is unexplained on both engines.
TEST(KernelColumn, ElementwisePluginsWithoutTargetAreComparedOnEveryEngine) {
  TempDir dir;
  auto run = [&](const std::string& plugin, const std::string& name) {
    return Qdiff("run --cases 150 --seed 3 --jobs 1 --ops add,mul --schemes exact --kernel " +
                 Quote(plugin) + " --out " + Quote((dir.path() / name).string()));
  };
  const Result good = run(QDIFF_PLUGIN_ELEMENTWISE_DOUBLE, "double");
  EXPECT_EQ(good.exit_code, 0) << good.output;
  const std::string cases = ReadFile((dir.path() / "double" / "cases.csv").string());
  EXPECT_EQ(Count(cases, ",kernel,"), 150 * Count(ReadFile((dir.path() / "double" / "run.json").string()),
                                                  "\"onednn\"") + 150)
      << "one kernel row per case and engine";
  const Result bad = run(QDIFF_PLUGIN_ELEMENTWISE_TRUNCATE, "truncate");
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_NE(bad.output.find("/qnnpack/kernel/unexplained"), std::string::npos) << bad.output;
}

TEST(KernelColumn, BadPluginIsAUsageErrorNamingTheFile) {
  TempDir dir;
  const std::string out = (dir.path() / "run").string();
  const Result missing = Qdiff(KernelRun("/nonexistent/libmine.so", out, 5));
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find("/nonexistent/libmine.so"), std::string::npos) << missing.output;
  EXPECT_FALSE(fs::exists(out + "/cases.csv"));
  const Result no_info = Qdiff(KernelRun(QDIFF_PLUGIN_NO_INFO, out, 5));
  EXPECT_EQ(no_info.exit_code, 2) << no_info.output;
  EXPECT_NE(no_info.output.find("qdiff_kernel_info_v1"), std::string::npos) << no_info.output;
}

TEST(KernelColumn, CrashingAndHangingKernelsAreRowsNotADeadCampaign) {
  TempDir dir;
  const std::string crash_out = (dir.path() / "crash").string();
  const Result crash = Qdiff(KernelRun(QDIFF_PLUGIN_CRASH, crash_out, 4));
  EXPECT_EQ(crash.exit_code, 1) << crash.output;
  const std::string crash_cases = ReadFile(crash_out + "/cases.csv");
  EXPECT_GE(Count(crash_cases, ",crashed,"), 4) << crash_cases;
  EXPECT_NE(crash_cases.find("SIGSEGV"), std::string::npos) << crash_cases;

  const std::string hang_out = (dir.path() / "hang").string();
  const Result hang = Qdiff(KernelRun(QDIFF_PLUGIN_HANG, hang_out, 2, "--case-timeout 2"));
  EXPECT_EQ(hang.exit_code, 1) << hang.output;
  const std::string hang_cases = ReadFile(hang_out + "/cases.csv");
  EXPECT_GE(Count(hang_cases, ",timeout,"), 2) << hang_cases;
}

// Output elements of every layer of a case file (what a person reading the shrunk case checks).
int64_t OutputElements(const std::string& case_file) {
  const Case c = LoadCaseFile(case_file);
  std::vector<std::vector<int64_t>> shapes;  // node outputs
  int64_t n = 0;
  for (size_t l = 0; l < c.model.layers.size(); ++l) {
    std::vector<std::vector<int64_t>> in;
    for (int id : LayerInputIds(c.model, l)) in.push_back(id < 0 ? c.model.input.shape : shapes[id]);
    shapes.push_back(LayerOutputShape(c.model.layers[l], in));
    int64_t e = 1;
    for (int64_t d : shapes.back()) e *= d;
    n += e;
  }
  return n;
}

// Detection power: every mutant of tests/kernel/mutants is a finding of a short QNNPACK campaign,
// and its smallest shrunk case has at most 8 output elements. Prints the table of the README.
TEST(KernelColumn, EveryMutantIsAFindingShrunkToAtMostEightOutputs) {
  TempDir dir;
  std::printf("%-26s %6s %9s %8s  %s\n", "mutant", "exit", "findings", "outputs", "classes");
  for (const NamedPlugin& m : ParsePluginList(QDIFF_MUTANT_PLUGINS)) {
    const std::string out = (dir.path() / m.name).string();
    const Result r = Qdiff(KernelRun(m.path, out, 300));
    EXPECT_EQ(r.exit_code, 1) << m.name << " survived:\n" << r.output;
    int64_t smallest = -1, findings = 0;
    std::string classes;
    if (fs::exists(out + "/findings")) {
      for (const auto& e : fs::directory_iterator(out + "/findings")) {
        const std::string name = e.path().filename().string();
        if (name.find(".kernel.") == std::string::npos || name.find(".shrunk.json") == std::string::npos) continue;
        ++findings;
        const int64_t n = OutputElements(e.path().string());
        smallest = smallest < 0 ? n : std::min(smallest, n);
      }
    }
    for (size_t p = r.output.find("/kernel/"); p != std::string::npos; p = r.output.find("/kernel/", p + 1)) {
      const size_t end = r.output.find(':', p);
      classes += (classes.empty() ? "" : ",") + r.output.substr(p + 8, end - p - 8);
    }
    std::printf("%-26s %6d %9lld %8lld  %s\n", m.name.c_str(), r.exit_code,
                static_cast<long long>(findings), static_cast<long long>(smallest), classes.c_str());
    EXPECT_GE(smallest, 1) << m.name << ": no shrunk kernel finding";
    EXPECT_LE(smallest, 8) << m.name;
  }
}

// `qdiff inputs` + `qdiff check`: outputs written by code qdiff cannot load. The "device" here is
// qnnpack_fp32's recipe run on the input values read back from the exported file.
TEST(KernelColumn, InputsExportAndCheckOutputsRoundTrip) {
  TempDir dir;
  const std::string case_file = (dir.path() / "lin.json").string();
  GeneratorSettings only_linear;
  only_linear.ops = {OpKind::kLinear};
  Case c;
  c.id = "lin";
  c.model = GenerateModel(7, only_linear).model;
  c.engines = {Engine::kQnnpack};
  ASSERT_EQ(c.model.layers.size(), 1u);
  SaveCaseFile(c, case_file);
  const std::string inputs = (dir.path() / "in").string(), outputs = (dir.path() / "out").string();
  const Result exported = Qdiff("inputs " + Quote(case_file) + " --engine qnnpack --out " + Quote(inputs));
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  const nlohmann::json in = nlohmann::json::parse(ReadFile(inputs + "/lin.layer0.input.json"));
  QTensor x = c.model.input;
  x.values = in["input"]["values"].get<std::vector<int32_t>>();
  const std::vector<int32_t> y =
      RunIntegerLayer(c.model.layers[0], x, GetScheme(Scheme::kQnnpackFp32).recipe).out;
  ASSERT_EQ(in["channels"].size(), static_cast<size_t>(LayerOutChannels(c.model.layers[0])));
  fs::create_directories(outputs);
  auto write_json = [&](const std::vector<int32_t>& v) {
    std::ofstream(outputs + "/lin.layer0.json") << nlohmann::json{{"values", v}}.dump();
  };
  const std::string check = "check " + Quote(case_file) + " --outputs " + Quote(outputs) + " --engine qnnpack";
  write_json(y);
  const Result same = Qdiff(check);
  EXPECT_EQ(same.exit_code, 0) << same.output;
  std::vector<int32_t> off = y;
  off[0] = off[0] == 255 ? 254 : off[0] + 1;
  write_json(off);
  const Result differs = Qdiff(check);
  EXPECT_EQ(differs.exit_code, 1) << differs.output;
  EXPECT_NE(differs.output.find("layer 0 element 0"), std::string::npos) << differs.output;
  off.push_back(0);
  write_json(off);
  const Result wrong_count = Qdiff(check);
  EXPECT_EQ(wrong_count.exit_code, 2) << wrong_count.output;
  EXPECT_NE(wrong_count.output.find("lin.layer0"), std::string::npos) << wrong_count.output;
  off.pop_back();
  off[0] = 300;
  write_json(off);
  const Result out_of_range = Qdiff(check);
  EXPECT_EQ(out_of_range.exit_code, 2) << out_of_range.output;
  EXPECT_NE(out_of_range.output.find("values[0]"), std::string::npos) << out_of_range.output;
  fs::remove(outputs + "/lin.layer0.json");  // raw bytes instead
  std::ofstream raw(outputs + "/lin.layer0.u8", std::ios::binary);
  for (int32_t v : y) raw.put(static_cast<char>(v));
  raw.close();
  EXPECT_EQ(Qdiff(check).exit_code, 0);
}

}  // namespace
}  // namespace qdiff
