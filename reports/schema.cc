#include "reports/schema.h"

#include <charconv>
#include <cmath>
#include <algorithm>
#include <limits>
#include <map>
#include <stdexcept>
#include <optional>
#include <system_error>
#include <type_traits>
#include <variant>

namespace qdiff {

namespace {

enum class Check {
  kNone,         // strings: may be empty (numbers are required unless their field is optional)
  kNonEmpty,     // strings: must not be empty
  kNonNegative,  // integers: must be >= 0
  kClassCounts,       // strings: "" or "class:count;..." (ParseClassCounts)
  kLayerClassCounts,  // strings: "" or "layer:class:count;..." (ParseLayerClassCounts)
};

// One column: its name, the field it maps to, and what a valid value is. A std::optional field
// is "not applicable" when empty: written as an empty cell, and an empty cell reads back as
// std::nullopt (a required number's empty cell is an error).
template <class Row>
struct Field {
  const char* name;
  std::variant<std::string Row::*, int64_t Row::*, uint64_t Row::*, double Row::*, Verdict Row::*,
               DiffClass Row::*, std::optional<int64_t> Row::*, std::optional<double> Row::*>
      member;
  Check check = Check::kNone;
};

// The schemas, one line per column: what it holds and when it is empty. Column order = field
// order in rows.h; the README's "Report files" section says the same.
const std::vector<Field<CaseRow>>& CaseFields() {
  static const std::vector<Field<CaseRow>> fields = {
      {"case_id", &CaseRow::case_id, Check::kNonEmpty},  // "s<seed>-c<index>"
      {"seed", &CaseRow::seed},                          // the case's own generator seed
      {"op", &CaseRow::op, Check::kNonEmpty},            // op chain, "conv2d>relu>add"
      {"engine", &CaseRow::engine, Check::kNonEmpty},
      {"scheme", &CaseRow::scheme, Check::kNonEmpty},    // a scheme, or "kernel" (a plugin)
      {"weight_quant", &CaseRow::weight_quant},          // per_tensor | per_channel; empty: no weights
      {"shape", &CaseRow::shape},                        // the layers' shapes, human-readable
      {"elements", &CaseRow::elements, Check::kNonNegative},  // output elements compared
      {"mismatches_vs_libtorch", &CaseRow::mismatches_vs_libtorch, Check::kNonNegative},
      {"mismatches_vs_float", &CaseRow::mismatches_vs_float, Check::kNonNegative},
      {"max_abs_diff_lsb", &CaseRow::max_abs_diff_lsb, Check::kNonNegative},  // empty: 0 elements
      {"mean_signed_diff_lsb", &CaseRow::mean_signed_diff_lsb},              // empty: 0 elements
      {"verdict", &CaseRow::verdict, Check::kNonEmpty},
      {"classes", &CaseRow::classes, Check::kClassCounts},  // "class:count;..." sorted by class; empty: no difference
      {"layer_classes", &CaseRow::layer_classes, Check::kLayerClassCounts},  // "layer:class:count;..."; the exact counts
      {"message", &CaseRow::message},  // why rejected/crashed/timeout; empty otherwise
  };
  return fields;
}

const std::vector<Field<DiscrepancyRow>>& DiscrepancyFields() {
  using R = DiscrepancyRow;
  static const std::vector<Field<R>> fields = {
      {"case_id", &R::case_id, Check::kNonEmpty},
      {"engine", &R::engine, Check::kNonEmpty},
      {"scheme", &R::scheme, Check::kNonEmpty},
      {"layer", &R::layer, Check::kNonNegative},
      {"index", &R::index, Check::kNonNegative},      // flat row-major index into the layer output
      {"channel", &R::channel, Check::kNonNegative},  // output channel (0 for 1-D outputs)
      // conv/linear only (empty for ops without weights):
      {"acc", &R::acc},                    // sum (x - z_x)(w - z_w), bias excluded
      {"integer_bias", &R::integer_bias},  // int32 QuantizeBias; empty unless the recipe adds it and the layer has a bias
      {"bias", &R::bias},                  // float bias of the channel; empty: no bias
      {"multiplier", &R::multiplier},      // Q31 multiplier; empty unless the recipe's multiplier is Q31
      {"shift", &R::shift},                // real M = multiplier * 2^(shift - 31); empty with multiplier
      // Every op (empty only where LibTorch's output shape differs from the pipeline's):
      {"real_multiplier", &R::real_multiplier},  // s_x * s_w / s_y; ops without weights: s_in / s_out
      {"exact_value", &R::exact_value},          // exact real output before rounding, + z_y
      {"integer_out", &R::integer_out},          // the scheme's (or kernel's) output
      {"libtorch_out", &R::libtorch_out},        // LibTorch's int_repr
      {"float_out", &R::float_out},              // the float oracle's; empty: its shape differs
      {"diff_lsb", &R::diff_lsb},                // integer_out - libtorch_out
      {"cls", &R::cls, Check::kNonEmpty},        // why it differs (reports/vocabulary.h)
      {"layer_op", &R::layer_op},                // "conv2d_relu", "add", ...
      {"recipe", &R::recipe},                    // the scheme, the op recipe, or "kernel:<name>"
  };
  return fields;
}

const std::vector<Field<SummaryRow>>& SummaryFields() {
  using R = SummaryRow;
  static const std::vector<Field<R>> fields = {
      {"op", &R::op, Check::kNonEmpty},         {"engine", &R::engine, Check::kNonEmpty},
      {"scheme", &R::scheme, Check::kNonEmpty}, {"kind", &R::kind, Check::kNonEmpty},
      {"name", &R::name, Check::kNonEmpty},     {"count", &R::count, Check::kNonNegative},
  };
  return fields;
}

const std::vector<Field<FingerprintRow>>& FingerprintFields() {
  using R = FingerprintRow;
  static const std::vector<Field<R>> fields = {
      {"op", &R::op, Check::kNonEmpty},
      {"engine", &R::engine, Check::kNonEmpty},
      {"scheme", &R::scheme, Check::kNonEmpty},
      {"family", &R::family, Check::kNonEmpty},
      {"cases", &R::cases, Check::kNonNegative},
      {"elements", &R::elements, Check::kNonNegative},
      {"mismatches", &R::mismatches, Check::kNonNegative},
      {"unexplained", &R::unexplained, Check::kNonNegative},
      {"max_abs_diff_lsb", &R::max_abs_diff_lsb, Check::kNonNegative},
  };
  return fields;
}

template <class Row>
std::vector<std::string> NamesOf(const std::vector<Field<Row>>& fields) {
  std::vector<std::string> names;
  for (const auto& f : fields) names.emplace_back(f.name);
  return names;
}

// Shown value in messages: quoted, cut to a readable length.
std::string Show(const std::string& text) {
  constexpr std::size_t kMax = 60;
  if (text.size() <= kMax) return "\"" + text + "\"";
  return "\"" + text.substr(0, kMax) + "...\"";
}

template <class Int>
Int ParseInteger(const std::string& text, Check check, const std::string& file, int64_t line,
                 const char* column) {
  if (text.empty()) throw ReportError(file, line, column, "required integer value is empty");
  Int value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value, 10);
  if (ec == std::errc::result_out_of_range) {
    throw ReportError(file, line, column,
                      "integer " + Show(text) + " is out of range for " +
                          (std::is_signed_v<Int> ? "int64" : "uint64"));
  }
  if (ec != std::errc() || ptr != end) {
    if (std::is_unsigned_v<Int> && text[0] == '-') {
      throw ReportError(file, line, column, "value " + Show(text) + " must not be negative");
    }
    throw ReportError(file, line, column, "not an integer: " + Show(text));
  }
  if constexpr (std::is_signed_v<Int>) {
    if (check == Check::kNonNegative && value < 0) {
      throw ReportError(file, line, column, "value " + Show(text) + " must not be negative");
    }
  }
  return value;
}

double ParseDouble(const std::string& text, const std::string& file, int64_t line,
                   const char* column) {
  if (text.empty()) throw ReportError(file, line, column, "required number is empty");
  double value = 0;
  const char* end = text.data() + text.size();
  // from_chars, not strtod: locale-free, and glibc's strtod sets ERANGE on subnormals (5e-324).
  const auto [ptr, ec] = std::from_chars(text.data(), end, value, std::chars_format::general);
  if (ec == std::errc::result_out_of_range) {
    throw ReportError(file, line, column, "number " + Show(text) + " is out of range for double");
  }
  if (ec != std::errc() || ptr != end) {
    throw ReportError(file, line, column, "not a number: " + Show(text));
  }
  if (!std::isfinite(value)) {
    throw ReportError(file, line, column, "non-finite value " + Show(text) + " is not allowed");
  }
  return value;
}

template <class Row>
std::vector<std::string> ToFields(const Row& row, const std::vector<Field<Row>>& schema) {
  std::vector<std::string> out;
  out.reserve(schema.size());
  for (const auto& f : schema) {
    std::visit(
        [&](auto member) {
          const auto& v = row.*member;
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::string>) {
            out.push_back(v);
          } else if constexpr (std::is_same_v<T, std::optional<double>>) {
            out.push_back(v ? FormatDouble(*v) : "");
          } else if constexpr (std::is_same_v<T, std::optional<int64_t>>) {
            out.push_back(v ? std::to_string(*v) : "");
          } else if constexpr (std::is_same_v<T, double>) {
            out.push_back(FormatDouble(v));
          } else if constexpr (std::is_same_v<T, Verdict>) {
            out.push_back(VerdictName(v));
          } else if constexpr (std::is_same_v<T, DiffClass>) {
            out.push_back(DiffClassName(v));
          } else {
            out.push_back(std::to_string(v));
          }
        },
        f.member);
  }
  return out;
}

