// Injected defects: deliberate, named bugs in qdiff's own recipes, used only to prove that a
// campaign finds, shrinks, saves and replays a failure (tests/e2e/finding_pipeline_test.cc). A defect
// is applied to every recipe qdiff evaluates for a case (the pipeline's scheme and the engine
// recipe the classifier trusts), so LibTorch disagrees with every explanation: an `unexplained`
// finding, exactly as a real recipe bug would show. The case file records the defect, so
// `qdiff replay` on any build reproduces it.
#pragma once

#include <string>
#include <vector>

#include "oracles/recipe.h"

namespace qdiff {

// "ties_up": every round-half-to-even becomes round-half-up (ties toward +inf).
bool IsKnownDefect(const std::string& name);
const std::vector<std::string>& KnownDefects();  // every name IsKnownDefect accepts
Recipe ApplyDefect(Recipe recipe, const std::string& defect);

}  // namespace qdiff
