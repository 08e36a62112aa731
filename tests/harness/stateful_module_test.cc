// State: properties over the life of one quantized module as a real program uses it — prepack
// once, call many times with changing inputs and output qparams, unpack and repack — checked
// against the engine's own integer recipe after every call. RapidCheck stateful testing: the model
// state is the Layer + the current input, the system under test is one PackedModule (one
// persistent LibTorch thread, libtorch_runner.h).
//
// "A result must not depend on what ran before it" does NOT hold in LibTorch 1.13 (findings,
// asserted by the deterministic tests at the end, so a fixed LibTorch makes them fail):
//  - ONEDNN: ideep's thread-local primitive cache is keyed without zero points (intel/ideep#152,
//    corpora/onednn_primitive_cache_zero_point.json): the first z_y (and, for linear, z_x) seen
//    with the same scales on the thread is reused.
//  - QNNPACK: the packed object computes its requantization scales and fills conv2d's padding
//    buffer only when it packs for a new input scale, from that call's s_y and z_x.
// So the stateful properties compare against the recipe of a model state that tracks this stale
// state (ModuleState, EffectiveModel); with fixed qparams nothing is stale and the ONEDNN property
// is the plain recipe comparison. The DISABLED_*Unmodelled tests run against the plain recipe and
// shrink to the findings.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "harness/torch/libtorch_runner.h"
#include "oracles/integer_pipeline.h"
#include "oracles/model.h"
#include "oracles/scheme.h"
#include "properties/case_generator.h"

