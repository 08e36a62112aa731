#include "harness/campaign/journal.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "harness/campaign/run_folder.h"  // RunFolderError
#include "oracles/fnv1a.h"
#include "reports/csv.h"  // WriteFileAtomically

namespace qdiff {

using nlohmann::json;

namespace {

constexpr char kRecordPrefix[] = "{\"sum\":\"";
constexpr size_t kSumDigits = 16;
constexpr char kRecordMiddle[] = "\",\"rec\":";

std::string Hex16(uint64_t v) {
  char buf[kSumDigits + 1];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// True when the file's last byte is not a newline (killed in the middle of a line).
bool EndsTorn(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(0, std::ios::end);
  if (!in || in.tellg() <= 0) return false;
  in.seekg(-1, std::ios::end);
  return in.get() != '\n';
}

}  // namespace

std::string JournalLine(const json& record) {
  const std::string rec = record.dump();
  return kRecordPrefix + Hex16(Fnv1a64(rec)) + kRecordMiddle + rec + "}\n";
}

std::optional<json> ParseJournalLine(const std::string& line) {
  const size_t prefix = sizeof kRecordPrefix - 1, middle = sizeof kRecordMiddle - 1;
  const size_t head = prefix + kSumDigits + middle;
  if (line.size() < head + 1 || line.compare(0, prefix, kRecordPrefix) != 0 ||
      line.compare(prefix + kSumDigits, middle, kRecordMiddle) != 0 || line.back() != '}') {
    return std::nullopt;
  }
  const char* rec = line.data() + head;
  const size_t rec_size = line.size() - head - 1;
  if (line.compare(prefix, kSumDigits, Hex16(Fnv1a64(std::string_view(rec, rec_size)))) != 0) return std::nullopt;
  json j = json::parse(rec, rec + rec_size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

std::vector<json> Journal::Read(const std::string& path, const json& header,
                                const std::vector<const char*>& keys, const DropLine& drop) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw RunFolderError(path + ": no journal to resume from");
  const bool torn = EndsTorn(path);
  std::vector<json> records;
  bool has_header = false;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    std::optional<json> j = ParseJournalLine(line);
    if (!j) {
      if (!(torn && in.peek() == EOF)) drop(number, "its checksum does not match");
      continue;
    }
    if (j->value("type", "") != "header") {
      if (!has_header) throw RunFolderError(path + ": the journal has no header line");
      (*j)["line"] = number;
      records.push_back(std::move(*j));
      continue;
    }
    for (const char* key : keys) {
      if (!j->contains(key) || (*j)[key] != header[key]) {
        throw RunFolderError(path + ": field '" + key + "' (" + j->value(key, json()).dump() +
                             ") differs from this run's (" + header[key].dump() +
                             "): --resume needs the same settings");
      }
    }
    has_header = true;
  }
  if (!has_header) throw RunFolderError(path + ": the journal has no header line");
  return records;
}

void Journal::Rewrite(const std::string& path, const json& header, const std::vector<json>& records) {
  std::string text = JournalLine(header);
  for (const json& record : records) text += JournalLine(record);
  WriteFileAtomically(path, text);
}

Journal::Journal(std::string path, bool resume, const json& header) : path_(std::move(path)) {
  const bool torn = resume && EndsTorn(path_);
  if (resume) {  // what the file holds already: its size and hash go on from there
    std::ifstream in(path_, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    bytes_ = static_cast<int64_t>(text.str().size());
    hash_ = Fnv1a64(text.str());
  }
  file_ = std::fopen(path_.c_str(), resume ? "a" : "w");
  if (!file_) throw std::runtime_error(path_ + ": cannot open the journal for writing");
  if (torn) Write("\n");  // end the torn line, so the next record starts a line of its own
  if (!resume) Append(header);
}

Journal::~Journal() {
  if (file_) std::fclose(file_);
}

void Journal::Write(const std::string& text) {
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size() || std::fflush(file_) != 0) {
    throw std::runtime_error(path_ + ": write failed: " + std::strerror(errno));
  }
  bytes_ += static_cast<int64_t>(text.size());
  hash_ = Fnv1a64(text, hash_);
}

void Journal::Append(const json& record) { Write(JournalLine(record)); }

void Journal::Sync() { fsync(fileno(file_)); }

}  // namespace qdiff
