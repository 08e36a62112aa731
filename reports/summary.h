// Summaries of a campaign's rows, the printed summary table, and whole-report I/O
// (DIR/cases.csv, DIR/discrepancies.csv, DIR/summary.csv).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "reports/csv.h"
#include "reports/rows.h"
#include "reports/schema.h"

namespace qdiff {

// summary.csv's op: a case's op chain up to its first kSummaryChainOps ops, then ">..." when the
// chain has more ("conv2d>relu>..."). Chains of any length keep appearing in a campaign, their
// prefixes do not: the keys, and summary.csv, stay within (op names)^2 however long it runs.
// Every layer is judged on the inputs LibTorch gave it, so the op before it is the context that
// counts; ops.csv counts every layer by its own op.
inline constexpr int kSummaryChainOps = 2;
std::string SummaryChain(const std::string& op_chain);

// Per (op, engine, scheme), op the SummaryChain of the case's chain: kind "verdict" rows = number of cases per verdict; kind "class" rows =
// number of differing elements per class, from the case rows' exact `classes` counts; each
// discrepancy row is only checked to join a case row by (case_id, engine, scheme). Only non-zero counts. Sorted by op, engine, scheme,
// kind, name. Throws ReportError if a discrepancy has no case row, or if two case rows with the
// same (case_id, engine, scheme) name different ops.
std::vector<SummaryRow> Summarize(const std::vector<CaseRow>& cases,
                                  const std::vector<DiscrepancyRow>& discrepancies);

// Per layer instead of per case: op is the layer's op ("add_relu", from the case's op chain
// "conv2d>relu>add_relu"), and each layer of each case row counts once under kind "verdict":
// rejected / crashed / timeout as its case, else exact (no differing element at that layer),
// unexplained (some unexplained element there) or explained. Kind "class" counts the differing
// elements of each layer by its op. Both from the rows' exact `layer_classes`, never from
// discrepancy rows (a bounded set of examples). Written as ops.csv (summary.csv's columns).
std::vector<SummaryRow> SummarizeLayers(const std::vector<CaseRow>& cases);

// The counts one case row adds to Summarize (CaseRowCounts) and to SummarizeLayers
// (CaseRowLayerCounts): add(op, engine, scheme, kind, name, count) once per count, in no
// particular order and possibly repeating a key (the counts add up). For callers that keep their
// own tallies (the campaign's row sink).
using AddCount = std::function<void(const std::string& op, const std::string& engine, const std::string& scheme,
                                    const char* kind, const char* name, int64_t count)>;
void CaseRowCounts(const CaseRow& row, const AddCount& add);
void CaseRowLayerCounts(const CaseRow& row, const AddCount& add);

// The same counts with op replaced by "all" (summed over ops).
std::vector<SummaryRow> SumOverOps(const std::vector<SummaryRow>& summary);

// Fixed-width table, one line per op x engine x scheme (sorted), after a header line. Columns:
// op, engine, scheme, cases (sum of all verdicts), exact, explained, unexplained, rejected,
// degenerate, any other verdict present (e.g. crashed, timeout; sorted), then "|" and the element
// count of every class present (sorted by name). Every line ends with '\n'. A table wider than
// max_width is cut into blocks of columns, each repeating op, engine, scheme and cases, separated
// by an empty line; a block holds at least one column, so only over-long keys exceed max_width.
// Throws std::invalid_argument for a kind other than "verdict"/"class".
inline constexpr size_t kConsoleWidth = 120;
std::string FormatSummaryTable(const std::vector<SummaryRow>& summary, size_t max_width = kConsoleWidth);

// The layout FormatSummaryTable uses, for any table: table[0] is the header, every line has its
// cells; columns padded to their widest cell, left-aligned where left[i], else right-aligned, two
// spaces apart; a table wider than max_width is cut into blocks of the columns after the first
// `keys`, each block repeating the key columns, blocks separated by an empty line.
std::string FormatBlockTable(const std::vector<std::vector<std::string>>& table, size_t keys,
                             const std::vector<bool>& left, size_t max_width = kConsoleWidth);

// Per engine of a summary, the columns (schemes) that reproduce it bit for bit, known LibTorch
// bugs aside: at least one exact verdict, no unexplained, crashed or timeout verdict, and no
// differing element of a class other than libtorch_bug (rejected and degenerate test nothing).
// Engines and schemes in sorted order; an engine nothing reproduces maps to {}.
std::map<std::string, std::vector<std::string>> SchemesReproducingEngines(
    const std::vector<SummaryRow>& summary);

// Single files (header checked, every field validated; see schema.h).
std::vector<CaseRow> ReadCases(const std::string& path);
std::vector<DiscrepancyRow> ReadDiscrepancies(const std::string& path);
std::vector<SummaryRow> ReadSummary(const std::string& path);
void WriteCases(const std::string& path, const std::vector<CaseRow>& rows);
void WriteDiscrepancies(const std::string& path, const std::vector<DiscrepancyRow>& rows);
void WriteSummary(const std::string& path, const std::vector<SummaryRow>& rows);

struct Report {
  std::vector<CaseRow> cases;
  std::vector<DiscrepancyRow> discrepancies;
  // A campaign's exact counts (its summary.csv and ops.csv) where its rows are examples
  // (reports/example_rows.h); empty where every row is there to count.
  std::optional<std::vector<SummaryRow>> summary, layer_summary;
};

// The counts of `report`: its summary/layer_summary when it has them, else from its rows.
std::vector<SummaryRow> ReportSummary(const Report& report);
std::vector<SummaryRow> ReportLayerSummary(const Report& report);
// Counts summed by (op, engine, scheme, kind, name), in that order.
std::vector<SummaryRow> AddCounts(const std::vector<SummaryRow>& a, const std::vector<SummaryRow>& b);

// Reads DIR/cases.csv and DIR/discrepancies.csv (for `qdiff report DIR`).
Report LoadReport(const std::string& dir);

// Writes DIR/discrepancies.csv, DIR/summary.csv, then DIR/cases.csv, each atomically (the set as
// a whole is not atomic). DIR must exist.
void WriteReport(const std::string& dir, const std::vector<CaseRow>& cases,
                 const std::vector<DiscrepancyRow>& discrepancies,
                 const std::vector<SummaryRow>& summary);

}  // namespace qdiff
