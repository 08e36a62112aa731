// What the kernel plugin tests share: loading a plugin once per test binary, and running layer 0
// of a generated conv2d / linear model through a plugin (its conv2d / linear, and its requantize
// of qdiff's accumulators) and through qdiff's qnnpack_fp32 integer pipeline, counting the output
// elements that differ.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "harness/kernel/kernel_plugin.h"
#include "oracles/integer_pipeline.h"
#include "oracles/kernel_accumulators.h"
#include "oracles/scheme.h"
#include "properties/case_generator.h"

namespace qdiff {

struct NamedPlugin {
  std::string name;
  std::string path;
};

// A plugin list as tests/CMakeLists.txt passes it (QDIFF_MUTANT_PLUGINS): "name=path,name=path".
inline std::vector<NamedPlugin> ParsePluginList(const std::string& list) {
  std::vector<NamedPlugin> plugins;
  for (size_t begin = 0; begin < list.size();) {
    size_t end = list.find(',', begin);
    if (end == std::string::npos) end = list.size();
    const std::string entry = list.substr(begin, end - begin);
    const size_t eq = entry.find('=');
    plugins.push_back({entry.substr(0, eq), entry.substr(eq + 1)});
    begin = end + 1;
  }
  return plugins;
}

template <typename T>
const std::string& ErrorOf(const KernelResult<T>& r) {
  static const std::string kNone = "(no error)";
  return std::holds_alternative<KernelError>(r) ? std::get<KernelError>(r).message : kNone;
}

inline const KernelPlugin& Loaded(const std::string& path) {
  // One handle per path for the whole test binary (plugins hold no state).
  static std::map<std::string, KernelPlugin> loaded;
  if (auto it = loaded.find(path); it != loaded.end()) return it->second;
  KernelResult<KernelPlugin> r = KernelPlugin::Load(path);
  if (!std::holds_alternative<KernelPlugin>(r)) {
    ADD_FAILURE() << ErrorOf(r);
    std::abort();
  }
  return loaded.emplace(path, std::move(std::get<KernelPlugin>(r))).first->second;
}

inline GeneratorSettings OnlyOp(OpKind op) {
  GeneratorSettings s;
  s.ops = {op};
  return s;
}

// Layer 0 of a generated conv2d / linear model, in the form the plugin ABI takes.
inline bool PluginCanRun(const Model& m) {
  const Layer& l = m.layers.at(0);
  return (l.op == OpKind::kConv2d || l.op == OpKind::kLinear) && l.out_dtype == DType::kQUInt8 &&
         m.input.dtype == DType::kQUInt8 && !m.input.per_channel();
}

struct Comparison {
  int64_t elements = 0;
  int64_t gemm_mismatches = 0;        // plugin conv2d / linear vs qnnpack_fp32
  int64_t requantize_mismatches = 0;  // plugin requantize of qdiff's accumulators vs qnnpack_fp32
};

// Layer 0 of `m` through the plugin and through qdiff's qnnpack_fp32 integer pipeline, whose
// trace (`want`, RunIntegerLayer of layer 0 with the qnnpack_fp32 recipe) the caller may reuse.
inline Comparison CompareWithTrace(const KernelPlugin& plugin, const Model& m,
                                   const LayerTrace& want) {
  const Layer& layer = m.layers[0];
  const KernelResult<std::vector<uint8_t>> gemm = layer.op == OpKind::kConv2d
                                                      ? plugin.Conv2d(Conv2dCallOf(layer, m.input))
                                                      : plugin.Linear(LinearCallOf(layer, m.input));
  EXPECT_TRUE(std::holds_alternative<std::vector<uint8_t>>(gemm)) << ErrorOf(gemm);

  // The same accumulators with the int32 bias added as the kernel adds it (int32, wrapping).
  KernelRequantizeCall rq;
  for (const ChannelTerms& t : want.channels) rq.channels.push_back(t.quant);
  rq.outer = want.shape[0];
  rq.inner = ShapeElements(want.shape) / (rq.outer * static_cast<int64_t>(rq.channels.size()));
  for (size_t i = 0; i < want.acc.size(); ++i) {
    const ChannelTerms& t = want.channels[want.ChannelOf(static_cast<int64_t>(i))];
    rq.acc.push_back(
        static_cast<int32_t>(WrapToInt32(want.acc[i] + (t.quant.bias ? t.bias_int32 : 0))));
  }
  const KernelResult<std::vector<uint8_t>> requantized = plugin.Requantize(rq);
  EXPECT_TRUE(std::holds_alternative<std::vector<uint8_t>>(requantized)) << ErrorOf(requantized);

  Comparison c;
  c.elements = static_cast<int64_t>(want.out.size());
  auto count = [&](const KernelResult<std::vector<uint8_t>>& got, int64_t* mismatches) {
    if (!std::holds_alternative<std::vector<uint8_t>>(got)) return;
    const std::vector<uint8_t>& out = std::get<std::vector<uint8_t>>(got);
    EXPECT_EQ(out.size(), want.out.size());
    for (size_t i = 0; i < out.size() && i < want.out.size(); ++i)
      *mismatches += out[i] != want.out[i];
  };
  count(gemm, &c.gemm_mismatches);
  count(requantized, &c.requantize_mismatches);
  return c;
}

inline LayerTrace QnnpackFp32Trace(const Model& m) {
  return RunIntegerLayer(m.layers[0], m.input, GetScheme(Scheme::kQnnpackFp32).recipe);
}

inline Comparison CompareWithQnnpackFp32(const KernelPlugin& plugin, const Model& m) {
  return CompareWithTrace(plugin, m, QnnpackFp32Trace(m));
}

}  // namespace qdiff
