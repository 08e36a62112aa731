// `qdiff model` on real quantized models that PyTorch itself built at build time
// (scripts/fixtures/make_models.py --set test: eager, FX and dynamic flows, scripted and traced,
// per engine; MANIFEST.txt lists each file, its input shape and how many quantized:: nodes
// PyTorch's own inlined graph holds). Every layer must be checked and reproduced bit for bit by
// the engine's recipe; unknown nodes are named; bad files exit 2 naming the file; saved layer
// cases replay.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "harness/case/case_json.h"
#include "tests/support/qdiff_process.h"

namespace qdiff {
namespace {

struct Fixture {
  std::string file;   // path
  std::string shape;  // "1,3,64,64"
  int64_t quantized_nodes = 0;
};

// The manifest's fixtures, or a reason to skip.
std::vector<Fixture> Fixtures(std::string* unavailable) {
  std::ifstream in(std::string(QDIFF_MODEL_FIXTURES) + "/MANIFEST.txt");
  if (!in) {
    *unavailable = std::string(QDIFF_MODEL_FIXTURES) + "/MANIFEST.txt is missing (build the tests)";
    return {};
  }
  std::vector<Fixture> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# unavailable", 0) == 0) {
      *unavailable = line;
      return {};
    }
    std::istringstream words(line);
    Fixture f;
    if (words >> f.file >> f.shape >> f.quantized_nodes) {
      f.file = std::string(QDIFF_MODEL_FIXTURES) + "/" + f.file;
      out.push_back(f);
    }
  }
  return out;
}

#define FIXTURES_OR_SKIP(var)                                  \
  std::string unavailable;                                     \
  const std::vector<Fixture> var = Fixtures(&unavailable);     \
  if (var.empty()) GTEST_SKIP() << "no model fixtures: " << unavailable

const Fixture* Find(const std::vector<Fixture>& all, const std::string& name) {
  for (const Fixture& f : all) {
    if (fs::path(f.file).filename() == name) return &f;
  }
  return nullptr;
}

// The per-engine lines of `qdiff model`'s output.
struct EngineLine {
  std::string engine;
  int64_t layers = -1, formulas = -1, skipped = -1, elements = -1;
  int64_t engine_mismatches = -1, unexplained = -1;
};

std::vector<EngineLine> ParseEngines(const std::string& output) {
  std::vector<EngineLine> lines;
  const std::regex head(R"((\w+): input \S+; (\d+) layers and (\d+) quantize/dequantize/dynamic nodes checked, (\d+) skipped, \d+ data movement; (\d+) elements)");
  const std::regex tail(R"((\w+): engine recipe mismatches (\d+), unexplained (\d+);)");
  std::istringstream in(output);
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, head)) {
      EngineLine e;
      e.engine = m[1];
      e.layers = std::stoll(m[2]);
      e.formulas = std::stoll(m[3]);
      e.skipped = std::stoll(m[4]);
      e.elements = std::stoll(m[5]);
      lines.push_back(e);
    } else if (std::regex_search(line, m, tail) && !lines.empty() && lines.back().engine == m[1].str()) {
      lines.back().engine_mismatches = std::stoll(m[2]);
      lines.back().unexplained = std::stoll(m[3]);
    }
  }
  return lines;
}

// The node kinds a fixture may skip, by model: channel_mean's mean over channels (no recipe, on
// purpose) and the float ops around a dynamic model's linears. Nothing else: ShuffleNetV2's
// x.mean([2, 3]) and MobileNetV3's hardsigmoid are layers, and skipping them fails the test.
std::set<std::string> AllowedSkips(const std::string& file) {
  const std::string name = fs::path(file).filename().string();
  if (name.rfind("channel_mean", 0) == 0) return {"aten::mean"};
  if (name.find("_dynamic_") != std::string::npos) return {"aten::to", "aten::relu"};
  return {};
}

