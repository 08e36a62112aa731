#include "harness/campaign/rows.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>

#include "harness/campaign/run_folder.h"  // kPartialSuffix, RunFolderError
#include "oracles/fnv1a.h"
#include "reports/csv.h"
#include "reports/schema.h"

namespace qdiff {

using nlohmann::json;

namespace {

// The summary rows in key order (op, engine, scheme, kind, name).
template <class Counts>
std::vector<SummaryRow> Rows(const Counts& counts) {
  std::vector<const typename Counts::value_type*> sorted;
  for (const auto& entry : counts) sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
  std::vector<SummaryRow> rows;
  for (const auto* entry : sorted) {
    const auto& [op, engine, scheme, kind, name] = entry->first;
    rows.push_back(SummaryRow{op, engine, scheme, kind, name, entry->second});
  }
  return rows;
}

// A previous run's streaming CSV, read for --resume.
struct PreviousCsv {
  std::string path;     // NAME.csv.partial, else NAME.csv (a finished run); "" if neither exists
  std::ifstream in;
  int64_t size = 0;
  int64_t header = 0;   // bytes of the header line

  PreviousCsv(const std::string& dir, const char* name, const std::vector<std::string>& columns) {
    namespace fs = std::filesystem;
    const std::string base = dir + "/" + name;
    path = fs::exists(base + kPartialSuffix) ? base + kPartialSuffix : fs::exists(base) ? base : "";
    if (path.empty()) return;
    in.open(path, std::ios::binary);
    size = static_cast<int64_t>(fs::file_size(path));
    std::string line;
    if (!std::getline(in, line) || line + "\n" != FormatCsvLine(columns)) {
      throw RunFolderError(path + ": its header is not qdiff's " + name +
                           " header; --resume cannot continue it (--overwrite starts again)");
    }
    header = static_cast<int64_t>(line.size()) + 1;
  }

