// `qdiff seed-example` on the forum model PyTorch built at build time (make_models.py, the
// fixtures of model_test.cc), checked against PyTorch's side alone: tests/e2e/data/
// seed_example_reference.py reads the QuantStub's qparams from the file, quantizes the first
// input and counts where gemmlowp's double rounding differs from LibTorch's int_repr() on the
// same swept input, with no qdiff code.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "harness/torch/libtorch_runner.h"
#include "tests/support/qdiff_process.h"

namespace qdiff {
namespace {

const std::string kFixtures = QDIFF_MODEL_FIXTURES;

// Why the fixtures are missing, or "".
std::string FixturesUnavailable() {
  std::ifstream in(kFixtures + "/MANIFEST.txt");
  if (!in) return kFixtures + "/MANIFEST.txt is missing (build the tests)";
  std::string first;
  std::getline(in, first);
  return first.rfind("# unavailable", 0) == 0 ? first : "";
}

#define FIXTURES_OR_SKIP()                                              \
  if (const std::string why = FixturesUnavailable(); !why.empty()) \
  GTEST_SKIP() << "no model fixtures: " << why

std::string Fixture(const std::string& model, Engine engine) {
  return kFixtures + "/" + model + "_" + EngineName(engine) + "_script.pt";
}

// seed_example_reference.py's key=value lines.
std::map<std::string, std::string> Reference(const std::string& model_file, Engine engine) {
  const Result r = RunShell(Quote(QDIFF_PYTHON) + " " +
                            Quote(std::string(QDIFF_SOURCE_DIR) + "/tests/e2e/data/seed_example_reference.py") +
                            " " + Quote(model_file) + " " + EngineName(engine) + " 2>/dev/null");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::map<std::string, std::string> kv;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return kv;
}

// The "=== engine ===" sections of the output.
std::map<std::string, std::string> Sections(const std::string& output) {
  std::map<std::string, std::string> sections;
  const std::regex head(R"(^=== (\w+) ===$)");
  std::string current;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_match(line, m, head)) {
      current = m[1];
      continue;
    }
    if (!current.empty()) sections[current] += line + "\n";
  }
  return sections;
}

// The first match of `re` in `text` (its groups), or an empty match.
std::smatch Find(const std::string& text, const std::string& re) {
  std::smatch m;
  std::regex_search(text, m, std::regex(re));
  return m;
}

TEST(SeedExample, QuantStubShowsTheModelsQParamsAndPyTorchsCode) {
  FIXTURES_OR_SKIP();
  const Result r = Qdiff("seed-example");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::map<std::string, std::string> sections = Sections(r.output);
  for (Engine engine : AvailableEngines()) {
    SCOPED_TRACE(EngineName(engine));
    ASSERT_EQ(sections.count(EngineName(engine)), 1u) << r.output;
    const std::string& text = sections.at(EngineName(engine));
    std::map<std::string, std::string> ref = Reference(Fixture("forum_eager", engine), engine);
    ASSERT_TRUE(ref.count("s_x") && ref.count("z_x") && ref.count("x0") && ref.count("xq0"));
    const std::smatch q = Find(text, R"(QuantStub \(aten::quantize_per_tensor\): s_x = \S+ \((\S+)\), z_x = (-?\d+), quint8 \[0, 255\])");
    ASSERT_FALSE(q.empty()) << text;
    EXPECT_EQ(std::strtod(q[1].str().c_str(), nullptr), std::strtod(ref["s_x"].c_str(), nullptr)) << q[0];
    EXPECT_EQ(q[2].str(), ref["z_x"]) << q[0];
    EXPECT_NE(text.find("x_q = clamp(z_x + RNE(f32(x * f32(1/f32(s_x)))), 0, 255)"), std::string::npos) << text;
    // Element 0 is torch.randn's first value; the code shown, qdiff's and LibTorch's, is PyTorch's.
    const std::smatch e = Find(text, R"(element 0: x = \S+ \((\S+)\): .*, clamp -> (\d+);  LibTorch x_q = (\d+))");
    ASSERT_FALSE(e.empty()) << text;
    EXPECT_EQ(std::strtod(e[1].str().c_str(), nullptr), std::strtod(ref["x0"].c_str(), nullptr)) << e[0];
    EXPECT_EQ(e[2].str(), ref["xq0"]) << e[0];
    EXPECT_EQ(e[3].str(), ref["xq0"]) << e[0];
    EXPECT_NE(text.find("hits 256 of 256 codes"), std::string::npos) << text;
  }
}

// The engine recipes qdiff's fingerprint names on this LibTorch (README, fingerprint).
std::string ExpectedOwnRecipe(Engine engine) {
  switch (engine) {
    case Engine::kQnnpack: return "qnnpack_fp32";
    case Engine::kOnednn: return "onednn_fp32";
    default: return "";
  }
}

