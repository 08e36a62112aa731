// Generated discrepancy rows for the example-row bounds' tests: few distinct values per field,
// so that groups fill and libtorch_bug elements repeat across schemes.
#pragma once

#include <string>

#include <rapidcheck.h>

#include "reports/rows.h"

namespace qdiff {

inline rc::Gen<DiscrepancyRow> GenExampleDiscrepancy(const std::string& case_id) {
  return rc::gen::apply(
      [case_id](int engine, int scheme, int layer, int index, bool add, bool bug) {
        DiscrepancyRow r;
        r.case_id = case_id;
        r.engine = engine ? "onednn" : "qnnpack";
        r.scheme = "s" + std::to_string(scheme);
        r.layer = layer;
        r.index = index;
        r.layer_op = add ? "add" : "conv2d";
        r.cls = bug ? DiffClass::kLibTorchBug : DiffClass::kTie;
        return r;
      },
      rc::gen::inRange(0, 2), rc::gen::inRange(0, 3), rc::gen::inRange(0, 2), rc::gen::inRange(0, 4),
      rc::gen::arbitrary<bool>(), rc::gen::arbitrary<bool>());
}

}  // namespace qdiff
