// Replays every stored case in corpora/*.json (docs/design.md#folders: every file is replayed by
// the test suite): one test per file, named after it. Each (engine, scheme) row must give the case's
// expected_verdict; rows of engines this LibTorch does not have are skipped.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cctype>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "harness/evaluation/case_evaluation.h"
#include "harness/case/case_json.h"
#include "harness/evaluation/classifier.h"
#include "harness/torch/libtorch_runner.h"
#include "harness/case/provenance.h"

namespace qdiff {
namespace {

namespace fs = std::filesystem;

const fs::path kCorpusDir = fs::path(QDIFF_SOURCE_DIR) / "corpora";

// Sorted, so the test order does not depend on the file system.
std::vector<std::string> CorpusFiles() {
  std::vector<std::string> files;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(kCorpusDir, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// "golden_conv1x1_exact.json" -> "golden_conv1x1_exact"; other characters GoogleTest does not
// allow in a name become '_'.
std::string TestName(const std::string& path) {
  std::string name = fs::path(path).stem().string();
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

bool IsVerdictName(const std::string& name) { return ParseVerdict(name).has_value(); }

// A description may state the last layer's expected int_repr as "Expected int_repr (...): [a,b,...]";
// then every engine that ran the case must produce exactly that.
std::optional<std::vector<int32_t>> StatedOutput(const std::string& description) {
  const size_t at = description.find("Expected int_repr");
  if (at == std::string::npos) return std::nullopt;
  const size_t open = description.find('[', at);
  const size_t close = description.find(']', open);
  if (open == std::string::npos || close == std::string::npos) return std::vector<int32_t>{};
  std::string list = description.substr(open + 1, close - open - 1);
  std::replace(list.begin(), list.end(), ',', ' ');
  std::istringstream s(list);
  std::vector<int32_t> out;
  for (int32_t v; s >> v;) out.push_back(v);
  return out;
}

// A description may state "Requires CPU flags: a b." when the finding needs an instruction set
// (e.g. an AVX-512 oneDNN kernel); the case is skipped on machines without one of the flags
// (CpuFlags() lists the flags qdiff tracks) or with DNNL_MAX_CPU_ISA / ONEDNN_MAX_CPU_ISA /
// ATEN_CPU_CAPABILITY set.
std::string MissingCpuFlag(const std::string& description) {
  const std::vector<std::string> flags = RequiredCpuFlags(description);
  if (flags.empty()) return "";
  if (std::getenv("DNNL_MAX_CPU_ISA") || std::getenv("ONEDNN_MAX_CPU_ISA")) {
    return "an ISA cap (DNNL_MAX_CPU_ISA/ONEDNN_MAX_CPU_ISA)";
  }
  if (std::getenv("ATEN_CPU_CAPABILITY")) return "ATen's kernel choice (ATEN_CPU_CAPABILITY)";
  const std::string have = " " + CpuFlags() + " ";
  for (const std::string& w : flags) {
    if (have.find(" " + w + " ") == std::string::npos) return w;
  }
  return "";
}

TEST(Corpus, HoldsCaseFiles) {
  EXPECT_FALSE(CorpusFiles().empty()) << kCorpusDir << " holds no *.json case files";
}

class CorpusCase : public ::testing::TestWithParam<std::string> {};

TEST_P(CorpusCase, GivesExpectedVerdict) {
  const std::string& path = GetParam();
  InitLibTorch();
  const Case c = LoadCaseFile(path);
  EXPECT_FALSE(c.description.empty()) << path << ": a corpus file says why it is there";
  ASSERT_FALSE(c.expected_verdict.empty()) << path << ": a corpus file states its expected_verdict";
  ASSERT_TRUE(IsVerdictName(c.expected_verdict))
      << path << ": expected_verdict '" << c.expected_verdict << "' is not a verdict";

  // Engine and scheme names were checked by LoadCaseFile; an engine this build lacks (fbgemm and
  // x86 need an official LibTorch) is skipped.
  const std::vector<Engine> engines = CaseEngines(c, AvailableEngines(), nullptr);
  const std::vector<Scheme> schemes = CaseSchemes(c);
  if (engines.empty()) GTEST_SKIP() << "none of the case's engines is available here";
  if (const std::string missing = MissingCpuFlag(c.description); !missing.empty()) {
    GTEST_SKIP() << path << " needs CPU flag " << missing;
  }

  const CaseRuns runs = RunCase(c, engines, schemes);
  const CaseEvaluation ev = EvaluateRuns(c, runs);
  ASSERT_EQ(ev.case_rows.size(), engines.size() * schemes.size());
  for (const CaseRow& row : ev.case_rows) {
    EXPECT_EQ(VerdictName(row.verdict), c.expected_verdict)
        << path << ": engine " << row.engine << ", scheme " << row.scheme << ": "
        << row.mismatches_vs_libtorch << " of " << row.elements << " elements differ, classes '"
        << row.classes << "'" << (row.message.empty() ? "" : ", message: " + row.message)
        << "\n  rerun: qdiff replay " << path;
  }

  if (const std::optional<std::vector<int32_t>> stated = StatedOutput(c.description)) {
    for (size_t e = 0; e < engines.size(); ++e) {
      if (runs.libtorch[e].rejected) continue;
      EXPECT_EQ(runs.libtorch[e].layers.back().values, *stated)
          << path << ": engine " << engines[e] << " vs the output stated in the description";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Files, CorpusCase, ::testing::ValuesIn(CorpusFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return TestName(info.param);
                         });
// An empty corpus is reported by Corpus.HoldsCaseFiles, with a clearer message.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(CorpusCase);

}  // namespace
}  // namespace qdiff
