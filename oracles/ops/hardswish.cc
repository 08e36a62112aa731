// hardswish — quantized::hardswish(x, s_y, z_y) (cpu/qhardswish.cpp): the exact reference, the
// default kernel's two tables (qhardswish_kernel) and QNNPACK's table (quint8 on the QNNPACK
// engine). Upstream paths relative to aten/src/ATen/native/quantized/
// (docs/semantics.md#ops-without-weights).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

#include "oracles/float_oracle.h"
#include "oracles/ops/libtorch_float.h"
#include "oracles/ops/op_common.h"
#include "oracles/ops/op_recipe.h"

namespace qdiff {

namespace {

// hardswish real: h = x · clamp(x + 3, 0, 6) / 6 in float, as both LibTorch formulas write it.
float HardswishF32(float x) { return x * std::min(std::max(x + 3.0f, 0.0f), 6.0f) / 6.0f; }

// hardswish.exact: x = s_x(q − z_x) exactly, h = x·clamp(x+3, 0, 6)/6, y = clamp(RNE(h/s_y) + z_y).
std::vector<int32_t> RunHardswishExact(const Layer& layer, const OpInputs& in, const OpShape&) {
  return ExactRelu6ShiftTable(layer, in, [](const Rational& x, const Rational& c) { return x * c; });
}

// hardswish.default_table (cpu/kernels/QuantizedOpKernels.cpp::qhardswish_kernel): vector lanes
// and scalar tail as DefaultActivationTables (op_common.h) with h = HardswishF32.
std::vector<int32_t> RunHardswishDefault(const Layer& layer, const OpInputs& in,
                                         const OpShape& shape) {
  return DefaultActivationTables(layer, in, shape, HardswishF32);
}

// hardswish.qnnpack_table (qhardswish.cpp::qnnpack_hardswish → qnnpack/src/hardswish.c): QNNPACK's
// LUT as QnnpackActivationTable (op_common.h), zero point added before rounding.
std::vector<int32_t> RunHardswishQnnpack(const Layer& layer, const OpInputs& in, const OpShape&) {
  return QnnpackActivationTable(layer, in, HardswishF32);
}

// The multipliers (or functions) of this op's recipes: one OpFormula each (op_recipe.h).
constexpr OpFormula kHardswishDefaultMultiplier{"f32(1/f64 s_y) (vector; tail f32(1/f32 s_y))"};
constexpr OpFormula kHardswishQnnpackMultiplier{"f32(1/f32 s_y)"};
constexpr OpFormula kHardswishExactMultiplier{"exact h(x)/s_y"};

const OpRecipeDef kHardswishExact = {"hardswish.exact", OpKind::kHardswish,
                                     ExactIngredients(&kHardswishExactMultiplier),
                                     "clamp(RNE(x*clamp(x+3,0,6)/6/s_y) + z_y), exact",
                                     RunHardswishExact};
const OpRecipeDef kHardswishDefault = {
    "hardswish.default_table", OpKind::kHardswish,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kTable, OpLayout::kAny,
     &kHardswishDefaultMultiplier},
    "LUT: clamp(RNE(f32(h(fma_dequant)*f32(1/s_y))) + z_y) (tail: quantize_val); "
    "QuantizedOpKernels.cpp qhardswish_kernel",
    RunHardswishDefault};
const OpRecipeDef kHardswishQnnpack = {
    "hardswish.qnnpack_table", OpKind::kHardswish,
    {OpRounding::kHalfEven, OpZeroPoint::kBeforeRounding, OpArithmetic::kTable, OpLayout::kAny,
     &kHardswishQnnpackMultiplier},
    "LUT: lrintf(clamp(f32(f32(inv*h) + z_y), 0, 255)); qnnpack/src/hardswish.c",
    RunHardswishQnnpack};

const OpRecipeDef* const kHardswishRecipes[] = {&kHardswishExact, &kHardswishDefault,
                                                &kHardswishQnnpack};

// qhardswish.cpp: QNNPACK engine + quint8 → qnnpack_hardswish, else qhardswish_kernel.
const OpRecipeDef* HardswishEnginePath(Engine engine, const Layer&, const OpInputs& in) {
  return engine == Engine::kQnnpack && in[0].dtype == DType::kQUInt8 ? &kHardswishQnnpack
                                                            : &kHardswishDefault;
}

// y = x · clamp(x + 3, 0, 6) / 6 in float64.
std::vector<double> HardswishFloatReal(const Layer&, const OpInputs& in, const OpShape& out_shape) {
  return ElementwiseReal(out_shape, [&](int64_t i) {
    const double x = DequantizeElement(in[0], i);
    return x * std::min(std::max(x + 3.0, 0.0), 6.0) / 6.0;
  });
}

}  // namespace

extern const OpDef kHardswishOp = {OpKind::kHardswish,  kHardswishRecipes,
                                   std::size(kHardswishRecipes), HardswishEnginePath,
                                   QnnpackLutRejectionReason, HardswishFloatReal};

}  // namespace qdiff
