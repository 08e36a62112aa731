// single_rounding: TFLite with TFLITE_SINGLE_ROUNDING (kernels/internal/common.h,
// MultiplyByQuantizedMultiplier): one 64-bit product and one rounding shift,
//   y = clamp(((acc + b_q)·M_q31 + 2^(30−shift)) >> (31 − shift) + z_y)
// i.e. the exact value (acc + b_q)·M_q31·2^(shift−31) rounded half up (ties toward +inf).
// Same Q31 multiplier and int32 bias as double_rounding.
#include "oracles/scheme.h"

namespace qdiff {

const SchemeDef kSingleRoundingScheme = {
    Scheme::kSingleRounding,
    "single_rounding",
    Recipe{BiasForm::kInt32Torch, MultiplierForm::kQ31, Arithmetic::kExact, Rounding::kHalfUp,
           ZeroPointOrder::kAfterRounding, Overflow::kSaturate},
    "clamp(((acc+b_q)*M_q31 + 2^(30-shift)) >> (31-shift) + z_y), TFLite single rounding",
};

}  // namespace qdiff
