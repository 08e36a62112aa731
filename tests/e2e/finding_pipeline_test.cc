// The finding pipeline end to end, proven with an injected defect (harness/evaluation/injected_defect.h):
// a campaign finds it, shrinks it, writes the case JSON, confirms it in a fresh process, and
// `qdiff replay` of the file (a separate process, as on a clean build) fails the same way.
// Without the defect, the same campaign finds nothing.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <map>
#include <set>
#include <nlohmann/json.hpp>

#include "harness/torch/libtorch_runner.h"
#include "harness/evaluation/shrink.h"
#include "reports/summary.h"
#include "tests/support/qdiff_process.h"

namespace qdiff {
namespace {

// The defect changes the requantization recipes, so the campaign runs conv2d and linear only.
// A default op list would also draw conv_transpose2d, whose ONEDNN/AVX-512 kernel has a real
// LibTorch finding (garbage in stride holes, corpora/onednn_deconv_stride_holes.json) that shows
// with or without the defect and is not what this test is about.
constexpr const char* kCampaign = "run --cases 150 --seed 7 --ops conv2d,linear";

TEST(FindingPipeline, InjectedTieDefectIsFoundShrunkSavedAndReplayed) {
  TempDir dir;
  const std::string out = (dir.path() / "run").string();
  const Result run = Qdiff(std::string(kCampaign) + " --inject-defect ties_up --out " + Quote(out));
  ASSERT_EQ(run.exit_code, 1) << run.output;
  const nlohmann::json run_json = nlohmann::json::parse(ReadFile(out + "/run.json"));
  const nlohmann::json& findings = run_json.at("findings");
  ASSERT_GT(findings.size(), 0u);
  for (const nlohmann::json& f : findings) {
    const std::string file = f.at("file");
    EXPECT_FALSE(f.at("state_dependent").get<bool>()) << file;
    EXPECT_LT(f.at("size_after").get<int64_t>(), f.at("size_before").get<int64_t>()) << file;
    // The saved file replays in a new process and still fails, on the signature's engine/scheme.
    const Result replay = Qdiff("replay " + Quote(file));
    EXPECT_EQ(replay.exit_code, 1) << replay.output;
    const std::string signature = f.at("signature");  // op/engine/scheme/unexplained
    const std::string engine = signature.substr(signature.find('/') + 1,
                                                signature.find('/', signature.find('/') + 1) -
                                                    signature.find('/') - 1);
    EXPECT_NE(replay.output.find(engine), std::string::npos) << replay.output;
    EXPECT_NE(replay.output.find("unexplained"), std::string::npos) << replay.output;
  }
  std::cout << "[ findings ] " << findings.size() << " signatures\n";
}

// One finding per root cause: the injected defect makes every scheme's conv2d and linear layers
// unexplained, and that is one finding per (failing layer's op, engine) naming the schemes it
// affects, not one per scheme. Expected groups come from discrepancies.csv, not from the findings.
TEST(FindingPipeline, InjectedDefectIsOneFindingPerOpAndEngineNamingItsSchemes) {
  TempDir dir;
  const std::string out = (dir.path() / "run").string();
  const Result run = Qdiff(std::string(kCampaign) + " --inject-defect ties_up --out " + Quote(out));
  ASSERT_EQ(run.exit_code, 1) << run.output;
  std::map<std::string, std::set<std::string>> expected;  // "op/engine/unexplained" → schemes
  for (const DiscrepancyRow& d : ReadDiscrepancies(out + "/discrepancies.csv")) {
    if (d.cls != DiffClass::kUnexplained) continue;
    std::string op = d.layer_op;
    if (op == "conv2d_relu" || op == "linear_relu") op.resize(op.size() - 5);  // the op's family
    expected[op + "/" + d.engine + "/unexplained"].insert(d.scheme);
  }
  ASSERT_FALSE(expected.empty());
  std::map<std::string, std::set<std::string>> found;
  const nlohmann::json record = nlohmann::json::parse(ReadFile(out + "/run.json"));
  for (const nlohmann::json& f : record.at("findings")) {
    const auto schemes = f.at("schemes").get<std::vector<std::string>>();
    EXPECT_TRUE(found.emplace(f.at("signature").get<std::string>(), std::set<std::string>(schemes.begin(), schemes.end())).second)
        << "two findings with signature " << f.at("signature");
    EXPECT_GT(f.at("count").get<int64_t>(), 0);
    EXPECT_NE(f.at("explain").get<std::string>().find("qdiff explain " + f.at("file").get<std::string>() + " --element "),
              std::string::npos) << f.dump();
  }
  EXPECT_EQ(found, expected);
  // The console shows the same grouping: one "finding" line per group, with its commands.
  size_t lines = 0;
  for (size_t p = run.output.find("\nfinding "); p != std::string::npos; p = run.output.find("\nfinding ", p + 1)) ++lines;
  EXPECT_EQ(lines, expected.size()) << run.output;
  for (const auto& [key, schemes] : expected) {
    EXPECT_NE(run.output.find("finding " + key + ": "), std::string::npos) << key << "\n" << run.output;
  }
  std::cout << "[ findings ] " << found.size() << " root causes\n";
}

TEST(FindingPipeline, WithoutTheDefectNothingIsFound) {
  TempDir dir;
  const Result run =
      Qdiff(std::string(kCampaign) + " --out " + Quote((dir.path() / "run").string()));
  EXPECT_EQ(run.exit_code, 0) << run.output;
}

// A 64-channel conv where the defect shows on a handful of elements shrinks to a few elements.
TEST(FindingPipeline, SixtyFourChannelConvShrinksToAHandfulOfElements) {
  InitLibTorch();
  Case c;
  c.id = "shrink-64";
  c.injected_defect = "ties_up";
  Model& m = c.model;
  m.input = QTensor{DType::kQUInt8, {1, 8, 6, 6}, {}, {0x1p-3}, {128}, -1};
  for (int64_t i = 0; i < m.input.NumElements(); ++i) m.input.values.push_back(128 + (i * 7) % 5 - 2);
  Layer l;
  l.op = OpKind::kConv2d;
  l.weight = QTensor{DType::kQInt8, {64, 8, 3, 3}, {}, {0x1p-4}, {0}, -1};
  for (int64_t i = 0; i < l.weight.NumElements(); ++i) l.weight.values.push_back((i * 5) % 7 - 3);
  l.out_scale = 0x1p-6;  // M = 1/2: odd accumulators are exact ties
  l.out_zero_point = 128;
  m.layers.push_back(l);
  ASSERT_EQ(ValidateModel(m), "");
  const FailureSignature sig{"conv2d", Engine::kQnnpack, Scheme::kQnnpackFp32, DiffClass::kUnexplained};
  ASSERT_TRUE(FailsTheSameWay(c, sig));
  ShrinkStats stats;
  const Case shrunk =
      ShrinkCase(c, [&](const Case& cand) { return FailsTheSameWay(cand, sig); }, &stats);
  EXPECT_TRUE(FailsTheSameWay(shrunk, sig));
  std::cout << "[ shrink ] " << stats.elements_before << " -> " << stats.elements_after
            << " elements, " << stats.accepted << " steps, " << stats.attempts << " attempts, "
            << stats.seconds << " s\n";
  EXPECT_LE(stats.elements_after, 8);  // e.g. 1 input, 1 weight, 1 output element
}

}  // namespace
}  // namespace qdiff
