// flatten — at::flatten(x, 1), a reshape of the quantized tensor: one recipe, on every engine.
#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

#include "oracles/float_oracle.h"
#include "oracles/ops/op_common.h"
#include "oracles/ops/op_recipe.h"

namespace qdiff {

namespace {

// flatten.exact: the int_repr values unchanged, in logical row-major order; the output qparams are
// the input's.
std::vector<int32_t> RunFlatten(const Layer&, const OpInputs& in, const OpShape&) {
  return in[0].values;
}
// The multipliers (or functions) of this op's recipes: one OpFormula each (op_recipe.h).
constexpr OpFormula kFlattenIdentity{"identity"};

const OpRecipeDef kFlattenExact = {
    "flatten.exact", OpKind::kFlatten,
    {OpRounding::kNone, OpZeroPoint::kNone, OpArithmetic::kExact, OpLayout::kAny, &kFlattenIdentity},
    "y = q in logical row-major order; at::flatten -> reshape", RunFlatten};

const OpRecipeDef* const kFlattenRecipes[] = {&kFlattenExact};

const OpRecipeDef* FlattenEnginePath(Engine, const Layer&, const OpInputs&) {
  return &kFlattenExact;
}

// y = x.
std::vector<double> FlattenFloatReal(const Layer&, const OpInputs& in, const OpShape& out_shape) {
  return ElementwiseReal(out_shape, [&](int64_t i) {
    return static_cast<double>(DequantizeElement(in[0], i));
  });
}

}  // namespace

extern const OpDef kFlattenOp = {OpKind::kFlatten,  kFlattenRecipes, std::size(kFlattenRecipes),
                                 FlattenEnginePath, nullptr,         FlattenFloatReal};

}  // namespace qdiff
