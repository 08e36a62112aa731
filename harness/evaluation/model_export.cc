#include "harness/evaluation/model_export.h"

#include <nlohmann/json.hpp>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "harness/case/provenance.h"
#include "harness/evaluation/engines.h"
#include "harness/torch/libtorch_runner.h"
#include "oracles/recipe.h"
#include "export_requant_c_text.h"   // generated from harness/evaluation/export_requant_c.h
#include "soft_binary32_c_text.h"    // generated from oracles/soft_binary32_c.h

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

}  // namespace

ModelExport ExportModel(const ModelCheck& mc, const std::string& model_file) {
  if (mc.run.rejected) throw std::invalid_argument(model_file + ": " + mc.run.message);
  ModelExport ex;
  const std::string engine = EngineName(mc.run.engine);
  json layers = json::array();
  std::string arrays, table;
  for (const ModelNodeCheck& check : mc.checks) {
    const CapturedNode& node = mc.run.nodes[check.node];
    const Layer& l = node.layer;
    if (!check.layer_case || !(l.op == OpKind::kConv2d || l.op == OpKind::kLinear)) {
      ex.skipped += (ex.skipped.empty() ? "" : ", ") + check.op + " at " +
                    (node.module_path.empty() ? "(top)" : node.module_path);
      continue;
    }
    const Geometry g = GeometryOf(node);
    const Requant q = RequantOf(check, node);
    json schemes = json::object();
    for (size_t s = 0; s < mc.schemes.size() && s < check.scheme_mismatches.size(); ++s) {
      schemes[GetScheme(mc.schemes[s]).name] = check.scheme_mismatches[s];
    }
    const ConvAttrs& a = l.conv;
    json j = {
        {"index", check.node},
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
    };
    layers.push_back(j);

    const std::string p = "L" + std::to_string(ex.exported) + "_";
    std::vector<int32_t> w8(l.weight.values.begin(), l.weight.values.end());
    CArray(arrays, "int16_t", p + "x", node.inputs[0].values, "%d");
    CArray(arrays, "int8_t", p + "w", w8, "%d");
    CArray(arrays, "int32_t", p + "w_zp", q.w_zp, "%d");
    CArray(arrays, "int32_t", p + "bias_int32", q.bias_int32, "%d");
    CArray(arrays, "uint32_t", p + "bias_f32", AllBits(q.bias_float), "0x%08" PRIx32 "u");
    CArray(arrays, "uint32_t", p + "mult_f32", AllBits(q.multiplier), "0x%08" PRIx32 "u");
    CArray(arrays, "int32_t", p + "m0", q.m0, "%d");
    CArray(arrays, "int32_t", p + "shift", q.shift, "%d");
    CArray(arrays, "int16_t", p + "expected", node.output.values, "%d");
    char row[512];
    std::snprintf(row, sizeof row,
                  "  {\"%s\", \"%s\", %lld,%lld,%lld,%lld, %lld,%lld,%lld, %lld,%lld, %lld,%lld, %lld,%lld, %lld,%lld, "
                  "%lld, %d, %sx, %sw, %sw_zp, %sbias_int32, %sbias_f32, %smult_f32, %sm0, %sshift, "
                  "%d, %d, %d, %d, %d, %sexpected},\n",
                  node.module_path.c_str(), LayerOpName(l).c_str(), (long long)g.n, (long long)g.c,
                  (long long)g.h, (long long)g.w, (long long)g.oc, (long long)g.kh, (long long)g.kw,
                  (long long)a.stride[0], (long long)(l.op == OpKind::kLinear ? 1 : a.stride[1]),
                  (long long)(l.op == OpKind::kLinear ? 0 : a.padding[0]),
                  (long long)(l.op == OpKind::kLinear ? 0 : a.padding[1]),
                  (long long)a.dilation[0], (long long)(l.op == OpKind::kLinear ? 1 : a.dilation[1]),
                  (long long)g.oh, (long long)g.ow, (long long)a.groups, node.inputs[0].zero_points[0],
                  p.c_str(), p.c_str(), p.c_str(), p.c_str(), p.c_str(), p.c_str(), p.c_str(), p.c_str(),
                  l.out_zero_point, q.qmin, q.qmax, q.zp_before_rounding ? 1 : 0,
                  q.overflow_gives_qmin ? 1 : 0, p.c_str());
    table += row;
    ++ex.exported;
  }
  json doc = {{"format", "qdiff-export"},
              {"version", 1},
              {"model", model_file},
              {"engine", engine},
              {"libtorch_version", LibTorchVersion()},
              {"input_shape", mc.run.input_shape},
              {"layers", layers},
              {"not_exported", ex.skipped}};
  ex.json = doc.dump(1) + "\n";
  ex.header = "/* qdiff export of " + model_file + " for " + engine +
              " (docs/export.md). Generated; do not edit.\n"
              " * Per conv2d/linear layer: LibTorch's captured input x (int_repr), int8 weights, the\n"
              " * requantization as the engine does it, and LibTorch's int_repr() output. */\n"
              "#ifndef QDIFF_EXPORT_H\n#define QDIFF_EXPORT_H\n#include <stdint.h>\n\n"
              "typedef struct {\n"
              "  const char* module; const char* op;\n"
              "  long n, c, h, w, oc, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, groups; /* linear: 1x1 conv */\n"
              "  int32_t x_zp;\n"
              "  const int16_t* x; const int8_t* weight; const int32_t* w_zp;\n"
              "  const int32_t* bias_int32;   /* qnnpack_fp32: b_q added to the accumulator */\n"
              "  const uint32_t* bias_f32;    /* onednn_fp32: float bias bits, added as f32 */\n"
              "  const uint32_t* mult_f32;    /* the engine's binary32 multiplier bits */\n"
              "  const int32_t* m0; const int32_t* shift;  /* Q31 form: M ~ m0 * 2^(shift-31) */\n"
              "  int32_t y_zp, qmin, qmax;    /* qmin already max(qmin, y_zp) for a fused ReLU */\n"
              "  int zp_before_rounding;       /* 1: onednn_fp32 order */\n"
              "  int overflow_gives_qmin;      /* 1: cvtps2dq's INT32_MIN for |t| >= 2^31 */\n"
              "  const int16_t* expected;      /* LibTorch int_repr() inside the model */\n"
              "} qdiff_layer;\n\n" +
              k_soft_binary32_c_text + "\n" + k_export_requant_c_text + "\n" + arrays + "\n#define QDIFF_ENGINE \"" + engine + "\"\n#define QDIFF_NUM_LAYERS " +
              std::to_string(ex.exported) + "\nstatic const qdiff_layer qdiff_layers[" +
              std::to_string(std::max(1, ex.exported)) + "] = {\n" + table + "};\n#endif\n";
  return ex;
}

}  // namespace qdiff
