// What a case costs before anything is allocated: every tensor it makes and every multiply-add
// (or window tap) it performs, summed over its layers. A resource limit (harness/case/case_limits.h)
// compares these with its bounds, so a case file of a few hundred bytes cannot ask for gigabytes
// or hours: the per-tensor element cap alone does not bound a chain of large layers.
#pragma once

#include <cstdint>

#include "oracles/model.h"

namespace qdiff {

struct ModelCost {
  // Elements of the model input, every node output and every weight: what one evaluation of the
  // model holds at once (traces keep every layer's tensors).
  int64_t elements = 0;
  // Σ over layers of output elements × taps per output element:
  //   conv, conv_transpose2d  C/groups × kernel volume (every tap is visited);
  //   linear                  K;
  //   max/avg pools           the window clipped to the input (min(k, in) per dimension): no
  //                           implementation visits more than the input holds;
  //   adaptive_avg_pool2d     in/out + 2 per dimension (≥ ⌈in/out⌉ + 1, the largest window);
  //   add, mul, cat, activations, flatten: the inputs read per output (1 or 2).
  int64_t multiply_adds = 0;
};

// Saturates at INT64_MAX instead of overflowing. The model must validate (ValidateModel).
ModelCost EstimateModelCost(const Model& model);

}  // namespace qdiff
