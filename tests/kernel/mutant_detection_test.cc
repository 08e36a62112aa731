// Detection power of the kernel plugin comparison (issue 14): every mutant of the reference
// kernel in tests/kernel/mutants/ (a realistic porting mistake each, described at the top of its
// file) must differ from qdiff's qnnpack_fp32 scheme on some layer of a fixed stream of generated
// conv2d and linear layers, within kBudget layers, while the reference itself matches on every
// one of them (the control). The test prints, per mutant, how soon it was caught and how many
// elements of that layer differ.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "harness/kernel/kernel_plugin.h"
#include "properties/case_generator.h"
#include "tests/kernel/plugin_comparison.h"

namespace qdiff {
namespace {

constexpr int kBudget = 500;  // generated layers a mutant must be caught within

std::vector<NamedPlugin> Mutants() { return ParsePluginList(QDIFF_MUTANT_PLUGINS); }

struct StreamLayer {
  uint64_t seed;
  GeneratedModel g;
  LayerTrace want;  // qnnpack_fp32
};

// The layers every plugin is run on: GenerateModel(seed) for seed = 0, 1, ..., conv2d for even
// seeds and linear for odd ones (the generator of kernel_plugin_test.cc: per-tensor and
// per-channel weights, nonzero weight zero points, padding, fused ReLU, accumulators beyond 2^24),
// keeping the first kBudget whose layer 0 a plugin can run. One fused ReLU in five has z_y > 0
// (DeriveOutputQParams), where clamping at 0 and at z_y differ.
const std::vector<StreamLayer>& Stream() {
  static const std::vector<StreamLayer> stream = [] {
    std::vector<StreamLayer> layers;
    for (uint64_t seed = 0; static_cast<int>(layers.size()) < kBudget; ++seed) {
      GeneratedModel g =
          GenerateModel(seed, OnlyOp(seed % 2 == 0 ? OpKind::kConv2d : OpKind::kLinear));
      if (!PluginCanRun(g.model)) continue;
      LayerTrace want = QnnpackFp32Trace(g.model);
      layers.push_back({seed, std::move(g), std::move(want)});
    }
    return layers;
  }();
  return stream;
}

struct Detection {
  int first = 0;  // 1-based position in Stream() of the first layer that differs; 0: none
  Comparison at_first;
  int catching_layers = 0;  // layers of Stream() that differ
};

Detection Detect(const KernelPlugin& plugin) {
  Detection d;
  for (size_t i = 0; i < Stream().size(); ++i) {
    const Comparison c = CompareWithTrace(plugin, Stream()[i].g.model, Stream()[i].want);
    if (c.gemm_mismatches + c.requantize_mismatches == 0) continue;
    ++d.catching_layers;
    if (d.first == 0) {
      d.first = static_cast<int>(i) + 1;
      d.at_first = c;
    }
  }
  return d;
}

std::string Describe(const StreamLayer& l) {
  const Layer& layer = l.g.model.layers[0];
  return std::string(OpKindName(layer.op)) + " seed " + std::to_string(l.seed) + ", " +
         l.g.tags.scale_kind + (layer.weight.per_channel() ? ", per-channel" : ", per-tensor") +
         (layer.relu ? ", relu z_y " + std::to_string(layer.out_zero_point) : "");
}

TEST(MutantDetection, ReferenceMatchesEveryLayer) {
  const Detection d = Detect(Loaded(QDIFF_PLUGIN_REFERENCE));
  EXPECT_EQ(d.catching_layers, 0) << "first at layer " << d.first << ": "
                                  << Describe(Stream()[d.first > 0 ? d.first - 1 : 0]);
}

TEST(MutantDetection, EveryMutantIsCaughtWithinBudget) {
  const std::vector<NamedPlugin> mutants = Mutants();
  EXPECT_GE(mutants.size(), 9u);
  std::printf("\nMutant detection over %d generated conv2d/linear layers vs qnnpack_fp32\n",
              kBudget);
  std::printf("%-26s %-6s %8s %-30s %10s  %s\n", "mutant", "caught", "layers",
              "mismatching elements", "catching", "first catching layer");
  std::printf("%-26s %-6s %8s %-30s %10s\n", "", "", "until", "(gemm / requantize of total)",
              "layers");
  for (const NamedPlugin& m : mutants) {
    const KernelPlugin& plugin = Loaded(m.path);
    EXPECT_EQ(plugin.name(), m.name);
    const Detection d = Detect(plugin);
    const std::string elements = d.first == 0
                                     ? "-"
                                     : std::to_string(d.at_first.gemm_mismatches) + " / " +
                                           std::to_string(d.at_first.requantize_mismatches) +
                                           " of " + std::to_string(d.at_first.elements);
    std::printf("%-26s %-6s %8s %-30s %6d/%-3d  %s\n", m.name.c_str(), d.first > 0 ? "yes" : "NO",
                d.first > 0 ? std::to_string(d.first).c_str() : "-", elements.c_str(),
                d.catching_layers, kBudget,
                d.first > 0 ? Describe(Stream()[d.first - 1]).c_str() : "");
    EXPECT_GT(d.first, 0) << m.name << " is not caught within " << kBudget << " layers";
  }
  std::fflush(stdout);
}

}  // namespace
}  // namespace qdiff
