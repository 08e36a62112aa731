#include "reports/html_report.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <tuple>

#include "reports/junit.h"  // XmlEscape
#include "reports/merge.h"  // CaseIdLess
#include "reports/summary.h"

namespace qdiff {

namespace {

using Key3 = std::tuple<std::string, std::string, std::string>;

std::string Esc(const std::string& s) { return XmlEscape(s); }
std::string Num(int64_t n) { return std::to_string(n); }
std::string Elements(int64_t n) { return Num(n) + (n == 1 ? " element" : " elements"); }

const char kStyle[] =
    "body { font-family: sans-serif; margin: 1.5em; color: #222; }\n"
    "table { border-collapse: collapse; margin: 0.5em 0 1em 0; }\n"
    "th, td { border: 1px solid #bbb; padding: 2px 6px; text-align: right; }\n"
    "th.t, td.t { text-align: left; }\n"
    "td.bad { background: #f8d0d0; font-weight: bold; }\n"
    "td.sep, th.sep { border-left: 3px solid #666; }\n"
    "figure { display: inline-block; margin: 0 1em 1em 0; vertical-align: top; }\n"
    "figcaption { font-size: 0.85em; text-align: center; }\n"
    "code { background: #f2f2f2; padding: 0 3px; }\n"
    "svg text { font-size: 10px; font-family: sans-serif; }\n"
    ".bar { fill: #4a78b5; }\n"
    ".bar.unexplained { fill: #c23b3b; }\n";


bool IsFindingVerdict(const std::string& v) {
  const std::optional<Verdict> verdict = ParseVerdict(v);
  return verdict && IsFinding(*verdict);
}

struct Bar {
  std::string label;    // under the bar
  std::string tooltip;  // <title>
  int64_t count = 0;
};

// A small bar chart; bar heights are integer pixels (no floating point formatting).
std::string BarChart(const std::vector<Bar>& bars, const std::string& aria_label,
                     const std::string& bar_class) {
  const int64_t bar_w = 22, step = 28, left = 8, plot_h = 90, top = 16;
  const int64_t width = left * 2 + step * static_cast<int64_t>(bars.size());
  const int64_t height = top + plot_h + 30;
  int64_t max_count = 0;
  for (const Bar& b : bars) max_count = std::max(max_count, b.count);
  std::string s = "<svg width=\"" + Num(width) + "\" height=\"" + Num(height) +
                  "\" viewBox=\"0 0 " + Num(width) + " " + Num(height) +
                  "\" role=\"img\" aria-label=\"" + Esc(aria_label) + "\">\n";
  const int64_t base = top + plot_h;
  s += "<line x1=\"" + Num(left - 2) + "\" y1=\"" + Num(base) + "\" x2=\"" +
       Num(width - left + 2) + "\" y2=\"" + Num(base) + "\" stroke=\"#444\"/>\n";
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const Bar& b = bars[i];
    const int64_t x = left + step * static_cast<int64_t>(i) + (step - bar_w) / 2;
    int64_t h = max_count == 0 ? 0 : (b.count * plot_h + max_count - 1) / max_count;
    if (b.count > 0) h = std::max<int64_t>(h, 1);
    const int64_t cx = x + bar_w / 2;
    s += "<rect class=\"" + Esc(bar_class) + "\" x=\"" + Num(x) + "\" y=\"" + Num(base - h) +
         "\" width=\"" + Num(bar_w) + "\" height=\"" + Num(h) + "\"><title>" + Esc(b.tooltip) +
         "</title></rect>\n";
    s += "<text x=\"" + Num(cx) + "\" y=\"" + Num(base - h - 3) +
         "\" text-anchor=\"middle\">" + Num(b.count) + "</text>\n";
    s += "<text x=\"" + Num(cx) + "\" y=\"" + Num(base + 13) + "\" text-anchor=\"middle\">" +
         Esc(b.label) + "</text>\n";
  }
  s += "</svg>";
  return s;
}

// Histogram bin of |diff|: 0 -> "0" (index 0), 1, 2, 3, 4-7, ..., 64-127, 128+.
std::size_t BinOf(int64_t abs_diff) {
  if (abs_diff <= 3) return static_cast<std::size_t>(abs_diff);
  std::size_t bin = 4;  // 4-7
  int64_t lo = 8;
  while (abs_diff >= lo && bin < 9) {
    ++bin;
    lo *= 2;
  }
  return bin;  // 9 = 128+
}

const std::vector<std::string>& BinLabels() {
  static const std::vector<std::string> v = {"0",     "1",     "2",      "3",   "4-7",
                                             "8-15",  "16-31", "32-63", "64-127", "128+"};
  return v;
}

int64_t Abs(int64_t v) {
  // |INT64_MIN| does not fit; it lands in the last bin anyway.
  return v < 0 ? (v == INT64_MIN ? INT64_MAX : -v) : v;
}

std::string SummaryTable(const std::vector<SummaryRow>& summary) {
  struct Group {
    std::map<std::string, int64_t> verdicts, classes;
  };
  std::map<Key3, Group> groups;
  std::vector<std::string> verdict_cols = TableVerdictColumns();
  std::set<std::string> extra, class_cols;
  for (const SummaryRow& r : summary) {
    Group& g = groups[Key3{r.op, r.engine, r.scheme}];
    if (r.kind == "verdict") {
      g.verdicts[r.name] += r.count;
      if (std::find(verdict_cols.begin(), verdict_cols.end(), r.name) == verdict_cols.end()) {
        extra.insert(r.name);
      }
    } else {
      g.classes[r.name] += r.count;
      class_cols.insert(r.name);
    }
  }
  verdict_cols.insert(verdict_cols.end(), extra.begin(), extra.end());
  if (groups.empty()) return "<p>No cases.</p>\n";
  std::string s = "<table>\n";
  if (!class_cols.empty()) {
    s += "<tr><th class=\"t\" colspan=\"" + Num(static_cast<int64_t>(4 + verdict_cols.size())) +
         "\">cases per verdict</th><th class=\"sep\" colspan=\"" +
         Num(static_cast<int64_t>(class_cols.size())) + "\">elements per class</th></tr>\n";
  }
  s += "<tr><th class=\"t\">op</th><th class=\"t\">engine</th>"
       "<th class=\"t\">scheme</th><th>cases</th>";
  for (const std::string& v : verdict_cols) s += "<th>" + Esc(v) + "</th>";
  bool first = true;
  for (const std::string& c : class_cols) {
    s += std::string(first ? "<th class=\"sep\">" : "<th>") + Esc(c) + "</th>";
    first = false;
  }
  s += "</tr>\n";
  for (const auto& [key, g] : groups) {
    int64_t total = 0;
    for (const auto& [v, n] : g.verdicts) total += n;
    s += "<tr><td class=\"t\">" + Esc(std::get<0>(key)) + "</td><td class=\"t\">" +
         Esc(std::get<1>(key)) + "</td><td class=\"t\">" + Esc(std::get<2>(key)) + "</td><td>" +
         Num(total) + "</td>";
    for (const std::string& v : verdict_cols) {
      auto it = g.verdicts.find(v);
      const int64_t n = it == g.verdicts.end() ? 0 : it->second;
      const bool bad = n > 0 && IsFindingVerdict(v);
      s += std::string(bad ? "<td class=\"bad\">" : "<td>") + Num(n) + "</td>";
    }
    first = true;
    for (const std::string& c : class_cols) {
      auto it = g.classes.find(c);
      const int64_t n = it == g.classes.end() ? 0 : it->second;
      std::string cls = first ? "sep" : "";
      if (n > 0 && c == "unexplained") cls += cls.empty() ? "bad" : " bad";
      s += (cls.empty() ? std::string("<td>") : "<td class=\"" + cls + "\">") + Num(n) + "</td>";
      first = false;
    }
    s += "</tr>\n";
  }
  s += "</table>\n";
  return s;
}

std::string Histograms(const RunData& run) {
  std::map<Key3, std::string> op_of;
  for (const CaseRow& c : run.cases) op_of.emplace(Key3{c.case_id, c.engine, c.scheme}, c.op);
  std::map<Key3, std::vector<int64_t>> hist;  // (op, engine, scheme) -> bins
  std::map<Key3, int64_t> unexplained;
  for (const DiscrepancyRow& d : run.discrepancies) {
    auto it = op_of.find(Key3{d.case_id, d.engine, d.scheme});
    if (it == op_of.end()) continue;  // Summarize has already rejected this
    const Key3 key{it->second, d.engine, d.scheme};
    auto& bins = hist[key];
    bins.resize(BinLabels().size(), 0);
    ++bins[BinOf(Abs(d.diff_lsb))];
    if (d.cls == DiffClass::kUnexplained) ++unexplained[key];
  }
  if (hist.empty()) return "<p>No differing elements.</p>\n";
  std::string s;
  for (const auto& [key, bins] : hist) {
    const auto& [op, engine, scheme] = key;
    const std::string title = op + " / " + engine + " / " + scheme;
    std::vector<Bar> bars;
    for (std::size_t i = 0; i < bins.size(); ++i) {
      if (i == 0 && bins[0] == 0) continue;
      bars.push_back({BinLabels()[i], "|diff| " + BinLabels()[i] + " LSB: " + Elements(bins[i]),
                    bins[i]});
    }
    int64_t total = 0;
    for (int64_t n : bins) total += n;
    const bool bad = unexplained.count(key) > 0;
    s += "<figure>\n" +
         BarChart(bars, "histogram of |diff_lsb| for " + title, bad ? "bar unexplained" : "bar") +
         "\n<figcaption>" + Esc(title) + "<br/>" + Elements(total) + ", |diff| in LSB" +
         (bad ? ", " + Num(unexplained.at(key)) + " unexplained" : std::string()) +
         "</figcaption>\n</figure>\n";
  }
  return s;
}

std::string Findings(const RunData& run) {
  struct Finding {
    std::set<std::string> ops;
    std::set<std::string> shapes;
    std::vector<std::string> verdicts;  // "engine/scheme: verdict"
    int64_t unexplained_elements = 0;
    int64_t max_abs_diff = 0;
  };
  auto less = [](const std::string& a, const std::string& b) { return CaseIdLess(a, b); };
  std::map<std::string, Finding, decltype(less)> findings(less);
  for (const CaseRow& c : run.cases) {
    if (!IsFinding(c.verdict)) continue;
    Finding& f = findings[c.case_id];
    f.ops.insert(c.op);
    if (!c.shape.empty()) f.shapes.insert(c.shape);
    f.verdicts.push_back(c.engine + "/" + c.scheme + ": " + VerdictName(c.verdict));
    f.max_abs_diff = std::max(f.max_abs_diff, c.max_abs_diff_lsb.value_or(0));
  }
  if (findings.empty()) return "<p>No findings.</p>\n";
  for (const DiscrepancyRow& d : run.discrepancies) {
    if (d.cls != DiffClass::kUnexplained) continue;
    auto it = findings.find(d.case_id);
    if (it != findings.end()) ++it->second.unexplained_elements;
  }
  auto join = [](const auto& items, const std::string& sep) {
    std::string out;
    for (const std::string& x : items) out += (out.empty() ? "" : sep) + x;
    return out;
  };
  std::string s = "<table>\n<tr><th class=\"t\">case</th><th class=\"t\">op</th>"
                  "<th class=\"t\">engine/scheme: verdict</th><th>unexplained elements</th>"
                  "<th>max |diff| LSB</th><th class=\"t\">shape</th>"
                  "<th class=\"t\">replay</th></tr>\n";
  for (auto& [id, f] : findings) {
    std::sort(f.verdicts.begin(), f.verdicts.end());
    s += "<tr><td class=\"t\">" + Esc(id) + "</td><td class=\"t\">" + Esc(join(f.ops, ", ")) +
         "</td><td class=\"t\">" + Esc(join(f.verdicts, "; ")) + "</td><td>" +
         Num(f.unexplained_elements) + "</td><td>" + Num(f.max_abs_diff) +
         "</td><td class=\"t\">" + Esc(join(f.shapes, "; ")) + "</td><td class=\"t\"><code>" +
         Esc("qdiff replay findings/" + id + ".json") + "</code></td></tr>\n";
  }
  s += "</table>\n";
  return s;
}

std::string Rejections(const RunData& run) {
  // (op, engine, scheme) -> LibTorch message -> cases
  std::map<Key3, std::map<std::string, int64_t>> rejected;
  for (const CaseRow& c : run.cases) {
    if (c.verdict == Verdict::kRejected) ++rejected[Key3{c.op, c.engine, c.scheme}][c.message];
  }
  if (rejected.empty()) return "<p>None.</p>\n";
  std::string s = "<table>\n<tr><th class=\"t\">op</th><th class=\"t\">engine</th>"
                  "<th class=\"t\">scheme</th><th>cases</th>"
                  "<th class=\"t\">LibTorch message</th></tr>\n";
  for (const auto& [key, messages] : rejected) {
    for (const auto& [message, n] : messages) {
      s += "<tr><td class=\"t\">" + Esc(std::get<0>(key)) + "</td><td class=\"t\">" +
           Esc(std::get<1>(key)) + "</td><td class=\"t\">" + Esc(std::get<2>(key)) +
           "</td><td>" + Num(n) + "</td><td class=\"t\">" + Esc(message) + "</td></tr>\n";
    }
  }
  s += "</table>\n";
  return s;
}

std::string ClassesOverRuns(const std::vector<RunData>& runs) {
  std::map<std::string, std::vector<int64_t>> per_class;  // class -> count per run
  for (std::size_t r = 0; r < runs.size(); ++r) {
    for (const DiscrepancyRow& d : runs[r].discrepancies) {
      auto& v = per_class[DiffClassName(d.cls)];
      v.resize(runs.size(), 0);
      ++v[r];
    }
  }
  std::string s = "<section>\n<h2>Classes over runs</h2>\n";
  if (per_class.empty()) return s + "<p>No differing elements in any run.</p>\n</section>\n";
  for (const auto& [cls, counts] : per_class) {
    std::vector<Bar> bars;
    for (std::size_t r = 0; r < runs.size(); ++r) {
      bars.push_back({Num(static_cast<int64_t>(r + 1)),
                      runs[r].name + ": " + Elements(counts[r]) + " of class " + cls, counts[r]});
    }
    s += "<figure>\n" +
         BarChart(bars, "elements of class " + cls + " per run",
                  cls == "unexplained" ? "bar unexplained" : "bar") +
         "\n<figcaption>" + Esc(cls) + " (elements per run)</figcaption>\n</figure>\n";
  }
  s += "<table>\n<tr><th>#</th><th class=\"t\">run</th>";
  for (const auto& [cls, counts] : per_class) s += "<th>" + Esc(cls) + "</th>";
  s += "</tr>\n";
  for (std::size_t r = 0; r < runs.size(); ++r) {
    s += "<tr><td>" + Num(static_cast<int64_t>(r + 1)) + "</td><td class=\"t\">" +
         Esc(runs[r].name) + "</td>";
    for (const auto& [cls, counts] : per_class) s += "<td>" + Num(counts[r]) + "</td>";
    s += "</tr>\n";
  }
  s += "</table>\n</section>\n";
  return s;
}

}  // namespace

