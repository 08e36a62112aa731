// Tests of the pooling recipes (oracles/ops/max_pool2d.cc, avg_pool2d.cc, adaptive_avg_pool2d.cc).
//
// Where the expected values come from (never from the code under test):
//   - the golden cases use scale 1 and divisors whose binary32 reciprocal is exact (1, 2, 4) or
//     irrelevant (the exact recipe), so each expected output follows from the window, the divisor
//     rule and the tie rule alone; the arithmetic is written beside each case;
//   - the property compares every recipe with the float64 oracle (FloatOpReal) under the
//     tolerance its formula justifies, on seeded random cases.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "oracles/model.h"
#include "oracles/ops/op_recipe.h"

namespace qdiff {
namespace {

QTensor MakeInput(DType dtype, std::vector<int64_t> shape, std::vector<int32_t> values,
                  double scale, int32_t zero_point) {
  return PerTensorQTensor(dtype, std::move(shape), std::move(values), scale, zero_point);
}

Layer PoolLayer(OpKind op, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph = 0,
                int64_t pw = 0) {
  Layer l;
  l.op = op;
  l.pool.kernel[0] = kh;
  l.pool.kernel[1] = kw;
  l.pool.stride[0] = sh;
  l.pool.stride[1] = sw;
  l.pool.padding[0] = ph;
  l.pool.padding[1] = pw;
  return l;
}

const OpRecipeDef& Recipe(const std::string& name) {
  const OpRecipeDef* r = FindOpRecipe(name);
  EXPECT_NE(r, nullptr) << name;
  static const OpRecipeDef kNull{};
  return r ? *r : kNull;
}

std::vector<int32_t> RunRecipe(const std::string& recipe, const Layer& layer, const QTensor& x) {
  const std::vector<int64_t> shape = LayerOutputShape(layer, x.shape);
  EXPECT_FALSE(shape.empty());
  return Recipe(recipe).run(layer, {x}, shape);
}

std::string EngineRecipeName(Engine engine, const Layer& layer, const QTensor& x) {
  const OpRecipeDef* r = EngineOpRecipe(engine, layer, {x});
  return r ? r->name : "(none)";
}

// ---------------------------------------------------------------------------------------------
// Golden cases.

TEST(PoolingRecipes, ListsExactFirstAndNamesByOp) {
  for (OpKind op : {OpKind::kMaxPool2d, OpKind::kAvgPool2d, OpKind::kAdaptiveAvgPool2d}) {
    const auto& recipes = OpRecipes(op);
    ASSERT_GE(recipes.size(), 2u);
    EXPECT_EQ(std::string(recipes.front()->name), std::string(OpKindName(op)) + ".exact");
    EXPECT_EQ(recipes.front()->ingredients.arithmetic, OpArithmetic::kExact);
    for (const OpRecipeDef* r : recipes) {
      EXPECT_EQ(r->op, op);
      EXPECT_EQ(std::string(r->name).rfind(std::string(OpKindName(op)) + ".", 0), 0u) << r->name;
    }
  }
}

// 2×2 window, stride 2, s = 1, z = 1, q = {1,1,1,3}: c = Σ(q−z) = 2, mean 2/4 = 0.5 exactly
// (m = f32(1/4) = 0.25 in every formula).
//   exact / nhwc (zp after rounding): RNE(0.5) + 1 = 0 + 1 = 1
//   nchw (zp before rounding):        RNE(0.5 + 1) = RNE(1.5) = 2
//   qnnpack (zp after rounding):      RNE(0.5) + 1 = 1
TEST(AvgPoolGolden, TieSeparatesZeroPointOrder) {
  const Layer l = PoolLayer(OpKind::kAvgPool2d, 2, 2, 2, 2);
  const QTensor x = MakeInput(DType::kQUInt8, {1, 1, 2, 2}, {1, 1, 1, 3}, 1.0, 1);
  EXPECT_EQ(RunRecipe("avg_pool2d.exact", l, x), std::vector<int32_t>{1});
  EXPECT_EQ(RunRecipe("avg_pool2d.nchw_fp32", l, x), std::vector<int32_t>{2});
  EXPECT_EQ(RunRecipe("avg_pool2d.nhwc_fp32", l, x), std::vector<int32_t>{1});
  EXPECT_EQ(RunRecipe("avg_pool2d.qnnpack", l, x), std::vector<int32_t>{1});
  // Same for qint8 with z = −1, q = {−1,−1,−1,1}: c = 2; nchw RNE(0.5 − 1) = RNE(−0.5) = −0 = 0,
  // nhwc RNE(0.5) − 1 = −1.
  const QTensor xs = MakeInput(DType::kQInt8, {1, 1, 2, 2}, {-1, -1, -1, 1}, 1.0, -1);
  EXPECT_EQ(RunRecipe("avg_pool2d.nchw_fp32", l, xs), std::vector<int32_t>{0});
  EXPECT_EQ(RunRecipe("avg_pool2d.nhwc_fp32", l, xs), std::vector<int32_t>{-1});
}

// x = [[6,10],[14,3]], z = 0, s = 1, kernel 2, stride 2, padding 1 → 2×2 output, each window
// holds one valid pixel and three padding positions.
//   count_include_pad: 6/4 = 1.5 → 2, 10/4 = 2.5 → 2, 14/4 = 3.5 → 4, 3/4 = 0.75 → 1
//   valid count:       6, 10, 14, 3
//   QNNPACK ignores count_include_pad: always /4 → 2, 2, 4, 1
TEST(AvgPoolGolden, CountIncludePadAtPaddedBorder) {
  Layer l = PoolLayer(OpKind::kAvgPool2d, 2, 2, 2, 2, 1, 1);
  const QTensor x = MakeInput(DType::kQUInt8, {1, 1, 2, 2}, {6, 10, 14, 3}, 1.0, 0);
  const std::vector<int32_t> with_pad = {2, 2, 4, 1}, valid = {6, 10, 14, 3};
  l.pool.count_include_pad = true;
  for (const char* r : {"avg_pool2d.exact", "avg_pool2d.nchw_fp32", "avg_pool2d.nhwc_fp32"}) {
    EXPECT_EQ(RunRecipe(r, l, x), with_pad) << r;
  }
  l.pool.count_include_pad = false;
  for (const char* r : {"avg_pool2d.exact", "avg_pool2d.nchw_fp32", "avg_pool2d.nhwc_fp32"}) {
    EXPECT_EQ(RunRecipe(r, l, x), valid) << r;
  }
  EXPECT_EQ(RunRecipe("avg_pool2d.qnnpack", l, x), with_pad);
  l.pool.divisor_override = 1;  // also ignored by QNNPACK
  EXPECT_EQ(RunRecipe("avg_pool2d.qnnpack", l, x), with_pad);
  EXPECT_EQ(RunRecipe("avg_pool2d.exact", l, x), valid);  // divisor 1
}

// Same input, no padding: one window, sum 33.
//   divisor_override 2: 33/2 = 16.5 → 16 (half to even), beats count_include_pad (4) and the
//   valid count (4); override 4 → 33/4 = 8.25 → 8.
TEST(AvgPoolGolden, DivisorOverride) {
  Layer l = PoolLayer(OpKind::kAvgPool2d, 2, 2, 2, 2);
  const QTensor x = MakeInput(DType::kQUInt8, {1, 1, 2, 2}, {6, 10, 14, 3}, 1.0, 0);
  l.pool.divisor_override = 2;
  l.pool.count_include_pad = false;
  for (const char* r : {"avg_pool2d.exact", "avg_pool2d.nchw_fp32", "avg_pool2d.nhwc_fp32"}) {
    EXPECT_EQ(RunRecipe(r, l, x), std::vector<int32_t>{16}) << r;
  }
  l.pool.divisor_override = 4;
  EXPECT_EQ(RunRecipe("avg_pool2d.exact", l, x), std::vector<int32_t>{8});
  l.pool.divisor_override = 0;
  EXPECT_EQ(RunRecipe("avg_pool2d.exact", l, x), std::vector<int32_t>{8});  // 33/4 = 8.25 → 8
}

// 1×4 row [2,4,6,9], z = 0, kernel (1,3), stride (1,2), padding (0,1), ceil_mode:
// OW = ⌈(4 + 2 − 3)/2⌉ + 1 = 3 (the last window starts at 3 < 4 + 1, kept).
//   o=0: start −1, end min(2, 5) = 2, span 3, valid {2,4}:   cip 6/3 = 2,    valid 6/2 = 3
//   o=1: start 1,  end min(4, 5) = 4, span 3, valid {4,6,9}: 19/3 = 6.33 → 6 both
//   o=2: start 3,  end min(6, 5) = 5, span 2 (col 3 + one padding col; the col past I+p is not
//        counted), valid {9}:                                 cip 9/2 = 4.5 → 4, valid 9
TEST(AvgPoolGolden, CeilModeWindowStopsAtInputPlusPadding) {
  Layer l = PoolLayer(OpKind::kAvgPool2d, 1, 3, 1, 2, 0, 1);
  l.pool.ceil_mode = true;
  const QTensor x = MakeInput(DType::kQUInt8, {1, 1, 1, 4}, {2, 4, 6, 9}, 1.0, 0);
  ASSERT_EQ(LayerOutputShape(l, x.shape), (std::vector<int64_t>{1, 1, 1, 3}));
  l.pool.count_include_pad = true;
  EXPECT_EQ(RunRecipe("avg_pool2d.exact", l, x), (std::vector<int32_t>{2, 6, 4}));
  EXPECT_EQ(RunRecipe("avg_pool2d.nchw_fp32", l, x), (std::vector<int32_t>{2, 6, 4}));
  l.pool.count_include_pad = false;
  EXPECT_EQ(RunRecipe("avg_pool2d.exact", l, x), (std::vector<int32_t>{3, 6, 9}));
}

// qint8, z = 0, x = [[−5,−7],[−9,−3]], kernel 2, stride 1, padding 1 → 3×3. Padding never
// wins (it would give 0): corners are single pixels, edges pairs, the centre all four.
TEST(MaxPoolGolden, PaddingNeverWins) {
  const Layer l = PoolLayer(OpKind::kMaxPool2d, 2, 2, 1, 1, 1, 1);
  const QTensor x = MakeInput(DType::kQInt8, {1, 1, 2, 2}, {-5, -7, -9, -3}, 0.5, 0);
  const std::vector<int32_t> want = {-5, -5, -7, -5, -3, -3, -9, -3, -3};
  EXPECT_EQ(RunRecipe("max_pool2d.exact", l, x), want);
  EXPECT_EQ(RunRecipe("max_pool2d.qnnpack", l, x), want);  // no dilation: clamped taps stay inside
}

// Row [9,1,2,3], kernel (1,2), dilation (1,2), padding (0,1), stride 1 → OW = (4+2−2−1)+1 = 4.
//   taps of o: o−1, o+1.  exact (skip outside):   o=0 {1}→1, o=1 {9,2}→9, o=2 {1,3}→3, o=3 {2}→2
//   QNNPACK clamps taps to [0,3]: o=0 {9,1}→9 (tap −1 reads pixel 0), o=3 {2,3}→3 (tap 4 → 3).
TEST(MaxPoolGolden, QnnpackClampsDilatedPaddingTapsToTheEdge) {
  Layer l = PoolLayer(OpKind::kMaxPool2d, 1, 2, 1, 1, 0, 1);
  l.pool.dilation[1] = 2;
  const QTensor x = MakeInput(DType::kQUInt8, {1, 1, 1, 4}, {9, 1, 2, 3}, 1.0, 0);
  EXPECT_EQ(RunRecipe("max_pool2d.exact", l, x), (std::vector<int32_t>{1, 9, 3, 2}));
  EXPECT_EQ(RunRecipe("max_pool2d.qnnpack", l, x), (std::vector<int32_t>{9, 9, 3, 3}));
}

// 1×2 row, output 1×1 (one window of 2), z = 1, q = {1,2}:
//   exact / nhwc: c = 0 + 1 = 1, 1/2 = 0.5 → 0, + z = 1
//   nchw: raw Σq = 3, r = f32(f32(1/1)/1)/2 = 0.5 → RNE(1.5) = 2 (zp inside the sum)
// Row [1,2,3,4,5] to 3 outputs, windows [⌊o·5/3⌋, ⌈(o+1)·5/3⌉) = [0,2), [1,4), [3,5):
//   means 1.5 → 2, 3, 4.5 → 4.
TEST(AdaptiveAvgPoolGolden, RawSumAndWindows) {
  Layer l;
  l.op = OpKind::kAdaptiveAvgPool2d;
  l.pool.output_size[0] = 1;
  l.pool.output_size[1] = 1;
  const QTensor x = MakeInput(DType::kQUInt8, {1, 1, 1, 2}, {1, 2}, 1.0, 1);
  EXPECT_EQ(RunRecipe("adaptive_avg_pool2d.exact", l, x), std::vector<int32_t>{1});
  EXPECT_EQ(RunRecipe("adaptive_avg_pool2d.nchw_fp32", l, x), std::vector<int32_t>{2});
  EXPECT_EQ(RunRecipe("adaptive_avg_pool2d.nhwc_fp32", l, x), std::vector<int32_t>{1});
  EXPECT_EQ(RunRecipe("adaptive_avg_pool2d.qnnpack", l, x), std::vector<int32_t>{1});

  l.pool.output_size[1] = 3;
  const QTensor row = MakeInput(DType::kQUInt8, {1, 1, 1, 5}, {1, 2, 3, 4, 5}, 1.0, 0);
  for (const char* r : {"adaptive_avg_pool2d.exact", "adaptive_avg_pool2d.nchw_fp32",
                        "adaptive_avg_pool2d.nhwc_fp32"}) {
    EXPECT_EQ(RunRecipe(r, l, row), (std::vector<int32_t>{2, 3, 4})) << r;
  }
}

// NHWC avg pool in a layer with C = 9: channel 8 takes the quantize_val tail. With s_y = s_x the
// multipliers m and f32(1/f32(1/m)) coincide for every integer divisor, so the tail gives the
// vector channels' result; every channel gets the tie case above → 1.
TEST(AvgPoolGolden, NhwcTailChannelMatchesVectorChannels) {
  const Layer l = PoolLayer(OpKind::kAvgPool2d, 2, 2, 2, 2);
  std::vector<int32_t> v;
  for (int c = 0; c < 9; ++c) v.insert(v.end(), {1, 1, 1, 3});
  const QTensor x = MakeInput(DType::kQUInt8, {1, 9, 2, 2}, v, 1.0, 1);
  EXPECT_EQ(RunRecipe("avg_pool2d.nhwc_fp32", l, x), std::vector<int32_t>(9, 1));
}

TEST(PoolingEngines, SelectsTheLibTorchPath) {
  Layer avg = PoolLayer(OpKind::kAvgPool2d, 2, 2, 2, 2);
  const QTensor u8 = MakeInput(DType::kQUInt8, {1, 2, 4, 4}, std::vector<int32_t>(32, 3), 0.1, 3);
  const QTensor s8 = MakeInput(DType::kQInt8, {1, 2, 4, 4}, std::vector<int32_t>(32, 3), 0.1, 3);
  EXPECT_EQ(EngineRecipeName(Engine::kQnnpack, avg, u8), "avg_pool2d.qnnpack");
  EXPECT_EQ(EngineRecipeName(Engine::kQnnpack, avg, s8), "avg_pool2d.nchw_fp32");
  EXPECT_EQ(EngineRecipeName(Engine::kOnednn, avg, u8), "avg_pool2d.nchw_fp32");
  EXPECT_EQ(EngineRecipeName(Engine::kFbgemm, avg, u8), "avg_pool2d.nchw_fp32");
  avg.channels_last = true;
  EXPECT_EQ(EngineRecipeName(Engine::kOnednn, avg, u8), "avg_pool2d.nhwc_fp32");
  EXPECT_EQ(EngineRecipeName(Engine::kX86, avg, s8), "avg_pool2d.nhwc_fp32");
  EXPECT_EQ(EngineRecipeName(Engine::kQnnpack, avg, u8), "avg_pool2d.qnnpack");  // any layout
  avg.pool.ceil_mode = true;
  EXPECT_EQ(EngineRecipeName(Engine::kQnnpack, avg, u8), "avg_pool2d.nhwc_fp32");
  avg.channels_last = false;
  // C == 1 (or H·W == 1): an NCHW tensor is also channels-last contiguous → NHWC kernel.
  const QTensor one_c = MakeInput(DType::kQUInt8, {1, 1, 4, 4}, std::vector<int32_t>(16, 3), 0.1, 3);
  EXPECT_EQ(EngineRecipeName(Engine::kOnednn, avg, one_c), "avg_pool2d.nhwc_fp32");

  Layer mx = PoolLayer(OpKind::kMaxPool2d, 2, 2, 2, 2);
  // QNNPACK's edge-clamped taps are a LibTorch bug: its path is the exact max, and
  // max_pool2d.qnnpack only classifies (OpRecipeDef::libtorch_bug).
  EXPECT_EQ(EngineRecipeName(Engine::kQnnpack, mx, u8), "max_pool2d.exact");
  EXPECT_NE(FindOpRecipe("max_pool2d.qnnpack")->libtorch_bug, nullptr);
  EXPECT_EQ(EngineRecipeName(Engine::kQnnpack, mx, s8), "max_pool2d.exact");
  EXPECT_EQ(EngineRecipeName(Engine::kOnednn, mx, u8), "max_pool2d.exact");

  Layer ad;
  ad.op = OpKind::kAdaptiveAvgPool2d;
  ad.pool.output_size[0] = 2;
  ad.pool.output_size[1] = 2;  // 4 % 2 == 0, 4 != 2
  EXPECT_EQ(EngineRecipeName(Engine::kQnnpack, ad, u8), "adaptive_avg_pool2d.qnnpack");
  EXPECT_EQ(EngineRecipeName(Engine::kQnnpack, ad, s8), "adaptive_avg_pool2d.nchw_fp32");
  ad.pool.output_size[1] = 3;  // 4 % 3 != 0
  EXPECT_EQ(EngineRecipeName(Engine::kQnnpack, ad, u8), "adaptive_avg_pool2d.nchw_fp32");
  ad.pool.output_size[0] = 4;
  ad.pool.output_size[1] = 4;  // equal sizes
  EXPECT_EQ(EngineRecipeName(Engine::kQnnpack, ad, u8), "adaptive_avg_pool2d.nchw_fp32");
  ad.channels_last = true;
  EXPECT_EQ(EngineRecipeName(Engine::kOnednn, ad, u8), "adaptive_avg_pool2d.nhwc_fp32");
}

TEST(PoolingEngines, RejectsQnnpackOneByOneKernels) {
  const QTensor u8 = MakeInput(DType::kQUInt8, {1, 2, 4, 4}, std::vector<int32_t>(32, 3), 0.1, 3);
  const QTensor s8 = MakeInput(DType::kQInt8, {1, 2, 4, 4}, std::vector<int32_t>(32, 3), 0.1, 3);
  for (OpKind op : {OpKind::kAvgPool2d, OpKind::kMaxPool2d}) {
    Layer l = PoolLayer(op, 1, 1, 1, 1);
    EXPECT_NE(OpRejectionReason(Engine::kQnnpack, l, {u8}), "") << OpKindName(op);
    EXPECT_EQ(OpRejectionReason(Engine::kQnnpack, l, {s8}), "") << OpKindName(op);
    EXPECT_EQ(OpRejectionReason(Engine::kOnednn, l, {u8}), "") << OpKindName(op);
    l.pool.ceil_mode = true;  // default kernel
    EXPECT_EQ(OpRejectionReason(Engine::kQnnpack, l, {u8}), "") << OpKindName(op);
    l = PoolLayer(op, 1, 2, 1, 1);
    EXPECT_EQ(OpRejectionReason(Engine::kQnnpack, l, {u8}), "") << OpKindName(op);
  }
}

// ---------------------------------------------------------------------------------------------
// Property: every recipe stays within the tolerance its formula justifies of the float oracle.
//
// v = real / s_y + z_y (real from FloatOpReal, dequantized as LibTorch does). Each recipe
// rounds once; the binary32 paths add relative errors ≤ a few 2^-24 to a mean of magnitude ≤ 255
// (multiplier m = f32(1/div), f32(c), f32 dequantization), far below kSlack. Hence
//   avg / adaptive, all recipes: |y − clamp(v)| ≤ 0.5 + kSlack
// (the QNNPACK recipes against the mean with divisor kH·kW: they ignore count_include_pad and
// divisor_override), and max_pool2d.exact: y == clamp(RNE(v)). max_pool2d.qnnpack equals the
// exact max when dilation is 1 (clamped taps stay inside the window's own range).
constexpr double kSlack = 1e-3;

struct Counters {
  int64_t elements = 0, ties = 0, distinct_outputs_cases = 0;
};

TEST(PoolingProperty, RecipesStayWithinHalfAnLsbOfTheFloatOracle) {
  const uint32_t seed = 20261126;
  std::mt19937 rng(seed);
  auto U = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  Counters n;
  int cases = 0;
  for (int it = 0; it < 3000; ++it) {
    const OpKind op = it % 3 == 0 ? OpKind::kMaxPool2d
                                  : it % 3 == 1 ? OpKind::kAvgPool2d : OpKind::kAdaptiveAvgPool2d;
    QTensor x;
    x.dtype = U(0, 1) ? DType::kQUInt8 : DType::kQInt8;
    x.shape = {U(1, 2), U(1, 10), U(1, 7), U(1, 7)};
    const QuantRange range = TypeRange(x.dtype);
    const double s = std::ldexp(1.0 + U(0, 1023) / 1024.0, U(-8, 2));
    x.scales = {s};
    x.zero_points = {U(range.qmin, range.qmax)};
    for (int64_t i = 0; i < x.NumElements(); ++i) {
      x.values.push_back(U(0, 1) ? U(range.qmin, range.qmax)
                                 : std::clamp(x.zero_points[0] + U(-5, 5), range.qmin,
                                              range.qmax));
    }
    Layer l;
    l.op = op;
    l.channels_last = U(0, 1);
    for (int d = 0; d < 2; ++d) {
      l.pool.kernel[d] = U(1, 4);
      l.pool.stride[d] = U(1, 3);
      l.pool.padding[d] = U(0, static_cast<int>(l.pool.kernel[d] / 2));
      l.pool.dilation[d] = op == OpKind::kMaxPool2d ? U(1, 2) : 1;
      l.pool.output_size[d] = U(1, static_cast<int>(x.shape[2 + d]));
    }
    l.pool.ceil_mode = U(0, 1);
    l.pool.count_include_pad = U(0, 1);
    l.pool.divisor_override = U(0, 3) == 0 ? U(1, 9) : 0;
    const std::vector<int64_t> shape = LayerOutputShape(l, x.shape);
    if (shape.empty()) continue;
    ++cases;
    const std::vector<QTensor> in = {x};
    const OutputQParams q = LayerOutputQParams(l, x);
    const std::vector<double> real = FloatOpReal(l, in, shape);
    // QNNPACK's own divisor rule: always kH·kW (adaptive: the window is exactly k×k).
    Layer l_qnnpack = l;
    l_qnnpack.pool.count_include_pad = true;
    l_qnnpack.pool.divisor_override = 0;
    const std::vector<double> real_qnnpack = FloatOpReal(l_qnnpack, in, shape);
    const bool adaptive_qnnpack_ok = op == OpKind::kAdaptiveAvgPool2d &&
                                     x.shape[2] % shape[2] == 0 && x.shape[3] % shape[3] == 0;
    for (const OpRecipeDef* r : OpRecipes(op)) {
      if (r->libtorch_bug) continue;  // reproduces a LibTorch bug: permuted, not approximate
      const std::string name = r->name;
      const bool qnnpack = name.find("qnnpack") != std::string::npos;
      if (qnnpack && x.dtype != DType::kQUInt8) continue;
      if (name == "avg_pool2d.qnnpack" && l.pool.ceil_mode) continue;
      if (name == "adaptive_avg_pool2d.qnnpack" && !adaptive_qnnpack_ok) continue;
      if (name == "max_pool2d.qnnpack" && (l.pool.dilation[0] > 1 || l.pool.dilation[1] > 1 ||
                                           l.pool.ceil_mode)) {
        continue;
      }
      const std::vector<int32_t> y = r->run(l, in, shape);
      ASSERT_EQ(y.size(), real.size()) << name;
      const std::vector<double>& ref = name == "avg_pool2d.qnnpack" ? real_qnnpack : real;
      bool distinct = false;
      for (size_t i = 0; i < y.size(); ++i) {
        const double v = ref[i] / q.scale + q.zero_point;
        const double vc = std::clamp<double>(v, range.qmin, range.qmax);
        std::ostringstream where;
        where << name << " seed " << seed << " iteration " << it << " element " << i << " x "
              << x.shape[0] << "x" << x.shape[1] << "x" << x.shape[2] << "x" << x.shape[3]
              << " k " << l.pool.kernel[0] << "x" << l.pool.kernel[1] << " s "
              << l.pool.stride[0] << "x" << l.pool.stride[1] << " p " << l.pool.padding[0]
              << "x" << l.pool.padding[1] << " ceil " << l.pool.ceil_mode << " cip "
              << l.pool.count_include_pad << " div " << l.pool.divisor_override << " scale "
              << s << " zp " << x.zero_points[0] << " y " << y[i] << " v " << v;
        if (op == OpKind::kMaxPool2d) {
          ASSERT_EQ(y[i], static_cast<int32_t>(std::nearbyint(vc))) << where.str();
        } else {
          ASSERT_LE(std::abs(y[i] - vc), 0.5 + kSlack) << where.str();
          if (std::abs(std::abs(v - std::floor(v)) - 0.5) < 1e-9) ++n.ties;
        }
        distinct |= y[i] != y[0];
        ++n.elements;
      }
      n.distinct_outputs_cases += distinct;
    }
  }
  // Refuse to pass vacuously: many cases, outputs that vary, and exact .5 ties exercised.
  EXPECT_GT(cases, 2000);
  EXPECT_GT(n.elements, 100000);
  EXPECT_GT(n.distinct_outputs_cases, 1000);
  EXPECT_GT(n.ties, 500);
  std::printf("[pooling property] cases %d, elements %lld, ties %lld\n", cases,
              static_cast<long long>(n.elements), static_cast<long long>(n.ties));
}

}  // namespace
}  // namespace qdiff
