// Tests of the LibTorch runner against hand-computed outputs, on every engine of this build.
// Every case is chosen so that each output is an exact integer before rounding (no ties, no
// saturation), so QNNPACK (RNE(t)+zp), FBGEMM and ONEDNN (RNE(t+zp)) must all agree exactly.
#include "harness/torch/libtorch_runner.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "oracles/model.h"

namespace qdiff {
namespace {

QTensor PerTensor(DType dtype, std::vector<int64_t> shape, std::vector<int32_t> values,
                  double scale, int32_t zero_point) {
  return PerTensorQTensor(dtype, std::move(shape), std::move(values), scale, zero_point);
}

QTensor PerChannel(std::vector<int64_t> shape, std::vector<int32_t> values,
                   std::vector<double> scales, std::vector<int32_t> zero_points) {
  QTensor t = PerTensor(DType::kQInt8, std::move(shape), std::move(values), 1.0, 0);
  t.scales = std::move(scales);
  t.zero_points = std::move(zero_points);
  t.axis = 0;
  return t;
}

Layer MakeLayer(OpKind op, QTensor weight, double out_scale, int32_t out_zero_point) {
  Layer l;
  l.op = op;
  l.weight = std::move(weight);
  l.out_scale = out_scale;
  l.out_zero_point = out_zero_point;
  return l;
}

// Case (a): input 1x1x2x2 {10,20,30,40} (s 0.5, zp 10), weight {2} (s 0.25); acc = {0,20,40,60},
// M = 0.5*0.25/0.25 = 0.5 -> {0,10,20,30}.
Model OneByOneConv() {
  Model m;
  m.input = PerTensor(DType::kQUInt8, {1, 1, 2, 2}, {10, 20, 30, 40}, 0.5, 10);
  m.layers.push_back(
      MakeLayer(OpKind::kConv2d, PerTensor(DType::kQInt8, {1, 1, 1, 1}, {2}, 0.25, 0), 0.25, 0));
  return m;
}

class LibTorchRunnerTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override { InitLibTorch(); }

