// The op table (oracles/ops/op_recipe.cc): every op without weights has exactly one OpDef, whose
// recipes belong to it, are named "<op>.<path>" and start with the exact reference; the
// convolutions and linear have none. Catches an op file that is written but not listed.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "oracles/model.h"
#include "oracles/ops/op_recipe.h"

namespace qdiff {
namespace {

TEST(OpDefs, OneDefPerOpWithoutWeights) {
  std::set<std::string> names;
  for (OpKind op : kAllOpKinds) {
    const OpDef* d = FindOpDef(op);
    if (IsGemmOp(op)) {
      EXPECT_EQ(d, nullptr) << OpKindName(op);
      EXPECT_TRUE(OpRecipes(op).empty()) << OpKindName(op);
      continue;
    }
    ASSERT_NE(d, nullptr) << OpKindName(op) << " has no OpDef in op_recipe.cc's table";
    EXPECT_EQ(d->op, op);
    EXPECT_NE(d->engine_recipe, nullptr) << OpKindName(op);
    EXPECT_NE(d->float_real, nullptr) << OpKindName(op);
    ASSERT_GE(d->recipe_count, 1u) << OpKindName(op);
    ASSERT_EQ(OpRecipes(op).size(), d->recipe_count) << OpKindName(op);
    EXPECT_EQ(&ExactOpRecipe(op), d->recipes[0]) << OpKindName(op);
    EXPECT_EQ(std::string(d->recipes[0]->name), std::string(OpKindName(op)) + ".exact");
    for (const OpRecipeDef* r : OpRecipes(op)) {
      EXPECT_EQ(r->op, op) << r->name;
      EXPECT_EQ(std::string(r->name).rfind(std::string(OpKindName(op)) + ".", 0), 0u) << r->name;
      EXPECT_TRUE(names.insert(r->name).second) << r->name << " is defined twice";
      EXPECT_EQ(FindOpRecipe(r->name), r) << r->name;
      EXPECT_EQ(r->libtorch_bug == nullptr, r->bug_applies == nullptr) << r->name;
    }
  }
}

}  // namespace
}  // namespace qdiff
