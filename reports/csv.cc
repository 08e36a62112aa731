#include "reports/csv.h"

#include <fstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

// fccp's header trips -Wstringop-truncation (strncpy of file names) under GCC 12.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-truncation"
#include <libfccp/csv.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <array>
#include <cerrno>
#include <filesystem>
#include <system_error>
#include <utility>

namespace qdiff {

namespace {

std::string BuildMessage(const std::string& file, int64_t line, const std::string& column,
                         const std::string& detail) {
  std::string msg = file;
  if (line > 0) msg += ":" + std::to_string(line);
  msg += ": ";
  if (!column.empty()) msg += "column " + column + ": ";
  msg += detail;
  return msg;
}

std::string ErrnoText(int err) { return std::system_category().message(err); }

bool NeedsQuotes(const std::string& s) {
  if (s.empty()) return false;
  if (s.find_first_of(",\"") != std::string::npos) return true;
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  return blank(s.front()) || blank(s.back());
}

}  // namespace

ReportError::ReportError(const std::string& message) : std::runtime_error(message) {}

ReportError::ReportError(std::string file, int64_t line, std::string column,
                         const std::string& detail)
    : std::runtime_error(BuildMessage(file, line, column, detail)),
      file_(std::move(file)),
      line_(line),
      column_(std::move(column)) {}

// ---------------------------------------------------------------------------------------------
// Writer

std::string Printable(const std::string& text, std::size_t max_bytes) {
  std::string out;
  const std::size_t n = std::min(text.size(), max_bytes);
  auto hex = [&out](unsigned char b) {
    static const char kDigits[] = "0123456789abcdef";
    out += "\\x";
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  };
  for (std::size_t i = 0; i < n;) {
    const unsigned char b = static_cast<unsigned char>(text[i]);
    if (b < 0x80) {
      if ((b < 0x20 && b != '\n' && b != '\t') || b == 0x7f) hex(b); else out += static_cast<char>(b);
      ++i;
      continue;
    }
    // A UTF-8 sequence: lead byte 110xxxxx / 1110xxxx / 11110xxx, then 10xxxxxx bytes; overlong
    // and surrogate forms are left to the terminal (they are not a safety problem).
    const std::size_t len = (b & 0xe0) == 0xc0 ? 2 : (b & 0xf0) == 0xe0 ? 3 : (b & 0xf8) == 0xf0 ? 4 : 0;
    bool valid = len > 0 && i + len <= text.size();
    for (std::size_t k = 1; valid && k < len; ++k) {
      valid = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
    }
    if (valid) {
      out.append(text, i, len);
      i += len;
    } else {
      hex(b);
      ++i;
    }
  }
  if (n < text.size()) out += "...";
  return out;
}

std::string CsvEscapeField(const std::string& field) {
  std::string s = field;
  for (char& c : s) {
    if (c == '\r' || c == '\n' || c == '\0') c = ' ';
  }
  if (!NeedsQuotes(s)) return s;
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string FormatCsvLine(const std::vector<std::string>& fields) {
  std::string line;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line += ',';
    line += CsvEscapeField(fields[i]);
  }
  line += '\n';
  return line;
}

std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false, in_quotes = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in_quotes) {
      if (c != '"') {
        fields.back() += c;
      } else if (i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else {
        in_quotes = false;
      }
    } else if (c == ',') {
      fields.emplace_back();
      quoted = false;
    } else if (c == '"' && fields.back().empty() && !quoted) {
      in_quotes = quoted = true;
    } else if (c == '"' || quoted) {
      throw std::invalid_argument("stray quote at byte " + std::to_string(i + 1));
    } else {
      fields.back() += c;
    }
  }
  if (in_quotes) throw std::invalid_argument("unterminated quote");
  return fields;
}

void WriteFileAtomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw ReportError(path, 0, "", "cannot create " + tmp + ": " + ErrnoText(errno));
  }
  auto fail = [&](const std::string& what) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    throw ReportError(path, 0, "", what + ": " + ErrnoText(err));
  };
  const char* data = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write " + tmp);
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) fail("cannot fsync " + tmp);
  const int rc = ::close(fd);
  fd = -1;
  if (rc != 0) fail("cannot close " + tmp);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) fail("cannot rename " + tmp + " to " + path);
  // Make the rename durable; not all file systems support fsync on directories.
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

CsvWriter::CsvWriter(const std::vector<std::string>& columns)
    : num_columns_(columns.size()), text_(FormatCsvLine(columns)) {
  if (columns.empty()) throw std::invalid_argument("CsvWriter: no columns");
}

void CsvWriter::AddRow(const std::vector<std::string>& fields) {
  if (fields.size() != num_columns_) {
    throw std::invalid_argument("CsvWriter::AddRow: " + std::to_string(fields.size()) +
                                " fields for " + std::to_string(num_columns_) + " columns");
  }
  text_ += FormatCsvLine(fields);
  ++num_rows_;
}

// ---------------------------------------------------------------------------------------------
// Reader

