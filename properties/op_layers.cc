#include "properties/op_layers.h"

#include <algorithm>
#include <cmath>

#include "oracles/integer_pipeline.h"
#include "oracles/ops/op_recipe.h"
#include "oracles/scheme.h"
#include "properties/draw.h"

namespace qdiff {

namespace {

// Draws of a layer's attributes (each must be legal on every engine) before AppendOpLayer gives up.
constexpr int kAttributeTries = 8;

// Nodes of the same shape and dtype as node `src` (src itself included).
std::vector<int> CompatibleNodes(ModelDraft& d, int src) {
  const QTensor& x = d.Node(src);
  std::vector<int> ids;
  for (int id = -1; id < static_cast<int>(d.model().layers.size()); ++id) {
    const QTensor& t = d.Node(id);
    if (t.shape == x.shape && t.dtype == x.dtype) ids.push_back(id);
  }
  return ids;
}

// A float32 bound near the input grid: on a grid point, on a half-LSB tie of quantize_val, or
// anywhere in between.
float DrawBound(const QTensor& x, int32_t q) {
  const double s = x.scales[0];
  const double offset = Pick<double>({{2, 0.0}, {2, 0.5}, {1, Draw(1, 99) / 100.0}});
  return static_cast<float>(s * (q - x.zero_points[0] + offset));
}

void DrawPoolAttrs(Layer* l, const std::vector<int64_t>& shape) {
  PoolAttrs& p = l->pool;
  for (int d = 0; d < 2; ++d) {
    const int64_t in = shape[2 + d];
    if (l->op == OpKind::kAdaptiveAvgPool2d) {
      // Divisors of the input size take QNNPACK's path (input % output == 0).
      std::vector<int64_t> divisors;
      for (int64_t o = 1; o < in; ++o) {
        if (in % o == 0) divisors.push_back(o);
      }
      p.output_size[d] = !divisors.empty() && Chance(50)
                             ? divisors[Draw(0, static_cast<int>(divisors.size()) - 1)]
                             : Draw(1, static_cast<int>(std::min<int64_t>(in, 6)));
      continue;
    }
    p.kernel[d] = Draw(1, static_cast<int>(std::min<int64_t>(3, in)));
    p.stride[d] = Draw(1, 3);
    p.padding[d] = Draw(0, static_cast<int>(p.kernel[d] / 2));
    p.dilation[d] = l->op == OpKind::kMaxPool2d && Chance(20) ? 2 : 1;
  }
  p.ceil_mode = Chance(25);
  p.count_include_pad = Chance(50);
  p.divisor_override = l->op == OpKind::kAvgPool2d && Chance(15) ? Draw(1, 9) : 0;
}

void DrawAttributes(Layer* l, const std::vector<QTensor>& in) {
  const QTensor& x = in[0];
  const QuantRange r = TypeRange(x.dtype);
  switch (l->op) {
    case OpKind::kMaxPool2d:
    case OpKind::kAvgPool2d:
    case OpKind::kAdaptiveAvgPool2d:
      DrawPoolAttrs(l, x.shape);
      break;
    case OpKind::kHardtanh:
    case OpKind::kClamp: {
      const int32_t lo = Draw(r.qmin, r.qmax), hi = Draw(lo, r.qmax);
      l->act.min_value = DrawBound(x, lo);
      l->act.max_value = std::max(l->act.min_value, DrawBound(x, hi));
      break;
    }
    case OpKind::kLeakyRelu:
      l->act.negative_slope = Pick<float>(
          {{2, 0.01f}, {2, 0.1f}, {1, 0.2f}, {1, 0.25f}, {1, 0.5f},
           {2, static_cast<float>(Draw(1, 999) / 1000.0)}});
      break;
    case OpKind::kMean: {
      // x.mean([2, 3]) (QNNPACK's kernel on quint8) or an equivalent list (the default kernels).
      const int form = Pick<int>({{3, 0}, {1, 1}, {1, 2}, {1, 3}});
      const int64_t forms[4][2] = {{2, 3}, {-1, -2}, {3, 2}, {-2, -1}};
      std::copy(forms[form], forms[form] + 2, l->mean.dims);
      l->mean.keepdim = Chance(50);
      break;
    }
    case OpKind::kCat:
      l->cat_dim = x.shape.size() == 4 && Chance(60)
                       ? 1
                       : Draw(0, static_cast<int>(x.shape.size()) - 1);
      break;
    default:
      break;
  }
  if (x.shape.size() == 4) l->channels_last = Chance(40);
}

// Output qparams of ops that have their own: observer-derived, the input's (e.g. cat's memcpy
// path, leaky_relu with unchanged qparams), or a power of two (exact ties).
void DrawOutputQParams(Layer* l, const std::vector<QTensor>& in, const std::string& scale_kind) {
  if (KeepsInputQParams(l->op) || HasFixedOutputQParams(l->op)) return;
  const bool keep_input = (l->op == OpKind::kCat || l->op == OpKind::kLeakyRelu) && Chance(30);
  if (keep_input) {
    l->out_scale = in[0].scales[0];
    l->out_zero_point = in[0].zero_points[0];
    return;
  }
  DeriveOpOutputQParams(l, in, scale_kind == "power_of_two" || Chance(15));
}

bool LegalOnEveryEngine(const Layer& l, const std::vector<QTensor>& in) {
  for (Engine e : kAllEngines) {
    if (!OpRejectionReason(e, l, in).empty()) return false;
  }
  return true;
}

}  // namespace

std::vector<QTensor> ExactNodeTensors(const Model& m) {
  const std::vector<LayerTrace> traces = RunIntegerPipeline(m, GetScheme(Scheme::kExact).recipe);
  std::vector<QTensor> nodes;
  for (size_t l = 0; l < traces.size(); ++l) {
    nodes.push_back(LayerOutputTensor(m.layers[l], traces[l].input(), traces[l].shape,
                                      traces[l].out));
  }
  return nodes;
}

const QTensor& ModelDraft::Node(int id) {
  if (id < 0) return GraphInput(m_, id);
  static const PipelineRecipe kExact{GetScheme(Scheme::kExact).recipe, std::nullopt};
  // What RunIntegerPipeline computes for each layer, fed with its own node outputs.
  while (static_cast<int>(nodes_.size()) <= id) {
    const size_t l = nodes_.size();
    const Layer& layer = m_.layers[l];
    std::vector<QTensor> inputs;
    for (int in : LayerInputIds(m_, l)) inputs.push_back(Node(in));
    const LayerTrace t = RunIntegerLayer(layer, inputs, kExact);
    nodes_.push_back(LayerOutputTensor(layer, inputs[0], t.shape, t.out));
  }
  return nodes_[id];
}

void DeriveOpOutputQParams(Layer* layer, const std::vector<QTensor>& inputs, bool power_of_two) {
  std::vector<std::vector<int64_t>> shapes;
  for (const QTensor& x : inputs) shapes.push_back(x.shape);
  const std::vector<double> real = FloatOpReal(*layer, inputs, LayerOutputShape(*layer, shapes));
  double lo = 0.0, hi = 0.0;
  for (double v : real) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (layer->relu) lo = 0.0;
  const QuantRange r = TypeRange(inputs[0].dtype);
  double s = static_cast<float>((hi - lo) / (r.qmax - r.qmin));
  if (!(s > 0)) s = inputs[0].scales[0];
  if (power_of_two) s = std::exp2(std::round(std::log2(s)));
  s = std::max(s, 1e-30);
  layer->out_scale = s;
  layer->out_zero_point = ZeroPointForMin(lo, s, r);
}

bool AppendOpLayer(ModelDraft* draft, OpKind op, int src, const std::string& scale_kind) {
  Model& m = draft->model();
  if (NeedsFourDInput(op) && draft->Node(src).shape.size() != 4) return false;
  Layer l;
  l.op = op;
  l.inputs = {src};
  if (InputArity(op) != 1) {
    std::vector<int> partners = CompatibleNodes(*draft, src);
    partners.erase(std::remove(partners.begin(), partners.end(), src), partners.end());
    if (partners.empty() || Chance(20)) {
      // A residual edge: a second branch from src through an activation with its own qparams.
      const OpKind branch = Pick<OpKind>({{2, OpKind::kLeakyRelu}, {2, OpKind::kHardswish},
                                          {1, OpKind::kRelu}, {1, OpKind::kClamp}});
      if (!AppendOpLayer(draft, branch, src, scale_kind)) return false;
      partners = {static_cast<int>(m.layers.size()) - 1};
    }
    l.inputs.push_back(Chance(15) ? src : partners[Draw(0, static_cast<int>(partners.size()) - 1)]);
    if (op == OpKind::kCat && Chance(25)) l.inputs.push_back(partners[0]);
    l.relu = op != OpKind::kCat && Chance(40);
  }
  std::vector<QTensor> in;
  for (int id : l.inputs) in.push_back(draft->Node(id));
  for (int attempt = 0; attempt < kAttributeTries; ++attempt) {
    // The candidate is tried in place (never read as a node) and removed unless it is kept.
    m.layers.push_back(l);
    Layer& candidate = m.layers.back();
    DrawAttributes(&candidate, in);
    if (ValidateModel(m).empty()) {
      DrawOutputQParams(&candidate, in, scale_kind);
      if (ValidateModel(m).empty() && LegalOnEveryEngine(candidate, in)) return true;
    }
    m.layers.pop_back();
  }
  return false;
}

QTensor DrawActivationInput(const std::string& scale_kind, const std::string& value_kind,
                            bool four_d, bool quint8) {
  QTensor x;
  x.dtype = quint8 || Chance(70) ? DType::kQUInt8 : DType::kQInt8;
  if (four_d || Chance(85)) {
    // Channels around the vector widths of the NHWC kernels (8, 16, 32 lanes) and their tails.
    const int64_t c = Pick<int64_t>({{6, Draw(1, 4)}, {3, Draw(5, 20)}, {1, Draw(21, 40)}});
    x.shape = {Draw(1, 2), c, Draw(1, 9), Draw(1, 9)};
  } else {
    x.shape = {Draw(1, 4), Draw(1, 40)};
  }
  const QuantRange r = TypeRange(x.dtype);
  x.scales = {DrawScale(scale_kind == "qconfig" ? "observer" : scale_kind, -8, 0)};
  x.zero_points = {Pick<int32_t>({{2, x.dtype == DType::kQInt8 ? 0 : r.qmin},
                                  {1, r.qmax},
                                  {5, Draw(r.qmin, r.qmax)}})};
  x.values = DrawValues(x.NumElements(), value_kind, r, x.zero_points[0]);
  return x;
}

}  // namespace qdiff
