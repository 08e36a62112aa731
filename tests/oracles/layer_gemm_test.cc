// The lowered GEMM (oracles/layer_gemm.h) against the loop it replaces: for every generated conv
// (1-D, 2-D, 3-D, transposed, grouped, depthwise, dilated, padded; small and real sizes) and
// linear layer, the exact
// accumulators and the float oracle's double sums equal ForEachProduct's, bit for bit; and
// hand-computed sums at the edges of the integer lanes.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>


#include "oracles/float_oracle.h"
#include "tests/support/double_bits.h"
#include "oracles/integer_pipeline.h"
#include "oracles/layer_gemm.h"
#include "oracles/layer_products.h"
#include "oracles/scheme.h"
#include "properties/case_generator.h"
#include "properties/op_layers.h"

namespace qdiff {
namespace {

RC_GTEST_PROP(LayerGemm, EqualsTheProductLoopBitForBit, ()) {
  GeneratorSettings settings;
  settings.ops = {OpKind::kConv2d, OpKind::kLinear, OpKind::kConv1d, OpKind::kConv3d,
                  OpKind::kConvTranspose2d};
  // Real sizes reach both orientations of the lowered GEMM (≥ 16 output channels per group).
  settings.real_size_percent = 30;
  const Model m = (*GenModel(settings)).model;
  const std::vector<QTensor> nodes = ExactNodeTensors(m);
  for (size_t l = 0; l < m.layers.size(); ++l) {
    const Layer& layer = m.layers[l];
    if (!IsGemmOp(layer.op)) continue;
    const int id = LayerInputIds(m, l)[0];
    const QTensor& x = id < 0 ? m.input : nodes[id];
    const std::vector<int64_t> shape = LayerOutputShape(layer, x.shape);
    const QTensor& w = layer.weight;
    std::vector<int64_t> acc(static_cast<size_t>(ShapeElements(shape)), 0);
    std::vector<double> real(acc.size(), 0.0);
    ForEachProduct(layer, x.shape, shape, [&](int64_t o, int64_t i, int64_t k) {
      acc[o] += int64_t{x.values[i] - x.zero_points[0]} * (w.values[k] - w.ZeroPoint(w.QuantIndexOf(k)));
      real[o] += double{DequantizeElement(x, i)} * double{DequantizeElement(w, k)};
    });
    RC_ASSERT(LayerAccumulators(layer, x, shape) == acc);
    std::vector<double> xs, ws, sums;
    for (int64_t i = 0; i < x.NumElements(); ++i) xs.push_back(DequantizeElement(x, i));
    for (int64_t k = 0; k < w.NumElements(); ++k) ws.push_back(DequantizeElement(w, k));
    RC_ASSERT(DequantizedValues(x) == xs);
    RC_ASSERT(DequantizedValues(w) == ws);
    LayerProductSums(layer, x.shape, shape, xs, ws, &sums);
    RC_ASSERT(sums.size() == real.size());
    for (size_t o = 0; o < real.size(); ++o) RC_ASSERT(Bits(sums[o]) == Bits(real[o]));
  }
}

// The pipeline requantizes a GEMM layer channel run by channel run (EvaluateRecipeRun): the same
// outputs as EvaluateRecipe element by element with each element's channel, for every scheme.
RC_GTEST_PROP(LayerGemm, RequantizedRunsEqualElementwiseEvaluation, ()) {
  GeneratorSettings settings;
  settings.ops = {OpKind::kConv2d, OpKind::kLinear, OpKind::kConv1d, OpKind::kConv3d,
                  OpKind::kConvTranspose2d};
  const Model m = (*GenModel(settings)).model;
  const Layer& layer = m.layers[0];
  const std::vector<int64_t> shape = LayerOutputShape(layer, m.input.shape);
  const std::vector<int64_t> acc = LayerAccumulators(layer, m.input, shape);
  const std::vector<ChannelTerms> terms = LayerChannelTerms(layer, m.input.scales[0]);
  for (const SchemeDef* scheme : AllSchemes()) {
    const LayerTrace t = RunIntegerLayer(layer, m.input, scheme->recipe);
    RC_ASSERT(t.out.size() == acc.size());
    for (size_t i = 0; i < acc.size(); ++i) {
      const ChannelTerms& c = terms[OutputChannelOf(shape, static_cast<int64_t>(i))];
      RC_ASSERT(t.out[i] == EvaluateRecipe(scheme->recipe, c, acc[i]).value_or(c.quant.z_y));
    }
  }
}

Layer LinearLayer(int64_t out, int64_t k, int32_t weight_value, int32_t weight_zero_point) {
  Layer layer;
  layer.op = OpKind::kLinear;
  layer.weight = PerTensorQTensor(DType::kQInt8, {out, k}, std::vector<int32_t>(out * k, weight_value),
                                  0.5, weight_zero_point);
  return layer;
}

// 40,000 products of (0 − 255)·(−128 − 127) = 65,025 each: 2,601,000,000, beyond int32. The
// integer lanes move to int64 every 32,768 products, so the sum is exact.
TEST(LayerGemm, LongRowsOfLargestProductsStayExact) {
  const int64_t k = 40000;
  const Layer layer = LinearLayer(3, k, -128, 127);
  const QTensor x = PerTensorQTensor(DType::kQUInt8, {2, k}, std::vector<int32_t>(2 * k, 0), 0.25, 255);
  const std::vector<int64_t> acc = LayerAccumulators(layer, x, {2, 3});
  EXPECT_EQ(acc, std::vector<int64_t>(6, int64_t{2601000000}));
}

// A zero operand contributes nothing, and signs mix: x − z_x alternates +3, −3, 0 and the weight
// row is w − z_w = 2, so each output is 2·(3 − 3 + 0)·(k/3) = 0 plus the first product of the tail.
TEST(LayerGemm, ZeroOperandsAndMixedSigns) {
  const int64_t k = 7;
  const Layer layer = LinearLayer(2, k, 5, 3);
  std::vector<int32_t> values;
  for (int64_t i = 0; i < k; ++i) values.push_back(i % 3 == 0 ? 13 : i % 3 == 1 ? 7 : 10);
  const QTensor x = PerTensorQTensor(DType::kQUInt8, {1, k}, values, 0.25, 10);
  // products: 3·2, −3·2, 0, 3·2, −3·2, 0, 3·2 → 6
  EXPECT_EQ(LayerAccumulators(layer, x, {1, 2}), (std::vector<int64_t>{6, 6}));
}

}  // namespace
}  // namespace qdiff
