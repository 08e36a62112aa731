// JUnit XML for CI dashboards: one <testcase> per op x engine x scheme of a run.
#pragma once

#include <string>
#include <vector>

#include "reports/rows.h"

namespace qdiff {

// Text made safe for XML 1.0 / HTML character data and for double- or single-quoted attribute
// values: & < > " ' become entity references; bytes XML 1.0 forbids (C0 controls other than
// TAB, LF, CR; DEL is kept) and bytes that are not well-formed UTF-8 each become '?'.
std::string XmlEscape(const std::string& text);

// One <testsuites> with one <testsuite name="qdiff"> holding one <testcase> per
// (op, engine, scheme) present in `cases`, sorted, with classname "qdiff.<op>.<engine>" and
// name "<scheme>". Per group, the first that applies:
//   - any case with verdict "unexplained": <failure type="unexplained" message="N unexplained
//     case(s) (E unexplained element(s)): ID, ID, ...">, and, as text, one line per such case:
//     REPLAY_PREFIX + case_id + ".json". A '/' is put between prefix and case id unless the
//     prefix is empty or already ends in '/' or a space, so both "qdiff replay out/findings" and
//     "qdiff replay out/findings/" give "qdiff replay out/findings/<case_id>.json". Crashed or
//     timed-out cases of the group are appended to the message ("; also N crashed: ...").
//   - any case with verdict "crashed" or "timeout": <error type="crashed|timeout|crashed,timeout"
//     message="N crashed/timed-out case(s): ID, ...">.
//   - every case "rejected": <skipped message="all N case(s) rejected by LibTorch: MSG">
//     (the distinct LibTorch messages, at most 3, joined by " | ").
//   - else the test case passes.
// Every testcase carries <system-out> with its verdict and class counts. E counts the group's
// discrepancy rows with cls "unexplained"; discrepancies are joined to their group by
// (case_id, engine, scheme), and ones without a case row are ignored.
// Case ids within a message are sorted and unique. All text and attributes are XmlEscape'd.
std::string FormatJUnit(const std::vector<CaseRow>& cases, const std::vector<DiscrepancyRow>& d,
                        const std::string& replay_command_prefix);

}  // namespace qdiff
