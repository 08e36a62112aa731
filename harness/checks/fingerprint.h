// `qdiff fingerprint`: a fixed set of diagnostic cases per op (exact ties, bias on half-LSB
// boundaries, accumulators beyond 2^24, multipliers above 1, cvtps2dq overflow, observer-derived
// scales) run on each engine, and for every scheme the count of elements that differ from LibTorch:
// which recipe each engine implements, op by op.
#pragma once

#include <string>
#include <vector>

#include "harness/case/case.h"
#include "oracles/engine.h"
#include "oracles/scheme.h"
#include "reports/rows.h"

namespace qdiff {

struct DiagnosticCase {
  std::string family;
  Case c;
};

// Deterministic: the same cases on every run and machine.
std::vector<DiagnosticCase> DiagnosticCases(OpKind op);

struct FingerprintResult {
  std::vector<FingerprintRow> rows;  // op × engine × scheme × family
  std::string table;                 // per op × engine: the schemes that reproduce LibTorch
  bool engine_recipes_reproduce = true;  // each engine's own recipe matched on every element
};

// conv2d and linear: per scheme (families above).
FingerprintResult RunFingerprint(const std::vector<Engine>& engines,
                                 const std::vector<Scheme>& schemes);

// The ops without weights (op_fingerprint.cc): deterministic generated cases per op; per LibTorch
// path (the recipe qdiff assigns to it), the mismatches of that recipe and the list of recipes
// that reproduce LibTorch bit for bit. Rows: scheme = recipe, family = path. Appends to *result
// (table, rows; engine_recipes_reproduce false if a path's recipe missed an element).
std::vector<Case> OpDiagnosticCases(OpKind op);
void RunOpFingerprint(const std::vector<Engine>& engines, FingerprintResult* result);

}  // namespace qdiff