  // Bytes [offset, offset + length), or nullopt when they are not all in the file.
  std::optional<std::string> Read(int64_t offset, int64_t length) {
    if (path.empty() || offset < header || length < 0 || offset + length > size) return std::nullopt;
    std::string bytes(static_cast<size_t>(length), '\0');
    in.clear();
    in.seekg(offset);
    if (!in.read(bytes.data(), length)) return std::nullopt;
    return bytes;
  }
};

// The rows of `text` (whole lines of a CSV), parsed with `parse`; ReportError if one does not.
template <class Row>
std::vector<Row> ParseRows(const std::string& text, const std::string& file,
                           Row (*parse)(const std::vector<std::string>&, const std::string&, int64_t)) {
  std::vector<Row> rows;
  for (size_t start = 0; start < text.size();) {
    const size_t end = text.find('\n', start);
    if (end == std::string::npos) throw ReportError(file + ": a journaled row does not end its line");
    try {
      rows.push_back(parse(SplitCsvLine(text.substr(start, end - start)), file, 0));
    } catch (const std::invalid_argument& e) {
      throw ReportError(file + ": a journaled row: " + e.what());
    }
    start = end + 1;
  }
  return rows;
}

}  // namespace

json RowSpanJson(const RowSpan& s) {
  return json::array({s.cases_offset, s.cases_length, s.discrepancies_offset, s.discrepancies_length, s.checksum});
}

RowSpan RowSpanFromJson(const json& j) {
  if (!j.is_array() || j.size() != 5) throw std::invalid_argument("'rows' is not an array of 5 numbers");
  for (size_t i = 0; i < 4; ++i) {
    if (!j[i].is_number_integer() || j[i].get<int64_t>() < 0) {
      throw std::invalid_argument("'rows' item " + std::to_string(i) + " is not a byte count");
    }
  }
  if (!j[4].is_number_unsigned()) throw std::invalid_argument("'rows' checksum is not an unsigned number");
  return RowSpan{j[0].get<int64_t>(), j[1].get<int64_t>(), j[2].get<int64_t>(), j[3].get<int64_t>(),
                 j[4].get<uint64_t>()};
}

RowSink::RowSink(std::string dir, int64_t first_index, int64_t step, int64_t max_example_rows, Written written)
    : dir_(std::move(dir)), next_(first_index), step_(step), bound_(max_example_rows), written_(std::move(written)) {}

RowSink::~RowSink() {
  for (std::FILE* f : {cases_, discrepancies_}) {
    if (f) std::fclose(f);
  }
}

void RowSink::Create() {
  auto open = [this](const char* name, const std::vector<std::string>& columns, int64_t* bytes) {
    const std::string path = dir_ + "/" + name + kPartialSuffix;
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (!f) throw std::runtime_error(path + ": cannot open for writing: " + std::strerror(errno));
    const std::string header = FormatCsvLine(columns);
    Append(f, header, name);
    *bytes = static_cast<int64_t>(header.size());
    return f;
  };
  cases_ = open(kCasesFile, CaseColumns(), &cases_bytes_);
  discrepancies_ = open(kDiscrepanciesFile, DiscrepancyColumns(), &discrepancies_bytes_);
}

std::vector<JournaledCase> RowSink::Resume(const std::vector<JournaledCase>& journaled, const CaseIdOf& case_id,
                                           const Taken& taken, const Untrusted& untrusted) {
  PreviousCsv cases(dir_, kCasesFile, CaseColumns());
  PreviousCsv discrepancies(dir_, kDiscrepanciesFile, DiscrepancyColumns());
  if (cases.path.empty() || discrepancies.path.empty()) return Create(), std::vector<JournaledCase>();
  int64_t cases_end = cases.header, discrepancies_end = discrepancies.header;
  std::vector<JournaledCase> kept;
  std::set<int64_t> seen;
  for (const JournaledCase& c : journaled) {
    if (!seen.insert(c.index).second) continue;  // a repeated record: the first one counts
    const RowSpan& s = c.span;
    const std::optional<std::string> case_bytes = cases.Read(s.cases_offset, s.cases_length);
    const std::optional<std::string> discrepancy_bytes =
        discrepancies.Read(s.discrepancies_offset, s.discrepancies_length);
    if (!case_bytes || !discrepancy_bytes) {
      untrusted(c.line, std::string("its rows lie beyond the end of ") + (case_bytes ? discrepancies.path : cases.path));
      seen.erase(c.index);
      continue;
    }
    if (Fnv1a64(*discrepancy_bytes, Fnv1a64(*case_bytes)) != s.checksum) {
      untrusted(c.line, "its rows in " + cases.path + " and " + discrepancies.path + " do not match its checksum");
      seen.erase(c.index);
      continue;
    }
    CaseRows rows;
    try {
      rows.cases = ParseRows<CaseRow>(*case_bytes, cases.path, &CaseFromFields);
      rows.discrepancies = ParseRows<DiscrepancyRow>(*discrepancy_bytes, discrepancies.path, &DiscrepancyFromFields);
    } catch (const ReportError& e) {
      untrusted(c.line, e.what());
      seen.erase(c.index);
      continue;
    }
    const std::string id = case_id(c.index);
    std::string other;
    for (const CaseRow& r : rows.cases) other = r.case_id != id ? r.case_id : other;
    for (const DiscrepancyRow& r : rows.discrepancies) other = r.case_id != id ? r.case_id : other;
    if (!other.empty() || rows.cases.empty()) {
      untrusted(c.line, "its rows belong to case " + (other.empty() ? "none" : other) + ", not to index " +
                            std::to_string(c.index));
      seen.erase(c.index);
      continue;
    }
    taken(c, rows);
    rows.journal = c.journal;
    if (waiting_.empty() && c.index == next_ && s.cases_offset == cases_end &&
        s.discrepancies_offset == discrepancies_end) {
      for (const DiscrepancyRow& d : rows.discrepancies) bound_.Keep(d);  // counts the rows kept before
      Account(rows);
      cases_end += s.cases_length;
      discrepancies_end += s.discrepancies_length;
      next_ += step_;
      kept.push_back(c);
    } else {
      waiting_[c.index] = std::move(rows);  // written again in its turn, through the same bound
    }
  }
  // Continue behind the kept cases, under the streaming names.
  auto reopen = [this](PreviousCsv& previous, const char* name, int64_t end, int64_t* bytes) {
    previous.in.close();
    const std::string partial = dir_ + "/" + name + kPartialSuffix;
    std::error_code ec;
    if (previous.path != partial) std::filesystem::rename(previous.path, partial, ec);
    if (ec || truncate(partial.c_str(), end) != 0) {
      throw std::runtime_error(partial + ": cannot continue the file: " +
                               (ec ? ec.message() : std::string(std::strerror(errno))));
    }
    std::FILE* f = std::fopen(partial.c_str(), "a");
    if (!f) throw std::runtime_error(partial + ": cannot open for writing: " + std::strerror(errno));
    *bytes = end;
    return f;
  };
  cases_ = reopen(cases, kCasesFile, cases_end, &cases_bytes_);
  discrepancies_ = reopen(discrepancies, kDiscrepanciesFile, discrepancies_end, &discrepancies_bytes_);
  return kept;
}

void RowSink::Add(int64_t index, CaseRows rows) {
  waiting_[index] = std::move(rows);
  WriteWaiting();
}

void RowSink::WriteWaiting() {
  while (!waiting_.empty() && waiting_.begin()->first <= next_) {
    auto it = waiting_.begin();
    Write(it->first, it->second);
    next_ = std::max(next_, it->first + step_);
    waiting_.erase(it);
  }
}

void RowSink::Write(int64_t index, CaseRows& d) {
  std::sort(d.cases.begin(), d.cases.end(), [](const CaseRow& a, const CaseRow& b) {
    return std::tie(a.engine, a.scheme) < std::tie(b.engine, b.scheme);
  });
  KeepExampleRows(&d.discrepancies, &bound_);
  std::string case_text, discrepancy_text;
  for (const CaseRow& row : d.cases) case_text += FormatCsvLine(CaseToFields(row));
  for (const DiscrepancyRow& row : d.discrepancies) discrepancy_text += FormatCsvLine(DiscrepancyToFields(row));
  Append(cases_, case_text, kCasesFile);
  Append(discrepancies_, discrepancy_text, kDiscrepanciesFile);
  // Flushed before the journal records them: a record never covers bytes a kill could lose.
  for (auto [file, name] : {std::pair{cases_, kCasesFile}, {discrepancies_, kDiscrepanciesFile}}) {
    if (std::fflush(file) != 0) throw std::runtime_error(dir_ + "/" + name + ": write failed: " + std::strerror(errno));
  }
  const RowSpan span{cases_bytes_, static_cast<int64_t>(case_text.size()), discrepancies_bytes_,
                     static_cast<int64_t>(discrepancy_text.size()), Fnv1a64(discrepancy_text, Fnv1a64(case_text))};
  cases_bytes_ += span.cases_length;
  discrepancies_bytes_ += span.discrepancies_length;
  Account(d);
  if (written_) written_(index, span, d.journal);
}

size_t RowSink::KeyHash::operator()(const Key& k) const {
  const auto& [op, engine, scheme, kind, name] = k;
  uint64_t h = kFnv1a64Basis;
  for (const std::string* part : {&op, &engine, &scheme, &kind, &name}) h = Fnv1a64("\x1f", Fnv1a64(*part, h));
  return static_cast<size_t>(h);
}

void RowSink::Account(const CaseRows& d) {
  case_rows_ += static_cast<int64_t>(d.cases.size());
  discrepancy_rows_ += static_cast<int64_t>(d.discrepancies.size());
  for (const SummaryRow& r : Summarize(d.cases, d.discrepancies)) {
    summary_[{r.op, r.engine, r.scheme, r.kind, r.name}] += r.count;
  }
  for (const SummaryRow& r : SummarizeLayers(d.cases)) {
    layer_summary_[{r.op, r.engine, r.scheme, r.kind, r.name}] += r.count;
  }
  const bool finding = std::any_of(d.cases.begin(), d.cases.end(), [](const CaseRow& r) { return IsFinding(r.verdict); });
  if (sampled_cases_ < kSampleCases || (finding && sampled_findings_ < kSampleCases)) {
    (finding ? sampled_findings_ : sampled_cases_) += 1;
    sample_.cases.insert(sample_.cases.end(), d.cases.begin(), d.cases.end());
    sample_.discrepancies.insert(sample_.discrepancies.end(), d.discrepancies.begin(),
                                 d.discrepancies.end());
  } else {
    sample_complete_ = false;
  }
}

void RowSink::Append(std::FILE* f, const std::string& text, const char* name) {
  if (std::fwrite(text.data(), 1, text.size(), f) != text.size()) {
    throw std::runtime_error(dir_ + "/" + name + ": write failed: " + std::strerror(errno));
  }
}

void RowSink::Flush(bool finished) {
  if (finished) {
    for (auto& [index, rows] : waiting_) Write(index, rows);
    waiting_.clear();
  }
  for (auto [file, name] : {std::pair{&cases_, kCasesFile}, {&discrepancies_, kDiscrepanciesFile}}) {
    if (std::fflush(*file) != 0 || fsync(fileno(*file)) != 0) {
      throw std::runtime_error(dir_ + "/" + name + ": write failed: " + std::strerror(errno));
    }
    if (!finished) continue;
    std::fclose(*file);
    *file = nullptr;
    const std::string path = dir_ + "/" + name;
    std::error_code ec;
    std::filesystem::rename(path + kPartialSuffix, path, ec);
    if (ec) throw std::runtime_error(path + ": cannot rename the finished file: " + ec.message());
  }
  // ops.csv (per layer op) stays small; summary.csv has a row per op chain, and the chains keep
  // coming (7 MB after 3 minutes of a default run), so it is written once, at the end.
  if (finished) WriteSummary(dir_ + "/" + kSummaryFile, Summary());
  WriteSummary(dir_ + "/" + kOpsFile, LayerSummary());
}

std::vector<SummaryRow> RowSink::Summary() const { return Rows(summary_); }
std::vector<SummaryRow> RowSink::LayerSummary() const { return Rows(layer_summary_); }

}  // namespace qdiff
