// `qdiff export`: what an integer implementation of a real model's conv and linear layers needs,
// per layer, for one engine (docs/export.md): int8 weights and zero points, the bias as the
// engine forms it, the multiplier as the engine's binary32 value and as Q31 M0 + shift, the zero
// points, clamp bounds, rounding rule and zero-point order, the recipe that reproduces the engine
// and how many elements each fixed-point recipe differs by on the captured input. Written as
// JSON and as a C header with the arrays, LibTorch's captured input and int_repr() output.
#pragma once

#include <string>

#include "harness/evaluation/model_check.h"

namespace qdiff {

struct ModelExport {
  std::string json;    // docs/export.md
  std::string header;  // C99; one qdiff_layer per exported layer, in graph order
  int exported = 0;    // conv2d and linear layers written
  std::string skipped; // other checked nodes, "kind at path" list (no C form in the header)
};

// From a checked run (CheckModelRun with every scheme). Throws std::invalid_argument when the
// run was rejected or a layer's engine recipe has no exported form.
ModelExport ExportModel(const ModelCheck& mc, const std::string& model_file);

}  // namespace qdiff
