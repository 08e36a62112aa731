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
    ".bar.unexplained { fill: #c23b3b; }\n"
    "svg text.axis { font-size: 12px; }\n"
    ".panels { display: flex; flex-wrap: wrap; gap: 1em; }\n"
    ".panel { flex: 1 1 0; border: 2px solid #bbb; border-radius: 6px; padding: 0 1em; min-width: 22em; }\n"
    ".panel.fail { border-color: #c23b3b; background: #fdf0f0; }\n"
    ".panel.pass { border-color: #2e8b57; background: #f0faf3; }\n"
    "td.o-unexplained { background: #e06666; color: #fff; font-weight: bold; }\n"
    "td.o-crashed { background: #7b2d8b; color: #fff; }\n"
    "td.o-bug { background: #f6b26b; }\n"
    "td.o-explained { background: #ffe599; }\n"
    "td.o-exact { background: #b6d7a8; }\n"
    "td.o-none { background: #eee; color: #777; }\n"
    ".legend span { margin-right: 1em; }\n"
    ".legend i { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.3em; }\n"
    "p.note { font-size: 0.85em; color: #555; }\n";


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

// Every class, in vocabulary order, and a fill colour each (unexplained red, libtorch_bug orange).
constexpr int kClassCount = static_cast<int>(DiffClass::kUnexplained) + 1;
const char* ClassColour(int cls) {
  static const char* const kColours[kClassCount] = {
      "#8c6d31", "#bd9e39", "#4a78b5", "#6baed6", "#9467bd", "#17becf",
      "#2ca02c", "#98df8a", "#7f7f7f", "#ff7f0e", "#bcbd22", "#c23b3b"};
  return kColours[cls];
}

// A step of 1, 2 or 5 × 10^k that divides [0, max] into at most 5 intervals.
int64_t TickStep(int64_t max) {
  int64_t step = 1;
  for (;;) {
    for (int64_t m : {1, 2, 5}) {
      if (step * m * 5 >= max) return step * m;
    }
    step *= 10;
  }
}

// One engine's |diff_lsb| histogram over every column, bars stacked by class (counts[bin][cls]).
// Integer pixel geometry; the axes are labelled, x labels sit in 44-pixel columns (no overlap).
std::string StackedHistogram(const std::vector<std::vector<int64_t>>& counts, const std::string& engine) {
  std::vector<std::size_t> bins;
  for (std::size_t b = 0; b < counts.size(); ++b) {
    int64_t n = 0;
    for (int64_t c : counts[b]) n += c;
    if (b > 0 || n > 0) bins.push_back(b);  // the 0 bin only if some element sits there
  }
  int64_t max_total = 0;
  for (std::size_t b : bins) {
    int64_t n = 0;
    for (int64_t c : counts[b]) n += c;
    max_total = std::max(max_total, n);
  }
  const int64_t step = TickStep(std::max<int64_t>(max_total, 1));
  const int64_t y_max = std::max<int64_t>(step, (max_total + step - 1) / step * step);
  const int64_t left = 70, top = 12, plot_h = 160, col = 44, bar_w = 30;
  const int64_t plot_w = col * static_cast<int64_t>(bins.size());
  const int64_t width = left + plot_w + 12, height = top + plot_h + 44, base = top + plot_h;
  auto y_of = [&](int64_t v) { return base - (v * plot_h + y_max / 2) / y_max; };
  std::string s = "<svg width=\"" + Num(width) + "\" height=\"" + Num(height) + "\" viewBox=\"0 0 " +
                  Num(width) + " " + Num(height) + "\" role=\"img\" aria-label=\"" +
                  Esc("|diff| histogram of " + engine + ", stacked by class") + "\">\n";
  for (int64_t v = 0; v <= y_max; v += step) {  // y ticks and grid
    const int64_t y = y_of(v);
    s += "<line x1=\"" + Num(left - 4) + "\" y1=\"" + Num(y) + "\" x2=\"" + Num(left + plot_w) + "\" y2=\"" +
         Num(y) + "\" stroke=\"" + (v == 0 ? "#444" : "#ddd") + "\"/>\n";
    // At most 4 digits and a suffix, so labels never reach the axis title (step divides v).
    const std::string label = step % 1000000 == 0 ? Num(v / 1000000) + (v ? "M" : "")
                              : step % 1000 == 0  ? Num(v / 1000) + (v ? "k" : "")
                                                  : Num(v);
    s += "<text x=\"" + Num(left - 7) + "\" y=\"" + Num(y + 3) + "\" text-anchor=\"end\">" + label + "</text>\n";
  }
  s += "<line x1=\"" + Num(left) + "\" y1=\"" + Num(top) + "\" x2=\"" + Num(left) + "\" y2=\"" + Num(base) +
       "\" stroke=\"#444\"/>\n";
  s += "<text class=\"axis\" transform=\"translate(14," + Num(top + plot_h / 2) +
       ") rotate(-90)\" text-anchor=\"middle\">elements</text>\n";
  for (std::size_t i = 0; i < bins.size(); ++i) {
    const std::size_t b = bins[i];
    const int64_t x = left + col * static_cast<int64_t>(i) + (col - bar_w) / 2;
    int64_t below = 0;
    for (int cls = 0; cls < kClassCount; ++cls) {
      const int64_t n = counts[b][static_cast<std::size_t>(cls)];
      if (n == 0) continue;
      const int64_t y0 = y_of(below), y1 = std::min(y_of(below + n), y0 - 1);  // at least 1 px
      s += "<rect x=\"" + Num(x) + "\" y=\"" + Num(y1) + "\" width=\"" + Num(bar_w) + "\" height=\"" +
           Num(y0 - y1) + "\" fill=\"" + ClassColour(cls) + "\"><title>" +
           Esc(DiffClassName(static_cast<DiffClass>(cls)) + std::string(", |diff| ") + BinLabels()[b] +
               " LSB: " + Elements(n)) +
           "</title></rect>\n";
      below += n;
    }
    s += "<text x=\"" + Num(left + col * static_cast<int64_t>(i) + col / 2) + "\" y=\"" + Num(base + 14) +
         "\" text-anchor=\"middle\">" + Esc(BinLabels()[b]) + "</text>\n";
  }
  s += "<text class=\"axis\" x=\"" + Num(left + plot_w / 2) + "\" y=\"" + Num(base + 36) +
       "\" text-anchor=\"middle\">|diff| (LSB)</text>\n</svg>";
  return s;
}

