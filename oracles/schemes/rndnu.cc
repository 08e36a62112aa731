// rndnu: XNNPACK's "round to nearest, ties up" fixed point (XNNPACK src/params-init.c,
// xnn_init_qs8_conv_minmax_rndnu_*_params; src/qs8-gemm/*rndnu*): the multiplier is the 24-bit
// mantissa of the binary32 scale M = f32(f32(s_x·s_w)/s_y) (so the fixed-point multiplier is that
// float exactly), one 64-bit product and one arithmetic right shift with 2^(shift−1) added:
//   y = clamp(((acc + b_q)·mantissa(M) + 2^(s−1)) >> s + z_y),  i.e. floor(v + 1/2), ties toward +inf
// Bias as LibTorch's int32 QuantizeBias.
#include "oracles/scheme.h"

namespace qdiff {

const SchemeDef kRndnuScheme = {
    Scheme::kRndnu,
    "rndnu",
    Recipe{BiasForm::kInt32Torch, MultiplierForm::kF32Fbgemm, Arithmetic::kExact,
           Rounding::kHalfUp, ZeroPointOrder::kAfterRounding, Overflow::kSaturate},
    "clamp(((acc+b_q)*mant24(M_f32) + 2^(s-1)) >> s + z_y), XNNPACK rndnu (ties up)",
};

}  // namespace qdiff
