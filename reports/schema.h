// Column schemas of the report files, declared once (schema.cc has one table per row type that
// ties each column name to its field in rows.h), and the conversions row <-> text fields.
//
// Text form: integers in decimal; doubles as printf "%.17g" (via std::to_chars, so locale-free),
// which round-trips every finite double bit-exactly through std::from_chars. NaN/inf are written
// as "nan"/"inf"/"-inf" (they should never occur) and rejected when read.
#pragma once

#include <cstdint>
#include <map>
#include <utility>
#include <string>
#include <vector>

#include "reports/csv.h"  // ReportError
#include "reports/rows.h"

namespace qdiff {

inline constexpr char kCasesFile[] = "cases.csv";
inline constexpr char kDiscrepanciesFile[] = "discrepancies.csv";
inline constexpr char kSummaryFile[] = "summary.csv";
inline constexpr char kOpsFile[] = "ops.csv";  // summary.csv's columns, per layer op

// Column names, in the order of the row structs' fields.
const std::vector<std::string>& CaseColumns();         // 16 columns
const std::vector<std::string>& DiscrepancyColumns();  // 20 columns
const std::vector<std::string>& SummaryColumns();      // 6 columns
const std::vector<std::string>& FingerprintColumns();  // 9 columns
inline constexpr char kFingerprintFile[] = "fingerprint.csv";
std::vector<std::string> FingerprintToFields(const FingerprintRow& row);
FingerprintRow FingerprintFromFields(const std::vector<std::string>& fields,
                                     const std::string& file, int64_t line);

std::vector<std::string> CaseToFields(const CaseRow& row);
std::vector<std::string> DiscrepancyToFields(const DiscrepancyRow& row);
std::vector<std::string> SummaryToFields(const SummaryRow& row);

// Parse the fields of one data row (line = its line number in `file`, for messages). Throws
// ReportError naming file, line and column for: a wrong field count, an empty required field
// (every numeric field; the identifying strings case_id/op/engine/scheme/verdict, cls, and all
// summary strings), a non-integer or out-of-range integer, a negative count or index, a
// non-number or non-finite double, a summary kind other than "verdict"/"class".
// Optional strings: weight_quant, shape, classes, message. std::optional numbers (rows.h) are
// empty when not applicable: written as "" and read back from "" as std::nullopt.
CaseRow CaseFromFields(const std::vector<std::string>& fields, const std::string& file,
                       int64_t line);
DiscrepancyRow DiscrepancyFromFields(const std::vector<std::string>& fields,
                                     const std::string& file, int64_t line);
SummaryRow SummaryFromFields(const std::vector<std::string>& fields, const std::string& file,
                             int64_t line);

// A case row's `classes` and `layer_classes` cells: "class:count;..." and
// "layer:class:count;..." (counts >= 1, layers >= 0, known classes). Parse throws
// std::invalid_argument naming the bad entry; CaseFromFields checks both cells this way.
struct ClassCount {
  DiffClass cls;
  int64_t count;
};
struct LayerClassCount {
  int64_t layer;
  DiffClass cls;
  int64_t count;
};
std::vector<ClassCount> ParseClassCounts(const std::string& text);
std::vector<LayerClassCount> ParseLayerClassCounts(const std::string& text);
// (layer, class name) → count, in map order.
std::string FormatLayerClassCounts(const std::map<std::pair<int64_t, std::string>, int64_t>& counts);

// "%.17g" of a finite double; "nan", "inf", "-inf" otherwise.
std::string FormatDouble(double value);

}  // namespace qdiff
