#include "harness/evaluation/libtorch_bugs.h"

#include <algorithm>
#include <optional>

#include "harness/evaluation/engines.h"
#include "harness/evaluation/injected_defect.h"
#include "harness/case/provenance.h"
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

using BugModel = std::vector<int32_t> (*)(const Case&, const std::vector<LayerTrace>&, size_t,
                                           Engine, const std::vector<int32_t>&);
constexpr BugModel kBugModels[] = {OpRecipeBugOutput, IdeepCacheReuseOutput};

}  // namespace

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
