#include "harness/evaluation/case_evaluation.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>

#include "harness/evaluation/classifier.h"
#include "reports/schema.h"  // FormatLayerClassCounts
#include "harness/evaluation/comparison.h"
#include "harness/evaluation/engines.h"
#include "harness/evaluation/injected_defect.h"
#include "harness/evaluation/libtorch_bugs.h"
#include "harness/case/provenance.h"

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

std::vector<Engine> CaseEngines(const Case& c, const std::vector<Engine>& available,
                                std::vector<Engine>* unavailable) {
  if (c.engines.empty()) return available;
  std::vector<Engine> out;
  for (Engine e : c.engines) {
    if (std::find(available.begin(), available.end(), e) != available.end()) {
      out.push_back(e);
    } else if (unavailable) {
      unavailable->push_back(e);
    }
  }
  return out;
}

std::vector<Scheme> CaseSchemes(const Case& c) {
  std::vector<Scheme> out;
  if (c.schemes.empty()) {
    for (const SchemeDef* s : AllSchemes()) out.push_back(s->id);
    return out;
  }
  for (const std::string& name : c.schemes) {
    if (std::optional<Scheme> s = ParseScheme(name)) out.push_back(*s);  // validated on load
  }
  return out;
}

CaseRuns RunCase(const Case& c, const std::vector<Engine>& engines,
                 const std::vector<Scheme>& schemes, const KernelColumn* kernel,
                 SharedValues<int64_t> first_layer_acc) {
  CaseRuns runs;
  runs.kernel = kernel;
  runs.engines = engines;
  runs.schemes = schemes;
  const auto t0 = std::chrono::steady_clock::now();
  for (Engine e : engines) runs.libtorch.push_back(RunOnLibTorch(c.model, e));
  runs.libtorch_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::vector<DType> dtypes = NodeDTypes(c.model);
  const size_t feeds = std::max<size_t>(engines.size(), 1);
  // The GEMM terms of the layers that read only graph inputs, shared by every engine's pipelines.
  std::vector<std::optional<SharedLayerWork::Terms>> graph_input_gemm(c.model.layers.size());
  std::vector<bool> reads_graph_inputs(c.model.layers.size());
  for (size_t l = 0; l < c.model.layers.size(); ++l) {
    const std::vector<int> ids = LayerInputIds(c.model, l);
    reads_graph_inputs[l] = std::all_of(ids.begin(), ids.end(), [](int id) { return id < 0; });
  }
  if (!first_layer_acc.empty()) {
    const Layer& layer = c.model.layers.at(0);
    const QTensor& x = c.model.input;
    if (!IsGemmOp(layer.op) || !reads_graph_inputs[0] ||
        static_cast<int64_t>(first_layer_acc.size()) != ShapeElements(LayerOutputShape(layer, x.shape))) {
      throw std::logic_error("RunCase: the given accumulators are not those of layer 0 of " + c.id);
    }
    graph_input_gemm[0] = SharedLayerWork::Terms{std::move(first_layer_acc), LayerChannelTerms(layer, x.scales[0])};
  }
  for (size_t e = 0; e < feeds; ++e) {
    std::vector<std::optional<QTensor>> fed(c.model.layers.size());
    if (e < engines.size() && !runs.libtorch[e].rejected) {
      for (size_t l = 0; l < c.model.layers.size(); ++l) {
        fed[l] = FedTensor(runs.libtorch[e].layers[l], dtypes[l]);
      }
    }
    std::vector<std::vector<LayerTrace>> per_scheme;
    SharedLayerWork shared;  // accumulators and op outputs once per layer, not once per scheme
    shared.layers.resize(c.model.layers.size());
    for (size_t l = 0; l < c.model.layers.size(); ++l) shared.layers[l].gemm = graph_input_gemm[l];
    for (Scheme s : schemes) {
      PipelineRecipe recipe = SchemePipelineRecipe(s);
      recipe.gemm = ApplyDefect(recipe.gemm, c.injected_defect);
      per_scheme.push_back(RunIntegerPipelineFed(c.model, recipe, fed, &shared));
    }
    for (size_t l = 0; l < c.model.layers.size(); ++l) {
      if (reads_graph_inputs[l]) graph_input_gemm[l] = shared.layers[l].gemm;
    }
    if (kernel && e < engines.size() && !per_scheme.empty()) {
      runs.kernel_runs.push_back(kernel->Run(c, engines[e], per_scheme[0]));
    } else if (kernel) {
      runs.kernel_runs.emplace_back(c.model.layers.size());
    }
    runs.pipeline.push_back(std::move(per_scheme));
  }
  // The float oracle reads the model input like every pipeline: the accumulators of the layers
  // that read only graph inputs are the pipelines'.
  std::vector<const std::vector<int64_t>*> known_acc(c.model.layers.size(), nullptr);
  for (size_t l = 0; l < c.model.layers.size(); ++l) {
    if (graph_input_gemm[l]) known_acc[l] = &graph_input_gemm[l]->acc.get();
  }
  runs.float_oracle = RunFloatOracle(c.model, known_acc);
  return runs;
}

