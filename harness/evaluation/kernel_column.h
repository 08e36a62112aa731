// The user's kernel as one more column beside the schemes (`--kernel LIB.so`): it runs on every
// layer it implements, fed with the inputs LibTorch's layers produced, and each output is compared
// with LibTorch's. Differing elements are classified by ClassifyKernelElement (classifier.h).
//
// Which engines count: the engine the plugin names (qdiff_kernel_info.engine) if the run has it;
// there every differing element is a finding (the class says why). A plugin that names no engine
// is compared with every engine of the run, and only elements that no single ingredient explains
// are findings. The layers covered: conv2d (quint8 input) with CONV2D, linear with LINEAR; the
// other layers are not the kernel's (not compared).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

// The plugin at `path` (nullopt for ""); throws std::invalid_argument with the loader's message,
// which names the file and what is wrong (exit 2 at the command line).
std::optional<KernelPlugin> LoadKernelOrThrow(const std::string& path);

// Runs the kernel on every layer it covers; `traces` are one pipeline's traces (their inputs
// are what LibTorch fed the layer).
std::vector<KernelLayerRun> RunKernelLayers(const KernelPlugin& kernel, const Model& model,
                                            const std::vector<LayerTrace>& traces);

// Whether the kernel's differences on `engine` are findings whatever their class (its target
// engine), and whether the kernel is compared on `engine` at all.
bool KernelTargets(const KernelPlugin& kernel, Engine engine);
bool KernelComparedOn(const KernelPlugin& kernel, Engine engine, const std::vector<Engine>& run);

}  // namespace qdiff
