// journal.jsonl: what `--resume` needs, appended as cases finish. One record per line, each
// checksummed: {"sum":"<16 hex digits>","rec":<record>}, where sum is the FNV-1a 64-bit hash of
// the record's bytes exactly as written. The first record is the header, the settings that
// define the run; a line whose sum does not match (torn or altered) is never trusted.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace qdiff {

constexpr char kJournalFile[] = "journal.jsonl";

// One journal line (with its newline) holding `record`.
std::string JournalLine(const nlohmann::json& record);
// The record of a journal line (without its newline); nullopt if the line is torn, is not a
// journal line, or its checksum does not match the record.
std::optional<nlohmann::json> ParseJournalLine(const std::string& line);

class Journal {
 public:
  // Called for each line that is not trusted, with its 1-based number and the reason.
  using DropLine = std::function<void(int64_t line, const std::string& why)>;

  // The records after the header of the journal at `path`, each with "line" (its line number).
  // The header's `keys` must equal those of `header`, else RunFolderError names the key; a
  // journal without a header is refused too. A torn last line (killed mid-write) is dropped
  // silently, any other untrusted line goes to `drop`.
  static std::vector<nlohmann::json> Read(const std::string& path, const nlohmann::json& header,
                                          const std::vector<const char*>& keys,
                                          const DropLine& drop);

  // Replaces the journal at `path`, atomically, with `header` and then `records` (--resume keeps
  // the records that still hold).
  static void Rewrite(const std::string& path, const nlohmann::json& header,
                      const std::vector<nlohmann::json>& records);

  // resume: appends to the journal (ending a torn last line first); else creates it with
  // `header` as its first record.
  Journal(std::string path, bool resume, const nlohmann::json& header);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Writes and flushes one record: a kill after Append returns loses nothing.
  void Append(const nlohmann::json& record);
  // fsync: the journal survives a machine crash up to here.
  void Sync();
  // The journal's size and the FNV-1a 64 of its bytes (a checkpoint records them).
  int64_t bytes() const { return bytes_; }
  uint64_t hash() const { return hash_; }

 private:
  void Write(const std::string& text);

  std::string path_;
  std::FILE* file_ = nullptr;
  int64_t bytes_ = 0;
  uint64_t hash_ = 14695981039346656037ull;  // FNV-1a 64 of no bytes
};

}  // namespace qdiff
