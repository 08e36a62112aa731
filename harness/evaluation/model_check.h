// `qdiff model`: every quantized node of a real model, captured in LibTorch (torchscript_model.h),
// checked on LibTorch's own inputs. Each layer becomes a one-layer qdiff case (its inputs the
// model's captured tensors) evaluated exactly as `replay` evaluates a case file (RunCase +
// EvaluateRuns): LibTorch reruns the layer alone, prepacked from the unpacked weights, against
// every scheme and the float oracle. quantize_per_tensor, dequantize and linear_dynamic are
// compared element by element with qdiff's formulas (QuantizeValue, DequantizeElement,
// LinearDynamicRecipe), as quantize-check and dynamic-check do.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/case/case.h"
#include "harness/evaluation/case_evaluation.h"
#include "harness/torch/torchscript_model.h"

namespace qdiff {

struct ModelNodeCheck {
  size_t node = 0;            // index into ModelRun::nodes
  std::string op;             // qdiff's op name ("conv2d_relu", "add", "quantize_per_tensor", …)
  int64_t elements = 0;       // output elements compared
  std::string engine_recipe;  // the recipe qdiff assigns to the engine for this node
  std::string engine_scheme;  // the scheme whose pipeline runs it (= engine_recipe for conv/linear)
  int64_t engine_mismatches = 0;  // elements where that recipe differs from LibTorch in the model
  std::string classes;        // of the engine recipe's differing elements ("tie:3")
  int64_t unexplained = 0;    // of those, nothing explains
  std::vector<std::string> reproducing;  // schemes (or the formula) with 0 mismatches
  // Layers only (a case each):
  std::optional<Case> layer_case;
  std::vector<int64_t> scheme_mismatches;  // [scheme] vs LibTorch, in CaseSchemes order
  int64_t float_mismatches = 0;
  // LibTorch's output inside the model vs the same layer rerun alone from the case; nonzero means
  // the case does not stand for the model's layer (e.g. ideep's cached primitive).
  int64_t model_vs_rerun = 0;
  bool rejected = false;      // LibTorch refused the layer alone
  std::string message;
};

struct ModelCheck {
  ModelRun run;
  std::vector<Scheme> schemes;
  std::vector<ModelNodeCheck> checks;       // checked nodes, graph order
  std::vector<size_t> skipped;              // nodes named and skipped (unknown, float)
  std::vector<size_t> moved;                // data movement nodes
  std::vector<CaseRow> case_rows;           // the CSV rows of every layer case
  std::vector<DiscrepancyRow> discrepancies;
  int64_t engine_mismatches = 0;            // summed over checks
  int64_t unexplained = 0;
  double check_seconds = 0;
};

// Case id of a layer: "l<node index>-<module path>" ('-' for characters a file name avoids).
std::string ModelLayerCaseId(const ModelRun& run, size_t node);

// Checks every node of the run on its engine. `model_file` goes into each case's provenance.
ModelCheck CheckModelRun(ModelRun run, const std::string& model_file,
                         const std::vector<Scheme>& schemes);

}  // namespace qdiff
