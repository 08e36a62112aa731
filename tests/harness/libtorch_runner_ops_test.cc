// Tests of the LibTorch runner's non-GEMM ops and graph edges against hand-computed outputs, on
// every engine of this build. As in libtorch_runner_test.cc, each case is chosen so that every
// output is an exact integer before rounding (no ties, no saturation unless stated), so every
// kernel (QNNPACK, XNNPACK, the default kernels used by FBGEMM and ONEDNN, NCHW or NHWC) must give
// the same values. Where an engine computes something else on purpose, the test says so.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "harness/torch/libtorch_runner.h"
#include "oracles/model.h"

namespace qdiff {
namespace {

using Values = std::vector<int32_t>;
using Shape = std::vector<int64_t>;

QTensor PerTensor(DType dtype, Shape shape, Values values, double scale, int32_t zero_point) {
  return PerTensorQTensor(dtype, std::move(shape), std::move(values), scale, zero_point);
}

QTensor QUInt8(Shape shape, Values values, double scale, int32_t zero_point) {
  return PerTensor(DType::kQUInt8, std::move(shape), std::move(values), scale, zero_point);
}

Layer OpLayer(OpKind op, std::vector<int> inputs = {}) {
  Layer l;
  l.op = op;
  l.inputs = std::move(inputs);
  return l;
}

Layer WithOutput(Layer l, double out_scale, int32_t out_zero_point) {
  l.out_scale = out_scale;
  l.out_zero_point = out_zero_point;
  return l;
}

Layer Pool(OpKind op, int64_t kernel, int64_t stride) {
  Layer l = OpLayer(op);
  l.pool.kernel[0] = l.pool.kernel[1] = kernel;
  l.pool.stride[0] = l.pool.stride[1] = stride;
  return l;
}

Model OneLayer(QTensor input, Layer layer) {
  Model m;
  m.input = std::move(input);
  m.layers = {std::move(layer)};
  return m;
}

// A 1x2x4x4 quint8 input (s 0.5, zp 10) used by the pooling tests. Channel 0 counts up, channel 1
// is irregular, so NCHW/NHWC addressing mistakes would show.
QTensor PoolInput() {
  return QUInt8({1, 2, 4, 4},
                {10, 11, 12, 13,  14, 15, 16, 17,  18, 19, 20, 21,  22, 23, 24, 25,    // ch0
                 40, 12, 33, 20,  18, 30, 14, 26,  10, 50, 22, 38,  34, 16, 42, 28},   // ch1
                0.5, 10);
}

class LibTorchRunnerOpsTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override { InitLibTorch(); }

  bool Qnnpack() const { return GetParam() == Engine::kQnnpack; }

  // Runs `model`, expects acceptance and one output per layer.
  EngineResult Accepted(const Model& model) {
    EngineResult r = RunOnLibTorch(model, GetParam());
    EXPECT_FALSE(r.rejected) << r.message;
    EXPECT_EQ(r.layers.size(), model.layers.size());
    r.layers.resize(model.layers.size());
    return r;
  }

