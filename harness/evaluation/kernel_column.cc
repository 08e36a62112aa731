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

// quantized::add / mul of the layer on inputs `in` as the ABI's binary call.
KernelBinaryCall BinaryCallOf(const Layer& layer, const std::vector<QTensor>& in) {
  KernelBinaryCall call;
  call.a.assign(in[0].values.begin(), in[0].values.end());
  call.a_scale = in[0].Scale(0);
  call.a_zero_point = in[0].ZeroPoint(0);
  call.b.assign(in[1].values.begin(), in[1].values.end());
  call.b_scale = in[1].Scale(0);
  call.b_zero_point = in[1].ZeroPoint(0);
  call.output_scale = layer.out_scale;
  call.output_zero_point = layer.out_zero_point;
  call.relu = layer.relu;
  return call;
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
      const std::vector<QTensor>& in = traces[l].inputs;
      if (!KernelCoversLayer(layer, in)) continue;
      const uint32_t caps = plugin_.capabilities();
      if (layer.op == OpKind::kConv2d && (caps & QDIFF_KERNEL_CONV2D)) {
        runs[l] = FromResult(plugin_.Conv2d(Conv2dCallOf(layer, in[0])));
      } else if (layer.op == OpKind::kLinear && (caps & QDIFF_KERNEL_LINEAR)) {
        runs[l] = FromResult(plugin_.Linear(LinearCallOf(layer, in[0])));
      } else if (layer.op == OpKind::kAdd && (caps & QDIFF_KERNEL_ADD)) {
        runs[l] = FromResult(plugin_.Add(BinaryCallOf(layer, in)));
      } else if (layer.op == OpKind::kMul && (caps & QDIFF_KERNEL_MUL)) {
        runs[l] = FromResult(plugin_.Mul(BinaryCallOf(layer, in)));
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
      const Layer& layer = c.model.layers[l];
      if (!KernelCoversLayer(layer, traces[l].inputs) || !IsGemmOp(layer.op)) continue;
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

bool KernelCoversLayer(const Layer& layer, const std::vector<QTensor>& in) {
  for (const QTensor& x : in) {
    if (x.dtype != DType::kQUInt8 || x.per_channel()) return false;  // the ABI's activations
  }
  const std::vector<int64_t>& shape = in[0].shape;
  switch (layer.op) {
    case OpKind::kConv2d: return shape.size() == 4;
    case OpKind::kLinear: return shape.size() == 2;
    case OpKind::kAdd:
    case OpKind::kMul: return in.size() == 2 && in[1].shape == shape;  // no broadcasting
    default: return false;
  }
}

bool KernelTargets(const KernelColumn& kernel, Engine engine) { return kernel.Target() == engine; }

bool KernelComparedOn(const KernelColumn& kernel, Engine engine, const std::vector<Engine>& run) {
  const std::optional<Engine> target = kernel.Target();
  const bool target_runs = target && std::find(run.begin(), run.end(), *target) != run.end();
  return target_runs ? *target == engine : true;
}

}  // namespace qdiff