namespace qdiff {
namespace {

int Draw(int lo, int hi) { return *rc::gen::inRange(lo, hi + 1); }  // inclusive
// Not size-dependent (inRange is: small sizes draw small values), shrinks towards false.
bool Chance(int percent) {
  return *rc::gen::weightedElement<bool>(
      {{static_cast<std::size_t>(100 - percent), false}, {static_cast<std::size_t>(percent), true}});
}

Scheme SchemeOf(Engine engine) {
  return engine == Engine::kQnnpack ? Scheme::kQnnpackFp32 : Scheme::kOnednnFp32;
}

// ---- model state -------------------------------------------------------------------------------

struct ModuleState {
  Engine engine = Engine::kQnnpack;
  Layer layer;                 // as prepacked, with the current output qparams
  QTensor input;               // the current input
  bool vary_qparams = true;    // false: input and output qparams never change
  bool model_findings = true;  // false: expect the plain recipe (shows the findings as failures)
  // QNNPACK findings (see the QnnpackFinding tests): the packed object computes its
  // requantization scales, and fills conv2d's padding buffer with the input zero point, only
  // when it (re)packs for a new input scale — at the first call after prepack and whenever the
  // input scale changes — from THAT call's output scale and input zero point; later calls reuse
  // them. These fields model that: the input scale the packed object last packed for (nullopt:
  // packs at the next call), the output scale its multipliers were computed with, and the input
  // zero point its padding buffer holds.
  std::optional<double> packed_input_scale;
  double multiplier_out_scale = 0.0;
  int32_t padding_zero_point = 0;
  // ONEDNN finding (intel/ideep#152): ideep's thread-local primitive cache is keyed without zero
  // points, so a call reuses the zero points of the first call with the same key on this thread
  // (the module's one thread, whatever was repacked): the output zero point, and for linear the
  // input zero point too (conv2d takes the input zero point at run time). The key holds the
  // primitive's output scales, i.e. ideep's per-channel op scale f32(dst_s / f32(src_s·w_inv))
  // (docs/semantics.md#onednn-requantization), not s_x and s_y themselves: different scales with
  // equal ratios share it.
  struct CachedZeroPoints {
    std::vector<float> op_scales;
    int32_t z_x, z_y;
  };
  std::vector<CachedZeroPoints> onednn_cache;
  std::vector<float> OpScales() const {
    std::vector<float> out;
    for (const ChannelTerms& t : LayerChannelTerms(layer, input.scales[0])) {
      out.push_back(t.multiplier_onednn);
    }
    return out;
  }
  const CachedZeroPoints* Cached() const {
    const std::vector<float> key = OpScales();
    for (const CachedZeroPoints& c : onednn_cache) {
      if (c.op_scales == key) return &c;
    }
    return nullptr;
  }
};

// Every command runs the module once: what that run does to the packed object's state.
void NoteRun(ModuleState* s) {
  if (s->engine == Engine::kOnednn) {
    if (s->Cached() == nullptr) {
      s->onednn_cache.push_back({s->OpScales(), s->input.zero_points[0], s->layer.out_zero_point});
    }
    return;
  }
  if (!s->packed_input_scale || *s->packed_input_scale != s->input.scales[0]) {
    s->packed_input_scale = s->input.scales[0];
    s->multiplier_out_scale = s->layer.out_scale;
    s->padding_zero_point = s->input.zero_points[0];
  }
}

// The one-layer model whose recipe output LibTorch must reproduce. With model_findings off: the
// current layer and input. ONEDNN: the cached zero points. QNNPACK: the multiplier uses the output
// scale of the call that last packed (the zero point and ReLU clamp use the current ones), and
// conv2d padding holds the input zero point of that call: written as an explicitly padded input
// (value padding_zero_point) and a conv without padding.
Model EffectiveModel(const ModuleState& s) {
  Model m;
  m.input = s.input;
  m.layers = {s.layer};
  if (!s.model_findings) return m;
  Layer& l = m.layers[0];
  if (s.engine == Engine::kOnednn) {
    if (const ModuleState::CachedZeroPoints* c = s.Cached()) {
      l.out_zero_point = c->z_y;
      if (l.op == OpKind::kLinear) m.input.zero_points = {c->z_x};
    }
    return m;
  }
  if (s.engine != Engine::kQnnpack) return m;
  l.out_scale = s.multiplier_out_scale;
  const int64_t ph = l.conv.padding[0], pw = l.conv.padding[1];
  if (l.op != OpKind::kConv2d || (ph == 0 && pw == 0) ||
      s.padding_zero_point == s.input.zero_points[0]) {
    return m;
  }
  const std::vector<int64_t>& in = s.input.shape;  // N, C, H, W
  const int64_t hp = in[2] + 2 * ph, wp = in[3] + 2 * pw;
  QTensor& x = m.input;
  x.shape = {in[0], in[1], hp, wp};
  x.values.assign(static_cast<size_t>(in[0] * in[1] * hp * wp), s.padding_zero_point);
  for (int64_t nc = 0; nc < in[0] * in[1]; ++nc) {
    for (int64_t h = 0; h < in[2]; ++h) {
      for (int64_t w = 0; w < in[3]; ++w) {
        x.values[static_cast<size_t>((nc * hp + h + ph) * wp + w + pw)] =
            s.input.values[static_cast<size_t>((nc * in[2] + h) * in[3] + w)];
      }
    }
  }
  l.conv.padding[0] = l.conv.padding[1] = 0;
  return m;
}

std::string Describe(const Layer& l, const QTensor& x) {
  std::ostringstream os;
  os.precision(17);
  os << OpKindName(l.op) << (l.relu ? "+relu" : "") << " x" << rc::toString(x.shape) << "=" << rc::toString(x.values)
     << " s_x=" << x.scales[0] << " z_x=" << x.zero_points[0] << " w" << rc::toString(l.weight.shape)
     << (l.weight.per_channel() ? " per-channel" : " per-tensor")
     << " s_w=" << rc::toString(l.weight.scales) << " w=" << rc::toString(l.weight.values)
     << " bias=" << (l.bias ? rc::toString(*l.bias) : std::string("none"));
  if (l.op == OpKind::kConv2d) {
    os << " stride=" << l.conv.stride[0] << "," << l.conv.stride[1] << " pad=" << l.conv.padding[0]
       << "," << l.conv.padding[1] << " dil=" << l.conv.dilation[0] << "," << l.conv.dilation[1]
       << " groups=" << l.conv.groups;
  }
  os << " s_y=" << l.out_scale << " z_y=" << l.out_zero_point;
  return os.str();
}

void showValue(const ModuleState& s, std::ostream& os) { os << s.engine << ": " << Describe(s.layer, s.input); }

double DrawScale(int lo_exp, int hi_exp) {
  const double mantissa = 1.0 + Draw(0, 1 << 20) / double(1 << 20);
  return static_cast<float>(std::ldexp(mantissa, Draw(lo_exp, hi_exp)));
}

std::vector<int32_t> DrawInputValues(int64_t n, int32_t zp) {
  const int kind = Draw(0, 3);  // 0,1 uniform; 2 extremes; 3 near the zero point
  std::vector<int32_t> v(static_cast<size_t>(n));
  for (int32_t& x : v) {
    if (kind == 2) {
      x = Chance(50) ? 0 : 255;
    } else if (kind == 3) {
      x = std::clamp(zp + Draw(-3, 3), 0, 255);
    } else {
      x = Draw(0, 255);
    }
  }
  return v;
}

// Output qparams as an observer would pick them for the current input, times a random factor,
// with the scale jittered: outputs use the range without all being clamped.
void DrawOutputQParams(Layer* layer, const QTensor& x) {
  DeriveOutputQParams(layer, x, *rc::gen::element(0.5, 0.8, 1.0, 1.3, 2.0), false);
  const double jitter = 1.0 + Draw(-250, 250) / 1000.0;
  layer->out_scale = static_cast<float>(layer->out_scale * jitter);
  layer->out_zero_point = std::clamp(layer->out_zero_point + Draw(-20, 20), 0, 255);
}

// A small conv2d or linear layer (weight zero point 0, per-tensor or per-channel) and an input.
struct Setup {
  bool vary_qparams = true;
  bool model_findings = true;
};

ModuleState DrawState(Engine engine, Setup setup) {
  ModuleState s;
  s.engine = engine;
  s.vary_qparams = setup.vary_qparams;
  s.model_findings = setup.model_findings;
  Layer& l = s.layer;
  l.op = Chance(50) ? OpKind::kConv2d : OpKind::kLinear;
  l.relu = Chance(50);
  std::vector<int64_t> wshape;
  QTensor& x = s.input;
  x.dtype = DType::kQUInt8;
  if (l.op == OpKind::kLinear) {
    const int64_t k = Draw(1, 32);
    x.shape = {Draw(1, 3), k};
    wshape = {Draw(1, 8), k};
  } else {
    ConvAttrs& a = l.conv;
    a.groups = *rc::gen::element<int64_t>(1, 1, 2, 4);
    const int64_t per_group_in = Draw(1, static_cast<int>(std::min<int64_t>(3, 8 / a.groups)));
    const int64_t oc = a.groups * Draw(1, static_cast<int>(8 / a.groups));
    const int64_t kh = Draw(1, 3), kw = Draw(1, 3);  // K = per_group_in*kh*kw <= 27
    for (int d = 0; d < 2; ++d) {
      a.stride[d] = Draw(1, 2);
      a.dilation[d] = Draw(1, 2);
      a.padding[d] = Draw(0, 1);
    }
    const int64_t span_h = a.dilation[0] * (kh - 1) + 1, span_w = a.dilation[1] * (kw - 1) + 1;
    x.shape = {Draw(1, 2), per_group_in * a.groups, std::max<int64_t>(span_h, Draw(1, 6)),
               std::max<int64_t>(span_w, Draw(1, 6))};
    wshape = {oc, per_group_in, kh, kw};
  }
  QTensor& w = l.weight;
  w.dtype = DType::kQInt8;
  w.shape = wshape;
  const bool per_channel = Chance(50);
  w.axis = per_channel ? 0 : -1;
  for (int64_t c = 0; c < (per_channel ? wshape[0] : 1); ++c) {
    w.scales.push_back(DrawScale(-10, -3));
    w.zero_points.push_back(0);
  }
  w.values.resize(static_cast<size_t>(ShapeElements(wshape)));
  for (int32_t& v : w.values) v = Draw(-128, 127);
  x.scales = {DrawScale(-8, 0)};
  x.zero_points = {*rc::gen::weightedElement<int32_t>({{1, 0}, {1, 255}, {4, Draw(0, 255)}})};
  x.values = DrawInputValues(x.NumElements(), x.zero_points[0]);
  if (Chance(70)) {
    std::vector<float> bias;
    for (int64_t c = 0; c < wshape[0]; ++c) {
      const double unit = x.scales[0] * w.Scale(c);  // one accumulator step
      bias.push_back(static_cast<float>(unit * Draw(-20000, 20000) / 7.0));
    }
    l.bias = std::move(bias);
  }
  DrawOutputQParams(&l, x);
  NoteRun(&s);  // the property runs the module once right after prepacking
  return s;
}

rc::Gen<ModuleState> GenState(Engine engine, Setup setup) {
  return rc::gen::exec([=] { return DrawState(engine, setup); });
}

// ---- checks ----------------------------------------------------------------------------------

// Counts of what the properties ran (shrinking included), printed after each property.
struct Counters {
  std::atomic<long> runs{0}, new_inputs{0}, new_input_qparams{0}, new_output_qparams{0},
      zero_point_only{0}, repacks{0}, stale_multiplier_runs{0},
      stale_padding_runs{0}, stale_zero_point_runs{0};
  void Reset() {
    for (std::atomic<long>* c :
         {&runs, &new_inputs, &new_input_qparams, &new_output_qparams, &zero_point_only, &repacks,
          &stale_multiplier_runs, &stale_padding_runs, &stale_zero_point_runs}) {
      *c = 0;
    }
  }
  void Print(const char* name) const {
    std::cout << "[ stateful ] " << name << ": " << runs << " checked runs; commands: "
              << new_inputs << " RunWithNewInput (" << new_input_qparams
              << " with new input qparams), " << new_output_qparams << " ChangeOutputQParams ("
              << zero_point_only << " zero point only), " << repacks << " UnpackRepack; "
              << stale_multiplier_runs << " runs expecting a stale QNNPACK multiplier, "
              << stale_padding_runs << " stale QNNPACK padding, " << stale_zero_point_runs
              << " stale ONEDNN zero points\n";
  }
};
Counters g_counters;

std::vector<int32_t> RecipeOutput(Engine engine, const Layer& layer,
                                  const QTensor& x) {
  Model m;
  m.input = x;
  m.layers = {layer};
  return RunIntegerPipeline(m, GetScheme(SchemeOf(engine)).recipe).back().out;
}

// "" when equal, else where they first differ.
std::string FirstDifference(const std::vector<int32_t>& got, const std::vector<int32_t>& want) {
  if (got.size() != want.size()) {
    return "size " + std::to_string(got.size()) + " vs " + std::to_string(want.size());
  }
  long differing = 0;
  size_t first = 0;
  for (size_t i = got.size(); i-- > 0;) {
    if (got[i] != want[i]) {
      ++differing;
      first = i;
    }
  }
  if (differing == 0) return "";
  return std::to_string(differing) + " of " + std::to_string(got.size()) +
         " outputs differ; first at " + std::to_string(first) + ": libtorch " +
         std::to_string(got[first]) + " vs recipe " + std::to_string(want[first]);
}

// Runs the packed module on the state's input and out qparams; LibTorch's int_repr must equal
// the engine's recipe element for element.
void RunAndCheck(const ModuleState& s, PackedModule& sut) {
  ++g_counters.runs;
  const EngineResult r = sut.Run(s.input, s.layer.out_scale, s.layer.out_zero_point);
  if (r.rejected) RC_FAIL("LibTorch rejected the call: " + r.message);
  RC_ASSERT(r.layers.size() == 1u);
  const LayerOutput& out = r.layers[0];
  const Model m = EffectiveModel(s);
  if (m.layers[0].out_scale != s.layer.out_scale) ++g_counters.stale_multiplier_runs;
  if (m.input.shape != s.input.shape) ++g_counters.stale_padding_runs;
  if (m.layers[0].out_zero_point != s.layer.out_zero_point ||
      m.input.zero_points != s.input.zero_points) {
    ++g_counters.stale_zero_point_runs;
  }
  const std::vector<LayerTrace> trace = RunIntegerPipeline(m, GetScheme(SchemeOf(s.engine)).recipe);
  RC_ASSERT(out.shape == trace[0].shape);
  RC_ASSERT(out.zero_point == s.layer.out_zero_point);
  RC_ASSERT(out.scale == s.layer.out_scale);
  const std::string diff = FirstDifference(out.values, trace[0].out);
  if (!diff.empty()) {
    // Does the difference depend on history? RunOnLibTorch prepacks afresh (fresh thread on ideep).
    Model current;
    current.input = s.input;
    current.layers = {s.layer};
    const EngineResult fresh = RunOnLibTorch(current, s.engine);
    const std::string fresh_diff =
        fresh.rejected ? "rejected: " + fresh.message
                       : FirstDifference(fresh.layers[0].values,
                                         RunIntegerPipeline(current, GetScheme(SchemeOf(s.engine)).recipe)[0].out);
    RC_FAIL(std::string(EngineName(s.engine)) + " vs " + GetScheme(SchemeOf(s.engine)).name + ": " + diff +
            "\nlibtorch " + rc::toString(out.values) + "\nrecipe   " +
            rc::toString(trace[0].out) + "\nfresh RunOnLibTorch of the same model: " +
            (fresh_diff.empty() ? "agrees with the recipe (history-dependent)" : fresh_diff) +
            "\nstate: " + Describe(s.layer, s.input) +
            "\nexpected as: " + Describe(m.layers[0], m.input));
  }
}

// ---- commands --------------------------------------------------------------------------------

using ModuleCommand = rc::state::Command<ModuleState, PackedModule>;

// New input values (sometimes new input qparams too, when the state allows), then run.
struct RunWithNewInput : ModuleCommand {
  std::vector<int32_t> values;
  std::optional<double> scale;
  std::optional<int32_t> zero_point;

