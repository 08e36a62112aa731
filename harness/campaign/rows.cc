#include "harness/campaign/rows.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "harness/campaign/run_folder.h"  // kPartialSuffix
#include "reports/csv.h"
#include "reports/schema.h"

namespace qdiff {

namespace {

std::vector<SummaryRow> Rows(const std::map<std::tuple<std::string, std::string, std::string,
                                                       std::string, std::string>,
                                            int64_t>& counts) {
  std::vector<SummaryRow> rows;
  for (const auto& [key, count] : counts) {
    const auto& [op, engine, scheme, kind, name] = key;
    rows.push_back(SummaryRow{op, engine, scheme, kind, name, count});
  }
  return rows;
}

}  // namespace

RowSink::RowSink(std::string dir, int64_t first_index, int64_t step)
    : dir_(std::move(dir)), next_(first_index), step_(step) {
  auto open = [this](const char* name, const std::vector<std::string>& columns) {
    const std::string path = dir_ + "/" + name + kPartialSuffix;
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (!f) throw std::runtime_error(path + ": cannot open for writing: " + std::strerror(errno));
    WriteLine(f, FormatCsvLine(columns), name);
    return f;
  };
  cases_ = open(kCasesFile, CaseColumns());
  discrepancies_ = open(kDiscrepanciesFile, DiscrepancyColumns());
}

RowSink::~RowSink() {
  for (std::FILE* f : {cases_, discrepancies_}) {
    if (f) std::fclose(f);
  }
}

void RowSink::Add(int64_t index, CaseRows rows) {
  waiting_[index] = std::move(rows);
  while (!waiting_.empty() && waiting_.begin()->first <= next_) {
    auto it = waiting_.begin();
    Write(it->second);
    next_ = std::max(next_, it->first + step_);
    waiting_.erase(it);
  }
}

void RowSink::Write(CaseRows& d) {
  std::sort(d.cases.begin(), d.cases.end(), [](const CaseRow& a, const CaseRow& b) {
    return std::tie(a.engine, a.scheme) < std::tie(b.engine, b.scheme);
  });
  std::stable_sort(d.discrepancies.begin(), d.discrepancies.end(),
                   [](const DiscrepancyRow& a, const DiscrepancyRow& b) {
                     return std::tie(a.engine, a.scheme, a.layer, a.index) <
                            std::tie(b.engine, b.scheme, b.layer, b.index);
                   });
  std::map<std::pair<std::string, std::string>, std::string> op_of;  // (engine, scheme) → op
  bool finding = false;
  case_rows_ += static_cast<int64_t>(d.cases.size());
  discrepancy_rows_ += static_cast<int64_t>(d.discrepancies.size());
  for (const CaseRow& row : d.cases) {
    WriteLine(cases_, FormatCsvLine(CaseToFields(row)), kCasesFile);
    ++summary_[{row.op, row.engine, row.scheme, "verdict", VerdictName(row.verdict)}];
    op_of[{row.engine, row.scheme}] = row.op;
    finding |= IsFinding(row.verdict);
  }
  for (const DiscrepancyRow& row : d.discrepancies) {
    WriteLine(discrepancies_, FormatCsvLine(DiscrepancyToFields(row)), kDiscrepanciesFile);
    ++summary_[{op_of[{row.engine, row.scheme}], row.engine, row.scheme, "class", DiffClassName(row.cls)}];
  }
  for (const SummaryRow& r : SummarizeLayers(d.cases, d.discrepancies)) {
    layer_summary_[{r.op, r.engine, r.scheme, r.kind, r.name}] += r.count;
  }
  if (sampled_cases_ < kSampleCases || (finding && sampled_findings_ < kSampleCases)) {
    (finding ? sampled_findings_ : sampled_cases_) += 1;
    sample_.cases.insert(sample_.cases.end(), d.cases.begin(), d.cases.end());
    sample_.discrepancies.insert(sample_.discrepancies.end(), d.discrepancies.begin(),
                                 d.discrepancies.end());
  } else {
    sample_complete_ = false;
  }
}

void RowSink::WriteLine(std::FILE* f, const std::string& line, const char* name) {
  if (std::fwrite(line.data(), 1, line.size(), f) != line.size()) {
    throw std::runtime_error(dir_ + "/" + name + ": write failed: " + std::strerror(errno));
  }
}

void RowSink::Flush(bool finished) {
  if (finished) {
    for (auto& [index, rows] : waiting_) Write(rows);
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
  WriteSummary(dir_ + "/" + kSummaryFile, Summary());
  WriteSummary(dir_ + "/" + kOpsFile, LayerSummary());
}

std::vector<SummaryRow> RowSink::Summary() const { return Rows(summary_); }
std::vector<SummaryRow> RowSink::LayerSummary() const { return Rows(layer_summary_); }

}  // namespace qdiff
