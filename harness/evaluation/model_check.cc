#include "harness/evaluation/model_check.h"

#include <chrono>
#include <cctype>
#include <cstdio>
#include <cstring>

#include "harness/case/provenance.h"
#include "harness/evaluation/comparison.h"
#include "harness/evaluation/engines.h"
#include "harness/torch/libtorch_runner.h"
#include "oracles/float_oracle.h"
#include "oracles/observers.h"
#include "oracles/ops/op_recipe.h"

namespace qdiff {

namespace {

// The node as a one-layer case: input 0 is the model input (node −1), further inputs of add,
// mul and cat are extra graph inputs (−2, −3, …), all LibTorch's captured tensors.
Case LayerCase(const ModelRun& run, size_t index, const std::string& model_file) {
  const CapturedNode& n = run.nodes[index];
  Case c;
  c.id = ModelLayerCaseId(run, index);
  c.description = "Layer " + (n.module_path.empty() ? std::string("(top)") : n.module_path) + " (" +
                  n.kind + (n.source.empty() ? "" : ", " + n.source) + ") of " + model_file +
                  " on " + EngineName(run.engine) + ", with the inputs LibTorch gave it inside the model.";
  c.model.input = n.inputs.at(0);
  c.model.layers = {n.layer};
  if (n.inputs.size() > 1) {
    c.model.extra_inputs.assign(n.inputs.begin() + 1, n.inputs.end());
    c.model.layers[0].inputs.clear();
    for (size_t i = 0; i < n.inputs.size(); ++i) c.model.layers[0].inputs.push_back(-1 - static_cast<int>(i));
  }
  c.engines = {run.engine};
  c.provenance = {QdiffVersion(), QdiffGitHash(), LibTorchVersion(), CpuFlags(),
                  "model " + model_file, UtcNowIso8601()};
  return c;
}

// Bitwise float equality (−0 ≠ +0, NaN payloads compared as bits).
bool SameBits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void CheckLayer(ModelCheck& mc, size_t index, const std::string& model_file) {
  const CapturedNode& n = mc.run.nodes[index];
  ModelNodeCheck ch;
  ch.node = index;
  ch.op = LayerOpName(n.layer);
  Case c = LayerCase(mc.run, index, model_file);
  const CaseRuns runs = RunCase(c, c.engines, mc.schemes);
  const CaseEvaluation ev = EvaluateRuns(c, runs);
  const EngineResult& torch = runs.libtorch.at(0);
  const Scheme engine_scheme =
      IsGemmOp(n.layer.op) ? EngineScheme(mc.run.engine, n.layer, CpuHasVnni(), n.inputs[0].dtype)
                           : EngineOwnScheme(mc.run.engine);
  ch.engine_scheme = GetScheme(engine_scheme).name;
  if (IsGemmOp(n.layer.op)) {
    ch.engine_recipe = ch.engine_scheme;
  } else {
    const OpRecipeDef* r = EngineOpRecipe(mc.run.engine, n.layer, n.inputs);
    ch.engine_recipe = r ? r->name : std::string("(none)");
  }
  if (torch.rejected) {
    ch.rejected = true;
    ch.message = torch.message;
  } else {
    for (size_t i = 0; i < n.output.values.size() && i < torch.layers[0].values.size(); ++i) {
      ch.model_vs_rerun += n.output.values[i] != torch.layers[0].values[i];
    }
    ch.float_mismatches = CompareOutputs(runs.float_oracle[0].out, torch.layers[0].values).mismatches;
  }
  for (const CaseRow& r : ev.case_rows) {
    ch.elements = std::max(ch.elements, r.elements);
    ch.scheme_mismatches.push_back(r.mismatches_vs_libtorch);
    if (r.verdict != Verdict::kRejected && r.mismatches_vs_libtorch == 0) ch.reproducing.push_back(r.scheme);
    if (r.scheme == GetScheme(engine_scheme).name) {
      ch.engine_mismatches = r.mismatches_vs_libtorch;
      ch.classes = r.classes;
    }
  }
  for (const DiscrepancyRow& d : ev.discrepancies) {
    if (d.scheme == GetScheme(engine_scheme).name && d.cls == DiffClass::kUnexplained) ++ch.unexplained;
  }
  mc.unexplained += ev.unexplained_elements;
  mc.case_rows.insert(mc.case_rows.end(), ev.case_rows.begin(), ev.case_rows.end());
  mc.discrepancies.insert(mc.discrepancies.end(), ev.discrepancies.begin(), ev.discrepancies.end());
  ch.layer_case = std::move(c);
  mc.engine_mismatches += ch.engine_mismatches + ch.model_vs_rerun;
  mc.checks.push_back(std::move(ch));
}

// quantize_per_tensor, dequantize and linear_dynamic: qdiff's formula for the engine against
// LibTorch's output in the model, element by element.
void CheckFormula(ModelCheck& mc, size_t index) {
  const CapturedNode& n = mc.run.nodes[index];
  ModelNodeCheck ch;
  ch.node = index;
  switch (n.role) {
    case NodeRole::kQuantize: {
      ch.op = "quantize_per_tensor";
      ch.engine_recipe = "QuantizeValue";  // oracles/observers.h, verified by quantize-check
      const QTensor& y = n.output;
      for (size_t i = 0; i < y.values.size(); ++i) {
        ch.engine_mismatches +=
            QuantizeValue(n.float_input[i], y.scales[0], y.zero_points[0], y.dtype) != y.values[i];
      }
      ch.elements = static_cast<int64_t>(y.values.size());
      break;
    }
    case NodeRole::kDequantize: {
      ch.op = "dequantize";
      ch.engine_recipe = "DequantizeElement";  // oracles/float_oracle.h
      for (size_t i = 0; i < n.float_output.size(); ++i) {
        ch.engine_mismatches += !SameBits(DequantizeElement(n.inputs[0], static_cast<int64_t>(i)),
                                          n.float_output[i]);
      }
      ch.elements = static_cast<int64_t>(n.float_output.size());
      break;
    }
    case NodeRole::kDynamicLinear: {
      ch.op = n.dynamic.relu ? "linear_relu_dynamic" : "linear_dynamic";
      const DynamicEngine de = DynamicEngineOf(mc.run.engine);
      ch.engine_recipe = std::string("linear_dynamic.") + DynamicEngineName(de);
      const DynamicLinearCase& d = n.dynamic;
      // The recipe needs per-channel weights along axis 0 or per-tensor, as linear_prepack has.
      const std::vector<float> y = LinearDynamicRecipe(d, de).y;
      for (size_t i = 0; i < n.float_output.size(); ++i) {
        ch.engine_mismatches += i >= y.size() || !SameBits(y[i], n.float_output[i]);
      }
      ch.elements = static_cast<int64_t>(n.float_output.size());
      break;
    }
    default:
      return;
  }
  ch.engine_scheme = ch.engine_recipe;
  if (ch.engine_mismatches == 0) ch.reproducing = {ch.engine_recipe};
  ch.unexplained = ch.engine_mismatches;  // a formula qdiff verified elsewhere: no other story
  mc.engine_mismatches += ch.engine_mismatches;
  mc.unexplained += ch.unexplained;
  mc.checks.push_back(std::move(ch));
}

}  // namespace

std::string ModelLayerCaseId(const ModelRun& run, size_t node) {
  std::string path = run.nodes[node].module_path.empty() ? "top" : run.nodes[node].module_path;
  for (char& ch : path) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '_') ch = '-';
  }
  char prefix[16];
  std::snprintf(prefix, sizeof prefix, "l%03zu-", node);
  return prefix + path;
}

ModelCheck CheckModelRun(ModelRun run, const std::string& model_file,
                         const std::vector<Scheme>& schemes) {
  const auto t0 = std::chrono::steady_clock::now();
  ModelCheck mc;
  mc.run = std::move(run);
  mc.schemes = schemes;
  for (size_t i = 0; i < mc.run.nodes.size(); ++i) {
    switch (mc.run.nodes[i].role) {
      case NodeRole::kLayer:
        CheckLayer(mc, i, model_file);
        break;
      case NodeRole::kQuantize:
      case NodeRole::kDequantize:
      case NodeRole::kDynamicLinear:
        CheckFormula(mc, i);
        break;
      case NodeRole::kDataMovement:
        mc.moved.push_back(i);
        break;
      case NodeRole::kFloat:
      case NodeRole::kUnknown:
        mc.skipped.push_back(i);
        break;
    }
  }
  mc.check_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return mc;
}

}  // namespace qdiff
