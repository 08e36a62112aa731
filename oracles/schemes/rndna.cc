// rndna: fixed point with round half away from zero (XNNPACK's qs8 "rndna" requantization,
// src/qs8-requantization/rndna-scalar-*.c): the multiplier is the 24-bit mantissa of the binary32
// scale M = f32(f32(s_x·s_w)/s_y), the product is exact in 64 bits, and the shift rounds ties away
// from zero (it rounds |v| half up and restores the sign):
//   y = clamp(sign(v)·floor(|v| + 1/2) + z_y),  v = (acc + b_q)·M exactly
#include "oracles/scheme.h"

namespace qdiff {

const SchemeDef kRndnaScheme = {
    Scheme::kRndna,
    "rndna",
    Recipe{BiasForm::kInt32Torch, MultiplierForm::kF32Fbgemm, Arithmetic::kExact,
           Rounding::kHalfAway, ZeroPointOrder::kAfterRounding, Overflow::kSaturate},
    "clamp(sign(v)*floor(|v|+1/2) + z_y), v = (acc+b_q)*M_f32 exactly, rndna (ties away)",
};

}  // namespace qdiff
