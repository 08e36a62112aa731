#include "properties/case_generator.h"

#include <algorithm>
#include <cmath>

#include "oracles/integer_pipeline.h"
#include "oracles/layer_products.h"

namespace qdiff {

namespace {

// Weights of the corner mix, all in one place (relative frequencies).
struct Mix {
  static constexpr int kScalePowerOfTwo = 40, kScaleObserver = 35, kScaleLogUniform = 25;
  static constexpr int kValuesUniform = 50, kValuesExtremes = 25, kValuesNearZeroPoint = 25;
  static constexpr int kBiasNone = 25, kBiasRandom = 45, kBiasHalfLsb = 30;
  static constexpr int kWeightZeroPointNonzero = 10;  // ONEDNN rejects these: keeps rejects rare
  static constexpr int kPerChannel = 50;
  static constexpr int kLargeAccumulatorLinear = 15;  // linear with K ≥ 300 at the extremes
};

int Draw(int lo, int hi) { return *rc::gen::inRange(lo, hi + 1); }  // inclusive
bool Chance(int percent) { return Draw(0, 99) < percent; }

template <typename T>
T Pick(std::initializer_list<std::pair<std::size_t, T>> weighted) {
  return *rc::gen::weightedElement(weighted);
}

double PowerOfTwo(int lo_exp, int hi_exp) { return std::ldexp(1.0, Draw(lo_exp, hi_exp)); }

// A scale as MinMaxObserver would derive it from a real range of width `span` over `levels`
// steps, computed in float32 like observer.py, or log-uniform, or a power of two.
double DrawScale(const std::string& kind, int lo_exp, int hi_exp) {
  if (kind == "power_of_two") return PowerOfTwo(lo_exp, hi_exp);
  const double mantissa = 1.0 + Draw(0, 1 << 20) / double(1 << 20);
  const double s = std::ldexp(mantissa, Draw(lo_exp, hi_exp));
  // observer: scale = f32(span / 255) for a span drawn in float32
  return kind == "observer" ? static_cast<float>(static_cast<float>(s * 255.0f) / 255.0f)
                            : static_cast<double>(static_cast<float>(s));
}

std::vector<int32_t> DrawValues(int64_t n, const std::string& kind, QuantRange r, int32_t zp) {
  std::vector<int32_t> v(static_cast<size_t>(n));
  for (int32_t& x : v) {
    if (kind == "extremes") {
      x = Chance(50) ? r.qmin : r.qmax;
    } else if (kind == "near_zero_point") {
      x = std::clamp(zp + Draw(-3, 3), r.qmin, r.qmax);
    } else {
      x = Draw(r.qmin, r.qmax);
    }
  }
  return v;
}

QTensor DrawWeight(const std::vector<int64_t>& shape, const std::string& scale_kind,
                   const std::string& value_kind, CaseTags* tags) {
  QTensor w;
  w.dtype = DType::kQInt8;
  w.shape = shape;
  const bool per_channel = Chance(Mix::kPerChannel);
  const int64_t channels = per_channel ? shape[0] : 1;
  w.axis = per_channel ? 0 : -1;
  const bool nonzero_zp = Chance(Mix::kWeightZeroPointNonzero);
  tags->weight_zero_point_nonzero = nonzero_zp;
  for (int64_t c = 0; c < channels; ++c) {
    w.scales.push_back(DrawScale(scale_kind, -10, -3));
    w.zero_points.push_back(nonzero_zp ? Draw(-128, 127) : 0);
  }
  w.values = DrawValues(ShapeElements(shape), value_kind, TypeRange(DType::kQInt8), 0);
  return w;
}

GeneratedModel DrawModel(const GeneratorSettings& settings) {
  GeneratedModel g;
  CaseTags& tags = g.tags;
  tags.scale_kind = Pick<std::string>({{Mix::kScalePowerOfTwo, "power_of_two"},
                                       {Mix::kScaleObserver, "observer"},
                                       {Mix::kScaleLogUniform, "log_uniform"}});
  tags.value_kind = Pick<std::string>({{Mix::kValuesUniform, "uniform"},
                                       {Mix::kValuesExtremes, "extremes"},
                                       {Mix::kValuesNearZeroPoint, "near_zero_point"}});
  tags.bias_kind = Pick<std::string>(
      {{Mix::kBiasNone, "none"}, {Mix::kBiasRandom, "random"}, {Mix::kBiasHalfLsb, "half_lsb"}});

  Layer layer;
  layer.op = *rc::gen::elementOf(settings.ops);
  layer.relu = Chance(50);
  Model& m = g.model;
  m.input.dtype = DType::kQUInt8;
  if (layer.op == OpKind::kLinear) {
    const bool large = Chance(Mix::kLargeAccumulatorLinear);
    if (large) tags.value_kind = "extremes";
    const int64_t k = large ? Draw(300, 1024) : Draw(1, 64);
    m.input.shape = {Draw(1, 4), k};
    layer.weight = DrawWeight({Draw(1, 16), k}, tags.scale_kind, tags.value_kind, &tags);
  } else {
    Conv2dAttrs& a = layer.conv;
    const int64_t groups_kind = Draw(0, 2);  // 0: dense, 1: grouped, 2: depthwise
    const int64_t per_group_in = groups_kind == 2 ? 1 : Draw(1, 4);
    a.groups = groups_kind == 0 ? 1 : Draw(2, 4);
    const int64_t c_in = per_group_in * a.groups;
    const int64_t oc = a.groups * (groups_kind == 2 ? Draw(1, 2) : Draw(1, 3));
    const int64_t kh = Draw(1, 3), kw = Draw(1, 3);
    for (int d = 0; d < 2; ++d) {
      a.stride[d] = Draw(1, 2);
      a.dilation[d] = Draw(1, 2);
      a.padding[d] = Draw(0, 1);
    }
    // Input at least as large as the dilated kernel: valid shapes by construction.
    const int64_t span_h = a.dilation[0] * (kh - 1) + 1, span_w = a.dilation[1] * (kw - 1) + 1;
    m.input.shape = {Draw(1, 2), c_in, std::max<int64_t>(span_h, Draw(1, 8)),
                     std::max<int64_t>(span_w, Draw(1, 8))};
    layer.weight = DrawWeight({oc, per_group_in, kh, kw}, tags.scale_kind, tags.value_kind, &tags);
  }
  m.input.scales = {DrawScale(tags.scale_kind, -8, 0)};
  const QuantRange in_range = TypeRange(DType::kQUInt8);
  m.input.zero_points = {Pick<int32_t>({{2, 0}, {2, 255}, {6, Draw(0, 255)}})};
  m.input.values = DrawValues(m.input.NumElements(), tags.value_kind, in_range,
                              m.input.zero_points[0]);

  const int64_t channels = layer.weight.shape[0];
  if (tags.bias_kind != "none") {
    std::vector<float> bias;
    for (int64_t c = 0; c < channels; ++c) {
      const double unit = m.input.scales[0] * layer.weight.Scale(c);  // one accumulator step
      const double b = tags.bias_kind == "half_lsb" ? unit * 0.5 * Draw(-2000, 2000)
                                                    : unit * Draw(-20000, 20000) / 7.0;
      bias.push_back(static_cast<float>(b));
    }
    layer.bias = std::move(bias);
  }
  // factor < 1 clamps the tails (saturation), > 1 leaves headroom
  const double factor = Pick<double>({{6, 1.0}, {2, 0.5}, {2, 2.0}});
  DeriveOutputQParams(&layer, m.input, factor, tags.scale_kind == "power_of_two");
  m.layers.push_back(std::move(layer));
  const Layer& l = m.layers.back();
  const std::vector<int64_t> acc =
      LayerAccumulators(l, m.input, LayerOutputShape(l, m.input.shape));
  tags.large_accumulator = std::any_of(acc.begin(), acc.end(),
                                       [](int64_t a) { return std::llabs(a) > (1 << 24); });
  return g;
}

}  // namespace

void DeriveOutputQParams(Layer* layer, const QTensor& x, double factor, bool power_of_two) {
  const std::vector<int64_t> shape = LayerOutputShape(*layer, x.shape);
  const std::vector<int64_t> acc = LayerAccumulators(*layer, x, shape);
  const std::vector<ChannelTerms> terms = LayerChannelTerms(*layer, x.scales[0]);
  double lo = 0.0, hi = 0.0;  // observer ranges always include 0
  for (size_t i = 0; i < acc.size(); ++i) {
    const ChannelTerms& t = terms[OutputChannelOf(shape, static_cast<int64_t>(i))];
    const double real = (ExactRealOutput(t, acc[i]) - t.quant.z_y) * t.quant.s_y;
    lo = std::min(lo, real);
    hi = std::max(hi, real);
  }
  if (layer->relu) lo = 0.0;
  double span = hi - lo;
  if (!(span > 0)) span = x.scales[0] * layer->weight.scales[0];
  double s_y = static_cast<float>(span * factor / 255.0);
  if (power_of_two) s_y = std::exp2(std::round(std::log2(s_y)));
  s_y = std::max(s_y, 1e-30);
  layer->out_scale = s_y;
  layer->out_zero_point = std::clamp(
      static_cast<int32_t>(-std::nearbyint(static_cast<float>(lo / s_y))), 0, 255);
}

rc::Gen<GeneratedModel> GenModel(const GeneratorSettings& settings) {
  return rc::gen::exec([settings] { return DrawModel(settings); });
}

uint64_t CaseSeed(uint64_t campaign_seed, uint64_t index) {
  uint64_t z = campaign_seed * 0x9E3779B97F4A7C15ull + index + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

GeneratedModel GenerateModel(uint64_t seed, const GeneratorSettings& settings) {
  return GenModel(settings)(rc::Random(seed), rc::kNominalSize).value();
}

}  // namespace qdiff