std::string Histograms(const RunData& run, const std::vector<std::string>& engines) {
  std::map<std::string, std::vector<std::vector<int64_t>>> per_engine;  // engine → bin → class
  std::set<int> present;
  for (const DiscrepancyRow& d : run.discrepancies) {
    auto& bins = per_engine[d.engine];
    bins.resize(BinLabels().size(), std::vector<int64_t>(kClassCount, 0));
    ++bins[BinOf(Abs(d.diff_lsb))][static_cast<std::size_t>(d.cls)];
    present.insert(static_cast<int>(d.cls));
  }
  if (per_engine.empty()) return "<p>No differing elements.</p>\n";
  std::string s = "<p class=\"legend\">";
  for (int cls : present) {
    s += "<span><i style=\"background:" + std::string(ClassColour(cls)) + "\"></i>" +
         Esc(DiffClassName(static_cast<DiffClass>(cls))) + "</span> ";
  }
  s += "</p>\n";
  for (const std::string& engine : engines) {
    auto it = per_engine.find(engine);
    if (it == per_engine.end()) continue;
    int64_t total = 0;
    for (const auto& bin : it->second) {
      for (int64_t n : bin) total += n;
    }
    s += "<figure>\n" + StackedHistogram(it->second, engine) + "\n<figcaption>" + Esc(engine) +
         ": " + Elements(total) + " of discrepancies.csv's example rows, every scheme (at most "
         "--max-example-rows per layer op, scheme and class; the tables count every element)</figcaption>\n</figure>\n";
  }
  return s;
}

// The engines of a run: its context's, else those of its rows (sorted).
std::vector<std::string> RunEngines(const RunData& run) {
  if (!run.context.engines.empty()) return run.context.engines;
  std::set<std::string> engines;
  for (const CaseRow& c : run.cases) engines.insert(c.engine);
  return {engines.begin(), engines.end()};
}

// The scheme that models `engine` (context), else the first scheme of its rows.
std::string OwnScheme(const RunData& run, const std::string& engine) {
  auto it = run.context.own_scheme.find(engine);
  if (it != run.context.own_scheme.end()) return it->second;
  for (const CaseRow& c : run.cases) {
    if (c.engine == engine) return c.scheme;
  }
  return "";
}

// Per (op family, engine) on the engine's own scheme: layers per verdict and elements per class.
struct Cell {
  std::map<std::string, int64_t> verdicts, classes;
};
using CellKey = std::pair<std::string, std::string>;

std::map<CellKey, Cell> OwnSchemeCells(const RunData& run, const std::vector<SummaryRow>& layers) {
  std::map<CellKey, Cell> cells;
  for (const SummaryRow& r : layers) {
    if (r.scheme != OwnScheme(run, r.engine)) continue;
    Cell& c = cells[CellKey{OpFamily(r.op), r.engine}];
    (r.kind == "verdict" ? c.verdicts : c.classes)[r.name] += r.count;
  }
  return cells;
}

