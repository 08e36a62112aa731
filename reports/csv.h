// CSV files of the reports: an RFC 4180 writer with atomic whole-file writes, and a reader built on
// fast-cpp-csv-parser (libfccp) that checks the header exactly and returns every field as text.
//
// Dialect: comma separator, '"' quoting with doubled quotes, '\n' line ends, one header line,
// exactly one newline at the end of the file. Raw CR/LF (and NUL) cannot be read back by fccp,
// so the writer replaces them with a space. The reader trims unquoted spaces/tabs, so the writer
// quotes fields with leading/trailing spaces or tabs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace qdiff {

// Any error reading or writing a report file. what() is "FILE:LINE: column COL: DETAIL", with
// ":LINE" left out when no line applies (line() == 0) and "column COL: " when no column applies.
class ReportError : public std::runtime_error {
 public:
  explicit ReportError(const std::string& message);
  ReportError(std::string file, int64_t line, std::string column, const std::string& detail);

  const std::string& file() const { return file_; }
  int64_t line() const { return line_; }  // 1-based; 0 if none
  const std::string& column() const { return column_; }

 private:
  std::string file_;
  int64_t line_ = 0;
  std::string column_;
};

// `text` safe to echo in a message: valid UTF-8, newlines and tabs are kept; other control
// characters and bytes of invalid UTF-8 become \xNN; cut after `max_bytes` input bytes ("...").
std::string Printable(const std::string& text, std::size_t max_bytes = 200);

// One field as written: CR, LF and NUL become ' '; then quoted (quotes doubled) if it contains
// ',' or '"' or starts/ends with ' ' or '\t'.
std::string CsvEscapeField(const std::string& field);
// Escaped fields joined by ',' plus '\n'.
std::string FormatCsvLine(const std::vector<std::string>& fields);

// Writes PATH.tmp, fsyncs it, renames it over PATH (then fsyncs the directory, best effort).
// On failure removes PATH.tmp, leaves PATH untouched and throws ReportError naming PATH and the
// strerror text.
void WriteFileAtomically(const std::string& path, const std::string& content);

// The fields of one line as FormatCsvLine writes it (without its '\n'): the inverse of
// FormatCsvLine. Throws std::invalid_argument for an unterminated quote or a quote inside an
// unquoted field.
std::vector<std::string> SplitCsvLine(const std::string& line);

// Collects rows (escaped as they are added) and writes the whole file atomically.
class CsvWriter {
 public:
  explicit CsvWriter(const std::vector<std::string>& columns);
  // Throws std::invalid_argument if fields.size() differs from the number of columns.
  void AddRow(const std::vector<std::string>& fields);
  std::size_t num_rows() const { return num_rows_; }
  // Header plus the rows added so far, exactly as WriteFile writes it.
  const std::string& contents() const { return text_; }
  void WriteFile(const std::string& path) const { WriteFileAtomically(path, text_); }

 private:
  std::size_t num_columns_;
  std::size_t num_rows_ = 0;
  std::string text_;
};

// Largest column count ReadCsv supports (fccp needs the count at compile time).
constexpr std::size_t kMaxCsvColumns = 32;

// Called once per data row with the unquoted fields and the 1-based line number of the row
// (the header is line 1).
using CsvRowCallback = std::function<void(const std::vector<std::string>& fields, int64_t line)>;

// Reads PATH, whose header must equal expected_columns exactly (same names, same order), and
// calls on_row for each data row. Every problem (missing file, wrong header, too few/many
// columns, unterminated quote) throws ReportError naming the file and, where known, line and
// column. Exceptions thrown by on_row propagate unchanged.
void ReadCsv(const std::string& path, const std::vector<std::string>& expected_columns,
             const CsvRowCallback& on_row);
// Same, collecting all rows; rows[i] is on line i + 2.
std::vector<std::vector<std::string>> ReadCsv(const std::string& path,
                                              const std::vector<std::string>& expected_columns);

}  // namespace qdiff
