// Resource limits of one case: what it may cost before anything is allocated. A case file of a
// few hundred bytes can describe gigabytes of tensors (a one-pixel input upsampled and followed by
// many layers); these limits refuse it with a message naming the need and the limit.
#pragma once

#include <cstdint>
#include <string>

#include "oracles/model.h"

namespace qdiff {

struct CaseLimits {
  // Memory one evaluation of the case may need (all schemes, all engines, the float oracle and
  // LibTorch's tensors), estimated as ModelCost::elements × BytesPerElement(schemes).
  double max_gib = 2.0;
  // Multiply-adds (window taps for pools) over all layers (ModelCost::multiply_adds).
  int64_t max_multiply_adds = int64_t{1} << 30;

  // Measured peak RSS per element held (qdiff replay of pools and activation chains on this
  // project's development machine, 2 engines): ≈ 46 B with one scheme, ≈ 156 B with nine; the
  // bound rounds up: 32 B + 16 B per scheme.
  static int64_t BytesPerElement(int64_t schemes) { return 32 + 16 * schemes; }
  int64_t MaxBytes() const { return static_cast<int64_t>(max_gib * (int64_t{1} << 30)); }
  // Parsing JSON takes about 32 bytes per byte of text (nlohmann values), so a case file larger
  // than MaxBytes() / 32 cannot fit: it is refused before it is read.
  int64_t MaxFileBytes() const { return MaxBytes() / 32; }
};

// Throws CaseFileError "SOURCE: rejected: too large (needs X GiB / N multiply-adds; limit ...)"
// when the model's cost exceeds the limits for an evaluation with `schemes` schemes.
void CheckCaseCost(const Model& model, const CaseLimits& limits, int64_t schemes,
                   const std::string& source);

// Validates limit flags: finite and in range, else throws std::invalid_argument naming the flag.
CaseLimits MakeCaseLimits(double max_gib, double max_multiply_adds);

}  // namespace qdiff
