// A self-contained HTML page (no network: inline CSS, inline SVG plots, no scripts, no links)
// for people, over one or more runs.
#pragma once

#include <string>
#include <vector>

#include "reports/findings.h"
#include "reports/rows.h"

namespace qdiff {

struct RunData {
  std::string name;  // shown as the run's title, e.g. its folder or run id
  std::vector<CaseRow> cases;
  std::vector<DiscrepancyRow> discrepancies;
  RunContext context;  // engines, columns, findings, known-bug corpus files (reports/findings.h)
};

// A page a person reads first. When runs.size() > 1 it opens with "Classes over runs" (one bar
// chart per class, one bar per run, and a class × run table). Then per run, in this order:
//   1. "Verdict": one panel per engine (context.engines, else the engines of the rows): PASS or
//      FAIL (FAIL: an unexplained, crashed or timed-out layer on the engine's own scheme), the
//      schemes that reproduce every layer (SchemesReproducingEngines), the unexplained elements
//      and findings, and the known LibTorch bugs seen (op, elements, corpus files);
//   2. "Op × engine": one row per op family, one cell per engine, coloured by the worst outcome
//      of its layers on the engine's own scheme (unexplained > crashed/timeout > libtorch_bug >
//      explained > exact > rejected/not run), with the layer counts;
//   3. "|diff| by class": per engine one inline SVG histogram of |diff_lsb| over every column,
//      bars stacked by class, labelled axes (x: |diff| in LSB bins 1, 2, 3, 4-7, ..., 128+, and 0
//      only if present; y: elements, with ticks) and a legend: aggregated, so the page stays small;
//   4. "Findings": one row per finding of context (op/engine/class, schemes, cases, replay and
//      explain commands);
//   5. "Tables", collapsed (<details>): per layer op × engine × scheme (layer verdicts, then
//      elements per class), and per engine × LibTorch message the rejected cases with example op
//      chains. Nothing on the page grows with the number of cases (per op chain prefix: summary.csv).
// All text is escaped (XmlEscape, junit.h); the output is well-formed XML after <!DOCTYPE html>.
// No scripts, links or external resources. Deterministic. Throws ReportError if a discrepancy has
// no case row in its run (as Summarize does).
std::string FormatHtmlReport(const std::vector<RunData>& runs);

}  // namespace qdiff
