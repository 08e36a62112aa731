// onednn_fp32: LibTorch 1.13's ONEDNN conv/linear through ideep and oneDNN 2.6
// (docs/semantics.md#onednn-requantization; ideep utils.hpp::compute_scales,
// oneDNN src/cpu/x64/jit_uni_x8s8s32x_conv_kernel.cpp::store_output):
//   bias_scale = f32(f32(1/(f64)s_x) · w_inv),  w_inv = f32(1/(f64)s_w) or 1.0f/f32(s_w) per channel
//   bf         = f32(b · bias_scale)                             the bias stays float
//   M          = f32(f32(1/(f64)s_y) / bias_scale)
//   y          = RNE(clamp(f32(f32(f32(f32(acc) + bf) · M) + f32 z_y), qmin, qmax))
// The zero point is added BEFORE rounding, so exact ties round differently from the others.
#include "oracles/scheme.h"

namespace qdiff {

const SchemeDef kOnednnFp32Scheme = {
    Scheme::kOnednnFp32,
    "onednn_fp32",
    Recipe{BiasForm::kFloatOnednn, MultiplierForm::kF32Onednn, Arithmetic::kFloat32,
           Rounding::kHalfEven, ZeroPointOrder::kBeforeRounding, Overflow::kSaturate},
    "clamp(RNE(f32(f32(f32(acc)+bf)*M) + z_y)), LibTorch ONEDNN (zp before rounding)",
};

}  // namespace qdiff
