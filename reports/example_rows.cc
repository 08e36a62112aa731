#include "reports/example_rows.h"

namespace qdiff {

bool ExampleRowBound::Keep(const DiscrepancyRow& row) {
  if (row.cls == DiffClass::kLibTorchBug) {
    if (row.case_id != bug_case_) {
      bug_case_ = row.case_id;
      bug_elements_.clear();
    }
    if (!bug_elements_.insert({row.engine, row.layer, row.index}).second) return false;
  }
  int64_t& kept = kept_[{row.engine, row.layer_op, row.scheme, row.cls}];
  if (kept >= max_per_group_) return false;
  ++kept;
  return true;
}

}  // namespace qdiff
