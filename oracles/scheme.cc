#include "oracles/scheme.h"

namespace qdiff {

const std::vector<const SchemeDef*>& AllSchemes() {
  static const std::vector<const SchemeDef*> kAll = {
      &kExactScheme,       &kDoubleRoundingScheme, &kSingleRoundingScheme,
      &kQnnpackFp32Scheme, &kOnednnFp32Scheme,     &kFbgemmFp32Scheme,
      &kRndnuScheme,       &kRndnaScheme,          &kXnnpackFp32Scheme,
  };
  return kAll;
}

const SchemeDef& GetScheme(Scheme id) {
  for (const SchemeDef* s : AllSchemes()) {
    if (s->id == id) return *s;
  }
  return kExactScheme;  // unreachable: every enumerator has a definition
}

std::optional<Scheme> ParseScheme(const std::string& name) {
  for (const SchemeDef* s : AllSchemes()) {
    if (name == s->name) return s->id;
  }
  return std::nullopt;
}

PipelineRecipe SchemePipelineRecipe(Scheme id) {
  std::optional<Engine> op_engine;
  switch (id) {
    case Scheme::kQnnpackFp32:
    case Scheme::kXnnpackFp32:
      op_engine = Engine::kQnnpack;
      break;
    case Scheme::kOnednnFp32:
      op_engine = Engine::kOnednn;
      break;
    case Scheme::kFbgemmFp32:
      op_engine = Engine::kFbgemm;
      break;
    default:
      break;
  }
  return PipelineRecipe{GetScheme(id).recipe, op_engine};
}

}  // namespace qdiff
