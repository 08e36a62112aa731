// The LibTorch-bug models of harness/evaluation/libtorch_bugs.h, on their corpus cases.
#include <gtest/gtest.h>

#include "harness/case/case_json.h"
#include "harness/evaluation/libtorch_bugs.h"
#include "oracles/integer_pipeline.h"
#include "oracles/scheme.h"

namespace qdiff {
namespace {

// corpora/onednn_amx_conv3d_padding_zero_point.json: input constant at z_x = 174, so the right
// output is z_y = 110 everywhere; with padded taps at x = 0 the accumulator is
// Σ_padded (0 − 174)·w = −22098, and −22098 · (0.125 · 0.0625 / 32) = −5.395 → −5 + 110 = 105,
// the value measured on an AMX CPU.
TEST(LibTorchBugs, AmxZeroPaddedConvGivesTheMeasuredValue) {
  const Case c = LoadCaseFile(std::string(QDIFF_SOURCE_DIR) +
                              "/corpora/onednn_amx_conv3d_padding_zero_point.json");
  const Layer& layer = c.model.layers[0];
  const Recipe onednn = GetScheme(Scheme::kOnednnFp32).recipe;
  EXPECT_EQ(RunIntegerLayer(layer, c.model.input, onednn).out, std::vector<int32_t>{110});
  EXPECT_EQ(ZeroPaddedConvOutput(layer, c.model.input, onednn), std::vector<int32_t>{105});
  // Without padding there are no padded taps: the model gives the right value.
  Layer unpadded = layer;
  for (int64_t& p : unpadded.conv.padding) p = 0;
  unpadded.weight.shape[3] = 1;  // keep the output shape: KH 3 → 1 over H = 1
  unpadded.weight.values.resize(2 * 2 * 1 * 3);
  EXPECT_EQ(ZeroPaddedConvOutput(unpadded, c.model.input, onednn),
            RunIntegerLayer(unpadded, c.model.input, onednn).out);
}

}  // namespace
}  // namespace qdiff
