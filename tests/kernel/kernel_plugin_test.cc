// Tests of the kernel plugin loader (harness/kernel/kernel_plugin.h) with the C plugins built by
// tests/CMakeLists.txt: the example reference kernel (examples/kernel_plugin/reference_kernel.c)
// must reproduce qdiff's qnnpack_fp32 scheme bit for bit on random conv2d and linear layers, its
// ties-away mutant (tests/kernel/mutants/ties_away.c) must be caught by the same comparison, and
// every broken plugin must be refused with a message naming the file and the problem.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "harness/kernel/kernel_plugin.h"
#include "properties/case_generator.h"
#include "tests/kernel/plugin_comparison.h"

namespace qdiff {
namespace {

const KernelPlugin& Reference() { return Loaded(QDIFF_PLUGIN_REFERENCE); }
const KernelPlugin& TiesAway() { return Loaded(QDIFF_PLUGIN_TIES_AWAY); }

void ReferenceMatchesQnnpackFp32(OpKind op) {
  const GeneratedModel g = *GenModel(OnlyOp(op));
  RC_PRE(PluginCanRun(g.model));
  RC_TAG(g.tags.scale_kind, g.tags.bias_kind);
  const Comparison c = CompareWithQnnpackFp32(Reference(), g.model);
  RC_ASSERT(c.elements > 0);
  RC_ASSERT(c.gemm_mismatches == 0);
  RC_ASSERT(c.requantize_mismatches == 0);
}

RC_GTEST_PROP(KernelPlugin, ReferenceConv2dMatchesQnnpackFp32, ()) {
  ReferenceMatchesQnnpackFp32(OpKind::kConv2d);
}

RC_GTEST_PROP(KernelPlugin, ReferenceLinearMatchesQnnpackFp32, ()) {
  ReferenceMatchesQnnpackFp32(OpKind::kLinear);
}

// The comparison above can fail: on the same kind of models, the mutant that rounds ties away
// from zero differs (power-of-two scales make exact ties frequent), through conv2d, linear and
// requantize alike, while the reference does not.
TEST(KernelPlugin, TiesAwayMutantIsCaught) {
  for (OpKind op : {OpKind::kConv2d, OpKind::kLinear}) {
    int64_t reference_mismatches = 0;
    Comparison mutant;
    int models = 0;
    for (uint64_t seed = 0; seed < 300; ++seed) {
      const GeneratedModel g = GenerateModel(seed, OnlyOp(op));
      if (!PluginCanRun(g.model)) continue;
      ++models;
      const Comparison r = CompareWithQnnpackFp32(Reference(), g.model);
      const Comparison m = CompareWithQnnpackFp32(TiesAway(), g.model);
      reference_mismatches += r.gemm_mismatches + r.requantize_mismatches;
      mutant.gemm_mismatches += m.gemm_mismatches;
      mutant.requantize_mismatches += m.requantize_mismatches;
    }
    SCOPED_TRACE(OpKindName(op));
    EXPECT_GT(models, 100);
    EXPECT_EQ(reference_mismatches, 0);
    EXPECT_GT(mutant.gemm_mismatches, 0);
    EXPECT_GT(mutant.requantize_mismatches, 0);
  }
}

// s_x = 1/2, s_w = 1/4, s_y = 1/2, z_y = 3: M = 1/4 in every form.
ChannelQuant QuarterChannel() {
  ChannelQuant q;
  q.s_x = 0.5;
  q.s_w = 0.25;
  q.s_y = 0.5;
  q.z_y = 3;
  q.range = {0, 255};
  return q;
}

TEST(KernelPlugin, RequantChannelFormsByHand) {
  ChannelQuant q = QuarterChannel();
  q.bias = 0.3125f;  // 0.3125 / (1/2 · 1/4) = 2.5 accumulator units → RNE 2
  const qdiff_requant_channel c = KernelRequantChannel(q);
  EXPECT_EQ(c.multiplier_f32, 0.25f);
  EXPECT_EQ(c.multiplier_q31, 1 << 30);  // 1/4 = 2^30 · 2^(−31 − 1)
  EXPECT_EQ(c.right_shift, 1);
  EXPECT_EQ(c.has_bias, 1);
  EXPECT_EQ(c.bias, 0.3125f);
  EXPECT_EQ(c.bias_int32, 2);
  EXPECT_EQ(c.output_zero_point, 3);
  EXPECT_EQ(c.qmin, 0);
  EXPECT_EQ(c.qmax, 255);
}

TEST(KernelPlugin, RequantizeTiesByHand) {
  KernelRequantizeCall call;
  call.acc = {10, 14, -6, 9, 4000};  // acc / 4: 2.5, 3.5, −1.5, 2.25, 1000
  call.outer = 5;
  call.channels = {QuarterChannel()};
  // RNE + 3: 2 + 3, 4 + 3, −2 + 3, 2 + 3, 1003 → 255.
  EXPECT_EQ(std::get<std::vector<uint8_t>>(Reference().Requantize(call)),
            (std::vector<uint8_t>{5, 7, 1, 5, 255}));
  // Ties away: 3 + 3, 4 + 3, −2 + 3, 2 + 3, 255.
  EXPECT_EQ(std::get<std::vector<uint8_t>>(TiesAway().Requantize(call)),
            (std::vector<uint8_t>{6, 7, 1, 5, 255}));
}

TEST(KernelPlugin, ReferenceInfo) {
  EXPECT_EQ(Reference().name(), "reference_qnnpack_fp32");
  EXPECT_EQ(Reference().engine(), "qnnpack");
  EXPECT_EQ(Reference().capabilities(),
            QDIFF_KERNEL_REQUANTIZE | QDIFF_KERNEL_CONV2D | QDIFF_KERNEL_LINEAR);
}

TEST(KernelPlugin, CallErrorsNameThePluginAndTheProblem) {
  const std::string add = ErrorOf(Reference().Add(KernelBinaryCall{}));
  EXPECT_NE(add.find(QDIFF_PLUGIN_REFERENCE), std::string::npos) << add;
  EXPECT_NE(add.find("has no qdiff_kernel_add"), std::string::npos) << add;
  KernelConv2dCall conv;
  conv.input_shape = {1, 1, 2, 2};
  conv.input = {1, 2, 3};  // 3 values for 4 elements
  conv.weight_shape = {1, 1, 1, 1};
  conv.weight = {1};
  conv.weight_zero_points = {0};
  conv.channels = {QuarterChannel()};
  const std::string bad = ErrorOf(Reference().Conv2d(conv));
  EXPECT_NE(bad.find("do not match the shapes"), std::string::npos) << bad;
}

// Load errors: each message names the file and what is wrong.
void ExpectLoadError(const std::string& path, const std::string& problem) {
  const KernelResult<KernelPlugin> r = KernelPlugin::Load(path);
  ASSERT_TRUE(std::holds_alternative<KernelError>(r)) << path << " loaded";
  const std::string& message = std::get<KernelError>(r).message;
  EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
  EXPECT_NE(message.find(problem), std::string::npos) << message;
}

TEST(KernelPluginLoad, NotASharedObject) {
  ExpectLoadError(QDIFF_SOURCE_DIR "/examples/kernel_plugin/README.md",
                  "not a loadable shared object");
  ExpectLoadError(QDIFF_SOURCE_DIR "/no/such/plugin.so", "not a loadable shared object");
}

TEST(KernelPluginLoad, MissingInfoSymbol) {
  ExpectLoadError(QDIFF_PLUGIN_NO_INFO, "missing symbol qdiff_kernel_info_v1");
}

TEST(KernelPluginLoad, WrongAbiVersion) {
  ExpectLoadError(QDIFF_PLUGIN_WRONG_ABI, "ABI version 2 not 1");
}

TEST(KernelPluginLoad, CapabilityWithoutFunction) {
  ExpectLoadError(QDIFF_PLUGIN_MISSING_FUNCTION,
                  "capability bit for qdiff_kernel_conv2d is set but the function is missing");
}

}  // namespace
}  // namespace qdiff
