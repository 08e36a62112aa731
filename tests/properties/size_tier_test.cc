// The size tier of the generators (GeneratorSettings::real_size_percent): conv2d and linear layers
// at the sizes of real models, within the bounds that keep a case cheap, reaching the widths
// that select the engines' blocked and tail paths, at the share asked for.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "oracles/model.h"
#include "properties/case_generator.h"

namespace qdiff {
namespace {

GeneratorSettings RealSizesOnly() {
  GeneratorSettings s;
  s.ops = {OpKind::kConv2d, OpKind::kLinear};
  s.real_size_percent = 100;
  return s;
}

// Multiply-adds of a conv2d or linear layer on its input shape.
int64_t Macs(const Layer& l, const std::vector<int64_t>& in) {
  const std::vector<int64_t> out = LayerOutputShape(l, in);
  const int64_t per_output = l.op == OpKind::kLinear ? in[1] : l.weight.shape[1] * l.weight.shape[2] * l.weight.shape[3];
  return ShapeElements(out) * per_output;
}

RC_GTEST_PROP(SizeTier, LayersValidateWithinTheirBounds, ()) {
  const GeneratedModel g = *GenModel(RealSizesOnly());
  RC_ASSERT(g.tags.real_size);
  RC_ASSERT(ValidateModel(g.model) == "");
  RC_ASSERT(g.model.layers.size() == 1u);  // one layer: no chain, no op tail
  const Layer& l = g.model.layers[0];
  RC_LOG() << OpKindName(l.op) << " input " << ::testing::PrintToString(g.model.input.shape) << " weight "
            << ::testing::PrintToString(l.weight.shape) << " groups " << l.conv.groups << "\n";
  RC_ASSERT(Macs(l, g.model.input.shape) <= kRealSizeMacs);
  RC_ASSERT(ShapeElements(LayerOutputShape(l, g.model.input.shape)) <= kRealSizeOutputs);
}

// Over a fixed set of seeds (deterministic): the tier reaches the shapes it exists for.
TEST(SizeTier, ReachesRealWidthsTailsAndBatches) {
  int wide_multiple_of_32 = 0, one_off_a_multiple_of_8 = 0, depthwise = 0, grouped = 0, batched = 0,
      long_linear = 0, extent_28 = 0, strided = 0;
  for (int i = 0; i < 2000; ++i) {
    const Model m = GenerateModel(CaseSeed(11, i), RealSizesOnly()).model;
    const Layer& l = m.layers[0];
    const int64_t c_in = m.input.shape[1];
    const int64_t oc = l.weight.shape[0];
    for (int64_t c : {c_in, oc}) {
      wide_multiple_of_32 += c >= 64 && c % 32 == 0;
      one_off_a_multiple_of_8 += c > 8 && (c % 8 == 1 || c % 8 == 7);
    }
    batched += m.input.shape[0] > 1;
    if (l.op == OpKind::kLinear) {
      long_linear += c_in > 1024;
      continue;
    }
    depthwise += l.conv.groups > 1 && l.conv.groups == c_in;
    grouped += l.conv.groups > 1 && l.conv.groups < c_in;
    extent_28 += m.input.shape[2] >= 28;
    strided += l.conv.stride[0] == 2;
  }
  EXPECT_GE(wide_multiple_of_32, 200);
  EXPECT_GE(one_off_a_multiple_of_8, 200);
  EXPECT_GE(depthwise, 100);
  EXPECT_GE(grouped, 30);
  EXPECT_GE(batched, 400);
  EXPECT_GE(long_linear, 50);
  EXPECT_GE(extent_28, 100);
  EXPECT_GE(strided, 100);
}

// The share of conv2d/linear models in the tier follows real_size_percent; 0 turns it off.
TEST(SizeTier, ShareFollowsTheSetting) {
  for (int percent : {0, GeneratorSettings::kDefaultRealSizePercent, 25}) {
    GeneratorSettings s;
    s.ops = {OpKind::kConv2d, OpKind::kLinear};
    s.real_size_percent = percent;
    int real = 0;
    const int n = 4000;
    for (int i = 0; i < n; ++i) real += GenerateModel(CaseSeed(5, i), s).tags.real_size;
    EXPECT_NEAR(100.0 * real / n, percent, percent == 0 ? 0.0 : 0.3 * percent + 0.5) << "percent " << percent;
  }
}

}  // namespace
}  // namespace qdiff
