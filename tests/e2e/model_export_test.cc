// `qdiff export`: the C reference program (tests/model_export/reference.c), compiled here from the
// exported header, recomputes a fixture model's whole quantized graph from its float input, node
// by node from the C outputs of its producers, and must reproduce LibTorch's int_repr() of every
// node and its dequantized output bit for bit on each engine, in the binary32 form and in the
// integer-only form (built with -mgeneral-regs-only: no float register); its Q31 form must differ
// in exactly as many elements as qdiff's double_rounding scheme reports in model.json. The ties
// fixture (power-of-two scales, odd output zero point) lands on exact halves, where the engines'
// zero-point order and bias forms differ; ShuffleNetV2 has chunk, channel shuffle (view,
// transpose, contiguous) and cat between its layers, and one node without a recipe (aten::mean),
// whose consumer alone starts from LibTorch's tensor.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>

#include "tests/support/qdiff_process.h"

namespace qdiff {
namespace {

struct Built {
  Result exported, engine_run, q31_run, integer_run;
  nlohmann::json json;
};

Built ExportAndRun(const std::string& model, const std::string& engine, const std::string& shape,
                   const fs::path& dir) {
  Built b;
  b.exported = Qdiff("export " + Quote(model) + " --engine " + engine + " --input-shape " + shape +
                     " --out " + Quote(dir.string()));
  if (b.exported.exit_code != 0) return b;
  std::ifstream in(dir / "model.json");
  b.json = nlohmann::json::parse(in);
  // The float form, and the integer-only form built so that no float register may be used.
  auto build = [&](const std::string& name, const std::string& flags) {
    const fs::path exe = dir / name;
    const Result cc = RunShell(std::string(QDIFF_C_COMPILER) + " -std=c99 -O2 -Wall -Werror -ffp-contract=off " +
                               flags + " -I" + Quote(dir.string()) + " -DQDIFF_HEADER='\"model.h\"' " +
                               Quote(std::string(QDIFF_SOURCE_DIR) + "/tests/model_export/reference.c") +
                               " -o " + Quote(exe.string()) + " -lm 2>&1");
    EXPECT_EQ(cc.exit_code, 0) << cc.output;
    return Quote(exe.string());
  };
  const std::string float_exe = build("reference", ""), int_exe = build("reference_int", "-DQDIFF_NO_FLOAT -mgeneral-regs-only");
  b.engine_run = RunShell(float_exe + " 2>&1");
  b.q31_run = RunShell("QDIFF_Q31=1 " + float_exe + " 2>&1");
  b.integer_run = RunShell(int_exe + " 2>&1");
  return b;
}

TEST(ModelExportE2E, CReferenceReproducesTheWholeGraphOnEachEngine) {
  const std::string dir_fixtures = QDIFF_MODEL_FIXTURES;
  for (const std::string engine : {"qnnpack", "onednn"}) {
    for (const auto& [model, shape] : {std::pair<std::string, std::string>{"rescnn_eager", "1,3,32,32"},
                                       {"forum_eager", "1,1,4,4"},
                                       {"ties_manual", "1,1,5,7"},
                                       {"shufflenet_v2_eager", "1,3,64,64"}}) {
      const bool shufflenet = model == "shufflenet_v2_eager";
      const std::string file = dir_fixtures + "/" + model + "_" + engine + (shufflenet ? "_trace.pt" : "_script.pt");
      if (!fs::exists(file)) GTEST_SKIP() << file << " missing (model fixtures unavailable)";
      SCOPED_TRACE(file);
      TempDir dir;
      const Built b = ExportAndRun(file, engine, shape, dir.path());
      ASSERT_EQ(b.exported.exit_code, 0) << b.exported.output;
      EXPECT_EQ(b.json.at("engine"), engine);
      const size_t layers = b.json.at("layers").size();
      EXPECT_EQ(layers, model == "rescnn_eager" ? 7u : shufflenet ? 57u : model == "ties_manual" ? 3u : 1u);  // 6 convs + fc; three convs; one conv
      EXPECT_EQ(b.engine_run.exit_code, 0) << b.engine_run.output;
      EXPECT_TRUE(std::regex_search(b.engine_run.output,
                                    std::regex(engine + ": " + std::to_string(layers) +
                                               R"( layers, [1-9]\d* elements, 0 mismatches \(engine binary32\))")))
          << b.engine_run.output;
      EXPECT_EQ(b.integer_run.exit_code, 0) << b.integer_run.output;
      EXPECT_TRUE(std::regex_search(b.integer_run.output,
                                    std::regex(engine + ": " + std::to_string(layers) +
                                               R"( layers, [1-9]\d* elements, 0 mismatches \(engine recipe, integer-only\))")))
          << b.integer_run.output;
      // The whole graph, chained from the float input: every node has a C form; only ShuffleNet's
      // fc reads LibTorch's tensor (its producer, aten::mean, has no recipe).
      const std::string graph = engine + R"(: whole graph: \d+ nodes, [1-9]\d* elements, 0 mismatches \((engine binary32|engine recipe, integer-only)\); 0 nodes without C form, )" +
                                (shufflenet ? "1" : "0") + " inputs taken from LibTorch; model output bit for bit";
      EXPECT_TRUE(std::regex_search(b.engine_run.output, std::regex(graph))) << b.engine_run.output;
      EXPECT_TRUE(std::regex_search(b.integer_run.output, std::regex(graph))) << b.integer_run.output;
      size_t c_forms = 0;
      for (const auto& n : b.json.at("nodes")) c_forms += !n.at("c_form").is_null();
      EXPECT_EQ(c_forms, b.json.at("nodes").size());
      int64_t double_rounding = 0;
      for (const auto& l : b.json.at("layers")) {
        EXPECT_EQ(l.at("requant").at("recipe"), engine + "_fp32");
        EXPECT_EQ(l.at("mismatches_on_captured_input").at(engine + "_fp32"), 0);
        double_rounding += l.at("mismatches_on_captured_input").at("double_rounding").get<int64_t>();
      }
      EXPECT_NE(b.q31_run.output.find(" " + std::to_string(double_rounding) + " mismatches (Q31 double rounding)"),
                std::string::npos)
          << b.q31_run.output;
    }
  }
}

}  // namespace
}  // namespace qdiff
