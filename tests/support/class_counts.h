// Hand-made report rows for tests: the case rows' exact class counts (`classes`,
// `layer_classes`), which the evaluation fills, derived here from discrepancy rows that list every
// differing element, so a test can state its rows once.
#pragma once

#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "reports/rows.h"
#include "reports/schema.h"

namespace qdiff {

inline std::vector<CaseRow> WithClassCounts(std::vector<CaseRow> cases, const std::vector<DiscrepancyRow>& discs) {
  using Key = std::tuple<std::string, std::string, std::string>;  // case_id, engine, scheme
  std::map<Key, std::map<std::string, int64_t>> classes;
  std::map<Key, std::map<std::pair<int64_t, std::string>, int64_t>> layer_classes;
  for (const DiscrepancyRow& d : discs) {
    const Key key{d.case_id, d.engine, d.scheme};
    ++classes[key][DiffClassName(d.cls)];
    ++layer_classes[key][{d.layer, DiffClassName(d.cls)}];
  }
  for (CaseRow& c : cases) {
    const Key key{c.case_id, c.engine, c.scheme};
    c.classes.clear();
    for (const auto& [name, n] : classes[key]) c.classes += (c.classes.empty() ? "" : ";") + name + ":" + std::to_string(n);
    c.layer_classes = FormatLayerClassCounts(layer_classes[key]);
  }
  return cases;
}

}  // namespace qdiff