  LayerOutput Last(const Model& model) { return Accepted(model).layers.back(); }
};

// ---- elementwise activations -----------------------------------------------------------------

// relu = max(q, z): input s 0.5, zp 10; output qparams = input's.
TEST_P(LibTorchRunnerOpsTest, ReluIsMaxWithZeroPoint) {
  LayerOutput out =
      Last(OneLayer(QUInt8({1, 1, 2, 3}, {0, 3, 9, 10, 11, 200}, 0.5, 10), OpLayer(OpKind::kRelu)));
  EXPECT_EQ(out.shape, (Shape{1, 1, 2, 3}));
  EXPECT_EQ(out.values, (Values{10, 10, 10, 10, 11, 200}));
  EXPECT_DOUBLE_EQ(out.scale, 0.5);
  EXPECT_EQ(out.zero_point, 10);
}

// relu6 clamps to [quantize(0), quantize(6)] = [10, 10 + 6/0.5] = [10, 22] at s 0.5, zp 10.
TEST_P(LibTorchRunnerOpsTest, Relu6ClampsToQuantizedSix) {
  LayerOutput out =
      Last(OneLayer(QUInt8({1, 6}, {0, 10, 21, 22, 23, 40}, 0.5, 10), OpLayer(OpKind::kRelu6)));
  EXPECT_EQ(out.values, (Values{10, 10, 21, 22, 22, 22}));
  EXPECT_DOUBLE_EQ(out.scale, 0.5);
  EXPECT_EQ(out.zero_point, 10);
}

// hardtanh(-1, 2) and clamp(-1, 2) at s 0.5, zp 10: bounds 10 - 2 = 8 and 10 + 4 = 14.
// qint8 at s 0.5, zp -5: bounds -7 and -1.
TEST_P(LibTorchRunnerOpsTest, HardtanhAndClampUseQuantizedBounds) {
  for (OpKind op : {OpKind::kHardtanh, OpKind::kClamp}) {
    SCOPED_TRACE(OpKindName(op));
    Layer l = OpLayer(op);
    l.act.min_value = -1.0f;
    l.act.max_value = 2.0f;
    LayerOutput u8 = Last(OneLayer(QUInt8({6}, {0, 8, 9, 14, 15, 30}, 0.5, 10), l));
    EXPECT_EQ(u8.values, (Values{8, 8, 9, 14, 14, 14}));
    EXPECT_EQ(u8.zero_point, 10);
    LayerOutput s8 = Last(
        OneLayer(PerTensor(DType::kQInt8, {6}, {-128, -7, -6, -1, 0, 127}, 0.5, -5), l));
    EXPECT_EQ(s8.values, (Values{-7, -7, -6, -1, -1, -1}));
    EXPECT_EQ(s8.zero_point, -5);
  }
}

// hardswish(x) = x * clamp(x + 3, 0, 6) / 6. Input s 0.5, zp 8: q {0,2,5,8,11,14,16} is
// x {-4,-3,-1.5,0,1.5,3,4}, h {0,0,-0.375,0,1.125,3,4} (-1.5*1.5/6, 1.5*4.5/6: exact binary32);
// output s 0.125, zp 64: h/s {0,0,-3,0,9,24,32} -> {64,64,61,64,73,88,96}.
TEST_P(LibTorchRunnerOpsTest, HardswishHandComputed) {
  LayerOutput out = Last(OneLayer(QUInt8({1, 7}, {0, 2, 5, 8, 11, 14, 16}, 0.5, 8),
                                  WithOutput(OpLayer(OpKind::kHardswish), 0.125, 64)));
  EXPECT_EQ(out.values, (Values{64, 64, 61, 64, 73, 88, 96}));
  EXPECT_DOUBLE_EQ(out.scale, 0.125);
  EXPECT_EQ(out.zero_point, 64);
}

// Sigmoid's output qparams are LibTorch's, not the layer's: (1/256, 0) for quint8 and
// (1/256, -128) for qint8. s 1: x = -128 -> ~0, x = 0 -> 0.5 = 128/256, x = 127 -> 256 saturates.
TEST_P(LibTorchRunnerOpsTest, SigmoidHasFixedOutputQParams) {
  Layer l = WithOutput(OpLayer(OpKind::kSigmoid), 0.3, 7);  // ignored by LibTorch
  LayerOutput u8 = Last(OneLayer(QUInt8({3}, {0, 128, 255}, 1.0, 128), l));
  EXPECT_EQ(u8.values, (Values{0, 128, 255}));
  EXPECT_DOUBLE_EQ(u8.scale, 1.0 / 256);
  EXPECT_EQ(u8.zero_point, 0);
  LayerOutput s8 = Last(OneLayer(PerTensor(DType::kQInt8, {3}, {-128, 0, 127}, 1.0, 0), l));
  EXPECT_EQ(s8.values, (Values{-128, 0, 127}));
  EXPECT_DOUBLE_EQ(s8.scale, 1.0 / 256);
  EXPECT_EQ(s8.zero_point, -128);
}

// leaky_relu with slope 0.25: input s 0.5, zp 10: q {2,10,18,6} is x {-4,0,4,-2},
// y {-1,0,4,-0.5}; output s 0.25, zp 20: {16,20,36,18}.
TEST_P(LibTorchRunnerOpsTest, LeakyReluHandComputed) {
  Layer l = WithOutput(OpLayer(OpKind::kLeakyRelu), 0.25, 20);
  l.act.negative_slope = 0.25f;
  LayerOutput out = Last(OneLayer(QUInt8({2, 2}, {2, 10, 18, 6}, 0.5, 10), l));
  EXPECT_EQ(out.shape, (Shape{2, 2}));
  EXPECT_EQ(out.values, (Values{16, 20, 36, 18}));
  EXPECT_DOUBLE_EQ(out.scale, 0.25);
  EXPECT_EQ(out.zero_point, 20);
}

// ---- binary ops and cat ----------------------------------------------------------------------

// A two-input op on node -1 = a (s 0.5, zp 10) = {10,12,20,4}, i.e. {0,1,5,-3}, and node 0 =
// hardtanh(a, -100, 100), a copy of a made by the graph.
Model TwoInputModel(Layer op) {
  Model m;
  m.input = QUInt8({1, 1, 2, 2}, {10, 12, 20, 4}, 0.5, 10);
  Layer copy = OpLayer(OpKind::kHardtanh);
  copy.act.min_value = -100.0f;
  copy.act.max_value = 100.0f;
  m.layers = {copy, std::move(op)};
  return m;
}

// add(a, a) at out s 0.5, zp 5: 2a = {0,2,10,-6} -> 5 + {0,4,20,-12} = {5,9,25,-7}; -7
// saturates at 0 (the only clamp; exact before it). add_relu: {5,9,25,5}. mul(a, a):
// a^2 = {0,1,25,9} at s 0.5, zp 50 -> {50,52,100,68}; mul_relu is the same (all >= 0).
// Inputs are node -1 and node 0.
TEST_P(LibTorchRunnerOpsTest, AddAndMulHandComputed) {
  struct Case {
    OpKind op;
    bool relu;
    double scale;
    int32_t zero_point;
    Values expected;
  };
  const Case cases[] = {{OpKind::kAdd, false, 0.5, 5, {5, 9, 25, 0}},
                        {OpKind::kAdd, true, 0.5, 5, {5, 9, 25, 5}},
                        {OpKind::kMul, false, 0.5, 50, {50, 52, 100, 68}},
                        {OpKind::kMul, true, 0.5, 50, {50, 52, 100, 68}}};
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(OpKindName(c.op)) + (c.relu ? "_relu" : ""));
    Layer l = WithOutput(OpLayer(c.op, {-1, 0}), c.scale, c.zero_point);
    l.relu = c.relu;
    LayerOutput out = Last(TwoInputModel(l));
    EXPECT_EQ(out.values, c.expected);
    EXPECT_DOUBLE_EQ(out.scale, c.scale);
    EXPECT_EQ(out.zero_point, c.zero_point);
  }
}

