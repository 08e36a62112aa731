#include "harness/campaign/case_index.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "harness/case/provenance.h"
#include "harness/torch/libtorch_runner.h"  // LibTorchVersion

namespace qdiff {

std::string CaseId(uint64_t campaign_seed, int64_t index) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "s%llu-c%06lld", static_cast<unsigned long long>(campaign_seed),
                static_cast<long long>(index));
  return buf;
}

std::string FormatCornerTable(const std::map<std::string, int64_t>& counts, int64_t total) {
  std::ostringstream s;
  s << "Corners exercised (" << total << " cases):\n";
  for (const auto& [name, n] : counts) {
    char line[128];
    std::snprintf(line, sizeof line, "  %-34s %8lld  %5.1f%%\n", name.c_str(),
                  static_cast<long long>(n), total ? 100.0 * n / total : 0.0);
    s << line;
  }
  return s.str();
}

namespace {

std::vector<std::string> CornerKeys(const GeneratedModel& g) {
  std::vector<std::string> keys;
  const Layer& l = g.model.layers[0];
  keys.push_back("op=" + std::string(OpKindName(l.op)) + (l.relu ? "_relu" : ""));
  keys.push_back("scales=" + g.tags.scale_kind);
  keys.push_back("values=" + g.tags.value_kind);
  keys.push_back("bias=" + g.tags.bias_kind);
  keys.push_back(std::string("weights=") + (l.weight.per_channel() ? "per_channel" : "per_tensor"));
  if (l.op == OpKind::kConv2d && l.conv.groups > 1) {
    keys.push_back(l.conv.groups == g.model.input.shape[1] ? "conv=depthwise" : "conv=grouped");
  }
  if (g.tags.large_accumulator) keys.push_back("acc_beyond_2^24");
  if (g.tags.real_size) keys.push_back("size=real");
  if (!g.tags.observer.empty()) keys.push_back("observer=" + g.tags.observer);
  keys.push_back("layers=" + std::to_string(g.model.layers.size()));
  if (g.tags.weight_zero_point_nonzero) keys.push_back("weight_zero_point!=0");
  const int32_t z = g.model.input.zero_points[0];
  if (z == 0 || z == 255) keys.push_back("input_zero_point_at_extreme");
  return keys;
}

}  // namespace

Case CaseForIndex(const CampaignSettings& s, int64_t index, std::vector<std::string>* corners,
                  SharedValues<int64_t>* first_layer_acc) {
  const uint64_t seed = CaseSeed(s.seed, static_cast<uint64_t>(index));
  GeneratedModel g = GenerateModel(seed, s.generator);
  if (corners) *corners = CornerKeys(g);
  if (first_layer_acc) *first_layer_acc = g.first_layer_acc;
  Case c;
  c.id = CaseId(s.seed, index);
  c.seed = seed;
  c.model = std::move(g.model);
  c.injected_defect = s.injected_defect;
  c.provenance = {QdiffVersion(), QdiffGitHash(), LibTorchVersion(), CpuFlags(),
                  "qdiff run --seed " + std::to_string(s.seed), UtcNowIso8601()};
  return c;
}

int64_t RssKb() {
  // Read once per case by every worker: one pread of a descriptor kept open (an ifstream per
  // call cost about as much as drawing a small case).
  static const int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  static const int64_t page_kb = sysconf(_SC_PAGESIZE) / 1024;
  char buf[128];
  const ssize_t n = fd < 0 ? -1 : pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return 0;
  buf[n] = '\0';
  long long pages = 0, resident = 0;
  if (std::sscanf(buf, "%lld %lld", &pages, &resident) != 2) return 0;
  return resident * page_kb;
}

}  // namespace qdiff
