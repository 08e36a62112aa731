// double_rounding: gemmlowp / TFLite default fixed-point requantization.
//   (M_q31, shift) = QuantizeMultiplier(s_x·s_w/s_y)            (double, TFLite quantization_util.cc)
//   b_q            = LibTorch's int32 bias (quant_utils::QuantizeBias, as a porter exports it)
//   y = clamp(RoundingDivideByPOT(SRDHM((acc + b_q)·2^max(shift,0), M_q31), max(−shift,0)) + z_y)
// Two roundings: SRDHM rounds the high 32 bits of the 64-bit product (ties toward +inf), then
// the power-of-two division rounds again (ties away from zero), so the result can differ from one
// correctly rounded product by one LSB (gemmlowp fixedpoint/fixedpoint.h; TFLite
// MultiplyByQuantizedMultiplier). With shift 0 only the first rounding acts: ties go up.
#include "oracles/scheme.h"

namespace qdiff {

const SchemeDef kDoubleRoundingScheme = {
    Scheme::kDoubleRounding,
    "double_rounding",
    Recipe{BiasForm::kInt32Torch, MultiplierForm::kQ31, Arithmetic::kExact,
           Rounding::kDoubleRoundingQ31, ZeroPointOrder::kAfterRounding, Overflow::kSaturate},
    "clamp(RDivPOT(SRDHM((acc+b_q)<<ls, M_q31), rs) + z_y), gemmlowp/TFLite",
};

}  // namespace qdiff
