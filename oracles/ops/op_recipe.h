// Integer recipes of the ops without weights (every OpKind but the convolutions and linear). A recipe is
// one way to compute an op's quantized output from quantized inputs: the path a LibTorch engine
// takes (e.g. QNNPACK's fixed-point add, the NHWC avg_pool kernel) or the exact reference. Its
// name "<op>.<path>" is used in the CSV `scheme` column for that layer and in `explain`.
//
// Files: one per op under oracles/ops/ (add.cc, mul.cc, cat.cc, clamps.cc for relu, relu6, hardtanh
// and clamp, hardswish.cc, sigmoid.cc, leaky_relu.cc, flatten.cc, max_pool2d.cc, avg_pool2d.cc,
// adaptive_avg_pool2d.cc). Each defines the op's recipes, its engine paths, its rejection reasons
// and its float64 reference in one OpDef; op_recipe.cc lists every OpDef in one table and
// dispatches through it. LibTorch's shared float formulas (quantize_val, the FMA dequantize,
// QuantizeAvx2, the vector lanes) are in libtorch_float.h; qdiff's own shared helpers in
// op_common.h and pool_common.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "oracles/engine.h"
#include "oracles/model.h"

namespace qdiff {

// Where recipes of one op differ. The classifier names a difference between two recipes of the
// same op by the ingredient that differs (harness/evaluation/classifier.h); a recipe's ingredients must
// describe it truthfully.
enum class OpRounding { kHalfEven, kHalfAway, kHalfUp, kNone };   // kNone: no rounding (max, clamp)
enum class OpZeroPoint { kAfterRounding, kBeforeRounding, kNone };  // kNone: zp never enters
enum class OpArithmetic { kExact, kBinary32, kFixedPoint, kTable }; // kTable: 256-entry LUT
enum class OpLayout { kAny, kNchw, kNhwc };

// A multiplier, divisor or function formula, e.g. "f32(f64(s_x/s_y)/div)", defined once in its
// op's file. Recipes with the same formula point at the same OpFormula: two recipes differ in
// their multiplier exactly when their pointers differ; `text` is only for people.
struct OpFormula {
  const char* text;
};

struct OpIngredients {
  OpRounding rounding;
  OpZeroPoint zero_point;
  OpArithmetic arithmetic;
  OpLayout layout;
  const OpFormula* multiplier;
};

struct OpRecipeDef {
  const char* name;  // "<op>.<path>": "add.exact", "add.default_fp32", "add.qnnpack_fixed", ...
  OpKind op;
  OpIngredients ingredients;
  const char* formula;  // one line: the formula and its upstream source file
  // Quantized output values in logical row-major (NCHW) order. `inputs` carry values, dtype and
  // per-tensor qparams; `out_shape` is LayerOutputShape. The model validates (ValidateModel).
  std::vector<int32_t> (*run)(const Layer& layer, const std::vector<QTensor>& inputs,
                              const std::vector<int64_t>& out_shape);
  // Set on recipes that reproduce a LibTorch bug (the corpus file that documents it). They are
  // never an engine path: the path is the intended op, and an element only such a recipe
  // reproduces is classified libtorch_bug (harness/evaluation/classifier.h), never silently exact.
  const char* libtorch_bug = nullptr;
  // Bug recipes only: whether `engine` runs the kernel that has the bug for this layer and these
  // inputs. A bug recipe classifies an element only where its kernel runs.
  bool (*bug_applies)(Engine engine, const Layer& layer,
                      const std::vector<QTensor>& inputs) = nullptr;
};

// True if `r` reproduces a documented LibTorch bug whose kernel `engine` runs for this layer.
bool LibTorchBugApplies(const OpRecipeDef& r, Engine engine, const Layer& layer,
                        const std::vector<QTensor>& inputs);

// The values of a 4-D output (logical NCHW order) as LibTorch returns them when a kernel writes
// NHWC order into an NCHW-contiguous output: output memory position p gets the element whose
// NHWC memory position is p.
std::vector<int32_t> WrittenInNhwcOrder(const std::vector<int32_t>& values,
                                        const std::vector<int64_t>& shape);

// Every recipe of `op` (empty for conv2d/linear); the exact reference first.
const std::vector<const OpRecipeDef*>& OpRecipes(OpKind op);
// The exact reference of `op`: the real result rounded once, half to even, zp after, clamped.
const OpRecipeDef& ExactOpRecipe(OpKind op);
const OpRecipeDef* FindOpRecipe(const std::string& name);

// The recipe LibTorch 1.13 runs for `layer` on `engine`
// with these inputs (dtype, shapes, layer.channels_last, attributes):
// docs/semantics.md#ops-without-weights. nullptr if qdiff has no recipe for that path.
const OpRecipeDef* EngineOpRecipe(Engine engine, const Layer& layer,
                                  const std::vector<QTensor>& inputs);

// Why LibTorch 1.13 rejects `layer` on `engine` with these inputs (e.g. QNNPACK's 1×1 avg-pool
// enforce, the add scale-ratio assert), or "" if it is accepted as far as qdiff knows. The
// generators use it to stay in the legal region.
std::string OpRejectionReason(Engine engine, const Layer& layer,
                              const std::vector<QTensor>& inputs);

// Float oracle: the real-valued output, computed in float64 from the inputs dequantized as
// LibTorch's dequantize() does (DequantizeElement), before the output quantization. Empty for
// the convolutions and linear (float_oracle.cc computes theirs).
std::vector<double> FloatOpReal(const Layer& layer, const std::vector<QTensor>& inputs,
                                const std::vector<int64_t>& out_shape);

// Everything qdiff knows about one op without weights, defined in its file oracles/ops/<op>.cc and
// listed once in op_recipe.cc's table, through which every function above dispatches. All members
// are constants (pointers), so an OpDef is constant-initialised: no static-initialisation order.
struct OpDef {
  OpKind op;
  // Every recipe of the op, the exact reference first: recipes[0 .. recipe_count).
  const OpRecipeDef* const* recipes;
  size_t recipe_count;
  // EngineOpRecipe for this op. Called only with non-empty inputs.
  const OpRecipeDef* (*engine_recipe)(Engine engine, const Layer& layer,
                                      const std::vector<QTensor>& inputs);
  // OpRejectionReason for this op. Called only with non-empty inputs; nullptr: never rejected.
  std::string (*rejection_reason)(Engine engine, const Layer& layer,
                                  const std::vector<QTensor>& inputs);
  // FloatOpReal for this op.
  std::vector<double> (*float_real)(const Layer& layer, const std::vector<QTensor>& inputs,
                                    const std::vector<int64_t>& out_shape);
};

// The OpDef of `op`, or nullptr for the convolutions and linear.
const OpDef* FindOpDef(OpKind op);

// An elementwise recipe as two tables indexed by q − qmin over every code of the input type, for
// `qdiff export` (docs/export.md): its output in the vector lanes of cpu_kernel_vec and in the
// scalar tail (IsVectorElement says which element takes which). Cat: the tables of one input,
// and how many channels along dim 1 take the vector table (the rest, and cat.generic, the tail).
struct ElementTables {
  std::vector<int32_t> vector, tail;
  int64_t vector_along = 0;
};
// Unary ops (relu, relu6, hardtanh, clamp, hardswish, sigmoid, leaky_relu): `recipe` run on every
// code, once as one 256-element tensor (all vector lanes) and once per code as a one-element
// tensor (the tail).
ElementTables UnaryRecipeTables(const OpRecipeDef& recipe, const Layer& layer, const QTensor& x);
bool IsUnaryElementwise(OpKind op);
// add.qnnpack_fixed / add.xnnpack_qs8 (add.cc): y = clamp(round(acc / 2^shift) + z_y),
// acc = A(q_a − z_a) + B(q_b − z_b); round half away from zero (QNNPACK) or half up (XNNPACK).
struct AddFixedPoint {
  int64_t a_mult, b_mult;
  int shift;
  bool half_away;
};
std::optional<AddFixedPoint> AddRecipeFixedPoint(const OpRecipeDef& recipe, const Layer& layer,
                                                 const std::vector<QTensor>& inputs);
// mul.default_fp32 / mul.xnnpack_qs8 (mul.cc): the binary32 M of y = clamp(RNE(f32(c)·M) + z_y).
std::optional<float> MulRecipeMultiplier(const OpRecipeDef& recipe, const Layer& layer,
                                         const std::vector<QTensor>& inputs);
// cat.generic and cat.nhwc (cat.cc); throws std::invalid_argument for another recipe.
ElementTables CatRecipeTables(const OpRecipeDef& recipe, const Layer& layer,
                              const std::vector<QTensor>& inputs, size_t input);

}  // namespace qdiff