// Every fixture on every engine: layers checked (at least every quantized:: node PyTorch's own
// graph holds), only the known-unknown kinds skipped, the engine's recipe reproduces each layer
// bit for bit, nothing unexplained, exit 0.
TEST(ModelE2E, EveryFixtureLayerIsReproducedByTheEngineRecipe) {
  FIXTURES_OR_SKIP(fixtures);
  for (const Fixture& f : fixtures) {
    SCOPED_TRACE(f.file);
    const Result r = Qdiff("model " + Quote(f.file) + " --input-shape " + f.shape + " --quiet");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    const std::set<std::string> allowed = AllowedSkips(f.file);
    const std::regex skip_line(R"(\n  skipped (\S+) at )");
    for (std::sregex_iterator it(r.output.begin(), r.output.end(), skip_line), end; it != end; ++it) {
      EXPECT_EQ(allowed.count((*it)[1].str()), 1u) << "skipped " << (*it)[1] << "\n" << r.output;
    }
    const std::vector<EngineLine> engines = ParseEngines(r.output);
    ASSERT_GE(engines.size(), 1u) << r.output;
    for (const EngineLine& e : engines) {
      SCOPED_TRACE(e.engine);
      EXPECT_GT(e.layers + e.formulas, 0);
      EXPECT_GT(e.elements, 0);
      // linear_dynamic is a quantized:: node checked as a formula node, not a layer case.
      EXPECT_GE(e.layers + e.formulas, f.quantized_nodes) << r.output;
      if (f.file.find("_dynamic_") == std::string::npos) {
        EXPECT_GE(e.layers, f.quantized_nodes);
      }
      EXPECT_EQ(e.engine_mismatches, 0) << r.output;
      EXPECT_EQ(e.unexplained, 0) << r.output;
    }
  }
}

// A node qdiff has no recipe for is named with its source line and why, and the layers after it
// are still checked on LibTorch's captured inputs: channel_mean's x.mean(1, keepdim=True) sits
// between conv1 and conv2.
TEST(ModelE2E, UnknownNodeIsNamedAndLaterLayersAreChecked) {
  FIXTURES_OR_SKIP(fixtures);
  const Fixture* f = Find(fixtures, "channel_mean_eager_qnnpack_script.pt");
  ASSERT_NE(f, nullptr);
  const Result r = Qdiff("model " + Quote(f->file) + " --input-shape " + f->shape + " --engines qnnpack");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::regex_search(r.output, std::regex(R"(skipped aten::mean at \S.*\.py:\d+\): mean over dims \[1\] \(qdiff's mean is over H and W)")))
      << r.output;
  EXPECT_TRUE(std::regex_search(r.output, std::regex(R"(\n\d+\s+conv2\s+conv2d\s+1x2x6x6\s+72\s+qnnpack_fp32\s+0 )")))
      << r.output;
  // The verdict line passes the checked layers and says that a node was not checked.
  EXPECT_NE(r.output.find(f->file + ": PASS (1 node(s) skipped, named above)"), std::string::npos) << r.output;
}

// ShuffleNetV2's x.mean([2, 3]) before the classifier (top level: no module path) is a layer on
// both engines: QNNPACK's global
// average pooling there, the generic path on ONEDNN (conv5's output is channels-last). The
// channel shuffle's data movement is counted.
TEST(ModelE2E, ShuffleNetMeanIsCheckedBeforeTheClassifier) {
  FIXTURES_OR_SKIP(fixtures);
  const Fixture* f = Find(fixtures, "shufflenet_v2_eager_qnnpack_trace.pt");
  ASSERT_NE(f, nullptr);
  const Result r = Qdiff("model " + Quote(f->file) + " --input-shape " + f->shape);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("skipped aten::mean"), std::string::npos) << r.output;
  for (const char* recipe : {"mean\\.qnnpack", "mean\\.generic"}) {
    EXPECT_TRUE(std::regex_search(r.output, std::regex(std::string(R"(\n\d+\s+mean\s+1x1024\s+1024\s+)") + recipe + R"(\s+0 )")))
        << recipe << "\n" << r.output;
  }
  EXPECT_TRUE(std::regex_search(r.output, std::regex(R"(\n\d+\s+fc\s+linear\s+1x1000\s+1000\s+qnnpack_fp32\s+0 )")))
      << r.output;
  EXPECT_NE(r.output.find("data movement (no arithmetic, not compared): aten::chunk"), std::string::npos);
}

TEST(ModelE2E, NotTorchScriptAndTruncatedFilesExit2NamingTheFile) {
  FIXTURES_OR_SKIP(fixtures);
  TempDir dir;
  const fs::path json = dir.path() / "case.pt", cut = dir.path() / "cut.pt";
  WriteFile(json, "{\"format\": \"qdiff-case\"}\n");
  const std::string whole = ReadFile(fixtures[0].file);
  WriteFile(cut, whole.substr(0, whole.size() / 2));
  for (const fs::path& p : {json, cut}) {
    const Result r = Qdiff("model " + Quote(p.string()) + " --input-shape 1,1,4,4");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(p.string() + ": not a TorchScript file or truncated"), std::string::npos)
        << r.output;
  }
  // A zip archive PyTorch wrote with torch.save (a tensor, not a module): the archive is read,
  // and refused as not TorchScript.
  const fs::path saved = dir.path() / "tensor.pt";
  const Result py = RunShell(std::string(QDIFF_PYTHON) + " -c \"import torch; torch.save(torch.zeros(2), '" +
                             saved.string() + "')\" 2>&1");
  ASSERT_EQ(py.exit_code, 0) << py.output;
  const Result tensor = Qdiff("model " + Quote(saved.string()) + " --input-shape 1,1,4,4");
  EXPECT_EQ(tensor.exit_code, 2) << tensor.output;
  EXPECT_NE(tensor.output.find(saved.string() + ": a PyTorch zip archive but not a TorchScript module"),
            std::string::npos) << tensor.output;
  const Result missing = Qdiff("model " + Quote((dir.path() / "none.pt").string()) + " --input-shape 1");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("none.pt: no such file"), std::string::npos) << missing.output;
}

