// hardsigmoid — at::hardsigmoid (cpu/qhardsigmoid.cpp::hardsigmoid_quantized_cpu); output qparams
// fixed as sigmoid's: quint8 (1/256, 0), qint8 (1/256, −128). The exact reference, the default
// kernel's two tables (qhardsigmoid_kernel) and QNNPACK's table (quint8 on the QNNPACK engine).
// Upstream paths relative to aten/src/ATen/native/quantized/ (docs/semantics.md#hardsigmoid).
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

// hardsigmoid real in float, as all three LibTorch formulas write it: min(max(x + 3, 0), 6) / 6
// (a division, not a multiplication by 1/6).
float HardsigmoidF32(float x) { return std::min(std::max(x + 3.0f, 0.0f), 6.0f) / 6.0f; }

// hardsigmoid.exact: x = s_x(q − z_x) exactly, y = clamp(RNE(clamp(x + 3, 0, 6)/6/s_y) + z_y).
std::vector<int32_t> RunHardsigmoidExact(const Layer& layer, const OpInputs& in, const OpShape&) {
  return ExactRelu6ShiftTable(layer, in, [](const Rational&, const Rational& c) { return c; });
}

// hardsigmoid.default_table (cpu/kernels/QuantizedOpKernels.cpp::qhardsigmoid_kernel). Two tables:
//   vector lanes: x = DequantFma, h = HardsigmoidF32(x), Vec::quantize with inv = f32(1.0/(1/256)) = 256
//   scalar tail : x = DequantScalar, h = HardsigmoidF32(x), quantize_val (inv = 1.0f/f32(1/256) = 256)
// The inverse scale is 256 in both; the dequantize (FMA or not) is what can differ.
std::vector<int32_t> RunHardsigmoidDefault(const Layer& layer, const OpInputs& in,
                                           const OpShape& shape) {
  return DefaultActivationTables(layer, in, shape, HardsigmoidF32);
}

// hardsigmoid.qnnpack_table (qhardsigmoid.cpp::qnnpack_hardsigmoid → qnnpack/src/hardsigmoid.c,
// quint8 only): LUT[q] = lrintf(clamp(f32(f32(inv · h) + z_y), 0, 255)), inv = 1.0f/(1/256) = 256,
// x = f32(f32 s_x · f32(q − z_x)). QNNPACK accepts only s_y = 1/256 and z_y = 0, which
// qnnpack_hardsigmoid passes, so the zero point (before rounding) is 0 there.
std::vector<int32_t> RunHardsigmoidQnnpack(const Layer& layer, const OpInputs& in, const OpShape&) {
  return QnnpackActivationTable(layer, in, HardsigmoidF32);
}

// The multipliers (or functions) of this op's recipes: one OpFormula each (op_recipe.h).
constexpr OpFormula kHardsigmoidDefaultFunction{"256 f32(clamp(x+3,0,6)/6), x = FMA dequantize (tail: no FMA)"};
constexpr OpFormula kHardsigmoidQnnpackFunction{"f32(256 f32(clamp(x+3,0,6)/6)) + z_y"};
constexpr OpFormula kHardsigmoidExactFunction{"exact clamp(x+3,0,6)/6/s_y"};

const OpRecipeDef kHardsigmoidExact = {"hardsigmoid.exact", OpKind::kHardsigmoid,
                                       ExactIngredients(&kHardsigmoidExactFunction),
                                       "clamp(RNE(clamp(x+3,0,6)/6/s_y) + z_y), exact",
                                       RunHardsigmoidExact};
const OpRecipeDef kHardsigmoidDefault = {
    "hardsigmoid.default_table", OpKind::kHardsigmoid,
    {OpRounding::kHalfEven, OpZeroPoint::kAfterRounding, OpArithmetic::kTable, OpLayout::kAny,
     &kHardsigmoidDefaultFunction},
    "LUT: clamp(RNE(f32(f32(clamp(x+3,0,6)/6)*256)) + z_y) (tail: quantize_val); "
    "QuantizedOpKernels.cpp qhardsigmoid_kernel",
    RunHardsigmoidDefault};
const OpRecipeDef kHardsigmoidQnnpack = {
    "hardsigmoid.qnnpack_table", OpKind::kHardsigmoid,
    {OpRounding::kHalfEven, OpZeroPoint::kBeforeRounding, OpArithmetic::kTable, OpLayout::kAny,
     &kHardsigmoidQnnpackFunction},
    "LUT: lrintf(clamp(f32(256*h + z_y), 0, 255)); qnnpack/src/hardsigmoid.c", RunHardsigmoidQnnpack};

const OpRecipeDef* const kHardsigmoidRecipes[] = {&kHardsigmoidExact, &kHardsigmoidDefault,
                                                  &kHardsigmoidQnnpack};

// qhardsigmoid.cpp: QNNPACK engine + quint8 → qnnpack_hardsigmoid, else qhardsigmoid_kernel.
const OpRecipeDef* HardsigmoidEnginePath(Engine engine, const Layer&, const OpInputs& in) {
  return engine == Engine::kQnnpack && in[0].dtype == DType::kQUInt8 ? &kHardsigmoidQnnpack
                                                                    : &kHardsigmoidDefault;
}

// y = clamp(x + 3, 0, 6) / 6 in float64.
std::vector<double> HardsigmoidFloatReal(const Layer&, const OpInputs& in, const OpShape& out_shape) {
  return ElementwiseReal(out_shape, [&](int64_t i) {
    const double x = DequantizeElement(in[0], i);
    return std::min(std::max(x + 3.0, 0.0), 6.0) / 6.0;
  });
}

}  // namespace

extern const OpDef kHardsigmoidOp = {OpKind::kHardsigmoid,         kHardsigmoidRecipes,
                                     std::size(kHardsigmoidRecipes), HardsigmoidEnginePath,
                                     QnnpackLutRejectionReason,      HardsigmoidFloatReal};

}  // namespace qdiff