// Inputs with different qparams: a (s 0.5, zp 10) = {0,1,5,-3}; b = layer 0 = leaky_relu(a,
// slope 1) requantized to s 0.25, zp 20 (same reals: {20,24,40,8}). add at s 0.5, zp 5:
// a + b = 2a -> {5,9,25,0} as above; mul at s 0.25, zp 0: a*b = a^2 -> {0,4,100,36}.
TEST_P(LibTorchRunnerOpsTest, BinaryOpsWithDifferentInputQParams) {
  Model m;
  m.input = QUInt8({1, 1, 2, 2}, {10, 12, 20, 4}, 0.5, 10);
  Layer requant = WithOutput(OpLayer(OpKind::kLeakyRelu), 0.25, 20);
  requant.act.negative_slope = 1.0f;
  m.layers = {requant, WithOutput(OpLayer(OpKind::kAdd, {-1, 0}), 0.5, 5)};
  EngineResult r = Accepted(m);
  EXPECT_EQ(r.layers[0].values, (Values{20, 24, 40, 8}));
  EXPECT_EQ(r.layers[1].values, (Values{5, 9, 25, 0}));
  m.layers[1] = WithOutput(OpLayer(OpKind::kMul, {0, -1}), 0.25, 0);
  EXPECT_EQ(Last(m).values, (Values{0, 4, 100, 36}));
}

