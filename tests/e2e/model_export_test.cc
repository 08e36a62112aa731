// `qdiff export`: the C reference program (tests/model_export/reference.c), compiled here from the
// exported header, recomputes every conv2d/linear layer of a fixture model from the header alone
// and must reproduce LibTorch's int_repr() bit for bit on each engine; its Q31 form must differ
// in exactly as many elements as qdiff's double_rounding scheme reports in model.json. The ties
// fixture (power-of-two scales, odd output zero point) lands on exact halves, where the engines'
// zero-point order and bias forms differ.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>

#include "tests/support/qdiff_process.h"

namespace qdiff {
namespace {

struct Built {
  Result exported, engine_run, q31_run;
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
  const fs::path exe = dir / "reference";
  const Result cc = RunShell(std::string(QDIFF_C_COMPILER) + " -std=c99 -O2 -ffp-contract=off -I" +
                             Quote(dir.string()) + " -DQDIFF_HEADER='\"model.h\"' " +
                             Quote(std::string(QDIFF_SOURCE_DIR) + "/tests/model_export/reference.c") +
                             " -o " + Quote(exe.string()) + " -lm 2>&1");
  EXPECT_EQ(cc.exit_code, 0) << cc.output;
  b.engine_run = RunShell(Quote(exe.string()) + " 2>&1");
  b.q31_run = RunShell("QDIFF_Q31=1 " + Quote(exe.string()) + " 2>&1");
  return b;
}

TEST(ModelExportE2E, CReferenceReproducesEveryConvAndLinearLayerOnEachEngine) {
  const std::string dir_fixtures = QDIFF_MODEL_FIXTURES;
  for (const std::string engine : {"qnnpack", "onednn"}) {
    for (const auto& [model, shape] : {std::pair<std::string, std::string>{"rescnn_eager", "1,3,32,32"},
                                       {"forum_eager", "1,1,4,4"},
                                       {"ties_manual", "1,1,8,8"}}) {
      const std::string file = dir_fixtures + "/" + model + "_" + engine + "_script.pt";
      if (!fs::exists(file)) GTEST_SKIP() << file << " missing (model fixtures unavailable)";
      SCOPED_TRACE(file);
      TempDir dir;
      const Built b = ExportAndRun(file, engine, shape, dir.path());
      ASSERT_EQ(b.exported.exit_code, 0) << b.exported.output;
      EXPECT_EQ(b.json.at("engine"), engine);
      const size_t layers = b.json.at("layers").size();
      EXPECT_EQ(layers, model == "rescnn_eager" ? 7u : 1u);  // 6 convs + fc; one conv
      EXPECT_EQ(b.engine_run.exit_code, 0) << b.engine_run.output;
      EXPECT_TRUE(std::regex_search(b.engine_run.output,
                                    std::regex(engine + ": " + std::to_string(layers) +
                                               R"( layers, [1-9]\d* elements, 0 mismatches \(engine binary32\))")))
          << b.engine_run.output;
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