namespace {

// Fills the GEMM columns of `d` (element d.index, channel d.channel of a conv/linear layer) as
// `recipe` forms them, leaving empty what it does not use: integer_bias unless it adds LibTorch's
// int32 bias (and the layer has one), multiplier and shift unless its multiplier is Q31, bias
// without a bias. Returns the channel's terms.
const ChannelTerms& FillGemmColumns(const LayerTrace& trace, const Recipe& recipe, DiscrepancyRow& d) {
  const ChannelTerms& terms = trace.channels[d.channel];
  const int64_t acc = trace.acc[d.index];
  d.acc = acc;
  if (terms.quant.bias) {
    d.bias = *terms.quant.bias;
    if (recipe.bias == BiasForm::kInt32Torch) d.integer_bias = terms.bias_int32;
  }
  if (recipe.multiplier == MultiplierForm::kQ31) {
    d.multiplier = terms.q31.multiplier;
    d.shift = terms.q31.shift;
  }
  d.real_multiplier = terms.multiplier_double;
  d.exact_value = ExactRealOutput(terms, acc);
  return terms;
}

// Fills the GEMM columns of `d` (element d.index of a conv2d/linear layer) and classifies it by
// counterfactual recipes, using the accumulator the engine's kernel computes.
DiffClass ExplainGemmElement(Engine engine, const Layer& layer,
                             const LayerTrace& trace, const Recipe& scheme_recipe,
                             const std::string& injected_defect,
                             const std::vector<int64_t>& kernel_acc, DiscrepancyRow& d) {
  const ChannelTerms& terms = FillGemmColumns(trace, scheme_recipe, d);
  const std::optional<Recipe> engine_recipe = ApplyDefect(
      GetScheme(EngineScheme(engine, layer, CpuHasVnni(), trace.input().dtype)).recipe, injected_defect);
  const int64_t acc = *d.acc;
  const int64_t k_acc = kernel_acc.empty() ? WrapToInt32(acc) : kernel_acc[d.index];
  return ClassifyElement(scheme_recipe, engine_recipe, terms, acc, k_acc,
                         static_cast<int32_t>(d.libtorch_out));
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
                                    Engine engine, const std::vector<int32_t>& lt) {
  EngineLayerFacts f;
  const Layer& layer = c.model.layers[l];
  const LayerTrace& trace = traces[l];
  if (IsGemmOp(layer.op)) {
    const AccumulatorModel acc_model = EngineAccumulatorModel(engine, layer, trace.input().dtype);
    if (acc_model != AccumulatorModel::kExact) {
      f.kernel_acc = KernelAccumulators(layer, trace.input(), trace.shape, acc_model);
    }
    f.bug_out = LibTorchBugOutput(c, traces, l, engine, lt);
    return f;
  }
  f.engine_op = EngineOpRecipe(engine, layer, trace.inputs);
  if (f.engine_op) f.engine_out = f.engine_op->run(layer, trace.inputs, trace.shape);
  if (f.engine_out != lt) f.bug_out = LibTorchBugOutput(c, traces, l, engine, lt);
  f.real = FloatOpReal(layer, trace.inputs, trace.shape);
  f.q = LayerOutputQParams(layer, trace.input());
  return f;
}


// One engine's LibTorch run of a case, and what its side explains about each layer. Every layer
// is fed LibTorch's outputs, so the facts are the same for every scheme: computed once, on first
// need.
class EngineEvaluation {
 public:
  EngineEvaluation(const Case& c, const CaseRuns& runs, size_t e)
      : c_(c), runs_(runs), e_(e), facts_(c.model.layers.size()) {}

  const EngineLayerFacts& Facts(size_t l) {
    if (!facts_[l]) {
      facts_[l] = ExplainEngineLayer(c_, runs_.pipeline[e_][0], l, runs_.engines[e_],
                                     runs_.libtorch[e_].layers[l].values);
    }
    return *facts_[l];
  }

