#include "harness/explain.h"

#include <cstdio>
#include <sstream>

namespace qdiff {

std::string DoubleWithHex(double v) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.9g (%a)", v, v);
  return buf;
}

namespace {

const char* BiasFormText(BiasForm f) {
  switch (f) {
    case BiasForm::kExactReal: return "b/(s_x*s_w) exactly";
    case BiasForm::kInt32Torch: return "int32 b_q = RNE(f32(b*f32(1/f32(s_x*s_w))))  [LibTorch QuantizeBias]";
    case BiasForm::kFloatFbgemm: return "float bf = f32(b/f32(f32 s_x*f32 s_w))  [FBGEMM]";
    case BiasForm::kFloatOnednn: return "float bf = f32(b*f32(f32(1/s_x)*f32(1/s_w)))  [ideep]";
  }
  return "";
}

const char* MultiplierFormText(MultiplierForm f) {
  switch (f) {
    case MultiplierForm::kExactReal: return "s_x*s_w/s_y exactly";
    case MultiplierForm::kQ31: return "Q31: multiplier*2^(shift-31)";
    case MultiplierForm::kF32Qnnpack: return "f32(f32(s_w*s_x)*f32(1/s_y))  [QNNPACK]";
    case MultiplierForm::kF32Fbgemm: return "f32(f32(s_x*s_w)/s_y)  [FBGEMM]";
    case MultiplierForm::kF32Onednn: return "f32(f32(1/s_y)/f32(f32(1/s_x)*f32(1/s_w)))  [ideep]";
  }
  return "";
}

const char* RoundingText(Rounding r) {
  switch (r) {
    case Rounding::kHalfEven: return "round half to even";
    case Rounding::kHalfAway: return "round half away from zero";
    case Rounding::kHalfUp: return "round half up";
    case Rounding::kDoubleRoundingQ31: return "SRDHM (ties up) then RoundingDivideByPOT (ties away)";
  }
  return "";
}

}  // namespace

std::string ExplainScheme(const SchemeDef& scheme, const ChannelTerms& terms, int64_t acc,
                          const std::string& indent) {
  const Recipe& r = scheme.recipe;
  RecipeTrace t;
  const std::optional<int32_t> y = EvaluateRecipe(r, terms, acc, &t);
  std::ostringstream s;
  s << indent << "bias:       " << (terms.quant.bias ? BiasFormText(r.bias) : "none")
    << (terms.quant.bias ? " = " + DoubleWithHex(t.bias_term) : "") << "\n";
  s << indent << "multiplier: " << MultiplierFormText(r.multiplier) << " = "
    << DoubleWithHex(t.multiplier);
  if (r.multiplier == MultiplierForm::kQ31) {
    s << "  [multiplier=" << terms.q31.multiplier << ", shift=" << terms.q31.shift << "]";
  }
  s << "\n";
  if (r.arithmetic == Arithmetic::kFloat32) {
    s << indent << "float32:    a = f32(acc + bias) = " << DoubleWithHex(t.sum)
      << ";  t = f32(a*M) = " << DoubleWithHex(t.value_before_rounding) << "\n";
  } else {
    s << indent << "exact:      (acc + bias) = " << DoubleWithHex(t.sum)
      << ";  v = (acc + bias)*M = " << DoubleWithHex(t.value_before_rounding)
      << (t.exact_tie ? "  <- exact tie" : "") << "\n";
  }
  s << indent << "rounding:   " << RoundingText(r.rounding) << ", zero point z_y=" << terms.quant.z_y
    << (r.zero_point_order == ZeroPointOrder::kBeforeRounding ? " added BEFORE rounding"
                                                              : " added after rounding")
    << " -> " << t.rounded << "\n";
  s << indent << "clamp:      [" << terms.quant.range.qmin << ", " << terms.quant.range.qmax
    << "] -> y = " << (y ? std::to_string(*y) : std::string("n/a")) << "\n";
  return s.str();
}

}  // namespace qdiff
