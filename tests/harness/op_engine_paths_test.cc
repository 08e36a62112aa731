// Each op's engine recipe vs LibTorch on small generated cases, per available engine: the recipe
// qdiff assigns to LibTorch's path (EngineOpRecipe) must reproduce every output element bit for
// bit. The only exception is a layer where a recipe of a documented LibTorch bug
// (OpRecipeDef::libtorch_bug, e.g. QNNPACK's clamp on channels-last input) reproduces the whole
// layer instead; those layers are counted and printed.
#include <gtest/gtest.h>

#include <string>

#include "harness/evaluation/case_evaluation.h"
#include "harness/checks/fingerprint.h"
#include "harness/torch/libtorch_runner.h"
#include "oracles/ops/op_recipe.h"

namespace qdiff {
namespace {

struct PathCounts {
  int64_t layers = 0, elements = 0, mismatches = 0, libtorch_bug_layers = 0;
};

// The documented LibTorch bug whose recipe reproduces `lt` on the whole layer, or nullptr.
const OpRecipeDef* BugReproducing(Engine engine, const Layer& layer,
                                  const LayerTrace& t, const std::vector<int32_t>& lt) {
  for (const OpRecipeDef* r : OpRecipes(layer.op)) {
    if (LibTorchBugApplies(*r, engine, layer, t.inputs) && r->run(layer, t.inputs, t.shape) == lt) {
      return r;
    }
  }
  return nullptr;
}

PathCounts CheckOp(OpKind op, Engine engine) {
  PathCounts n;
  for (const Case& c : OpDiagnosticCases(op)) {
    const CaseRuns runs = RunCase(c, {engine}, {Scheme::kExact});
    if (runs.libtorch[0].rejected) continue;
    for (size_t l = 0; l < c.model.layers.size(); ++l) {
      const Layer& layer = c.model.layers[l];
      const LayerTrace& t = runs.pipeline[0][0][l];
      const std::vector<int32_t>& lt = runs.libtorch[0].layers[l].values;
      const OpRecipeDef* path = EngineOpRecipe(engine, layer, t.inputs);
      if (layer.op != op || path == nullptr) continue;
      const std::vector<int32_t> out = path->run(layer, t.inputs, t.shape);
      ++n.layers;
      n.elements += static_cast<int64_t>(lt.size());
      if (out != lt && BugReproducing(engine, layer, t, lt) != nullptr) {
        ++n.libtorch_bug_layers;
        continue;
      }
      for (size_t i = 0; i < lt.size() && i < out.size(); ++i) n.mismatches += out[i] != lt[i];
      EXPECT_EQ(out, lt) << c.id << " layer " << l << " (" << path->name << ") on " << engine;
    }
  }
  return n;
}

class OpEnginePaths : public testing::TestWithParam<OpKind> {};

TEST_P(OpEnginePaths, EngineRecipeReproducesLibTorchBitForBit) {
  InitLibTorch();
  for (Engine engine : AvailableEngines()) {
    const PathCounts n = CheckOp(GetParam(), engine);
    std::printf("%s on %s: %lld layers, %lld elements, %lld mismatches, %lld LibTorch-bug layers\n",
                OpKindName(GetParam()), EngineName(engine), static_cast<long long>(n.layers),
                static_cast<long long>(n.elements), static_cast<long long>(n.mismatches),
                static_cast<long long>(n.libtorch_bug_layers));
    EXPECT_GE(n.layers, 20) << "too few layers of the op were compared on " << engine;
    EXPECT_EQ(n.mismatches, 0);
  }
}

std::vector<OpKind> OpsWithoutWeights() {
  std::vector<OpKind> ops;
  for (OpKind op : kAllOpKinds) {
    if (!IsGemmOp(op)) ops.push_back(op);
  }
  return ops;
}

INSTANTIATE_TEST_SUITE_P(AllOps, OpEnginePaths, testing::ValuesIn(OpsWithoutWeights()),
                         [](const testing::TestParamInfo<OpKind>& info) {
                           return std::string(OpKindName(info.param));
                         });

}  // namespace
}  // namespace qdiff
