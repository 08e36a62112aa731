// Integer-only: this file is compiled with -mgeneral-regs-only, so any float or double that slips
// in fails the build. The implementation is soft_binary32_c.h (C99/C++), shared with the C header
// `qdiff export` writes.
#include "oracles/soft_binary32.h"

#include <cstdint>

#include "oracles/soft_binary32_c.h"

namespace qdiff {

Binary32 SoftFromInt(int64_t v) { return qdiff_soft_from_int(v); }
Binary32 SoftMul(Binary32 a, Binary32 b) { return qdiff_soft_mul(a, b); }
Binary32 SoftAdd(Binary32 a, Binary32 b) { return qdiff_soft_add(a, b); }
Binary32 SoftDiv(Binary32 a, Binary32 b) { return qdiff_soft_div(a, b); }

int32_t SoftToInt32Rne(Binary32 a, bool* out_of_range) {
  int out = 0;
  const int32_t v = qdiff_soft_to_int32_rne(a, &out);
  *out_of_range = out != 0;
  return v;
}

Binary32 SoftClamp(Binary32 a, int32_t lo, int32_t hi) { return qdiff_soft_clamp(a, lo, hi); }

}  // namespace qdiff