namespace {

using Trim = io::trim_chars<' ', '\t'>;
using Quote = io::double_quote_escape<',', '"'>;
template <std::size_t N>
using Reader = io::CSVReader<static_cast<unsigned>(N), Trim, Quote>;

// Splits a raw header line the way fccp splits a row (any number of columns).
std::vector<std::string> SplitLine(char* line) {
  std::vector<std::string> out;
  while (line != nullptr) {
    char* begin;
    char* end;
    io::detail::chop_next_column<Quote>(line, begin, end);
    Trim::trim(begin, end);
    Quote::unescape(begin, end);
    out.emplace_back(begin, end);
  }
  return out;
}

void CheckHeader(const std::string& path, const std::vector<std::string>& found,
                 const std::vector<std::string>& expected) {
  const std::size_t n = std::max(found.size(), expected.size());
  const std::string counts = " (header has " + std::to_string(found.size()) + " columns, expected " +
                             std::to_string(expected.size()) + ")";
  for (std::size_t i = 0; i < n; ++i) {
    if (i >= found.size()) {
      throw ReportError(path, 1, expected[i], "missing in header" + counts);
    }
    if (i >= expected.size()) {
      throw ReportError(path, 1, found[i], "unexpected extra column in header" + counts);
    }
    if (found[i] != expected[i]) {
      throw ReportError(path, 1, expected[i],
                        "header has \"" + found[i] + "\" at position " + std::to_string(i + 1) +
                            " instead");
    }
  }
}

// Fields of line `line` (1-based) of a file, split like the header; empty if unreadable.
std::vector<std::string> FieldsOfLine(const std::string& path, int64_t line) {
  std::ifstream in(path, std::ios::binary);
  std::string text;
  for (int64_t i = 0; i < line && std::getline(in, text); ++i) {
  }
  try {
    return SplitLine(text.data());
  } catch (const io::error::base&) {
    return {};
  }
}

template <std::size_t N, std::size_t... I>
void ReadImpl(const std::string& path, const std::vector<std::string>& expected,
              const CsvRowCallback& on_row, std::index_sequence<I...>) {
  const std::string expected_count = " (expected " + std::to_string(N) + ")";
  int64_t last_line = 1;  // fccp does not always fill in file_line: the next line is the culprit
  try {
    Reader<N> reader(path);
    reader.set_header(expected[I]...);  // column names for fccp's own messages
    char* header = reader.next_line();
    if (header == nullptr) throw ReportError(path, 0, "", "empty file, expected a header line");
    std::vector<std::string> found;
    try {
      found = SplitLine(header);
    } catch (const io::error::escaped_string_not_closed&) {
      throw ReportError(path, 1, "", "unterminated quoted field in header");
    }
    CheckHeader(path, found, expected);

    std::array<char*, N> raw{};
    std::vector<std::string> fields(N);
    while (reader.read_row(raw[I]...)) {
      for (std::size_t i = 0; i < N; ++i) fields[i].assign(raw[i] != nullptr ? raw[i] : "");
      last_line = static_cast<int64_t>(reader.get_file_line());
      on_row(fields, last_line);
    }
  } catch (const io::error::can_not_open_file& e) {
    throw ReportError(path, 0, "",
                      "cannot open file" + (e.errno_value != 0 ? ": " + ErrnoText(e.errno_value)
                                                               : std::string()));
  } catch (const io::error::too_few_columns& e) {
    // fccp does not say which column is missing: split the line again to name the first one.
    const std::vector<std::string> fields = FieldsOfLine(path, e.file_line);
    const std::string column = fields.size() < expected.size() ? expected[fields.size()] : "";
    throw ReportError(path, e.file_line, column,
                      "too few columns: the row has " + std::to_string(fields.size()) +
                          expected_count);
  } catch (const io::error::too_many_columns& e) {
    throw ReportError(path, e.file_line, "", "too many columns" + expected_count);
  } catch (const io::error::escaped_string_not_closed& e) {
    throw ReportError(path, e.file_line > 0 ? e.file_line : last_line + 1, "",
                      "unterminated quoted field (quoted fields may not span lines)");
  } catch (const io::error::line_length_limit_exceeded& e) {
    throw ReportError(path, e.file_line, "", "line longer than 2^24-1 bytes");
  } catch (const io::error::base& e) {
    // Generic fallback: pick up whatever location the concrete error type carries.
    int64_t line = 0;
    std::string column;
    if (auto* l = dynamic_cast<const io::error::with_file_line*>(&e)) line = l->file_line;
    if (auto* c = dynamic_cast<const io::error::with_column_name*>(&e)) column = c->column_name;
    throw ReportError(path, line > 0 ? line : 0, column, e.what());
  }
}

using ReadFn = void (*)(const std::string&, const std::vector<std::string>&,
                        const CsvRowCallback&);

template <std::size_t N>
void ReadN(const std::string& path, const std::vector<std::string>& expected,
           const CsvRowCallback& on_row) {
  ReadImpl<N>(path, expected, on_row, std::make_index_sequence<N>{});
}

template <std::size_t... I>
constexpr std::array<ReadFn, sizeof...(I)> MakeReadTable(std::index_sequence<I...>) {
  return {{&ReadN<I + 1>...}};
}

constexpr std::array<ReadFn, kMaxCsvColumns> kReadTable =
    MakeReadTable(std::make_index_sequence<kMaxCsvColumns>{});

}  // namespace

void ReadCsv(const std::string& path, const std::vector<std::string>& expected_columns,
             const CsvRowCallback& on_row) {
  if (expected_columns.empty() || expected_columns.size() > kMaxCsvColumns) {
    throw std::invalid_argument("ReadCsv: unsupported column count " +
                                std::to_string(expected_columns.size()));
  }
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw ReportError(path, 0, "", "cannot open file: is a directory");
  }
  kReadTable[expected_columns.size() - 1](path, expected_columns, on_row);
}

std::vector<std::vector<std::string>> ReadCsv(const std::string& path,
                                              const std::vector<std::string>& expected_columns) {
  std::vector<std::vector<std::string>> rows;
  ReadCsv(path, expected_columns,
          [&rows](const std::vector<std::string>& fields, int64_t) { rows.push_back(fields); });
  return rows;
}

}  // namespace qdiff
