#include "harness/evaluation/model_export.h"

#include <nlohmann/json.hpp>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>

#include "harness/case/provenance.h"
#include "harness/evaluation/engines.h"
#include "harness/torch/libtorch_runner.h"
#include "oracles/ops/libtorch_float.h"
#include "oracles/ops/op_recipe.h"
#include "oracles/ops/pool_common.h"
#include "oracles/recipe.h"
#include "export_requant_c_text.h"   // generated from harness/evaluation/export_requant_c.h
#include "soft_binary32_c_text.h"    // generated from oracles/soft_binary32_c.h
#include "export_graph_c_text.h"      // generated from harness/evaluation/export_graph_c.h

namespace qdiff {

namespace {

using nlohmann::json;

uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

// Geometry of a conv2d or linear layer as the header's 2-D conv: linear is a 1×1 conv over
// rows = numel/K of an [rows, K, 1, 1] input.
struct Geometry {
  int64_t n, c, h, w, oc, kh, kw, oh, ow;
};

Geometry GeometryOf(const CapturedNode& node) {
  const Layer& l = node.layer;
  const std::vector<int64_t>& x = node.inputs[0].shape;
  const std::vector<int64_t>& wt = l.weight.shape;
  if (l.op == OpKind::kLinear) {
    const int64_t k = x.back();
    return {node.inputs[0].NumElements() / k, k, 1, 1, wt[0], 1, 1, 1, 1};
  }
  return {x[0], x[1], x[2], x[3], wt[0], wt[2], wt[3], node.out_shape[2], node.out_shape[3]};
}

// The engine recipe's requantization of every output channel.
struct Requant {
  std::string recipe;
  std::vector<int32_t> w_zp, bias_int32, m0, shift;
  std::vector<float> bias_float, multiplier;
  std::vector<double> s_w;
  int32_t qmin = 0, qmax = 0;
  bool zp_before_rounding = false, overflow_gives_qmin = false;
};

Requant RequantOf(const ModelNodeCheck& check, const CapturedNode& node) {
  const Layer& l = node.layer;
  const Scheme scheme = *ParseScheme(check.engine_scheme);
  const Recipe& r = GetScheme(scheme).recipe;
  const bool qnnpack = r.bias == BiasForm::kInt32Torch && r.multiplier == MultiplierForm::kF32Qnnpack;
  const bool onednn = r.bias == BiasForm::kFloatOnednn && r.multiplier == MultiplierForm::kF32Onednn;
  if (!(qnnpack || onednn) || r.arithmetic != Arithmetic::kFloat32 || r.rounding != Rounding::kHalfEven) {
    throw std::invalid_argument("layer " + node.module_path + ": engine recipe " + check.engine_scheme +
                                " has no exported form (qnnpack_fp32 and onednn_fp32 do)");
  }
  Requant q;
  q.recipe = check.engine_scheme;
  q.zp_before_rounding = r.zero_point_order == ZeroPointOrder::kBeforeRounding;
  q.overflow_gives_qmin = r.overflow == Overflow::kCvtIndefinite;
  const QuantRange range = TypeRange(l.out_dtype);
  q.qmin = l.relu ? std::max(range.qmin, l.out_zero_point) : range.qmin;
  q.qmax = range.qmax;
  for (int64_t oc = 0; oc < LayerOutChannels(l); ++oc) {
    const int64_t wi = WeightQuantIndex(l, oc);
    ChannelQuant cq;
    cq.s_x = node.inputs[0].scales[0];
    cq.s_w = l.weight.scales[wi];
    cq.per_channel = l.weight.per_channel();
    cq.s_y = l.out_scale;
    cq.z_y = l.out_zero_point;
    if (l.bias) cq.bias = (*l.bias)[oc];
    cq.range = {q.qmin, q.qmax};
    const ChannelTerms t = PrepareChannel(cq);
    q.w_zp.push_back(l.weight.zero_points[wi]);
    q.s_w.push_back(cq.s_w);
    q.bias_int32.push_back(static_cast<int32_t>(t.bias_int32));
    q.bias_float.push_back(t.bias_onednn);
    q.multiplier.push_back(qnnpack ? t.multiplier_qnnpack : t.multiplier_onednn);
    q.m0.push_back(t.q31.multiplier);
    q.shift.push_back(t.q31.shift);
  }
  return q;
}

template <typename T>
void CArray(std::string& out, const char* type, const std::string& name, const std::vector<T>& v,
            const char* format) {
  out += "static const " + std::string(type) + " " + name + "[" + std::to_string(std::max<size_t>(1, v.size())) + "] = {";
  char cell[40];
  for (size_t i = 0; i < v.size(); ++i) {
    if (i % 16 == 0) out += "\n  ";
    std::snprintf(cell, sizeof cell, format, v[i]);
    out += cell;
    out += ",";
  }
  if (v.empty()) out += "0";
  out += "\n};\n";
}

std::vector<uint32_t> AllBits(const std::vector<float>& v) {
  std::vector<uint32_t> b;
  for (float f : v) b.push_back(Bits(f));
  return b;
}


// Shape padded with leading 1s to 4 dims (the header's NCHW form); empty beyond 4 dims.
std::vector<int64_t> Pad4(std::vector<int64_t> shape) {
  if (shape.size() > 4) return {};
  while (shape.size() < 4) shape.insert(shape.begin(), 1);
  return shape;
}

// One node of the header's graph: the C initializer's fields and the arrays they point at.
struct CNode {
  std::string fields;  // ".name = value," lines
  std::string kind = "QDIFF_NODE_LIBTORCH";
  std::string why;     // LIBTORCH: why there is no C form
};

std::string Field(const std::string& name, const std::string& value) { return "   ." + name + " = " + value + ",\n"; }
std::string Hex(uint32_t bits) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%08" PRIx32 "u", bits);
  return b;
}
std::string Quoted(const std::string& s) {
  std::string q = "\"";
  for (char c : s) q += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  return q + "\"";
}

}  // namespace