int64_t Get(const std::map<std::string, int64_t>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? 0 : it->second;
}

std::string VerdictPanels(const RunData& run, const std::vector<SummaryRow>& layers,
                          const std::map<CellKey, Cell>& cells) {
  const auto reproducing = SchemesReproducingEngines(layers);
  std::string s = "<div class=\"panels\">\n";
  for (const std::string& engine : RunEngines(run)) {
    int64_t unexplained = 0, dead = 0, elements = 0;
    std::vector<std::pair<std::string, int64_t>> bugs;  // op, elements
    for (const auto& [key, cell] : cells) {
      if (key.second != engine) continue;
      unexplained += Get(cell.verdicts, "unexplained");
      dead += Get(cell.verdicts, "crashed") + Get(cell.verdicts, "timeout");
      elements += Get(cell.classes, "unexplained");
      if (Get(cell.classes, "libtorch_bug") > 0) bugs.push_back({key.first, Get(cell.classes, "libtorch_bug")});
    }
    const bool fail = unexplained + dead > 0;
    int64_t findings = 0;
    for (const ReportFinding& f : run.context.findings) findings += f.engine == engine || f.engine == "*";
    std::string schemes;
    auto it = reproducing.find(engine);
    if (it != reproducing.end()) {
      for (const std::string& x : it->second) schemes += (schemes.empty() ? "" : ", ") + x;
    }
    s += std::string("<div class=\"panel ") + (fail ? "fail" : "pass") + "\">\n<h3>" + Esc(engine) + ": " +
         (fail ? "FAIL" : "PASS") + "</h3>\n<p>Reproduced bit for bit by: <b>" +
         (schemes.empty() ? std::string("no scheme") : Esc(schemes)) + "</b> (known LibTorch bugs aside)</p>\n";
    auto layers_text = [](int64_t n) { return Num(n) + (n == 1 ? " layer" : " layers"); };
    s += "<p>Unexplained on " + Esc(OwnScheme(run, engine)) + ": " + layers_text(unexplained) + ", " +
         Elements(elements) + (dead ? "; " + layers_text(dead) + " crashed or timed out" : std::string()) +
         "; findings: " + Num(findings) + "</p>\n";
    if (bugs.empty()) {
      s += "<p>Known LibTorch bugs: none seen</p>\n";
    } else {
      s += "<p>Known LibTorch bugs:</p>\n<ul>\n";
      for (const auto& [op, n] : bugs) {
        std::string corpora;
        auto c = run.context.bug_corpora.find(op + "/" + engine);
        if (c != run.context.bug_corpora.end()) {
          for (const std::string& f : c->second) corpora += (corpora.empty() ? "" : ", ") + f;
        }
        s += "<li>" + Esc(op) + ": " + Elements(n) + (corpora.empty() ? "" : " (" + Esc(corpora) + ")") +
             "</li>\n";
      }
      s += "</ul>\n";
    }
    s += "</div>\n";
  }
  return s + "</div>\n";
}

std::string OpEngineMatrix(const RunData& run, const std::map<CellKey, Cell>& cells) {
  const std::vector<std::string> engines = RunEngines(run);
  std::vector<std::string> ops = run.context.ops;
  for (const auto& [key, cell] : cells) {
    if (std::find(ops.begin(), ops.end(), key.first) == ops.end()) ops.push_back(key.first);
  }
  std::string s = "<table class=\"matrix\">\n<tr><th class=\"t\">op</th>";
  for (const std::string& e : engines) s += "<th>" + Esc(e) + " (" + Esc(OwnScheme(run, e)) + ")</th>";
  s += "</tr>\n";
  for (const std::string& op : ops) {
    s += "<tr><td class=\"t\">" + Esc(op) + "</td>";
    for (const std::string& e : engines) {
      auto it = cells.find(CellKey{op, e});
      std::string outcome = "none", text = "not run";
      if (it != cells.end()) {
        const Cell& c = it->second;
        int64_t layers = 0;
        for (const auto& [v, n] : c.verdicts) layers += n;
        const int64_t dead = Get(c.verdicts, "crashed") + Get(c.verdicts, "timeout");
        if (Get(c.verdicts, "unexplained") > 0) {
          outcome = "unexplained";
          text = Num(Get(c.verdicts, "unexplained")) + " unexplained";
        } else if (dead > 0) {
          outcome = "crashed";
          text = Num(dead) + " crashed/timeout";
        } else if (Get(c.classes, "libtorch_bug") > 0) {
          outcome = "bug";
          text = "known bug";
        } else if (Get(c.verdicts, "explained") > 0) {
          outcome = "explained";
          text = Num(Get(c.verdicts, "explained")) + " explained";
        } else if (Get(c.verdicts, "exact") + Get(c.verdicts, "degenerate") > 0) {
          outcome = "exact";
          text = "exact";
        } else {
          outcome = "none";
          text = "rejected";
        }
        text += " / " + Num(layers);
      }
      s += "<td class=\"o-" + outcome + "\">" + Esc(text) + "</td>";
    }
    s += "</tr>\n";
  }
  s += "</table>\n<p class=\"note\">Each cell: layers of the op on the engine, against the engine's own "
       "scheme (outcome / layers).</p>\n";
  return s;
}

