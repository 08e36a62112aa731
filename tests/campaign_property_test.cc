// The campaign's central property as a RapidCheck test: for every generated model, on every
// available engine, the engine's own recipe (with the kernel's accumulator model) explains every
// element LibTorch produces. A failure shrinks through the generator (RapidCheck) and prints the
// model; campaigns (`qdiff run`) check the same property and also save the case file.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "harness/case_evaluation.h"
#include "harness/libtorch_runner.h"
#include "properties/case_generator.h"

namespace qdiff {
namespace {

RC_GTEST_PROP(CampaignProperty, EngineRecipesExplainEveryElement, ()) {
  InitLibTorch();
  const GeneratedModel g = *GenModel(GeneratorSettings{});
  RC_TAG(g.tags.scale_kind, g.model.layers.size());
  Case c;
  c.id = "property";
  c.model = g.model;
  std::vector<Scheme> schemes;
  for (const SchemeDef* s : AllSchemes()) schemes.push_back(s->id);
  const CaseEvaluation ev = EvaluateRuns(c, RunCase(c, AvailableEngines(), schemes));
  for (const DiscrepancyRow& d : ev.discrepancies) {
    RC_ASSERT(d.cls != "unexplained");
  }
}

}  // namespace
}  // namespace qdiff