  explicit RunWithNewInput(const ModuleState& s) {
    if (s.vary_qparams && Chance(25)) {
      scale = Chance(30) ? s.input.scales[0]  // zero point only
                         : static_cast<float>(s.input.scales[0] * (0.5 + Draw(0, 1500) / 1000.0));
      zero_point = Draw(0, 255);
    }
    values = DrawInputValues(s.input.NumElements(), zero_point.value_or(s.input.zero_points[0]));
  }
  void apply(ModuleState& s) const override {
    s.input.values = values;
    if (scale) s.input.scales = {*scale};
    if (zero_point) s.input.zero_points = {*zero_point};
    NoteRun(&s);
  }
  void run(const ModuleState& s0, PackedModule& sut) const override {
    ++g_counters.new_inputs;
    if (scale) ++g_counters.new_input_qparams;
    RunAndCheck(nextState(s0), sut);
  }
  void show(std::ostream& os) const override {
    os << "RunWithNewInput(" << rc::toString(values);
    if (scale) os << ", s_x=" << *scale << ", z_x=" << *zero_point;
    os << ")";
  }
};

// New output scale and zero point (or a new zero point only), then run.
struct ChangeOutputQParams : ModuleCommand {
  double out_scale;
  int32_t out_zero_point;
  bool zero_point_only;

