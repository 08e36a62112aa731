// GeneratedModel::first_layer_acc: the accumulators the draw computed for layer 0, which campaign
// workers hand to RunCase in place of computing them again. They must be exactly
// LayerAccumulators of the final model's layer 0 on its final input.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <stdexcept>

#include "harness/evaluation/case_evaluation.h"
#include "oracles/integer_pipeline.h"
#include "properties/case_generator.h"

namespace qdiff {
namespace {

RC_GTEST_PROP(FirstLayerAcc, AreLayerZerosAccumulatorsOnTheModelInput, ()) {
  GeneratorSettings settings;  // every op: GEMM-focused models, op models, chains, op tails
  const bool gemm_only = *rc::gen::arbitrary<bool>();
  if (gemm_only) settings.ops = {OpKind::kConv2d, OpKind::kLinear};
  settings.real_size_percent = *rc::gen::element(0, 10);
  const GeneratedModel g = *GenModel(settings);
  RC_CLASSIFY(!g.first_layer_acc.empty(), "given");
  RC_ASSERT(!(gemm_only && g.first_layer_acc.empty()));  // every GEMM-focused model has them
  if (g.first_layer_acc.empty()) return;
  const Layer& layer = g.model.layers.at(0);
  RC_ASSERT(IsGemmOp(layer.op));
  const std::vector<int64_t> acc =
      LayerAccumulators(layer, g.model.input, LayerOutputShape(layer, g.model.input.shape));
  RC_ASSERT(g.first_layer_acc.get() == acc);
}

TEST(FirstLayerAcc, RunCaseRejectsAccumulatorsOfAnotherShape) {
  GeneratorSettings settings;
  settings.ops = {OpKind::kConv2d, OpKind::kLinear};
  const GeneratedModel g = GenerateModel(7, settings);
  ASSERT_FALSE(g.first_layer_acc.empty());
  Case c;
  c.id = "first-layer-acc";
  c.model = g.model;
  std::vector<int64_t> wrong = g.first_layer_acc.get();
  wrong.push_back(0);
  EXPECT_THROW(RunCase(c, {}, {Scheme::kExact}, nullptr, SharedValues<int64_t>(wrong)), std::logic_error);
  // the right ones give the pipelines' own accumulators
  const CaseRuns given = RunCase(c, {}, {Scheme::kExact}, nullptr, g.first_layer_acc);
  const CaseRuns computed = RunCase(c, {}, {Scheme::kExact});
  EXPECT_EQ(given.pipeline[0][0][0].acc.get(), computed.pipeline[0][0][0].acc.get());
  EXPECT_EQ(given.pipeline[0][0][0].out, computed.pipeline[0][0][0].out);
}

}  // namespace
}  // namespace qdiff