template <class Row>
Row FromFields(const std::vector<std::string>& fields, const std::vector<Field<Row>>& schema,
               const std::string& file, int64_t line) {
  if (fields.size() != schema.size()) {
    throw ReportError(file, line, "",
                      "expected " + std::to_string(schema.size()) + " fields, got " +
                          std::to_string(fields.size()));
  }
  Row row;
  for (std::size_t i = 0; i < schema.size(); ++i) {
    const Field<Row>& f = schema[i];
    const std::string& text = fields[i];
    std::visit(
        [&](auto member) {
          auto& v = row.*member;
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::string>) {
            if (f.check == Check::kNonEmpty && text.empty()) {
              throw ReportError(file, line, f.name, "required value is empty");
            }
            try {
              if (f.check == Check::kClassCounts) ParseClassCounts(text);
              if (f.check == Check::kLayerClassCounts) ParseLayerClassCounts(text);
            } catch (const std::invalid_argument& e) {
              throw ReportError(file, line, f.name, e.what());
            }
            v = text;
          } else if constexpr (std::is_same_v<T, std::optional<double>>) {
            if (!text.empty()) v = ParseDouble(text, file, line, f.name);
          } else if constexpr (std::is_same_v<T, std::optional<int64_t>>) {
            if (!text.empty()) v = ParseInteger<int64_t>(text, f.check, file, line, f.name);
          } else if constexpr (std::is_same_v<T, double>) {
            v = ParseDouble(text, file, line, f.name);
          } else if constexpr (std::is_same_v<T, Verdict>) {
            if (text.empty()) throw ReportError(file, line, f.name, "required value is empty");
            const std::optional<Verdict> verdict = ParseVerdict(text);
            if (!verdict) throw ReportError(file, line, f.name, "unknown verdict " + Show(text));
            v = *verdict;
          } else if constexpr (std::is_same_v<T, DiffClass>) {
            if (text.empty()) throw ReportError(file, line, f.name, "required value is empty");
            const std::optional<DiffClass> cls = ParseDiffClass(text);
            if (!cls) throw ReportError(file, line, f.name, "unknown class " + Show(text));
            v = *cls;
          } else {
            v = ParseInteger<T>(text, f.check, file, line, f.name);
          }
        },
        f.member);
  }
  return row;
}

}  // namespace