// cat of node -1 (a) and node 0 (relu(a) = {10,12,20,10}), both s 0.5, zp 10 like the output,
// so cat copies the values: dim 1 stacks the channels, dim 3 the rows' columns.
TEST_P(LibTorchRunnerOpsTest, CatConcatenatesWhenQParamsMatchOutput) {
  Model m;
  m.input = QUInt8({1, 1, 2, 2}, {10, 12, 20, 4}, 0.5, 10);
  m.layers = {OpLayer(OpKind::kRelu), WithOutput(OpLayer(OpKind::kCat, {-1, 0, -1}), 0.5, 10)};
  LayerOutput dim1 = Last(m);
  EXPECT_EQ(dim1.shape, (Shape{1, 3, 2, 2}));
  EXPECT_EQ(dim1.values, (Values{10, 12, 20, 4, 10, 12, 20, 10, 10, 12, 20, 4}));
  m.layers[1].cat_dim = 3;
  LayerOutput dim3 = Last(m);
  EXPECT_EQ(dim3.shape, (Shape{1, 1, 2, 6}));
  EXPECT_EQ(dim3.values, (Values{10, 12, 10, 12, 10, 12, 20, 4, 20, 10, 20, 4}));
  // Channels-last inputs with dim 1 take qcat_nhwc's fast path: same values.
  m.layers[1].cat_dim = 1;
  m.layers[1].channels_last = true;
  EXPECT_EQ(Last(m).values, dim1.values);
}

// Inputs whose qparams differ from the output's are requantized: out s 0.25, zp 0 doubles
// q - 10 for a = {10,12,20,14} ({0,1,5,2}) -> {0,4,20,8}; relu(a) = a.
TEST_P(LibTorchRunnerOpsTest, CatRequantizesToOutputQParams) {
  Model m;
  m.input = QUInt8({1, 1, 2, 2}, {10, 12, 20, 14}, 0.5, 10);
  m.layers = {OpLayer(OpKind::kRelu), WithOutput(OpLayer(OpKind::kCat, {0, -1}), 0.25, 0)};
  for (bool channels_last : {false, true}) {
    SCOPED_TRACE(channels_last ? "channels_last" : "nchw");
    m.layers[1].channels_last = channels_last;
    LayerOutput out = Last(m);
    EXPECT_EQ(out.values, (Values{0, 4, 20, 8, 0, 4, 20, 8}));
    EXPECT_DOUBLE_EQ(out.scale, 0.25);
    EXPECT_EQ(out.zero_point, 0);
  }
}

// ---- pools -----------------------------------------------------------------------------------

// max_pool2d 2x2 / 2 picks each block's max: ch0 {15,17,23,25}, ch1 {40,33,50,42}.
const Values kMaxPool2x2 = {15, 17, 23, 25, 40, 33, 50, 42};

TEST_P(LibTorchRunnerOpsTest, MaxPoolPicksBlockMax) {
  LayerOutput out = Last(OneLayer(PoolInput(), Pool(OpKind::kMaxPool2d, 2, 2)));
  EXPECT_EQ(out.shape, (Shape{1, 2, 2, 2}));
  EXPECT_EQ(out.values, kMaxPool2x2);
  EXPECT_DOUBLE_EQ(out.scale, 0.5);
  EXPECT_EQ(out.zero_point, 10);
}

