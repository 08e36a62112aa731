// A campaign's cases by index: the case of index i depends only on (campaign seed, i, generator
// settings), so the coordinator, every worker and a resumed or sharded run agree on it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "harness/campaign/campaign.h"
#include "harness/case/case.h"
#include "oracles/shared_values.h"

namespace qdiff {

// "s<seed>-c<index, 6 digits>".
std::string CaseId(uint64_t campaign_seed, int64_t index);
// Case `index` of the campaign; `corners`, if given, receives the generator corners it exercises,
// `first_layer_acc` the accumulators of layer 0 that the draw computed (GeneratedModel), for RunCase.
Case CaseForIndex(const CampaignSettings& s, int64_t index, std::vector<std::string>* corners,
                  SharedValues<int64_t>* first_layer_acc = nullptr);
// The corner table: each corner's count and share of `total` cases.
std::string FormatCornerTable(const std::map<std::string, int64_t>& counts, int64_t total);
// The resident set size of this process, KiB.
int64_t RssKb();

}  // namespace qdiff
