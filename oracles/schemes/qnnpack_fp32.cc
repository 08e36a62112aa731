// qnnpack_fp32: LibTorch's QNNPACK conv/linear (docs/semantics.md#qnnpack-requantization;
// aten/src/ATen/native/quantized/cpu/qnnpack/src/q8gemm/4x4c2-sse2.c,
// QnnpackUtils.h::generate_requantization_scales, QuantUtils.h::QuantizeBias):
//   b_q = RNE(f32(b · f32(1 / f32(f64 s_x·s_w))))              int32, added to the accumulator
//   M   = f32(f32(f32 s_w · f32 s_x) · f32(1 / f32 s_y))
//   y   = clamp(RNE(f32(f32(acc + b_q) · M)) + z_y)             cvtps2dq: |t| ≥ 2^31 → INT32_MIN → qmin
#include "oracles/scheme.h"

namespace qdiff {

const SchemeDef kQnnpackFp32Scheme = {
    Scheme::kQnnpackFp32,
    "qnnpack_fp32",
    Recipe{BiasForm::kInt32Torch, MultiplierForm::kF32Qnnpack, Arithmetic::kFloat32,
           Rounding::kHalfEven, ZeroPointOrder::kAfterRounding, Overflow::kCvtIndefinite},
    "clamp(RNE(f32(f32(acc+b_q)*M_f32)) + z_y), LibTorch QNNPACK",
};

}  // namespace qdiff
