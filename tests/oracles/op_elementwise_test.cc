// Tests of the elementwise op recipes (oracles/ops/add.cc, mul.cc, cat.cc, clamps.cc, hardswish.cc,
// sigmoid.cc, hardsigmoid.cc, leaky_relu.cc, flatten.cc).
//
// Expected values are derived by hand in the comments (never by calling the code under test):
// the golden cases use power-of-two scales, so every dequantized value and every ratio is exact
// and the expected output follows from the tie rule or bound rule of each path alone. The
// property test checks every recipe against the float oracle within the 1-LSB tolerance its
// formula justifies. Bit-exact agreement with LibTorch itself was measured separately (a scratch
// program outside the repo; see the op files' comments for the verified facts).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "oracles/model.h"
#include "oracles/ops/op_recipe.h"

namespace qdiff {
namespace {

QTensor MakeTensor(DType dtype, std::vector<int64_t> shape, double scale, int32_t zp,
                   std::vector<int32_t> values) {
  return PerTensorQTensor(dtype, std::move(shape), std::move(values), scale, zp);
}

std::vector<int32_t> RunRecipe(const char* recipe, const Layer& layer, const std::vector<QTensor>& in) {
  const OpRecipeDef* r = FindOpRecipe(recipe);
  EXPECT_NE(r, nullptr) << recipe;
  if (r == nullptr) return {};
  std::vector<std::vector<int64_t>> shapes;
  for (const QTensor& t : in) shapes.push_back(t.shape);
  return r->run(layer, in, LayerOutputShape(layer, shapes));
}

// ---------------------------------------------------------------------------------------------
// add: s_a = s_b = 0.5, s_y = 1, z_a = z_b = 10, z_y = 100. Ratios 0.5 (exponent −1):
//   QNNPACK shift = 21+1 = 22, A = B = 0.5·2^22 = 2^21; XNNPACK shift 21, A = B = 2^20.
// Real sums v = 0.5·((q_a−10) + (q_b−10)):
//   (11,10) → +0.5   (15,10) → +2.5   (9,10) → −0.5   (7,10) → −1.5   (all exact ties)
//   half even (exact, default): 0, 2, −0, −2  → 100, 102, 100, 98
//   half away (QNNPACK):        1, 3, −1, −2  → 101, 103,  99, 98
//   half up (XNNPACK):          1, 3,  0, −1  → 101, 103, 100, 99
Layer AddLayer(bool relu) {
  Layer l;
  l.op = OpKind::kAdd;
  l.relu = relu;
  l.out_scale = 1.0;
  l.out_zero_point = 100;
  return l;
}
std::vector<QTensor> AddTieInputs(DType dtype) {
  return {MakeTensor(dtype, {1, 4}, 0.5, 10, {11, 15, 9, 7}),
          MakeTensor(dtype, {1, 4}, 0.5, 10, {10, 10, 10, 10})};
}

TEST(OpElementwiseAdd, TieRulesPerPath) {
  const Layer l = AddLayer(false);
  const auto u8 = AddTieInputs(DType::kQUInt8);
  EXPECT_EQ(RunRecipe("add.exact", l, u8), (std::vector<int32_t>{100, 102, 100, 98}));
  EXPECT_EQ(RunRecipe("add.default_fp32", l, u8), (std::vector<int32_t>{100, 102, 100, 98}));
  EXPECT_EQ(RunRecipe("add.qnnpack_fixed", l, u8), (std::vector<int32_t>{101, 103, 99, 98}));
  const auto i8 = AddTieInputs(DType::kQInt8);
  EXPECT_EQ(RunRecipe("add.xnnpack_qs8", l, i8), (std::vector<int32_t>{101, 103, 100, 99}));
}

// ReLU fused: lower bound z_y = 100 (QNNPACK/XNNPACK output_min; default max(c, 0) in float).
TEST(OpElementwiseAdd, ReluLowerBoundIsOutputZeroPoint) {
  const Layer l = AddLayer(true);
  const auto u8 = AddTieInputs(DType::kQUInt8);
  EXPECT_EQ(RunRecipe("add.default_fp32", l, u8), (std::vector<int32_t>{100, 102, 100, 100}));
  EXPECT_EQ(RunRecipe("add.qnnpack_fixed", l, u8), (std::vector<int32_t>{101, 103, 100, 100}));
  EXPECT_EQ(RunRecipe("add.xnnpack_qs8", l, AddTieInputs(DType::kQInt8)),
            (std::vector<int32_t>{101, 103, 100, 100}));
}

// QNNPACK's range check admits ratios down to 2^-14, but for ratios < 2^-10 the shift is ≥ 32
// (verified against LibTorch 1.13): s_a = s_b = 2^-12, s_y = 1, z = 0 → ratio exponent −12,
// shift = 33, A = B = 2^-12·2^33 = 2^21; mask = (1 << (33 & 31)) − 1 = 1, threshold 0.
//   acc = 2^21·(q_a + q_b). q = (3, 0): acc = 3·2^21 (even) → rem = 0, no carry.
//   ≥ 8 elements (SSE2): psrad by 33 → sign fill 0 → y = 0 + z_y = 0.
//   < 8 elements (scalar asr_s32): sar by 33 & 31 = 1 → 3·2^20 → saturates at 255.
// That is a LibTorch bug, reproduced by add.qnnpack_fixed_shift_bug; the engine path
// add.qnnpack_fixed shifts correctly: 3·2^21 / 2^33 = 3/4096 rounds to 0 → y = 0 everywhere.
TEST(OpElementwiseAdd, QnnpackShiftAbove31FollowsKernelBranch) {
  Layer l;
  l.op = OpKind::kAdd;
  l.out_scale = 1.0;
  l.out_zero_point = 0;
  const double s = std::ldexp(1.0, -12);
  std::vector<QTensor> small = {MakeTensor(DType::kQUInt8, {1, 2}, s, 0, {3, 3}),
                                MakeTensor(DType::kQUInt8, {1, 2}, s, 0, {0, 0})};
  EXPECT_EQ(RunRecipe("add.qnnpack_fixed_shift_bug", l, small), (std::vector<int32_t>{255, 255}));
  EXPECT_EQ(RunRecipe("add.qnnpack_fixed", l, small), (std::vector<int32_t>{0, 0}));
  std::vector<QTensor> big = {MakeTensor(DType::kQUInt8, {1, 8}, s, 0, std::vector<int32_t>(8, 3)),
                              MakeTensor(DType::kQUInt8, {1, 8}, s, 0, std::vector<int32_t>(8, 0))};
  EXPECT_EQ(RunRecipe("add.qnnpack_fixed_shift_bug", l, big), std::vector<int32_t>(8, 0));
  EXPECT_EQ(RunRecipe("add.qnnpack_fixed", l, big), std::vector<int32_t>(8, 0));
  EXPECT_NE(FindOpRecipe("add.qnnpack_fixed_shift_bug")->libtorch_bug, nullptr);
  EXPECT_EQ(OpRejectionReason(Engine::kQnnpack, l, big), "");  // LibTorch accepts it
}

TEST(OpElementwiseAdd, EnginePathsAndRejections) {
  Layer l = AddLayer(false);
  const auto u8 = AddTieInputs(DType::kQUInt8);
  const auto i8 = AddTieInputs(DType::kQInt8);
  EXPECT_STREQ(EngineOpRecipe(Engine::kQnnpack, l, u8)->name, "add.qnnpack_fixed");
  EXPECT_STREQ(EngineOpRecipe(Engine::kQnnpack, l, i8)->name, "add.xnnpack_qs8");
  EXPECT_STREQ(EngineOpRecipe(Engine::kOnednn, l, u8)->name, "add.default_fp32");
  EXPECT_STREQ(EngineOpRecipe(Engine::kFbgemm, l, i8)->name, "add.default_fp32");
  EXPECT_EQ(OpRejectionReason(Engine::kQnnpack, l, u8), "");
  // ratio 0.5/s_y: s_y = 2^-9 → ratio 2^8, outside [.., 2^8) for both; 2^-8 → 2^7 accepted.
  l.out_scale = std::ldexp(1.0, -9);
  EXPECT_NE(OpRejectionReason(Engine::kQnnpack, l, u8), "");
  EXPECT_NE(OpRejectionReason(Engine::kQnnpack, l, i8), "");
  EXPECT_EQ(OpRejectionReason(Engine::kOnednn, l, u8), "");
  l.out_scale = std::ldexp(1.0, -8);
  EXPECT_EQ(OpRejectionReason(Engine::kQnnpack, l, u8), "");
  // s_y = 2^10 → ratio 2^-11: XNNPACK (≥ 2^-10) rejects, QNNPACK (≥ 2^-14) accepts.
  l.out_scale = std::ldexp(1.0, 10);
  EXPECT_EQ(OpRejectionReason(Engine::kQnnpack, l, u8), "");
  EXPECT_NE(OpRejectionReason(Engine::kQnnpack, l, i8), "");
  // add_relu with z_y = qmax: output range [z_y, qmax] is empty → QNNPACK/XNNPACK fail.
  l.out_scale = 1.0;
  l.relu = true;
  l.out_zero_point = 255;
  EXPECT_NE(OpRejectionReason(Engine::kQnnpack, l, u8), "");
  l.out_zero_point = 254;
  EXPECT_EQ(OpRejectionReason(Engine::kQnnpack, l, u8), "");
}

// ---------------------------------------------------------------------------------------------
// mul: s_a = 0.5, s_b = 0.25, s_y = 0.5 → M = 0.25 exactly on every path; z_a = 10, z_b = 20,
// z_y = 5. c = (q_a−10)(q_b−20):
//   (13,22) → 6 → 1.5 → 2 → 7     (15,22) → 10 → 2.5 → 2 → 7
//   (13,18) → −6 → −1.5 → −2 → 3  (11,21) → 1 → 0.25 → 0 → 5
// ReLU: max(·, 5) → 7, 7, 5, 5.
TEST(OpElementwiseMul, HandDerivedValues) {
  Layer l;
  l.op = OpKind::kMul;
  l.out_scale = 0.5;
  l.out_zero_point = 5;
  for (DType dt : {DType::kQUInt8, DType::kQInt8}) {
    const std::vector<QTensor> in = {MakeTensor(dt, {4}, 0.5, 10, {13, 15, 13, 11}),
                                     MakeTensor(dt, {4}, 0.25, 20, {22, 22, 18, 21})};
    for (const char* r : {"mul.exact", "mul.default_fp32", "mul.xnnpack_qs8"}) {
      l.relu = false;
      EXPECT_EQ(RunRecipe(r, l, in), (std::vector<int32_t>{7, 7, 3, 5})) << r;
      l.relu = true;
      EXPECT_EQ(RunRecipe(r, l, in), (std::vector<int32_t>{7, 7, 5, 5})) << r;
    }
  }
  l.relu = false;
  const std::vector<QTensor> i8 = {MakeTensor(DType::kQInt8, {1}, 0.5, 0, {1}),
                                   MakeTensor(DType::kQInt8, {1}, 0.5, 0, {1})};
  EXPECT_STREQ(EngineOpRecipe(Engine::kOnednn, l, i8)->name, "mul.xnnpack_qs8");  // any engine
  l.out_zero_point = 127;
  EXPECT_STREQ(EngineOpRecipe(Engine::kOnednn, l, i8)->name, "mul.default_fp32");
  // XNNPACK product ratio 0.25/s_y must be in [2^-16, 2^8): s_y = 2^-10 → 2^8 rejected.
  l.out_zero_point = 0;
  l.out_scale = std::ldexp(1.0, -10);
  EXPECT_NE(OpRejectionReason(Engine::kOnednn, l, i8), "");
  l.out_scale = std::ldexp(1.0, -9);
  EXPECT_EQ(OpRejectionReason(Engine::kOnednn, l, i8), "");
}

// ---------------------------------------------------------------------------------------------
// cat along channels, output qparams (0.5, 10) = input 0's → input 0 copied (memcpy on the NHWC
// path); input 1 (0.25, 0) requantized: q=3 → 0.75/0.5 = 1.5 → 2 → 12; q=5 → 2.5 → 2 → 12;
// q=1 → 0.5 → 0 → 10 (C = 3 < 8: scalar quantize_val, inv = 2 exactly).
TEST(OpElementwiseCat, CopyVersusRequantize) {
  Layer l;
  l.op = OpKind::kCat;
  l.cat_dim = 1;
  l.channels_last = true;
  l.out_scale = 0.5;
  l.out_zero_point = 10;
  const std::vector<QTensor> in = {MakeTensor(DType::kQUInt8, {1, 1, 1, 1}, 0.5, 10, {201}),
                                   MakeTensor(DType::kQUInt8, {1, 3, 1, 1}, 0.25, 0, {3, 5, 1})};
  for (const char* r : {"cat.exact", "cat.generic", "cat.nhwc"}) {
    EXPECT_EQ(RunRecipe(r, l, in), (std::vector<int32_t>{201, 12, 12, 10})) << r;
  }
  EXPECT_STREQ(EngineOpRecipe(Engine::kOnednn, l, in)->name, "cat.nhwc");
  l.channels_last = false;  // NCHW, but H = W = 1: still channels-last contiguous → NHWC path
  EXPECT_STREQ(EngineOpRecipe(Engine::kOnednn, l, in)->name, "cat.nhwc");
  const std::vector<QTensor> spatial = {MakeTensor(DType::kQUInt8, {1, 2, 1, 2}, 0.5, 10, {1, 2, 3, 4}),
                                        MakeTensor(DType::kQUInt8, {1, 2, 1, 2}, 0.5, 10, {1, 2, 3, 4})};
  EXPECT_STREQ(EngineOpRecipe(Engine::kQnnpack, l, spatial)->name, "cat.generic");
  l.channels_last = true;
  EXPECT_STREQ(EngineOpRecipe(Engine::kQnnpack, l, spatial)->name, "cat.nhwc");
  l.cat_dim = 3;
  EXPECT_STREQ(EngineOpRecipe(Engine::kQnnpack, l, spatial)->name, "cat.generic");
  // cat along W: output [1,2,1,4] = per (n,c,h) row: input 0's 2 values then input 1's.
  EXPECT_EQ(RunRecipe("cat.generic", l, spatial), (std::vector<int32_t>{1, 2, 1, 2, 3, 4, 3, 4}));
}

// ---------------------------------------------------------------------------------------------
// Clamps. relu: max(q, z).
TEST(OpElementwiseClamp, ReluBoundIsZeroPoint) {
  Layer l;
  l.op = OpKind::kRelu;
  const std::vector<QTensor> in = {MakeTensor(DType::kQInt8, {4}, 0.3, -5, {-128, -6, -5, 7})};
  EXPECT_EQ(RunRecipe("relu.int", l, in), (std::vector<int32_t>{-5, -5, -5, 7}));
  EXPECT_EQ(RunRecipe("relu.exact", l, in), (std::vector<int32_t>{-5, -5, -5, 7}));
}

// hardtanh(x, −0.25, 0.35f) with s = 0.1, z = 100.
//   quantize_val: inv = f32(1/f32(0.1)) = f32(9.99999985…) = 10 exactly (half-ulp at 10 is 4.8e-7);
//     lo: −0.25·10 = −2.5 → RNE −2 → q_lo = 98; hi: f32(0.35) = 0.349999994…, ·10 = 3.49999994
//     → rounds to f32 3.5 → RNE 4 → q_hi = 104.
//   exact: hi/s = 0.349999994…/0.1000000000000000055 = 3.4999999… → 3 → 103 (lo: −2.4999… → 98).
// Inputs 90, 95, 98, 103, 104, 110.
TEST(OpElementwiseClamp, HardtanhBoundsFromQuantizeVal) {
  Layer l;
  l.op = OpKind::kHardtanh;
  l.act.min_value = -0.25f;
  l.act.max_value = 0.35f;
  const std::vector<QTensor> in = {
      MakeTensor(DType::kQUInt8, {6}, 0.1, 100, {90, 95, 98, 103, 104, 110})};
  EXPECT_EQ(RunRecipe("hardtanh.qclamp", l, in), (std::vector<int32_t>{98, 98, 98, 103, 104, 104}));
  EXPECT_EQ(RunRecipe("hardtanh.exact", l, in), (std::vector<int32_t>{98, 98, 98, 103, 103, 103}));
  // relu6 ignores act: bounds 0 → z = 100 and 6/0.1 = 60 → 160.
  l.op = OpKind::kRelu6;
  const std::vector<QTensor> r6 = {MakeTensor(DType::kQUInt8, {3}, 0.1, 100, {99, 150, 170})};
  EXPECT_EQ(RunRecipe("relu6.qclamp", l, r6), (std::vector<int32_t>{100, 150, 160}));
}

// Bounds beyond int64 (1e30/0.1 = 1e31 ≥ 2^63): LibTorch's quantize_val casts the float to int64
// with cvttss2si → INT64_MIN → clamped to qmin for BOTH bounds (verified: outputs all qmin).
TEST(OpElementwiseClamp, HugeBoundsCollapseToQmin) {
  Layer l;
  l.op = OpKind::kClamp;
  l.act.min_value = -1e30f;
  l.act.max_value = 1e30f;
  const std::vector<QTensor> in = {MakeTensor(DType::kQInt8, {3}, 0.1, 0, {-128, 0, 127})};
  EXPECT_EQ(RunRecipe("clamp.qclamp", l, in), (std::vector<int32_t>{-128, -128, -128}));
}

// QNNPACK clamp on a channels-last input writes NHWC bytes into an NCHW output. Shape [1,2,1,2],
// logical values (c0: 1, 2 | c1: 3, 4); NHWC memory order: 1, 3, 2, 4 → output 1, 3, 2, 4.
// q_lo > q_hi is rejected by pytorch_qnnp_create_clamp_nc_u8 (quint8 only).
TEST(OpElementwiseClamp, QnnpackClampLayoutAndRejection) {
  Layer l;
  l.op = OpKind::kHardtanh;
  l.act.min_value = -100.0f;
  l.act.max_value = 100.0f;
  l.channels_last = true;
  const std::vector<QTensor> in = {MakeTensor(DType::kQUInt8, {1, 2, 1, 2}, 1.0, 0, {1, 2, 3, 4})};
  EXPECT_EQ(RunRecipe("hardtanh.qnnpack_clamp", l, in), (std::vector<int32_t>{1, 3, 2, 4}));
  EXPECT_EQ(RunRecipe("hardtanh.qclamp", l, in), (std::vector<int32_t>{1, 2, 3, 4}));
  // The scramble is a LibTorch bug: the engine path is the intended clamp, the bug recipe only
  // classifies (OpRecipeDef::libtorch_bug).
  EXPECT_STREQ(EngineOpRecipe(Engine::kQnnpack, l, in)->name, "hardtanh.qclamp");
  EXPECT_NE(FindOpRecipe("hardtanh.qnnpack_clamp")->libtorch_bug, nullptr);
  EXPECT_STREQ(EngineOpRecipe(Engine::kOnednn, l, in)->name, "hardtanh.qclamp");
  l.channels_last = false;
  EXPECT_EQ(RunRecipe("hardtanh.qnnpack_clamp", l, in), (std::vector<int32_t>{1, 2, 3, 4}));
  EXPECT_EQ(OpRejectionReason(Engine::kQnnpack, l, in), "");
  l.act.min_value = 2.0f;  // q_lo = 2 > q_hi = 1
  l.act.max_value = 1.0f;
  EXPECT_NE(OpRejectionReason(Engine::kQnnpack, l, in), "");
  EXPECT_EQ(RunRecipe("hardtanh.qclamp", l, in), (std::vector<int32_t>{1, 1, 1, 1}));  // min(max(q,2),1)
}

// ---------------------------------------------------------------------------------------------
// hardswish: s_x = 0.5, z_x = 128, s_y = 0.25, z_y = 11 (quint8). h = x·clamp(x+3,0,6)/6:
//   q=128: x=0 → 0 → 11.        q=131: x=1.5 → 1.5·4.5/6 = 1.125 → /0.25 = 4.5 (exact tie)
//     RNE(4.5)+11 = 15 (exact, default); QNNPACK lrintf(4.5 + 11 = 15.5) = 16 (zp before rounding)
//   q=120: x=−4 → 0 → 11.       q=140: x=6 → 6 → 24 → 35.
TEST(OpElementwiseHardswish, TableEntriesAndZeroPointOrder) {
  Layer l;
  l.op = OpKind::kHardswish;
  l.out_scale = 0.25;
  l.out_zero_point = 11;
  const std::vector<QTensor> in = {MakeTensor(DType::kQUInt8, {4}, 0.5, 128, {128, 131, 120, 140})};
  EXPECT_EQ(RunRecipe("hardswish.exact", l, in), (std::vector<int32_t>{11, 15, 11, 35}));
  EXPECT_EQ(RunRecipe("hardswish.default_table", l, in), (std::vector<int32_t>{11, 15, 11, 35}));
  EXPECT_EQ(RunRecipe("hardswish.qnnpack_table", l, in), (std::vector<int32_t>{11, 16, 11, 35}));
  EXPECT_STREQ(EngineOpRecipe(Engine::kQnnpack, l, in)->name, "hardswish.qnnpack_table");
  EXPECT_STREQ(EngineOpRecipe(Engine::kOnednn, l, in)->name, "hardswish.default_table");
}

// sigmoid: s_x = 0.5. σ(0) = 0.5 → 128; σ(1) = 0.7310586 → 187.15 → 187; σ(63.5) → 256 → 255;
// σ(−64) ≈ 1.6e-28 → 0. qint8 output zero point −128: 0, 59, 127, −128.
TEST(OpElementwiseSigmoid, TableEntries) {
  Layer l;
  l.op = OpKind::kSigmoid;
  const std::vector<QTensor> u8 = {MakeTensor(DType::kQUInt8, {4}, 0.5, 128, {128, 130, 255, 0})};
  const std::vector<QTensor> i8 = {MakeTensor(DType::kQInt8, {4}, 0.5, 0, {0, 2, 127, -128})};
  for (const char* r : {"sigmoid.exact", "sigmoid.default_table", "sigmoid.qnnpack_table"}) {
    EXPECT_EQ(RunRecipe(r, l, u8), (std::vector<int32_t>{128, 187, 255, 0})) << r;
  }
  for (const char* r : {"sigmoid.exact", "sigmoid.default_table"}) {
    EXPECT_EQ(RunRecipe(r, l, i8), (std::vector<int32_t>{0, 59, 127, -128})) << r;
  }
}

// leaky_relu: s_x = 0.5, z_x = 10, slope 0.25, s_y = 0.25, z_y = 3.
//   q=14: x=2 → 8 → 11.  q=6: x=−2 → −0.5 → −2 → 1.  q=9: x=−0.5 → −0.125 → −0.5 → −0 → 3 (tie).
//   q=7: x=−1.5 → −0.375 → −1.5 → −2 → 1.
TEST(OpElementwiseLeakyRelu, HandDerivedValues) {
  Layer l;
  l.op = OpKind::kLeakyRelu;
  l.act.negative_slope = 0.25f;
  l.out_scale = 0.25;
  l.out_zero_point = 3;
  const std::vector<QTensor> in = {MakeTensor(DType::kQUInt8, {4}, 0.5, 10, {14, 6, 9, 7})};
  EXPECT_EQ(RunRecipe("leaky_relu.exact", l, in), (std::vector<int32_t>{11, 1, 3, 1}));
  EXPECT_EQ(RunRecipe("leaky_relu.default_fp32", l, in), (std::vector<int32_t>{11, 1, 3, 1}));
  EXPECT_STREQ(EngineOpRecipe(Engine::kQnnpack, l, in)->name, "leaky_relu.default_fp32");
}

// hardsigmoid: output qparams fixed (1/256; z_y 0 for quint8, −128 for qint8). With s_x = 3·2^-9,
// x = 3m/512 (m = q − z_x) and (x + 3)/6 = (m + 512)/1024 are exact in binary32, so
// 256·h = m/4 + 128 exactly: a tie whenever m ≡ 2 (mod 4).
//   m = 0 → 128.   m = 2 → 128.5 → 128 (half even).   m = 6 → 129.5 → 130.
//   m = −2 → 127.5 → 128.   m = 127 → 159.75 → 160.   m = −128 → 96.
// quint8 (z_x = 128): q = 128, 130, 134, 126, 255, 0. qint8 (z_x = 0): the same m, then − 128.
// Saturation: s_x = 0.5, m = 6 → x = 3 → h = 1 → 256 → 255 (quint8) / 128 → 127 (qint8).
TEST(OpElementwiseHardsigmoid, HalfEvenTiesAndSaturation) {
  Layer l;
  l.op = OpKind::kHardsigmoid;
  const double s = 3.0 / 512;
  const std::vector<QTensor> u8 = {MakeTensor(DType::kQUInt8, {6}, s, 128, {128, 130, 134, 126, 255, 0})};
  const std::vector<QTensor> i8 = {MakeTensor(DType::kQInt8, {6}, s, 0, {0, 2, 6, -2, 127, -128})};
  const std::vector<int32_t> want_u8 = {128, 128, 130, 128, 160, 96};
  for (const char* r : {"hardsigmoid.exact", "hardsigmoid.default_table", "hardsigmoid.qnnpack_table"}) {
    EXPECT_EQ(RunRecipe(r, l, u8), want_u8) << r;
  }
  for (const char* r : {"hardsigmoid.exact", "hardsigmoid.default_table"}) {
    EXPECT_EQ(RunRecipe(r, l, i8), (std::vector<int32_t>{0, 0, 2, 0, 32, -32})) << r;
  }
  const std::vector<QTensor> top_u8 = {MakeTensor(DType::kQUInt8, {2}, 0.5, 10, {16, 4})};
  const std::vector<QTensor> top_i8 = {MakeTensor(DType::kQInt8, {2}, 0.5, 10, {16, 4})};
  for (const char* r : {"hardsigmoid.exact", "hardsigmoid.default_table", "hardsigmoid.qnnpack_table"}) {
    EXPECT_EQ(RunRecipe(r, l, top_u8), (std::vector<int32_t>{255, 0})) << r;  // x = 3, −3
  }
  EXPECT_EQ(RunRecipe("hardsigmoid.default_table", l, top_i8), (std::vector<int32_t>{127, -128}));
  EXPECT_STREQ(EngineOpRecipe(Engine::kQnnpack, l, u8)->name, "hardsigmoid.qnnpack_table");
  EXPECT_STREQ(EngineOpRecipe(Engine::kQnnpack, l, i8)->name, "hardsigmoid.default_table");
  EXPECT_STREQ(EngineOpRecipe(Engine::kOnednn, l, u8)->name, "hardsigmoid.default_table");
}

// ---------------------------------------------------------------------------------------------
// Property: every recipe stays within 1 LSB of the float oracle clamp(RNE(real/s_y) + z_y).
// Why 1: each path rounds once after at most a few binary32 roundings (relative error ≲ 2^-21 of
// a value ≤ 2^17) or a 21/22-bit fixed-point multiplier; either moves the pre-rounding value by
// far less than 1, so the result can only land on the other side of one rounding boundary. Clamp
// bounds computed with quantize_val differ from the exact ones by at most that one step.
// Excluded by construction: QNNPACK add ratios < 2^-10 (the shift ≥ 32 region, not an
// approximation of anything) and channels-last inputs for *.qnnpack_clamp (a transpose).

struct Rng {
  std::mt19937_64 gen{20261126};
  int64_t Int(int64_t a, int64_t b) { return std::uniform_int_distribution<int64_t>(a, b)(gen); }
  double Real(double a, double b) { return std::uniform_real_distribution<double>(a, b)(gen); }
  double Scale() { return Int(0, 2) == 0 ? std::ldexp(1.0, Int(-8, 0)) : std::exp(Real(-6.0, 0.0)); }
};

TEST(OpElementwiseProperty, EveryRecipeWithinOneLsbOfFloatOracle) {
  Rng rng;
  const OpKind ops[] = {OpKind::kAdd,   OpKind::kMul,      OpKind::kCat,
                        OpKind::kRelu,  OpKind::kRelu6,    OpKind::kHardtanh,
                        OpKind::kClamp, OpKind::kHardswish, OpKind::kSigmoid,
                        OpKind::kLeakyRelu, OpKind::kHardsigmoid};
  int64_t checked = 0;
  for (OpKind op : ops) {
    std::set<int32_t> distinct;
    for (int c = 0; c < 150; ++c) {
      const DType dt = rng.Int(0, 1) ? DType::kQUInt8 : DType::kQInt8;
      const QuantRange range = TypeRange(dt);
      Layer l;
      l.op = op;
      l.channels_last = op == OpKind::kCat && rng.Int(0, 1);
      l.out_scale = rng.Scale();
      l.out_zero_point = static_cast<int32_t>(rng.Int(range.qmin, range.qmax));
      l.act.min_value = static_cast<float>(rng.Real(-3, 1));
      l.act.max_value = static_cast<float>(rng.Real(-1, 6));
      l.act.negative_slope = static_cast<float>(rng.Real(0, 0.5));
      std::vector<int64_t> shape = {1, rng.Int(1, 70), rng.Int(1, 3), rng.Int(1, 3)};
      auto rand_tensor = [&](std::vector<int64_t> s) {
        QTensor t = MakeTensor(dt, s, rng.Scale(), static_cast<int32_t>(rng.Int(range.qmin, range.qmax)), {});
        t.values.resize(ShapeElements(s));
        for (int32_t& v : t.values) v = static_cast<int32_t>(rng.Int(range.qmin, range.qmax));
        return t;
      };
      std::vector<QTensor> in;
      if (op == OpKind::kAdd || op == OpKind::kMul) {
        l.relu = rng.Int(0, 1);
        in = {rand_tensor(shape), rand_tensor(shape)};
        if (op == OpKind::kAdd) {  // keep both ratios in [2^-10, 2^8)
          l.out_scale = std::max(in[0].scales[0], in[1].scales[0]) * std::ldexp(1.0, rng.Int(-7, 9));
        }
      } else if (op == OpKind::kCat) {
        for (int k = rng.Int(1, 3); k > 0; --k) {
          std::vector<int64_t> s = shape;
          s[1] = rng.Int(1, 70);
          in.push_back(rand_tensor(s));
        }
      } else {
        in = {rand_tensor(shape)};
      }
      std::vector<std::vector<int64_t>> shapes;
      for (const QTensor& t : in) shapes.push_back(t.shape);
      const std::vector<int64_t> out_shape = LayerOutputShape(l, shapes);
      ASSERT_FALSE(out_shape.empty());
      const OutputQParams o = LayerOutputQParams(l, in[0]);
      const QuantRange orange = TypeRange(o.dtype);
      const std::vector<double> real = FloatOpReal(l, in, out_shape);
      for (const OpRecipeDef* r : OpRecipes(op)) {
        const std::vector<int32_t> got = r->run(l, in, out_shape);
        ASSERT_EQ(got.size(), real.size()) << r->name;
        for (size_t i = 0; i < got.size(); ++i) {
          const double want = std::clamp<double>(std::nearbyint(real[i] / o.scale) + o.zero_point,
                                                 orange.qmin, orange.qmax);
          ASSERT_LE(std::abs(got[i] - want), 1.0)
              << r->name << " element " << i << " real " << real[i] << " s_y " << o.scale
              << " z_y " << o.zero_point << " case " << c;
          distinct.insert(got[i]);
          ++checked;
        }
      }
    }
    EXPECT_GT(distinct.size(), 20u) << OpKindName(op) << ": outputs barely vary, test is vacuous";
  }
  EXPECT_GT(checked, 100000);
}

}  // namespace
}  // namespace qdiff
