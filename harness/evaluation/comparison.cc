#include "harness/evaluation/comparison.h"

#include <cstring>

#include <algorithm>
#include <cstdlib>

namespace qdiff {

Comparison CompareOutputs(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  constexpr size_t kBins = 5;
  Comparison c;
  c.abs_diff_histogram.assign(kBins, 0);
  const size_t n = std::max(a.size(), b.size()), common = std::min(a.size(), b.size());
  c.elements = static_cast<int64_t>(n);
  const auto compare = [&](size_t i) {
    const int64_t va = i < a.size() ? a[i] : 0;
    const int64_t vb = i < b.size() ? b[i] : 0;
    const int64_t d = va - vb;
    const int64_t ad = std::llabs(d);
    c.sum_signed_diff += d;
    c.max_abs_diff = std::max(c.max_abs_diff, ad);
    ++c.abs_diff_histogram[std::min<size_t>(static_cast<size_t>(ad), kBins - 1)];
    if (i >= a.size() || i >= b.size() || d != 0) {
      ++c.mismatches;
      c.differing.push_back(static_cast<int64_t>(i));
    }
  };
  // Most outputs agree: a block of equal elements adds only to the histogram's first bin.
  constexpr size_t kBlock = 64;
  size_t i = 0;
  for (; i + kBlock <= common; i += kBlock) {
    if (std::memcmp(a.data() + i, b.data() + i, kBlock * sizeof(int32_t)) == 0) {
      c.abs_diff_histogram[0] += kBlock;
      continue;
    }
    for (size_t j = i; j < i + kBlock; ++j) compare(j);
  }
  for (; i < n; ++i) compare(i);
  return c;
}

}  // namespace qdiff