 private:
  const Case& c_;
  const CaseRuns& runs_;
  size_t e_;
  std::vector<std::optional<EngineLayerFacts>> facts_;
};

// The discrepancy row of element i of layer l (scheme output != LibTorch's), classified.
DiscrepancyRow ClassifyDiscrepancy(const Case& c, const CaseRuns& runs, size_t e, size_t s,
                                   size_t l, int64_t i, const Recipe& scheme_recipe,
                                   EngineEvaluation& engine) {
  const Layer& layer = c.model.layers[l];
  const LayerTrace& trace = runs.pipeline[e][s][l];
  const std::vector<int32_t>& lt = runs.libtorch[e].layers[l].values;
  const SchemeDef& scheme = GetScheme(runs.schemes[s]);
  const bool gemm = IsGemmOp(layer.op);
  DiscrepancyRow d;
  d.case_id = c.id;
  d.engine = EngineName(runs.engines[e]);
  d.scheme = scheme.name;
  d.layer = static_cast<int64_t>(l);
  d.layer_op = LayerOpName(layer);
  d.recipe = gemm ? scheme.name : trace.op_recipe->name;
  d.index = i;
  DiffClass cls = DiffClass::kUnexplained;  // a shape mismatch is never explained
  if (i < static_cast<int64_t>(trace.out.size()) && i < static_cast<int64_t>(lt.size())) {
    const EngineLayerFacts& f = engine.Facts(l);
    d.channel = trace.shape.size() >= 2 ? trace.ChannelOf(i) : 0;
    d.integer_out = trace.out[i];
    d.libtorch_out = lt[i];
    // The float oracle runs on its own outputs: its shapes may differ from LibTorch's when a
    // layer's shape disagrees (then that layer is already unexplained).
    const std::vector<int32_t>& fo = runs.float_oracle[l].out;
    if (i < static_cast<int64_t>(fo.size())) d.float_out = fo[i];
    d.diff_lsb = d.integer_out - d.libtorch_out;
    if (gemm) {
      cls = ExplainGemmElement(runs.engines[e], layer, trace, scheme_recipe, c.injected_defect,
                               f.kernel_acc, d);
      if (cls == DiffClass::kUnexplained && !f.bug_out.empty()) cls = DiffClass::kLibTorchBug;
    } else {
      d.real_multiplier = trace.inputs[0].scales[0] / f.q.scale;
      d.exact_value = f.real[i] / f.q.scale + f.q.zero_point;
      cls = ClassifyOpElement(
          *trace.op_recipe, f.engine_op, f.engine_op ? f.engine_out[i] : 0, lt[i], *d.exact_value,
          f.bug_out.empty() ? std::nullopt : std::optional<int32_t>(f.bug_out[i]));
    }
  }
  d.cls = cls;
  return d;
}

// Every layer of the case under scheme s against engine e: the case row's counts and verdict,
// and the discrepancy rows. `row` comes with its identifying columns filled.
void EvaluateSchemeRow(const Case& c, const CaseRuns& runs, size_t e, size_t s,
                       int64_t float_mismatches, bool degenerate, EngineEvaluation& engine,
                       CaseRow& row, CaseEvaluation& ev) {
  const Recipe scheme_recipe = ApplyDefect(GetScheme(runs.schemes[s]).recipe, c.injected_defect);
  row.mismatches_vs_float = float_mismatches;
  std::map<std::string, int64_t> class_counts;
  std::map<std::pair<int64_t, std::string>, int64_t> layer_class_counts;
  int64_t unexplained = 0, sum_signed = 0;
  for (size_t l = 0; l < c.model.layers.size(); ++l) {
    const Comparison cmp = CompareOutputs(runs.pipeline[e][s][l].out, runs.libtorch[e].layers[l].values);
    row.elements += cmp.elements;
    row.mismatches_vs_libtorch += cmp.mismatches;
    if (cmp.elements) row.max_abs_diff_lsb = std::max(row.max_abs_diff_lsb.value_or(0), cmp.max_abs_diff);
    sum_signed += cmp.sum_signed_diff;
    for (int64_t i : cmp.differing) {
      DiscrepancyRow d = ClassifyDiscrepancy(c, runs, e, s, l, i, scheme_recipe, engine);
      if (d.cls == DiffClass::kUnexplained) ++unexplained;
      ++class_counts[DiffClassName(d.cls)];
      ++layer_class_counts[{d.layer, DiffClassName(d.cls)}];
      ev.discrepancies.push_back(std::move(d));
    }
  }
  if (row.elements) row.mean_signed_diff_lsb = double(sum_signed) / row.elements;
  row.classes = FormatClassCounts(class_counts);
  row.layer_classes = FormatLayerClassCounts(layer_class_counts);
  row.verdict = CaseVerdict(false, row.mismatches_vs_libtorch, unexplained, degenerate);
  ev.unexplained_elements += unexplained;
}

// Why the user's kernel gives kernel_out where LibTorch gives d.libtorch_out (GEMM element).
// When the kernel computes the engine's own recipe, the difference is LibTorch's side (its
// accumulator or a documented bug); otherwise ClassifyKernelElement names the ingredient.
DiffClass ClassifyKernelDiscrepancy(Engine engine, const Layer& layer, const LayerTrace& trace,
                                    const EngineLayerFacts& f, DiscrepancyRow& d) {
  const Recipe engine_recipe =
      GetScheme(EngineScheme(engine, layer, CpuHasVnni(), trace.input().dtype)).recipe;
  const ChannelTerms& terms = FillGemmColumns(trace, engine_recipe, d);
  const int32_t kernel_out = static_cast<int32_t>(d.integer_out);
  const int64_t acc = *d.acc;
  if (EvaluateRecipe(engine_recipe, terms, acc) == kernel_out) {
    if (!f.bug_out.empty()) return DiffClass::kLibTorchBug;
    if (!f.kernel_acc.empty() && f.kernel_acc[d.index] != acc) return DiffClass::kAccSaturation16;
    return DiffClass::kUnexplained;
  }
  return ClassifyKernelElement(engine_recipe, terms, acc, kernel_out);
}

// Ops without weights: the kernel's value against the op's recipes (`recipe_out[r]` = output of
// OpRecipes(op)[r]). If the engine's path gives it, the difference is LibTorch's side; else the
// class is the ingredient in which a recipe giving the kernel's value differs from the path
// (ClassifyOpElement; the first in DiffClass order), unexplained if none gives it.
DiffClass ClassifyKernelOpDiscrepancy(const Layer& layer, const LayerTrace& trace,
                                      const EngineLayerFacts& f,
                                      const std::vector<std::vector<int32_t>>& recipe_out,
                                      DiscrepancyRow& d) {
  const int64_t i = d.index;
  const int32_t y = static_cast<int32_t>(d.integer_out);
  d.real_multiplier = trace.inputs[0].scales[0] / f.q.scale;
  d.exact_value = f.real[i] / f.q.scale + f.q.zero_point;
  if (f.engine_op == nullptr) return DiffClass::kUnexplained;
  if (f.engine_out[i] == y) return f.bug_out.empty() ? DiffClass::kUnexplained : DiffClass::kLibTorchBug;
  const std::vector<const OpRecipeDef*>& recipes = OpRecipes(layer.op);
  DiffClass best = DiffClass::kUnexplained;
  for (size_t r = 0; r < recipes.size(); ++r) {
    if (recipes[r] == f.engine_op || recipes[r]->libtorch_bug || recipe_out[r][i] != y) continue;
    best = std::min(best, ClassifyOpElement(*f.engine_op, recipes[r], y, y, *d.exact_value));
  }
  return best;
}

// The kernel column's row for engine e: its covered layers compared with LibTorch's outputs.
void EvaluateKernelRow(const Case& c, const CaseRuns& runs, size_t e, EngineEvaluation& engine,
                       CaseRow& row, CaseEvaluation& ev) {
  const bool target = KernelTargets(*runs.kernel, runs.engines[e]);
  std::map<std::string, int64_t> class_counts;
  std::map<std::pair<int64_t, std::string>, int64_t> layer_class_counts;
  int64_t unexplained = 0, sum_signed = 0;
  for (size_t l = 0; l < c.model.layers.size(); ++l) {
    const KernelLayerRun& k = runs.kernel_runs[e][l];
    if (!k.covered) continue;
    if (!k.error.empty()) {
      row.message += (row.message.empty() ? "" : "; ") + ("layer " + std::to_string(l) + ": " + k.error);
      continue;
    }
    const LayerTrace& trace = runs.pipeline[e][0][l];
    const std::vector<int32_t>& lt = runs.libtorch[e].layers[l].values;
    const Comparison cmp = CompareOutputs(k.out, lt);
    row.elements += cmp.elements;
    row.mismatches_vs_libtorch += cmp.mismatches;
    if (cmp.elements) row.max_abs_diff_lsb = std::max(row.max_abs_diff_lsb.value_or(0), cmp.max_abs_diff);
    sum_signed += cmp.sum_signed_diff;
    const Layer& layer = c.model.layers[l];
    std::vector<std::vector<int32_t>> recipe_out;  // ops without weights: every recipe's output
    if (!IsGemmOp(layer.op) && !cmp.differing.empty()) {
      for (const OpRecipeDef* r : OpRecipes(layer.op)) {
        recipe_out.push_back(r->run(layer, trace.inputs, trace.shape));
      }
    }
    for (int64_t i : cmp.differing) {
      DiscrepancyRow d;
      d.case_id = c.id;
      d.engine = EngineName(runs.engines[e]);
      d.scheme = KernelColumnName();
      d.layer = static_cast<int64_t>(l);
      d.layer_op = LayerOpName(c.model.layers[l]);
      d.recipe = std::string(KernelColumnName()) + ":" + runs.kernel->Name();
      d.index = i;
      if (i < static_cast<int64_t>(k.out.size()) && i < static_cast<int64_t>(lt.size())) {
        d.channel = trace.ChannelOf(i);
        d.integer_out = k.out[i];
        d.libtorch_out = lt[i];
        const std::vector<int32_t>& fo = runs.float_oracle[l].out;
        if (i < static_cast<int64_t>(fo.size())) d.float_out = fo[i];
        d.diff_lsb = d.integer_out - d.libtorch_out;
        d.cls = IsGemmOp(layer.op)
                    ? ClassifyKernelDiscrepancy(runs.engines[e], layer, trace, engine.Facts(l), d)
                    : ClassifyKernelOpDiscrepancy(layer, trace, engine.Facts(l), recipe_out, d);
      }
      // On the target engine every difference is the kernel's; elsewhere only the unexplained.
      if (target || d.cls == DiffClass::kUnexplained) ++unexplained;
      ++class_counts[DiffClassName(d.cls)];
      ++layer_class_counts[{d.layer, DiffClassName(d.cls)}];
      ev.discrepancies.push_back(std::move(d));
    }
  }
  if (row.elements) row.mean_signed_diff_lsb = double(sum_signed) / row.elements;
  row.classes = FormatClassCounts(class_counts);
  row.layer_classes = FormatLayerClassCounts(layer_class_counts);
  // A case whose layers the kernel does not implement tested nothing: degenerate.
  row.verdict = CaseVerdict(false, row.mismatches_vs_libtorch, unexplained, row.elements == 0);
  ev.kernel_findings += unexplained;
}

}  // namespace

