// The user's kernel as one more column beside the schemes: it runs on every layer it implements,
// fed with the inputs LibTorch's layers produced, and each output is compared with LibTorch's.
// Differing elements are classified by ClassifyKernelElement (classifier.h).
//
// Two sources of the column's values:
// - a plugin loaded into qdiff (`--kernel LIB.so`, include/qdiff/kernel_plugin.h), called in the
//   worker processes (a crash or hang is that case's crashed/timeout row);
// - outputs a device or another language wrote for the inputs `qdiff inputs` exported
//   (`qdiff check CASE --outputs DIR`): DIR/<case id>.layer<L>.json ({"values": [...]}) or
//   DIR/<case id>.layer<L>.u8 (raw bytes), one per layer of the export.
//
// Which engines count: the target engine (the plugin's qdiff_kernel_info.engine; for outputs,
// the engine their inputs came from) if the run has it; there every differing element is a
// finding (the class says why). A column without a target is compared with every engine of the
// run, and only elements no single ingredient explains are findings. Layers covered: see
// KernelCoversLayer; the other layers are not the kernel's (not compared).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/case/case.h"
#include "harness/kernel/kernel_plugin.h"
#include "oracles/engine.h"
#include "oracles/integer_pipeline.h"

namespace qdiff {

// The kernel's output for one layer.
struct KernelLayerRun {
  bool covered = false;      // the kernel implements this layer (else nothing else is set)
  std::vector<int32_t> out;  // int_repr values, logical NCHW order
  std::string error;         // the plugin declined or the call was refused ("" if it ran)
};

// The row and discrepancy `scheme` name of the kernel column.
inline const char* KernelColumnName() { return "kernel"; }

class KernelColumn {
 public:
  virtual ~KernelColumn() = default;
  virtual std::string Name() const = 0;             // for the `recipe` column: "kernel:<name>"
  virtual std::optional<Engine> Target() const = 0;  // the engine it aims to reproduce
  // The column's values for every layer of `c` on `engine`; `traces` are one pipeline's traces
  // fed with that engine's LibTorch outputs (their inputs are what LibTorch fed each layer).
  virtual std::vector<KernelLayerRun> Run(const Case& c, Engine engine,
                                          const std::vector<LayerTrace>& traces) const = 0;
};

// The plugin at `path` as a column (nullptr for ""); throws std::invalid_argument with the
// loader's message, which names the file and what is wrong (exit 2 at the command line).
std::unique_ptr<KernelColumn> LoadKernelOrThrow(const std::string& path);

// Outputs read back from `dir` for inputs exported from `engine` (see above). A malformed file
// throws std::invalid_argument naming the file and the field; a missing one is that layer's error.
std::unique_ptr<KernelColumn> OutputsColumn(const std::string& dir, Engine engine);

// Whether `layer`, fed `in`, is one the kernel column covers: conv2d (4-D) and linear (2-D), and
// add and mul of two same-shape tensors, all quint8 per tensor. (The outputs column: conv2d and
// linear only.)
bool KernelCoversLayer(const Layer& layer, const std::vector<QTensor>& in);

// Whether the column's differences on `engine` are findings whatever their class (its target
// engine), and whether the column is compared on `engine` at all.
bool KernelTargets(const KernelColumn& kernel, Engine engine);
bool KernelComparedOn(const KernelColumn& kernel, Engine engine, const std::vector<Engine>& run);

}  // namespace qdiff
