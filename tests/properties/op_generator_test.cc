// The generators of graphs with ops without weights (properties/op_layers.h): every drawn model
// validates, stays in the legal region that qdiff knows for every engine (so rejections are
// rare), and reaches the dimensions the issue asks for: every op as the model's focus, qint8 and
// quint8 activations, channels-last layers, residual edges (a layer reading a node other than
// the previous one), and pooling windows that need padding or ceil_mode.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <set>

#include "oracles/integer_pipeline.h"
#include "oracles/ops/op_recipe.h"
#include "oracles/scheme.h"
#include "properties/case_generator.h"
#include "properties/op_layers.h"

namespace qdiff {
namespace {

RC_GTEST_PROP(OpGenerator, ModelsValidateAndStayLegal, ()) {
  const GeneratedModel g = *GenModel(GeneratorSettings{});
  RC_ASSERT(ValidateModel(g.model) == "");
  const std::vector<QTensor> nodes = ExactNodeTensors(g.model);
  for (size_t l = 0; l < g.model.layers.size(); ++l) {
    const Layer& layer = g.model.layers[l];
    std::vector<QTensor> inputs;
    for (int id : LayerInputIds(g.model, l)) inputs.push_back(id < 0 ? g.model.input : nodes[id]);
    for (Engine e : kAllEngines) {
      RC_ASSERT(OpRejectionReason(e, layer, inputs) == "");
      if (!IsGemmOp(layer.op)) RC_ASSERT(EngineOpRecipe(e, layer, inputs) != nullptr);
    }
  }
}

// A draft's nodes, each layer evaluated once, are the exact pipeline's (ExactNodeTensors).
RC_GTEST_PROP(OpGenerator, DraftNodesAreTheExactPipelines, ()) {
  GeneratedModel g = *GenModel(GeneratorSettings{});
  const std::vector<QTensor> nodes = ExactNodeTensors(g.model);
  ModelDraft draft(&g.model);
  for (int j = static_cast<int>(nodes.size()) - 1; j >= 0; --j) {  // the last first: lazily all
    const QTensor& t = draft.Node(j);
    RC_ASSERT(t.values == nodes[j].values);
    RC_ASSERT(t.shape == nodes[j].shape);
    RC_ASSERT(t.dtype == nodes[j].dtype);
    RC_ASSERT(t.scales == nodes[j].scales);
    RC_ASSERT(t.zero_points == nodes[j].zero_points);
  }
}

// Counts over a fixed set of seeds (deterministic): the mix reaches every corner.
TEST(OpGenerator, ReachesEveryOpDtypeLayoutAndResidualEdges) {
  std::map<std::string, int> focus;  // op of the model's layers
  int qint8 = 0, channels_last = 0, residual = 0, padded_pools = 0, ceil_pools = 0;
  const int kModels = 3000;
  for (int i = 0; i < kModels; ++i) {
    const Model m = GenerateModel(CaseSeed(77, i), GeneratorSettings{}).model;
    ASSERT_EQ(ValidateModel(m), "") << "seed index " << i;
    qint8 += m.input.dtype == DType::kQInt8;
    for (size_t l = 0; l < m.layers.size(); ++l) {
      const Layer& layer = m.layers[l];
      ++focus[OpKindName(layer.op)];
      channels_last += layer.channels_last;
      for (int id : LayerInputIds(m, l)) residual += id != static_cast<int>(l) - 1;
      if (layer.op == OpKind::kAvgPool2d || layer.op == OpKind::kMaxPool2d) {
        padded_pools += layer.pool.padding[0] + layer.pool.padding[1] > 0;
        ceil_pools += layer.pool.ceil_mode;
      }
    }
  }
  for (OpKind op : kAllOpKinds) {
    EXPECT_GE(focus[OpKindName(op)], 50) << OpKindName(op) << " is (almost) never drawn";
  }
  EXPECT_GE(qint8, kModels / 10);
  EXPECT_GE(channels_last, kModels / 10);
  EXPECT_GE(residual, kModels / 20);
  EXPECT_GE(padded_pools, 50);
  EXPECT_GE(ceil_pools, 50);
  std::printf("[ mix      ] %d models: qint8 inputs %d, channels-last layers %d, residual edges "
              "%d, padded pools %d, ceil_mode pools %d\n",
              kModels, qint8, channels_last, residual, padded_pools, ceil_pools);
}

}  // namespace
}  // namespace qdiff
