// Integer-only: compiled with -mgeneral-regs-only (see oracles/CMakeLists.txt).
#include "oracles/float32_twin.h"

namespace qdiff {

int32_t RequantizeFloat32Twin(const Float32TwinParams& p, int64_t acc) {
  Binary32 a;
  if (!p.has_bias) {
    a = SoftFromInt(acc);
  } else if (p.bias_is_int32) {
    // The kernel adds in int32: wrap like the hardware register (two's complement).
    a = SoftFromInt(static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(acc + p.bias_int32))));
  } else {
    a = SoftAdd(SoftFromInt(acc), p.bias_bits);
  }
  Binary32 t = SoftMul(a, p.multiplier_bits);
  if (p.zero_point_before_rounding) t = SoftAdd(t, SoftFromInt(p.z_y));
  bool out_of_range = false;
  int64_t r = SoftToInt32Rne(t, &out_of_range);
  if (out_of_range) {
    if (p.cvt_indefinite) return p.qmin;
    r = (t & 0x80000000u) ? INT32_MIN : INT32_MAX;
  }
  if (!p.zero_point_before_rounding) r += p.z_y;
  return static_cast<int32_t>(r < p.qmin ? p.qmin : (r > p.qmax ? p.qmax : r));
}

}  // namespace qdiff