std::string FormatHtmlReport(const std::vector<RunData>& runs) {
  std::string s =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
      "<title>qdiff report</title>\n<style>\n";
  s += kStyle;
  s += "</style>\n</head>\n<body>\n<h1>qdiff report</h1>\n";
  if (runs.empty()) return s + "<p>No runs.</p>\n</body>\n</html>\n";
  s += "<p>" + Num(static_cast<int64_t>(runs.size())) + (runs.size() == 1 ? " run" : " runs") +
       ": ";
  for (std::size_t r = 0; r < runs.size(); ++r) s += (r == 0 ? "" : ", ") + Esc(runs[r].name);
  s += "</p>\n";
  if (runs.size() > 1) s += ClassesOverRuns(runs);
  for (const RunData& run : runs) {
    const std::vector<SummaryRow> summary = Summarize(run.cases, run.discrepancies);
    s += "<section>\n<h2>Run " + Esc(run.name) + "</h2>\n";
    s += "<h3>Summary</h3>\n" + SummaryTable(summary);
    s += "<h3>|diff_lsb| per op, engine, scheme</h3>\n" + Histograms(run);
    s += "<h3>Findings</h3>\n" + Findings(run);
    s += "<h3>Rejected by LibTorch</h3>\n" + Rejections(run);
    s += "</section>\n";
  }
  s += "</body>\n</html>\n";
  return s;
}

}  // namespace qdiff
