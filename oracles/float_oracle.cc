#include "oracles/float_oracle.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "oracles/integer_pipeline.h"
#include "oracles/layer_gemm.h"
#include "oracles/layer_products.h"
#include "oracles/multiversion.h"
#include "oracles/ops/libtorch_float.h"
#include "oracles/ops/op_recipe.h"

namespace qdiff {

float DequantizeElement(const QTensor& t, int64_t index) {
  if (!t.per_channel()) return DequantScalar(t.scales[0], t.zero_points[0], t.values[index]);
  int64_t inner = 1;
  for (size_t d = t.axis + 1; d < t.shape.size(); ++d) inner *= t.shape[d];
  const int64_t c = (index / inner) % t.shape[t.axis];
  return static_cast<float>(
      (static_cast<double>(static_cast<float>(t.values[index])) - t.zero_points[c]) * t.scales[c]);
}

std::vector<double> DequantizedValues(const QTensor& t) {
  std::vector<double> out(t.values.size());
  t.ForEachQuantRun([&](int64_t q, int64_t begin, int64_t end) {
    const double s = t.scales[q];
    const int32_t z = t.zero_points[q];
    if (t.per_channel()) {
      for (int64_t i = begin; i < end; ++i) {
        out[i] = static_cast<float>((static_cast<double>(static_cast<float>(t.values[i])) - z) * s);
      }
    } else {
      for (int64_t i = begin; i < end; ++i) out[i] = DequantScalar(s, z, t.values[i]);
    }
  });
  return out;
}

namespace {

// Real output of a GEMM layer: Σ dequant(x)·dequant(w) + bias, in float64, each output's
// products added in ForEachProduct's order (LayerProductSums).
std::vector<double> GemmReal(const Layer& layer, const QTensor& x, const std::vector<int64_t>& shape) {
  std::vector<double> real;
  LayerProductSums(layer, x.shape, shape, DequantizedValues(x), DequantizedValues(layer.weight), &real);
  if (layer.bias) {
    for (size_t o = 0; o < real.size(); ++o) {
      real[o] += (*layer.bias)[OutputChannelOf(shape, static_cast<int64_t>(o))];
    }
  }
  return real;
}

// GemmReal of output `o` alone, from the dequantized values xs and ws: its products in
// ForEachProduct's order, (input channel, tap) for a conv, k for a linear layer (layer_gemm.h).
double GemmElementReal(const Layer& layer, const std::vector<int64_t>& in_shape, const std::vector<int64_t>& shape,
                       const std::vector<double>& xs, const std::vector<double>& ws, int64_t o) {
  double sum = 0.0;
  if (layer.op == OpKind::kLinear) {
    const int64_t k = in_shape[1], oc = shape[1];
    const int64_t n = o / oc, c = o % oc;
    for (int64_t j = 0; j < k; ++j) sum += xs[n * k + j] * ws[c * k + j];
  } else {
    const ConvGeometry g = MakeConvGeometry(layer, in_shape, shape);
    const int64_t positions = g.out[0] * g.out[1] * g.out[2];
    const int64_t n = o / (g.c_out * positions), oc = o / positions % g.c_out, p = o % positions;
    const int64_t group = oc / g.ocpg, ocg = oc % g.ocpg;
    const int64_t out_pos[3] = {p / (g.out[1] * g.out[2]), p / g.out[2] % g.out[1], p % g.out[2]};
    for (int64_t ic = 0; ic < g.icpg; ++ic) {
      int64_t t[3];
      for (t[0] = 0; t[0] < g.k[0]; ++t[0])
        for (t[1] = 0; t[1] < g.k[1]; ++t[1])
          for (t[2] = 0; t[2] < g.k[2]; ++t[2]) {
            const int64_t i[3] = {g.InputPos(0, out_pos[0], t[0]), g.InputPos(1, out_pos[1], t[1]),
                                  g.InputPos(2, out_pos[2], t[2])};
            if (i[0] < 0 || i[1] < 0 || i[2] < 0) continue;
            sum += xs[g.InIndex(n, group * g.icpg + ic, i)] * ws[g.WeightIndex(group, ic, ocg, t)];
          }
    }
  }
  if (layer.bias) sum += (*layer.bias)[OutputChannelOf(shape, o)];
  return sum;
}

// The quantized output of the float64 sum `real` (bias included): clamp(RNE(real/s_y) + z_y).
int32_t QuantizeReal(double real, const OutputQParams& q, int32_t lo, int32_t hi) {
  const double v = std::nearbyint(real / q.scale) + q.zero_point;
  return static_cast<int32_t>(std::clamp<double>(v, lo, hi));
}

// Marks an output RoundRun leaves to the float64 sum (outputs lie in an 8-bit range).
constexpr int32_t kNearTie = std::numeric_limits<int32_t>::min();

// One channel's run of outputs from their accumulators: v = acc·m + b (m = s_x·s_w/s_y,
// b = bias/s_y, each rounded once: these and the double roundings of v add at most
// (|acc·m| + |b| + |v|)·2^-51 to `bound`, 2^-49 is taken), out = clamp(round(v) + z_y), or
// kNearTie where v lies within the bound of a half-integer or beyond 2^40. Built per ISA: floor
// is one instruction and the loop vectorises.
QDIFF_MULTIVERSION
void RoundRun(const int64_t* acc, int64_t n, double m, double b, double bound, double zero_point, double lo,
              double hi, int32_t* out) {
  for (int64_t i = 0; i < n; ++i) {
    const double a = static_cast<double>(acc[i]) * m;
    const double v = a + b;
    const double err = bound + (std::fabs(a) + std::fabs(b) + std::fabs(v)) * 0x1p-49;
    const double f = std::floor(v);
    const double frac = v - f;
    const bool near = !(std::fabs(v) < 0x1p40) || std::fabs(frac - 0.5) <= err;
    const double r = std::min(std::max(f + (frac > 0.5 ? 1.0 : 0.0) + zero_point, lo), hi);
    out[i] = near ? kNearTie : static_cast<int32_t>(near ? 0.0 : r);
  }
}

bool IsPowerOfTwo(double s) {
  int exponent = 0;
  return std::frexp(s, &exponent) == 0.5;
}

// Whether GemmReal's float64 sums are exact: with power-of-two scales s_x and s_w[c] (normal in
// binary32) and |x − z_x|, |w − z_w| ≤ 2^16, every dequantized value (q − z)·s is exact in
// float, every product an integer multiple of s_x·s_w[c], and every partial sum one of at most
// K·max|x − z_x|·max|w − z_w| < 2^53 such units, exact in double. GemmReal's sum is then
// acc·s_x·s_w[c] exactly, and its real value, bias added, acc·s_x·s_w[c] + bias rounded once,
// as computed from acc below. The caller has checked the 2^16 bounds.
bool ExactProducts(float s_x, const std::vector<double>& s_w, double k_max_x, const std::vector<int32_t>& max_w) {
  if (!IsPowerOfTwo(s_x)) return false;
  for (size_t c = 0; c < s_w.size(); ++c) {
    if (!IsPowerOfTwo(s_w[c]) || !(k_max_x * max_w[c] < 0x1p53)) return false;
  }
  return true;
}

// The output of a GEMM layer (see RunFloatOracle in the header).
std::vector<int32_t> GemmOut(const Layer& layer, const QTensor& x, const std::vector<int64_t>& shape,
                             const std::vector<int64_t>* known_acc, const OutputQParams& q, int32_t lo, int32_t hi) {
  const QTensor& w = layer.weight;
  const auto everything = [&] {
    const std::vector<double> real = GemmReal(layer, x, shape);
    std::vector<int32_t> out(real.size());
    for (size_t o = 0; o < real.size(); ++o) out[o] = QuantizeReal(real[o], q, lo, hi);
    return out;
  };
  // The bound needs normal binary32 operands: scales in [2^-100, 2^100], values within 2^16.
  const float s_x = static_cast<float>(x.scales[0]);
  const auto normal = [](double s) { return s >= 0x1p-100 && s <= 0x1p100; };
  const bool per_output_channel = !w.per_channel() || w.axis == (IsTransposedConv(layer.op) ? 1 : 0);
  if (x.per_channel() || !per_output_channel || !normal(s_x) || !normal(q.scale)) return everything();
  int32_t max_x = 0;
  const int32_t z_x = x.zero_points[0];
  for (int32_t v : x.values) max_x = std::max(max_x, std::abs(v - z_x));
  const int64_t channels = shape[1];
  std::vector<double> s_w(channels), bound(channels), bias(channels, 0.0);
  const int64_t per_channel = w.NumElements() / LayerOutChannels(layer);  // products per output: K
  for (int64_t c = 0; c < channels; ++c) {
    const int64_t quant = WeightQuantIndex(layer, c);
    s_w[c] = w.per_channel() ? w.scales[quant] : static_cast<float>(w.scales[0]);
    if (!normal(s_w[c])) return everything();
    if (layer.bias) bias[c] = (*layer.bias)[c];
  }
  // |w − z_w| at most, per scale, then per output channel (whose products share one scale)
  std::vector<int32_t> max_by_quant(w.scales.size(), 0), max_w(channels);
  w.ForEachQuantRun([&](int64_t quant, int64_t begin, int64_t end) {
    const int32_t z = w.ZeroPoint(quant);
    int32_t m = max_by_quant[quant];  // a local: the loop vectorises
    for (int64_t i = begin; i < end; ++i) m = std::max(m, std::abs(w.values[i] - z));
    max_by_quant[quant] = m;
  });
  for (int64_t c = 0; c < channels; ++c) max_w[c] = max_by_quant[WeightQuantIndex(layer, c)];
  if (max_x > 65536 || *std::max_element(max_w.begin(), max_w.end()) > 65536) return everything();
  const double k = static_cast<double>(per_channel);
  std::vector<int64_t> computed;
  const auto accumulators = [&]() -> const std::vector<int64_t>& {
    return known_acc ? *known_acc : (computed = LayerAccumulators(layer, x, shape));
  };
  int64_t inner = 1;  // a channel's outputs are runs of the spatial extent
  for (size_t d = 2; d < shape.size(); ++d) inner *= shape[d];
  if (ExactProducts(s_x, s_w, k * max_x, max_w)) {
    const std::vector<int64_t>& acc = accumulators();
    std::vector<int32_t> out(acc.size());
    for (int64_t begin = 0; begin < static_cast<int64_t>(acc.size()) && inner > 0; begin += inner) {
      const int64_t c = (begin / inner) % channels;
      const double unit = double{s_x} * s_w[c];
      for (int64_t o = begin; o < begin + inner; ++o) {
        out[o] = QuantizeReal(static_cast<double>(acc[o]) * unit + bias[c], q, lo, hi);
      }
    }
    return out;
  }
  for (int64_t c = 0; c < channels; ++c) {
    // s_x·s_w·A·(2^-22 + K·2^-52) / s_y with A ≤ K·max|x − z_x|·max|w − z_w| (2^-22.9 and
    // K·2^-52.9 would do)
    bound[c] = double{s_x} * s_w[c] * k * max_x * max_w[c] * (0x1p-22 + k * 0x1p-52) / q.scale;
  }
  const std::vector<int64_t>& acc = accumulators();
  std::vector<int32_t> out(acc.size());
  for (int64_t begin = 0; begin < static_cast<int64_t>(acc.size()) && inner > 0; begin += inner) {
    const int64_t c = (begin / inner) % channels;
    RoundRun(acc.data() + begin, inner, double{s_x} * s_w[c] / q.scale, bias[c] / q.scale, bound[c], q.zero_point,
             lo, hi, out.data() + begin);
  }
  std::vector<int64_t> near_tie;
  for (int64_t o = 0; o < static_cast<int64_t>(out.size()); ++o) {
    if (out[o] == kNearTie) near_tie.push_back(o);
  }
  if (near_tie.empty()) return out;
  if (static_cast<int64_t>(near_tie.size()) * 8 > static_cast<int64_t>(acc.size())) return everything();
  const std::vector<double> xs = DequantizedValues(x), ws = DequantizedValues(w);
  for (int64_t o : near_tie) out[o] = QuantizeReal(GemmElementReal(layer, x.shape, shape, xs, ws, o), q, lo, hi);
  return out;
}

// The tensor node `id` (< 0: a graph input) of the oracle's own outputs.
QTensor OracleNode(const Model& model, const std::vector<QTensor>& nodes, int id) {
  return id < 0 ? GraphInput(model, id) : nodes[id];
}

}  // namespace

std::vector<FloatLayerResult> RunFloatOracle(const Model& model, const std::vector<const std::vector<int64_t>*>& known_acc) {
  std::vector<FloatLayerResult> results;
  std::vector<QTensor> nodes;
  for (size_t l = 0; l < model.layers.size(); ++l) {
    const Layer& layer = model.layers[l];
    std::vector<QTensor> inputs;
    std::vector<std::vector<int64_t>> in_shapes;
    for (int id : LayerInputIds(model, l)) {
      inputs.push_back(OracleNode(model, nodes, id));
      in_shapes.push_back(inputs.back().shape);
    }
    const std::vector<int64_t> shape = LayerOutputShape(layer, in_shapes);
    const OutputQParams q = LayerOutputQParams(layer, inputs[0]);
    const QuantRange range = TypeRange(q.dtype);
    const int32_t lo = layer.relu ? std::max(range.qmin, q.zero_point) : range.qmin;
    FloatLayerResult r;
    if (IsGemmOp(layer.op)) {
      r.out = GemmOut(layer, inputs[0], shape, l < known_acc.size() ? known_acc[l] : nullptr, q, lo, range.qmax);
    } else {
      r.real = FloatOpReal(layer, inputs, shape);
      r.out.resize(r.real.size());
      for (size_t o = 0; o < r.real.size(); ++o) r.out[o] = QuantizeReal(r.real[o], q, lo, range.qmax);
    }
    nodes.push_back(LayerOutputTensor(layer, inputs[0], shape, r.out));
    results.push_back(std::move(r));
  }
  return results;
}

double FloatOracleReal(const Model& model, const std::vector<FloatLayerResult>& results, size_t layer,
                       int64_t element) {
  const Layer& l = model.layers[layer];
  if (!IsGemmOp(l.op)) return results[layer].real[element];
  // The oracle's input of `layer`: its own output tensors of the layers before.
  std::vector<QTensor> nodes;
  for (size_t j = 0; j < layer; ++j) {
    std::vector<std::vector<int64_t>> in_shapes;
    const std::vector<int> ids = LayerInputIds(model, j);
    for (int id : ids) in_shapes.push_back(OracleNode(model, nodes, id).shape);
    nodes.push_back(LayerOutputTensor(model.layers[j], OracleNode(model, nodes, ids[0]),
                                      LayerOutputShape(model.layers[j], in_shapes), results[j].out));
  }
  const QTensor x = OracleNode(model, nodes, LayerInputIds(model, layer)[0]);
  const std::vector<int64_t> shape = LayerOutputShape(l, x.shape);
  return GemmElementReal(l, x.shape, shape, DequantizedValues(x), DequantizedValues(l.weight), element);
}

}  // namespace qdiff
