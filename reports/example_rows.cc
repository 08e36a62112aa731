#include "reports/example_rows.h"

#include <algorithm>

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

void KeepExampleRows(std::vector<DiscrepancyRow>* rows, ExampleRowBound* bound) {
  std::stable_sort(rows->begin(), rows->end(), [](const DiscrepancyRow& a, const DiscrepancyRow& b) {
    return std::tie(a.engine, a.scheme, a.layer, a.index) < std::tie(b.engine, b.scheme, b.layer, b.index);
  });
  rows->erase(std::remove_if(rows->begin(), rows->end(), [bound](const DiscrepancyRow& r) { return !bound->Keep(r); }),
              rows->end());
}

}  // namespace qdiff