// Per engine: exactly one table row marks the engine's own recipe, the expected one, with 0
// differing outputs of all the model's outputs; the Q31 row's count is the one PyTorch's side
// counts, and the conclusion matches it.
void CheckRecipeTable(const std::string& args, const std::string& model) {
  const Result r = Qdiff(args);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::map<std::string, std::string> sections = Sections(r.output);
  const std::regex own_row(R"(^  (\w+)\s+<- (\w+)'s own recipe\s+(\d+) / (\d+) differ$)");
  for (Engine engine : AvailableEngines()) {
    SCOPED_TRACE(std::string(EngineName(engine)) + " " + args);
    ASSERT_EQ(sections.count(EngineName(engine)), 1u) << r.output;
    const std::string& text = sections.at(EngineName(engine));
    std::map<std::string, std::string> ref =
        Reference(model.empty() ? Fixture("forum_eager", engine) : model, engine);
    ASSERT_TRUE(ref.count("outputs") && ref.count("q31_mismatches"));
    int own_rows = 0;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      std::smatch m;
      if (!std::regex_match(line, m, own_row)) continue;
      ++own_rows;
      EXPECT_EQ(m[2].str(), EngineName(engine)) << line;
      if (!ExpectedOwnRecipe(engine).empty()) {
        EXPECT_EQ(m[1].str(), ExpectedOwnRecipe(engine)) << line;
      }
      EXPECT_EQ(m[3].str(), "0") << line;
      EXPECT_EQ(m[4].str(), ref["outputs"]) << line;
    }
    EXPECT_EQ(own_rows, 1) << text;
    const std::smatch q31 = Find(text, R"(double_rounding \(Q31 M0\+shift, gemmlowp\)\s+(\d+) / (\d+) differ)");
    ASSERT_FALSE(q31.empty()) << text;
    EXPECT_EQ(q31[1].str(), ref["q31_mismatches"]) << q31[0];
    EXPECT_EQ(q31[2].str(), ref["outputs"]) << q31[0];
    if (ref["q31_mismatches"] == "0") {
      EXPECT_NE(text.find("no input makes Q31 differ from LibTorch on this model"), std::string::npos) << text;
    } else {
      EXPECT_NE(text.find("-> Q31 differs from LibTorch on " + ref["q31_mismatches"] + " of " + ref["outputs"]),
                std::string::npos) << text;
      EXPECT_NE(text.find("  double_rounding: double_rounding "), std::string::npos) << text;  // classified
    }
  }
}

// The forum model itself: on the 256 swept codes (every accumulator its one weight can make)
// Q31 matches LibTorch on this machine, which the output must say rather than invent a difference.
TEST(SeedExample, ForumModelOwnRecipeMarkedExactAndQ31AsPyTorchCounts) {
  FIXTURES_OR_SKIP();
  CheckRecipeTable("seed-example", "");
}

// The ties fixture (power-of-two scales, odd z_y: exact halves): Q31 does differ, and so does the
// zero point order (ONEDNN adds z_y before rounding), so the own recipes are told apart.
TEST(SeedExample, TiesModelQ31DiffersAsPyTorchCounts) {
  FIXTURES_OR_SKIP();
  for (Engine engine : AvailableEngines()) {
    const std::string model = Fixture("ties_conv_manual", engine);
    const std::map<std::string, std::string> ref = Reference(model, engine);
    ASSERT_TRUE(ref.count("q31_mismatches"));
    EXPECT_GT(std::stoll(ref.at("q31_mismatches")), 0) << model;
    if (engine == AvailableEngines().front()) CheckRecipeTable("seed-example --model " + Quote(model), model);
  }
}

TEST(SeedExample, BadModelOrInputExitsTwoNamingTheFile) {
  FIXTURES_OR_SKIP();
  const fs::path dir = fs::temp_directory_path() / ("qdiff-seed-example-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string garbage = (dir / "garbage.pt").string();
  std::ofstream(garbage) << "not a zip";
  const std::string missing = (dir / "missing.pt").string();
  const std::string other_shape = Fixture("rescnn_eager", Engine::kQnnpack);
  for (const std::string& args :
       {"--model " + Quote(missing), "--model " + Quote(garbage), "--model " + Quote(other_shape),
        "--model " + Quote(dir.string()), "--input " + Quote(garbage)}) {
    SCOPED_TRACE(args);
    const Result r = Qdiff("seed-example " + args);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    const std::string file = args.substr(args.find('\'') + 1, args.rfind('\'') - args.find('\'') - 1);
    EXPECT_NE(r.output.find("qdiff: "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(file), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("=== "), std::string::npos) << r.output;  // no report half-printed
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace qdiff
