// conv1d, conv3d and conv_transpose2d: golden cases whose outputs were computed by hand (in the
// comments, not by the code under test), the LibTorch runner on every available engine against
// those values, the case-file fields of the new ops, and a campaign-sized check that every
// engine's own recipe explains every element of the new ops.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "harness/case/case.h"
#include "harness/evaluation/case_evaluation.h"
#include "harness/case/case_json.h"
#include "harness/evaluation/engines.h"
#include "harness/torch/libtorch_runner.h"
#include "harness/evaluation/shrink.h"
#include "oracles/float_oracle.h"
#include "oracles/integer_pipeline.h"
#include "oracles/model.h"
#include "oracles/scheme.h"
#include "properties/case_generator.h"

namespace qdiff {
namespace {

QTensor Tensor(DType dtype, std::vector<int64_t> shape, std::vector<int32_t> values, double scale,
               int32_t zero_point) {
  return PerTensorQTensor(dtype, std::move(shape), std::move(values), scale, zero_point);
}

// A golden case: one layer whose multiplier s_x·s_w/s_y is exactly 1 and which has no bias, so
// every output is clamp(acc + z_y) with the exact integer accumulator: every scheme and every
// engine must give the hand-computed values bit for bit.
struct Golden {
  const char* name;
  Model model;
  std::vector<int64_t> out_shape;
  std::vector<int32_t> out;  // hand-computed int_repr of the output
};

// conv1d, dilation 2, padding 1: x = [1 2 3 4 5] (z_x = 10, stored 11..15), w = [1 2] (tap t reads
// x[o − 1 + 2t]), z_y = 5. Output length (5 + 2·1 − 2·(2−1) − 1)/1 + 1 = 5.
//   o=0: x[−1]·1 (pad) + x[1]·2 = 4     o=1: x[0]·1 + x[2]·2 = 1 + 6 = 7
//   o=2: x[1] + 2·x[3] = 2 + 8 = 10     o=3: x[2] + 2·x[4] = 3 + 10 = 13
//   o=4: x[3]·1 + x[5]·2 (pad) = 4
// + z_y = 5 → [9 12 15 18 9].
Golden DilatedConv1d() {
  Golden g{"dilated_conv1d", {}, {1, 1, 5}, {9, 12, 15, 18, 9}};
  g.model.input = Tensor(DType::kQUInt8, {1, 1, 5}, {11, 12, 13, 14, 15}, 0.5, 10);
  Layer l;
  l.op = OpKind::kConv1d;
  l.weight = Tensor(DType::kQInt8, {1, 1, 2}, {1, 2}, 0.5, 0);
  l.conv.dilation[0] = 2;
  l.conv.padding[0] = 1;
  l.out_scale = 0.25;  // 0.5 · 0.5 / 0.25 = 1
  l.out_zero_point = 5;
  g.model.layers = {l};
  return g;
}

// conv3d, padding 1 on every side: x [1,1,2,2,2] with x[d][h][w] = 1 + 4d + 2h + w (1..8, z_x = 0),
// a 2×2×2 kernel of ones, stride 1 → output 3×3×3. Output (a,b,c) sums the x whose coordinate along
// each dimension is in {o − 1, o} ∩ {0, 1}: {0} for o = 0, {0,1} for o = 1, {1} for o = 2.
// With S(D,H,W) = Σ over those sets (z_y = 0, multiplier 1):
//   d∈{0}:   h∈{0}: w{0}=1, w{01}=1+2=3, w{1}=2;   h∈{01}: 1+3=4, 1+2+3+4=10, 2+4=6;
//            h∈{1}: 3, 3+4=7, 4
//   d∈{01}:  (each value plus the one 4 higher) h{0}: 1+5=6, 3+11=14, 2+6=8; h{01}: 4+12=16,
//            10+26=36, 6+14=20; h{1}: 3+7=10, 7+15=22, 4+8=12
//   d∈{1}:   (the values 4 higher) h{0}: 5, 11, 6; h{01}: 12, 26, 14; h{1}: 7, 15, 8
Golden PaddedConv3d() {
  Golden g{"padded_conv3d", {}, {1, 1, 3, 3, 3},
           {1, 3, 2, 4, 10, 6, 3, 7, 4,  //
            6, 14, 8, 16, 36, 20, 10, 22, 12,  //
            5, 11, 6, 12, 26, 14, 7, 15, 8}};
  g.model.input = Tensor(DType::kQUInt8, {1, 1, 2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}, 0.25, 0);
  Layer l;
  l.op = OpKind::kConv3d;
  l.weight = Tensor(DType::kQInt8, {1, 1, 2, 2, 2}, std::vector<int32_t>(8, 1), 2.0, 0);
  for (int d = 0; d < 3; ++d) l.conv.padding[d] = 1;
  l.out_scale = 0.5;  // 0.25 · 2 / 0.5 = 1
  l.out_zero_point = 0;
  g.model.layers = {l};
  return g;
}

// conv_transpose2d, stride 2, output_padding 1: x = [[1 2] [3 4]] (z_x = 0), w = [[1 2] [3 4]]
// (weight [C=1, OC=1, 2, 2]), padding 0. Output size (2−1)·2 − 0 + 1·(2−1) + 1 + 1 = 5. Input
// (i,j) scatters x·w[a][b] to output (2i+a, 2j+b): with stride = kernel the 2×2 blocks do not
// overlap, and row 4 / column 4 (output_padding) receive nothing:
//   1·[1 2; 3 4] | 2·[1 2; 3 4]          1  2  2  4  0
//   -------------+-------------     =     3  4  6  8  0
//   3·[1 2; 3 4] | 4·[1 2; 3 4]          3  6  4  8  0
//                                        9 12 12 16  0
//                                        0  0  0  0  0
// + z_y = 7.
Golden TransposedStride2OutputPadding() {
  Golden g{"transposed_stride2_output_padding", {}, {1, 1, 5, 5},
           {8, 9, 9, 11, 7, 10, 11, 13, 15, 7, 10, 13, 11, 15, 7, 16, 19, 19, 23, 7, 7, 7, 7, 7, 7}};
  g.model.input = Tensor(DType::kQUInt8, {1, 1, 2, 2}, {1, 2, 3, 4}, 0.5, 0);
  Layer l;
  l.op = OpKind::kConvTranspose2d;
  l.weight = Tensor(DType::kQInt8, {1, 1, 2, 2}, {1, 2, 3, 4}, 1.0, 0);
  l.conv.stride[0] = l.conv.stride[1] = 2;
  l.conv.output_padding[0] = l.conv.output_padding[1] = 1;
  l.out_scale = 0.5;  // 0.5 · 1 / 0.5 = 1
  l.out_zero_point = 7;
  g.model.layers = {l};
  return g;
}

// conv_transpose2d with 2 input and 3 output channels, 1×1 kernel, stride 1: the weight is in
// PyTorch's transposed layout [C=2, OC=3, 1, 1], w[c][o] = (c0: 1 2 3, c1: 4 5 6), so
// out[o][p] = Σ_c x[c][p]·w[c][o] with x c0 = [1 2], c1 = [3 4] (z_x = 2, stored +2):
//   o0: [1·1 + 3·4, 2·1 + 4·4] = [13 18]   o1: [1·2 + 3·5, 2·2 + 4·5] = [17 24]
//   o2: [1·3 + 3·6, 2·3 + 4·6] = [21 30]
// Read in the conv layout [OC, C, 1, 1] the same six numbers would give other sums, e.g. o0 =
// x·(1, 2) = [7 10]. z_y = 1.
Golden TransposedChannels() {
  Golden g{"transposed_channels", {}, {1, 3, 1, 2}, {14, 19, 18, 25, 22, 31}};
  g.model.input = Tensor(DType::kQUInt8, {1, 2, 1, 2}, {3, 4, 5, 6}, 0.125, 2);
  Layer l;
  l.op = OpKind::kConvTranspose2d;
  l.weight = Tensor(DType::kQInt8, {2, 3, 1, 1}, {1, 2, 3, 4, 5, 6}, 4.0, 0);
  l.out_scale = 0.5;  // 0.125 · 4 / 0.5 = 1
  l.out_zero_point = 1;
  g.model.layers = {l};
  return g;
}

std::vector<Golden> Goldens() {
  return {DilatedConv1d(), PaddedConv3d(), TransposedStride2OutputPadding(), TransposedChannels()};
}

TEST(ConvVariantsGolden, ModelsValidateWithHandComputedShapes) {
  for (const Golden& g : Goldens()) {
    SCOPED_TRACE(g.name);
    ASSERT_EQ(ValidateModel(g.model), "");
    EXPECT_EQ(NodeShapes(g.model).back(), g.out_shape);
  }
}

TEST(ConvVariantsGolden, EverySchemeGivesTheHandComputedOutput) {
  for (const Golden& g : Goldens()) {
    for (const SchemeDef* sp : AllSchemes()) {
      const SchemeDef& s = *sp;
      SCOPED_TRACE(std::string(g.name) + " " + s.name);
      const std::vector<LayerTrace> t = RunIntegerPipeline(g.model, s.recipe);
      ASSERT_EQ(t.size(), 1u);
      EXPECT_EQ(t[0].shape, g.out_shape);
      EXPECT_EQ(t[0].out, g.out);
    }
  }
}

TEST(ConvVariantsGolden, FloatOracleGivesTheHandComputedOutput) {
  for (const Golden& g : Goldens()) {
    SCOPED_TRACE(g.name);
    EXPECT_EQ(RunFloatOracle(g.model)[0].out, g.out);
  }
}

// LibTorch on every engine against the hand-computed values. ONEDNN refuses a nonzero
// output_padding at prepack (qconv_prepack.cpp: "ONEDNN only supports zero output_padding"):
// that golden must come back rejected with LibTorch's message, never with wrong numbers.
TEST(ConvVariantsGolden, LibTorchMatchesTheHandComputedOutputOnEveryEngine) {
  InitLibTorch();
  const std::vector<Engine> engines = AvailableEngines();
  ASSERT_FALSE(engines.empty());
  int compared = 0;
  for (const Golden& g : Goldens()) {
    for (Engine engine : engines) {
      SCOPED_TRACE(std::string(g.name) + " on " + EngineName(engine));
      const EngineResult r = RunOnLibTorch(g.model, engine);
      const bool output_padding = g.model.layers[0].conv.output_padding[0] != 0;
      if (engine == Engine::kOnednn && output_padding) {
        EXPECT_TRUE(r.rejected);
        EXPECT_NE(r.message.find("output_padding"), std::string::npos) << r.message;
        continue;
      }
      ASSERT_FALSE(r.rejected) << r.message;
      ASSERT_EQ(r.layers.size(), 1u);
      EXPECT_EQ(r.layers[0].shape, g.out_shape);
      EXPECT_EQ(r.layers[0].values, g.out);
      ++compared;
    }
  }
  EXPECT_GE(compared, 4);
}

// The same goldens with fused ReLU where LibTorch has it (conv1d_relu, conv3d_relu): z_y above
// some outputs, so the ReLU clamp to z_y shows. conv_transpose2d has no fused ReLU.
TEST(ConvVariantsGolden, FusedReluClampsAtTheZeroPoint) {
  InitLibTorch();
  Golden g = DilatedConv1d();
  Layer& l = g.model.layers[0];
  l.relu = true;
  l.weight.values = {1, -2};  // o: x[o−1+0]·1 − 2·x[o+1] → [−4, 1−6, 2−8, 3−10, 4] = [−4 −5 −6 −7 4]
  l.out_zero_point = 5;       // → ReLU clamps below z_y: [5 5 5 5 9]
  const std::vector<int32_t> want = {5, 5, 5, 5, 9};
  EXPECT_EQ(RunIntegerPipeline(g.model, GetScheme(Scheme::kExact).recipe)[0].out, want);
  for (Engine engine : AvailableEngines()) {
    const EngineResult r = RunOnLibTorch(g.model, engine);
    ASSERT_FALSE(r.rejected) << engine << ": " << r.message;
    EXPECT_EQ(r.layers[0].values, want) << engine;
  }
  Golden t = TransposedChannels();
  t.model.layers[0].relu = true;
  EXPECT_NE(ValidateModel(t.model).find("relu"), std::string::npos);
}

TEST(ConvVariantsModel, ValidateModelRejectsWhatLibTorchRejects) {
  Golden t = TransposedStride2OutputPadding();
  Layer& l = t.model.layers[0];
  l.conv.output_padding[0] = 2;  // not < stride 2 nor < dilation 1
  EXPECT_NE(ValidateModel(t.model), "");
  l.conv.output_padding[0] = 1;
  l.conv.stride[0] = 1;  // output_padding 1 needs stride or dilation ≥ 2
  EXPECT_NE(ValidateModel(t.model), "");
  l.conv.dilation[0] = 2;  // … and dilation 2 allows it
  EXPECT_EQ(ValidateModel(t.model), "");

  Golden c = DilatedConv1d();
  c.model.layers[0].conv.output_padding[0] = 1;  // only transposed convs have output_padding
  EXPECT_NE(ValidateModel(c.model), "");
  c = DilatedConv1d();
  c.model.layers[0].conv.stride[1] = 2;  // an entry beyond the op's rank must keep its default
  EXPECT_NE(ValidateModel(c.model), "");
  c = DilatedConv1d();
  c.model.layers[0].weight.shape = {1, 1, 1, 2};  // a conv2d weight on a conv1d
  EXPECT_NE(ValidateModel(c.model), "");
  c = DilatedConv1d();
  c.model.layers[0].conv.padding[0] = 0;
  c.model.input = Tensor(DType::kQUInt8, {1, 1, 2}, {10, 10}, 0.5, 10);  // shorter than the span 3
  EXPECT_NE(ValidateModel(c.model), "");

  Golden p = TransposedChannels();
  p.model.layers[0].weight.axis = 0;  // per-channel along the transposed weight's input channels
  p.model.layers[0].weight.scales = {4.0, 4.0};
  p.model.layers[0].weight.zero_points = {0, 0};
  EXPECT_NE(ValidateModel(p.model).find("axis"), std::string::npos);
}

// Per-channel transposed-conv weights (along axis 1, the output channels): ONEDNN refuses them
// ("Per Channel Quantization is currently disabled for transposed conv"), QNNPACK runs them.
TEST(ConvVariantsModel, PerChannelTransposedWeights) {
  InitLibTorch();
  Golden g = TransposedChannels();
  QTensor& w = g.model.layers[0].weight;
  w.axis = 1;
  w.scales = {4.0, 2.0, 8.0};  // multipliers 1, 1/2, 2 → o0 ×1, o1 ×1/2, o2 ×2 (+1):
  w.zero_points = {0, 0, 0};   // o0 [13 18] → [14 19]; o1 [17 24] → RNE 8.5 = 8, 12 → [9 13];
  const std::vector<int32_t> want = {14, 19, 9, 13, 43, 61};  // o2 [21 30] → [43 61]
  ASSERT_EQ(ValidateModel(g.model), "");
  EXPECT_EQ(RunIntegerPipeline(g.model, GetScheme(Scheme::kExact).recipe)[0].out, want);
  for (Engine engine : AvailableEngines()) {
    const EngineResult r = RunOnLibTorch(g.model, engine);
    if (engine == Engine::kOnednn) {
      EXPECT_TRUE(r.rejected);
      EXPECT_NE(r.message.find("Per Channel"), std::string::npos) << r.message;
    } else if (engine == Engine::kQnnpack) {
      ASSERT_FALSE(r.rejected) << r.message;
      EXPECT_EQ(r.layers[0].values, want);
    }
  }
}

// ---- case files --------------------------------------------------------------------------

TEST(ConvVariantsJson, NewFieldsRoundTrip) {
  for (Golden g : Goldens()) {
    SCOPED_TRACE(g.name);
    Layer& l = g.model.layers[0];
    l.bias = std::vector<float>(static_cast<size_t>(LayerOutChannels(l)), 0.375f);
    if (IsTransposedConv(l.op)) l.conv.groups = 1;
    Case c;
    c.id = g.name;
    c.model = g.model;
    const std::string text = CaseToJson(c);
    const Case back = CaseFromJson(text, "test");
    const Layer& m = back.model.layers[0];
    EXPECT_EQ(m.op, l.op);
    for (int d = 0; d < ConvAttrs::kMaxSpatialDims; ++d) {
      EXPECT_EQ(m.conv.stride[d], l.conv.stride[d]);
      EXPECT_EQ(m.conv.padding[d], l.conv.padding[d]);
      EXPECT_EQ(m.conv.dilation[d], l.conv.dilation[d]);
      EXPECT_EQ(m.conv.output_padding[d], l.conv.output_padding[d]);
    }
    EXPECT_EQ(m.conv.groups, l.conv.groups);
    EXPECT_EQ(m.weight.shape, l.weight.shape);
    EXPECT_EQ(m.weight.values, l.weight.values);
    EXPECT_EQ(m.bias, l.bias);
    EXPECT_EQ(CaseToJson(back), text);
    // one entry per spatial dimension; output_padding only on the transposed conv
    const nlohmann::json layer = nlohmann::json::parse(text)["layers"][0];
    for (const char* key : {"stride", "padding", "dilation"}) {
      EXPECT_EQ(layer[key].size(), static_cast<size_t>(ConvSpatialDims(l.op))) << key;
    }
    EXPECT_EQ(layer.contains("output_padding"), IsTransposedConv(l.op));
    if (IsTransposedConv(l.op)) {
      EXPECT_EQ(layer["output_padding"], nlohmann::json({l.conv.output_padding[0], l.conv.output_padding[1]}));
    }
  }
}

TEST(ConvVariantsJson, WrongLengthNamesTheField) {
  Case c;
  c.id = "x";
  c.model = PaddedConv3d().model;
  nlohmann::json j = nlohmann::json::parse(CaseToJson(c));
  j["layers"][0]["padding"] = {1, 1};
  const std::string text = j.dump();
  try {
    CaseFromJson(text, "f.json");
    FAIL() << "a conv3d padding of two entries must not load";
  } catch (const CaseFileError& e) {
    EXPECT_NE(std::string(e.what()).find("layers[0].padding"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("expected 3 integers"), std::string::npos) << e.what();
  }
}

TEST(ConvVariantsJson, Conv2dFieldsUnchanged) {
  // conv2d keeps its version-1/2 fields: pairs, and no output_padding
  Case c;
  c.id = "x";
  c.model = TransposedChannels().model;
  Layer& l = c.model.layers[0];
  l.op = OpKind::kConv2d;
  l.weight.shape = {3, 2, 1, 1};
  const nlohmann::json layer = nlohmann::json::parse(CaseToJson(c))["layers"][0];
  EXPECT_FALSE(layer.contains("output_padding"));
  EXPECT_EQ(layer["stride"], nlohmann::json({1, 1}));
  EXPECT_EQ(layer["padding"], nlohmann::json({0, 0}));
  EXPECT_EQ(layer["dilation"], nlohmann::json({1, 1}));
  EXPECT_EQ(layer["groups"], 1);
}

TEST(ConvVariantsCase, ShapeSummaryNamesEveryDimension) {
  EXPECT_EQ(LayerShapeSummary(DilatedConv1d().model.layers[0], {1, 1, 5}),
            "x1x1x5 w1x1x2 g1 s1 p1 d2 pt nb");
  EXPECT_EQ(LayerShapeSummary(PaddedConv3d().model.layers[0], {1, 1, 2, 2, 2}),
            "x1x1x2x2x2 w1x1x2x2x2 g1 s1,1,1 p1,1,1 d1,1,1 pt nb");
  EXPECT_EQ(LayerShapeSummary(TransposedStride2OutputPadding().model.layers[0], {1, 1, 2, 2}),
            "x1x1x2x2 w1x1x2x2 g1 s2,2 p0,0 op1,1 d1,1 pt nb");
}

// ---- shrinking -----------------------------------------------------------------------------

// The shrinker's candidates for the new ops (one group, fewer channels on the right weight axis,
// smaller extents and kernels per spatial dimension, simpler attributes) are valid models, and
// the channel and group slices keep weight, bias and input consistent.
TEST(ConvVariantsShrink, CandidatesAreValidAndSimpler) {
  GeneratorSettings settings;
  settings.ops = {OpKind::kConv1d, OpKind::kConv3d, OpKind::kConvTranspose2d};
  int grouped = 0, candidates = 0;
  for (uint64_t i = 0; i < 60; ++i) {
    Case c;
    c.model = GenerateModel(CaseSeed(7, i), settings).model;
    c.model.layers.resize(1);
    ASSERT_EQ(ValidateModel(c.model), "");
    grouped += c.model.layers[0].conv.groups > 1;
    for (const Case& s : ShrinkCandidates(c)) {
      ++candidates;
      ASSERT_EQ(ValidateModel(s.model), "");
      // (not necessarily smaller: stride 1 or padding 0 can enlarge an output, as for conv2d)
      EXPECT_NE(CaseToJson(s), CaseToJson(c));
    }
  }
  EXPECT_GT(grouped, 10);
  EXPECT_GT(candidates, 600);
  // a grouped transposed conv: one group keeps that group's input channels (weight dim 0) and
  // output channels (bias)
  Case t;
  t.model = TransposedChannels().model;
  Layer& l = t.model.layers[0];
  l.conv.groups = 2;  // weight [2, 3, 1, 1] → OC = 6
  l.bias = std::vector<float>{1, 2, 3, 4, 5, 6};
  ASSERT_EQ(ValidateModel(t.model), "");
  int one_group = 0;
  for (const Case& s : ShrinkCandidates(t)) {
    const Layer& sl = s.model.layers[0];
    if (sl.conv.groups != 1 || s.model.input.shape[1] != 1) continue;
    ++one_group;
    EXPECT_EQ(sl.weight.shape, (std::vector<int64_t>{1, 3, 1, 1}));
    const bool second = s.model.input.values[0] == 5;  // channel 1 of the input holds 5, 6
    EXPECT_EQ(*sl.bias, second ? (std::vector<float>{4, 5, 6}) : (std::vector<float>{1, 2, 3}));
  }
  EXPECT_EQ(one_group, 2);
}

// ---- campaign ------------------------------------------------------------------------------

// The equivalent of `qdiff run --ops conv1d,conv3d,conv_transpose2d --cases 300 --seed 1`, in
// process: every element of every case that LibTorch accepts is explained by the engine's own
// scheme (here: reproduced bit for bit, VNNI and QNNPACK accumulate exactly), and rejections stay
// rare (ONEDNN refuses nonzero output_padding and nonzero weight zero points).
TEST(ConvVariantsCampaign, EngineSchemesExplainEveryElement) {
  InitLibTorch();
  GeneratorSettings settings;
  settings.ops = {OpKind::kConv1d, OpKind::kConv3d, OpKind::kConvTranspose2d};
  const std::vector<Engine> engines = AvailableEngines();
  std::vector<Scheme> schemes;
  for (Engine e : engines) {
    const Scheme s = EngineOwnScheme(e);
    if (std::find(schemes.begin(), schemes.end(), s) == schemes.end()) schemes.push_back(s);
  }
  int64_t elements = 0, rejected = 0, rows = 0, unexplained = 0;
  int ops_seen[3] = {0, 0, 0};
  constexpr int kCases = 300;
  for (int i = 0; i < kCases; ++i) {
    Case c;
    c.id = "conv-variants-" + std::to_string(i);
    c.seed = CaseSeed(1, static_cast<uint64_t>(i));
    c.model = GenerateModel(c.seed, settings).model;
    ASSERT_EQ(ValidateModel(c.model), "") << c.id;
    const OpKind op = c.model.layers[0].op;
    ++ops_seen[op == OpKind::kConv1d ? 0 : op == OpKind::kConv3d ? 1 : 2];
    const CaseEvaluation ev = EvaluateRuns(c, RunCase(c, engines, schemes));
    for (const CaseRow& r : ev.case_rows) {
      if (EngineOwnSchemeName(r.engine) != r.scheme) continue;
      ++rows;
      if (r.verdict == Verdict::kRejected) {
        ++rejected;
        continue;
      }
      elements += r.elements;
      EXPECT_EQ(r.mismatches_vs_libtorch, 0) << c.id << " " << r.engine << " " << r.shape;
    }
    for (const DiscrepancyRow& d : ev.discrepancies) {
      if (d.cls == DiffClass::kUnexplained && d.scheme == EngineOwnSchemeName(d.engine)) ++unexplained;
    }
  }
  EXPECT_EQ(unexplained, 0);
  EXPECT_GT(elements, 10000);
  for (int n : ops_seen) EXPECT_GT(n, 50);
  // measured: 10% of (case, engine) rows with QNNPACK and ONEDNN (all on ONEDNN)
  EXPECT_LT(rejected * 100, rows * 20) << rejected << " of " << rows << " rejected";
  std::printf("conv variants: %d cases, %lld (case, engine) rows, %lld rejected, %lld elements\n",
              kCases, static_cast<long long>(rows), static_cast<long long>(rejected),
              static_cast<long long>(elements));
}

}  // namespace
}  // namespace qdiff
