// Comparison of two runners' outputs for one layer: statistics and the differing elements.
// Never runs anything, never classifies.
#pragma once

#include <cstdint>
#include <vector>

namespace qdiff {

struct Comparison {
  int64_t elements = 0;
  int64_t mismatches = 0;
  int64_t max_abs_diff = 0;
  int64_t sum_signed_diff = 0;        // Σ (a − b); mean = sum / elements shows a biased tie rule
  std::vector<int64_t> abs_diff_histogram;  // [k] = elements with |a − b| == k, last bin = "≥"
  std::vector<int64_t> differing;     // flat indices where a != b, ascending
  double MeanSignedDiff() const { return elements ? double(sum_signed_diff) / elements : 0.0; }
};

// Compares a against b element by element (same length required; a longer tail counts as
// differing with diff = a value). Histogram bins: 0, 1, 2, 3, ≥4.
Comparison CompareOutputs(const std::vector<int32_t>& a, const std::vector<int32_t>& b);

}  // namespace qdiff