// 3x3 / 2 with padding 1: floor((4 + 2 - 3) / 2) + 1 = 2 windows per dimension, starting at -1
// and 1 (rows/cols {0,1} and {1,2,3}); ceil_mode adds a third starting at 3 (row/col {3}), since
// 3 < 4 + 1. ch0 = 10 + 4r + c, so a window's max is 10 + 4*max(r) + max(c):
// {15,17,23,25} and with ceil_mode {15,17,17, 23,25,25, 23,25,25}. ch1 rows
// {40 12 33 20 | 18 30 14 26 | 10 50 22 38 | 34 16 42 28}: {40,33,50,50} and with ceil_mode
// {40,33,26, 50,50,38, 34,42,28}.
// Dilation 2, kernel 2, stride 1: windows {r, r+2} x {c, c+2} for r, c in {0, 1}:
// ch0 {20,21,24,25}; ch1 max of {40,33,10,22}=40, {12,20,50,38}=50, {18,14,34,42}=42,
// {30,26,16,28}=30.
TEST_P(LibTorchRunnerOpsTest, MaxPoolPaddingCeilModeDilation) {
  Layer padded = Pool(OpKind::kMaxPool2d, 3, 2);
  padded.pool.padding[0] = padded.pool.padding[1] = 1;
  LayerOutput a = Last(OneLayer(PoolInput(), padded));
  EXPECT_EQ(a.shape, (Shape{1, 2, 2, 2}));
  EXPECT_EQ(a.values, (Values{15, 17, 23, 25, 40, 33, 50, 50}));
  padded.pool.ceil_mode = true;
  LayerOutput c = Last(OneLayer(PoolInput(), padded));
  EXPECT_EQ(c.shape, (Shape{1, 2, 3, 3}));
  EXPECT_EQ(c.values, (Values{15, 17, 17, 23, 25, 25, 23, 25, 25,    // ch0
                              40, 33, 26, 50, 50, 38, 34, 42, 28}));  // ch1
  Layer dilated = Pool(OpKind::kMaxPool2d, 2, 1);
  dilated.pool.dilation[0] = dilated.pool.dilation[1] = 2;
  LayerOutput b = Last(OneLayer(PoolInput(), dilated));
  EXPECT_EQ(b.shape, (Shape{1, 2, 2, 2}));
  EXPECT_EQ(b.values, (Values{20, 21, 24, 25, 40, 50, 42, 30}));
}

// An exact op gives the same values in both layouts (and the output is read back in NCHW
// order): the 2x2 max pool and the padded ceil-mode 3x3 one, on two channels.
TEST_P(LibTorchRunnerOpsTest, ChannelsLastGivesSameValuesForExactOps) {
  Layer padded = Pool(OpKind::kMaxPool2d, 3, 2);
  padded.pool.padding[0] = padded.pool.padding[1] = 1;
  padded.pool.ceil_mode = true;
  for (Layer l : {Pool(OpKind::kMaxPool2d, 2, 2), padded}) {
    Model m = OneLayer(PoolInput(), l);
    LayerOutput nchw = Last(m);
    m.layers[0].channels_last = true;
    LayerOutput cl = Last(m);
    EXPECT_EQ(cl.shape, nchw.shape);
    EXPECT_EQ(cl.values, nchw.values);
  }
}

// The layout decides the avg_pool2d kernel (docs/semantics.md#average-pooling), which shows that
// the layer's flag, and only it, reaches LibTorch. qint8 (QNNPACK's own avg pool takes quint8
// only), zp 11, two channels, each one 2x2 window with q - z = {0,0,1,1}: c = 2, c/4 = 0.5
// exactly. NCHW adds zp before rounding, RNE(0.5 + 11) = 12; NHWC after, RNE(0.5) + 11 = 11.
// Layer 0 (hardtanh(-100, 100), a copy) in channels-last hands the pool a channels-last tensor:
// a non-channels-last pool must still get NCHW.
TEST_P(LibTorchRunnerOpsTest, ChannelsLastSelectsTheAvgPoolKernel) {
  Model m;
  m.input = PerTensor(DType::kQInt8, {1, 2, 2, 2}, {11, 11, 12, 12, 11, 11, 12, 12}, 0.5, 11);
  Layer copy = OpLayer(OpKind::kHardtanh);
  copy.act.min_value = -100.0f;
  copy.act.max_value = 100.0f;
  m.layers = {copy, Pool(OpKind::kAvgPool2d, 2, 2)};
  for (bool copy_channels_last : {false, true}) {
    SCOPED_TRACE(copy_channels_last ? "after a channels-last layer" : "after an NCHW layer");
    m.layers[0].channels_last = copy_channels_last;
    m.layers[1].channels_last = false;
    EXPECT_EQ(Last(m).values, (Values{12, 12}));
    m.layers[1].channels_last = true;
    EXPECT_EQ(Last(m).values, (Values{11, 11}));
  }
}

// LibTorch picks the NHWC kernel when input.is_contiguous(ChannelsLast), which a contiguous NCHW
// tensor with one channel (or a 1x1 image) also is: with C = 1 both flags give the NHWC result.
TEST_P(LibTorchRunnerOpsTest, OneChannelAvgPoolIsNhwcInBothLayouts) {
  Model m = OneLayer(PerTensor(DType::kQInt8, {1, 1, 2, 2}, {11, 11, 12, 12}, 0.5, 11),
                     Pool(OpKind::kAvgPool2d, 2, 2));
  for (bool channels_last : {false, true}) {
    m.layers[0].channels_last = channels_last;
    EXPECT_EQ(Last(m).values, (Values{11})) << (channels_last ? "channels_last" : "nchw");
  }
}

