// Every scheme at the ends of the accumulator and multiplier ranges, with hand-derived outputs.
#include <gtest/gtest.h>

#include <climits>

#include "oracles/scheme.h"

namespace qdiff {
namespace {

struct Extreme {
  const char* what;
  double s_x, s_w, s_y;
  int32_t z_y;
  int64_t acc;
  int32_t expected;              // every scheme, unless listed below
  int32_t expected_cvt_overflow; // qnnpack_fp32 and fbgemm_fp32 (cvtps2dq overflow → qmin)
};

// M = s_x·s_w/s_y. Derivations:
// - M = 2^-31 (s_x 2^-16, s_w 2^-15, s_y 1): INT32_MAX·2^-31 = 1 − 2^-31 → 1; f32(INT32_MAX) = 2^31
//   → exactly 1; double_rounding: Q31 {2^30, −30}, SRDHM(2^31−1, 2^30) = (2^61 − 2^30 + 2^30)/2^31
//   = 2^30 (tie up), RDivPOT(2^30, 30) = 1. So 1 + 128 = 129. INT32_MIN·2^-31 = −1 exactly → 127.
// - M = 1 (2^-4·2^-4/2^-8): INT32_MAX → far above 255 → 255, except that f32(INT32_MAX) = 2^31 and
//   2^31·1 overflows cvtps2dq → INT32_MIN → range minimum 0 (QNNPACK, FBGEMM); onednn_fp32 and
//   xnnpack_fp32 clamp in float first → 255; double_rounding: Q31 {2^30, 1}, x·2 saturates to
//   INT32_MAX, SRDHM(INT32_MAX, 2^30) = 2^30 → 2^30 + 128 → 255. INT32_MIN → −2^31 (+128) → 0 for all.
// - M just below 1 (s_x = 1 − 2^-24, s_w = s_y = 1), acc 100, z 0: 99.999994 → 100 for all
//   (f32(100·M) = 99.9999924; Q31 {2^31 − 128, 0}: 100·(1 − 2^-24) → 100).
const Extreme kExtremes[] = {
    {"INT32_MAX, M = 2^-31", 0x1p-16, 0x1p-15, 1.0, 128, INT32_MAX, 129, 129},
    {"INT32_MIN, M = 2^-31", 0x1p-16, 0x1p-15, 1.0, 128, INT32_MIN, 127, 127},
    {"INT32_MAX, M = 1", 0x1p-4, 0x1p-4, 0x1p-8, 128, INT32_MAX, 255, 0},
    {"INT32_MIN, M = 1", 0x1p-4, 0x1p-4, 0x1p-8, 128, INT32_MIN, 0, 0},
    {"100, M = 1 - 2^-24", 1.0 - 0x1p-24, 1.0, 1.0, 0, 100, 100, 100},
};

TEST(SchemeExtremes, AccumulatorAndMultiplierRangeEnds) {
  int64_t checked = 0;
  for (const Extreme& e : kExtremes) {
    ChannelQuant q;
    q.s_x = e.s_x;
    q.s_w = e.s_w;
    q.s_y = e.s_y;
    q.z_y = e.z_y;
    q.range = {0, 255};
    const ChannelTerms t = PrepareChannel(q);
    for (const SchemeDef* s : AllSchemes()) {
      const bool cvt = s->id == Scheme::kQnnpackFp32 || s->id == Scheme::kFbgemmFp32;
      const std::optional<int32_t> y = EvaluateRecipe(s->recipe, t, e.acc);
      ASSERT_TRUE(y.has_value()) << s->name;
      EXPECT_EQ(*y, cvt ? e.expected_cvt_overflow : e.expected) << e.what << ", " << s->name;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 5 * static_cast<int64_t>(AllSchemes().size()));
}

}  // namespace
}  // namespace qdiff
