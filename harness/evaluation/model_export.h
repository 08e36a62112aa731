// `qdiff export`: what an integer implementation of a real model needs, for one engine
// (docs/export.md). Per conv2d/linear layer: int8 weights and zero points, the bias as the engine
// forms it, the multiplier as the engine's binary32 value and as Q31 M0 + shift, the zero points,
// clamp bounds, rounding rule and zero-point order, the recipe that reproduces the engine and how
// many elements each fixed-point recipe differs by on the captured input. Per graph node
// (quantize, the layers, add, mul, cat, pools, activations, flatten, dequantize): its producers
// (through data movement, as gather indices) and the engine recipe's constants or tables, so the C
// header chains the whole model from its float input. Written as JSON and as a C header with
// LibTorch's int_repr() of every node.
#pragma once

#include <string>

#include "harness/evaluation/model_check.h"

namespace qdiff {

struct ModelExport {
  std::string json;      // docs/export.md
  std::string header;    // C99: qdiff_nodes (the graph) and qdiff_layers (its conv2d/linear)
  int nodes = 0;         // quantize, layer and dequantize nodes written
  int exported = 0;      // of which conv2d and linear layers
  std::string skipped;   // other checked nodes (linear_dynamic), "op at path" list
  std::string no_c_form; // written nodes whose output the C program takes from LibTorch, with why
};

// From a checked run (CheckModelRun with every scheme). Throws std::invalid_argument when the
// run was rejected or a layer's engine recipe has no exported form.
ModelExport ExportModel(const ModelCheck& mc, const std::string& model_file);

}  // namespace qdiff
