// `qdiff dynamic-check`: quantized::linear_dynamic / linear_relu_dynamic (float activations
// quantized on the fly) on each engine against qdiff's per-engine recipe
// (oracles/linear_dynamic.h), bit for bit, and against the exact float64 reference. Random cases
// from one seed: shapes N 1..4, K 1..300, OC 1..16; activations uniform, constant, all-negative,
// tiny-range (the SMALL_SCALE_THRESHOLD branch), exact ties on a power-of-two grid and near-ties
// at arbitrary scales; per-tensor and per-channel qint8 weights (nonzero zero points on a quarter
// of the cases, which ONEDNN rejects); bias or not; reduce_range; ReLU.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "oracles/engine.h"

namespace qdiff {

struct DynamicEngineCounts {
  Engine engine = Engine::kQnnpack;
  int64_t cases = 0;       // cases run on this engine, rejected ones included
  int64_t elements = 0;    // output elements compared (accepted cases)
  int64_t mismatches = 0;  // elements whose recipe value is not bit-identical to LibTorch's
  int64_t rejected = 0;    // cases LibTorch refused (error text printed for the first few)
  int64_t max_ulp_exact = 0;         // max binary32-ulp distance of LibTorch from the exact reference
  double max_error_acc_units = 0.0;  // max |LibTorch − exact| / (s_x·s_w): the same in units of
                                     // one accumulator step, meaningful also near 0
};

struct DynamicCheckResult {
  std::vector<DynamicEngineCounts> engines;  // in the order requested
  int64_t cases = 0;
  // Activations on which the three engines' quantization formulas (same qparams) do not all
  // agree: the generator reaches the ties and near-ties that tell the recipes apart.
  int64_t activation_form_splits = 0;
};

// `engines` empty = every engine this LibTorch supports. An engine this build lacks counts every
// case as rejected. Deterministic for a given seed.
DynamicCheckResult RunDynamicCheck(int64_t cases, uint64_t seed,
                                   const std::vector<Engine>& engines, std::ostream& out);

}  // namespace qdiff
