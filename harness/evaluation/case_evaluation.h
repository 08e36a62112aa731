// One case through the data flow (docs/design.md#data-flow): the LibTorch runner on each engine,
// the integer pipeline per scheme, the float oracle; then the comparison and the classifier; out
// come report rows. Used by `run`, `replay`, the corpus tests and `seed-example`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/case/case.h"
#include "harness/evaluation/kernel_column.h"
#include "harness/torch/libtorch_runner.h"
#include "oracles/float_oracle.h"
#include "oracles/integer_pipeline.h"
#include "oracles/scheme.h"
#include "reports/rows.h"

namespace qdiff {

// Outputs of every runner for one case, before any comparison.
struct CaseRuns {
  std::vector<Engine> engines;
  std::vector<EngineResult> libtorch;                 // [engine]
  std::vector<Scheme> schemes;
  // [engine][scheme][layer]: layer l > 0 is fed with that engine's LibTorch output of layer l−1
  // (when LibTorch ran), so every layer is compared on the inputs LibTorch saw. With no engine,
  // one entry fed by the pipeline itself.
  std::vector<std::vector<std::vector<LayerTrace>>> pipeline;
  std::vector<FloatLayerResult> float_oracle;         // [layer]
  double libtorch_seconds = 0;                        // wall time spent inside LibTorch
  // The user's kernel (--kernel), or nullptr; its outputs [engine][layer], fed as the pipeline.
  const KernelColumn* kernel = nullptr;
  std::vector<std::vector<KernelLayerRun>> kernel_runs;
};

// Layers that read only graph inputs have the same accumulators under every engine: they are
// computed once per case, or taken from `first_layer_acc` (layer 0's, as the generator computed
// them: GeneratedModel::first_layer_acc) when given.
CaseRuns RunCase(const Case& c, const std::vector<Engine>& engines,
                 const std::vector<Scheme>& schemes, const KernelColumn* kernel = nullptr,
                 SharedValues<int64_t> first_layer_acc = {});

struct CaseEvaluation {
  std::vector<CaseRow> case_rows;              // one per engine × scheme
  std::vector<DiscrepancyRow> discrepancies;   // one per differing element
  int64_t unexplained_elements = 0;
  int64_t kernel_findings = 0;  // the kernel column's finding elements (kernel_column.h)
  std::optional<Engine> kernel_target;  // the engine the kernel aims at, if it names one
  int64_t rejected_engines = 0;
};

// Compares and classifies; pure given the runs.
CaseEvaluation EvaluateRuns(const Case& c, const CaseRuns& runs);

// Engines of the case (or all available if it lists none) that this LibTorch supports; the
// others are returned in `unavailable`. Schemes of the case (or all); LoadCaseFile has checked
// their names.
std::vector<Engine> CaseEngines(const Case& c, const std::vector<Engine>& available,
                                std::vector<Engine>* unavailable);
std::vector<Scheme> CaseSchemes(const Case& c);

}  // namespace qdiff
