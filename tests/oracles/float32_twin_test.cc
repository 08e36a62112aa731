// The integer-only twins against hardware binary32: every soft operation against the CPU's SSE
// result, and every twin against its float recipe. Random counts scale with QDIFF_TWIN_SAMPLES
// (default 10^6 per test; the nightly run uses 10^8).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>

#include "oracles/float32_twin.h"
#include "oracles/scheme.h"

namespace qdiff {
namespace {

int64_t Samples() {
  const char* env = std::getenv("QDIFF_TWIN_SAMPLES");
  return env ? std::atoll(env) : 1000000;
}

float FromBits(Binary32 b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}

Binary32 ToBits(float f) {
  Binary32 b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

// Finite binary32 values biased toward what requantization sees: integers, small exponents,
// subnormals, and neighbours of ties.
float DrawFloat(std::mt19937_64& rng) {
  switch (rng() % 4) {
    case 0: {  // any finite bit pattern
      Binary32 b;
      do b = static_cast<Binary32>(rng()); while (((b >> 23) & 0xFF) == 0xFF);
      return FromBits(b);
    }
    case 1: return static_cast<float>(static_cast<int32_t>(rng())) ;
    case 2: return std::ldexp(static_cast<float>(static_cast<int32_t>(rng() % 4096) - 2048), -(int)(rng() % 12));
    default: return std::ldexp(static_cast<float>(rng() % (1 << 24)), (int)(rng() % 60) - 40);
  }
}

TEST(SoftBinary32, MatchesHardwareOnRandomOperands) {
  std::mt19937_64 rng(11);
  const int64_t n = Samples();
  int64_t exact_halfway = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float a = DrawFloat(rng), b = DrawFloat(rng);
    const float sum = a + b, product = a * b;
    ASSERT_EQ(SoftAdd(ToBits(a), ToBits(b)), ToBits(sum)) << a << " + " << b;
    ASSERT_EQ(SoftMul(ToBits(a), ToBits(b)), ToBits(product)) << a << " * " << b;
    if (b != 0.0f) ASSERT_EQ(SoftDiv(ToBits(a), ToBits(b)), ToBits(a / b)) << a << " / " << b;
    const int64_t k = static_cast<int64_t>(rng()) >> (rng() % 64);
    ASSERT_EQ(SoftFromInt(k), ToBits(static_cast<float>(k))) << k;
    bool out_of_range = false;
    const int32_t r = SoftToInt32Rne(ToBits(a), &out_of_range);
    const double expected = std::nearbyint(static_cast<double>(a));
    if (expected >= -2147483648.0 && expected < 2147483648.0) {
      ASSERT_FALSE(out_of_range) << a;
      ASSERT_EQ(r, static_cast<int32_t>(expected)) << a;
    } else {
      ASSERT_TRUE(out_of_range) << a;
      ASSERT_EQ(r, INT32_MIN);
    }
    exact_halfway += std::fabs(a - std::trunc(a)) == 0.5f;
  }
  std::cout << "[ soft ] " << n << " operand pairs, " << exact_halfway << " exact .5 values\n";
  EXPECT_GT(exact_halfway, 0);
}

TEST(SoftBinary32, EdgeValues) {
  bool oor = false;
  EXPECT_EQ(SoftToInt32Rne(ToBits(2.5f), &oor), 2);
  EXPECT_EQ(SoftToInt32Rne(ToBits(3.5f), &oor), 4);
  EXPECT_EQ(SoftToInt32Rne(ToBits(-2.5f), &oor), -2);
  EXPECT_EQ(SoftToInt32Rne(ToBits(2147483520.0f), &oor), 2147483520);  // largest float < 2^31
  EXPECT_FALSE(oor);
  EXPECT_EQ(SoftToInt32Rne(ToBits(2147483648.0f), &oor), INT32_MIN);  // 2^31: indefinite
  EXPECT_TRUE(oor);
  EXPECT_EQ(SoftToInt32Rne(ToBits(-2147483648.0f), &oor), INT32_MIN);  // −2^31 fits
  EXPECT_FALSE(oor);
  EXPECT_EQ(SoftFromInt((1 << 24) + 1), ToBits(16777216.0f));  // tie to even: 2^24
  EXPECT_EQ(SoftFromInt((1 << 24) + 3), ToBits(16777220.0f));  // tie to even: 2^24 + 4
  EXPECT_EQ(SoftMul(ToBits(1e-30f), ToBits(1e-30f)), ToBits(0.0f));    // underflow to +0
  EXPECT_EQ(SoftMul(ToBits(1e30f), ToBits(1e30f)), ToBits(INFINITY)); // overflow to inf
  EXPECT_EQ(SoftAdd(ToBits(1.0f), ToBits(-1.0f)), ToBits(0.0f));
  EXPECT_EQ(SoftDiv(ToBits(1.0f), ToBits(3.0f)), ToBits(1.0f / 3.0f));
  EXPECT_EQ(SoftDiv(ToBits(1e-40f), ToBits(3.0f)), ToBits(1e-40f / 3.0f));      // subnormals
  EXPECT_EQ(SoftDiv(ToBits(1e30f), ToBits(1e-30f)), ToBits(INFINITY));          // overflow to inf
  EXPECT_EQ(SoftDiv(ToBits(-7.0f), ToBits(2.0f)), ToBits(-3.5f));
  EXPECT_EQ(SoftClamp(ToBits(300.5f), 0, 255), ToBits(255.0f));
  EXPECT_EQ(SoftClamp(ToBits(-0.25f), 0, 255), ToBits(0.0f));
  EXPECT_EQ(SoftClamp(ToBits(17.75f), 0, 255), ToBits(17.75f));
}

// Random channels and accumulators for one fp32 scheme; the twin must equal the float recipe.
void CheckTwin(Scheme scheme, uint64_t seed) {
  const Recipe& recipe = GetScheme(scheme).recipe;
  std::mt19937_64 rng(seed);
  const int64_t n = Samples();
  const int64_t per_channel = 1000;
  int64_t checked = 0, large_acc = 0, saturated = 0;
  for (int64_t c = 0; c < n / per_channel; ++c) {
    ChannelQuant q;
    auto scale = [&] { return std::ldexp(1.0 + (rng() % 100000) / 1e5, -(int)(rng() % 14)); };
    q.s_x = scale();
    q.s_w = scale();
    q.per_channel = rng() % 2;
    // Channel kinds: M > 1; M ≈ 2^-17 so that |acc| ≈ 2^24 lands inside the output range (where
    // f32(acc) drops bits); or an unrelated scale.
    const int kind = static_cast<int>(rng() % 4);
    q.s_y = kind == 0   ? q.s_x * q.s_w / 4.0
            : kind == 1 ? static_cast<float>(q.s_x * q.s_w * std::ldexp(1.0 + (rng() % 1000) / 1e3, 17))
                        : scale();
    q.z_y = static_cast<int32_t>(rng() % 256);
    // A bias of up to ±150 output steps, in real units (b = steps · s_y).
    if (rng() % 4) q.bias = static_cast<float>((static_cast<double>(rng() % 300001) / 1000.0 - 150.0) * q.s_y);
    q.range = {rng() % 2 ? q.z_y : 0, 255};
    const ChannelTerms terms = PrepareChannel(q);
    const std::optional<Float32TwinParams> params = MakeFloat32TwinParams(recipe, terms);
    ASSERT_TRUE(params.has_value());
    for (int64_t i = 0; i < per_channel; ++i) {
      int64_t acc;
      // Mostly accumulators whose output lands inside [0, 255] (|acc| ≈ 256/M), some full int32.
      const double reach = 300.0 / (q.s_x * q.s_w / q.s_y);
      switch (kind == 1 ? 1 : rng() % 4) {
        case 0: acc = static_cast<int32_t>(rng()); break;
        case 1: acc = static_cast<int64_t>(rng() % (1 << 26)) - (1 << 25); break;  // around 2^24
        default:
          acc = static_cast<int64_t>(std::fmod(static_cast<double>(rng() % (1ull << 40)), 2 * reach + 1) - reach);
      }
      const int32_t twin = RequantizeFloat32Twin(*params, acc);
      const int32_t real = *EvaluateRecipe(recipe, terms, acc);
      ASSERT_EQ(twin, real) << GetScheme(scheme).name << " acc=" << acc << " s_x=" << q.s_x
                            << " s_w=" << q.s_w << " s_y=" << q.s_y << " z_y=" << q.z_y
                            << " seed=" << seed;
      ++checked;
      large_acc += std::llabs(acc) > (1 << 24);
      saturated += real == q.range.qmin || real == q.range.qmax;
    }
  }
  std::cout << "[ twin ] " << GetScheme(scheme).name << ": " << checked << " elements, "
            << large_acc << " with |acc| > 2^24, " << saturated << " at a clamp bound\n";
  EXPECT_GT(large_acc, 0);
  EXPECT_GT(checked - saturated, checked / 10);  // not vacuous: many outputs inside the range
}

TEST(Float32Twin, QnnpackFp32EqualsFloatRecipe) { CheckTwin(Scheme::kQnnpackFp32, 1); }
TEST(Float32Twin, OnednnFp32EqualsFloatRecipe) { CheckTwin(Scheme::kOnednnFp32, 2); }
TEST(Float32Twin, FbgemmFp32EqualsFloatRecipe) { CheckTwin(Scheme::kFbgemmFp32, 3); }
TEST(Float32Twin, XnnpackFp32EqualsFloatRecipe) { CheckTwin(Scheme::kXnnpackFp32, 4); }

TEST(Float32Twin, OnlyForBinary32Recipes) {
  const ChannelTerms terms = PrepareChannel(ChannelQuant{});
  EXPECT_FALSE(MakeFloat32TwinParams(GetScheme(Scheme::kExact).recipe, terms).has_value());
  EXPECT_FALSE(MakeFloat32TwinParams(GetScheme(Scheme::kDoubleRounding).recipe, terms).has_value());
}

}  // namespace
}  // namespace qdiff
