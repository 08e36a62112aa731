// Integer-only twins of the binary32 recipes (qnnpack_fp32, onednn_fp32, fbgemm_fp32): the same
// sequence of binary32 operations, done with soft_binary32.h, so that a target without an FPU can
// reproduce LibTorch bit for bit. The parameters are exported once per channel (floats as bit
// patterns); the per-element step uses no float type at all (float32_twin.cc is compiled with
// -mgeneral-regs-only). Proven identical to EvaluateRecipe by tests/oracles/float32_twin_test.cc.
#pragma once

#include <cstdint>
#include <optional>

#include "oracles/recipe.h"
#include "oracles/soft_binary32.h"

namespace qdiff {

struct Float32TwinParams {
  bool has_bias = false;
  bool bias_is_int32 = true;       // int32 bias added before the conversion (QNNPACK)
  int32_t bias_int32 = 0;
  Binary32 bias_bits = 0;          // float bias added after f32(acc) (ONEDNN, FBGEMM)
  Binary32 multiplier_bits = 0;
  bool zero_point_before_rounding = false;  // ONEDNN: RNE(t + z_y)
  bool cvt_indefinite = false;     // QNNPACK/FBGEMM: out of int32 → range minimum
  int32_t z_y = 0;
  int32_t qmin = 0;
  int32_t qmax = 255;
};

// Parameters of `recipe` for one channel; nullopt unless the recipe uses binary32 arithmetic
// with a round-half-to-even rounding (the backend recipes).
std::optional<Float32TwinParams> MakeFloat32TwinParams(const Recipe& recipe,
                                                       const ChannelTerms& terms);

// y = clamp(RNE(f32(f32(acc [+ b_q]) [+ bf]) · M) [+ z_y]) [+ z_y]), integer operations only.
int32_t RequantizeFloat32Twin(const Float32TwinParams& p, int64_t acc);

}  // namespace qdiff
