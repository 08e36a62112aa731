#include "harness/case_evaluation.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>

#include "harness/classifier.h"
#include "harness/comparison.h"
#include "harness/engines.h"
#include "harness/injected_defect.h"
#include "harness/provenance.h"

namespace qdiff {

namespace {

std::string CaseOpName(const Model& m) {
  std::string name;
  for (const Layer& l : m.layers) name += (name.empty() ? "" : ">") + LayerOpName(l);
  return name;
}

std::string CaseShapeName(const Model& m) {
  const std::vector<std::vector<int64_t>> nodes = NodeShapes(m);
  std::string s;
  for (size_t l = 0; l < m.layers.size(); ++l) {
    const int id0 = LayerInputIds(m, l)[0];
    s += (s.empty() ? "" : " | ") +
         LayerShapeSummary(m.layers[l], id0 < 0 ? m.input.shape : nodes[id0]);
  }
  return s;
}

// Range of a layer's outputs: the output dtype's, from the zero point up with a fused ReLU.
QuantRange OutputRange(const Layer& l, const QTensor& input0) {
  const OutputQParams q = LayerOutputQParams(l, input0);
  QuantRange r = TypeRange(q.dtype);
  if (l.relu) r.qmin = std::max(r.qmin, q.zero_point);
  return r;
}

// The tensor LibTorch produced for layer j, to feed the layers that read node j.
QTensor FedTensor(const LayerOutput& out, DType dtype) {
  return PerTensorQTensor(dtype, out.shape, out.values, out.scale, out.zero_point);
}

std::string FormatClassCounts(const std::map<std::string, int64_t>& counts) {
  std::string s;
  for (const auto& [name, n] : counts) s += (s.empty() ? "" : ";") + name + ":" + std::to_string(n);
  return s;
}

}  // namespace

std::vector<std::string> CaseEngines(const Case& c, const std::vector<std::string>& available,
                                     std::vector<std::string>* unknown) {
  if (c.engines.empty()) return available;
  std::vector<std::string> out;
  for (const std::string& e : c.engines) {
    if (std::find(available.begin(), available.end(), e) != available.end()) {
      out.push_back(e);
    } else if (unknown) {
      unknown->push_back(e);
    }
  }
  return out;
}

std::vector<Scheme> CaseSchemes(const Case& c, std::vector<std::string>* unknown) {
  std::vector<Scheme> out;
  if (c.schemes.empty()) {
    for (const SchemeDef* s : AllSchemes()) out.push_back(s->id);
    return out;
  }
  for (const std::string& name : c.schemes) {
    if (std::optional<Scheme> s = ParseScheme(name)) {
      out.push_back(*s);
    } else if (unknown) {
      unknown->push_back(name);
    }
  }
  return out;
}

CaseRuns RunCase(const Case& c, const std::vector<std::string>& engines,
                 const std::vector<Scheme>& schemes) {
  CaseRuns runs;
  runs.engines = engines;
  runs.schemes = schemes;
  const auto t0 = std::chrono::steady_clock::now();
  for (const std::string& e : engines) runs.libtorch.push_back(RunOnLibTorch(c.model, e));
  runs.libtorch_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::vector<DType> dtypes = NodeDTypes(c.model);
  const size_t feeds = std::max<size_t>(engines.size(), 1);
  for (size_t e = 0; e < feeds; ++e) {
    std::vector<std::optional<QTensor>> fed(c.model.layers.size());
    if (e < engines.size() && !runs.libtorch[e].rejected) {
      for (size_t l = 0; l < c.model.layers.size(); ++l) {
        fed[l] = FedTensor(runs.libtorch[e].layers[l], dtypes[l]);
      }
    }
    std::vector<std::vector<LayerTrace>> per_scheme;
    for (Scheme s : schemes) {
      PipelineRecipe recipe = SchemePipelineRecipe(s);
      recipe.gemm = ApplyDefect(recipe.gemm, c.injected_defect);
      per_scheme.push_back(RunIntegerPipelineFed(c.model, recipe, fed));
    }
    runs.pipeline.push_back(std::move(per_scheme));
  }
  runs.float_oracle = RunFloatOracle(c.model);
  return runs;
}

namespace {

// Fills the GEMM columns of `d` (element d.index of a conv2d/linear layer) and classifies it by
// counterfactual recipes, using the accumulator the engine's kernel computes.
DiffClass ExplainGemmElement(const std::string& engine, const Layer& layer,
                             const LayerTrace& trace, const Recipe& scheme_recipe,
                             const std::string& injected_defect,
                             const std::vector<int64_t>& kernel_acc, DiscrepancyRow& d) {
  const ChannelTerms& terms = trace.channels[d.channel];
  d.acc = trace.acc[d.index];
  d.integer_bias = scheme_recipe.bias == BiasForm::kInt32Torch ? terms.bias_int32 : 0;
  d.bias = terms.quant.bias.value_or(0.0f);
  if (scheme_recipe.multiplier == MultiplierForm::kQ31) {
    d.multiplier = terms.q31.multiplier;
    d.shift = terms.q31.shift;
  }
  d.real_multiplier = terms.multiplier_double;
  d.exact_value = ExactRealOutput(terms, d.acc);
  std::optional<Recipe> engine_recipe;
  if (std::optional<Scheme> es = EngineScheme(engine, layer, CpuHasVnni(), trace.input().dtype)) {
    engine_recipe = ApplyDefect(GetScheme(*es).recipe, injected_defect);
  }
  const int64_t k_acc = kernel_acc.empty() ? WrapToInt32(d.acc) : kernel_acc[d.index];
  return ClassifyElement(scheme_recipe, engine_recipe, terms, d.acc, k_acc,
                         static_cast<int32_t>(d.libtorch_out));
}

// The output of the first recipe of the layer's op that reproduces a documented LibTorch bug
// and matches LibTorch on the whole layer; empty if none does.
std::vector<int32_t> LibTorchBugOutput(const std::string& engine, const Layer& layer,
                                       const LayerTrace& trace, const std::vector<int32_t>& lt) {
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
                                           size_t l, const std::string& engine,
                                           const std::vector<int32_t>& lt) {
  const Layer& layer = c.model.layers[l];
  const std::optional<Scheme> es = EngineScheme(engine, layer, CpuHasVnni(), traces[l].input().dtype);
  if (!es || *es != Scheme::kOnednnFp32) return {};
  const PipelineRecipe recipe{ApplyDefect(GetScheme(*es).recipe, c.injected_defect), engine};
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

// The engine's side of a layer, for classifying its differing elements under any scheme.
struct EngineLayerFacts {
  std::vector<int64_t> kernel_acc;   // GEMM: the kernel's accumulators (empty when exact)
  const OpRecipeDef* engine_op = nullptr;  // other ops: the engine path's recipe,
  std::vector<int32_t> engine_out;   // its output,
  std::vector<double> real;          // the exact real result,
  OutputQParams q{};                 // and the output qparams
  std::vector<int32_t> bug_out;      // a LibTorch-bug reproduction of the whole layer, if any
};

EngineLayerFacts ExplainEngineLayer(const Case& c, const std::vector<LayerTrace>& traces, size_t l,
                                    const std::string& engine, const std::vector<int32_t>& lt) {
  EngineLayerFacts f;
  const Layer& layer = c.model.layers[l];
  const LayerTrace& trace = traces[l];
  if (IsGemmOp(layer.op)) {
    const AccumulatorModel acc_model = EngineAccumulatorModel(engine, layer, trace.input().dtype);
    if (acc_model != AccumulatorModel::kExact) {
      f.kernel_acc = KernelAccumulators(layer, trace.input(), trace.shape, acc_model);
    }
    f.bug_out = IdeepCacheReuseOutput(c, traces, l, engine, lt);
    return f;
  }
  f.engine_op = EngineOpRecipe(engine, layer, trace.inputs);
  if (f.engine_op) f.engine_out = f.engine_op->run(layer, trace.inputs, trace.shape);
  if (f.engine_out != lt) f.bug_out = LibTorchBugOutput(engine, layer, trace, lt);
  f.real = FloatOpReal(layer, trace.inputs, trace.shape);
  f.q = LayerOutputQParams(layer, trace.input());
  return f;
}

}  // namespace

CaseEvaluation EvaluateRuns(const Case& c, const CaseRuns& runs) {
  CaseEvaluation ev;
  const Model& model = c.model;
  const std::string op = CaseOpName(model);
  const std::string shape = CaseShapeName(model);
  std::string weight_quant;
  for (const Layer& l : model.layers) {
    if (IsGemmOp(l.op)) {
      weight_quant = l.weight.per_channel() ? "per_channel" : "per_tensor";
      break;
    }
  }
  for (size_t e = 0; e < runs.engines.size(); ++e) {
    const EngineResult& torch = runs.libtorch[e];
    const std::string& engine = runs.engines[e];
    if (torch.rejected) ++ev.rejected_engines;
    // LibTorch's own per-layer outputs, and how the float oracle compares with them.
    int64_t float_mismatches = 0;
    bool degenerate = true;
    if (!torch.rejected) {
      for (size_t l = 0; l < model.layers.size(); ++l) {
        const std::vector<int32_t>& lt = torch.layers[l].values;
        float_mismatches += CompareOutputs(runs.float_oracle[l].out, lt).mismatches;
        if (runs.schemes.empty()) continue;  // (no pipeline trace to read the input from)
        const QTensor& input0 = runs.pipeline[e][0][l].input();
        degenerate = degenerate && IsDegenerate(lt, OutputRange(model.layers[l], input0));
      }
    }
    // What the engine's side explains about layer l. Every layer is fed LibTorch's outputs, so
    // this is the same for every scheme: computed once, on first need.
    std::vector<std::optional<EngineLayerFacts>> layer_facts(model.layers.size());
    auto facts = [&](size_t l) -> const EngineLayerFacts& {
      if (!layer_facts[l]) {
        layer_facts[l] = ExplainEngineLayer(c, runs.pipeline[e][0], l, engine, torch.layers[l].values);
      }
      return *layer_facts[l];
    };
    for (size_t s = 0; s < runs.schemes.size(); ++s) {
      const SchemeDef& scheme = GetScheme(runs.schemes[s]);
      const Recipe scheme_recipe = ApplyDefect(scheme.recipe, c.injected_defect);
      CaseRow row;
      row.case_id = c.id;
      row.seed = c.seed;
      row.op = op;
      row.engine = engine;
      row.scheme = scheme.name;
      row.weight_quant = weight_quant;
      row.shape = shape;
      if (torch.rejected) {
        row.verdict = VerdictName(Verdict::kRejected);
        row.message = torch.message;
        ev.case_rows.push_back(row);
        continue;
      }
      row.mismatches_vs_float = float_mismatches;
      std::map<std::string, int64_t> class_counts;
      int64_t unexplained = 0, sum_signed = 0;
      for (size_t l = 0; l < model.layers.size(); ++l) {
        const Layer& layer = model.layers[l];
        const LayerTrace& trace = runs.pipeline[e][s][l];
        const std::vector<int32_t>& lt = torch.layers[l].values;
        const Comparison cmp = CompareOutputs(trace.out, lt);
        row.elements += cmp.elements;
        row.mismatches_vs_libtorch += cmp.mismatches;
        row.max_abs_diff_lsb = std::max(row.max_abs_diff_lsb, cmp.max_abs_diff);
        sum_signed += cmp.sum_signed_diff;
        if (cmp.differing.empty()) continue;
        const bool gemm = IsGemmOp(layer.op);
        const EngineLayerFacts& f = facts(l);
        const std::vector<int64_t>& kernel_acc = f.kernel_acc;
        const OpRecipeDef* engine_op = f.engine_op;
        const std::vector<int32_t>& engine_out = f.engine_out;
        const std::vector<int32_t>& bug_out = f.bug_out;
        const std::vector<double>& real = f.real;
        const OutputQParams& q = f.q;
        for (int64_t i : cmp.differing) {
          DiscrepancyRow d;
          d.case_id = c.id;
          d.engine = engine;
          d.scheme = scheme.name;
          d.layer = static_cast<int64_t>(l);
          d.layer_op = LayerOpName(layer);
          d.recipe = gemm ? scheme.name : trace.op_recipe->name;
          d.index = i;
          const bool in_range = i < static_cast<int64_t>(trace.out.size()) &&
                                i < static_cast<int64_t>(lt.size());
          DiffClass cls = DiffClass::kUnexplained;  // a shape mismatch is never explained
          if (in_range) {
            d.channel = trace.shape.size() >= 2 ? trace.ChannelOf(i) : 0;
            d.integer_out = trace.out[i];
            d.libtorch_out = lt[i];
            // The float oracle runs on its own outputs: its shapes may differ from LibTorch's
            // when a layer's shape disagrees (then that layer is already unexplained).
            const std::vector<int32_t>& fo = runs.float_oracle[l].out;
            d.float_out = i < static_cast<int64_t>(fo.size()) ? fo[i] : 0;
            d.diff_lsb = d.integer_out - d.libtorch_out;
            if (gemm) {
              cls = ExplainGemmElement(engine, layer, trace, scheme_recipe, c.injected_defect,
                                       kernel_acc, d);
              if (cls == DiffClass::kUnexplained && !bug_out.empty()) cls = DiffClass::kLibTorchBug;
            } else {
              d.real_multiplier = trace.inputs[0].scales[0] / q.scale;
              d.exact_value = real[i] / q.scale + q.zero_point;
              cls = ClassifyOpElement(
                  *trace.op_recipe, engine_op, engine_op ? engine_out[i] : 0, lt[i], d.exact_value,
                  bug_out.empty() ? std::nullopt : std::optional<int32_t>(bug_out[i]));
            }
          }
          d.cls = DiffClassName(cls);
          if (cls == DiffClass::kUnexplained) ++unexplained;
          ++class_counts[d.cls];
          ev.discrepancies.push_back(std::move(d));
        }
      }
      row.mean_signed_diff_lsb = row.elements ? double(sum_signed) / row.elements : 0.0;
      row.classes = FormatClassCounts(class_counts);
      row.verdict = VerdictName(
          CaseVerdict(false, row.mismatches_vs_libtorch, unexplained, degenerate));
      ev.unexplained_elements += unexplained;
      ev.case_rows.push_back(row);
    }
  }
  return ev;
}

}  // namespace qdiff
