// Links the installed qdiff::oracles and checks a few requantizations whose results are derived
// by hand below (never by qdiff). Exit 0 when all match, 1 with a line per mismatch.
#include <cstdint>
#include <iostream>
#include <string>

#include "oracles/quantize_multiplier.h"
#include "oracles/recipe.h"
#include "oracles/scheme.h"

namespace {

int failures = 0;

void Expect(const char* what, int64_t got, int64_t want) {
  if (got != want) {
    std::cerr << "MISMATCH " << what << ": got " << got << ", expected " << want << "\n";
    ++failures;
  }
}

}  // namespace

int main() {
  using qdiff::Scheme;
  const qdiff::SchemeDef& qnnpack = qdiff::GetScheme(Scheme::kQnnpackFp32);
  const qdiff::SchemeDef& exact = qdiff::GetScheme(Scheme::kExact);
  Expect("scheme name", std::string(qnnpack.name) == "qnnpack_fp32", 1);

  // s_x = 1/2, s_w = 1/4, s_y = 1/2, z_y = 3: every multiplier form is exactly
  // M = (1/2 · 1/4) / (1/2) = 1/4 (QNNPACK: f32(f32(1/4 · 1/2) · f32(1 / (1/2))) = 1/8 · 2).
  qdiff::ChannelQuant q;
  q.s_x = 0.5;
  q.s_w = 0.25;
  q.s_y = 0.5;
  q.z_y = 3;
  q.range = {0, 255};
  const qdiff::ChannelTerms plain = qdiff::PrepareChannel(q);
  auto qnn = [&](const qdiff::ChannelTerms& t, int64_t acc) {
    return int64_t{*qdiff::EvaluateRecipe(qnnpack.recipe, t, acc)};
  };
  Expect("acc 10", qnn(plain, 10), 5);         // 10/4 = 2.5, tie → even 2, + 3 = 5
  Expect("acc 14", qnn(plain, 14), 7);         // 14/4 = 3.5, tie → even 4, + 3 = 7
  Expect("acc -6", qnn(plain, -6), 1);         // −6/4 = −1.5, tie → even −2, + 3 = 1
  Expect("acc 9", qnn(plain, 9), 5);           // 9/4 = 2.25 → 2, + 3 = 5
  Expect("acc -1000", qnn(plain, -1000), 0);   // −250 + 3 = −247 → clamp to 0
  Expect("acc 4000", qnn(plain, 4000), 255);   // 1000 + 3 = 1003 → clamp to 255

  // Fused ReLU: qmin = z_y = 3, so −2 + 3 = 1 clamps to 3.
  q.range = {3, 255};
  Expect("relu acc -6", qnn(qdiff::PrepareChannel(q), -6), 3);

  // Bias b = 0.3125 = 2.5 accumulator units (0.3125 / (1/2 · 1/4)). QNNPACK adds LibTorch's
  // int32 bias RNE(2.5) = 2; the exact scheme adds 2.5.
  q.range = {0, 255};
  q.bias = 0.3125f;
  const qdiff::ChannelTerms biased = qdiff::PrepareChannel(q);
  Expect("bias_int32", biased.bias_int32, 2);
  Expect("bias acc 8", qnn(biased, 8), 5);     // (8 + 2)/4 = 2.5 → 2, + 3 = 5
  Expect("bias acc 12", qnn(biased, 12), 7);   // (12 + 2)/4 = 3.5 → 4, + 3 = 7
  Expect("exact bias acc 8", *qdiff::EvaluateRecipe(exact.recipe, biased, 8), 6);  // 10.5/4 = 2.625 → 3, + 3

  // QuantizeMultiplier: M = q · 2^shift, q in [1/2, 1), multiplier = round(q · 2^31).
  const qdiff::QuantizedMultiplier quarter = qdiff::QuantizeMultiplier(0.25);
  Expect("Q31(1/4)", quarter.multiplier, 1073741824);  // 1/4 = 0.5 · 2^-1; 0.5 · 2^31 = 2^30
  Expect("shift(1/4)", quarter.shift, -1);
  const qdiff::QuantizedMultiplier tenth = qdiff::QuantizeMultiplier(0.1);
  Expect("Q31(0.1)", tenth.multiplier, 1717986918);    // 0.1 = 0.8 · 2^-3; 0.8 · 2^31 = 1717986918.4
  Expect("shift(0.1)", tenth.shift, -3);
  const qdiff::QuantizedMultiplier three = qdiff::QuantizeMultiplier(3.0);
  Expect("Q31(3)", three.multiplier, 1610612736);      // 3 = 0.75 · 2^2; 0.75 · 2^31 = 1610612736
  Expect("shift(3)", three.shift, 2);

  if (failures == 0) std::cout << "consumer: all requantizations match the hand-derived values\n";
  return failures == 0 ? 0 : 1;
}
