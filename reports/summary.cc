#include "reports/summary.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>

namespace qdiff {

namespace {

using Key3 = std::tuple<std::string, std::string, std::string>;  // op, engine, scheme


std::string JoinPath(const std::string& dir, const char* name) {
  return (std::filesystem::path(dir) / name).string();
}

template <class Row>
std::vector<Row> ReadRows(const std::string& path, const std::vector<std::string>& columns,
                          Row (*parse)(const std::vector<std::string>&, const std::string&,
                                       int64_t)) {
  std::vector<Row> rows;
  ReadCsv(path, columns, [&](const std::vector<std::string>& fields, int64_t line) {
    rows.push_back(parse(fields, path, line));
  });
  return rows;
}

template <class Row>
void WriteRows(const std::string& path, const std::vector<std::string>& columns,
               const std::vector<Row>& rows,
               std::vector<std::string> (*to_fields)(const Row&)) {
  CsvWriter writer(columns);
  for (const Row& row : rows) writer.AddRow(to_fields(row));
  writer.WriteFile(path);
}

}  // namespace

std::vector<SummaryRow> Summarize(const std::vector<CaseRow>& cases,
                                  const std::vector<DiscrepancyRow>& discrepancies) {
  // (op, engine, scheme, kind, name) -> count; std::map order is the required output order.
  std::map<std::tuple<std::string, std::string, std::string, std::string, std::string>, int64_t>
      counts;
  // (case_id, engine, scheme) -> op
  std::map<Key3, std::string> op_of;
  for (const CaseRow& c : cases) {
    auto [it, inserted] = op_of.emplace(Key3{c.case_id, c.engine, c.scheme}, c.op);
    if (!inserted && it->second != c.op) {
      throw ReportError("Summarize: case " + c.case_id + " (engine " + c.engine + ", scheme " +
                        c.scheme + ") has two ops: " + it->second + " and " + c.op);
    }
    CaseRowCounts(c, [&](const std::string& op, const std::string& engine, const std::string& scheme,
                         const char* kind, const char* name, int64_t n) { counts[{op, engine, scheme, kind, name}] += n; });
  }
  for (const DiscrepancyRow& d : discrepancies) {
    if (!op_of.count(Key3{d.case_id, d.engine, d.scheme})) {
      throw ReportError("Summarize: discrepancy of case " + d.case_id + " (engine " + d.engine +
                        ", scheme " + d.scheme + ") has no row in cases");
    }
  }
  std::vector<SummaryRow> out;
  out.reserve(counts.size());
  for (const auto& [key, count] : counts) {
    SummaryRow row;
    std::tie(row.op, row.engine, row.scheme, row.kind, row.name) = key;
    row.count = count;
    out.push_back(std::move(row));
  }
  return out;
}

namespace {

std::vector<std::string> SplitOps(const std::string& chain) {
  std::vector<std::string> ops;
  size_t start = 0;
  while (true) {
    const size_t end = chain.find('>', start);
    ops.push_back(chain.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return ops;
    start = end + 1;
  }
}

std::vector<SummaryRow> RowsFromCounts(
    const std::map<std::tuple<std::string, std::string, std::string, std::string, std::string>,
                   int64_t>& counts) {
  std::vector<SummaryRow> out;
  for (const auto& [key, count] : counts) {
    SummaryRow row;
    std::tie(row.op, row.engine, row.scheme, row.kind, row.name) = key;
    row.count = count;
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace

std::string SummaryChain(const std::string& op_chain) {
  size_t end = std::string::npos;  // the '>' after op number `ops`
  for (int ops = 1; ops <= kSummaryChainOps; ++ops) {
    end = op_chain.find('>', end + 1);  // npos + 1 == 0
    if (end == std::string::npos) return op_chain;
  }
  return op_chain.substr(0, end) + ">...";
}

void CaseRowCounts(const CaseRow& c, const AddCount& add) {
  const std::string op = SummaryChain(c.op);
  add(op, c.engine, c.scheme, "verdict", VerdictName(c.verdict), 1);
  for (const ClassCount& k : ParseClassCounts(c.classes)) add(op, c.engine, c.scheme, "class", DiffClassName(k.cls), k.count);
}

void CaseRowLayerCounts(const CaseRow& c, const AddCount& add) {
  const std::vector<std::string> ops = SplitOps(c.op);
  static const std::string unknown = "?";
  // Per layer: -1 no differing element, else its unexplained elements.
  std::vector<int64_t> unexplained(ops.size(), -1);
  for (const LayerClassCount& k : ParseLayerClassCounts(c.layer_classes)) {
    const size_t l = static_cast<size_t>(k.layer);
    add(l < ops.size() ? ops[l] : unknown, c.engine, c.scheme, "class", DiffClassName(k.cls), k.count);
    if (l < ops.size()) unexplained[l] = std::max<int64_t>(unexplained[l], 0) + (k.cls == DiffClass::kUnexplained ? k.count : 0);
  }
  for (size_t l = 0; l < ops.size(); ++l) {
    const Verdict verdict = ComparedNothing(c.verdict) ? c.verdict
                            : unexplained[l] < 0       ? Verdict::kExact
                            : unexplained[l] > 0       ? Verdict::kUnexplained
                                                       : Verdict::kExplained;
    add(ops[l], c.engine, c.scheme, "verdict", VerdictName(verdict), 1);
  }
}

std::vector<SummaryRow> SummarizeLayers(const std::vector<CaseRow>& cases) {
  std::map<std::tuple<std::string, std::string, std::string, std::string, std::string>, int64_t>
      counts;
  for (const CaseRow& c : cases) {
    CaseRowLayerCounts(c, [&](const std::string& op, const std::string& engine, const std::string& scheme,
                              const char* kind, const char* name, int64_t n) { counts[{op, engine, scheme, kind, name}] += n; });
  }
  return RowsFromCounts(counts);
}

std::vector<SummaryRow> SumOverOps(const std::vector<SummaryRow>& summary) {
  std::map<std::tuple<std::string, std::string, std::string, std::string, std::string>, int64_t>
      counts;
  for (const SummaryRow& r : summary) counts[{"all", r.engine, r.scheme, r.kind, r.name}] += r.count;
  return RowsFromCounts(counts);
}

std::string FormatSummaryTable(const std::vector<SummaryRow>& summary, size_t max_width) {
  struct Group {
    std::map<std::string, int64_t> verdicts;
    std::map<std::string, int64_t> classes;
  };
  std::map<Key3, Group> groups;
  std::set<std::string> extra_verdicts;
  std::set<std::string> class_names;
  const auto& fixed = TableVerdictColumns();
  for (const SummaryRow& r : summary) {
    Group& g = groups[Key3{r.op, r.engine, r.scheme}];
    if (r.kind == "verdict") {
      g.verdicts[r.name] += r.count;
      if (std::find(fixed.begin(), fixed.end(), r.name) == fixed.end()) {
        extra_verdicts.insert(r.name);
      }
    } else if (r.kind == "class") {
      g.classes[r.name] += r.count;
      class_names.insert(r.name);
    } else {
      throw std::invalid_argument("FormatSummaryTable: unknown kind \"" + r.kind + "\"");
    }
  }

  // Build the cells, then pad: text columns left-aligned, counts right-aligned.
  std::vector<std::string> header = {"op", "engine", "scheme", "cases"};
  std::vector<std::string> verdict_cols = fixed;
  verdict_cols.insert(verdict_cols.end(), extra_verdicts.begin(), extra_verdicts.end());
  header.insert(header.end(), verdict_cols.begin(), verdict_cols.end());
  const std::size_t separator = header.size();  // "|" before the class columns
  if (!class_names.empty()) header.push_back("|");
  header.insert(header.end(), class_names.begin(), class_names.end());

  std::vector<std::vector<std::string>> table = {header};
  for (const auto& [key, g] : groups) {
    std::vector<std::string> line = {std::get<0>(key), std::get<1>(key), std::get<2>(key)};
    int64_t total = 0;
    for (const auto& [name, n] : g.verdicts) total += n;
    line.push_back(std::to_string(total));
    for (const std::string& v : verdict_cols) {
      auto it = g.verdicts.find(v);
      line.push_back(std::to_string(it == g.verdicts.end() ? 0 : it->second));
    }
    if (!class_names.empty()) line.push_back("|");
    for (const std::string& c : class_names) {
      auto it = g.classes.find(c);
      line.push_back(std::to_string(it == g.classes.end() ? 0 : it->second));
    }
    table.push_back(std::move(line));
  }

  std::vector<bool> left(header.size(), false);
  left[0] = left[1] = left[2] = true;
  if (separator < left.size()) left[separator] = true;
  return FormatBlockTable(table, 4, left, max_width);
}

std::string FormatBlockTable(const std::vector<std::vector<std::string>>& table, std::size_t keys,
                             const std::vector<bool>& left, std::size_t max_width) {
  if (table.empty()) return "";
  const std::vector<std::string>& header = table[0];
  std::vector<std::size_t> width(header.size(), 0);
  for (const auto& line : table) {
    for (std::size_t i = 0; i < line.size(); ++i) width[i] = std::max(width[i], line[i].size());
  }
  // Blocks [begin, end) of the columns after the keys key columns; a line's width is the sum of
  // its columns' widths plus 2 per gap.
  std::size_t keys_width = 0;
  for (std::size_t i = 0; i < keys; ++i) keys_width += width[i] + (i ? 2 : 0);
  std::vector<std::pair<std::size_t, std::size_t>> blocks;
  for (std::size_t begin = keys, end = keys, used = keys_width; end < header.size(); begin = end, used = keys_width) {
    while (end < header.size() && (end == begin || used + 2 + width[end] <= max_width)) used += 2 + width[end++];
    blocks.emplace_back(begin, end);
  }
  if (blocks.empty()) blocks.emplace_back(keys, keys);
  std::string out;
  for (const auto& [begin, end] : blocks) {
    if (begin > keys) out += "\n";
    for (const auto& line : table) {
      std::string text;
      for (std::size_t i = 0; i < end; i = i + 1 == keys ? begin : i + 1) {
        if (i > 0) text += "  ";
        const std::string pad(width[i] - line[i].size(), ' ');
        text += left[i] ? line[i] + pad : pad + line[i];
      }
      while (!text.empty() && text.back() == ' ') text.pop_back();
      out += text + "\n";
    }
  }
  return out;
}

std::map<std::string, std::vector<std::string>> SchemesReproducingEngines(
    const std::vector<SummaryRow>& summary) {
  std::map<std::string, std::map<std::string, std::pair<int64_t, int64_t>>> counts;  // exact, differing
  for (const SummaryRow& r : summary) {
    auto& [exact, differing] = counts[r.engine][r.scheme];
    if (r.kind == "class") {
      if (r.name != DiffClassName(DiffClass::kLibTorchBug)) differing += r.count;
      continue;
    }
    if (r.name == VerdictName(Verdict::kExact)) exact += r.count;
    for (Verdict v : {Verdict::kUnexplained, Verdict::kCrashed, Verdict::kTimeout}) {
      if (r.name == VerdictName(v)) differing += r.count;
    }
  }
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [engine, schemes] : counts) {
    std::vector<std::string>& names = out[engine];
    for (const auto& [scheme, n] : schemes) {
      if (n.first > 0 && n.second == 0) names.push_back(scheme);
    }
  }
  return out;
}

std::vector<CaseRow> ReadCases(const std::string& path) {
  return ReadRows<CaseRow>(path, CaseColumns(), &CaseFromFields);
}
std::vector<DiscrepancyRow> ReadDiscrepancies(const std::string& path) {
  return ReadRows<DiscrepancyRow>(path, DiscrepancyColumns(), &DiscrepancyFromFields);
}
std::vector<SummaryRow> ReadSummary(const std::string& path) {
  return ReadRows<SummaryRow>(path, SummaryColumns(), &SummaryFromFields);
}

void WriteCases(const std::string& path, const std::vector<CaseRow>& rows) {
  WriteRows<CaseRow>(path, CaseColumns(), rows, &CaseToFields);
}
void WriteDiscrepancies(const std::string& path, const std::vector<DiscrepancyRow>& rows) {
  WriteRows<DiscrepancyRow>(path, DiscrepancyColumns(), rows, &DiscrepancyToFields);
}
void WriteSummary(const std::string& path, const std::vector<SummaryRow>& rows) {
  WriteRows<SummaryRow>(path, SummaryColumns(), rows, &SummaryToFields);
}

std::vector<SummaryRow> ReportSummary(const Report& report) {
  return report.summary ? *report.summary : Summarize(report.cases, report.discrepancies);
}

std::vector<SummaryRow> ReportLayerSummary(const Report& report) {
  return report.layer_summary ? *report.layer_summary : SummarizeLayers(report.cases);
}

std::vector<SummaryRow> AddCounts(const std::vector<SummaryRow>& a, const std::vector<SummaryRow>& b) {
  std::map<std::tuple<std::string, std::string, std::string, std::string, std::string>, int64_t> sum;
  for (const std::vector<SummaryRow>* rows : {&a, &b}) {
    for (const SummaryRow& r : *rows) sum[{r.op, r.engine, r.scheme, r.kind, r.name}] += r.count;
  }
  std::vector<SummaryRow> out;
  for (const auto& [k, n] : sum) {
    out.push_back(SummaryRow{std::get<0>(k), std::get<1>(k), std::get<2>(k), std::get<3>(k), std::get<4>(k), n});
  }
  return out;
}

Report LoadReport(const std::string& dir) {
  Report report;
  report.cases = ReadCases(JoinPath(dir, kCasesFile));
  report.discrepancies = ReadDiscrepancies(JoinPath(dir, kDiscrepanciesFile));
  return report;
}

void WriteReport(const std::string& dir, const std::vector<CaseRow>& cases,
                 const std::vector<DiscrepancyRow>& discrepancies,
                 const std::vector<SummaryRow>& summary) {
  WriteDiscrepancies(JoinPath(dir, kDiscrepanciesFile), discrepancies);
  WriteSummary(JoinPath(dir, kSummaryFile), summary);
  WriteCases(JoinPath(dir, kCasesFile), cases);
}

}  // namespace qdiff
