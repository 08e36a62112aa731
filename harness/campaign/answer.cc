#include "harness/campaign/answer.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include "oracles/fnv1a.h"
#include "reports/vocabulary.h"

namespace qdiff {

namespace {

constexpr std::string_view kPrefix = "qdiff-case ";
constexpr size_t kHashDigits = 16;

// The payload's check as 16 lowercase hex digits: FNV-1a 64's step over 8-byte words, then
// Fnv1a64 over the tail, 8 times faster than Fnv1a64. It changes with any one changed word (each
// step is a bijection of the state); a line of another process fails it.
std::string HashText(std::string_view payload) {
  uint64_t h = kFnv1a64Basis;
  size_t at = 0;
  for (uint64_t word; at + sizeof word <= payload.size(); at += sizeof word) {
    std::memcpy(&word, payload.data() + at, sizeof word);
    h = (h ^ word) * 1099511628211ull;
  }
  char hash[kHashDigits + 1];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(Fnv1a64(payload.substr(at), h)));
  return std::string(hash, kHashDigits);
}

class Writer {
 public:
  void Item(std::string_view bytes) {
    out_.append(std::to_string(bytes.size())).append(1, ':').append(bytes);
  }
  void Number(int64_t n) { Item(std::to_string(n)); }
  void Seconds(double s) {
    char buf[32];
    Item(std::string_view(buf, static_cast<size_t>(std::snprintf(buf, sizeof buf, "%.17g", s))));
  }
  void Strings(const std::vector<std::string>& items) {
    Number(static_cast<int64_t>(items.size()));
    for (const std::string& s : items) Item(s);
  }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

// Reads the items Writer wrote; any malformed item throws std::invalid_argument.
class Reader {
 public:
  explicit Reader(std::string_view payload) : rest_(payload) {}
  std::string_view Item() {
    size_t length = 0;
    const auto [end, ec] = std::from_chars(rest_.data(), rest_.data() + rest_.size(), length);
    const size_t digits = static_cast<size_t>(end - rest_.data());
    if (ec != std::errc() || digits == 0 || digits >= rest_.size() || *end != ':' ||
        length > rest_.size() - digits - 1) {
      throw std::invalid_argument("malformed item");
    }
    const std::string_view item = rest_.substr(digits + 1, length);
    rest_.remove_prefix(digits + 1 + length);
    return item;
  }
  int64_t Number() {
    const std::string_view item = Item();
    int64_t n = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), n);
    if (ec != std::errc() || end != item.data() + item.size()) throw std::invalid_argument("not a number");
    return n;
  }
  double Seconds() {
    const std::string text(Item());
    char* end = nullptr;
    const double s = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size()) throw std::invalid_argument("not a number");
    return s;
  }
  // A count N (at most what the payload can hold), then N items.
  size_t Count() {
    const int64_t n = Number();
    if (n < 0 || static_cast<size_t>(n) > rest_.size()) throw std::invalid_argument("bad count");
    return static_cast<size_t>(n);
  }
  std::vector<std::string> Strings() {
    std::vector<std::string> items(Count());
    for (std::string& s : items) s = Item();
    return items;
  }
  bool done() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

}  // namespace

std::string FormatCaseAnswer(const CaseAnswer& a) {
  const PackedRows& r = a.rows;
  Writer w;
  w.out().assign(kPrefix).append(kHashDigits + 1, ' ');  // the hash goes there
  for (int64_t n : {a.index, a.previous, a.size, a.rss_kb}) w.Number(n);
  w.Seconds(a.libtorch_s);
  w.Seconds(a.total_s);
  w.Item(r.case_id);
  w.Number(r.finding);
  w.Number(r.unexplained);
  w.Strings(a.corners);
  w.Strings(a.signatures);
  w.Number(static_cast<int64_t>(r.cases.size()));
  for (size_t i = 0; i < r.cases.size(); ++i) {
    w.Item(r.cases[i]);
    w.Item(r.case_groups.at(i));
  }
  w.Number(static_cast<int64_t>(r.discrepancies.size()));
  for (size_t i = 0; i < r.discrepancies.size(); ++i) {
    const ExampleRowKey& k = r.discrepancy_keys.at(i);
    w.Item(r.discrepancies[i]);
    for (const std::string* s : {&k.engine, &k.layer_op, &k.scheme}) w.Item(*s);
    w.Item(DiffClassName(k.cls));
    w.Number(k.layer);
    w.Number(k.index);
  }
  for (const auto* counts : {&r.summary, &r.layer_summary}) {
    w.Number(static_cast<int64_t>(counts->size()));
    for (const auto& [key, n] : *counts) {
      w.Item(key);
      w.Number(n);
    }
  }
  std::string& out = w.out();
  if (out.find('\n') != std::string::npos) throw std::invalid_argument("a case answer item holds a newline");
  out.replace(kPrefix.size(), kHashDigits, HashText(std::string_view(out).substr(kPrefix.size() + kHashDigits + 1)));
  return std::move(out);
}

std::optional<CaseAnswer> ParseCaseAnswer(const std::string& line) {
  const std::string_view text(line);
  const size_t payload = kPrefix.size() + kHashDigits + 1;
  if (text.size() < payload || text.substr(0, kPrefix.size()) != kPrefix || text[payload - 1] != ' ') {
    return std::nullopt;
  }
  if (text.substr(kPrefix.size(), kHashDigits) != HashText(text.substr(payload))) return std::nullopt;
  try {
    Reader in(text.substr(payload));
    CaseAnswer a;
    PackedRows& r = a.rows;
    a.index = in.Number();
    a.previous = in.Number();
    a.size = in.Number();
    a.rss_kb = in.Number();
    a.libtorch_s = in.Seconds();
    a.total_s = in.Seconds();
    r.case_id = in.Item();
    r.finding = in.Number() != 0;
    r.unexplained = in.Number();
    a.corners = in.Strings();
    a.signatures = in.Strings();
    r.cases.resize(in.Count());
    r.case_groups.resize(r.cases.size());
    for (size_t i = 0; i < r.cases.size(); ++i) {
      r.cases[i] = in.Item();
      r.case_groups[i] = in.Item();
    }
    r.discrepancies.resize(in.Count());
    r.discrepancy_keys.resize(r.discrepancies.size());
    for (size_t i = 0; i < r.discrepancies.size(); ++i) {
      ExampleRowKey& k = r.discrepancy_keys[i];
      r.discrepancies[i] = in.Item();
      for (std::string* s : {&k.engine, &k.layer_op, &k.scheme}) *s = in.Item();
      const std::optional<DiffClass> cls = ParseDiffClass(std::string(in.Item()));
      if (!cls) return std::nullopt;
      k.cls = *cls;
      k.layer = in.Number();
      k.index = in.Number();
    }
    for (auto* counts : {&r.summary, &r.layer_summary}) {
      counts->resize(in.Count());
      for (auto& [key, n] : *counts) {
        key = in.Item();
        n = in.Number();
      }
    }
    if (!in.done() || a.index < 0) return std::nullopt;
    return a;
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
}

}  // namespace qdiff
