#include "harness/campaign/rows.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <tuple>

#include "harness/campaign/journal.h"     // JournalLine, ParseJournalLine
#include "harness/campaign/run_folder.h"  // kPartialSuffix, RunFolderError
#include "oracles/fnv1a.h"
#include "reports/csv.h"
#include "reports/schema.h"

namespace qdiff {

using nlohmann::json;

namespace {

// A previous run's streaming CSV, read for --resume: NAME.csv.partial, else NAME.csv (a finished
// run); path "" if neither exists.
struct PreviousCsv {
  std::string path;
  int64_t size = 0;

  PreviousCsv(const std::string& dir, const char* name, const std::vector<std::string>& columns) {
    namespace fs = std::filesystem;
    const std::string base = dir + "/" + name;
    path = fs::exists(base + kPartialSuffix) ? base + kPartialSuffix : fs::exists(base) ? base : "";
    if (path.empty()) return;
    std::ifstream in(path, std::ios::binary);
    size = static_cast<int64_t>(fs::file_size(path));
    std::string line;
    if (!std::getline(in, line) || line + "\n" != FormatCsvLine(columns)) {
      throw RunFolderError(path + ": its header is not qdiff's " + name +
                           " header; --resume cannot continue it (--overwrite starts again)");
    }
  }
};

// The first `length` bytes of `path`, or nullopt when the file is shorter.
std::optional<std::string> ReadPrefix(const std::string& path, int64_t length) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes(static_cast<size_t>(std::max<int64_t>(0, length)), '\0');
  if (!in || length < 0 || !in.read(bytes.data(), length)) return std::nullopt;
  return bytes;
}

// The data rows of `text` (a CSV's bytes from its header on), parsed with `parse`; ReportError
// naming the file and line if one does not parse.
template <class Row>
std::vector<Row> ParseRows(const std::string& text, const std::string& file,
                           Row (*parse)(const std::vector<std::string>&, const std::string&, int64_t)) {
  std::vector<Row> rows;
  int64_t line = 1;
  for (size_t start = text.find('\n') + 1; start < text.size(); ++line) {
    const size_t end = text.find('\n', start);
    if (end == std::string::npos) throw ReportError(file + ": the checkpoint's last row does not end its line");
    try {
      rows.push_back(parse(SplitCsvLine(text.substr(start, end - start)), file, line + 1));
    } catch (const std::invalid_argument& e) {
      throw ReportError(file + ":" + std::to_string(line + 1) + ": " + e.what());
    }
    start = end + 1;
  }
  return rows;
}

// A counts file of the checkpoint: its name in the folder, size and hash.
json CountsFileJson(const std::string& name, const std::string& text) {
  return json::array({name, static_cast<int64_t>(text.size()), Fnv1a64(text)});
}

// The summary rows of the counts file `j` names, checked against its size and hash.
std::vector<SummaryRow> ReadCountsFile(const std::string& dir, const json& j) {
  const std::string name = j.at(0).get<std::string>();
  if (name.find('/') != std::string::npos) throw std::invalid_argument("counts file " + name + " is not in the folder");
  const std::string path = dir + "/" + name;
  const std::optional<std::string> text = ReadPrefix(path, j.at(1).get<int64_t>());
  if (!text || static_cast<int64_t>(std::filesystem::file_size(path)) != j.at(1).get<int64_t>() ||
      Fnv1a64(*text) != j.at(2).get<uint64_t>()) {
    throw std::invalid_argument(path + " is not the file it recorded (size or hash)");
  }
  return ReadSummary(path);
}

std::string SummaryText(const std::vector<SummaryRow>& rows) {
  CsvWriter w(SummaryColumns());
  for (const SummaryRow& r : rows) w.AddRow(SummaryToFields(r));
  return w.contents();
}

}  // namespace

void CountKey(std::string* key, const std::string& op, const std::string& engine, const std::string& scheme,
              const std::string& kind, const std::string& name) {
  key->assign(op).append(1, '\x1f').append(engine).append(1, '\x1f').append(scheme);
  key->append(1, '\x1f').append(kind).append(1, '\x1f').append(name);
}

