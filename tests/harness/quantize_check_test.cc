// LibTorch's quantize_per_tensor / quantize_per_channel / dequantize against qdiff's formulas.
#include <gtest/gtest.h>

#include <sstream>

#include "harness/torch/libtorch_runner.h"
#include "harness/checks/quantize_check.h"

namespace qdiff {
namespace {

TEST(QuantizeCheck, HandDerivedTiesRoundToEvenBeforeTheZeroPoint) {
  InitLibTorch();
  // scale 0.25: x·4 = 1.5 → 2, 2.5 → 2, −2.5 → −2, 300 → clamped; + zp 10: 12, 12, 8, 255.
  QTensor p{DType::kQUInt8, {4}, {}, {0.25}, {10}, -1};
  const QuantizeOutcome q = QuantizeOnLibTorch({0.375f, 0.625f, -0.625f, 300.0f}, p);
  ASSERT_FALSE(q.rejected) << q.message;
  EXPECT_EQ(q.values, (std::vector<int32_t>{12, 12, 8, 255}));
  // dequantize: 0.25·(q − 10) = 0.5, 0.5, −0.5, 61.25.
  EXPECT_EQ(q.dequantized, (std::vector<float>{0.5f, 0.5f, -0.5f, 61.25f}));
  // Per channel along axis 0, qint8: channel 1 has scale 0.5, zp −3: 1.25/0.5 = 2.5 → 2 − 3 = −1.
  QTensor pc{DType::kQInt8, {2, 1}, {}, {0.25, 0.5}, {0, -3}, 0};
  const QuantizeOutcome qc = QuantizeOnLibTorch({0.125f, 1.25f}, pc);
  ASSERT_FALSE(qc.rejected) << qc.message;
  EXPECT_EQ(qc.values, (std::vector<int32_t>{0, -1}));  // 0.125/0.25 = 0.5 → 0
}

TEST(QuantizeCheck, RandomTensorsAgreeBitForBit) {
  std::ostringstream log;
  const QuantizeCheckResult r = RunQuantizeCheck(400, 3, log);
  EXPECT_EQ(r.quantize_mismatches, 0) << log.str();
  EXPECT_EQ(r.dequantize_mismatches, 0) << log.str();
  EXPECT_EQ(r.rejected, 0) << log.str();
  EXPECT_GT(r.ties, 100);  // not vacuous: exact ties were exercised
  EXPECT_GT(r.elements, 1000);
}

}  // namespace
}  // namespace qdiff
