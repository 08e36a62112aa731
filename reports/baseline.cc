#include "reports/baseline.h"

#include <algorithm>
#include <cstddef>
#include <map>
#include <set>

#include "reports/merge.h"  // CaseIdLess

namespace qdiff {

namespace {

using Key3 = std::tuple<std::string, std::string, std::string>;

struct IdLess {
  bool operator()(const std::string& a, const std::string& b) const { return CaseIdLess(a, b); }
};

struct Tally {
  std::set<std::string, IdLess> case_ids;
  int64_t elements = 0;
};

// Per signature, the cases that show it and their unexplained elements (the case rows' exact
// class counts; discrepancy rows are examples and only checked to join a case row).
std::map<FindingSignature, Tally> Findings(const Report& r, const std::string& which) {
  std::map<FindingSignature, Tally> out;
  std::set<Key3> keys;  // (case_id, engine, scheme)
  for (const CaseRow& c : r.cases) {
    keys.insert(Key3{c.case_id, c.engine, c.scheme});
    if (IsFinding(c.verdict)) {
      out[FindingSignature{c.op, c.engine, c.scheme, VerdictName(c.verdict)}].case_ids.insert(c.case_id);
    }
    for (const ClassCount& k : ParseClassCounts(c.classes)) {
      if (k.cls != DiffClass::kUnexplained) continue;
      Tally& t = out[FindingSignature{c.op, c.engine, c.scheme, "unexplained"}];
      t.case_ids.insert(c.case_id);
      t.elements += k.count;
    }
  }
  for (const DiscrepancyRow& d : r.discrepancies) {
    if (!keys.count(Key3{d.case_id, d.engine, d.scheme})) {
      throw ReportError("baseline comparison: a discrepancy of case " + d.case_id + " (engine " +
                        d.engine + ", scheme " + d.scheme + ") in the " + which +
                        " report has no case row");
    }
  }
  return out;
}

std::string Pad(const std::string& s, std::size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

std::string Ids(const std::vector<std::string>& ids) {
  std::string out;
  for (std::size_t i = 0; i < ids.size() && i < 5; ++i) out += (i == 0 ? "" : ", ") + ids[i];
  if (ids.size() > 5) out += ", ...";
  return out;
}

}  // namespace

BaselineDiff CompareWithBaseline(const Report& current, const Report& baseline) {
  const auto cur = Findings(current, "current");
  const auto base = Findings(baseline, "baseline");
  std::set<FindingSignature> all;
  for (const auto& [sig, t] : cur) all.insert(sig);
  for (const auto& [sig, t] : base) all.insert(sig);
  BaselineDiff diff;
  for (const FindingSignature& sig : all) {
    SignatureDelta delta;
    delta.signature = sig;
    auto c = cur.find(sig);
    auto b = base.find(sig);
    if (c != cur.end()) {
      delta.current_cases = static_cast<int64_t>(c->second.case_ids.size());
      delta.current_elements = c->second.elements;
      delta.current_case_ids.assign(c->second.case_ids.begin(), c->second.case_ids.end());
    }
    if (b != base.end()) {
      delta.baseline_cases = static_cast<int64_t>(b->second.case_ids.size());
      delta.baseline_elements = b->second.elements;
      delta.baseline_case_ids.assign(b->second.case_ids.begin(), b->second.case_ids.end());
    }
    if (c != cur.end() && b != base.end()) {
      diff.persisting.push_back(std::move(delta));
    } else if (c != cur.end()) {
      diff.new_findings.push_back(std::move(delta));
    } else {
      diff.fixed.push_back(std::move(delta));
    }
  }
  return diff;
}

std::string FormatBaselineDiff(const BaselineDiff& diff) {
  std::size_t w_op = 0, w_engine = 0, w_scheme = 0, w_cls = 0;
  for (const auto* list : {&diff.new_findings, &diff.fixed, &diff.persisting}) {
    for (const SignatureDelta& d : *list) {
      w_op = std::max(w_op, d.signature.op.size());
      w_engine = std::max(w_engine, d.signature.engine.size());
      w_scheme = std::max(w_scheme, d.signature.scheme.size());
      w_cls = std::max(w_cls, d.signature.cls.size());
    }
  }
  std::string out;
  auto section = [&](const std::string& title, const std::vector<SignatureDelta>& list,
                     bool baseline_ids) {
    out += title + " (" + std::to_string(list.size()) + "):\n";
    if (list.empty()) out += "  none\n";
    for (const SignatureDelta& d : list) {
      std::string line = "  " + Pad(d.signature.op, w_op) + "  " +
                         Pad(d.signature.engine, w_engine) + "  " +
                         Pad(d.signature.scheme, w_scheme) + "  " + Pad(d.signature.cls, w_cls) +
                         "  cases " + std::to_string(d.baseline_cases) + " -> " +
                         std::to_string(d.current_cases);
      if (d.signature.cls == "unexplained") {
        line += "  elements " + std::to_string(d.baseline_elements) + " -> " +
                std::to_string(d.current_elements);
      }
      const auto& ids = baseline_ids ? d.baseline_case_ids : d.current_case_ids;
      if (!ids.empty()) line += "  " + Ids(ids);
      out += line + "\n";
    }
  };
  section("new findings", diff.new_findings, false);
  section("fixed", diff.fixed, true);
  section("persisting", diff.persisting, false);
  return out;
}

}  // namespace qdiff