  // Runs `model`, expects acceptance and returns layer `index`.
  LayerOutput Accepted(const Model& model, size_t index = 0) {
    EngineResult r = RunOnLibTorch(model, GetParam());
    EXPECT_FALSE(r.rejected) << r.message;
    EXPECT_EQ(r.layers.size(), model.layers.size());
    return index < r.layers.size() ? r.layers[index] : LayerOutput{};
  }
};

TEST_P(LibTorchRunnerTest, OneByOneConvHandComputed) {
  LayerOutput out = Accepted(OneByOneConv());
  EXPECT_EQ(out.shape, (std::vector<int64_t>{1, 1, 2, 2}));
  EXPECT_EQ(out.values, (std::vector<int32_t>{0, 10, 20, 30}));
  EXPECT_DOUBLE_EQ(out.scale, 0.25);
  EXPECT_EQ(out.zero_point, 0);
}

// x - zp = {-6,0,6,20}, acc = {-12,0,12,40}, M = 0.5 -> {-6,0,6,20}; + out zp 100 gives
// {94,100,106,120}; with ReLU the negative result is clamped to the zero point: {100,100,106,120}.
TEST_P(LibTorchRunnerTest, OneByOneConvReluClampsToZeroPoint) {
  Model m = OneByOneConv();
  m.input.values = {4, 10, 16, 30};
  m.layers[0].out_zero_point = 100;
  EXPECT_EQ(Accepted(m).values, (std::vector<int32_t>{94, 100, 106, 120}));
  m.layers[0].relu = true;
  LayerOutput out = Accepted(m);
  EXPECT_EQ(out.values, (std::vector<int32_t>{100, 100, 106, 120}));
  EXPECT_EQ(out.zero_point, 100);
}

// Layer 2 reads layer 1's output {0,10,20,30} (s 0.25, zp 0): weight {3} (s 0.5),
// acc = {0,30,60,90}, M = 0.25*0.5/0.25 = 0.5 -> {0,15,30,45}.
TEST_P(LibTorchRunnerTest, ChainFeedsPreviousLayerOutput) {
  Model m = OneByOneConv();
  m.layers.push_back(
      MakeLayer(OpKind::kConv2d, PerTensor(DType::kQInt8, {1, 1, 1, 1}, {3}, 0.5, 0), 0.25, 0));
  EXPECT_EQ(Accepted(m, 0).values, (std::vector<int32_t>{0, 10, 20, 30}));
  EXPECT_EQ(Accepted(m, 1).values, (std::vector<int32_t>{0, 15, 30, 45}));
}

// ideep (ONEDNN, and X86 conv on VNNI CPUs) in 1.13 caches primitive descriptors per thread
// with a key that omits zero points (intel/ideep#152). The runner gives each call a fresh
// thread, so a call must not see an earlier call's output zero point.
TEST_P(LibTorchRunnerTest, ResultDoesNotDependOnEarlierCalls) {
  Model m = OneByOneConv();
  m.input.values = {4, 10, 16, 30};  // acc/2 = {-6,0,6,20}
  EXPECT_EQ(Accepted(m).values, (std::vector<int32_t>{0, 0, 6, 20}));
  m.layers[0].out_zero_point = 100;
  EXPECT_EQ(Accepted(m).values, (std::vector<int32_t>{94, 100, 106, 120}));
  m.layers[0].out_zero_point = 0;
  EXPECT_EQ(Accepted(m).values, (std::vector<int32_t>{0, 0, 6, 20}));
}

// Inside one model the cache bug stays visible, as it would for a LibTorch user. Both layers
// see input {4,10,16,30} (s 0.5, zp 10) and weight {4} (s 0.25), M = 0.125/0.5 = 0.25, so
// acc*M = {-6,0,6,20}; layer 1 adds zp 10 (reproducing its input), layer 2 adds zp 20.
// ONEDNN reuses layer 1's descriptor and adds 10 again while reporting q_zero_point 20.
TEST_P(LibTorchRunnerTest, RepeatedLayerDifferingOnlyInOutputZeroPoint) {
  Model m;
  m.input = PerTensor(DType::kQUInt8, {1, 1, 2, 2}, {4, 10, 16, 30}, 0.5, 10);
  Layer l = MakeLayer(OpKind::kConv2d, PerTensor(DType::kQInt8, {1, 1, 1, 1}, {4}, 0.25, 0),
                      0.5, 10);
  m.layers = {l, l};
  m.layers[1].out_zero_point = 20;
  EXPECT_EQ(Accepted(m, 0).values, (std::vector<int32_t>{4, 10, 16, 30}));
  LayerOutput second = Accepted(m, 1);
  EXPECT_EQ(second.zero_point, 20);
  if (GetParam() == Engine::kOnednn) {
    EXPECT_EQ(second.values, (std::vector<int32_t>{4, 10, 16, 30})) << "ideep zp cache bug fixed?";
  } else {
    EXPECT_EQ(second.values, (std::vector<int32_t>{14, 20, 26, 40}));
  }
}

// Case (b): x [2,3] (s 0.5, zp 10): rows {12,7,20} -> {2,-3,10} and {10,10,10} -> {0,0,0};
// W [2,3] (s 0.25, zp 0) = {{1,2,3},{-4,0,1}}: acc row 0 = {26, 2}, row 1 = {0, 0}.
// Bias {0.5, -1.0} / (s_x*s_w = 0.125) = {+4, -8} acc units; M = 0.125/0.25 = 0.5;
// out zp 50: row 0 = {50+15, 50-3} = {65,47}, row 1 = {50+2, 50-4} = {52,46}.
Model SmallLinear() {
  Model m;
  m.input = PerTensor(DType::kQUInt8, {2, 3}, {12, 7, 20, 10, 10, 10}, 0.5, 10);
  Layer l = MakeLayer(OpKind::kLinear,
                      PerTensor(DType::kQInt8, {2, 3}, {1, 2, 3, -4, 0, 1}, 0.25, 0), 0.25, 50);
  l.bias = std::vector<float>{0.5f, -1.0f};
  m.layers.push_back(l);
  return m;
}

TEST_P(LibTorchRunnerTest, LinearWithBiasHandComputed) {
  Model m = SmallLinear();
  LayerOutput out = Accepted(m);
  EXPECT_EQ(out.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(out.values, (std::vector<int32_t>{65, 47, 52, 46}));
  EXPECT_DOUBLE_EQ(out.scale, 0.25);
  EXPECT_EQ(out.zero_point, 50);
  m.layers[0].relu = true;  // the two negative results clamp to zp 50
  EXPECT_EQ(Accepted(m).values, (std::vector<int32_t>{65, 50, 52, 50}));
}

// Case (c): weight zp 1 makes w - zp = {1}: acc = {0,10,20,30}, M = 0.5 -> {0,5,10,15}.
// ONEDNN requires weight zero points of 0 (docs/semantics.md#engine-selection) and must reject
// it; the other engines accept any zero point.
TEST_P(LibTorchRunnerTest, NonZeroWeightZeroPoint) {
  Model m = OneByOneConv();
  m.layers[0].weight.zero_points = {1};
  if (GetParam() == Engine::kOnednn) {
    EngineResult r = RunOnLibTorch(m, GetParam());
    EXPECT_TRUE(r.rejected);
    EXPECT_FALSE(r.message.empty());
    EXPECT_EQ(r.message.find('\n'), std::string::npos);
    EXPECT_TRUE(r.layers.empty());
  } else {
    EXPECT_EQ(Accepted(m).values, (std::vector<int32_t>{0, 5, 10, 15}));
  }
}

// Case (d): an invalid model is rejected with ValidateModel's message, before LibTorch runs.
TEST_P(LibTorchRunnerTest, InvalidModelRejectedWithValidationMessage) {
  Model m = OneByOneConv();
  m.input.values = {10, 20, 30};
  std::string expected = ValidateModel(m);
  ASSERT_FALSE(expected.empty());
  EngineResult r = RunOnLibTorch(m, GetParam());
  EXPECT_TRUE(r.rejected);
  EXPECT_EQ(r.message, expected);
  EXPECT_TRUE(r.layers.empty());
}

// Case (e1): depthwise 2x2 conv, groups = channels = 2, input 1x2x3x3 (s 1, zp 5), weight
// [2,1,2,2] (s 0.5, zp 0), bias {1.0, -0.5}; acc scale 0.5 so bias = {+2, -1} acc units and
// M = 0.5/0.5 = 1 (every output exact).
//   ch0 x-zp = [1 2 0; 0 1 3; 2 0 1], w = [1 -1; 2 0]: acc = {-1, 4, 3, -2}
//   ch1 x-zp = [-1 0 2; 3 -2 1; 0 1 -1], w = [0 3; -2 1]: acc = {-8, 11, -5, 0}
// out zp 20: ch0 {-1,4,3,-2}+2+20 = {21,26,25,20}; ch1 {-8,11,-5,0}-1+20 = {11,30,14,19}.
TEST_P(LibTorchRunnerTest, DepthwiseConvHandComputed) {
  Model m;
  m.input = PerTensor(DType::kQUInt8, {1, 2, 3, 3},
                      {6, 7, 5, 5, 6, 8, 7, 5, 6,    // ch0
                       4, 5, 7, 8, 3, 6, 5, 6, 4},   // ch1
                      1.0, 5);
  Layer l = MakeLayer(OpKind::kConv2d,
                      PerTensor(DType::kQInt8, {2, 1, 2, 2}, {1, -1, 2, 0, 0, 3, -2, 1}, 0.5, 0),
                      0.5, 20);
  l.conv.groups = 2;
  l.bias = std::vector<float>{1.0f, -0.5f};
  m.layers.push_back(l);
  LayerOutput out = Accepted(m);
  EXPECT_EQ(out.shape, (std::vector<int64_t>{1, 2, 2, 2}));
  EXPECT_EQ(out.values, (std::vector<int32_t>{21, 26, 25, 20, 11, 30, 14, 19}));
}

// Case (e2): per-channel weights, stride 2, padding 1, dilation 2 on a 1x1x4x4 input
// (s 0.5, zp 3). Kernel 2x2 spans 3; padded 6 -> output 2x2. Output (oy,ox) reads input rows
// {2oy-1, 2oy+1} and columns {2ox-1, 2ox+1}; index -1 is padding, so only rows/cols 1 and 3 count:
//   x-zp at (1,1) = -1, (1,3) = 1, (3,1) = 0, (3,3) = -1.
// oc0 w = [1 2; -1 3] (s 0.5):  acc = {3*-1, -1*-1 + 3*1, 2*-1 + 3*0, -1 + 2 + 0 - 3} = {-3,4,-2,-2}
// oc1 w = [2 -2; 0 2] (s 0.25): acc = {2*-1, 0 + 2*1, -2*-1 + 0, -2 - 2 + 0 - 2} = {-2,2,2,-6}
// out s 0.25: M0 = 0.5*0.5/0.25 = 1, M1 = 0.5*0.25/0.25 = 0.5 (all oc1 accs even);
// out zp 10: oc0 {7,14,8,8}, oc1 {9,11,11,7}.
TEST_P(LibTorchRunnerTest, PerChannelStridedPaddedDilatedConvHandComputed) {
  Model m;
  m.input = PerTensor(DType::kQUInt8, {1, 1, 4, 4},
                      {4, 5, 6, 7, 3, 2, 5, 4, 6, 4, 1, 3, 5, 3, 4, 2}, 0.5, 3);
  Layer l = MakeLayer(OpKind::kConv2d,
                      PerChannel({2, 1, 2, 2}, {1, 2, -1, 3, 2, -2, 0, 2}, {0.5, 0.25}, {0, 0}),
                      0.25, 10);
  l.conv.stride[0] = l.conv.stride[1] = 2;
  l.conv.padding[0] = l.conv.padding[1] = 1;
  l.conv.dilation[0] = l.conv.dilation[1] = 2;
  m.layers.push_back(l);
  LayerOutput out = Accepted(m);
  EXPECT_EQ(out.shape, (std::vector<int64_t>{1, 2, 2, 2}));
  EXPECT_EQ(out.values, (std::vector<int32_t>{7, 14, 8, 8, 9, 11, 11, 7}));
}

INSTANTIATE_TEST_SUITE_P(AllEngines, LibTorchRunnerTest, ::testing::ValuesIn(AvailableEngines()),
                         [](const ::testing::TestParamInfo<Engine>& info) {
                           return std::string(EngineName(info.param));
                         });

TEST(LibTorchRunner, ReportsEnginesAndVersion) {
  std::vector<Engine> engines = AvailableEngines();
  EXPECT_FALSE(engines.empty());
  for (Engine e : engines) {
    EXPECT_TRUE(e == Engine::kQnnpack || e == Engine::kOnednn || e == Engine::kFbgemm || e == Engine::kX86) << e;
  }
  EXPECT_EQ(LibTorchVersion().rfind("1.13", 0), 0u) << LibTorchVersion();
}

TEST(LibTorchRunner, EngineNotInThisBuildRejected) {
  InitLibTorch();
  const std::vector<Engine> available = AvailableEngines();
  int tried = 0;
  for (Engine e : kAllEngines) {
    if (std::find(available.begin(), available.end(), e) != available.end()) continue;
    EngineResult r = RunOnLibTorch(OneByOneConv(), e);
    EXPECT_TRUE(r.rejected) << e;
    EXPECT_NE(r.message.find(std::string("'") + EngineName(e) + "' is not in this LibTorch build"),
              std::string::npos)
        << r.message;
    EXPECT_TRUE(r.layers.empty());
    ++tried;
  }
  if (tried == 0) GTEST_SKIP() << "this LibTorch has every engine";
}

// The runner's op table has one LibTorch call for every op kind a case can hold.
TEST(LibTorchRunnerTable, EveryOpKindHasALibTorchCall) {
  for (OpKind op : kAllOpKinds) EXPECT_TRUE(HasLibTorchCall(op)) << OpKindName(op);
}

}  // namespace
}  // namespace qdiff
