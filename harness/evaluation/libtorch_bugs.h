// Known LibTorch bugs, all in one form: a model that reproduces the whole output of a layer from
// the inputs LibTorch saw. An element that only such a model reproduces is classified
// `libtorch_bug`, and only when the model matches LibTorch on the whole layer bit for bit: that
// match is the evidence (for the deconv holes below, whose values are stale memory, the evidence
// is that every element outside the holes matches). Each model names the corpus case that
// documents its bug.
//
//   op recipes   ops without weights: every OpRecipeDef with libtorch_bug set (oracles/ops/), where
//                the engine runs the buggy kernel (bug_applies): QNNPACK clamp on channels-last,
//                NHWC pooling kernels on single-pixel NCHW inputs, QNNPACK add shift >= 32,
//                QNNPACK max_pool2d dilated padding taps;
//   ideep cache  ONEDNN conv/linear: ideep's primitive cache reuses an earlier layer's zero
//                points (intel/ideep#152; corpora/onednn_primitive_cache_zero_point.json);
//   AMX padding  ONEDNN conv3d with AMX counts padded taps as x = 0
//                (corpora/onednn_amx_conv3d_padding_zero_point.json);
//   deconv holes ONEDNN conv_transpose2d leaves the output rows/columns no tap reaches as stale
//                memory (corpora/onednn_deconv_stride_holes.json).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/case/case.h"
#include "oracles/integer_pipeline.h"

namespace qdiff {

// The output of the first bug model that reproduces LibTorch's output `lt` of layer `l` on
// `engine` exactly, given the layers' traces (inputs as LibTorch produced them); empty if none.
std::vector<int32_t> LibTorchBugOutput(const Case& c, const std::vector<LayerTrace>& traces,
                                       size_t l, Engine engine,
                                       const std::vector<int32_t>& lt);

// The corpus files of the known LibTorch bugs that can show on `op` run by `engine`: the op's bug
// recipes (a recipe named after QNNPACK only on QNNPACK), ideep's cache for ONEDNN conv/linear, AMX
// padding for ONEDNN conv3d, stride holes for ONEDNN conv_transpose2d. Which one a libtorch_bug element hit is not recorded in the rows, so
// reports name all of them.
std::vector<std::string> KnownBugCorpora(OpKind op, Engine engine);

// oneDNN's AMX int8 convolution as LibTorch 1.13 runs conv3d on ONEDNN
// (corpora/onednn_amx_conv3d_padding_zero_point.json): padded taps count as x = 0 instead of
// x = z_x, i.e. acc = Σ_in-bounds (x − z_x)(w − z_w) + Σ_padded (0 − z_x)(w − z_w), then the
// engine's recipe `recipe`. The output of GEMM layer `layer` on input `x` with that accumulator.
std::vector<int32_t> ZeroPaddedConvOutput(const Layer& layer, const QTensor& x, const Recipe& recipe);

}  // namespace qdiff
