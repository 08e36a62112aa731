// Each op's engine recipe vs LibTorch on small generated cases, per available engine: the recipe
// qdiff assigns to LibTorch's path (EngineOpRecipe) must reproduce every output element bit for
// bit. Two LibTorch layout bugs are the only exceptions, and the test pins them down instead of
// skipping them: there LibTorch's output must be a permutation of the recipe's (same values,
// wrong places), and for QNNPACK's clamp the recipe that models the bug must match exactly.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "harness/case_evaluation.h"
#include "harness/fingerprint.h"
#include "harness/libtorch_runner.h"
#include "oracles/ops/op_recipe.h"

namespace qdiff {
namespace {

bool Is4d(const QTensor& x) { return x.shape.size() == 4; }

// qclamp.cpp qnnpack_clamp: QNNPACK, quint8, channels-last input with C > 1 and H·W > 1
// (corpora/qnnpack_clamp_channels_last_scramble.json).
bool QnnpackClampScramble(const std::string& engine, const Layer& l, const QTensor& x) {
  const bool clamp = l.op == OpKind::kRelu6 || l.op == OpKind::kHardtanh || l.op == OpKind::kClamp;
  return clamp && engine == "qnnpack" && x.dtype == DType::kQUInt8 && l.channels_last && Is4d(x) &&
         x.shape[1] > 1 && x.shape[2] * x.shape[3] > 1;
}

// Default pooling kernels on an NCHW input with H·W == 1 and C > 1 take the NHWC kernel and
// write NHWC order into an NCHW output (corpora/nhwc_pool_single_pixel_scramble.json).
bool SinglePixelPoolScramble(const Layer& l, const QTensor& x) {
  const bool pool = l.op == OpKind::kMaxPool2d || l.op == OpKind::kAvgPool2d ||
                    l.op == OpKind::kAdaptiveAvgPool2d;
  return pool && !l.channels_last && Is4d(x) && x.shape[1] > 1 && x.shape[2] * x.shape[3] == 1;
}

struct PathCounts {
  int64_t layers = 0, elements = 0, mismatches = 0, scrambled_layers = 0;
};

PathCounts CheckOp(OpKind op, const std::string& engine) {
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
      if (QnnpackClampScramble(engine, layer, t.input()) ||
          (engine != "qnnpack" && SinglePixelPoolScramble(layer, t.input()))) {
        std::vector<int32_t> a = out, b = lt;
        std::sort(a.begin(), a.end());
        std::sort(b.begin(), b.end());
        EXPECT_EQ(a, b) << c.id << " layer " << l << ": not a permutation of the recipe's output";
        if (QnnpackClampScramble(engine, layer, t.input())) {
          const std::string bug = std::string(OpKindName(op)) + ".qnnpack_clamp";
          EXPECT_EQ(FindOpRecipe(bug)->run(layer, t.inputs, t.shape), lt) << c.id << " " << bug;
        }
        n.scrambled_layers += out != lt;
        continue;
      }
      for (size_t i = 0; i < lt.size(); ++i) n.mismatches += out[i] != lt[i];
      EXPECT_EQ(out, lt) << c.id << " layer " << l << " (" << path->name << ") on " << engine;
    }
  }
  return n;
}

class OpEnginePaths : public testing::TestWithParam<OpKind> {};

TEST_P(OpEnginePaths, EngineRecipeReproducesLibTorchBitForBit) {
  InitLibTorch();
  for (const std::string& engine : AvailableEngines()) {
    const PathCounts n = CheckOp(GetParam(), engine);
    std::printf("%s on %s: %lld layers, %lld elements, %lld mismatches, %lld scrambled layers\n",
                OpKindName(GetParam()), engine.c_str(), static_cast<long long>(n.layers),
                static_cast<long long>(n.elements), static_cast<long long>(n.mismatches),
                static_cast<long long>(n.scrambled_layers));
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