namespace {

void SortByEngineAndScheme(std::vector<CaseRow>* cases) {
  std::sort(cases->begin(), cases->end(), [](const CaseRow& a, const CaseRow& b) {
    return std::tie(a.engine, a.scheme) < std::tie(b.engine, b.scheme);
  });
}

// PackRows of case rows already sorted, their lines left empty.
PackedRows PackWithoutCaseLines(const std::vector<CaseRow>& cases, const std::vector<DiscrepancyRow>& discrepancies) {
  PackedRows p;
  p.case_id = cases.empty() ? "" : cases.front().case_id;
  std::string key;
  const auto into = [&key](std::vector<std::pair<std::string, int64_t>>* counts) {
    return [&key, counts](const std::string& op, const std::string& engine, const std::string& scheme,
                          const char* kind, const char* name, int64_t n) {
      CountKey(&key, op, engine, scheme, kind, name);
      counts->emplace_back(key, n);
    };
  };
  for (const CaseRow& r : cases) {
    p.cases.emplace_back();
    p.case_groups.push_back(CaseExampleBound::Group(r));
    p.finding = p.finding || IsFinding(r.verdict);
    p.unexplained += r.verdict == Verdict::kUnexplained;
    CaseRowCounts(r, into(&p.summary));
    CaseRowLayerCounts(r, into(&p.layer_summary));
  }
  for (const DiscrepancyRow& r : discrepancies) {
    std::string line = FormatCsvLine(DiscrepancyToFields(r));
    line.pop_back();
    p.discrepancies.push_back(std::move(line));
    p.discrepancy_keys.push_back(ExampleKeyOf(r));
  }
  return p;
}

// The lines of the (sorted) case rows `p` was packed from.
void FormatCaseLines(const std::vector<CaseRow>& cases, PackedRows* p) {
  for (size_t i = 0; i < cases.size(); ++i) {
    p->cases[i] = FormatCsvLine(CaseToFields(cases[i]));
    p->cases[i].pop_back();  // its '\n'
  }
}

}  // namespace

PackedRows PackRows(std::vector<CaseRow> cases, const std::vector<DiscrepancyRow>& discrepancies) {
  SortByEngineAndScheme(&cases);
  PackedRows p = PackWithoutCaseLines(cases, discrepancies);
  FormatCaseLines(cases, &p);
  return p;
}

PackedRows WorkerRows::Pack(int64_t index, std::vector<CaseRow> cases, std::vector<DiscrepancyRow> discrepancies) {
  KeepExampleRows(&discrepancies, &discrepancies_);
  SortByEngineAndScheme(&cases);
  PackedRows p = PackWithoutCaseLines(cases, discrepancies);
  if (cases_.Keep(index, p.case_groups, p.finding, !discrepancies.empty())) FormatCaseLines(cases, &p);
  return p;
}

RowSink::RowSink(std::string dir, int64_t first_index, int64_t step, int64_t all_rows_cases,
                 int64_t max_example_rows, Written written)
    : dir_(std::move(dir)), next_(first_index), step_(step), all_rows_cases_(all_rows_cases),
      max_example_rows_(max_example_rows), bound_(max_example_rows), case_bound_(all_rows_cases, max_example_rows),
      written_(std::move(written)) {}

RowSink::~RowSink() {
  for (std::FILE* f : {cases_.file, discrepancies_.file}) {
    if (f) std::fclose(f);
  }
}

void RowSink::Create() {
  std::error_code ec;
  std::filesystem::remove(dir_ + "/" + kCheckpointFile, ec);  // a previous run's, not trusted
  auto open = [this](Stream* s, const char* name, const std::vector<std::string>& columns) {
    const std::string path = dir_ + "/" + name + kPartialSuffix;
    s->file = std::fopen(path.c_str(), "w");
    if (!s->file) throw std::runtime_error(path + ": cannot open for writing: " + std::strerror(errno));
    s->bytes = 0;
    s->hash = kFnv1a64Basis;
    Append(s, FormatCsvLine(columns), name);
  };
  open(&cases_, kCasesFile, CaseColumns());
  open(&discrepancies_, kDiscrepanciesFile, DiscrepancyColumns());
}

