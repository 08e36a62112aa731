#include "oracles/ops/op_recipe.h"

#include "oracles/ops/libtorch_float.h"

namespace qdiff {

const std::vector<const OpRecipeDef*>& OpRecipes(OpKind op) {
  static const std::vector<const OpRecipeDef*> kNone;
  if (IsGemmOp(op)) return kNone;
  return IsPoolOp(op) ? PoolingOpRecipes(op) : ElementwiseOpRecipes(op);
}

const OpRecipeDef& ExactOpRecipe(OpKind op) { return *OpRecipes(op).front(); }

const OpRecipeDef* FindOpRecipe(const std::string& name) {
  for (OpKind op : kAllOpKinds) {
    for (const OpRecipeDef* r : OpRecipes(op)) {
      if (name == r->name) return r;
    }
  }
  return nullptr;
}

const OpRecipeDef* EngineOpRecipe(const std::string& engine, const Layer& layer,
                                  const std::vector<QTensor>& inputs) {
  if (IsGemmOp(layer.op)) return nullptr;
  return IsPoolOp(layer.op) ? PoolingEngineRecipe(engine, layer, inputs)
                             : ElementwiseEngineRecipe(engine, layer, inputs);
}

std::string OpRejectionReason(const std::string& engine, const Layer& layer,
                              const std::vector<QTensor>& inputs) {
  if (IsGemmOp(layer.op)) return "";
  return IsPoolOp(layer.op) ? PoolingRejectionReason(engine, layer, inputs)
                             : ElementwiseRejectionReason(engine, layer, inputs);
}

std::vector<double> FloatOpReal(const Layer& layer, const std::vector<QTensor>& inputs,
                                const std::vector<int64_t>& out_shape) {
  return IsPoolOp(layer.op) ? PoolingFloatReal(layer, inputs, out_shape)
                             : ElementwiseFloatReal(layer, inputs, out_shape);
}

bool LibTorchBugApplies(const OpRecipeDef& r, const std::string& engine, const Layer& layer,
                        const std::vector<QTensor>& inputs) {
  return r.libtorch_bug != nullptr && r.bug_applies != nullptr &&
         r.bug_applies(engine, layer, inputs);
}

std::vector<int32_t> WrittenInNhwcOrder(const std::vector<int32_t>& values,
                                        const std::vector<int64_t>& shape) {
  if (shape.size() != 4) return values;
  std::vector<int32_t> out(values.size());
  for (int64_t j = 0; j < static_cast<int64_t>(values.size()); ++j) {
    out[MemoryPosition(shape, /*channels_last=*/true, j)] = values[j];  // NHWC position of j
  }
  return out;
}

}  // namespace qdiff
