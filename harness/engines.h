// Which recipe each LibTorch engine implements for a layer (SEMANTICS.md §3.0).
#pragma once

#include <optional>
#include <string>

#include "oracles/model.h"
#include "oracles/scheme.h"

namespace qdiff {

// qnnpack → qnnpack_fp32; onednn → onednn_fp32; fbgemm → fbgemm_fp32; x86 → onednn_fp32 for conv
// when the CPU has VNNI, groups ≤ 100 and the weights are symmetric (OnednnUtils.h::
// should_use_onednn_quant), else fbgemm_fp32. nullopt for an engine qdiff has no recipe for.
std::optional<Scheme> EngineScheme(const std::string& engine, const Layer& layer, bool cpu_has_vnni);

}  // namespace qdiff
