#include "harness/evaluation/engines.h"

#include <algorithm>
#include <cstdlib>
#include <initializer_list>
#include <iterator>

#include "harness/case/provenance.h"

namespace qdiff {

Scheme EngineScheme(Engine engine, const Layer& layer, bool cpu_has_vnni, DType input_dtype) {
  switch (engine) {
    case Engine::kQnnpack:
      return input_dtype == DType::kQInt8 ? Scheme::kXnnpackFp32 : Scheme::kQnnpackFp32;
    case Engine::kOnednn: return Scheme::kOnednnFp32;
    case Engine::kFbgemm: return Scheme::kFbgemmFp32;
    case Engine::kX86: break;
  }
  {
    const std::vector<int32_t>& zps = layer.weight.zero_points;
    const bool symmetric = std::all_of(zps.begin(), zps.end(), [](int32_t z) { return z == 0; });
    const ConvAttrs& a = layer.conv;
    const bool no_output_padding = std::all_of(std::begin(a.output_padding), std::end(a.output_padding),
                                                [](int64_t p) { return p == 0; });
    const bool use_onednn = IsConvOp(layer.op) && cpu_has_vnni && a.groups <= 100 && symmetric &&
                            no_output_padding;
    return use_onednn ? Scheme::kOnednnFp32 : Scheme::kFbgemmFp32;
  }
}

namespace {

// Whether DNNL_MAX_CPU_ISA / ONEDNN_MAX_CPU_ISA (unset: no cap) names an ISA containing one of
// `keeps` (oneDNN's names: SSE41, AVX, AVX2, AVX512_CORE, AVX512_CORE_VNNI, AVX512_CORE_BF16,
// AVX512_CORE_AMX, ALL, ...).
bool IsaCapKeeps(std::initializer_list<const char*> keeps) {
  const char* cap = std::getenv("ONEDNN_MAX_CPU_ISA");
  if (cap == nullptr) cap = std::getenv("DNNL_MAX_CPU_ISA");
  if (cap == nullptr) return true;
  const std::string isa = cap;
  for (const char* k : keeps) {
    if (isa.find(k) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

bool OnednnUsesVnni() { return CpuHasVnni() && IsaCapKeeps({"ALL", "VNNI", "BF16", "AMX"}); }

bool OnednnUsesAmx() { return CpuHasAmxInt8() && IsaCapKeeps({"ALL", "AMX"}); }

AccumulatorModel EngineAccumulatorModel(Engine engine, const Layer& layer, DType input_dtype) {
  const Scheme scheme = EngineScheme(engine, layer, CpuHasVnni(), input_dtype);
  if (scheme == Scheme::kOnednnFp32) {
    return OnednnUsesVnni() ? AccumulatorModel::kExact : AccumulatorModel::kSat16ChannelPairs;
  }
  if (scheme == Scheme::kFbgemmFp32) {
    return CpuHasVnni() ? AccumulatorModel::kExact : AccumulatorModel::kSat16FlatKPairs;
  }
  return AccumulatorModel::kExact;
}

Scheme EngineOwnScheme(Engine engine) {
  switch (engine) {
    case Engine::kQnnpack: return Scheme::kQnnpackFp32;
    case Engine::kOnednn: return Scheme::kOnednnFp32;
    case Engine::kFbgemm:
    case Engine::kX86: break;
  }
  return Scheme::kFbgemmFp32;
}

std::string EngineOwnSchemeName(const std::string& engine) {
  const std::optional<Engine> e = ParseEngine(engine);
  return e ? GetScheme(EngineOwnScheme(*e)).name : "";
}

}  // namespace qdiff