std::optional<Checkpoint> RowSink::Resume(const Untrusted& untrusted, const CheckState& check) {
  namespace fs = std::filesystem;
  const std::string meta_path = dir_ + "/" + kCheckpointFile;
  PreviousCsv cases(dir_, kCasesFile, CaseColumns());
  PreviousCsv discrepancies(dir_, kDiscrepanciesFile, DiscrepancyColumns());
  if (!fs::exists(meta_path)) return Create(), std::nullopt;
  std::optional<Checkpoint> restored;
  std::string cases_text, discrepancies_text;
  try {
    std::ifstream in(meta_path, std::ios::binary);
    std::string line;
    std::getline(in, line);
    const std::optional<json> meta = ParseJournalLine(line);
    if (!meta) throw std::invalid_argument("its checksum does not match");
    check(meta->at("state"));
    for (auto [csv, text, key] : {std::tuple{&cases, &cases_text, "cases"}, {&discrepancies, &discrepancies_text, "discrepancies"}}) {
      const json& j = meta->at(key);
      const int64_t bytes = j.at(0).get<int64_t>();
      const std::optional<std::string> prefix = csv->path.empty() ? std::nullopt : ReadPrefix(csv->path, bytes);
      if (!prefix || Fnv1a64(*prefix) != j.at(1).get<uint64_t>()) {
        throw std::invalid_argument(std::string("the ") + key + " rows it records are not in " +
                                    (csv->path.empty() ? dir_ + "/" + key + ".csv" : csv->path) + " (cut or altered)");
      }
      *text = std::move(*prefix);
    }
    Counts summary, layers;
    std::string key;
    for (auto [counts, name] : {std::pair{&summary, "summary"}, {&layers, "ops"}}) {
      for (const SummaryRow& r : ReadCountsFile(dir_, meta->at("counts").at(name))) {
        CountKey(&key, r.op, r.engine, r.scheme, r.kind, r.name);
        AddCount(counts, key, r.count);
      }
    }
    // The written rows behind the checkpoint, case by case: bounds and sample as when written.
    std::vector<CaseRow> case_rows = ParseRows<CaseRow>(cases_text, cases.path, &CaseFromFields);
    std::vector<DiscrepancyRow> discrepancy_rows =
        ParseRows<DiscrepancyRow>(discrepancies_text, discrepancies.path, &DiscrepancyFromFields);
    size_t d = 0;
    for (size_t c = 0; c < case_rows.size();) {
      const size_t c0 = c, d0 = d;
      const std::string id = case_rows[c].case_id;
      while (c < case_rows.size() && case_rows[c].case_id == id) ++c;
      while (d < discrepancy_rows.size() && discrepancy_rows[d].case_id == id) bound_.Keep(discrepancy_rows[d++]);
      std::vector<CaseRow> one(std::make_move_iterator(case_rows.begin() + c0),
                               std::make_move_iterator(case_rows.begin() + c));
      const int64_t index = CaseIndexOfId(id);
      if (index < 0 || !case_bound_.Keep(index, one, d > d0)) {
        throw std::invalid_argument(cases.path + ": case " + id + " is not one the run writes");
      }
      const bool finding = std::any_of(one.begin(), one.end(), [](const CaseRow& r) { return IsFinding(r.verdict); });
      if (Sampled(one.size(), d - d0, finding)) {
        sample_.cases.insert(sample_.cases.end(), std::make_move_iterator(one.begin()),
                             std::make_move_iterator(one.end()));
        sample_.discrepancies.insert(sample_.discrepancies.end(), discrepancy_rows.begin() + d0,
                                     discrepancy_rows.begin() + d);
      }
    }
    if (d != discrepancy_rows.size()) {
      throw std::invalid_argument(discrepancies.path + ": case " + discrepancy_rows[d].case_id +
                                  " is not in the order of " + cases.path);
    }
    summary_ = std::move(summary);
    layer_summary_ = std::move(layers);
    generation_ = meta->at("generation").get<int64_t>() + 1;
    next_ = meta->at("next_index").get<int64_t>();
    restored = Checkpoint{next_, meta->at("state")};
  } catch (const std::exception& e) {  // ReportError, json errors, std::invalid_argument
    untrusted(meta_path + " is not trusted: " + e.what() + "; the run starts again");
    bound_ = ExampleRowBound(max_example_rows_);
    case_bound_ = CaseExampleBound(all_rows_cases_, max_example_rows_);
    sample_ = Report();
    sampled_cases_ = sampled_findings_ = case_rows_ = discrepancy_rows_ = 0;
    sample_complete_ = true;
  }
  if (!restored) return Create(), std::nullopt;
  // Continue behind the checkpoint, under the streaming names.
  auto reopen = [this](const PreviousCsv& previous, std::string text, const char* name, Stream* s) {
    const std::string partial = dir_ + "/" + name + kPartialSuffix;
    std::error_code ec;
    if (previous.path != partial) std::filesystem::rename(previous.path, partial, ec);
    if (ec || truncate(partial.c_str(), static_cast<off_t>(text.size())) != 0) {
      throw std::runtime_error(partial + ": cannot continue the file: " +
                               (ec ? ec.message() : std::string(std::strerror(errno))));
    }
    s->file = std::fopen(partial.c_str(), "a");
    if (!s->file) throw std::runtime_error(partial + ": cannot open for writing: " + std::strerror(errno));
    s->bytes = static_cast<int64_t>(text.size());
    s->hash = Fnv1a64(text);
  };
  reopen(cases, std::move(cases_text), kCasesFile, &cases_);
  reopen(discrepancies, std::move(discrepancies_text), kDiscrepanciesFile, &discrepancies_);
  return restored;
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

void RowSink::Write(int64_t index, const CaseRows& rows) {
  if (written_) written_(index, rows);
  const PackedRows& d = rows.rows;
  for (const auto& [key, n] : d.summary) AddCount(&summary_, key, n);  // every row counts
  for (const auto& [key, n] : d.layer_summary) AddCount(&layer_summary_, key, n);
  std::string case_text, discrepancy_text;  // only examples are written
  std::vector<const std::string*> kept;     // discrepancy lines
  for (size_t i = 0; i < d.discrepancies.size(); ++i) {
    if (bound_.Keep(d.case_id, d.discrepancy_keys[i])) kept.push_back(&d.discrepancies[i]);
  }
  const bool keep_case = case_bound_.Keep(index, d.case_groups, d.finding, !kept.empty());
  if (keep_case && std::any_of(d.cases.begin(), d.cases.end(), [](const std::string& l) { return l.empty(); })) {
    throw std::logic_error("case " + d.case_id + ": the run keeps a case whose rows the worker did not send");
  }
  for (const std::string* line : kept) discrepancy_text.append(*line).append(1, '\n');
  if (keep_case) {
    for (const std::string& line : d.cases) case_text.append(line).append(1, '\n');
  }
  Append(&cases_, case_text, kCasesFile);
  Append(&discrepancies_, discrepancy_text, kDiscrepanciesFile);
  if (!Sampled(keep_case ? d.cases.size() : 0, kept.size(), d.finding)) return;
  // Rows are objects only here: the sample's (junit.xml, report.html, --baseline).
  int64_t line = 0;
  for (const std::string& text : d.cases) {
    sample_.cases.push_back(CaseFromFields(SplitCsvLine(text), "worker", ++line));
  }
  for (const std::string* text : kept) {
    sample_.discrepancies.push_back(DiscrepancyFromFields(SplitCsvLine(*text), "worker", ++line));
  }
}

void RowSink::AddCount(Counts* counts, const std::string& key, int64_t n) {
  const auto it = counts->find(key);  // a hit allocates nothing
  if (it == counts->end()) counts->emplace(key, n);
  else it->second += n;
}

std::vector<SummaryRow> RowSink::Rows(const Counts& counts) {
  std::vector<const Counts::value_type*> sorted;
  sorted.reserve(counts.size());
  for (const auto& entry : counts) sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
  std::vector<SummaryRow> rows;
  rows.reserve(sorted.size());
  for (const auto* entry : sorted) {
    std::string* fields[] = {nullptr, nullptr, nullptr, nullptr, nullptr};
    SummaryRow row;
    fields[0] = &row.op, fields[1] = &row.engine, fields[2] = &row.scheme, fields[3] = &row.kind, fields[4] = &row.name;
    size_t start = 0;
    for (int f = 0; f < 5; ++f) {
      const size_t end = f < 4 ? entry->first.find('\x1f', start) : entry->first.size();
      fields[f]->assign(entry->first, start, end - start);
      start = end + 1;
    }
    row.count = entry->second;
    rows.push_back(std::move(row));
  }
  return rows;
}

bool RowSink::Sampled(size_t case_rows, size_t discrepancy_rows, bool finding) {
  case_rows_ += static_cast<int64_t>(case_rows);
  discrepancy_rows_ += static_cast<int64_t>(discrepancy_rows);
  if (case_rows > 0 && (sampled_cases_ < kSampleCases || (finding && sampled_findings_ < kSampleCases))) {
    (finding ? sampled_findings_ : sampled_cases_) += 1;
    return true;
  }
  sample_complete_ = false;  // a case whose rows were not written, or beyond the sample
  return false;
}

void RowSink::Append(Stream* s, const std::string& text, const char* name) {
  if (std::fwrite(text.data(), 1, text.size(), s->file) != text.size()) {
    throw std::runtime_error(dir_ + "/" + name + ": write failed: " + std::strerror(errno));
  }
  s->bytes += static_cast<int64_t>(text.size());
  s->hash = Fnv1a64(text, s->hash);
}

void RowSink::Flush(bool finished, const json& state) {
  const bool gap = finished && !waiting_.empty();
  if (gap) {
    // Rows behind a gap: the checkpoint stays at the gap (a resumed run runs them again), so it
    // is written before them, and the counts files it names stay.
    Flush(false, state);
    for (auto& [index, rows] : waiting_) Write(index, rows);
    waiting_.clear();
  }
  for (auto [s, name] : {std::pair{&cases_, kCasesFile}, {&discrepancies_, kDiscrepanciesFile}}) {
    if (std::fflush(s->file) != 0 || fsync(fileno(s->file)) != 0) {
      throw std::runtime_error(dir_ + "/" + name + ": write failed: " + std::strerror(errno));
    }
    if (!finished) continue;
    std::fclose(s->file);
    s->file = nullptr;
    const std::string path = dir_ + "/" + name;
    std::error_code ec;
    std::filesystem::rename(path + kPartialSuffix, path, ec);
    if (ec) throw std::runtime_error(path + ": cannot rename the finished file: " + ec.message());
  }
  if (!gap) return WriteCheckpoint(state, finished);
  WriteFileAtomically(dir_ + "/" + kSummaryFile, SummaryText(Summary()));
  WriteFileAtomically(dir_ + "/" + kOpsFile, SummaryText(LayerSummary()));
}

void RowSink::WriteCheckpoint(const json& state, bool finished) {
  namespace fs = std::filesystem;
  // summary.csv (a row per op chain prefix, engine, scheme and count name; 4 MB after a
  // 30-minute default run): while the run goes on it is the checkpoint's, under a generation's
  // name.
  const std::string summary = SummaryText(Summary()), layers = SummaryText(LayerSummary());
  WriteFileAtomically(dir_ + "/" + kOpsFile, layers);
  const std::string prefix = "checkpoint." + std::to_string(generation_) + ".";
  const std::string summary_name = finished ? kSummaryFile : prefix + kSummaryFile;
  const std::string layers_name = finished ? kOpsFile : prefix + kOpsFile;
  WriteFileAtomically(dir_ + "/" + summary_name, summary);
  if (!finished) WriteFileAtomically(dir_ + "/" + layers_name, layers);
  const json meta{{"next_index", next_},
                  {"generation", generation_},
                  {"cases", json::array({cases_.bytes, cases_.hash})},
                  {"discrepancies", json::array({discrepancies_.bytes, discrepancies_.hash})},
                  {"counts", {{"summary", CountsFileJson(summary_name, summary)}, {"ops", CountsFileJson(layers_name, layers)}}},
                  {"state", state}};
  WriteFileAtomically(dir_ + "/" + kCheckpointFile, JournalLine(meta));
  // The counts files no checkpoint names any more.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("checkpoint.", 0) == 0 && name != kCheckpointFile && name != summary_name && name != layers_name) {
      fs::remove(entry.path(), ec);
    }
  }
  ++generation_;
}

std::vector<SummaryRow> RowSink::Summary() const { return Rows(summary_); }
std::vector<SummaryRow> RowSink::LayerSummary() const { return Rows(layer_summary_); }

}  // namespace qdiff
