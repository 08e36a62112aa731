#include "harness/engines.h"

#include <algorithm>

namespace qdiff {

std::optional<Scheme> EngineScheme(const std::string& engine, const Layer& layer,
                                   bool cpu_has_vnni) {
  if (engine == "qnnpack") return Scheme::kQnnpackFp32;
  if (engine == "onednn") return Scheme::kOnednnFp32;
  if (engine == "fbgemm") return Scheme::kFbgemmFp32;
  if (engine == "x86") {
    const std::vector<int32_t>& zps = layer.weight.zero_points;
    const bool symmetric = std::all_of(zps.begin(), zps.end(), [](int32_t z) { return z == 0; });
    const bool use_onednn = layer.op == OpKind::kConv2d && cpu_has_vnni &&
                            layer.conv.groups <= 100 && symmetric;
    return use_onednn ? Scheme::kOnednnFp32 : Scheme::kFbgemmFp32;
  }
  return std::nullopt;
}

}  // namespace qdiff
