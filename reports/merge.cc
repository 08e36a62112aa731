#include "reports/merge.h"

#include "reports/example_rows.h"
#include "reports/run_record.h"

#include <algorithm>
#include <cstddef>
#include <map>
#include <set>
#include <tuple>
#include <utility>

namespace qdiff {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// -1, 0, 1 like strcmp, digit runs by numeric value.
int NaturalCompare(const std::string& a, const std::string& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (IsDigit(a[i]) && IsDigit(b[j])) {
      std::size_t ie = i, je = j;
      while (ie < a.size() && IsDigit(a[ie])) ++ie;
      while (je < b.size() && IsDigit(b[je])) ++je;
      std::size_t is = i, js = j;  // skip leading zeros
      while (is + 1 < ie && a[is] == '0') ++is;
      while (js + 1 < je && b[js] == '0') ++js;
      const std::size_t la = ie - is, lb = je - js;
      if (la != lb) return la < lb ? -1 : 1;
      const int c = a.compare(is, la, b, js, lb);
      if (c != 0) return c < 0 ? -1 : 1;
      i = ie;
      j = je;
    } else {
      if (a[i] != b[j]) {
        return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]) ? -1 : 1;
      }
      ++i;
      ++j;
    }
  }
  if (i < a.size()) return 1;
  if (j < b.size()) return -1;
  return 0;
}

using Key3 = std::tuple<std::string, std::string, std::string>;

std::string Describe(const Key3& k) {
  return "case " + std::get<0>(k) + " (engine " + std::get<1>(k) + ", scheme " + std::get<2>(k) +
         ")";
}

}  // namespace

bool CaseIdLess(const std::string& a, const std::string& b) {
  const int c = NaturalCompare(a, b);
  if (c != 0) return c < 0;
  return a < b;
}

Report MergeReports(const std::vector<Report>& shards, const std::vector<std::string>& names,
                    int64_t max_example_rows, int64_t all_rows_cases) {
  if (names.size() != shards.size()) {
    throw ReportError("merge: " + std::to_string(shards.size()) + " shards but " +
                      std::to_string(names.size()) + " names");
  }
  Report out;
  std::map<Key3, std::size_t> owner;  // (case_id, engine, scheme) -> shard
  for (std::size_t s = 0; s < shards.size(); ++s) {
    for (const CaseRow& c : shards[s].cases) {
      const Key3 key{c.case_id, c.engine, c.scheme};
      auto [it, inserted] = owner.emplace(key, s);
      if (!inserted) {
        if (it->second == s) {
          throw ReportError("merge: " + Describe(key) + " occurs twice in " + names[s]);
        }
        throw ReportError("merge: " + Describe(key) + " occurs in two shards: " +
                          names[it->second] + " and " + names[s]);
      }
      out.cases.push_back(c);
    }
  }
  for (std::size_t s = 0; s < shards.size(); ++s) {
    for (const DiscrepancyRow& d : shards[s].discrepancies) {
      const Key3 key{d.case_id, d.engine, d.scheme};
      auto it = owner.find(key);
      if (it == owner.end() || it->second != s) {
        throw ReportError("merge: a discrepancy of " + Describe(key) + " in " + names[s] +
                          " has no case row in that shard" +
                          (it == owner.end() ? "" : " (its case row is in " +
                                                        names[it->second] + ")"));
      }
      out.discrepancies.push_back(d);
    }
  }
  auto key_less = [](const std::string& id_a, const std::string& eng_a, const std::string& sch_a,
                     const std::string& id_b, const std::string& eng_b,
                     const std::string& sch_b) -> int {
    if (id_a != id_b) return CaseIdLess(id_a, id_b) ? -1 : 1;
    if (eng_a != eng_b) return eng_a < eng_b ? -1 : 1;
    if (sch_a != sch_b) return sch_a < sch_b ? -1 : 1;
    return 0;
  };
  std::sort(out.cases.begin(), out.cases.end(), [&](const CaseRow& a, const CaseRow& b) {
    return key_less(a.case_id, a.engine, a.scheme, b.case_id, b.engine, b.scheme) < 0;
  });
  std::stable_sort(out.discrepancies.begin(), out.discrepancies.end(),
                   [&](const DiscrepancyRow& a, const DiscrepancyRow& b) {
                     const int c =
                         key_less(a.case_id, a.engine, a.scheme, b.case_id, b.engine, b.scheme);
                     if (c != 0) return c < 0;
                     return std::tie(a.layer, a.index) < std::tie(b.layer, b.index);
                   });
  // Each shard kept the first rows of each group among its own cases, so the merged run's first
  // max_example_rows of a group are among them: the bound again, in the run's order.
  ExampleRowBound bound(max_example_rows);
  out.discrepancies.erase(std::remove_if(out.discrepancies.begin(), out.discrepancies.end(),
                                         [&](const DiscrepancyRow& d) { return !bound.Keep(d); }),
                          out.discrepancies.end());
  std::set<std::string> with_examples;
  for (const DiscrepancyRow& d : out.discrepancies) with_examples.insert(d.case_id);
  CaseExampleBound case_bound(all_rows_cases, max_example_rows);
  std::vector<CaseRow> kept;
  for (size_t c = 0; c < out.cases.size();) {
    size_t end = c;
    while (end < out.cases.size() && out.cases[end].case_id == out.cases[c].case_id) ++end;
    const std::vector<CaseRow> one(out.cases.begin() + c, out.cases.begin() + end);
    if (case_bound.Keep(CaseIndexOfId(one[0].case_id), one, with_examples.count(one[0].case_id) > 0)) {
      kept.insert(kept.end(), one.begin(), one.end());
    }
    c = end;
  }
  out.cases = std::move(kept);
  const bool counted = std::all_of(shards.begin(), shards.end(), [](const Report& r) { return r.summary && r.layer_summary; });
  if (counted) {
    out.summary.emplace();
    out.layer_summary.emplace();
    for (const Report& r : shards) {
      out.summary = AddCounts(*out.summary, *r.summary);
      out.layer_summary = AddCounts(*out.layer_summary, *r.layer_summary);
    }
  }
  return out;
}

Report MergeShards(const std::vector<std::string>& dirs, int64_t max_example_rows, int64_t all_rows_cases) {
  if (dirs.empty()) throw ReportError("merge: no shard folders given");
  std::vector<Report> shards;
  shards.reserve(dirs.size());
  for (const std::string& dir : dirs) shards.push_back(LoadRunFolder(dir));
  return MergeReports(shards, dirs, max_example_rows, all_rows_cases);
}

}  // namespace qdiff
