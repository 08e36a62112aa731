// `qdiff fingerprint`: a fixed set of diagnostic cases per op (exact ties, bias on half-LSB
// boundaries, accumulators beyond 2^24, multipliers above 1, cvtps2dq overflow, observer-derived
// scales) run on each engine, and for every scheme the count of elements that differ from LibTorch:
// which recipe each engine implements, op by op.
#pragma once

#include <string>
#include <vector>

#include "harness/case.h"
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

FingerprintResult RunFingerprint(const std::vector<std::string>& engines,
                                 const std::vector<Scheme>& schemes);

}  // namespace qdiff
