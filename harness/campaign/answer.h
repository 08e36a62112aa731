// A campaign worker's answer to "case I" (harness/campaign/campaign.h): one line, built by
// FormatCaseAnswer, read by the coordinator with ParseCaseAnswer.
//
// Format: "qdiff-case <the payload's check: FNV-1a 64 over 8-byte words, 16 hex digits> <payload>".
// The payload is a sequence of items, each "<decimal byte length>:<bytes>" (no separator), in
// this order:
//   index, previous, size, rss_kb, libtorch_s, total_s, case_id, finding (0/1), unexplained,
//   N, N corners, N, N signatures,
//   N, N × (case row's CSV line, its CaseExampleBound group),
//   N, N × (discrepancy row's CSV line, engine, layer_op, scheme, class, layer, index),
//   N, N × (summary.csv count key, count), N, N × (ops.csv count key, count).
// The rows and counts are PackRows' (harness/campaign/rows.h); numbers in decimal, seconds as
// %.17g. No item holds '\n' (CSV lines never do), so the answer stays one line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/campaign/rows.h"

namespace qdiff {

struct CaseAnswer {
  int64_t index = -1;
  int64_t previous = -1;             // the case this worker ran before (-1: none)
  int64_t size = 0;                  // CaseSize
  int64_t rss_kb = 0;                // the worker's RSS after the case
  double libtorch_s = 0, total_s = 0;
  std::vector<std::string> corners;     // the case's generator corners
  std::vector<std::string> signatures;  // FailureSignature::ToString of its findings
  PackedRows rows;
};

// Throws std::invalid_argument if an item holds '\n' (the line would break).
std::string FormatCaseAnswer(const CaseAnswer& answer);
// nullopt for a line FormatCaseAnswer did not write: another prefix, a checksum that does not
// match, an item that does not parse.
std::optional<CaseAnswer> ParseCaseAnswer(const std::string& line);

}  // namespace qdiff