// avg_pool2d 2x2 / 2, s 0.5, zp 10 kept. Input 1x1x2x4: blocks {10,12,14,16} (q - z {0,2,4,6}:
// sum 12, avg 3 -> 13) and {30,30,10,10} ({20,20,0,0}: sum 40, avg 10 -> 20).
QTensor AvgInput() { return QUInt8({1, 1, 2, 4}, {10, 12, 30, 30, 14, 16, 10, 10}, 0.5, 10); }

TEST_P(LibTorchRunnerOpsTest, AvgPoolHandComputed) {
  for (bool channels_last : {false, true}) {
    SCOPED_TRACE(channels_last ? "channels_last" : "nchw");
    Layer l = Pool(OpKind::kAvgPool2d, 2, 2);
    l.channels_last = channels_last;
    LayerOutput out = Last(OneLayer(AvgInput(), l));
    EXPECT_EQ(out.shape, (Shape{1, 1, 1, 2}));
    EXPECT_EQ(out.values, (Values{13, 20}));
    EXPECT_DOUBLE_EQ(out.scale, 0.5);
    EXPECT_EQ(out.zero_point, 10);
  }
}

// divisor_override 2: sums {12, 40} / 2 = {6, 20} -> {16, 30}. QNNPACK's avg pool ignores
// divisor_override and always divides by kH*kW (docs/semantics.md#average-pooling): {13, 20}.
TEST_P(LibTorchRunnerOpsTest, AvgPoolDivisorOverride) {
  Layer l = Pool(OpKind::kAvgPool2d, 2, 2);
  l.pool.divisor_override = 2;
  LayerOutput out = Last(OneLayer(AvgInput(), l));
  EXPECT_EQ(out.values, Qnnpack() ? (Values{13, 20}) : (Values{16, 30}));
}

// count_include_pad: 2x2 / 2 with padding 1 on a 1x1x2x2 input {14,14,14,14} (diff 4 each):
// every window holds one input element and three pads; count_include_pad divides 4 by 4 -> 1
// -> 11; without it, by the valid count 1 -> 4 -> 14. QNNPACK ignores count_include_pad=false.
TEST_P(LibTorchRunnerOpsTest, AvgPoolCountIncludePad) {
  Layer l = Pool(OpKind::kAvgPool2d, 2, 2);
  l.pool.padding[0] = l.pool.padding[1] = 1;
  QTensor x = QUInt8({1, 1, 2, 2}, {14, 14, 14, 14}, 0.5, 10);
  EXPECT_EQ(Last(OneLayer(x, l)).values, (Values{11, 11, 11, 11}));
  l.pool.count_include_pad = false;
  EXPECT_EQ(Last(OneLayer(x, l)).values,
            Qnnpack() ? (Values{11, 11, 11, 11}) : (Values{14, 14, 14, 14}));
}

// adaptive_avg_pool2d to 1x2 on AvgInput: the same two 2x2 windows as AvgPoolHandComputed:
// {13, 20} (the NCHW kernel averages raw q: 52/4 = 13, 80/4 = 20; exact either way).
TEST_P(LibTorchRunnerOpsTest, AdaptiveAvgPoolHandComputed) {
  for (bool channels_last : {false, true}) {
    SCOPED_TRACE(channels_last ? "channels_last" : "nchw");
    Layer l = OpLayer(OpKind::kAdaptiveAvgPool2d);
    l.pool.output_size[0] = 1;
    l.pool.output_size[1] = 2;
    l.channels_last = channels_last;
    LayerOutput out = Last(OneLayer(AvgInput(), l));
    EXPECT_EQ(out.shape, (Shape{1, 1, 1, 2}));
    EXPECT_EQ(out.values, (Values{13, 20}));
    EXPECT_DOUBLE_EQ(out.scale, 0.5);
    EXPECT_EQ(out.zero_point, 10);
  }
}

// ---- graph -----------------------------------------------------------------------------------