namespace {

// The ';'-separated entries of a count list, each split at ':' into exactly `parts` fields, the
// last a count >= 1; std::invalid_argument naming the entry otherwise.
std::vector<std::vector<std::string>> CountEntries(const std::string& text, size_t parts) {
  std::vector<std::vector<std::string>> entries;
  if (text.empty()) return entries;
  size_t start = 0;
  for (;;) {
    const size_t end = std::min(text.find(';', start), text.size());
    const std::string entry = text.substr(start, end - start);
    std::vector<std::string> fields;
    for (size_t a = 0;;) {
      const size_t b = std::min(entry.find(':', a), entry.size());
      fields.push_back(entry.substr(a, b - a));
      if (b == entry.size()) break;
      a = b + 1;
    }
    int64_t count = 0;
    const std::string& n = fields.back();
    const auto [ptr, ec] = std::from_chars(n.data(), n.data() + n.size(), count);
    if (fields.size() != parts || ec != std::errc() || ptr != n.data() + n.size() || count < 1) {
      throw std::invalid_argument("malformed count entry " + Show(entry));
    }
    entries.push_back(std::move(fields));
    if (end == text.size()) return entries;
    start = end + 1;
  }
}

DiffClass ClassOfEntry(const std::string& name, const std::string& entry) {
  const std::optional<DiffClass> cls = ParseDiffClass(name);
  if (!cls) throw std::invalid_argument("unknown class in count entry " + Show(entry));
  return *cls;
}

}  // namespace

