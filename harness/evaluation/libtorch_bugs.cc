#include "harness/evaluation/libtorch_bugs.h"

#include <algorithm>
#include <optional>

#include "harness/evaluation/engines.h"
#include "harness/evaluation/injected_defect.h"
#include "harness/case/provenance.h"
#include "oracles/layer_products.h"
#include "oracles/ops/op_recipe.h"
#include "oracles/scheme.h"

namespace qdiff {

namespace {

// Ops without weights: the recipes of the layer's op that reproduce a documented LibTorch bug
// (OpRecipeDef::libtorch_bug), where the engine runs the buggy kernel.
std::vector<int32_t> OpRecipeBugOutput(const Case& c, const std::vector<LayerTrace>& traces,
                                       size_t l, Engine engine,
                                       const std::vector<int32_t>& lt) {
  const Layer& layer = c.model.layers[l];
  const LayerTrace& trace = traces[l];
  for (const OpRecipeDef* r : OpRecipes(layer.op)) {
    if (!LibTorchBugApplies(*r, engine, layer, trace.inputs)) continue;
    std::vector<int32_t> out = r->run(layer, trace.inputs, trace.shape);
    if (out == lt) return out;
  }
  return {};
}

// ideep's primitive cache (intel/ideep#152, corpora/onednn_primitive_cache_zero_point.json): an
// ONEDNN conv/linear whose cache key (op, shapes, attributes, output scale) equals an earlier
// layer's on the same thread reuses that layer's output zero point (for linear also its input
// zero point). The output of the engine's recipe for layer l with the zero points of an earlier
// layer j of the same op and shapes, if it equals LibTorch's whole layer while the recipe with l's
// own zero points does not; else empty. The whole-layer bit-exact match is the evidence.
std::vector<int32_t> IdeepCacheReuseOutput(const Case& c, const std::vector<LayerTrace>& traces,
                                           size_t l, Engine engine,
                                           const std::vector<int32_t>& lt) {
  const Layer& layer = c.model.layers[l];
  if (!IsGemmOp(layer.op)) return {};
  const Scheme es = EngineScheme(engine, layer, CpuHasVnni(), traces[l].input().dtype);
  if (es != Scheme::kOnednnFp32) return {};
  const PipelineRecipe recipe{ApplyDefect(GetScheme(es).recipe, c.injected_defect), engine};
  if (RunIntegerLayer(layer, traces[l].inputs, recipe).out == lt) return {};
  auto same_attrs = [](const ConvAttrs& a, const ConvAttrs& b) {
    return std::equal(a.stride, a.stride + ConvAttrs::kMaxSpatialDims, b.stride) &&
           std::equal(a.padding, a.padding + ConvAttrs::kMaxSpatialDims, b.padding) &&
           std::equal(a.dilation, a.dilation + ConvAttrs::kMaxSpatialDims, b.dilation) &&
           std::equal(a.output_padding, a.output_padding + ConvAttrs::kMaxSpatialDims,
                      b.output_padding) &&
           a.groups == b.groups;
  };
  for (size_t j = 0; j < l; ++j) {
    const Layer& earlier = c.model.layers[j];
    if (earlier.op != layer.op || earlier.relu != layer.relu ||
        earlier.out_dtype != layer.out_dtype || earlier.weight.shape != layer.weight.shape ||
        traces[j].input().shape != traces[l].input().shape ||
        !same_attrs(earlier.conv, layer.conv)) {
      continue;
    }
    Layer stale = layer;
    stale.out_zero_point = earlier.out_zero_point;
    std::vector<int32_t> out = RunIntegerLayer(stale, traces[l].inputs, recipe).out;
    if (out == lt) return out;
    if (layer.op != OpKind::kLinear) continue;  // the input zero point goes stale for linear only
    std::vector<QTensor> stale_inputs = traces[l].inputs;
    stale_inputs[0].zero_points = traces[j].input().zero_points;
    out = RunIntegerLayer(stale, stale_inputs, recipe).out;
    if (out == lt) return out;
  }
  return {};
}

// The AMX padding bug, where its kernel runs: conv3d with padding on ONEDNN with AMX (measured
// on conv3d only; conv2d on the same data was right).
std::vector<int32_t> AmxConvPaddingOutput(const Case& c, const std::vector<LayerTrace>& traces,
                                          size_t l, Engine engine, const std::vector<int32_t>& lt) {
  const Layer& layer = c.model.layers[l];
  if (layer.op != OpKind::kConv3d || !OnednnUsesAmx()) return {};
  const ConvAttrs& a = layer.conv;
  if (std::all_of(a.padding, a.padding + ConvAttrs::kMaxSpatialDims, [](int64_t p) { return p == 0; })) {
    return {};
  }
  const Scheme es = EngineScheme(engine, layer, CpuHasVnni(), traces[l].input().dtype);
  if (es != Scheme::kOnednnFp32) return {};
  std::vector<int32_t> out = ZeroPaddedConvOutput(
      layer, traces[l].input(), ApplyDefect(GetScheme(es).recipe, c.injected_defect));
  return out == lt ? out : std::vector<int32_t>{};
}

// oneDNN's int8 deconvolution (corpora/onednn_deconv_stride_holes.json): with a stride
// larger than the dilated kernel, output rows or columns that no kernel tap reaches ("holes") must
// hold bias + z_y only, but read a compensation buffer nobody filled and come out as whatever that
// memory holds. No formula gives those values, so the evidence is where LibTorch differs: the
// engine's recipe reproduces every other element bit for bit and at least one hole differs. The
// output is the recipe's with the holes taken from LibTorch.
std::vector<int32_t> DeconvStrideHolesOutput(const Case& c, const std::vector<LayerTrace>& traces,
                                             size_t l, Engine engine, const std::vector<int32_t>& lt) {
  const Layer& layer = c.model.layers[l];
  // Every oneDNN deconvolution kernel measured has it (jit_deconvolution:avx512_core_vnni, and
  // jit_uni_deconv:avx2/sse41 under DNNL_MAX_CPU_ISA), so no ISA condition.
  if (layer.op != OpKind::kConvTranspose2d || engine != Engine::kOnednn) return {};
  const Scheme es = EngineScheme(engine, layer, CpuHasVnni(), traces[l].input().dtype);
  if (es != Scheme::kOnednnFp32) return {};
  const std::vector<int64_t>& in = traces[l].input().shape;     // [N, IC, IH, IW]
  const std::vector<int64_t>& out_shape = traces[l].shape;      // [N, OC, OH, OW]
  const std::vector<int64_t>& w = layer.weight.shape;           // [IC, OC/groups, KH, KW]
  // reached[d][o]: some input position i and tap k give o = i·stride − padding + k·dilation.
  std::vector<bool> reached[2];
  for (int d = 0; d < 2; ++d) {
    reached[d].assign(static_cast<size_t>(out_shape[2 + d]), false);
    const ConvAttrs& a = layer.conv;
    for (int64_t i = 0; i < in[2 + d]; ++i) {
      for (int64_t k = 0; k < w[2 + d]; ++k) {
        const int64_t o = i * a.stride[d] - a.padding[d] + k * a.dilation[d];
        if (o >= 0 && o < out_shape[2 + d]) reached[d][o] = true;
      }
    }
  }
  const PipelineRecipe recipe{ApplyDefect(GetScheme(es).recipe, c.injected_defect), engine};
  std::vector<int32_t> out = RunIntegerLayer(layer, traces[l].inputs, recipe).out;
  if (out.size() != lt.size()) return {};
  const int64_t oh = out_shape[2], ow = out_shape[3];
  bool hole_differs = false;
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t y = (static_cast<int64_t>(i) / ow) % oh, x = static_cast<int64_t>(i) % ow;
    const bool hole = !reached[0][y] || !reached[1][x];
    if (out[i] == lt[i]) continue;
    if (!hole) return {};  // a difference outside the holes: not this bug
    hole_differs = true;
    out[i] = lt[i];
  }
  return hole_differs ? out : std::vector<int32_t>{};
}

using BugModel = std::vector<int32_t> (*)(const Case&, const std::vector<LayerTrace>&, size_t,
                                           Engine, const std::vector<int32_t>&);
constexpr BugModel kBugModels[] = {OpRecipeBugOutput, IdeepCacheReuseOutput, AmxConvPaddingOutput,
                                   DeconvStrideHolesOutput};

}  // namespace

