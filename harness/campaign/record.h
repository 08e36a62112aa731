// run.json of a campaign: what ran (versions, engines, settings, kernel environment, CPU flags),
// when, what it found, and the rows each CSV holds (reports/run_record.h reads it back and checks
// the counts). Rewritten atomically at every flush; `finished` stays empty until the run ends.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/campaign/campaign.h"

namespace qdiff {

struct RowCounts {
  int64_t cases = 0;          // data rows of cases.csv
  int64_t discrepancies = 0;  // data rows of discrepancies.csv
};

// Writes OUT/run.json for the campaign `s` with its result so far.
void WriteCampaignRecord(const CampaignSettings& s, const CampaignResult& r,
                         const std::string& started, const std::string& finished, RowCounts rows);

// The reports' context (reports/findings.h): every op qdiff knows, these engines and columns,
// the known-bug corpus files of each op × engine.
RunContext MakeRunContext(const std::vector<std::string>& engines, const std::vector<std::string>& columns,
                          std::vector<ReportFinding> findings, double seconds);
// The same from a finished run folder's run.json (`qdiff report`, `qdiff merge`); ReportError
// naming `source` and the field if it lacks one.
RunContext RunContextFromRecord(const nlohmann::json& run, const std::string& source);

}  // namespace qdiff
