#include "oracles/ops/op_recipe.h"

#include <iterator>
#include <stdexcept>
#include <string>

#include "oracles/ops/libtorch_float.h"

namespace qdiff {

// The ops without weights, one OpDef per op, each defined in its own file. To add an op, define
// its OpDef in oracles/ops/<op>.cc and list it here (and give it an OpKind in oracles/model.h).
extern const OpDef kAddOp;                // add.cc
extern const OpDef kMulOp;                // mul.cc
extern const OpDef kCatOp;                // cat.cc
extern const OpDef kMaxPool2dOp;          // max_pool2d.cc
extern const OpDef kAvgPool2dOp;          // avg_pool2d.cc
extern const OpDef kAdaptiveAvgPool2dOp;  // adaptive_avg_pool2d.cc
extern const OpDef kReluOp;               // clamps.cc
extern const OpDef kRelu6Op;              // clamps.cc
extern const OpDef kHardtanhOp;           // clamps.cc
extern const OpDef kClampOp;              // clamps.cc
extern const OpDef kHardswishOp;          // hardswish.cc
extern const OpDef kSigmoidOp;            // sigmoid.cc
extern const OpDef kLeakyReluOp;          // leaky_relu.cc
extern const OpDef kFlattenOp;            // flatten.cc

namespace {

// Addresses only: constant-initialised, so usable whatever the static-initialisation order.
const OpDef* const kOpDefs[] = {&kAddOp,     &kMulOp,       &kCatOp,      &kMaxPool2dOp,
                                &kAvgPool2dOp, &kAdaptiveAvgPool2dOp, &kReluOp, &kRelu6Op,
                                &kHardtanhOp, &kClampOp,    &kHardswishOp, &kSigmoidOp,
                                &kLeakyReluOp, &kFlattenOp};

}  // namespace

bool IsUnaryElementwise(OpKind op) {
  switch (op) {
    case OpKind::kRelu: case OpKind::kRelu6: case OpKind::kHardtanh: case OpKind::kClamp:
    case OpKind::kHardswish: case OpKind::kSigmoid: case OpKind::kLeakyRelu: return true;
    default: return false;
  }
}

ElementTables UnaryRecipeTables(const OpRecipeDef& recipe, const Layer& layer, const QTensor& x) {
  if (!IsUnaryElementwise(recipe.op)) throw std::invalid_argument(std::string(recipe.name) + " is not elementwise");
  Layer flat = layer;
  flat.channels_last = false;
  const QuantRange r = TypeRange(x.dtype);
  QTensor codes = x;
  codes.shape = {1, 1, 1, r.qmax - r.qmin + 1};  // 256 elements: every memory position a vector lane
  codes.values.clear();
  for (int32_t q = r.qmin; q <= r.qmax; ++q) codes.values.push_back(q);
  ElementTables t;
  t.vector = recipe.run(flat, {codes}, codes.shape);
  QTensor one = x;
  one.shape = {1, 1, 1, 1};  // one element: the scalar tail
  for (int32_t q = r.qmin; q <= r.qmax; ++q) {
    one.values = {q};
    t.tail.push_back(recipe.run(flat, {one}, one.shape).at(0));
  }
  return t;
}

const OpDef* FindOpDef(OpKind op) {
  for (const OpDef* d : kOpDefs) {
    if (d->op == op) return d;
  }
  return nullptr;
}

const std::vector<const OpRecipeDef*>& OpRecipes(OpKind op) {
  // Built on first use, in kOpDefs order.
  static const std::vector<std::vector<const OpRecipeDef*>> kLists = [] {
    std::vector<std::vector<const OpRecipeDef*>> lists;
    for (const OpDef* d : kOpDefs) lists.emplace_back(d->recipes, d->recipes + d->recipe_count);
    return lists;
  }();
  static const std::vector<const OpRecipeDef*> kNone;
  for (size_t i = 0; i < std::size(kOpDefs); ++i) {
    if (kOpDefs[i]->op == op) return kLists[i];
  }
  return kNone;
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

const OpRecipeDef* EngineOpRecipe(Engine engine, const Layer& layer,
                                  const std::vector<QTensor>& inputs) {
  const OpDef* d = FindOpDef(layer.op);
  if (d == nullptr || inputs.empty()) return nullptr;
  return d->engine_recipe(engine, layer, inputs);
}

std::string OpRejectionReason(Engine engine, const Layer& layer,
                              const std::vector<QTensor>& inputs) {
  const OpDef* d = FindOpDef(layer.op);
  if (d == nullptr || d->rejection_reason == nullptr || inputs.empty()) return "";
  return d->rejection_reason(engine, layer, inputs);
}

std::vector<double> FloatOpReal(const Layer& layer, const std::vector<QTensor>& inputs,
                                const std::vector<int64_t>& out_shape) {
  const OpDef* d = FindOpDef(layer.op);
  if (d == nullptr) return {};
  return d->float_real(layer, inputs, out_shape);
}

bool LibTorchBugApplies(const OpRecipeDef& r, Engine engine, const Layer& layer,
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
