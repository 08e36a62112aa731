// IEEE-754 binary32 arithmetic with integer operations only, for targets without an FPU: the
// operations LibTorch's float requantization uses (int → float conversion, add, multiply, and
// cvtps2dq's round-to-nearest-even float → int), each correctly rounded to nearest, ties to even,
// exactly as SSE does under the default MXCSR. Values are carried as their bit patterns.
// Finite inputs only (LibTorch's requantization never produces inf or NaN from finite scales);
// results that overflow become ±inf.
#pragma once

#include <cstdint>

namespace qdiff {

using Binary32 = uint32_t;  // the IEEE bit pattern of a float

Binary32 SoftFromInt(int64_t v);               // cvtsi2ss: RNE to 24 significant bits
Binary32 SoftAdd(Binary32 a, Binary32 b);      // RNE(a + b)
Binary32 SoftMul(Binary32 a, Binary32 b);      // RNE(a · b)
Binary32 SoftDiv(Binary32 a, Binary32 b);      // RNE(a / b), b ≠ 0

// cvtps2dq under the default rounding mode: RNE(a) as an integer; `*out_of_range` is set (and the
// result is INT32_MIN, the "integer indefinite") when RNE(a) is outside [-2^31, 2^31).
int32_t SoftToInt32Rne(Binary32 a, bool* out_of_range);

// Clamp of a finite binary32 to [lo, hi] given as integers (|lo|, |hi| < 2^24), as the float
// saturation min(max(t, lo), hi) does.
Binary32 SoftClamp(Binary32 a, int32_t lo, int32_t hi);

}  // namespace qdiff
