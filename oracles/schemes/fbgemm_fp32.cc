// fbgemm_fp32: LibTorch's FBGEMM conv/linear (docs/semantics.md#fbgemm-requantization; from
// source: FBGEMM include/fbgemm/OutputProcessing-inl.h::ReQuantizeOutput,
// src/QuantUtilsAvx2.cc::requantizeOutputProcessingAvx2; LibTorch qconv.cpp / qlinear.cpp):
//   a   = f32(f32 s_x · f32 s_w)
//   bf  = f32(b / a) per channel, f32(b · f32(1/(f64)a)) per tensor      the bias stays float
//   M   = f32(a / f32 s_y)
//   y   = clamp(RNE(f32(f32(f32(acc) + bf) · M)) + z_y)      cvtps2dq: |t| ≥ 2^31 → INT32_MIN → qmin
// Not verifiable on Debian's LibTorch (no FBGEMM); the 16-bit pair saturation of vpmaddubsw on
// CPUs without VNNI is an accumulator effect, outside this recipe.
#include "oracles/scheme.h"

namespace qdiff {

const SchemeDef kFbgemmFp32Scheme = {
    Scheme::kFbgemmFp32,
    "fbgemm_fp32",
    Recipe{BiasForm::kFloatFbgemm, MultiplierForm::kF32Fbgemm, Arithmetic::kFloat32,
           Rounding::kHalfEven, ZeroPointOrder::kAfterRounding, Overflow::kCvtIndefinite},
    "clamp(RNE(f32(f32(f32(acc)+bf)*M)) + z_y), LibTorch FBGEMM",
};

}  // namespace qdiff
