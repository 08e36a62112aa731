#include "properties/case_generator.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include <rapidcheck/detail/ImplicitParam.h>
#include <rapidcheck/gen/detail/GenerationHandler.h>

#include "oracles/integer_pipeline.h"
#include "oracles/layer_products.h"
#include "oracles/observers.h"
#include "oracles/scheme.h"
#include "properties/draw.h"
#include "properties/op_layers.h"

namespace qdiff {

namespace {

// std::minmax_element's values over [first, last) (the first smallest, the last largest) for
// values without NaN, in a loop the compiler vectorises.
std::pair<float, float> MinMax(const float* first, const float* last) {
  float lo = *first, hi = *first;
  for (const float* p = first; p != last; ++p) {
    lo = *p < lo ? *p : lo;
    hi = *p < hi ? hi : *p;
  }
  return {lo, hi};
}

// Weights of the corner mix, all in one place (relative frequencies).
struct Mix {
  static constexpr int kScalePowerOfTwo = 35, kScaleObserver = 25, kScaleLogUniform = 15;
  static constexpr int kScaleQConfig = 25;  // calibrated from float data with PyTorch's observers
  static constexpr int kDepth1 = 75, kDepth2 = 18, kDepth3 = 7;  // layers in a chain
  static constexpr int kValuesUniform = 45, kValuesExtremes = 25, kValuesNearZeroPoint = 22;
  static constexpr int kValuesConstant = 8;  // every element equal
  static constexpr int kBiasNone = 25, kBiasRandom = 45, kBiasHalfLsb = 30;
  static constexpr int kWeightZeroPointNonzero = 10;  // ONEDNN rejects these: keeps rejects rare
  static constexpr int kPerChannel = 50;
  static constexpr int kLargeAccumulatorLinear = 15;  // linear with K ≥ 300 at the extremes
  static constexpr int kOpTailAfterGemm = 35;  // ops without weights after a conv2d/linear model
  static constexpr int kConvBeforeOp = 30;     // a shape-keeping conv2d before an op's layer
  static constexpr int kResidualCnn = 15;      // of those: the whole small residual CNN
  // Relative weight of conv1d, conv3d and conv_transpose2d as a case's focus op, against 2 for
  // every other listed op: with the default op list they are ~9% of the cases together.
  static constexpr int kFocusConvVariant = 1, kFocusOther = 2;
  static constexpr int kTransposedOutputPadding = 15;  // per spatial dim; ONEDNN rejects these
};

// A qint8 weight of `shape`, per-channel along `channel_axis` half of the time (−1: always
// per-tensor).
QTensor DrawWeight(const std::vector<int64_t>& shape, const std::string& scale_kind,
                   const std::string& value_kind, CaseTags* tags, int channel_axis = 0) {
  QTensor w;
  w.dtype = DType::kQInt8;
  w.shape = shape;
  const bool per_channel = channel_axis >= 0 && Chance(Mix::kPerChannel);
  const int64_t channels = per_channel ? shape[channel_axis] : 1;
  w.axis = per_channel ? channel_axis : -1;
  const bool nonzero_zp = Chance(Mix::kWeightZeroPointNonzero);
  tags->weight_zero_point_nonzero = nonzero_zp;
  for (int64_t c = 0; c < channels; ++c) {
    w.scales.push_back(DrawScale(scale_kind, -10, -3));
    w.zero_points.push_back(nonzero_zp ? Draw(-128, 127) : 0);
  }
  w.values = DrawValues(ShapeElements(shape), value_kind, TypeRange(DType::kQInt8), 0);
  return w;
}

// Standard-normal-ish float data from a seeded engine (bulk data is not shrunk value by value).
// Three outputs per value, in order (as a loop of calls would draw them).
std::vector<float> FloatData(SplitMix64& rng, int64_t n, double sigma, double mean) {
  std::vector<float> v(static_cast<size_t>(n));
  constexpr int64_t kBlock = 256;
  uint64_t x[3 * kBlock];
  for (int64_t begin = 0; begin < n; begin += kBlock) {
    const int64_t count = std::min(kBlock, n - begin);
    rng.Fill(x, 3 * count);
    for (int64_t i = 0; i < count; ++i) {
      const double u = ((x[3 * i] >> 11) + (x[3 * i + 1] >> 11) + (x[3 * i + 2] >> 11)) * 0x1.0p-53 - 1.5;  // ~N(0, 1/4)
      v[begin + i] = static_cast<float>(mean + 2.0 * sigma * u);
    }
  }
  return v;
}

// The way PyTorch users get their qparams: float input batches, float weights and bias, observed
// with the default qconfig of an engine name (docs/semantics.md#default-qconfigs; MinMax or
// MovingAverageMinMax in place of the HistogramObserver for activations), then quantized with
// quantize_per_tensor / quantize_per_channel. Shapes and the integer weights' layout are kept.
// `acc` receives the layer's accumulators on the calibrated input.
void CalibrateWithQConfig(Model* m, Layer* layer, CaseTags* tags, std::vector<int64_t>* acc) {
  const Engine engine =
      Pick<Engine>({{1, Engine::kFbgemm}, {1, Engine::kX86}, {1, Engine::kQnnpack}, {1, Engine::kOnednn}});
  const std::string observer = Pick<std::string>({{1, "minmax"}, {1, "moving_average"}});
  tags->scale_kind = std::string("qconfig_") + EngineName(engine);
  tags->observer = observer;
  const bool reduce_range = engine == Engine::kFbgemm || engine == Engine::kX86;
  // PyTorch's default qconfig mappings give ConvTranspose per-tensor weights, and every engine
  // rejects per-channel transposed-conv weights
  const bool per_channel = engine != Engine::kQnnpack && !IsTransposedConv(layer->op);
  SplitMix64 rng{static_cast<uint64_t>(Draw(0, 1 << 30))};
  const double sigma = std::ldexp(1.0, Draw(-3, 2)), mean = sigma * Draw(-2, 2) / 2.0;

  // Activations: three calibration batches; the case's input is the last one.
  const int64_t n = m->input.NumElements();
  float lo = 0, hi = 0;
  std::vector<float> batch;
  std::vector<std::pair<float, float>> batch_ranges;
  for (int b = 0; b < 3; ++b) {
    batch = FloatData(rng, n, sigma, mean);
    const auto [bmin, bmax] = MinMax(batch.data(), batch.data() + batch.size());
    batch_ranges.push_back({bmin, bmax});
    lo = b == 0 ? bmin : std::min(lo, bmin);  // MinMaxObserver: running min / max
    hi = b == 0 ? bmax : std::max(hi, bmax);
  }
  if (observer == "moving_average") std::tie(lo, hi) = MovingAverageMinMax(batch_ranges);
  const QParams xq = MinMaxQParams(lo, hi, DType::kQUInt8, QScheme::kAffine, reduce_range);
  m->input.scales = {xq.scale};
  m->input.zero_points = {xq.zero_point};
  QuantizeValues(batch.data(), n, xq.scale, xq.zero_point, DType::kQUInt8, m->input.values.data());

  // Weights: kaiming-like uniform floats, symmetric qint8, per channel unless qnnpack.
  QTensor& w = layer->weight;
  const int64_t oc = w.shape[0], per_oc = w.NumElements() / oc;
  const double bound = 1.0 / std::sqrt(static_cast<double>(per_oc));
  std::vector<float> wf(static_cast<size_t>(w.NumElements()));
  FillSymmetricUniform(rng, bound, wf.data(), w.NumElements());
  w.axis = per_channel ? 0 : -1;
  w.scales.clear();
  w.zero_points.clear();
  for (int64_t c = 0; c < (per_channel ? oc : 1); ++c) {
    const auto first = wf.begin() + (per_channel ? c * per_oc : 0);
    const auto last = per_channel ? first + per_oc : wf.end();
    const auto [wmin, wmax] = MinMax(&*first, &*first + (last - first));
    w.scales.push_back(MinMaxQParams(wmin, wmax, DType::kQInt8, QScheme::kSymmetric, false).scale);
    w.zero_points.push_back(0);
  }
  for (int64_t c = 0; c < (per_channel ? oc : 1); ++c) {
    const int64_t begin = per_channel ? c * per_oc : 0, count = per_channel ? per_oc : w.NumElements();
    QuantizeValues(wf.data() + begin, count, w.Scale(c), 0, DType::kQInt8, w.values.data() + begin);
  }
  if (layer->bias) {
    FillSymmetricUniform(rng, bound, layer->bias->data(), static_cast<int64_t>(layer->bias->size()));
  }
  // The output observer sees the layer's real outputs.
  const auto [ylo, yhi] = RealOutputRange(*layer, m->input, acc);
  const QParams yq = MinMaxQParams(static_cast<float>(layer->relu ? 0.0 : ylo),
                                   static_cast<float>(yhi), DType::kQUInt8, QScheme::kAffine,
                                   reduce_range);
  layer->out_scale = yq.scale;
  layer->out_zero_point = yq.zero_point;
}

// A next GEMM layer of `op` reading the model's last node as the exact pipeline computes it; with
// `same_shape`, a conv2d that keeps the shape (as many output channels, "same" padding), as in a
// residual block.
void AppendLayer(ModelDraft* draft, const CaseTags& tags, OpKind op, bool same_shape) {
  const QTensor& x = draft->Last();
  Layer next;
  next.op = op;
  next.relu = !same_shape && Chance(50);
  QTensor& w = next.weight;
  w.dtype = DType::kQInt8;
  const int64_t c_in = x.shape[1];
  if (next.op == OpKind::kLinear) {
    w.shape = {Draw(1, 16), c_in};
  } else if (next.op != OpKind::kConv2d) {
    // conv1d / conv3d / conv_transpose2d after a layer of the same op: dense, kernels that fit
    w.shape = {0, 0};
    ConvAttrs& a = next.conv;
    const bool transposed = IsTransposedConv(next.op);
    next.relu = next.relu && !transposed;
    for (int d = 0; d < ConvSpatialDims(next.op); ++d) {
      const int64_t extent = x.shape[2 + d];
      if (transposed) {
        a.stride[d] = Draw(1, 2);
        w.shape.push_back(Draw(1, 3));
      } else {
        a.padding[d] = Draw(0, 1);
        w.shape.push_back(Draw(1, static_cast<int>(std::min<int64_t>(3, extent + 2 * a.padding[d]))));
      }
    }
    w.shape[transposed ? 0 : 1] = c_in;
    w.shape[transposed ? 1 : 0] = Draw(1, 6);
  } else if (same_shape) {
    const int64_t k = Chance(50) ? 3 : 1;
    next.conv.padding[0] = next.conv.padding[1] = k / 2;
    w.shape = {c_in, c_in, k, k};
  } else {
    ConvAttrs& a = next.conv;
    a.padding[0] = a.padding[1] = Draw(0, 1);
    const int64_t kh = Draw(1, static_cast<int>(std::min<int64_t>(3, x.shape[2] + 2 * a.padding[0])));
    const int64_t kw = Draw(1, static_cast<int>(std::min<int64_t>(3, x.shape[3] + 2 * a.padding[1])));
    w.shape = {Draw(1, 6), c_in, kh, kw};
  }
  const bool per_channel = !IsTransposedConv(next.op) && Chance(Mix::kPerChannel);
  w.axis = per_channel ? 0 : -1;
  for (int64_t c = 0; c < (per_channel ? w.shape[0] : 1); ++c) {
    w.scales.push_back(DrawScale(tags.scale_kind.rfind("qconfig", 0) == 0 ? "observer" : tags.scale_kind, -10, -3));
    w.zero_points.push_back(0);
  }
  w.values = DrawValues(w.NumElements(), "uniform", TypeRange(DType::kQInt8), 0);
  if (Chance(70)) {
    std::vector<float> bias;
    for (int64_t c = 0; c < LayerOutChannels(next); ++c) {
      bias.push_back(static_cast<float>(x.scales[0] * w.Scale(WeightQuantIndex(next, c)) *
                                        Draw(-20000, 20000) / 7.0));
    }
    next.bias = std::move(bias);
  }
  DeriveOutputQParams(&next, x, 1.0, tags.scale_kind == "power_of_two");
  draft->model().layers.push_back(std::move(next));
}

// Attributes, weight and input shape of a conv1d, conv3d or conv_transpose2d layer, valid by
// construction: dense, grouped or depthwise; per-spatial-dimension kernel, stride, padding and
// dilation (and output_padding below max(stride, dilation) for the transposed conv). What every
// engine rejects is not drawn: per-channel transposed-conv weights (qconv_prepack.cpp: "Per Channel
// Quantization is currently disabled for transposed conv") and a fused ReLU on the transposed conv
// (no such op).
void DrawConvVariant(Layer* layer, std::vector<int64_t>* in_shape, CaseTags& tags) {
  ConvAttrs& a = layer->conv;
  const OpKind op = layer->op;
  const bool transposed = IsTransposedConv(op);
  const int rank = ConvSpatialDims(op);
  const int64_t groups_kind = Draw(0, 2);  // 0: dense, 1: grouped, 2: depthwise
  const int64_t per_group_in = groups_kind == 2 ? 1 : Draw(1, rank == 3 ? 2 : 4);
  a.groups = groups_kind == 0 ? 1 : Draw(2, rank == 3 ? 3 : 4);
  const int64_t c_in = per_group_in * a.groups;
  const int64_t per_group_out = groups_kind == 2 ? Draw(1, 2) : Draw(1, 3);
  const int max_extent = rank == 1 ? 16 : rank == 2 ? 6 : 4;  // keeps conv3d cases small
  std::vector<int64_t> kernel, spatial;
  for (int d = 0; d < rank; ++d) {
    const int64_t k = Draw(1, rank == 1 ? 5 : 3);
    a.stride[d] = Draw(1, transposed ? 3 : 2);
    a.dilation[d] = Draw(1, rank == 1 ? 3 : 2);
    const int64_t span = a.dilation[d] * (k - 1) + 1;
    int64_t extent;
    if (transposed) {
      extent = Draw(1, max_extent);
      // ONEDNN rejects every nonzero output_padding (qconv_prepack.cpp, "ONEDNN only supports
      // zero output_padding"); QNNPACK runs it: drawn in a minority of cases
      if (Chance(Mix::kTransposedOutputPadding)) {
        a.output_padding[d] = Draw(0, static_cast<int>(std::max(a.stride[d], a.dilation[d]) - 1));
      }
      // o = (i − 1)s − 2p + span + output_padding ≥ 1
      const int64_t room = (extent - 1) * a.stride[d] + span + a.output_padding[d] - 1;
      a.padding[d] = std::min<int64_t>(Draw(0, 2), room / 2);
    } else {
      a.padding[d] = Draw(0, rank == 1 ? 2 : 1);
      extent = std::max<int64_t>(span, Draw(1, max_extent));
    }
    kernel.push_back(k);
    spatial.push_back(extent);
  }
  *in_shape = {Draw(1, 2), c_in};
  in_shape->insert(in_shape->end(), spatial.begin(), spatial.end());
  std::vector<int64_t> w_shape = transposed ? std::vector<int64_t>{c_in, per_group_out}
                                            : std::vector<int64_t>{per_group_out * a.groups, per_group_in};
  w_shape.insert(w_shape.end(), kernel.begin(), kernel.end());
  layer->weight = DrawWeight(w_shape, tags.scale_kind, tags.value_kind, &tags, transposed ? -1 : 0);
  if (transposed) layer->relu = false;
}

// A channel count of a real model up to `max`: a common width, or one off it (odd tails of the
// engines' 8/16/32/64-wide blocks).
int64_t RealChannels(int64_t max) {
  static constexpr int64_t kWidths[] = {3, 8, 16, 24, 32, 48, 64, 96, 128, 160, 256, 320, 384, 512,
                                        576, 768, 960, 1024, 1280, 2048, 4096};
  std::vector<int64_t> fitting;
  for (int64_t w : kWidths) {
    if (w <= max) fitting.push_back(w);
  }
  const int64_t base = DrawFrom(rc::gen::elementOf(fitting));
  return std::clamp<int64_t>(base + Pick<int64_t>({{14, 0}, {3, -1}, {3, 1}}), 1, max);
}

// Shapes of the size tier (GeneratorSettings::real_size_percent), at most kRealSizeMacs
// multiply-accumulates and kRealSizeOutputs outputs: the spatial extent halves, then the batch
// and the channels shrink.
void DrawRealSizeShapes(Layer* layer, std::vector<int64_t>* in_shape, std::vector<int64_t>* w_shape) {
  if (layer->op == OpKind::kLinear) {
    int64_t batch = Draw(2, 16), k = RealChannels(4096), oc = RealChannels(1024);
    while (batch * k * oc > kRealSizeMacs) {
      if (batch > 2) batch /= 2;
      else if (oc > 64) oc = oc / 2 + (oc & 1);
      else k = k / 2 + (k & 1);
    }
    *in_shape = {batch, k};
    *w_shape = {oc, k};
    return;
  }
  ConvAttrs& a = layer->conv;
  const int64_t kind = Pick<int64_t>({{6, 0}, {3, 1}, {1, 2}});  // dense, depthwise, grouped
  const int64_t k = Pick<int64_t>({{4, 1}, {5, 3}, {1, 5}});
  a.groups = kind == 0 ? 1 : kind == 2 ? Pick<int64_t>({{1, 2}, {1, 4}, {1, 8}}) : 0;  // 0: set below
  int64_t per_group_in = kind == 1 ? 1 : RealChannels(kind == 2 ? 64 : 512);
  int64_t c_in = kind == 1 ? RealChannels(512) : per_group_in * a.groups;
  if (kind == 1) a.groups = c_in;
  int64_t per_group_out = kind == 1 ? Draw(1, 2) : kind == 2 ? RealChannels(64) : RealChannels(512);
  int64_t extent = Pick<int64_t>({{1, 7}, {1, 14}, {1, 28}, {1, 56}}) + Draw(0, 1);
  int64_t batch = Pick<int64_t>({{3, 1}, {1, 2}, {1, 4}});
  for (int d = 0; d < 2; ++d) {
    a.stride[d] = Chance(25) ? 2 : 1;
    a.padding[d] = k / 2;
    a.dilation[d] = 1;
  }
  const auto outputs = [&] {  // o = floor((i + 2p − k) / s) + 1 per spatial dimension, p = k/2
    int64_t n = batch * per_group_out * a.groups;
    for (int d = 0; d < 2; ++d) n *= (extent + 2 * (k / 2) - k) / a.stride[d] + 1;
    return n;
  };
  while (outputs() * per_group_in * k * k > kRealSizeMacs || outputs() > kRealSizeOutputs) {
    if (extent > 7) extent = extent / 2 + 1;
    else if (batch > 1) batch /= 2;
    else if (per_group_out > 8) per_group_out /= 2;
    else if (kind != 1 && per_group_in > 8) per_group_in /= 2;
    else if (kind == 1 && a.groups > 8) a.groups /= 2;
    else break;  // the smallest shapes (≤ 8 channels per group, extent ≤ 7, batch 1) fit
  }
  c_in = per_group_in * a.groups;
  *in_shape = {batch, c_in, extent, extent};
  *w_shape = {per_group_out * a.groups, per_group_in, k, k};
}

// A convolution or linear model (a chain of `depth` layers of that op) aimed at the
// requantization corners; conv2d and linear at the sizes of real models in
// `real_size_percent` of the cases.
void DrawGemmModel(ModelDraft* draft, CaseTags& tags, OpKind op, int depth, int real_size_percent,
                   SharedValues<int64_t>* first_layer_acc) {
  Layer layer;
  layer.op = op;
  layer.relu = Chance(50);
  Model& m = draft->model();
  m.input.dtype = DType::kQUInt8;
  tags.real_size = (op == OpKind::kConv2d || op == OpKind::kLinear) && real_size_percent > 0 &&
                   Chance(real_size_percent);
  if (tags.real_size) {
    std::vector<int64_t> w_shape;
    DrawRealSizeShapes(&layer, &m.input.shape, &w_shape);
    layer.weight = DrawWeight(w_shape, tags.scale_kind, tags.value_kind, &tags);
    depth = 1;  // one layer of this size is the cost of many cases
  } else if (layer.op == OpKind::kLinear) {
    const bool large = Chance(Mix::kLargeAccumulatorLinear);
    if (large) tags.value_kind = "same_sign_extremes";  // |acc| near K·255·127: beyond 2^24
    const int64_t k = large ? Draw(300, 1024) : Draw(1, 64);
    m.input.shape = {Draw(1, 4), k};
    layer.weight = DrawWeight({Draw(1, 16), k}, tags.scale_kind, tags.value_kind, &tags);
  } else if (layer.op != OpKind::kConv2d) {
    DrawConvVariant(&layer, &m.input.shape, tags);
  } else {
    ConvAttrs& a = layer.conv;
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
  m.input.zero_points = {tags.value_kind == "same_sign_extremes"
                             ? 0
                             : Pick<int32_t>({{2, 0}, {2, 255}, {6, Draw(0, 255)}})};
  m.input.values = DrawValues(m.input.NumElements(), tags.value_kind, in_range,
                              m.input.zero_points[0]);

  const int64_t channels = LayerOutChannels(layer);
  if (tags.bias_kind != "none") {
    std::vector<float> bias;
    for (int64_t c = 0; c < channels; ++c) {
      // one accumulator step
      const double unit = m.input.scales[0] * layer.weight.Scale(WeightQuantIndex(layer, c));
      const double b = tags.bias_kind == "half_lsb" ? unit * 0.5 * Draw(-2000, 2000)
                                                    : unit * Draw(-20000, 20000) / 7.0;
      bias.push_back(static_cast<float>(b));
    }
    layer.bias = std::move(bias);
  }
  std::vector<int64_t> acc;  // of the final input and weights, from the output qparams' derivation
  if (tags.scale_kind == "qconfig") {
    CalibrateWithQConfig(&m, &layer, &tags, &acc);
  } else {
    // factor < 1 clamps the tails (saturation), > 1 leaves headroom
    const double factor = Pick<double>({{6, 1.0}, {2, 0.5}, {2, 2.0}});
    DeriveOutputQParams(&layer, m.input, factor, tags.scale_kind == "power_of_two", &acc);
  }
  tags.large_accumulator = std::any_of(acc.begin(), acc.end(),
                                       [](int64_t a) { return std::llabs(a) > (1 << 24); });
  if (m.layers.empty()) *first_layer_acc = std::move(acc);  // the final input and weights
  m.layers.push_back(std::move(layer));
  while (static_cast<int>(m.layers.size()) < depth) AppendLayer(draft, tags, op, false);
}

// Ops without weights, each reading the model's last node.
bool Lists(const GeneratorSettings& settings, OpKind op) {
  return std::find(settings.ops.begin(), settings.ops.end(), op) != settings.ops.end();
}

// Ops without weights, each reading the model's last node. A quint8 flatten is followed by a
// linear layer when linear is listed (a classifier head).
void AppendOpTail(ModelDraft* draft, const GeneratorSettings& settings, const CaseTags& tags,
                  int count) {
  const Model& m = draft->model();
  std::vector<OpKind> ops;
  for (OpKind op : settings.ops) {
    if (!IsGemmOp(op)) ops.push_back(op);
  }
  for (int i = 0; i < count && !ops.empty(); ++i) {
    for (int tries = 0; tries < 4; ++tries) {
      const int last = static_cast<int>(m.layers.size()) - 1;
      if (AppendOpLayer(draft, DrawFrom(rc::gen::elementOf(ops)), last, tags.scale_kind)) break;
    }
  }
  // (quint8 only: ONEDNN rejects qint8 activations for linear, and qdiff's output qparams
  // derivation is quint8's.)
  if (!m.layers.empty() && m.layers.back().op == OpKind::kFlatten &&
      NodeDTypes(m).back() == DType::kQUInt8 && Lists(settings, OpKind::kLinear)) {
    AppendLayer(draft, tags, OpKind::kLinear, false);
  }
}

// The small CNN of a real model: conv → relu → max_pool → conv → add(residual from the pool)
// → adaptive_avg_pool → flatten → linear, every layer drawn by the usual generators.
void AppendResidualCnn(ModelDraft* draft, const CaseTags& tags) {
  const Model& m = draft->model();
  AppendLayer(draft, tags, OpKind::kConv2d, /*same_shape=*/true);
  AppendOpLayer(draft, OpKind::kRelu, static_cast<int>(m.layers.size()) - 1, tags.scale_kind);
  for (OpKind op : {OpKind::kMaxPool2d, OpKind::kConv2d, OpKind::kAdd, OpKind::kAdaptiveAvgPool2d,
                    OpKind::kFlatten, OpKind::kLinear}) {
    const int last = static_cast<int>(m.layers.size()) - 1;
    if (IsGemmOp(op)) {
      AppendLayer(draft, tags, op, /*same_shape=*/op == OpKind::kConv2d);
    } else if (!AppendOpLayer(draft, op, last, tags.scale_kind)) {
      return;  // no legal window for this input: keep the prefix
    }
  }
}

// A model around an op without weights: an activation input, sometimes a shape-keeping conv2d
// first (conv → op, or conv → relu → add(residual) when the op is add), then `focus` and a tail.
void DrawOpModel(ModelDraft* draft, const CaseTags& tags, OpKind focus,
                 const GeneratorSettings& settings, int depth) {
  Model& m = draft->model();
  const bool has_conv = Lists(settings, OpKind::kConv2d);
  const bool pool = NeedsFourDInput(focus);
  const bool conv_first = has_conv && Chance(Mix::kConvBeforeOp);
  m.input = DrawActivationInput(tags.scale_kind, tags.value_kind, pool || conv_first, conv_first);
  const bool cnn = conv_first && Lists(settings, OpKind::kLinear) &&
                   Lists(settings, OpKind::kMaxPool2d) && Lists(settings, OpKind::kAdd) &&
                   Lists(settings, OpKind::kAdaptiveAvgPool2d) && Lists(settings, OpKind::kFlatten) &&
                   Chance(Mix::kResidualCnn);
  if (cnn) {
    AppendResidualCnn(draft, tags);
    return;
  }
  if (conv_first) {
    AppendLayer(draft, tags, OpKind::kConv2d, /*same_shape=*/true);
    if (focus == OpKind::kAdd && Chance(50)) AppendOpLayer(draft, OpKind::kRelu, 0, tags.scale_kind);
  }
  const int src = static_cast<int>(m.layers.size()) - 1;
  if (!AppendOpLayer(draft, focus, src, tags.scale_kind) && m.layers.empty()) {
    // No legal attributes for this input: the plainest op keeps the case valid.
    AppendOpLayer(draft, OpKind::kRelu, -1, tags.scale_kind);
  }
  AppendOpTail(draft, settings, tags, depth - 1);
}

bool IsConvVariant(OpKind op) { return IsConvOp(op) && op != OpKind::kConv2d; }

// The op a case is built around: uniform over `ops`, except that conv1d, conv3d and
// conv_transpose2d weigh less than the others when listed with them (Mix::kFocusConvVariant).
// Lists without them draw exactly as before these ops existed (same cases for the same seeds).
OpKind DrawFocus(const std::vector<OpKind>& ops) {
  if (std::none_of(ops.begin(), ops.end(), IsConvVariant)) return DrawFrom(rc::gen::elementOf(ops));
  auto weight = [](OpKind op) { return IsConvVariant(op) ? Mix::kFocusConvVariant : Mix::kFocusOther; };
  int total = 0;
  for (OpKind op : ops) total += weight(op);
  int pick = Draw(0, total - 1);
  for (OpKind op : ops) {
    if ((pick -= weight(op)) < 0) return op;
  }
  return ops.back();
}

GeneratedModel DrawModel(const GeneratorSettings& settings) {
  GeneratedModel g;
  CaseTags& tags = g.tags;
  tags.scale_kind = Pick<std::string>({{Mix::kScalePowerOfTwo, "power_of_two"},
                                       {Mix::kScaleObserver, "observer"},
                                       {Mix::kScaleLogUniform, "log_uniform"},
                                       {Mix::kScaleQConfig, "qconfig"}});
  tags.value_kind = Pick<std::string>({{Mix::kValuesUniform, "uniform"},
                                       {Mix::kValuesExtremes, "extremes"},
                                       {Mix::kValuesNearZeroPoint, "near_zero_point"},
                                       {Mix::kValuesConstant, "constant"}});
  tags.bias_kind = Pick<std::string>(
      {{Mix::kBiasNone, "none"}, {Mix::kBiasRandom, "random"}, {Mix::kBiasHalfLsb, "half_lsb"}});
  // Depth grows with RapidCheck's size (widths do through inRange): 1 layer below size 30,
  // up to 2 below 60, up to 3 beyond (campaigns draw at the nominal size 100).
  const int size = DrawFrom(rc::gen::withSize([](int sz) { return rc::gen::just(sz); }));
  const int depth = std::min(1 + size / 30,
                             Pick<int>({{Mix::kDepth1, 1}, {Mix::kDepth2, 2}, {Mix::kDepth3, 3}}));
  const OpKind focus = DrawFocus(settings.ops);
  ModelDraft draft(&g.model);
  if (IsGemmOp(focus)) {
    DrawGemmModel(&draft, tags, focus, depth, settings.real_size_percent, &g.first_layer_acc);
    if (!tags.real_size && Chance(Mix::kOpTailAfterGemm)) AppendOpTail(&draft, settings, tags, Draw(1, 2));
  } else {
    DrawOpModel(&draft, tags, focus, settings, depth);
  }
  return g;
}

}  // namespace

std::pair<double, double> RealOutputRange(const Layer& layer, const QTensor& x, std::vector<int64_t>* acc_out) {
  const std::vector<int64_t> shape = LayerOutputShape(layer, x.shape);
  std::vector<int64_t> computed;
  std::vector<int64_t>& acc = acc_out ? *acc_out : computed;
  acc = LayerAccumulators(layer, x, shape);
  const std::vector<ChannelTerms> terms = LayerChannelTerms(layer, x.scales[0]);
  // The real output of a channel rises with acc (s_x·s_w > 0, and rounding to double is
  // monotone), so each channel's extremes are those of its smallest and largest accumulator.
  std::vector<std::pair<int64_t, int64_t>> extremes(terms.size(), {INT64_MAX, INT64_MIN});
  int64_t inner = 1;  // a channel's outputs are runs of the spatial extent
  for (size_t d = 2; d < shape.size(); ++d) inner *= shape[d];
  for (size_t begin = 0; begin < acc.size() && inner > 0; begin += inner) {
    auto [least, most] = extremes[OutputChannelOf(shape, static_cast<int64_t>(begin))];
    for (size_t i = begin; i < begin + static_cast<size_t>(inner); ++i) {
      least = std::min(least, acc[i]);
      most = std::max(most, acc[i]);
    }
    extremes[OutputChannelOf(shape, static_cast<int64_t>(begin))] = {least, most};
  }
  double lo = 0.0, hi = 0.0;  // observer ranges always include 0
  for (size_t c = 0; c < terms.size(); ++c) {
    if (extremes[c].first > extremes[c].second) continue;  // a channel without outputs
    const ChannelTerms& t = terms[c];
    for (int64_t a : {extremes[c].first, extremes[c].second}) {
      const double real = (ExactRealOutput(t, a) - t.quant.z_y) * t.quant.s_y;
      lo = std::min(lo, real);
      hi = std::max(hi, real);
    }
  }
  return {lo, hi};
}

void DeriveOutputQParams(Layer* layer, const QTensor& x, double factor, bool power_of_two,
                         std::vector<int64_t>* acc) {
  auto [lo, hi] = RealOutputRange(*layer, x, acc);
  // A fused ReLU's observer usually sees the ReLU's output (z_y = 0). One in five sees the range
  // before it (an observer placed before fusion, fixed qparams), so z_y > 0 and the clamp at
  // z_y, not at 0, is what keeps outputs from going below the real zero.
  if (layer->relu && !Chance(20)) lo = 0.0;
  double span = hi - lo;
  if (!(span > 0)) span = x.scales[0] * layer->weight.scales[0];
  double s_y = static_cast<float>(span * factor / 255.0);
  if (power_of_two) s_y = std::exp2(std::round(std::log2(s_y)));
  s_y = std::max(s_y, 1e-30);
  layer->out_scale = s_y;
  layer->out_zero_point = ZeroPointForMin(lo, s_y, TypeRange(DType::kQUInt8));
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

namespace {

// What rc::gen::exec's handler does for each `*gen` inside the callable (RapidCheck's
// src/gen/detail/ExecHandler.cpp): generate from the next split of the handler's Random at the
// exec's size, in a fresh implicit scope. The same values in the same order, without the recipe
// of every generated Shrinkable that only shrinking needs. The generators' own draws (DrawFrom)
// take the same next split without coming here; this serves any other `*gen`.
class DrawOnlyHandler : public rc::gen::detail::GenerationHandler {
 public:
  explicit DrawOnlyHandler(DirectDraws* draws) : draws_(*draws) {}
  rc::detail::Any onGenerate(const rc::Gen<rc::detail::Any>& gen) override {
    rc::detail::ImplicitScope scope;
    return gen(draws_.Next(), draws_.size).value();
  }

 private:
  DirectDraws& draws_;
};

}  // namespace

GeneratedModel GenerateModel(uint64_t seed, const GeneratorSettings& settings) {
  // = GenModel(settings)(rc::Random(seed), rc::kNominalSize).value(): exec starts its handler
  // from the Random and size it is generated with.
  DirectDraws draws{rc::Random(seed), rc::kNominalSize};
  DrawOnlyHandler handler(&draws);
  rc::detail::ImplicitParam<rc::gen::detail::param::CurrentHandler> let_handler(&handler);
  struct Current {  // DirectDraws::current while drawing, restored on any exit
    DirectDraws* before = DirectDraws::current;
    explicit Current(DirectDraws* d) { DirectDraws::current = d; }
    ~Current() { DirectDraws::current = before; }
  } current(&draws);
  return DrawModel(settings);
}

}  // namespace qdiff
