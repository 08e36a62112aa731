// exact: the ideal every scheme approximates. The real value (acc·s_x·s_w + b)/s_y computed with
// exact rational arithmetic from the double scales and the float bias, rounded once, half to even,
// then + z_y and clamped. No multiplier representation, no bias rounding, no float conversion.
#include "oracles/scheme.h"

namespace qdiff {

const SchemeDef kExactScheme = {
    Scheme::kExact,
    "exact",
    Recipe{BiasForm::kExactReal, MultiplierForm::kExactReal, Arithmetic::kExact,
           Rounding::kHalfEven, ZeroPointOrder::kAfterRounding, Overflow::kSaturate},
    "clamp(RNE((acc*s_x*s_w + b)/s_y) + z_y), exact rational arithmetic",
};

}  // namespace qdiff