// conv -> relu -> add(relu, model input). Input x (s 0.5, zp 10) = {4,10,16,30} is
// {-3,0,3,10}; 1x1 conv weight {2} (s 0.25), out s 0.25, zp 100: acc {-12,0,12,40} * 0.5 =
// {-6,0,6,20} -> {94,100,106,120}; relu -> {100,100,106,120} = {0,0,1.5,5};
// add(relu, x) at s 0.5, zp 50: {-3,0,4.5,15} -> {44,50,59,80}.
// Fed the conv output instead of the relu: {-4.5,0,4.5,15} -> {41,...}; fed x twice: {38,...}.
Model ResidualModel() {
  Model m;
  m.input = QUInt8({1, 1, 2, 2}, {4, 10, 16, 30}, 0.5, 10);
  Layer conv = WithOutput(OpLayer(OpKind::kConv2d), 0.25, 100);
  conv.weight = PerTensor(DType::kQInt8, {1, 1, 1, 1}, {2}, 0.25, 0);
  m.layers = {conv, OpLayer(OpKind::kRelu), WithOutput(OpLayer(OpKind::kAdd, {1, -1}), 0.5, 50)};
  return m;
}

TEST_P(LibTorchRunnerOpsTest, ResidualGraphFeedsTheRightNodes) {
  EngineResult r = Accepted(ResidualModel());
  EXPECT_EQ(r.layers[0].values, (Values{94, 100, 106, 120}));
  EXPECT_EQ(r.layers[1].values, (Values{100, 100, 106, 120}));
  EXPECT_EQ(r.layers[2].values, (Values{44, 50, 59, 80}));
  EXPECT_EQ(r.layers[2].zero_point, 50);
}

// Same graph with every layer channels-last: same values (the add reads a channels-last relu
// output and a channels-last copy of the model input).
TEST_P(LibTorchRunnerOpsTest, ResidualGraphChannelsLast) {
  Model m = ResidualModel();
  for (Layer& l : m.layers) l.channels_last = true;
  EXPECT_EQ(Accepted(m).layers[2].values, (Values{44, 50, 59, 80}));
}

// ---- rejections ------------------------------------------------------------------------------

// QNNPACK refuses a 1x1 average pool ("1x1 pooling is meaningless"); the default kernel of the
// other engines computes it (the identity).
TEST_P(LibTorchRunnerOpsTest, OneByOneAvgPoolRejectedOnQnnpackOnly) {
  Model m = OneLayer(AvgInput(), Pool(OpKind::kAvgPool2d, 1, 1));
  EngineResult r = RunOnLibTorch(m, GetParam());
  if (Qnnpack()) {
    EXPECT_TRUE(r.rejected);
    EXPECT_NE(r.message.find("Average Pooling"), std::string::npos) << r.message;
    EXPECT_EQ(r.message.find('\n'), std::string::npos);
    EXPECT_TRUE(r.layers.empty());
  } else {
    ASSERT_FALSE(r.rejected) << r.message;
    EXPECT_EQ(r.layers.at(0).values, AvgInput().values);
  }
}

// QNNPACK's quint8 add needs each input/output scale ratio in [2^-14, 2^8) and asserts otherwise;
// the default kernel saturates: 2a = {0,2,10,-6} at s 0.001, zp 128 -> {128,255,255,0}.
TEST_P(LibTorchRunnerOpsTest, AddWithHugeScaleRatioRejectedOnQnnpackOnly) {
  Model m = TwoInputModel(WithOutput(OpLayer(OpKind::kAdd, {-1, 0}), 0.001, 128));
  EngineResult r = RunOnLibTorch(m, GetParam());
  if (Qnnpack()) {
    EXPECT_TRUE(r.rejected);
    EXPECT_FALSE(r.message.empty());
    EXPECT_TRUE(r.layers.empty());
  } else {
    ASSERT_FALSE(r.rejected) << r.message;
    EXPECT_EQ(r.layers.at(1).values, (Values{128, 255, 255, 0}));
  }
}

INSTANTIATE_TEST_SUITE_P(AllEngines, LibTorchRunnerOpsTest, ::testing::ValuesIn(AvailableEngines()),
                         [](const ::testing::TestParamInfo<Engine>& info) {
                           return std::string(EngineName(info.param));
                         });

}  // namespace
}  // namespace qdiff