// A float model (TorchScript, but never quantized) has nothing to check or export: exit 2 with why,
// not PASS or an empty header.
TEST(ModelE2E, FloatModelExits2SayingItIsNotQuantized) {
  FIXTURES_OR_SKIP(fixtures);
  TempDir dir;
  const fs::path model = dir.path() / "float.pt";
  const Result py = RunShell(std::string(QDIFF_PYTHON) +
                             " -c \"import torch; m = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 1), torch.nn.ReLU()).eval(); "
                             "torch.jit.save(torch.jit.script(m), '" + model.string() + "')\" 2>&1");
  ASSERT_EQ(py.exit_code, 0) << py.output;
  const Result r = Qdiff("model " + Quote(model.string()) + " --input-shape 1,1,4,4");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(model.string() + ": no quantized node"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("PASS"), std::string::npos) << r.output;
  const Result ex = Qdiff("export " + Quote(model.string()) + " --engine qnnpack --input-shape 1,1,4,4 --out " +
                          Quote((dir.path() / "export").string()));
  EXPECT_EQ(ex.exit_code, 2) << ex.output;
  EXPECT_NE(ex.output.find(model.string() + ": no quantized node"), std::string::npos) << ex.output;
  EXPECT_FALSE(fs::exists(dir.path() / "export" / "model.h")) << ex.output;
}

// --save-cases writes each layer as a case; replay and explain accept them, including a
// residual add whose two operands are both LibTorch's captured tensors (extra_inputs).
TEST(ModelE2E, SavedLayerCasesReplay) {
  FIXTURES_OR_SKIP(fixtures);
  const Fixture* f = Find(fixtures, "rescnn_eager_qnnpack_script.pt");
  ASSERT_NE(f, nullptr);
  TempDir dir;
  const Result r = Qdiff("model " + Quote(f->file) + " --input-shape " + f->shape +
                         " --quiet --engines qnnpack --save-cases " + Quote((dir.path() / "cases").string()) +
                         " --out " + Quote((dir.path() / "out").string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  int saved = 0, binary = 0;
  for (const auto& entry : fs::directory_iterator(dir.path() / "cases")) {
    ++saved;
    const Case c = LoadCaseFile(entry.path().string());
    binary += !c.model.extra_inputs.empty();
    const Result replay = Qdiff("replay " + Quote(entry.path().string()) + " --quiet");
    EXPECT_EQ(replay.exit_code, 0) << entry.path() << replay.output;
  }
  EXPECT_EQ(saved, ParseEngines(r.output).at(0).layers);
  EXPECT_EQ(binary, 2);  // block1.skip and block2.skip: add_relu(y, x)
  const Result explain = Qdiff("explain " + Quote((dir.path() / "cases" / "qnnpack-l005-block1.skip.json").string()) +
                               " --element 3");
  EXPECT_EQ(explain.exit_code, 0) << explain.output;
  // The add case as a standalone torch script (x2 = the second operand): exits 0 when LibTorch
  // agrees with qdiff's recipe.
  const fs::path script = dir.path() / "add.py";
  const Result rep = Qdiff("reproduce " + Quote((dir.path() / "cases" / "qnnpack-l005-block1.skip.json").string()) +
                           " --out " + Quote(script.string()));
  ASSERT_EQ(rep.exit_code, 0) << rep.output;
  const Result py = RunShell(std::string(QDIFF_PYTHON) + " " + Quote(script.string()) + " 2>&1");
  EXPECT_EQ(py.exit_code, 0) << py.output;
  EXPECT_NE(py.output.find("add_relu: all 512 elements agree"), std::string::npos) << py.output;
  for (const char* csv : {"cases.csv", "discrepancies.csv", "summary.csv", "ops.csv"}) {
    EXPECT_TRUE(fs::exists(dir.path() / "out" / csv)) << csv;
  }
}

}  // namespace
}  // namespace qdiff