ModelExport ExportModel(const ModelCheck& mc, const std::string& model_file) {
  if (mc.run.rejected) throw std::invalid_argument(model_file + ": " + mc.run.message);
  ModelExport ex;
  const std::string engine = EngineName(mc.run.engine);
  json layers = json::array(), nodes = json::array();
  std::string arrays, layer_table, node_table;
  std::map<size_t, int> c_index;  // run node → header node
  for (const ModelNodeCheck& check : mc.checks) {
    const CapturedNode& node = mc.run.nodes[check.node];
    if (node.role != NodeRole::kQuantize && node.role != NodeRole::kLayer && node.role != NodeRole::kDequantize) {
      ex.skipped += (ex.skipped.empty() ? "" : ", ") + check.op + " at " +
                    (node.module_path.empty() ? "(top)" : node.module_path);
      continue;
    }
    const int k = static_cast<int>(c_index.size());
    c_index[check.node] = k;
    const std::string p = "N" + std::to_string(k) + "_";
    const Layer& l = node.layer;
    CNode c;
    std::string& f = c.fields;
    json params = json::object();
    // Inputs: the producing header node and the gather through data movement, or LibTorch's tensor.
    std::vector<std::string> src, gathers, captured, numel, shapes, zps;
    json inputs = json::array();
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const InputSource& s = i < node.sources.size() ? node.sources[i] : InputSource{};
      const auto it = s.node >= 0 ? c_index.find(static_cast<size_t>(s.node)) : c_index.end();
      const int from = it == c_index.end() ? -1 : it->second;
      src.push_back(std::to_string(from));
      std::string g = "0", cap = "0";
      if (from >= 0 && !s.gather.empty()) {
        g = p + "gather" + std::to_string(i);
        CArray(arrays, "int32_t", g, std::vector<int32_t>(s.gather.begin(), s.gather.end()), "%d");
      }
      if (from < 0) {
        cap = p + "captured" + std::to_string(i);
        CArray(arrays, "int16_t", cap, node.inputs[i].values, "%d");
      }
      gathers.push_back(g);
      captured.push_back(cap);
      numel.push_back(std::to_string(node.inputs[i].NumElements()));
      std::vector<int64_t> sh = Pad4(node.inputs[i].shape);
      if (sh.empty()) sh = {0, 0, 0, 0};
      for (int64_t d : sh) shapes.push_back(std::to_string(d));
      zps.push_back(std::to_string(node.inputs[i].zero_points[0]));
      inputs.push_back({{"from_node", from}, {"gathered", !s.gather.empty()}, {"shape", node.inputs[i].shape},
                        {"scale", node.inputs[i].scales[0]}, {"zero_point", node.inputs[i].zero_points[0]}});
    }
    auto list = [&](const char* type, const std::string& name, const std::vector<std::string>& v) {
      arrays += "static " + std::string(type) + " " + p + name + "[" + std::to_string(std::max<size_t>(1, v.size())) + "] = {";
      for (size_t i = 0; i < v.size(); ++i) arrays += (i ? ", " : "") + v[i];
      arrays += v.empty() ? "0};\n" : "};\n";
      return p + name;
    };
    f += Field("n_inputs", std::to_string(node.inputs.size()));
    f += Field("src", list("const int", "src", src));
    f += Field("gather", list("const int32_t* const", "gathers", gathers));
    f += Field("captured", list("const int16_t* const", "captureds", captured));
    f += Field("in_numel", list("const long", "in_numel", numel));
    f += Field("in_shape", list("const long", "in_shape", shapes));
    f += Field("in_zp", list("const int32_t", "in_zp", zps));

    // The output and LibTorch's values of it.
    const std::vector<int64_t>& out_shape = node.role == NodeRole::kDequantize ? node.inputs[0].shape : node.output.shape;
    std::vector<int64_t> out4 = Pad4(out_shape);
    if (out4.empty()) out4 = {0, 0, 0, 0};
    f += Field("out_shape", "{" + std::to_string(out4[0]) + ", " + std::to_string(out4[1]) + ", " +
                                std::to_string(out4[2]) + ", " + std::to_string(out4[3]) + "}");
    f += Field("out_numel", std::to_string(ShapeElements(out_shape)));
    json output = {{"shape", out_shape}};
    if (node.role == NodeRole::kDequantize) {
      std::vector<uint32_t> bits;
      for (float v : node.float_output) bits.push_back(Bits(v));
      CArray(arrays, "uint32_t", p + "expected_f32", bits, "0x%08" PRIx32 "u");
      f += Field("expected_f32", p + "expected_f32");
    } else {
      CArray(arrays, "int16_t", p + "expected", node.output.values, "%d");
      f += Field("expected", p + "expected");
      output["scale"] = node.output.scales[0];
      output["zero_point"] = node.output.zero_points[0];
      output["dtype"] = DTypeName(node.output.dtype);
      const QuantRange r = TypeRange(node.output.dtype);
      f += Field("y_zp", std::to_string(node.output.zero_points[0]));
      f += Field("qmin", std::to_string(r.qmin)) + Field("qmax", std::to_string(r.qmax));
      f += Field("type_min", std::to_string(r.qmin));
    }
    f += Field("channels_last", l.channels_last && out_shape.size() == 4 ? "1" : "0");

    // The arithmetic: the engine recipe's C form.
    const OpRecipeDef* recipe = node.role == NodeRole::kLayer && !IsGemmOp(l.op) ? FindOpRecipe(check.engine_recipe) : nullptr;
    if (node.role == NodeRole::kQuantize) {
      c.kind = "QDIFF_NODE_QUANTIZE";
      std::vector<uint32_t> bits;
      for (float v : node.float_input) bits.push_back(Bits(v));
      CArray(arrays, "uint32_t", p + "x_f32", bits, "0x%08" PRIx32 "u");
      const float inv = 1.0f / static_cast<float>(node.output.scales[0]);  // QuantizeValDoubleSum
      f += Field("x_f32", p + "x_f32") + Field("inv", Hex(Bits(inv)));
      params = {{"inv_scale_bits", Bits(inv)}, {"reads_model_input", node.reads_model_input}};
    } else if (node.role == NodeRole::kDequantize) {
      c.kind = "QDIFF_NODE_DEQUANTIZE";
      f += Field("inv", Hex(Bits(static_cast<float>(node.inputs[0].scales[0]))));
    } else if ((l.op == OpKind::kConv2d || l.op == OpKind::kLinear) && check.layer_case) {
      c.kind = "QDIFF_NODE_GEMM";
      const Geometry g = GeometryOf(node);
      const Requant q = RequantOf(check, node);
      const int j = ex.exported;
      const std::string lp = "L" + std::to_string(j) + "_";
      const ConvAttrs& a = l.conv;
      json schemes = json::object();
      for (size_t s = 0; s < mc.schemes.size() && s < check.scheme_mismatches.size(); ++s) {
        schemes[GetScheme(mc.schemes[s]).name] = check.scheme_mismatches[s];
      }
      layers.push_back({
          {"index", check.node},
          {"node", k},
          {"module", node.module_path},
          {"op", LayerOpName(l)},
          {"input", {{"shape", node.inputs[0].shape}, {"dtype", DTypeName(node.inputs[0].dtype)},
                     {"scale", node.inputs[0].scales[0]}, {"zero_point", node.inputs[0].zero_points[0]}}},
          {"weight", {{"shape", l.weight.shape}, {"axis", l.weight.axis}, {"scales", q.s_w},
                      {"zero_points", q.w_zp}, {"values", l.weight.values}}},
          {"conv", {{"stride", {a.stride[0], a.stride[1]}}, {"padding", {a.padding[0], a.padding[1]}},
                    {"dilation", {a.dilation[0], a.dilation[1]}}, {"groups", a.groups}}},
          {"output", {{"shape", node.out_shape}, {"dtype", DTypeName(l.out_dtype)}, {"scale", l.out_scale},
                      {"zero_point", l.out_zero_point}, {"qmin", q.qmin}, {"qmax", q.qmax}}},
          {"requant", {{"recipe", q.recipe},
                       {"bias_form", q.zp_before_rounding ? "float (ideep: b * (1/s_x * 1/s_w))" : "int32 (QuantizeBias)"},
                       {"bias_int32", q.bias_int32}, {"bias_float", q.bias_float},
                       {"bias_float_bits", AllBits(q.bias_float)},
                       {"multiplier_float", q.multiplier}, {"multiplier_float_bits", AllBits(q.multiplier)},
                       {"q31_multiplier", q.m0}, {"q31_shift", q.shift},
                       {"rounding", "half_even"},
                       {"zero_point_order", q.zp_before_rounding ? "before_rounding" : "after_rounding"},
                       {"overflow", q.overflow_gives_qmin ? "cvtps2dq_indefinite_gives_qmin" : "saturate"}}},
          {"mismatches_on_captured_input", schemes},
      });
      std::vector<int32_t> w8(l.weight.values.begin(), l.weight.values.end());
      CArray(arrays, "int8_t", lp + "w", w8, "%d");
      CArray(arrays, "int32_t", lp + "w_zp", q.w_zp, "%d");
      CArray(arrays, "int32_t", lp + "bias_int32", q.bias_int32, "%d");
      CArray(arrays, "uint32_t", lp + "bias_f32", AllBits(q.bias_float), "0x%08" PRIx32 "u");
      CArray(arrays, "uint32_t", lp + "mult_f32", AllBits(q.multiplier), "0x%08" PRIx32 "u");
      CArray(arrays, "int32_t", lp + "m0", q.m0, "%d");
      CArray(arrays, "int32_t", lp + "shift", q.shift, "%d");
      char row[512];
      std::snprintf(row, sizeof row,
                    "  {\"%s\", \"%s\", %lld,%lld,%lld,%lld, %lld,%lld,%lld, %lld,%lld, %lld,%lld, %lld,%lld, %lld,%lld, "
                    "%lld, %d, %sw, %sw_zp, %sbias_int32, %sbias_f32, %smult_f32, %sm0, %sshift, "
                    "%d, %d, %d, %d, %d},\n",
                    node.module_path.c_str(), LayerOpName(l).c_str(), (long long)g.n, (long long)g.c,
                    (long long)g.h, (long long)g.w, (long long)g.oc, (long long)g.kh, (long long)g.kw,
                    (long long)a.stride[0], (long long)(l.op == OpKind::kLinear ? 1 : a.stride[1]),
                    (long long)(l.op == OpKind::kLinear ? 0 : a.padding[0]),
                    (long long)(l.op == OpKind::kLinear ? 0 : a.padding[1]),
                    (long long)a.dilation[0], (long long)(l.op == OpKind::kLinear ? 1 : a.dilation[1]),
                    (long long)g.oh, (long long)g.ow, (long long)a.groups, node.inputs[0].zero_points[0],
                    lp.c_str(), lp.c_str(), lp.c_str(), lp.c_str(), lp.c_str(), lp.c_str(), lp.c_str(),
                    l.out_zero_point, q.qmin, q.qmax, q.zp_before_rounding ? 1 : 0,
                    q.overflow_gives_qmin ? 1 : 0);
      layer_table += row;
      f += Field("gemm", "&qdiff_layers[" + std::to_string(j) + "]");
      params = {{"layer", j}};
      ++ex.exported;
    } else if (IsGemmOp(l.op)) {
      c.why = LayerOpName(l) + " is not in the header's conv2d/linear form";
    } else if (l.op == OpKind::kFlatten) {
      c.kind = "QDIFF_NODE_COPY";
    } else if (recipe == nullptr) {
      c.why = "no recipe " + check.engine_recipe;
    } else if (IsUnaryElementwise(l.op)) {
      c.kind = "QDIFF_NODE_LUT";
      const ElementTables t = UnaryRecipeTables(*recipe, l, node.inputs[0]);
      CArray(arrays, "int16_t", p + "lut_vec", t.vector, "%d");
      CArray(arrays, "int16_t", p + "lut_tail", t.tail, "%d");
      f += Field("lut_vec", p + "lut_vec") + Field("lut_tail", p + "lut_tail");
      params = {{"table_vector_lanes", t.vector}, {"table_tail", t.tail}};
    } else if (l.op == OpKind::kCat) {
      c.kind = "QDIFF_NODE_CAT";
      std::vector<int32_t> vec, tail;
      std::vector<std::string> along;
      for (size_t i = 0; i < node.inputs.size(); ++i) {
        const ElementTables t = CatRecipeTables(*recipe, l, node.inputs, i);
        vec.insert(vec.end(), t.vector.begin(), t.vector.end());
        tail.insert(tail.end(), t.tail.begin(), t.tail.end());
        along.push_back(std::to_string(t.vector_along));
      }
      CArray(arrays, "int16_t", p + "lut_vec", vec, "%d");
      CArray(arrays, "int16_t", p + "lut_tail", tail, "%d");
      f += Field("lut_vec", p + "lut_vec") + Field("lut_tail", p + "lut_tail");
      f += Field("vec_along", list("const long", "vec_along", along));
      f += Field("cat_dim", std::to_string(l.cat_dim + 4 - static_cast<int64_t>(out_shape.size())));
      params = {{"dim", l.cat_dim}, {"tables_vector_lanes", vec}, {"tables_tail", tail}};
    } else if (l.op == OpKind::kAdd || l.op == OpKind::kMul) {
      const QuantRange r = TypeRange(node.output.dtype);
      const int32_t lo = l.relu ? std::max(r.qmin, node.output.zero_points[0]) : r.qmin;
      const std::optional<AddFixedPoint> fixed = l.op == OpKind::kAdd ? AddRecipeFixedPoint(*recipe, l, node.inputs) : std::nullopt;
      const std::optional<float> mult = l.op == OpKind::kMul ? MulRecipeMultiplier(*recipe, l, node.inputs) : std::nullopt;
      if (fixed && fixed->shift > 0 && fixed->shift < 32) {
        c.kind = "QDIFF_NODE_ADD_FIXED";
        f += Field("a_mult", std::to_string(fixed->a_mult)) + Field("b_mult", std::to_string(fixed->b_mult)) +
             Field("shift", std::to_string(fixed->shift)) +
             Field("rounding", fixed->half_away ? "QDIFF_ROUND_HALF_AWAY" : "QDIFF_ROUND_HALF_UP");
        f += Field("qmin", std::to_string(lo));
        params = {{"a_multiplier", fixed->a_mult}, {"b_multiplier", fixed->b_mult}, {"shift", fixed->shift},
                  {"rounding", fixed->half_away ? "half_away_from_zero" : "half_up"}, {"qmin", lo}};
      } else if (fixed) {
        c.why = "shift " + std::to_string(fixed->shift) + " outside [1, 31] (LibTorch's shift-count bug path)";
      } else if (check.engine_recipe == "add.default_fp32") {
        c.kind = "QDIFF_NODE_ADD_F32";
        const QTensor& a = node.inputs[0];
        const QTensor& b = node.inputs[1];
        const float inv = 1.0f / static_cast<float>(node.output.scales[0]);
        f += Field("a_scale", Hex(Bits(static_cast<float>(a.scales[0])))) +
             Field("a_premul", Hex(Bits(DequantFmaPremul(a.scales[0], a.zero_points[0])))) +
             Field("b_scale", Hex(Bits(static_cast<float>(b.scales[0])))) +
             Field("b_premul", Hex(Bits(DequantFmaPremul(b.scales[0], b.zero_points[0])))) +
             Field("inv", Hex(Bits(inv))) + Field("relu", l.relu ? "1" : "0");
        params = {{"inv_scale_bits", Bits(inv)}, {"relu", l.relu}};
      } else if (mult) {
        c.kind = "QDIFF_NODE_MUL_F32";
        f += Field("mult", Hex(Bits(*mult))) + Field("qmin", std::to_string(lo));
        params = {{"multiplier_bits", Bits(*mult)}, {"qmin", lo}};
      } else {
        c.why = "no C form for " + check.engine_recipe;
      }
    } else if (l.op == OpKind::kMaxPool2d && check.engine_recipe == "max_pool2d.exact") {
      c.kind = "QDIFF_NODE_MAX_POOL";
      const PoolAttrs& pa = l.pool;
      f += Field("kh", std::to_string(pa.kernel[0])) + Field("kw", std::to_string(pa.kernel[1])) +
           Field("sh", std::to_string(pa.stride[0])) + Field("sw", std::to_string(pa.stride[1])) +
           Field("ph", std::to_string(pa.padding[0])) + Field("pw", std::to_string(pa.padding[1])) +
           Field("dh", std::to_string(pa.dilation[0])) + Field("dw", std::to_string(pa.dilation[1]));
      params = {{"kernel", pa.kernel}, {"stride", pa.stride}, {"padding", pa.padding}, {"dilation", pa.dilation}};
    } else if (l.op == OpKind::kAdaptiveAvgPool2d && out4[2] > 0) {
      const std::string& name = check.engine_recipe;
      const QTensor& x = node.inputs[0];
      const OutputQParams oq = LayerOutputQParams(l, x);
      const int64_t H = x.shape[2], W = x.shape[3], OH = out4[2], OW = out4[3];
      std::vector<int32_t> wy, wx;
      std::vector<uint32_t> m;
      for (int64_t o = 0; o < OH; ++o) {
        const AvgSpan s = AdaptiveWindow(o, H, OH);
        wy.insert(wy.end(), {static_cast<int32_t>(s.start), static_cast<int32_t>(s.end)});
      }
      for (int64_t o = 0; o < OW; ++o) {
        const AvgSpan s = AdaptiveWindow(o, W, OW);
        wx.insert(wx.end(), {static_cast<int32_t>(s.start), static_cast<int32_t>(s.end)});
      }
      std::string mean;
      for (int64_t oy = 0; oy < OH; ++oy) {
        for (int64_t ox = 0; ox < OW; ++ox) {
          const int64_t kh = wy[2 * oy + 1] - wy[2 * oy], kw = wx[2 * ox + 1] - wx[2 * ox];
          if (name == "adaptive_avg_pool2d.qnnpack") {
            mean = "QDIFF_MEAN_QNNPACK";
            m.push_back(Bits(QnnpackMeanMultiplier((H / OH) * (W / OW), x, oq)));
          } else if (name == "adaptive_avg_pool2d.nhwc_fp32") {
            mean = "QDIFF_MEAN_QUANTIZE_VAL";  // quantize_val(1.0f/m): inv = f32(1/f32(1/m))
            m.push_back(Bits(1.0f / (1.0f / NhwcMultiplier(kh * kw, x, oq))));
          } else if (name == "adaptive_avg_pool2d.nchw_fp32") {
            mean = "QDIFF_MEAN_RAW";
            m.push_back(Bits(AdaptiveNchwReciprocal(kh, kw)));
          }
        }
      }
      if (mean.empty()) {
        c.why = "no C form for " + name;
      } else {
        c.kind = "QDIFF_NODE_AVG_POOL";
        CArray(arrays, "int32_t", p + "win_y", wy, "%d");
        CArray(arrays, "int32_t", p + "win_x", wx, "%d");
        CArray(arrays, "uint32_t", p + "win_mult", m, "0x%08" PRIx32 "u");
        f += Field("mean", mean) + Field("win_y", p + "win_y") + Field("win_x", p + "win_x") +
             Field("win_mult", p + "win_mult");
        params = {{"mean", mean}, {"windows_y", wy}, {"windows_x", wx}, {"multiplier_bits", m}};
      }
    } else {
      c.why = "no C form for " + check.engine_recipe;
    }
    if (c.kind == "QDIFF_NODE_LIBTORCH") ex.no_c_form += (ex.no_c_form.empty() ? "" : ", ") + check.op + " at " +
                                                          (node.module_path.empty() ? "(top)" : node.module_path) + " (" + c.why + ")";
    node_table += "  {.module = " + Quoted(node.module_path) + ", .op = " + Quoted(check.op) +
                  ", .recipe = " + Quoted(node.role == NodeRole::kLayer && IsGemmOp(l.op) ? check.engine_scheme : check.engine_recipe) +
                  ", .kind = " + c.kind + ",\n" + f + "  },\n";
    nodes.push_back({{"node", k}, {"index", check.node}, {"module", node.module_path}, {"op", check.op},
                     {"recipe", node.role == NodeRole::kLayer && IsGemmOp(l.op) ? check.engine_scheme : check.engine_recipe},
                     {"c_form", c.kind == "QDIFF_NODE_LIBTORCH" ? json(nullptr) : json(c.kind.substr(11))},
                     {"no_c_form_because", c.why}, {"inputs", inputs}, {"output", output}, {"params", params}});
    ++ex.nodes;
  }
  json doc = {{"format", "qdiff-export"},
              {"version", 2},
              {"model", model_file},
              {"engine", engine},
              {"libtorch_version", LibTorchVersion()},
              {"input_shape", mc.run.input_shape},
              {"nodes", nodes},
              {"layers", layers},
              {"not_exported", ex.skipped},
              {"no_c_form", ex.no_c_form}};
  ex.json = doc.dump(1) + "\n";
  ex.header = "/* qdiff export of " + model_file + " for " + engine +
              " (docs/export.md). Generated; do not edit.\n"
              " * The model's quantized graph: every checked node in graph order with its inputs'\n"
              " * producers, its parameters as the engine forms them and LibTorch's int_repr() output. */\n"
              "#ifndef QDIFF_EXPORT_H\n#define QDIFF_EXPORT_H\n#include <stdint.h>\n\n"
              "typedef struct {\n"
              "  const char* module; const char* op;\n"
              "  long n, c, h, w, oc, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, groups; /* linear: 1x1 conv */\n"
              "  int32_t x_zp;\n"
              "  const int8_t* weight; const int32_t* w_zp;\n"
              "  const int32_t* bias_int32;   /* qnnpack_fp32: b_q added to the accumulator */\n"
              "  const uint32_t* bias_f32;    /* onednn_fp32: float bias bits, added as f32 */\n"
              "  const uint32_t* mult_f32;    /* the engine's binary32 multiplier bits */\n"
              "  const int32_t* m0; const int32_t* shift;  /* Q31 form: M ~ m0 * 2^(shift-31) */\n"
              "  int32_t y_zp, qmin, qmax;    /* qmin already max(qmin, y_zp) for a fused ReLU */\n"
              "  int zp_before_rounding;       /* 1: onednn_fp32 order */\n"
              "  int overflow_gives_qmin;      /* 1: cvtps2dq's INT32_MIN for |t| >= 2^31 */\n"
              "} qdiff_layer;\n\n" +
              k_soft_binary32_c_text + "\n" + k_export_requant_c_text + "\n" + k_export_graph_c_text + "\n" +
              arrays + "\n#define QDIFF_ENGINE \"" + engine + "\"\n#define QDIFF_NUM_LAYERS " +
              std::to_string(ex.exported) + "\nstatic const qdiff_layer qdiff_layers[" +
              std::to_string(std::max(1, ex.exported)) + "] = {\n" + layer_table + "};\n" +
              "#define QDIFF_NUM_NODES " + std::to_string(ex.nodes) + "\nstatic const qdiff_node qdiff_nodes[" +
              std::to_string(std::max(1, ex.nodes)) + "] = {\n" + node_table + "};\n#endif\n";
  return ex;
}

}  // namespace qdiff
