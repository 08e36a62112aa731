// The kernel accumulator models (16-bit pair saturation without VNNI, int32 wrap) by hand, and
// against LibTorch's ONEDNN engine with its ISA capped to AVX2 (no VNNI) in a child process.
#include <gtest/gtest.h>

#include "harness/evaluation/classifier.h"
#include "oracles/kernel_accumulators.h"
#include "oracles/scheme.h"
#include "tests/support/qdiff_process.h"

namespace qdiff {
namespace {

Layer LinearLayer(std::vector<int64_t> shape, std::vector<int32_t> w) {
  Layer l;
  l.op = OpKind::kLinear;
  l.weight = QTensor{DType::kQInt8, std::move(shape), std::move(w), {1.0}, {0}, -1};
  return l;
}

QTensor Input(std::vector<int64_t> shape, std::vector<int32_t> x, int32_t z_x) {
  return QTensor{DType::kQUInt8, std::move(shape), std::move(x), {1.0}, {z_x}, -1};
}

TEST(KernelAccumulators, LinearPairsSaturateByHand) {
  const Layer l = LinearLayer({1, 4}, {127, 127, 127, 127});
  // z_x = 0: exact 4·255·127 = 129540; pairs (0,1), (2,3): 2·sat16(64770) = 2·32767 = 65534.
  const QTensor x0 = Input({1, 4}, {255, 255, 255, 255}, 0);
  EXPECT_EQ(KernelAccumulators(l, x0, {1, 1}, AccumulatorModel::kExact)[0], 129540);
  EXPECT_EQ(KernelAccumulators(l, x0, {1, 1}, AccumulatorModel::kSat16ChannelPairs)[0], 65534);
  // z_x = 10: raw pairs as above, minus the compensation 10·Σw = 10·508: 65534 − 5080 = 60454.
  const QTensor x10 = Input({1, 4}, {255, 255, 255, 255}, 10);
  EXPECT_EQ(KernelAccumulators(l, x10, {1, 1}, AccumulatorModel::kSat16ChannelPairs)[0], 60454);
  // Mixed signs inside a pair do not saturate: 255·127 + 255·(−128) = −255.
  const Layer mixed = LinearLayer({1, 2}, {127, -128});
  EXPECT_EQ(KernelAccumulators(mixed, Input({1, 2}, {255, 255}, 0), {1, 1},
                               AccumulatorModel::kSat16ChannelPairs)[0], -255);
}

TEST(KernelAccumulators, ConvPairsStayWithinATap) {
  // 1×1 conv over 3 channels, all x = 255, w = 127: pair (c0, c1) saturates to 32767, c2 is
  // alone: 32767 + 32385 = 65152 (exact 3·32385 = 97155).
  Layer l;
  l.op = OpKind::kConv2d;
  l.weight = QTensor{DType::kQInt8, {1, 3, 1, 1}, {127, 127, 127}, {1.0}, {0}, -1};
  const QTensor x = Input({1, 3, 1, 1}, {255, 255, 255}, 0);
  EXPECT_EQ(KernelAccumulators(l, x, {1, 1, 1, 1}, AccumulatorModel::kSat16ChannelPairs)[0], 65152);
  EXPECT_EQ(KernelAccumulators(l, x, {1, 1, 1, 1}, AccumulatorModel::kExact)[0], 97155);
  // 2×1 kernel over 1 channel: oneDNN never pairs across taps (65 770 stays exact = 64770);
  // FBGEMM's flattened K pairs the two taps: sat16(64770) = 32767.
  Layer taps;
  taps.op = OpKind::kConv2d;
  taps.weight = QTensor{DType::kQInt8, {1, 1, 2, 1}, {127, 127}, {1.0}, {0}, -1};
  const QTensor x2 = Input({1, 1, 2, 1}, {255, 255}, 0);
  EXPECT_EQ(KernelAccumulators(taps, x2, {1, 1, 1, 1}, AccumulatorModel::kSat16ChannelPairs)[0], 64770);
  EXPECT_EQ(KernelAccumulators(taps, x2, {1, 1, 1, 1}, AccumulatorModel::kSat16FlatKPairs)[0], 32767);
}

TEST(KernelAccumulators, OnednnGemmKBlocks) {
  EXPECT_EQ(OnednnGemmKBlock(64), 64);
  EXPECT_EQ(OnednnGemmKBlock(256), 256);
  EXPECT_EQ(OnednnGemmKBlock(257), 129);  // two blocks: ceil(257/2)
  EXPECT_EQ(OnednnGemmKBlock(501), 251);
  EXPECT_EQ(OnednnGemmKBlock(767), 384);
  EXPECT_EQ(OnednnGemmKBlock(768), 384);  // blocks of bk = 384
  EXPECT_EQ(OnednnGemmKBlock(1001), 384);
  // K = 501, x = 255 at 250 and 251, w = 127 everywhere: the pair (250, 251) straddles the block
  // boundary at 251, so it does not saturate: 2·32385 = 64770 exactly.
  std::vector<int32_t> xv(501, 0);
  xv[250] = xv[251] = 255;
  const Layer l = LinearLayer({1, 501}, std::vector<int32_t>(501, 127));
  EXPECT_EQ(KernelAccumulators(l, Input({1, 501}, xv, 0), {1, 1},
                               AccumulatorModel::kSat16ChannelPairs)[0], 64770);
  // ... while (248, 249) inside the first block does: sat16(64770) = 32767.
  std::vector<int32_t> xw(501, 0);
  xw[248] = xw[249] = 255;
  EXPECT_EQ(KernelAccumulators(l, Input({1, 501}, xw, 0), {1, 1},
                               AccumulatorModel::kSat16ChannelPairs)[0], 32767);
}

TEST(KernelAccumulators, WrapToInt32) {
  EXPECT_EQ(WrapToInt32(int64_t{1} << 31), INT32_MIN);
  EXPECT_EQ(WrapToInt32((int64_t{1} << 32) + 5), 5);
  EXPECT_EQ(WrapToInt32(-5), -5);
}

TEST(KernelAccumulators, ClassifierNamesTheAccumulatorClasses) {
  // M = 1/256, z_y = 0: exact acc 64770 → RNE(253.0078) = 253; a kernel that saturated the pair
  // computes 32767 → RNE(127.996) = 128, which is what LibTorch returns on a non-VNNI path.
  ChannelQuant q;
  q.s_x = 1.0;
  q.s_w = 1.0;
  q.s_y = 256.0;
  q.z_y = 0;
  q.range = {0, 255};
  const ChannelTerms t = PrepareChannel(q);
  const Recipe onednn = GetScheme(Scheme::kOnednnFp32).recipe;
  EXPECT_EQ(ClassifyElement(onednn, onednn, t, 64770, 32767, 128), DiffClass::kAccSaturation16);
  // Without the kernel accumulator nothing explains 128.
  EXPECT_EQ(ClassifyElement(onednn, onednn, t, 64770, 128), DiffClass::kUnexplained);
  // An exact sum of 2^31 + 256·5 wraps to −2^31 + 1280: LibTorch's 0 (clamped) vs exact 255.
  const int64_t big = (int64_t{1} << 31) + 1280;
  EXPECT_EQ(ClassifyElement(GetScheme(Scheme::kExact).recipe, onednn, t, big, WrapToInt32(big), 0),
            DiffClass::kAccOverflow);
}

// LibTorch's ONEDNN engine with the ISA capped below VNNI saturates adjacent products; every
// difference must be explained, and some must be explained by exactly that.
TEST(KernelAccumulators, OnednnWithoutVnniIsExplainedBySat16) {
  TempDir dir;
  const std::string out = (dir.path() / "run").string();
  const Result r = Qdiff("run --cases 300 --seed 3 --engines onednn --schemes onednn_fp32 --out " +
                         Quote(out), "DNNL_MAX_CPU_ISA=AVX2");
  if (r.output.find("unknown or unavailable engine") != std::string::npos) {
    GTEST_SKIP() << "no ONEDNN engine in this LibTorch";
  }
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const std::string d = ReadFile(out + "/discrepancies.csv");
  EXPECT_NE(d.find("acc_saturation16"), std::string::npos);
  EXPECT_EQ(d.find("unexplained"), std::string::npos);
}

}  // namespace
}  // namespace qdiff
