// The LibTorch quantized engines (at::QEngine) qdiff models, named as
// torch.backends.quantized.engine spells them. The name is written only by sinks (CSV, JSON,
// console) and read only by parsers (flags, case files, CSVs); everything between keeps the enum.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace qdiff {

enum class Engine { kQnnpack, kOnednn, kFbgemm, kX86 };

constexpr Engine kAllEngines[] = {Engine::kQnnpack, Engine::kOnednn, Engine::kFbgemm, Engine::kX86};

const char* EngineName(Engine e);  // "qnnpack", "onednn", "fbgemm", "x86"
std::optional<Engine> ParseEngine(const std::string& name);
// The names, in order (what sinks write, e.g. a JSON array).
std::vector<std::string> EngineNames(const std::vector<Engine>& engines);
// The names joined with `sep`, e.g. "qnnpack, onednn".
std::string EngineList(const std::vector<Engine>& engines, const char* sep = ", ");
// ONEDNN, FBGEMM and X86 run ATen's own kernels for the ops without weights; QNNPACK its own.
inline bool IsDefaultEngine(Engine e) { return e != Engine::kQnnpack; }

inline std::ostream& operator<<(std::ostream& os, Engine e) { return os << EngineName(e); }

}  // namespace qdiff
