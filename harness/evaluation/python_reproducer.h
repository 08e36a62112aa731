// `qdiff reproduce`: a standalone Python script (needs only torch) that rebuilds a case's
// quantized tensors from their int_repr values, calls the ops qdiff's LibTorch runner calls
// (harness/torch/libtorch_runner.cc, kOpCalls) and compares LibTorch's int_repr of every layer
// with the values of qdiff's recipe for the engine, embedded in the script. The script exits 1
// while LibTorch disagrees (the bug is present), 0 when every layer agrees, 2 on a setup error.
// The generator itself writes text only; the expected values come from RunCase (the evaluation
// `qdiff replay` uses).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/case/case.h"

namespace qdiff {

// qdiff's expected output of one layer on one engine.
struct ReproducerLayer {
  std::vector<int64_t> shape;
  std::vector<int32_t> values;  // logical row-major (NCHW) order, as int_repr().contiguous()
  std::string recipe;           // GEMM: the engine's scheme; other ops: the engine path's recipe
};

// One engine's expectations: one entry per layer of the case.
struct ReproducerEngine {
  Engine engine;
  std::vector<ReproducerLayer> layers;
};

// The engine's expected values for every layer of `c`: runs the case as `qdiff replay` does
// (RunCase: LibTorch on `engine`, then the integer pipeline with layer l fed LibTorch's own
// outputs of its input layers) and takes, per layer, the pipeline of the engine's recipe:
// EngineScheme(engine, layer, CpuHasVnni(), input dtype) for conv/linear, the engine's own paths
// (SchemePipelineRecipe(EngineOwnScheme(engine))) for the ops without weights. Returns false
// with *rejected = LibTorch's message when LibTorch rejects the case on this engine (then there
// is nothing to reproduce).
bool ReproducerExpectations(const Case& c, Engine engine, ReproducerEngine* out,
                            std::string* rejected);

// What the script's header states besides the case.
struct ReproducerInfo {
  std::string case_path;          // as given on the command line
  std::string script_path;        // where the script is written ("" for stdout)
  std::string libtorch_version;   // the LibTorch qdiff was built against
  std::string made_by;            // "qdiff 0.x (git abc123)"
  // Runs of each engine's model; > 1 for a bug that shows only after earlier calls left state
  // behind (e.g. a kernel that reads stale memory). The first run that differs is reported.
  int repeat = 1;
};

// The script's text for `c` on `engines` (each with ReproducerExpectations' values).
std::string PythonReproducer(const Case& c, const std::vector<ReproducerEngine>& engines,
                             const ReproducerInfo& info);

// Upstream source files and issue references a description names: tokens ending in .cpp, .cc,
// .c or .h outside qdiff's own folders, then owner/repo#N; each in order of first mention,
// unique (a bare file name after its full path is the same file).
std::vector<std::string> UpstreamReferences(const std::string& description);

}  // namespace qdiff
