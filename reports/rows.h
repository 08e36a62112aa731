// Plain rows of the report files. The campaign fills them; sinks write them; `qdiff report`
// reads them back. Column order and names are declared once, in schema.h. A std::optional field
// is "not applicable" when empty: an empty CSV cell, never 0.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "reports/vocabulary.h"

namespace qdiff {

// cases.csv: one row per (case, engine, scheme).
struct CaseRow {
  std::string case_id;        // e.g. "s1-c000042"
  uint64_t seed = 0;          // seed the case was generated from
  std::string op;             // "conv2d", "conv2d_relu", "linear", "linear_relu"
  std::string engine;         // "qnnpack", "onednn", ...
  std::string scheme;         // "exact", "double_rounding", ...
  std::string weight_quant;   // "per_tensor" | "per_channel"
  std::string shape;          // human-readable layer shape, e.g. "x1x3x8x8 w4x3x3x3 g1 s1 p1 d1"
  int64_t elements = 0;                 // output elements compared
  int64_t mismatches_vs_libtorch = 0;   // scheme output != LibTorch int_repr
  int64_t mismatches_vs_float = 0;      // float oracle != LibTorch int_repr
  std::optional<int64_t> max_abs_diff_lsb;      // max |scheme - LibTorch|; empty if elements == 0
  std::optional<double> mean_signed_diff_lsb;   // mean (scheme - LibTorch); empty if elements == 0
  Verdict verdict = Verdict::kExact;
  std::string classes;        // "tie:3;bias:1" (class:count, sorted by class name), empty if none
  // The same per layer: "0:tie:3;2:bias:1" (layer:class:count, sorted by layer, then class name),
  // empty if none. The exact element counts the summaries derive from (discrepancies.csv holds
  // a bounded set of example rows).
  std::string layer_classes;
  std::string message;        // LibTorch's message when rejected, else empty
};

// discrepancies.csv: one row per differing element (scheme output != LibTorch output).
struct DiscrepancyRow {
  std::string case_id;
  std::string engine;
  std::string scheme;
  int64_t layer = 0;
  int64_t index = 0;          // flat row-major index into the layer output
  int64_t channel = 0;        // output channel of the element
  // Empty (std::nullopt) where not applicable; schema.cc documents each column.
  std::optional<int64_t> acc;           // sum (x - z_x)(w - z_w), bias excluded; conv/linear only
  std::optional<int64_t> integer_bias;  // LibTorch's int32 QuantizeBias; schemes that use it, layers with a bias
  std::optional<double> bias;           // float bias of the channel; conv/linear layers with a bias
  std::optional<int64_t> multiplier;    // Q31 multiplier; schemes with a Q31 multiplier only
  std::optional<int64_t> shift;         // its exponent: real M = multiplier * 2^(shift-31); likewise
  std::optional<double> real_multiplier;  // s_x * s_w / s_y (ops: s_in / s_out) in double
  std::optional<double> exact_value;    // exact real output before rounding, zero point included
  int64_t integer_out = 0;    // scheme output
  int64_t libtorch_out = 0;   // LibTorch int_repr
  std::optional<int64_t> float_out;     // float oracle output; empty where its shape differs
  int64_t diff_lsb = 0;       // integer_out - libtorch_out
  DiffClass cls = DiffClass::kUnexplained;  // why it differs (vocabulary.h)
  std::string layer_op;       // op of the layer: "conv2d_relu", "add", "avg_pool2d", ...
  // What computed integer_out: the scheme's recipe for conv2d/linear (= scheme), else the op
  // recipe the scheme's pipeline ran, e.g. "add.qnnpack_fixed" (oracles/ops/op_recipe.h).
  std::string recipe;
};

// summary.csv: counts by op x engine x scheme, long format.
// kind "verdict": name is a verdict, count = cases; kind "class": name is a class, count = elements.
struct SummaryRow {
  std::string op;
  std::string engine;
  std::string scheme;
  std::string kind;   // "verdict" | "class"
  std::string name;
  int64_t count = 0;
};

// fingerprint.csv: one row per op x engine x scheme x diagnostic family.
struct FingerprintRow {
  std::string op;
  std::string engine;
  std::string scheme;
  std::string family;        // ties, bias_rounding, large_accumulator, multiplier_above_1, ...
  int64_t cases = 0;
  int64_t elements = 0;
  int64_t mismatches = 0;    // scheme output != LibTorch int_repr
  int64_t unexplained = 0;   // of those, elements the classifier could not explain
  int64_t max_abs_diff_lsb = 0;
};

}  // namespace qdiff