CaseEvaluation EvaluateRuns(const Case& c, const CaseRuns& runs) {
  CaseEvaluation ev;
  if (runs.kernel) ev.kernel_target = runs.kernel->Target();
  const Model& model = c.model;
  CaseRow id;  // the columns every row of the case shares
  id.case_id = c.id;
  id.seed = c.seed;
  id.op = CaseOpName(model);
  id.shape = CaseShapeName(model);
  for (const Layer& l : model.layers) {
    if (IsGemmOp(l.op)) {
      id.weight_quant = l.weight.per_channel() ? "per_channel" : "per_tensor";
      break;
    }
  }
  for (size_t e = 0; e < runs.engines.size(); ++e) {
    const EngineResult& torch = runs.libtorch[e];
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
    EngineEvaluation engine(c, runs, e);
    for (size_t s = 0; s < runs.schemes.size(); ++s) {
      CaseRow row = id;
      row.engine = EngineName(runs.engines[e]);
      row.scheme = GetScheme(runs.schemes[s]).name;
      if (torch.rejected) {
        row.verdict = Verdict::kRejected;
        row.message = torch.message;
      } else {
        EvaluateSchemeRow(c, runs, e, s, float_mismatches, degenerate, engine, row, ev);
      }
      ev.case_rows.push_back(std::move(row));
    }
    if (runs.kernel && !runs.schemes.empty() &&
        KernelComparedOn(*runs.kernel, runs.engines[e], runs.engines)) {
      CaseRow row = id;
      row.engine = EngineName(runs.engines[e]);
      row.scheme = KernelColumnName();
      if (torch.rejected) {
        row.verdict = Verdict::kRejected;
        row.message = torch.message;
      } else {
        EvaluateKernelRow(c, runs, e, engine, row, ev);
      }
      ev.case_rows.push_back(std::move(row));
    }
  }
  return ev;
}

}  // namespace qdiff