std::string GroupedFindings(const RunData& run) {
  if (run.context.findings.empty()) return "<p>No findings.</p>\n";
  std::string s = "<table>\n<tr><th class=\"t\">finding (op/engine/class)</th><th class=\"t\">schemes</th>"
                  "<th>cases</th><th class=\"t\">commands (shrunk case)</th></tr>\n";
  for (const ReportFinding& f : run.context.findings) {
    std::string schemes;
    for (const std::string& x : f.schemes) schemes += (schemes.empty() ? "" : ", ") + x;
    s += "<tr><td class=\"t\">" + Esc(f.key) + "</td><td class=\"t\">" + Esc(schemes) + "</td><td>" +
         Num(f.cases) + "</td><td class=\"t\"><code>" + Esc(f.replay) + "</code>" +
         (f.explain.empty() ? "" : "<br/><code>" + Esc(f.explain) + "</code>") + "</td></tr>\n";
  }
  return s + "</table>\n";
}

// Per engine and LibTorch message: the distinct cases rejected and up to three of their op chains
// (per op chain × scheme the table would grow with the cases; cases.csv has every row).
std::string Rejections(const RunData& run) {
  struct Group {
    std::set<std::string> cases, chains;
  };
  std::map<std::pair<std::string, std::string>, Group> rejected;  // (engine, message)
  for (const CaseRow& c : run.cases) {
    if (c.verdict != Verdict::kRejected) continue;
    Group& g = rejected[{c.engine, c.message}];
    g.cases.insert(c.case_id);
    if (g.chains.size() < 3) g.chains.insert(c.op);
  }
  if (rejected.empty()) return "<p>None.</p>\n";
  std::string s = "<table>\n<tr><th class=\"t\">engine</th><th>cases</th>"
                  "<th class=\"t\">LibTorch message</th><th class=\"t\">op chains (examples)</th></tr>\n";
  for (const auto& [key, g] : rejected) {
    std::string chains;
    for (const std::string& c : g.chains) chains += (chains.empty() ? "" : "; ") + c;
    s += "<tr><td class=\"t\">" + Esc(key.first) + "</td><td>" + Num(static_cast<int64_t>(g.cases.size())) +
         "</td><td class=\"t\">" + Esc(key.second) + "</td><td class=\"t\">" + Esc(chains) + "</td></tr>\n";
  }
  s += "</table>\n";
  return s;
}

std::string ClassesOverRuns(const std::vector<RunData>& runs) {
  std::map<std::string, std::vector<int64_t>> per_class;  // class -> count per run
  for (std::size_t r = 0; r < runs.size(); ++r) {
    for (const CaseRow& c : runs[r].cases) {  // the exact counts, not the example rows
      for (const ClassCount& k : ParseClassCounts(c.classes)) {
        auto& v = per_class[DiffClassName(k.cls)];
        v.resize(runs.size(), 0);
        v[r] += k.count;
      }
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
    Summarize(run.cases, run.discrepancies);  // checks every discrepancy has its case row
    const std::vector<SummaryRow> layers = SummarizeLayers(run.cases);
    const std::map<CellKey, Cell> cells = OwnSchemeCells(run, layers);
    s += "<section>\n<h2>Run " + Esc(run.name) + "</h2>\n";
    s += "<h3>Verdict</h3>\n" + VerdictPanels(run, layers, cells);
    s += "<h3>Op \xC3\x97 engine</h3>\n" + OpEngineMatrix(run, cells);
    s += "<h3>|diff| by class</h3>\n" + Histograms(run, RunEngines(run));
    s += "<h3>Findings</h3>\n" + GroupedFindings(run);
    s += "<details>\n<summary>Tables: per layer op, rejections (per op chain prefix: summary.csv)</summary>\n";
    s += "<h3>Per layer op \xC3\x97 engine \xC3\x97 scheme (layers)</h3>\n" + SummaryTable(layers);
    s += "<h3>Rejected by LibTorch</h3>\n" + Rejections(run);
    s += "</details>\n</section>\n";
  }
  s += "</body>\n</html>\n";
  return s;
}

}  // namespace qdiff
