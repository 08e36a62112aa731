// JUnit XML for CI dashboards: one <testcase> per engine × op × scheme of the run configuration.
#pragma once

#include <string>
#include <vector>

#include "reports/findings.h"
#include "reports/rows.h"

namespace qdiff {

// Text made safe for XML 1.0 / HTML character data and for double- or single-quoted attribute
// values: & < > " ' become entity references; bytes XML 1.0 forbids (C0 controls other than
// TAB, LF, CR; DEL is kept) and bytes that are not well-formed UTF-8 each become '?'.
std::string XmlEscape(const std::string& text);

// Stable CI results: one <testsuite name="<engine>"> per engine of ctx, each with one <testcase
// classname="qdiff.<engine>.<op>" name="<column>"> per op of ctx (ops of `layers` outside it are
// added) × column of ctx: the same testcases for 300 cases as for 3,000. `layers` is
// SummarizeLayers over the run (ops.csv); a layer op counts under its family (OpFamily). Per
// testcase, the first that applies:
//   - an unexplained layer: <failure type="unexplained" message="N unexplained layer(s), E
//     unexplained element(s); findings: KEY, ...">, text: per finding (ctx) of that engine and op
//     (FindingTouchesOp) whose schemes hold the column, "finding KEY: N case(s)" and its replay
//     and explain commands;
//   - a crashed or timed-out layer: <error type="crashed|timeout|crashed,timeout" message=...>,
//     text: the replay commands of the dead-worker findings whose chain holds the op;
//   - an element of class libtorch_bug: <skipped message="known LibTorch bug (E elements):
//     corpora/....json, ..."> naming the corpus files of ctx.bug_corpora["op/engine"];
//   - no layer compared (none ran, or LibTorch rejected all): <skipped message="not exercised:
//     ...">;
//   - else it passes.
// time= is ctx.seconds apportioned by the layers each testcase compared (3 decimals). Every
// testcase has <system-out> with its layer verdicts and element classes. All text XmlEscape'd.
std::string FormatJUnit(const std::vector<SummaryRow>& layers, const RunContext& ctx);

}  // namespace qdiff
