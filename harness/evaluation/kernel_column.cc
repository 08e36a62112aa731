#include "harness/evaluation/kernel_column.h"

#include <algorithm>
#include <stdexcept>
#include <variant>

namespace qdiff {
namespace {

// The kernel ABI takes a quint8 activation with one scale and zero point.
bool QuintPerTensor(const QTensor& x) { return x.dtype == DType::kQUInt8 && !x.per_channel(); }

KernelLayerRun FromResult(const KernelResult<std::vector<uint8_t>>& r) {
  KernelLayerRun run;
  run.covered = true;
  if (const auto* error = std::get_if<KernelError>(&r)) {
    run.error = error->message;
  } else {
    const std::vector<uint8_t>& out = std::get<std::vector<uint8_t>>(r);
    run.out.assign(out.begin(), out.end());
  }
  return run;
}

}  // namespace

std::optional<KernelPlugin> LoadKernelOrThrow(const std::string& path) {
  if (path.empty()) return std::nullopt;
  KernelResult<KernelPlugin> loaded = KernelPlugin::Load(path);
  if (auto* error = std::get_if<KernelError>(&loaded)) {
    throw std::invalid_argument("--kernel: " + error->message);
  }
  return std::move(std::get<KernelPlugin>(loaded));
}

std::vector<KernelLayerRun> RunKernelLayers(const KernelPlugin& kernel, const Model& model,
                                            const std::vector<LayerTrace>& traces) {
  std::vector<KernelLayerRun> runs(model.layers.size());
  for (size_t l = 0; l < model.layers.size() && l < traces.size(); ++l) {
    const Layer& layer = model.layers[l];
    const QTensor& x = traces[l].input();
    if (!QuintPerTensor(x)) continue;
    if (layer.op == OpKind::kConv2d && (kernel.capabilities() & QDIFF_KERNEL_CONV2D) &&
        x.shape.size() == 4) {
      runs[l] = FromResult(kernel.Conv2d(Conv2dCallOf(layer, x)));
    } else if (layer.op == OpKind::kLinear && (kernel.capabilities() & QDIFF_KERNEL_LINEAR) &&
               x.shape.size() == 2) {
      runs[l] = FromResult(kernel.Linear(LinearCallOf(layer, x)));
    }
  }
  return runs;
}

bool KernelTargets(const KernelPlugin& kernel, Engine engine) {
  const std::optional<Engine> target = ParseEngine(kernel.engine());
  return target == engine;
}

bool KernelComparedOn(const KernelPlugin& kernel, Engine engine, const std::vector<Engine>& run) {
  const std::optional<Engine> target = ParseEngine(kernel.engine());
  const bool target_runs = target && std::find(run.begin(), run.end(), *target) != run.end();
  return target_runs ? *target == engine : true;
}

}  // namespace qdiff
