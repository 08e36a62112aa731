#include "harness/evaluation/explain.h"

#include <cstdio>
#include <sstream>

#include "harness/case/provenance.h"
#include "harness/evaluation/classifier.h"
#include "harness/evaluation/engines.h"
#include "harness/evaluation/injected_defect.h"
#include "oracles/float32_twin.h"
#include "oracles/ops/op_recipe.h"

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

namespace {

// An element of an op without weights: every recipe of the op on the inputs each engine's layer
// saw, with its formula; which recipe is the engine's path and which reproduce LibTorch.
std::string ExplainOpElement(const Case& c, const CaseRuns& runs, size_t layer, int64_t element) {
  const Layer& l = c.model.layers[layer];
  std::ostringstream out;
  out << "layer " << layer << " (" << LayerOpName(l) << "), element " << element << "\n";
  for (size_t e = 0; e < std::max<size_t>(runs.engines.size(), 1); ++e) {
    const LayerTrace& t = runs.pipeline[e][0][layer];
    const bool has_engine = e < runs.engines.size();
    const std::string engine = has_engine ? EngineName(runs.engines[e]) : "";
    const EngineResult* lt = has_engine ? &runs.libtorch[e] : nullptr;
    const bool ran = lt && !lt->rejected &&
                     element < static_cast<int64_t>(lt->layers[layer].values.size());
    const OpRecipeDef* path = has_engine ? EngineOpRecipe(runs.engines[e], l, t.inputs) : nullptr;
    out << (has_engine ? "  on " + engine + " (inputs as LibTorch's layers produced them)"
                       : std::string("  (no engine)"))
        << ": LibTorch "
        << (!lt ? std::string("-")
            : lt->rejected ? "rejected: " + lt->message
            : ran ? std::to_string(lt->layers[layer].values[element])
                  : std::string("(no such element in LibTorch's output)"))
        << "\n";
    for (size_t i = 0; i < t.inputs.size(); ++i) {
      const QTensor& x = t.inputs[i];
      out << "    input " << i << ": " << DTypeName(x.dtype) << " s = " << DoubleWithHex(x.scales[0])
          << ", z = " << x.zero_points[0]
          << (element < x.NumElements() ? ", value at this index = " + std::to_string(x.values[element]) : "")
          << "\n";
    }
    if (element >= static_cast<int64_t>(t.out.size())) continue;
    for (const OpRecipeDef* r : OpRecipes(l.op)) {
      const int32_t y = r->run(l, t.inputs, t.shape)[element];
      out << "    " << r->name << " = " << y
          << (r == path ? "   <- engine path" : "")
          << (ran && y == lt->layers[layer].values[element] ? "   (= LibTorch)" : "")
          << (r->libtorch_bug ? std::string("   [LibTorch bug: ") + r->libtorch_bug + "]" : "")
          << "\n      " << r->formula << "\n";
    }
  }
  const FloatLayerResult& f = runs.float_oracle[layer];
  if (element < static_cast<int64_t>(f.out.size())) {
    out << "  float oracle: " << f.out[element] << " (real "
        << FloatOracleReal(c.model, runs.float_oracle, layer, element) << ")\n";
  }
  return out.str();
}

// The user's kernel (--kernel) on a conv/linear element, per engine it is compared on: its value,
// and when it differs from LibTorch's, the class and the schemes that give the same value.
std::string ExplainKernelElement(const Case& c, const CaseRuns& runs, size_t layer, int64_t element) {
  std::ostringstream out;
  for (size_t e = 0; runs.kernel && e < runs.kernel_runs.size() && e < runs.engines.size(); ++e) {
    const KernelLayerRun& k = runs.kernel_runs[e][layer];
    if (!k.covered) continue;
    out << "  kernel " << runs.kernel->Name() << " (inputs as LibTorch " << runs.engines[e]
        << " produced them): ";
    if (!k.error.empty() || element >= static_cast<int64_t>(k.out.size())) {
      out << "no value: " << (k.error.empty() ? "output too short" : k.error) << "\n";
      continue;
    }
    const int32_t y = k.out[element];
    out << y;
    const EngineResult& lt = runs.libtorch[e];
    if (lt.rejected || lt.layers[layer].values[element] == y) {
      out << (lt.rejected ? "\n" : ", as LibTorch\n");
      continue;
    }
    const LayerTrace& trace = runs.pipeline[e][0][layer];
    const ChannelTerms& terms = trace.channels[trace.ChannelOf(element)];
    const Recipe engine_recipe =
        GetScheme(EngineScheme(runs.engines[e], c.model.layers[layer], CpuHasVnni(),
                               trace.input().dtype)).recipe;
    std::vector<Scheme> equals;
    const DiffClass cls = ClassifyKernelElement(engine_recipe, terms, trace.acc[element], y, &equals);
    out << ", LibTorch " << lt.layers[layer].values[element] << ": class " << DiffClassName(cls)
        << "; schemes giving " << y << ":";
    for (Scheme s : equals) out << " " << GetScheme(s).name;
    out << (equals.empty() ? " none" : "") << "\n";
  }
  return out.str();
}

// A conv/linear element: the accumulator and qparams, every scheme step by step with its
// integer-only twin, LibTorch per engine and the float oracle.
std::string ExplainGemmElement(const Case& c, const CaseRuns& runs, size_t layer, int64_t element,
                               const std::string& source) {
  std::ostringstream out;
  const LayerTrace& trace = runs.pipeline[0][0][layer];
  const ChannelTerms& terms = trace.channels[trace.ChannelOf(element)];
  const ChannelQuant& q = terms.quant;
  out << source << ", layer " << layer << ", element " << element << " (channel "
            << trace.ChannelOf(element) << ")\n"
            << "  acc = sum (x - z_x)(w - z_w) = " << trace.acc[element] << "\n"
            << "  s_x = " << DoubleWithHex(q.s_x) << ", s_w = " << DoubleWithHex(q.s_w)
            << ", s_y = " << DoubleWithHex(q.s_y) << ", z_y = " << q.z_y << ", bias = "
            << (q.bias ? DoubleWithHex(*q.bias) : std::string("none")) << "\n"
            << "  exact real output = " << ExactRealOutput(terms, trace.acc[element]) << "\n";
  for (Scheme id : runs.schemes) {
    const SchemeDef& def = GetScheme(id);
    const SchemeDef effective{def.id, def.name, ApplyDefect(def.recipe, c.injected_defect), def.formula};
    out << " " << def.name << ": " << def.formula << "\n"
              << ExplainScheme(effective, terms, trace.acc[element], "    ");
    if (std::optional<Float32TwinParams> p = MakeFloat32TwinParams(effective.recipe, terms)) {
      char buf[200];
      std::snprintf(buf, sizeof buf,
                    "    integer-only twin: bias %s 0x%08x (int %d), multiplier bits 0x%08x -> y = %d\n",
                    p->bias_is_int32 ? "int32" : "bits", p->bias_bits, p->bias_int32,
                    p->multiplier_bits, RequantizeFloat32Twin(*p, trace.acc[element]));
      out << buf;
    }
  }
  for (size_t e = 0; e < runs.engines.size(); ++e) {
    const EngineResult& r = runs.libtorch[e];
    out << "  LibTorch " << runs.engines[e] << ": "
              << (r.rejected ? "rejected: " + r.message
                             : std::to_string(r.layers[layer].values[element]))
              << "\n";
  }
  out << "  float oracle: " << runs.float_oracle[layer].out[element] << " (real "
            << FloatOracleReal(c.model, runs.float_oracle, layer, element) << ")\n";
  out << ExplainKernelElement(c, runs, layer, element);
  return out.str();
}

}  // namespace

std::string ExplainElement(const Case& c, const CaseRuns& runs, size_t layer, int64_t element,
                           const std::string& source) {
  return IsGemmOp(c.model.layers[layer].op) ? ExplainGemmElement(c, runs, layer, element, source)
                                           : ExplainOpElement(c, runs, layer, element);
}

}  // namespace qdiff
