// xnnpack_fp32: XNNPACK's fp32 requantization as LibTorch uses it for qint8 activations on the
// QNNPACK engine (docs/semantics.md#xnnpack-requantization; PyTorch qconv.cpp::apply_impl_xnnp
// with XNNPACK src/qs8-gemm/gen/*-fp32-*.c): int32 bias from QuantizeBias, M = f32(f32(s_x·s_w)/s_y),
//   t = f32(f32(acc + b_q)·M), clamped in float to [qmin − z_y, qmax − z_y], y = RNE(t) + z_y
// The float clamp before conversion means no cvtps2dq overflow: out-of-range values saturate.
#include "oracles/scheme.h"

namespace qdiff {

const SchemeDef kXnnpackFp32Scheme = {
    Scheme::kXnnpackFp32,
    "xnnpack_fp32",
    Recipe{BiasForm::kInt32Torch, MultiplierForm::kF32Fbgemm, Arithmetic::kFloat32,
           Rounding::kHalfEven, ZeroPointOrder::kAfterRounding, Overflow::kSaturate},
    "clamp(RNE(f32(f32(acc+b_q)*M_f32)) + z_y), XNNPACK fp32 (float clamp, no overflow)",
};

}  // namespace qdiff
