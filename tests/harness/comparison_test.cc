// CompareOutputs skips blocks of equal elements; its counts must equal an element-by-element
// comparison's for outputs of every length, with differences that are sparse, dense, at block
// edges and in a tail one side lacks.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "harness/evaluation/comparison.h"

namespace qdiff {
namespace {

TEST(CompareOutputs, EqualsTheElementByElementCounts) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 400; ++trial) {
    const size_t na = rng() % 300, nb = trial % 3 == 0 ? na + rng() % 5 : na;
    std::vector<int32_t> a(na), b(nb);
    for (int32_t& v : a) v = static_cast<int32_t>(rng() % 256);
    for (size_t i = 0; i < nb; ++i) b[i] = i < na ? a[i] : static_cast<int32_t>(rng() % 256);
    const int changes = trial % 4 == 0 ? 0 : static_cast<int>(rng() % (trial % 2 ? 3 : 60));
    for (int k = 0; k < changes && !b.empty(); ++k) {
      const size_t i = trial % 5 == 0 ? (rng() % 4) * 64 + 63 : rng() % b.size();  // block edges too
      if (i < b.size()) b[i] += static_cast<int32_t>(rng() % 9) - 4;
    }
    // the reference, element by element
    const size_t n = std::max(na, nb);
    std::vector<int64_t> histogram(5, 0), differing;
    int64_t sum = 0, max_abs = 0;
    for (size_t i = 0; i < n; ++i) {
      const int64_t d = int64_t{i < na ? a[i] : 0} - (i < nb ? b[i] : 0);
      sum += d;
      max_abs = std::max<int64_t>(max_abs, std::llabs(d));
      ++histogram[std::min<int64_t>(std::llabs(d), 4)];
      if (i >= na || i >= nb || d != 0) differing.push_back(static_cast<int64_t>(i));
    }
    const Comparison c = CompareOutputs(a, b);
    ASSERT_EQ(c.elements, static_cast<int64_t>(n));
    ASSERT_EQ(c.differing, differing) << "trial " << trial;
    ASSERT_EQ(c.mismatches, static_cast<int64_t>(differing.size()));
    ASSERT_EQ(c.abs_diff_histogram, histogram) << "trial " << trial;
    ASSERT_EQ(c.sum_signed_diff, sum);
    ASSERT_EQ(c.max_abs_diff, max_abs);
  }
}

}  // namespace
}  // namespace qdiff
