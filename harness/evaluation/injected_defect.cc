#include "harness/evaluation/injected_defect.h"

namespace qdiff {

bool IsKnownDefect(const std::string& name) { return name == "ties_up"; }

Recipe ApplyDefect(Recipe recipe, const std::string& defect) {
  if (defect == "ties_up" && recipe.rounding == Rounding::kHalfEven) {
    recipe.rounding = Rounding::kHalfUp;
  }
  return recipe;
}

}  // namespace qdiff
