// Case: a fully concrete, self-contained test case (docs/design.md#the-case). Everything needed
// to rerun it anywhere, with no generator involved, plus where it came from.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "oracles/engine.h"
#include "oracles/model.h"

namespace qdiff {

// Version of the case-file format written by this build; older versions are read or rejected
// with a message naming the field. 2: ops beyond conv2d/linear, graph inputs, channels_last
// (version 1 files, GEMM chains only, read unchanged).
constexpr int kCaseFormatVersion = 2;

struct Provenance {
  std::string qdiff_version;
  std::string git_hash;
  std::string libtorch_version;
  std::string cpu_flags;   // the flags that change results (e.g. "avx2 avx512_vnni")
  std::string found_by;    // "run --seed 1", "hand-written", "seed-example", ...
  std::string date;        // UTC, ISO 8601
};

struct Case {
  std::string id;
  uint64_t seed = 0;                 // generator seed, 0 if hand-written
  std::string description;           // why this case exists (corpus files say it here)
  std::string expected_verdict;      // corpus: verdict every listed engine/scheme must give, or ""
  Model model;
  std::vector<Engine> engines;       // engines to run; empty = every available engine
  std::vector<std::string> schemes;  // schemes to compare; empty = all
  // Self-test of the finding pipeline only (README "Injected defects"): a named defect applied to
  // every recipe qdiff evaluates for this case, e.g. "ties_up". Empty in real use.
  std::string injected_defect;
  Provenance provenance;
};

// Short op name of a layer for reports: "conv2d", "conv2d_relu", "linear", "linear_relu".
std::string LayerOpName(const Layer& layer);

// One-line shape summary of a layer for reports, e.g. "x1x3x8x8 w4x3x3x3 g1 s1,1 p1,1 d1,1 pc".
std::string LayerShapeSummary(const Layer& layer, const std::vector<int64_t>& in_shape);

// The words after "Requires CPU flags:" in a case description, up to the next '.': the flags
// a finding needs (e.g. avx512f for an AVX-512 oneDNN kernel); empty when it states none.
std::vector<std::string> RequiredCpuFlags(const std::string& description);

}  // namespace qdiff
