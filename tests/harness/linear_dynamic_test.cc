// quantized::linear_dynamic recipes (oracles/linear_dynamic.h) and `qdiff dynamic-check`.
// Golden values are worked out by hand in the comments (binary32 steps written in hex), not by
// the code under test.
#include <gtest/gtest.h>

#include <sstream>

#include "harness/checks/dynamic_check.h"
#include "harness/torch/libtorch_runner.h"
#include "oracles/linear_dynamic.h"

namespace qdiff {
namespace {

TEST(ChooseQuantizationParams, AffineRange) {
  // [−1, 3]: scale = 4/255 (double); from_min = 0 − (−1)/(4/255) = 63.75, error terms
  // −63.75 < 255 − 191.25 = 63.75 → from_min; nearbyint(63.75) = 64.
  const ChosenQParams p = ChooseQuantizationParams(-1.0f, 3.0f, 0, 255, false);
  EXPECT_EQ(p.scale, 4.0 / 255.0);
  EXPECT_EQ(p.zero_point, 64);
  EXPECT_TRUE(p.from_min);
  EXPECT_NEAR(p.initial_zero_point, 63.75, 1e-12);
}

TEST(ChooseQuantizationParams, ReduceRangeHalvesQmax) {
  // qmax = 255/2 = 127: scale = 4/127, from_min = 127/4 = 31.75 → 32.
  const ChosenQParams p = ChooseQuantizationParams(-1.0f, 3.0f, 0, 255, true);
  EXPECT_EQ(p.scale, 4.0 / 127.0);
  EXPECT_EQ(p.zero_point, 32);
}

TEST(ChooseQuantizationParams, AllZeroInput) {
  // min = max = 0 → scale 0 → replaced by 0.1; from_min = 0 (error 0 < 255) → zp 0.
  const ChosenQParams p = ChooseQuantizationParams(0.0f, 0.0f, 0, 255, false);
  EXPECT_EQ(p.scale, 0.1);
  EXPECT_EQ(p.zero_point, 0);
  EXPECT_TRUE(p.from_min);
}

TEST(ChooseQuantizationParams, ErrorTermSubtracts) {
  // [0, 1]: scale = fl(1/255) = 0x1.0101010101010p-8 = (1 − 2^-56)/255, so 1/scale =
  // 255 + 255·2^-56 rounds to exactly 255. Upstream's error terms subtract:
  //   err_min = |0| − |0/scale| = 0, err_max = |255| − |1/scale| = 0; 0 < 0 is false → from_max,
  //   initial = 255 − 255 = 0. (With "+": err_max = 510 → from_min.) Both nudge to zp 0.
  const ChosenQParams p = ChooseQuantizationParams(0.0f, 1.0f, 0, 255, false);
  EXPECT_FALSE(p.from_min);
  EXPECT_EQ(p.initial_zero_point, 0.0);
  EXPECT_EQ(p.zero_point, 0);
  // Constant positive input, same branch: [0, 2] gives scale 2/255 and again from_max.
  EXPECT_FALSE(ChooseQuantizationParams(2.0f, 2.0f, 0, 255, false).from_min);
}

TEST(ChooseQuantizationParams, AllNegative) {
  // [−2, −1] → max extended to 0: scale = 2/255, from_min = 0 + 2/(2/255) = 255 (err −255 < 255)
  // → zp 255.
  const ChosenQParams p = ChooseQuantizationParams(-2.0f, -1.0f, 0, 255, false);
  EXPECT_EQ(p.scale, 2.0 / 255.0);
  EXPECT_EQ(p.zero_point, 255);
}

TEST(ChooseQuantizationParams, SmallScaleThreshold) {
  // [0, 1e-3]: 1e-3/255 ≈ 3.9e-6 < 6.1e-5f = 0x1.ffb48p-15 → scale = that float, min == 0
  // branch, zp 0.
  const ChosenQParams p = ChooseQuantizationParams(0.0f, 1e-3f, 0, 255, false);
  EXPECT_EQ(p.scale, 0x1.ffb48p-15);
  EXPECT_EQ(p.zero_point, 0);
}

TEST(DynamicActivationQParams, OnlyQnnpackIgnoresReduceRange) {
  const std::vector<float> x = {-1.0f, 0.5f, 3.0f};
  // QNNPACK: [0,255] regardless → (4/255, 64); ONEDNN and FBGEMM: [0,127] → (4/127, 32).
  EXPECT_EQ(DynamicActivationQParams(x, DynamicEngine::kQnnpack, true).zero_point, 64);
  EXPECT_EQ(DynamicActivationQParams(x, DynamicEngine::kQnnpack, true).scale, 4.0 / 255.0);
  EXPECT_EQ(DynamicActivationQParams(x, DynamicEngine::kOnednn, true).zero_point, 32);
  EXPECT_EQ(DynamicActivationQParams(x, DynamicEngine::kFbgemm, true).zero_point, 32);
  EXPECT_EQ(DynamicActivationQParams(x, DynamicEngine::kOnednn, false).zero_point, 64);
}

TEST(QuantizeActivation, ExactTieZeroPointOrder) {
  // s = 0.25 → inv = 4 for all engines; x = 0.125 → x·inv = 0.5 exactly, zp 3 (odd):
  //   QNNPACK 3 + RNE(0.5) = 3; FBGEMM RNE(fma(0.125, 4, 3) = 3.5) = 4; ONEDNN RNE(0.5 + 3) = 4.
  // x = 0.375 → 1.5: QNNPACK 3 + 2 = 5; FBGEMM/ONEDNN RNE(4.5) = 4.
  ChosenQParams p;
  p.scale = 0.25;
  p.zero_point = 3;
  EXPECT_EQ(QuantizeActivation(0.125f, p, DynamicEngine::kQnnpack), 3);
  EXPECT_EQ(QuantizeActivation(0.125f, p, DynamicEngine::kFbgemm), 4);
  EXPECT_EQ(QuantizeActivation(0.125f, p, DynamicEngine::kOnednn), 4);
  EXPECT_EQ(QuantizeActivation(0.375f, p, DynamicEngine::kQnnpack), 5);
  EXPECT_EQ(QuantizeActivation(0.375f, p, DynamicEngine::kFbgemm), 4);
  EXPECT_EQ(QuantizeActivation(0.375f, p, DynamicEngine::kOnednn), 4);
  // Clamping: x = −10 → −40 + 3 → 0; x = 100 → 403 → 255.
  EXPECT_EQ(QuantizeActivation(-10.0f, p, DynamicEngine::kQnnpack), 0);
  EXPECT_EQ(QuantizeActivation(100.0f, p, DynamicEngine::kOnednn), 255);
}

TEST(QuantizeActivation, NearTieFusedMultiplyAdd) {
  // s = fl(1/3): inv = f32(1/f32(s)) = f32(1/s) = 3.0f. x = f32(−92.5/3) = −16165547·2^-19
  // = −0x1.ed5556p+4. x·3 = −48496641·2^-19 = −92.500001907…, whose binary32 rounding
  // (ulp 2^-17 in [64,128): 12124160.25 ulps) is exactly −92.5, a tie. zp = 120:
  //   QNNPACK: 120 + RNE(−92.5) = 120 − 92 = 28
  //   ONEDNN : RNE(f32(−92.5 + 120) = 27.5) = 28
  //   FBGEMM : fma = 120 − 92.500001907 = 27.5 − 2^-19, representable (ulp 2^-19 in [16,32))
  //            → RNE = 27
  ChosenQParams p;
  p.scale = 1.0 / 3.0;
  p.zero_point = 120;
  const float x = -0x1.ed5556p+4f;
  EXPECT_EQ(QuantizeActivation(x, p, DynamicEngine::kQnnpack), 28);
  EXPECT_EQ(QuantizeActivation(x, p, DynamicEngine::kOnednn), 28);
  EXPECT_EQ(QuantizeActivation(x, p, DynamicEngine::kFbgemm), 27);
}

TEST(DynamicEpilogue, OnednnScalesBiasFirst) {
  // s_x = fl(1/3), s_w = 0.5 per-tensor, acc = 1, b = 1:
  //   src_s = f32(1/s_x) = 3, w_inv = 2, bs = 6, op = f32(1/6) = 0x1.555556p-3, bf = 6
  //   y = f32(f32(1 + 6)·op) = f32(0x1.2aaaac4p+0) = 0x1.2aaaacp+0
  // The naive order f32(f32(acc·op) + b) = f32(1 + 0x1.555556p-3) = 0x1.2aaaaap+0 differs.
  const float y = DynamicEpilogue(1, 1.0 / 3.0, 0.5, false, 1.0f, false, DynamicEngine::kOnednn);
  EXPECT_EQ(y, 0x1.2aaaacp+0f);
}

TEST(DynamicEpilogue, QnnpackMultiplierThenBias) {
  // s_x = fl(1/3), s_w = 0.1, acc = 1000001, b = f32(0.1) = 0x1.99999ap-4:
  //   M = f32(f32(0.1)·f32(1/3)) = 0x1.111112p-5; y = f32(f32(M·1000001) + b) = 0x1.046af0p+15
  // Scaling by s_x then s_w (FBGEMM's anyarch order) gives 0x1.046af2p+15 instead.
  const float b = 0x1.99999ap-4f;
  EXPECT_EQ(DynamicEpilogue(1000001, 1.0 / 3.0, 0.1, false, b, false, DynamicEngine::kQnnpack),
            0x1.046af0p+15f);
  // FBGEMM's AVX2 epilogue is the same formula: f32(f32(acc)·f32(f32 s_x·f32 s_w)) + b.
  EXPECT_EQ(DynamicEpilogue(1000001, 1.0 / 3.0, 0.1, false, b, false, DynamicEngine::kFbgemm),
            0x1.046af0p+15f);
}

TEST(DynamicEpilogue, AccumulatorRoundsToBinary32AndRelu) {
  // acc = 2^24 + 3 → cvtdq2ps: tie between 2^24+2 and 2^24+4 → 16777220 (even); ·0.375 =
  // 6291457.5, representable (ulp 0.5 in [2^22, 2^23)). Unrounded: 16777219·0.375 = 6291457.125
  // → 6291457.0.
  for (DynamicEngine e : {DynamicEngine::kQnnpack, DynamicEngine::kFbgemm}) {
    EXPECT_EQ(DynamicEpilogue(16777219, 1.0, 0.375, false, std::nullopt, false, e), 6291457.5f)
        << DynamicEngineName(e);
  }
  // acc = 2^24 + 1 → 2^24 (tie to even); ·0.5 (s_x = 1, s_w = 0.5) = 2^23.
  for (DynamicEngine e : {DynamicEngine::kQnnpack, DynamicEngine::kFbgemm, DynamicEngine::kOnednn}) {
    EXPECT_EQ(DynamicEpilogue(16777217, 1.0, 0.5, false, std::nullopt, false, e), 8388608.0f)
        << DynamicEngineName(e);
    // ReLU: −3·0.5 + 1 = −0.5 → 0.
    EXPECT_EQ(DynamicEpilogue(-3, 1.0, 0.5, true, 1.0f, true, e), 0.0f) << DynamicEngineName(e);
  }
}

TEST(DynamicCheck, RecipesMatchLibTorchOnEveryAvailableEngine) {
  std::ostringstream log;
  const DynamicCheckResult r = RunDynamicCheck(200, 20261126, {}, log);
  ASSERT_FALSE(r.engines.empty());
  // Non-vacuous: the generator reached activations where the engines' formulas disagree.
  EXPECT_GT(r.activation_form_splits, 100) << log.str();
  for (const DynamicEngineCounts& e : r.engines) {
    EXPECT_EQ(e.cases, 200) << e.engine;
    EXPECT_GT(e.elements, 1000) << e.engine << "\n" << log.str();
    EXPECT_EQ(e.mismatches, 0) << e.engine << "\n" << log.str();
    EXPECT_LT(e.rejected, 100) << e.engine << "\n" << log.str();  // ONEDNN: asymmetric weights only
  }
}

}  // namespace
}  // namespace qdiff
