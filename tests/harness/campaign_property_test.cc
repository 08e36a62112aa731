// The campaign's central property as a RapidCheck test: for every generated model, on every
// available engine, the engine's own recipe (with the kernel's accumulator model) explains every
// element LibTorch produces. A failure shrinks through the generator (RapidCheck) and prints the
// model; campaigns (`qdiff run`) check the same property and also save the case file.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "harness/evaluation/case_evaluation.h"
#include "harness/case/case_json.h"
#include "harness/torch/libtorch_runner.h"
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
    if (d.cls == DiffClass::kUnexplained) {
      // The failing case as a case file: save it and `qdiff replay` it.
      RC_FAIL("unexplained element " + std::to_string(d.index) + " of layer " +
              std::to_string(d.layer) + " (" + d.layer_op + ") on " + d.engine + ", scheme " +
              d.scheme + "\n" + CaseToJson(c));
    }
  }
}

}  // namespace
}  // namespace qdiff
