#include "harness/case_evaluation.h"

#include <algorithm>
#include <chrono>
#include <map>

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
  std::string s;
  std::vector<int64_t> shape = m.input.shape;
  for (const Layer& l : m.layers) {
    s += (s.empty() ? "" : " | ") + LayerShapeSummary(l, shape);
    shape = LayerOutputShape(l, shape);
  }
  return s;
}

QuantRange OutputRange(const Layer& l) {
  QuantRange r = TypeRange(l.out_dtype);
  if (l.relu) r.qmin = std::max(r.qmin, l.out_zero_point);
  return r;
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
  const size_t feeds = std::max<size_t>(engines.size(), 1);
  for (size_t e = 0; e < feeds; ++e) {
    std::vector<std::optional<QTensor>> inputs(c.model.layers.size());
    if (e < engines.size() && !runs.libtorch[e].rejected) {
      for (size_t l = 1; l < c.model.layers.size(); ++l) {
        const LayerOutput& prev = runs.libtorch[e].layers[l - 1];
        QTensor x = LayerOutputTensor(c.model.layers[l - 1], prev.shape, prev.values);
        x.scales = {prev.scale};
        x.zero_points = {prev.zero_point};
        inputs[l] = std::move(x);
      }
    }
    std::vector<std::vector<LayerTrace>> per_scheme;
    for (Scheme s : schemes) {
      per_scheme.push_back(RunIntegerPipelineFed(
          c.model, ApplyDefect(GetScheme(s).recipe, c.injected_defect), inputs));
    }
    runs.pipeline.push_back(std::move(per_scheme));
  }
  runs.float_oracle = RunFloatOracle(c.model);
  return runs;
}

CaseEvaluation EvaluateRuns(const Case& c, const CaseRuns& runs) {
  CaseEvaluation ev;
  const Model& model = c.model;
  const std::string op = CaseOpName(model);
  const std::string shape = CaseShapeName(model);
  const std::string weight_quant =
      model.layers[0].weight.per_channel() ? "per_channel" : "per_tensor";
  const bool vnni = CpuHasVnni();
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
        degenerate = degenerate && IsDegenerate(lt, OutputRange(model.layers[l]));
      }
    }
    for (size_t s = 0; s < runs.schemes.size(); ++s) {
      const SchemeDef& scheme = GetScheme(runs.schemes[s]);
      const Recipe scheme_recipe = ApplyDefect(scheme.recipe, c.injected_defect);
      CaseRow row;
      row.case_id = c.id;
      row.seed = c.seed;
      row.op = op;
      row.engine = runs.engines[e];
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
        // The accumulators the engine's kernel computes (16-bit pair saturation, int32 wrap).
        const AccumulatorModel acc_model =
            EngineAccumulatorModel(runs.engines[e], layer, trace.input.dtype);
        const std::vector<int64_t> kernel_acc =
            acc_model == AccumulatorModel::kExact
                ? std::vector<int64_t>()
                : KernelAccumulators(layer, trace.input, trace.shape, acc_model);
        std::optional<Recipe> engine_recipe;
        if (std::optional<Scheme> es = EngineScheme(runs.engines[e], layer, vnni, trace.input.dtype)) {
          engine_recipe = ApplyDefect(GetScheme(*es).recipe, c.injected_defect);
        }
        for (int64_t i : cmp.differing) {
          DiscrepancyRow d;
          d.case_id = c.id;
          d.engine = runs.engines[e];
          d.scheme = scheme.name;
          d.layer = static_cast<int64_t>(l);
          d.index = i;
          const bool in_range = i < static_cast<int64_t>(trace.out.size()) &&
                                i < static_cast<int64_t>(lt.size());
          DiffClass cls = DiffClass::kUnexplained;  // a shape mismatch is never explained
          if (in_range) {
            d.channel = trace.ChannelOf(i);
            const ChannelTerms& terms = trace.channels[d.channel];
            d.acc = trace.acc[i];
            d.integer_bias = scheme_recipe.bias == BiasForm::kInt32Torch ? terms.bias_int32 : 0;
            d.bias = terms.quant.bias.value_or(0.0f);
            if (scheme_recipe.multiplier == MultiplierForm::kQ31) {
              d.multiplier = terms.q31.multiplier;
              d.shift = terms.q31.shift;
            }
            d.real_multiplier = terms.multiplier_double;
            d.exact_value = ExactRealOutput(terms, d.acc);
            d.integer_out = trace.out[i];
            d.libtorch_out = lt[i];
            d.float_out = runs.float_oracle[l].out[i];
            d.diff_lsb = d.integer_out - d.libtorch_out;
            const int64_t k_acc = kernel_acc.empty() ? WrapToInt32(d.acc) : kernel_acc[i];
            cls = ClassifyElement(scheme_recipe, engine_recipe, terms, d.acc, k_acc, lt[i]);
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
