// A self-contained HTML page (no network: inline CSS, inline SVG plots, no scripts, no links)
// for people, over one or more runs.
#pragma once

#include <string>
#include <vector>

#include "reports/rows.h"

namespace qdiff {

struct RunData {
  std::string name;  // shown as the run's title, e.g. its folder or run id
  std::vector<CaseRow> cases;
  std::vector<DiscrepancyRow> discrepancies;
};

// The page has, when runs.size() > 1, a section "Classes over runs": one small SVG bar chart per
// class (elements of that class, summed over op x engine x scheme, one bar per run in the given
// order) and a class x run table. Then one section per run, in the given order, with:
//   - the summary table, one row per op x engine x scheme (sorted): cases, cases per verdict
//     (exact, explained, unexplained, rejected, degenerate, then any other present), elements
//     per class present;
//   - per op x engine x scheme with discrepancies, an SVG histogram of |diff_lsb| over the bins
//     1, 2, 3, 4-7, 8-15, 16-31, 32-63, 64-127, 128+ (and 0, only if some row has diff 0);
//   - the findings: one table row per case id (sorted like merge's CaseIdLess) having a case
//     row with verdict unexplained, crashed or timeout: op, the engine/scheme: verdict pairs,
//     its "unexplained" discrepancy rows, max |diff| LSB, shape, and the replay command
//     "qdiff replay findings/<case_id>.json";
//   - the rejected configurations: per op x engine x scheme, each distinct LibTorch message
//     with its number of rejected cases.
// All text from the rows and run names is escaped (XmlEscape, junit.h); the output is also
// well-formed XML apart from the leading <!DOCTYPE html>. Deterministic (no dates).
// Throws ReportError if a discrepancy has no case row in its run (as Summarize does).
std::string FormatHtmlReport(const std::vector<RunData>& runs);

}  // namespace qdiff
