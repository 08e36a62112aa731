// Tests of the mean recipes (oracles/ops/mean.cc): hand-derived golden cases and the float64
// oracle property. Bit-exact agreement with LibTorch on random inputs is in
// tests/harness/op_mean_hardsigmoid_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "oracles/model.h"
#include "oracles/ops/op_recipe.h"

namespace qdiff {
namespace {

Layer MeanLayer(int64_t d0, int64_t d1, bool keepdim, bool channels_last = false) {
  Layer l;
  l.op = OpKind::kMean;
  l.mean.dims[0] = d0;
  l.mean.dims[1] = d1;
  l.mean.keepdim = keepdim;
  l.channels_last = channels_last;
  return l;
}

std::vector<int32_t> RunMean(const std::string& recipe, const Layer& l, const QTensor& x) {
  const OpRecipeDef* r = FindOpRecipe(recipe);
  EXPECT_NE(r, nullptr) << recipe;
  if (r == nullptr) return {};
  return r->run(l, {x}, LayerOutputShape(l, x.shape));
}

std::string Path(Engine e, const Layer& l, const QTensor& x) {
  const OpRecipeDef* r = EngineOpRecipe(e, l, {x});
  return r ? r->name : "(none)";
}

// s = 1, z = 1, one plane q = {1, 1, 1, 3}: Σq = 6, c = Σ(q − z) = 2, mean 0.5 exactly.
//   exact, qnnpack (m = 1/4), generic (f32 sum 2, 2/4 = 0.5): RNE(0.5) + 1 = 1 (zp after rounding)
//   inner_dim: RNE(6/4) = RNE(1.5) = 2 (the zero point rides inside the raw sum)
// A second plane {4, 4, 5, 5}: Σq = 18, c = 14 → 3.5: exact 4 + 1 = 5; inner_dim RNE(4.5) = 4.
TEST(MeanGolden, TieSeparatesZeroPointOrder) {
  const Layer l = MeanLayer(2, 3, false);
  const QTensor x = PerTensorQTensor(DType::kQUInt8, {1, 2, 2, 2}, {1, 1, 1, 3, 4, 4, 5, 5}, 1.0, 1);
  for (const char* r : {"mean.exact", "mean.qnnpack", "mean.generic"}) {
    EXPECT_EQ(RunMean(r, l, x), (std::vector<int32_t>{1, 5})) << r;
  }
  EXPECT_EQ(RunMean("mean.inner_dim", l, x), (std::vector<int32_t>{2, 4}));
}

// qint8, s = 0.5, z = −3, a 1×1×1×3 plane q = {−3, −2, 0}: c = 0 + 1 + 3 = 4 → 4·0.5/3 / 0.5 =
// 1.333 → 1 → −2. inner_dim: Σq = −5, f32(−5/3) = −1.6667 → −2. generic: d = {0, 0.5, 1.5},
// sum 2, f32(2/3)·f32(1/0.5) = 1.3333 → 1 → −2.
TEST(MeanGolden, SignedValues) {
  const Layer l = MeanLayer(-1, -2, true);
  const QTensor x = PerTensorQTensor(DType::kQInt8, {1, 1, 1, 3}, {-3, -2, 0}, 0.5, -3);
  for (const char* r : {"mean.exact", "mean.inner_dim", "mean.generic"}) {
    EXPECT_EQ(RunMean(r, l, x), std::vector<int32_t>{-2}) << r;
  }
  EXPECT_EQ(LayerOutputShape(l, x.shape), (std::vector<int64_t>{1, 1, 1, 1}));
  EXPECT_EQ(LayerOutputShape(MeanLayer(2, 3, false), x.shape), (std::vector<int64_t>{1, 1}));
  EXPECT_TRUE(LayerOutputShape(MeanLayer(1, 3, false), x.shape).empty());  // not over H and W
  EXPECT_TRUE(LayerOutputShape(MeanLayer(2, 2, false), x.shape).empty());
}

// ReduceOps.cpp::mean_out_quantized_cpu: QNNPACK only for quint8 and the literal dims [2, 3];
// otherwise qmean_inner_dim_kernel when x.is_contiguous() (also channels-last with C == 1 or
// H = W = 1), else dequantize → at::mean → quantize_per_tensor.
TEST(MeanEngines, SelectsTheLibTorchPath) {
  const QTensor u8 = PerTensorQTensor(DType::kQUInt8, {1, 2, 2, 2}, std::vector<int32_t>(8, 3), 0.1, 0);
  QTensor i8 = u8;
  i8.dtype = DType::kQInt8;
  EXPECT_EQ(Path(Engine::kQnnpack, MeanLayer(2, 3, false), u8), "mean.qnnpack");
  EXPECT_EQ(Path(Engine::kQnnpack, MeanLayer(2, 3, true, true), u8), "mean.qnnpack");
  EXPECT_EQ(Path(Engine::kQnnpack, MeanLayer(-1, -2, false), u8), "mean.inner_dim");
  EXPECT_EQ(Path(Engine::kQnnpack, MeanLayer(3, 2, false, true), u8), "mean.generic");
  EXPECT_EQ(Path(Engine::kQnnpack, MeanLayer(2, 3, false), i8), "mean.inner_dim");
  EXPECT_EQ(Path(Engine::kOnednn, MeanLayer(2, 3, false), u8), "mean.inner_dim");
  EXPECT_EQ(Path(Engine::kOnednn, MeanLayer(2, 3, false, true), u8), "mean.generic");
  const QTensor one_channel = PerTensorQTensor(DType::kQUInt8, {2, 1, 2, 2}, std::vector<int32_t>(8, 3), 0.1, 0);
  EXPECT_EQ(Path(Engine::kOnednn, MeanLayer(2, 3, false, true), one_channel), "mean.inner_dim");
  const QTensor one_pixel = PerTensorQTensor(DType::kQUInt8, {1, 8, 1, 1}, std::vector<int32_t>(8, 3), 0.1, 0);
  EXPECT_EQ(Path(Engine::kFbgemm, MeanLayer(2, 3, false, true), one_pixel), "mean.inner_dim");
  // QNNPACK's global average pooling needs a normal scale.
  QTensor tiny = u8;
  tiny.scales = {1e-40};
  EXPECT_NE(OpRejectionReason(Engine::kQnnpack, MeanLayer(2, 3, false), {tiny}), "");
  EXPECT_EQ(OpRejectionReason(Engine::kQnnpack, MeanLayer(-1, -2, false), {tiny}), "");
}

// Every recipe within 1 LSB of the float oracle clamp(RNE(real/s) + z): each path rounds once
// after a binary32 sum (≤ 2^-24 relative per addition, far below 1 LSB of a mean of ≤ 255) or
// an exact integer sum.
TEST(MeanProperty, EveryRecipeWithinOneLsbOfFloatOracle) {
  std::mt19937_64 gen(7);
  auto draw = [&](int64_t a, int64_t b) { return std::uniform_int_distribution<int64_t>(a, b)(gen); };
  int64_t checked = 0;
  for (int c = 0; c < 200; ++c) {
    const DType dt = draw(0, 1) ? DType::kQUInt8 : DType::kQInt8;
    const QuantRange r = TypeRange(dt);
    const std::vector<int64_t> shape = {draw(1, 2), draw(1, 40), draw(1, 12), draw(1, 12)};
    std::vector<int32_t> v(ShapeElements(shape));
    for (int32_t& q : v) q = static_cast<int32_t>(draw(r.qmin, r.qmax));
    const double s = std::exp(std::uniform_real_distribution<double>(-6.0, 1.0)(gen));
    const QTensor x = PerTensorQTensor(dt, shape, v, s, static_cast<int32_t>(draw(r.qmin, r.qmax)));
    const Layer l = MeanLayer(2, 3, draw(0, 1) == 1, draw(0, 1) == 1);
    const std::vector<int64_t> out_shape = LayerOutputShape(l, shape);
    const std::vector<double> real = FloatOpReal(l, {x}, out_shape);
    for (const OpRecipeDef* recipe : OpRecipes(OpKind::kMean)) {
      if (recipe->name == std::string("mean.qnnpack") && dt != DType::kQUInt8) continue;  // quint8 only
      const std::vector<int32_t> got = recipe->run(l, {x}, out_shape);
      ASSERT_EQ(got.size(), real.size());
      for (size_t i = 0; i < got.size(); ++i) {
        const double want = std::clamp<double>(std::nearbyint(real[i] / s) + x.zero_points[0], r.qmin, r.qmax);
        ASSERT_LE(std::abs(got[i] - want), 1.0) << recipe->name << " case " << c << " element " << i;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 10000);
}

}  // namespace
}  // namespace qdiff
