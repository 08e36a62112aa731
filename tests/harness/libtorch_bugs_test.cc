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
}

// The same model, formulated independently: pad the input explicitly with rows of value 0 and
// run the layer without padding. Checked on a non-constant input, where in-bounds and padded
// taps both contribute, with weights in every tap (the corpus case has one nonzero weight).
TEST(LibTorchBugs, ZeroPaddedConvEqualsExplicitZeroRows) {
  const Case c = LoadCaseFile(std::string(QDIFF_SOURCE_DIR) +
                              "/corpora/onednn_amx_conv3d_padding_zero_point.json");
  Layer layer = c.model.layers[0];  // padding (0, 1, 0) over x [1, 2, 2, 1, 3]
  for (size_t i = 0; i < layer.weight.values.size(); ++i) {
    layer.weight.values[i] = static_cast<int32_t>((13 * i) % 255) - 127;
  }
  ASSERT_EQ(c.model.input.shape, (std::vector<int64_t>{1, 2, 2, 1, 3}));
  QTensor x = c.model.input;
  for (size_t i = 0; i < x.values.size(); ++i) x.values[i] = static_cast<int32_t>((37 * i + 11) % 256);
  QTensor padded = x;  // [1, 2, 2, 3, 3]: rows h = 0 and h = 2 hold 0, row 1 holds x
  padded.shape = {1, 2, 2, 3, 3};
  padded.values.assign(2 * 2 * 3 * 3, 0);
  for (int64_t cd = 0; cd < 4; ++cd) {  // (channel, depth) pairs
    for (int64_t w = 0; w < 3; ++w) padded.values[cd * 9 + 3 + w] = x.values[cd * 3 + w];
  }
  Layer unpadded = layer;
  for (int64_t& p : unpadded.conv.padding) p = 0;
  const Recipe onednn = GetScheme(Scheme::kOnednnFp32).recipe;
  const std::vector<int32_t> bug = ZeroPaddedConvOutput(layer, x, onednn);
  EXPECT_EQ(bug, RunIntegerLayer(unpadded, padded, onednn).out);
  EXPECT_NE(bug, RunIntegerLayer(layer, x, onednn).out);  // and it is not the right answer
}

}  // namespace
}  // namespace qdiff
