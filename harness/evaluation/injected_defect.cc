#include "harness/evaluation/injected_defect.h"

#include <algorithm>

namespace qdiff {

const std::vector<std::string>& KnownDefects() {
  static const std::vector<std::string> names = {"ties_up"};
  return names;
}

bool IsKnownDefect(const std::string& name) {
  return std::find(KnownDefects().begin(), KnownDefects().end(), name) != KnownDefects().end();
}

Recipe ApplyDefect(Recipe recipe, const std::string& defect) {
  if (defect == "ties_up" && recipe.rounding == Rounding::kHalfEven) {
    recipe.rounding = Rounding::kHalfUp;
  }
  return recipe;
}

}  // namespace qdiff
