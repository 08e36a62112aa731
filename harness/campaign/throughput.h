// What qdiff's own work costs next to the LibTorch calls it checks (`qdiff throughput`).
// Every figure is measured in one process on the same cases, interleaved case by case, so that
// the ratios compare like with like on whatever machine runs it:
//   LibTorch alone: RunOnLibTorch of the case on the engine (the identical calls the check makes:
//                   quantize, prepack, the op, int_repr) and nothing else;
//   full check:     what a campaign worker does for the case on that engine: draw it, run
//                   LibTorch, every scheme's pipeline, the float oracle, compare, classify, and
//                   serialise the report rows; once with every scheme, once with the engine's own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/campaign/campaign.h"
#include "harness/case/case.h"

namespace qdiff {

// A group of ops measured together: the cases are drawn with generator.ops = ops.
struct WorkloadFamily {
  std::string name;
  std::vector<OpKind> ops;
  int real_size_percent = GeneratorSettings::kDefaultRealSizePercent;
};
// conv2d+linear (the default mix, with the campaign's share of real sizes), conv2d+linear all at
// real sizes (the size tier), the other convolutions, elementwise (add, mul, cat) and the ops
// without weights that keep or map one input.
std::vector<WorkloadFamily> ThroughputFamilies();

// Where a full check spends its time, summed over cases (the stages add up to the check's time).
struct CheckStages {
  double draw_s = 0;       // drawing the case from the generators
  double libtorch_s = 0;   // LibTorch, inside the check
  double pipelines_s = 0;  // the schemes' integer pipelines and the float oracle
  double evaluate_s = 0;   // comparison and classification
  double rows_s = 0;       // serialising the report rows
};

struct CheckCost {
  std::string engine;
  std::string workload;    // an op family, or a fixed layer's name
  int64_t cases = 0;       // cases (or calls of a fixed layer) timed
  int64_t elements = 0;    // output elements of every layer of those cases, once per case
  double libtorch_s = 0;   // LibTorch alone
  double check_all_s = 0;  // full check, every scheme
  double check_own_s = 0;  // full check, the engine's own scheme only
  int64_t rejected = 0;    // cases LibTorch rejected (still timed: the check handles them too)
  CheckStages all_stages, own_stages;  // of check_all_s and check_own_s
};

// `cases` generated cases per family and engine (seed `seed`), each family restricted to the
// listed `ops` (families with none of them are skipped).
std::vector<CheckCost> MeasureFamilies(const std::vector<Engine>& engines, const std::vector<OpKind>& ops,
                                       int64_t cases, uint64_t seed);

// The fixed layers of the bars, each timed `repeats` times per engine:
//   conv2d 32→32, 3×3, pad 1, 28×28, batch 1 (25,088 outputs);
//   linear 1024→1024, batch 8 (8,192 outputs).
std::vector<Case> ThroughputLayers(uint64_t seed);
std::vector<CheckCost> MeasureLayers(const std::vector<Engine>& engines, int64_t repeats, uint64_t seed);

// The table: engine, workload, cases, elements, and per column cases/s, elements/s and
// rate(check)/rate(LibTorch alone); then each full check's time per stage, µs per case.
std::string FormatCheckCosts(const std::vector<CheckCost>& rows);

}  // namespace qdiff
