#include "oracles/engine.h"

namespace qdiff {

const char* EngineName(Engine e) {
  switch (e) {
    case Engine::kQnnpack: return "qnnpack";
    case Engine::kOnednn: return "onednn";
    case Engine::kFbgemm: return "fbgemm";
    case Engine::kX86: return "x86";
  }
  return "?";
}

std::optional<Engine> ParseEngine(const std::string& name) {
  for (Engine e : kAllEngines) {
    if (name == EngineName(e)) return e;
  }
  return std::nullopt;
}

std::vector<std::string> EngineNames(const std::vector<Engine>& engines) {
  std::vector<std::string> names;
  for (Engine e : engines) names.push_back(EngineName(e));
  return names;
}

std::string EngineList(const std::vector<Engine>& engines, const char* sep) {
  std::string s;
  for (Engine e : engines) s += (s.empty() ? "" : sep) + std::string(EngineName(e));
  return s;
}

}  // namespace qdiff