  explicit ChangeOutputQParams(const ModuleState& s) {
    RC_PRE(s.vary_qparams);
    Layer l = s.layer;
    zero_point_only = Chance(30);
    if (zero_point_only) {
      l.out_zero_point = Draw(0, 255);
    } else {
      DrawOutputQParams(&l, s.input);
    }
    out_scale = l.out_scale;
    out_zero_point = l.out_zero_point;
  }
  void checkPreconditions(const ModuleState& s) const override { RC_PRE(s.vary_qparams); }
  void apply(ModuleState& s) const override {
    s.layer.out_scale = out_scale;
    s.layer.out_zero_point = out_zero_point;
    NoteRun(&s);
  }
  void run(const ModuleState& s0, PackedModule& sut) const override {
    ++g_counters.new_output_qparams;
    if (zero_point_only) ++g_counters.zero_point_only;
    RunAndCheck(nextState(s0), sut);
  }
  void show(std::ostream& os) const override {
    os << "ChangeOutputQParams(s_y=" << out_scale << ", z_y=" << out_zero_point
       << (zero_point_only ? ", zero point only" : "") << ")";
  }
};

// Unpack: the same integer weights and float bias as prepacked (QNNPACK returns zeros for a
// missing bias, docs/semantics.md#calling-convention) and the same conv attributes; repack from
// them, then run.
struct UnpackRepack : ModuleCommand {
  void apply(ModuleState& s) const override {
    s.packed_input_scale.reset();  // a new packed object: packs again at the next call
    NoteRun(&s);
  }
  void run(const ModuleState& s0, PackedModule& sut) const override {
    const ModuleState& s = s0;
    ++g_counters.repacks;
    std::string error;
    const std::optional<Layer> u = sut.Unpacked(&error);
    if (!u) RC_FAIL("unpack failed: " + error);
    const QTensor& w = u->weight;
    const QTensor& want = s.layer.weight;
    RC_ASSERT(w.dtype == want.dtype);
    RC_ASSERT(w.shape == want.shape);
    RC_ASSERT(w.axis == want.axis);
    RC_ASSERT(w.scales == want.scales);
    RC_ASSERT(w.zero_points == want.zero_points);
    RC_ASSERT(w.values == want.values);
    if (s.layer.bias) {
      RC_ASSERT(u->bias == s.layer.bias);
    } else if (s.engine == Engine::kQnnpack) {
      RC_ASSERT(u->bias == std::optional<std::vector<float>>(
                               std::vector<float>(static_cast<size_t>(want.shape[0]), 0.0f)));
    } else {
      RC_ASSERT(!u->bias.has_value());
    }
    if (s.layer.op == OpKind::kConv2d) {
      const ConvAttrs &a = u->conv, &b = s.layer.conv;
      RC_ASSERT(std::equal(a.stride, a.stride + 2, b.stride));
      RC_ASSERT(std::equal(a.padding, a.padding + 2, b.padding));
      RC_ASSERT(std::equal(a.dilation, a.dilation + 2, b.dilation));
      RC_ASSERT(a.groups == b.groups);
    }
    if (!sut.Repack(&error)) RC_FAIL("repack failed: " + error);
    RunAndCheck(nextState(s0), sut);
  }
  void show(std::ostream& os) const override { os << "UnpackRepack"; }
};

// Prepacks the drawn layer once, checks the first call, then runs the command sequence on the
// same module (one persistent thread), classifying which commands the sequence holds.
template <typename... Cmds>
void CheckLifecycle(Engine engine, Setup setup) {
  InitLibTorch();
  const ModuleState s0 = *GenState(engine, setup);
  const auto commands =
      *rc::state::gen::commands(s0, rc::state::gen::execOneOfWithArgs<Cmds...>());
  bool run = false, input_qparams = false, output_qparams = false, repack = false;
  for (const auto& c : commands) {
    if (auto* r = dynamic_cast<const RunWithNewInput*>(c.get())) {
      run = true;
      input_qparams |= r->scale.has_value();
    }
    output_qparams |= dynamic_cast<const ChangeOutputQParams*>(c.get()) != nullptr;
    repack |= dynamic_cast<const UnpackRepack*>(c.get()) != nullptr;
  }
  RC_CLASSIFY(run, "RunWithNewInput");
  RC_CLASSIFY(input_qparams, "new input qparams");
  RC_CLASSIFY(output_qparams, "ChangeOutputQParams");
  RC_CLASSIFY(repack, "UnpackRepack");
  RC_CLASSIFY(commands.size() >= 10, ">=10 commands");
  RC_TAG(OpKindName(s0.layer.op));
  std::string error;
  PackedModule sut = PackedModule::Prepack(s0.layer, engine, &error);
  if (!sut.valid()) RC_FAIL("prepack failed: " + error);
  RunAndCheck(s0, sut);
  rc::state::runAll(commands, s0, sut);
}

bool HasEngine(Engine engine) {
  const std::vector<Engine> engines = AvailableEngines();
  return std::find(engines.begin(), engines.end(), engine) != engines.end();
}

template <typename... Cmds>
void CheckProperty(const char* name, Engine engine, Setup setup) {
  if (!HasEngine(engine)) GTEST_SKIP() << "no " << engine << " in this build";
  g_counters.Reset();
  const bool ok = rc::check(name, [=] { CheckLifecycle<Cmds...>(engine, setup); });
  g_counters.Print(name);
  EXPECT_TRUE(ok);
}

// QNNPACK over its whole life, every command. LibTorch must match the qnnpack_fp32 recipe of the
// model state, which includes the stale packed state of the QNNPACK finding below.
TEST(StatefulModule, QnnpackLifecycleMatchesRecipe) {
  CheckProperty<RunWithNewInput, ChangeOutputQParams, UnpackRepack>(
      "qnnpack: prepack once; new inputs/input qparams, new output qparams, unpack+repack",
      Engine::kQnnpack, {/*vary_qparams=*/true, /*model_findings=*/true});
}

// Fixed input and output qparams: nothing is stale, so ONEDNN must agree with its plain recipe
// over any sequence of new inputs and unpack/repacks on one thread.
TEST(StatefulModule, OnednnLifecycleWithFixedQParamsMatchesRecipe) {
  CheckProperty<RunWithNewInput, UnpackRepack>(
      "onednn: prepack once; new inputs, unpack+repack; fixed qparams", Engine::kOnednn,
      {/*vary_qparams=*/false, /*model_findings=*/true});
}

// ONEDNN with every command, against the recipe of the model state including ideep's cached zero
// points: passes only if the cache (keyed by the scales, not the zero points) is the whole story.
TEST(StatefulModule, OnednnLifecycleMatchesRecipeWithCachedZeroPoints) {
  CheckProperty<RunWithNewInput, ChangeOutputQParams, UnpackRepack>(
      "onednn: prepack once; every command; ideep cache modelled", Engine::kOnednn,
      {/*vary_qparams=*/true, /*model_findings=*/true});
}

// The same properties against the plain recipe, i.e. "a result must not depend on what ran
// before it": both fail on LibTorch 1.13 and shrink to the findings below. Disabled; run with
// --gtest_also_run_disabled_tests --gtest_filter='*Unmodelled*'.
TEST(StatefulModule, DISABLED_QnnpackLifecycleUnmodelled) {
  CheckProperty<RunWithNewInput, ChangeOutputQParams, UnpackRepack>(
      "qnnpack: every command; plain recipe", Engine::kQnnpack, {true, /*model_findings=*/false});
}
TEST(StatefulModule, DISABLED_OnednnLifecycleUnmodelled) {
  CheckProperty<RunWithNewInput, ChangeOutputQParams, UnpackRepack>(
      "onednn: every command; plain recipe", Engine::kOnednn, {true, /*model_findings=*/false});
}

// ---- the findings, deterministic -------------------------------------------------------------

// Layer 1 of corpora/onednn_primitive_cache_zero_point.json: linear x [2,4] quint8 s_x=0.5
// z_x=0, w [4,4] qint8 s_w=0.25, s_y=0.5 (M=0.25), no bias. Here the same input is run twice
// (the corpus case feeds layer 1's output to its copy), so z_y=100 should just add 100.
Layer CorpusLinear() {
  Layer l;
  l.op = OpKind::kLinear;
  l.weight.dtype = DType::kQInt8;
  l.weight.shape = {4, 4};
  l.weight.values = {1, 2, 3, 4, 4, 3, 2, 1, 1, 1, 1, 1, 2, 0, 2, 0};
  l.weight.scales = {0.25};
  l.weight.zero_points = {0};
  l.out_scale = 0.5;
  return l;
}

QTensor CorpusInput() {
  QTensor x;
  x.dtype = DType::kQUInt8;
  x.shape = {2, 4};
  x.values = {4, 8, 12, 16, 20, 4, 8, 12};
  x.scales = {0.5};
  x.zero_points = {0};
  return x;
}

// The same layer as a 1x1 conv2d over [2,4,1,1].
Layer CorpusConv() {
  Layer l = CorpusLinear();
  l.op = OpKind::kConv2d;
  l.weight.shape = {4, 4, 1, 1};
  return l;
}
QTensor CorpusConvInput() {
  QTensor x = CorpusInput();
  x.shape = {2, 4, 1, 1};
  return x;
}

std::vector<int32_t> RunValues(PackedModule& m, const QTensor& x, double s_y, int32_t z_y) {
  const EngineResult r = m.Run(x, s_y, z_y);
  EXPECT_FALSE(r.rejected) << r.message;
  return r.rejected || r.layers.empty() ? std::vector<int32_t>{} : r.layers[0].values;
}

PackedModule MustPrepack(const Layer& l, Engine engine) {
  std::string error;
  PackedModule m = PackedModule::Prepack(l, engine, &error);
  EXPECT_TRUE(m.valid()) << error;
  return m;
}

Layer WithOut(Layer l, double s_y, int32_t z_y) {
  l.out_scale = s_y;
  l.out_zero_point = z_y;
  return l;
}
QTensor WithInputQParams(QTensor x, double s_x, int32_t z_x) {
  x.scales = {s_x};
  x.zero_points = {z_x};
  return x;
}

const std::vector<int32_t> kLinearZy0 = {30, 20, 10, 8, 25, 30, 11, 14};
const std::vector<int32_t> kLinearZy100 = {130, 120, 110, 108, 125, 130, 111, 114};

// LibTorch finding (intel/ideep#152, corpora/onednn_primitive_cache_zero_point.json): on one
// thread, a prepacked ONEDNN module run with z_y=0 and then z_y=100 (same scales) computes the
// second call with the stale z_y=0. This test asserts the finding is still there: if it fails,
// the LibTorch in use no longer has the bug (update the corpus case, the model and this test).
TEST(StatefulModule, OnednnFindingStaleOutputZeroPoint) {
  if (!HasEngine(Engine::kOnednn)) GTEST_SKIP() << "no ONEDNN in this build";
  InitLibTorch();
  const Layer l = CorpusLinear();
  const QTensor x = CorpusInput();
  ASSERT_EQ(RecipeOutput(Engine::kOnednn, WithOut(l, 0.5, 0), x), kLinearZy0);
  ASSERT_EQ(RecipeOutput(Engine::kOnednn, WithOut(l, 0.5, 100), x), kLinearZy100);

  PackedModule m = MustPrepack(l, Engine::kOnednn);
  EXPECT_EQ(RunValues(m, x, 0.5, 0), kLinearZy0);
  const EngineResult stale = m.Run(x, 0.5, 100);
  ASSERT_FALSE(stale.rejected) << stale.message;
  EXPECT_EQ(stale.layers[0].values, kLinearZy0) << "stale z_y=0 expected (intel/ideep#152)";
  EXPECT_EQ(stale.layers[0].zero_point, 100);  // labelled with the zero point asked for
  // A fresh module (fresh thread, fresh cache) computes z_y=100 correctly, and then poisons z_y=0.
  PackedModule fresh = MustPrepack(l, Engine::kOnednn);
  EXPECT_EQ(RunValues(fresh, x, 0.5, 100), kLinearZy100);
  EXPECT_EQ(RunValues(fresh, x, 0.5, 0), kLinearZy100) << "stale z_y=100 expected";
  // Repacking does not help: the cache belongs to the thread, not to the packed weights.
  std::string error;
  ASSERT_TRUE(m.Repack(&error)) << error;
  EXPECT_EQ(RunValues(m, x, 0.5, 100), kLinearZy0) << "stale z_y=0 expected after repack";
  // A different output scale is a different cache key: correct again.
  EXPECT_EQ(RunValues(m, x, 0.25, 100), RecipeOutput(Engine::kOnednn, WithOut(l, 0.25, 100), x));
  // The same as a 1x1 conv2d.
  PackedModule conv = MustPrepack(CorpusConv(), Engine::kOnednn);
  EXPECT_EQ(RunValues(conv, CorpusConvInput(), 0.5, 0), kLinearZy0);
  EXPECT_EQ(RunValues(conv, CorpusConvInput(), 0.5, 100), kLinearZy0) << "stale z_y=0 expected";
}

// Part of the same finding: ONEDNN linear also reuses the cached INPUT zero point (same scales,
// z_x 0 then 4); conv2d does not (its input zero point is applied at run time).
TEST(StatefulModule, OnednnFindingStaleInputZeroPointLinearOnly) {
  if (!HasEngine(Engine::kOnednn)) GTEST_SKIP() << "no ONEDNN in this build";
  InitLibTorch();
  const QTensor x4 = WithInputQParams(CorpusInput(), 0.5, 4);
  const std::vector<int32_t> want4 = RecipeOutput(Engine::kOnednn, CorpusLinear(), x4);
  ASSERT_EQ(want4, (std::vector<int32_t>{20, 10, 6, 4, 15, 20, 7, 10}));
  PackedModule linear = MustPrepack(CorpusLinear(), Engine::kOnednn);
  EXPECT_EQ(RunValues(linear, CorpusInput(), 0.5, 0), kLinearZy0);
  EXPECT_EQ(RunValues(linear, x4, 0.5, 0), kLinearZy0) << "stale z_x=0 expected";
  PackedModule conv = MustPrepack(CorpusConv(), Engine::kOnednn);
  EXPECT_EQ(RunValues(conv, CorpusConvInput(), 0.5, 0), kLinearZy0);
  EXPECT_EQ(RunValues(conv, WithInputQParams(CorpusConvInput(), 0.5, 4), 0.5, 0), want4);
}

// The ONEDNN output zero point finding as a property over generated layers: z_y=a then z_y=b≠a
// (same scales) on one prepacked module; the second result is exactly the recipe's for z_y=a.
TEST(StatefulModule, OnednnFindingStaleOutputZeroPointProperty) {
  if (!HasEngine(Engine::kOnednn)) GTEST_SKIP() << "no ONEDNN in this build";
  const bool ok = rc::check("onednn: output zero point change reuses the first one", [] {
    InitLibTorch();
    ModuleState s = *GenState(Engine::kOnednn, {false, true});
    const int32_t a = s.layer.out_zero_point;
    const int32_t b = *rc::gen::distinctFrom(rc::gen::inRange(0, 256), a);
    std::string error;
    PackedModule m = PackedModule::Prepack(s.layer, Engine::kOnednn, &error);
    if (!m.valid()) RC_FAIL("prepack failed: " + error);
    const std::vector<int32_t> want_a = RecipeOutput(Engine::kOnednn, s.layer, s.input);
    const std::vector<int32_t> want_b =
        RecipeOutput(Engine::kOnednn, WithOut(s.layer, s.layer.out_scale, b), s.input);
    RC_CLASSIFY(want_a == want_b, "z_y change invisible (all clamped)");
    RC_TAG(OpKindName(s.layer.op));
    const EngineResult ra = m.Run(s.input, s.layer.out_scale, a);
    const EngineResult rb = m.Run(s.input, s.layer.out_scale, b);
    RC_ASSERT(!ra.rejected && !rb.rejected);
    RC_ASSERT(FirstDifference(ra.layers[0].values, want_a) == "");
    RC_ASSERT(FirstDifference(rb.layers[0].values, want_a) == "");
    RC_ASSERT(rb.layers[0].zero_point == b);  // the tensor is labelled with the new zero point
  });
  EXPECT_TRUE(ok);
}

// LibTorch finding (QNNPACK, 1.13 qlinear.cpp / qconv.cpp PackedLinearWeightsQnnp /
// PackedConvWeightsQnnp::apply_impl): generate_requantization_scales runs only inside the
// "input scale changed since the last pack" branch, with THAT call's output scale. A later call
// with the same input scale and another output scale uses the stale multiplier (its tensor is
// labelled with the new scale). Unpack + prepack, or a new input scale, recomputes it.
TEST(StatefulModule, QnnpackFindingStaleOutputScale) {
  if (!HasEngine(Engine::kQnnpack)) GTEST_SKIP() << "no QNNPACK in this build";
  InitLibTorch();
  const Layer l = CorpusLinear();
  const QTensor x = CorpusInput();
  const std::vector<int32_t> want_half = RecipeOutput(Engine::kQnnpack, WithOut(l, 0.25, 0), x);
  ASSERT_EQ(want_half, (std::vector<int32_t>{60, 40, 20, 16, 50, 60, 22, 28}));
  for (const bool conv : {false, true}) {
    SCOPED_TRACE(conv ? "conv2d" : "linear");
    const QTensor in = conv ? CorpusConvInput() : x;
    PackedModule m = MustPrepack(conv ? CorpusConv() : l, Engine::kQnnpack);
    EXPECT_EQ(RunValues(m, in, 0.5, 0), kLinearZy0);
    const EngineResult stale = m.Run(in, 0.25, 0);
    ASSERT_FALSE(stale.rejected) << stale.message;
    EXPECT_EQ(stale.layers[0].values, kLinearZy0) << "stale multiplier (s_y=0.5) expected";
    EXPECT_EQ(stale.layers[0].scale, 0.25);
    // The zero point is passed at every call: only the multiplier is stale.
    EXPECT_EQ(RunValues(m, in, 0.25, 100), kLinearZy100);
    // Unpack + prepack: the next call computes the multiplier afresh (and keeps it).
    std::string error;
    ASSERT_TRUE(m.Repack(&error)) << error;
    EXPECT_EQ(RunValues(m, in, 0.25, 0), want_half);
    EXPECT_EQ(RunValues(m, in, 0.5, 0), want_half) << "stale multiplier (s_y=0.25) expected";
    // A new input scale repacks with the current output scale: s_x=0.25, s_y=0.25 gives
    // M=0.25 again, i.e. the s_x=0.5, s_y=0.5 result.
    EXPECT_EQ(RunValues(m, WithInputQParams(in, 0.25, 0), 0.25, 0), kLinearZy0);
  }
}

// LibTorch finding (QNNPACK, 1.13 qconv.cpp PackedConvWeightsQnnp::apply_impl): the padding
// buffer is memset to the input zero point only in the same "input scale changed" branch. A
// later call with the same input scale and another input zero point pads with the stale one,
// so padding no longer represents real 0.
// 1x1 conv, padding 1, input [1,1,1,1] = 8, w=2, s_x=0.5, s_w=0.25, s_y=0.25 (M=0.5), z_y=10:
// z_x=0 gives centre 18, border 10; z_x=4 should give centre 14, border 10.
TEST(StatefulModule, QnnpackFindingStalePaddingZeroPoint) {
  if (!HasEngine(Engine::kQnnpack)) GTEST_SKIP() << "no QNNPACK in this build";
  InitLibTorch();
  Layer l;
  l.op = OpKind::kConv2d;
  l.conv.padding[0] = l.conv.padding[1] = 1;
  l.weight.dtype = DType::kQInt8;
  l.weight.shape = {1, 1, 1, 1};
  l.weight.values = {2};
  l.weight.scales = {0.25};
  l.weight.zero_points = {0};
  l = WithOut(l, 0.25, 10);
  QTensor x;
  x.dtype = DType::kQUInt8;
  x.shape = {1, 1, 1, 1};
  x.values = {8};
  const QTensor x0 = WithInputQParams(x, 0.5, 0), x4 = WithInputQParams(x, 0.5, 4);
  ASSERT_EQ(RecipeOutput(Engine::kQnnpack, l, x0), (std::vector<int32_t>{10, 10, 10, 10, 18, 10, 10, 10, 10}));
  ASSERT_EQ(RecipeOutput(Engine::kQnnpack, l, x4), (std::vector<int32_t>{10, 10, 10, 10, 14, 10, 10, 10, 10}));
  PackedModule m = MustPrepack(l, Engine::kQnnpack);
  EXPECT_EQ(RunValues(m, x0, 0.25, 10), RecipeOutput(Engine::kQnnpack, l, x0));
  // Border: (0 - 4)·2·0.5 + 10 = 6, as if padded with the stale z_x=0.
  EXPECT_EQ(RunValues(m, x4, 0.25, 10), (std::vector<int32_t>{6, 6, 6, 6, 14, 6, 6, 6, 6}))
      << "padding with the stale z_x=0 expected";
  std::string error;
  ASSERT_TRUE(m.Repack(&error)) << error;
  EXPECT_EQ(RunValues(m, x4, 0.25, 10), RecipeOutput(Engine::kQnnpack, l, x4));
}

// ---- API basics ------------------------------------------------------------------------------

TEST(PackedModuleApi, ErrorsAreReturned) {
  InitLibTorch();
  std::string error;
  PackedModule none;  // empty: every call returns an error
  for (Engine e : kAllEngines) {
    if (HasEngine(e)) continue;
    none = PackedModule::Prepack(CorpusLinear(), e, &error);  // an engine this build lacks
    EXPECT_NE(error.find(std::string("'") + EngineName(e) + "' is not in this LibTorch build"),
              std::string::npos)
        << error;
    break;
  }
  EXPECT_FALSE(none.valid());
  EXPECT_TRUE(none.Run(CorpusInput(), 0.5, 0).rejected);
  EXPECT_FALSE(none.Repack(&error));
  EXPECT_FALSE(none.Unpacked(&error).has_value());

  for (Engine engine : AvailableEngines()) {
    PackedModule m = PackedModule::Prepack(CorpusLinear(), engine, &error);
    ASSERT_TRUE(m.valid()) << engine << ": " << error;
    EXPECT_EQ(m.engine(), engine);
    QTensor wrong = CorpusInput();
    wrong.shape = {2, 3};
    wrong.values.resize(6);
    const EngineResult r = m.Run(wrong, 0.5, 0);  // K mismatch: caught before LibTorch
    EXPECT_TRUE(r.rejected) << engine;
    EXPECT_FALSE(r.message.empty());
    // Still usable afterwards.
    EXPECT_EQ(RunValues(m, CorpusInput(), 0.5, 0),
              (std::vector<int32_t>{30, 20, 10, 8, 25, 30, 11, 14}))
        << engine;
  }
}

}  // namespace
}  // namespace qdiff