std::vector<ClassCount> ParseClassCounts(const std::string& text) {
  std::vector<ClassCount> out;
  for (const auto& e : CountEntries(text, 2)) {
    out.push_back({ClassOfEntry(e[0], e[0] + ":" + e[1]), std::stoll(e[1])});
  }
  return out;
}

std::vector<LayerClassCount> ParseLayerClassCounts(const std::string& text) {
  std::vector<LayerClassCount> out;
  for (const auto& e : CountEntries(text, 3)) {
    const std::string entry = e[0] + ":" + e[1] + ":" + e[2];
    int64_t layer = -1;
    const auto [ptr, ec] = std::from_chars(e[0].data(), e[0].data() + e[0].size(), layer);
    if (ec != std::errc() || ptr != e[0].data() + e[0].size() || layer < 0) {
      throw std::invalid_argument("malformed layer in count entry " + Show(entry));
    }
    out.push_back({layer, ClassOfEntry(e[1], entry), std::stoll(e[2])});
  }
  return out;
}

std::string FormatLayerClassCounts(const std::map<std::pair<int64_t, std::string>, int64_t>& counts) {
  std::string s;
  for (const auto& [key, n] : counts) {
    s += (s.empty() ? "" : ";") + std::to_string(key.first) + ":" + key.second + ":" + std::to_string(n);
  }
  return s;
}

const std::vector<std::string>& CaseColumns() {
  static const std::vector<std::string> names = NamesOf(CaseFields());
  return names;
}
const std::vector<std::string>& DiscrepancyColumns() {
  static const std::vector<std::string> names = NamesOf(DiscrepancyFields());
  return names;
}
const std::vector<std::string>& SummaryColumns() {
  static const std::vector<std::string> names = NamesOf(SummaryFields());
  return names;
}

const std::vector<std::string>& FingerprintColumns() {
  static const std::vector<std::string> names = NamesOf(FingerprintFields());
  return names;
}

std::vector<std::string> CaseToFields(const CaseRow& row) { return ToFields(row, CaseFields()); }
std::vector<std::string> FingerprintToFields(const FingerprintRow& row) {
  return ToFields(row, FingerprintFields());
}
FingerprintRow FingerprintFromFields(const std::vector<std::string>& fields,
                                     const std::string& file, int64_t line) {
  return FromFields(fields, FingerprintFields(), file, line);
}
std::vector<std::string> DiscrepancyToFields(const DiscrepancyRow& row) {
  return ToFields(row, DiscrepancyFields());
}
std::vector<std::string> SummaryToFields(const SummaryRow& row) {
  return ToFields(row, SummaryFields());
}

CaseRow CaseFromFields(const std::vector<std::string>& fields, const std::string& file,
                       int64_t line) {
  return FromFields(fields, CaseFields(), file, line);
}
DiscrepancyRow DiscrepancyFromFields(const std::vector<std::string>& fields,
                                     const std::string& file, int64_t line) {
  return FromFields(fields, DiscrepancyFields(), file, line);
}
SummaryRow SummaryFromFields(const std::vector<std::string>& fields, const std::string& file,
                             int64_t line) {
  SummaryRow row = FromFields(fields, SummaryFields(), file, line);
  if (row.kind != "verdict" && row.kind != "class") {
    throw ReportError(file, line, "kind",
                      "must be \"verdict\" or \"class\", got " + Show(row.kind));
  }
  return row;
}

std::string FormatDouble(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buf[64];
  // Same text as printf("%.17g") in the C locale.
  const auto result = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::general, 17);
  return std::string(buf, result.ptr);
}

}  // namespace qdiff
