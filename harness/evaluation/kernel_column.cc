#include "harness/evaluation/kernel_column.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <variant>

namespace qdiff {
namespace {

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

class PluginKernelColumn : public KernelColumn {
 public:
  explicit PluginKernelColumn(KernelPlugin plugin) : plugin_(std::move(plugin)) {}
  std::string Name() const override { return plugin_.name(); }
  std::optional<Engine> Target() const override { return ParseEngine(plugin_.engine()); }
  std::vector<KernelLayerRun> Run(const Case& c, Engine,
                                  const std::vector<LayerTrace>& traces) const override {
    std::vector<KernelLayerRun> runs(c.model.layers.size());
    for (size_t l = 0; l < c.model.layers.size() && l < traces.size(); ++l) {
      const Layer& layer = c.model.layers[l];
      const QTensor& x = traces[l].input();
      if (!KernelCoversLayer(layer, x)) continue;
      const uint32_t caps = plugin_.capabilities();
      if (layer.op == OpKind::kConv2d && (caps & QDIFF_KERNEL_CONV2D)) {
        runs[l] = FromResult(plugin_.Conv2d(Conv2dCallOf(layer, x)));
      } else if (layer.op == OpKind::kLinear && (caps & QDIFF_KERNEL_LINEAR)) {
        runs[l] = FromResult(plugin_.Linear(LinearCallOf(layer, x)));
      }
    }
    return runs;
  }

 private:
  KernelPlugin plugin_;
};

// The values of one output file: {"values": [q, ...]} (.json) or one byte per value (.u8).
std::optional<std::vector<int32_t>> ReadOutputFile(const std::string& stem) {
  if (std::ifstream json_file(stem + ".json"); json_file) {
    const std::string file = stem + ".json";
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(json_file);
    } catch (const nlohmann::json::exception& e) {
      throw std::invalid_argument(file + ": not valid JSON (" + std::string(e.what()) + ")");
    }
    if (!j.is_object() || !j.contains("values") || !j["values"].is_array()) {
      throw std::invalid_argument(file + ": field 'values': expected an array of integers");
    }
    std::vector<int32_t> values;
    for (size_t i = 0; i < j["values"].size(); ++i) {
      const nlohmann::json& v = j["values"][i];
      if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 255) {
        throw std::invalid_argument(file + ": field 'values[" + std::to_string(i) +
                                    "]': expected an integer in [0, 255]");
      }
      values.push_back(v.get<int32_t>());
    }
    return values;
  }
  if (std::ifstream raw(stem + ".u8", std::ios::binary); raw) {
    const std::vector<char> bytes((std::istreambuf_iterator<char>(raw)), std::istreambuf_iterator<char>());
    std::vector<int32_t> values;
    for (char b : bytes) values.push_back(static_cast<unsigned char>(b));
    return values;
  }
  return std::nullopt;
}

class OutputsKernelColumn : public KernelColumn {
 public:
  OutputsKernelColumn(std::string dir, Engine engine) : dir_(std::move(dir)), engine_(engine) {}
  std::string Name() const override { return "outputs:" + dir_; }
  std::optional<Engine> Target() const override { return engine_; }
  std::vector<KernelLayerRun> Run(const Case& c, Engine engine,
                                  const std::vector<LayerTrace>& traces) const override {
    std::vector<KernelLayerRun> runs(c.model.layers.size());
    if (engine != engine_) return runs;  // the outputs answer that engine's inputs only
    for (size_t l = 0; l < c.model.layers.size() && l < traces.size(); ++l) {
      if (!KernelCoversLayer(c.model.layers[l], traces[l].input())) continue;
      const std::string stem = dir_ + "/" + c.id + ".layer" + std::to_string(l);
      runs[l].covered = true;
      std::optional<std::vector<int32_t>> values = ReadOutputFile(stem);
      if (!values) {
        runs[l].error = "no output file " + stem + ".json or " + stem + ".u8";
      } else if (values->size() != traces[l].out.size()) {
        throw std::invalid_argument(stem + ": " + std::to_string(values->size()) +
                                    " values, the layer has " + std::to_string(traces[l].out.size()) +
                                    " outputs");
      } else {
        runs[l].out = std::move(*values);
      }
    }
    return runs;
  }

 private:
  std::string dir_;
  Engine engine_;
};

}  // namespace

std::unique_ptr<KernelColumn> LoadKernelOrThrow(const std::string& path) {
  if (path.empty()) return nullptr;
  KernelResult<KernelPlugin> loaded = KernelPlugin::Load(path);
  if (auto* error = std::get_if<KernelError>(&loaded)) {
    throw std::invalid_argument("--kernel: " + error->message);
  }
  return std::make_unique<PluginKernelColumn>(std::move(std::get<KernelPlugin>(loaded)));
}

std::unique_ptr<KernelColumn> OutputsColumn(const std::string& dir, Engine engine) {
  return std::make_unique<OutputsKernelColumn>(dir, engine);
}

bool KernelCoversLayer(const Layer& layer, const QTensor& x) {
  if (x.dtype != DType::kQUInt8 || x.per_channel()) return false;  // the ABI's activation
  return (layer.op == OpKind::kConv2d && x.shape.size() == 4) ||
         (layer.op == OpKind::kLinear && x.shape.size() == 2);
}

bool KernelTargets(const KernelColumn& kernel, Engine engine) { return kernel.Target() == engine; }

bool KernelComparedOn(const KernelColumn& kernel, Engine engine, const std::vector<Engine>& run) {
  const std::optional<Engine> target = kernel.Target();
  const bool target_runs = target && std::find(run.begin(), run.end(), *target) != run.end();
  return target_runs ? *target == engine : true;
}

}  // namespace qdiff
