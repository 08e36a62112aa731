#include "reports/example_rows.h"

#include <algorithm>

namespace qdiff {

ExampleRowKey ExampleKeyOf(const DiscrepancyRow& row) {
  return {row.engine, row.layer_op, row.scheme, row.cls, row.layer, row.index};
}

bool ExampleRowBound::Keep(const std::string& case_id, const ExampleRowKey& row) {
  if (row.cls == DiffClass::kLibTorchBug) {
    if (case_id != bug_case_) {
      bug_case_ = case_id;
      bug_elements_.clear();
    }
    if (!bug_elements_.insert({row.engine, row.layer, row.index}).second) return false;
  }
  key_.assign(row.engine).append(1, '\x1f').append(row.layer_op).append(1, '\x1f').append(row.scheme);
  key_.append(1, '\x1f').append(DiffClassName(row.cls));
  auto it = kept_.find(key_);
  if (it == kept_.end()) it = kept_.emplace(key_, 0).first;
  int64_t& kept = it->second;
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

std::string CaseExampleBound::Group(const CaseRow& r) {
  std::string key;
  key.assign(r.engine).append(1, '\x1f').append(r.scheme).append(1, '\x1f').append(VerdictName(r.verdict));
  return key.append(1, '\x1f').append(r.op, 0, r.op.find('>'));
}

bool CaseExampleBound::Keep(int64_t index, const std::vector<CaseRow>& rows, bool kept_discrepancies) {
  std::vector<std::string> groups;
  for (const CaseRow& r : rows) groups.push_back(Group(r));
  const bool finding = std::any_of(rows.begin(), rows.end(), [](const CaseRow& r) { return IsFinding(r.verdict); });
  return Keep(index, groups, finding, kept_discrepancies);
}

bool CaseExampleBound::Keep(int64_t index, const std::vector<std::string>& groups, bool finding,
                            bool kept_discrepancies) {
  bool keep = index < all_rows_cases_ || kept_discrepancies || finding;
  std::vector<int64_t*> counts;  // node-based map: the pointers stay valid while it grows
  for (const std::string& group : groups) {
    counts.push_back(&kept_[group]);
    keep = keep || *counts.back() < max_per_group_;
  }
  if (!keep) return false;
  for (int64_t* n : counts) ++*n;
  return true;
}

int64_t CaseIndexOfId(const std::string& id) {
  const size_t at = id.rfind("-c");
  if (at == std::string::npos || at + 2 == id.size() || id.size() - at > 20) return -1;
  int64_t index = 0;
  for (size_t i = at + 2; i < id.size(); ++i) {
    if (id[i] < '0' || id[i] > '9') return -1;
    index = index * 10 + (id[i] - '0');
  }
  return index;
}

}  // namespace qdiff