std::vector<std::string> KnownBugCorpora(OpKind op, Engine engine) {
  std::vector<std::string> out;
  for (const OpRecipeDef* r : IsGemmOp(op) ? std::vector<const OpRecipeDef*>() : OpRecipes(op)) {
    if (!r->libtorch_bug) continue;
    const bool qnnpack_only = std::string(r->name).find("qnnpack") != std::string::npos;
    if (qnnpack_only && engine != Engine::kQnnpack) continue;
    if (std::find(out.begin(), out.end(), r->libtorch_bug) == out.end()) out.push_back(r->libtorch_bug);
  }
  if (IsGemmOp(op) && engine == Engine::kOnednn) {
    out.push_back("corpora/onednn_primitive_cache_zero_point.json");
    if (op == OpKind::kLinear) out.push_back("corpora/onednn_cache_input_zero_point_linear.json");
    if (op == OpKind::kConv3d) out.push_back("corpora/onednn_amx_conv3d_padding_zero_point.json");
    if (op == OpKind::kConvTranspose2d) out.push_back("corpora/onednn_deconv_stride_holes.json");
  }
  return out;
}

std::vector<int32_t> ZeroPaddedConvOutput(const Layer& layer, const QTensor& x, const Recipe& recipe) {
  const std::vector<int64_t> shape = LayerOutputShape(layer, x.shape);
  // With z_x = 0 the pipeline's padding (x = z_x) is x = 0: acc0 = Σ_in-bounds x·(w − z_w).
  QTensor x0 = x;
  x0.zero_points.assign(x.zero_points.size(), 0);
  const std::vector<int64_t> acc0 = LayerAccumulators(layer, x0, shape);
  // Then subtract z_x·Σ_all taps (w − z_w) of the element's channel.
  const int64_t oc_count = LayerOutChannels(layer);
  const int64_t per_oc = layer.weight.NumElements() / oc_count;
  std::vector<int64_t> wsum(oc_count, 0);
  for (int64_t oc = 0; oc < oc_count; ++oc) {
    const int32_t z_w = layer.weight.ZeroPoint(WeightQuantIndex(layer, oc));
    for (int64_t k = 0; k < per_oc; ++k) wsum[oc] += layer.weight.values[oc * per_oc + k] - z_w;
  }
  const std::vector<ChannelTerms> terms = LayerChannelTerms(layer, x.Scale(0));
  const int64_t z_x = x.ZeroPoint(0);
  std::vector<int32_t> out(acc0.size());
  for (size_t i = 0; i < acc0.size(); ++i) {
    const int64_t oc = OutputChannelOf(shape, static_cast<int64_t>(i));
    out[i] = EvaluateRecipe(recipe, terms[oc], acc0[i] - z_x * wsum[oc]).value_or(0);
  }
  return out;
}

std::vector<int32_t> LibTorchBugOutput(const Case& c, const std::vector<LayerTrace>& traces,
                                       size_t l, Engine engine,
                                       const std::vector<int32_t>& lt) {
  for (BugModel model : kBugModels) {
    std::vector<int32_t> out = model(c, traces, l, engine, lt);
    if (!out.empty()) return out;
  }
  return {};
}

}  // namespace qdiff
