// PyTorch 1.13 observer arithmetic (oracles/observers.h) on hand-derived values.
#include <gtest/gtest.h>

#include "oracles/observers.h"

namespace qdiff {
namespace {

TEST(Observers, Ranges) {
  EXPECT_EQ(ObserverRange(DType::kQUInt8, false).qmax, 255);
  EXPECT_EQ(ObserverRange(DType::kQUInt8, true).qmax, 127);
  EXPECT_EQ(ObserverRange(DType::kQInt8, true).qmin, -64);
  EXPECT_EQ(ObserverRange(DType::kQInt8, true).qmax, 63);
  // Custom [-127, 127] with reduce_range: floor division, −127 // 2 = −64, 127 // 2 = 63.
  const QuantRange r = ObserverRange(DType::kQInt8, true, QuantRange{-127, 127});
  EXPECT_EQ(r.qmin, -64);
  EXPECT_EQ(r.qmax, 63);
}

TEST(Observers, MinMaxAffine) {
  // [-1, 1] over 255 steps: scale = f32(2/255) = 0x1.010102p-7; −1/scale = −127.49999… in float
  // (f32(255/2) rounded down), RNE → −127, zp = 0 − (−127) = 127.
  const QParams q = MinMaxQParams(-1.0f, 1.0f, DType::kQUInt8, QScheme::kAffine, false);
  EXPECT_EQ(q.scale, static_cast<double>(0x1.010102p-7f));
  EXPECT_EQ(q.zero_point, 127);
  // reduce_range: [0, 1.27] over 127 steps: scale = f32(f32(1.27)/127) = 0.01f; zp = 0.
  const QParams r = MinMaxQParams(0.0f, 1.27f, DType::kQUInt8, QScheme::kAffine, true);
  EXPECT_EQ(r.scale, static_cast<double>(1.27f / 127.0f));
  EXPECT_EQ(r.zero_point, 0);
  // The range is extended to include 0: [2, 4] behaves as [0, 4]: scale 4/255, zp 0.
  EXPECT_EQ(MinMaxQParams(2.0f, 4.0f, DType::kQUInt8, QScheme::kAffine, false).zero_point, 0);
  // Nothing observed but zeros: scale = eps = 2^-23, zp = 0.
  const QParams z = MinMaxQParams(0.0f, 0.0f, DType::kQUInt8, QScheme::kAffine, false);
  EXPECT_EQ(z.scale, 0x1p-23);
  EXPECT_EQ(z.zero_point, 0);
}

TEST(Observers, MinMaxSymmetric) {
  // max(|−0.5|, 0.25) = 0.5 over 127.5: scale = f32(0.5/127.5) = f32(1/255); zp 0 for qint8.
  const QParams q = MinMaxQParams(-0.5f, 0.25f, DType::kQInt8, QScheme::kSymmetric, false);
  EXPECT_EQ(q.scale, static_cast<double>(0.5f / 127.5f));
  EXPECT_EQ(q.zero_point, 0);
  // quint8 symmetric: zp 128; with a custom range [0, 200]: (0 + 200) / 2 = 100.
  EXPECT_EQ(MinMaxQParams(-1.0f, 1.0f, DType::kQUInt8, QScheme::kSymmetric, false).zero_point, 128);
  EXPECT_EQ(MinMaxQParams(-1.0f, 1.0f, DType::kQUInt8, QScheme::kSymmetric, false, QuantRange{0, 200})
                .zero_point, 100);
  // ±max maps to ±127.5 when the scale's inverse is exact: max = 127.5·2^-7 gives scale 2^-7,
  // so +max → RNE(127.5) = 128 → clamped 127 and −max → −128 (docs/semantics.md#observer-qparams).
  const QParams e = MinMaxQParams(-0.99609375f, 0.5f, DType::kQInt8, QScheme::kSymmetric, false);
  EXPECT_EQ(e.scale, 0x1p-7);
  EXPECT_EQ(QuantizeValue(0.99609375f, e.scale, 0, DType::kQInt8), 127);
  EXPECT_EQ(QuantizeValue(-0.99609375f, e.scale, 0, DType::kQInt8), -128);
  // With scale f32(1/255) the inverse is f32(254.99998…) < 255, so ±0.5 → ±127.49999 → ±127.
  EXPECT_EQ(QuantizeValue(-0.5f, q.scale, 0, DType::kQInt8), -127);
}

TEST(Observers, MovingAverage) {
  // First batch [−1, 1]; second [−3, 5]: −1 + 0.01·(−2) = −1.02, 1 + 0.01·4 = 1.04 (float32).
  const auto [lo, hi] = MovingAverageMinMax({{-1.0f, 1.0f}, {-3.0f, 5.0f}});
  EXPECT_EQ(lo, -1.0f + 0.01f * -2.0f);
  EXPECT_EQ(hi, 1.0f + 0.01f * 4.0f);
  EXPECT_NE(lo, -3.0f);  // not a running minimum
}

TEST(Observers, QuantizeValueTiesToEvenThenZeroPoint) {
  // scale 0.25 (exact inverse 4): 0.375·4 = 1.5 → 2; 0.625·4 = 2.5 → 2; then + zp 10.
  EXPECT_EQ(QuantizeValue(0.375f, 0.25, 10, DType::kQUInt8), 12);
  EXPECT_EQ(QuantizeValue(0.625f, 0.25, 10, DType::kQUInt8), 12);
  EXPECT_EQ(QuantizeValue(-0.625f, 0.25, 10, DType::kQUInt8), 8);
  EXPECT_EQ(QuantizeValue(100.0f, 0.25, 10, DType::kQUInt8), 255);  // clamped to the type
  EXPECT_EQ(QuantizeValue(-100.0f, 0.25, 10, DType::kQUInt8), 0);
}

}  // namespace
}  // namespace qdiff
