#include "harness/evaluation/python_reproducer.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "harness/case/provenance.h"
#include "harness/evaluation/case_evaluation.h"
#include "harness/evaluation/engines.h"
#include "oracles/ops/op_recipe.h"
#include "oracles/scheme.h"

namespace qdiff {

bool ReproducerExpectations(const Case& case_in, Engine engine, ReproducerEngine* out,
                            std::string* rejected) {
  // An injected defect is a self-test of qdiff's own recipes, not LibTorch's behaviour: the
  // script compares LibTorch with the real recipe.
  Case c = case_in;
  c.injected_defect.clear();
  const std::vector<DType> dtypes = NodeDTypes(c.model);
  // Scheme of each layer: the engine's own paths for ops without weights; for conv/linear the
  // scheme the classifier calls the engine's (it may depend on the layer's input dtype).
  std::vector<Scheme> schemes = {EngineOwnScheme(engine)};
  std::vector<size_t> scheme_of(c.model.layers.size(), 0);  // index into schemes
  for (size_t l = 0; l < c.model.layers.size(); ++l) {
    const Layer& layer = c.model.layers[l];
    if (!IsGemmOp(layer.op)) continue;
    const int id0 = LayerInputIds(c.model, l).at(0);
    const DType in = id0 < 0 ? c.model.input.dtype : dtypes.at(id0);
    const Scheme s = EngineScheme(engine, layer, CpuHasVnni(), in);
    auto it = std::find(schemes.begin(), schemes.end(), s);
    if (it == schemes.end()) it = schemes.insert(schemes.end(), s);
    scheme_of[l] = static_cast<size_t>(it - schemes.begin());
  }
  const CaseRuns runs = RunCase(c, {engine}, schemes);
  if (runs.libtorch.at(0).rejected) {
    *rejected = runs.libtorch[0].message;
    return false;
  }
  out->engine = engine;
  out->layers.clear();
  for (size_t l = 0; l < c.model.layers.size(); ++l) {
    const LayerTrace& t = runs.pipeline.at(0).at(scheme_of[l]).at(l);
    out->layers.push_back({t.shape, t.out,
                           IsGemmOp(c.model.layers[l].op) ? GetScheme(schemes[scheme_of[l]]).name
                                                          : t.op_recipe->name});
  }
  return true;
}

std::vector<std::string> UpstreamReferences(const std::string& description) {
  // A path ends in a C/C++ extension not followed by a name character; qdiff's own folders are
  // not upstream. An issue reference is owner/repo#N.
  static const std::regex kPath(R"([A-Za-z0-9_][A-Za-z0-9_./+-]*\.(cpp|cc|c|h|hpp)(?![A-Za-z0-9_]))");
  static const std::regex kIssue(R"([A-Za-z0-9_-]+/[A-Za-z0-9_.-]+#[0-9]+)");
  static const char* const kOwnFolders[] = {"harness/", "oracles/", "tests/", "corpora/",
                                            "properties/", "reports/"};
  std::vector<std::string> refs;
  auto add = [&](const std::string& r) {
    for (const char* own : kOwnFolders) {
      if (r.rfind(own, 0) == 0) return;
    }
    for (const std::string& have : refs) {  // the same file again, or its name alone
      if (have == r || (have.size() > r.size() && have.compare(have.size() - r.size() - 1,
                                                               r.size() + 1, "/" + r) == 0)) {
        return;
      }
    }
    refs.push_back(r);
  };
  for (const std::regex* re : {&kPath, &kIssue}) {
    for (auto it = std::sregex_iterator(description.begin(), description.end(), *re);
         it != std::sregex_iterator(); ++it) {
      add(it->str());
    }
  }
  return refs;
}

namespace {

// ---- Python literals --------------------------------------------------------------------------

// A double in its shortest round-trip form (Python reads back the same double).
std::string PyFloat(double v) {
  if (std::isnan(v)) return "float('nan')";
  if (std::isinf(v)) return v > 0 ? "float('inf')" : "float('-inf')";
  std::string s = nlohmann::json(v).dump();
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";  // 2 → 2.0: a float, not an int
  return s;
}

// A Python string literal (JSON string syntax is valid Python).
std::string PyStr(const std::string& s) { return nlohmann::json(s).dump(); }

std::string PyBool(bool b) { return b ? "True" : "False"; }

// "[a, b, ...]", a line break after every `per_line` items, continuation lines indented.
template <typename T, typename F>
std::string PyList(const std::vector<T>& v, F item, const std::string& indent = "",
                   size_t per_line = 24) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += (i % per_line == 0) ? ",\n" + indent + " " : ", ";
    s += item(v[i]);
  }
  return s + "]";
}

template <typename T>
std::string PyInts(const std::vector<T>& v, const std::string& indent = "") {
  return PyList(v, [](T x) { return std::to_string(x); }, indent);
}

std::string PyFloats(const std::vector<double>& v) { return PyList(v, PyFloat); }

// The first n entries of a per-spatial-dimension attribute.
std::string PyDims(const int64_t* v, int n) {
  return PyInts(std::vector<int64_t>(v, v + n));
}

// Text safe inside a """docstring""": printable, backslashes escaped, no triple quote.
std::string DocText(const std::string& s) {
  std::string out;
  for (char ch : s) {
    const unsigned char u = static_cast<unsigned char>(ch);
    if (ch == '\\') out += "\\\\";  // an escaped backslash in the docstring
    else if (u < 0x20 || u == 0x7f) out += ' ';
    else out += ch;
  }
  for (size_t at; (at = out.find("\"\"\"")) != std::string::npos;) out.replace(at, 3, "'''");
  return out;
}

// `text` wrapped at `width` columns, every line starting with `indent`.
std::string Wrapped(const std::string& text, const std::string& indent, size_t width = 96) {
  std::istringstream words(DocText(text));
  std::string out, line;
  for (std::string w; words >> w;) {
    if (!line.empty() && indent.size() + line.size() + 1 + w.size() > width) {
      out += indent + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + w;
  }
  if (!line.empty()) out += indent + line + "\n";
  return out;
}

std::string DTypeExpr(DType d) { return d == DType::kQUInt8 ? "torch.quint8" : "torch.qint8"; }

// The int_repr values: one int for a constant tensor (torch.full in the script), else the list.
std::string ValuesExpr(const std::vector<int32_t>& v, const std::string& indent) {
  if (!v.empty() && std::all_of(v.begin(), v.end(), [&](int32_t x) { return x == v[0]; })) {
    return std::to_string(v[0]);
  }
  return PyInts(v, indent);
}

// A quantized tensor built from its integers (the runner's Quantized()).
std::string QTensorExpr(const QTensor& t, const std::string& indent) {
  if (!t.per_channel()) {
    return "qtensor(" + DTypeExpr(t.dtype) + ", " + PyInts(t.shape) + ", " +
           ValuesExpr(t.values, indent) + ", " + PyFloat(t.scales.at(0)) + ", " +
           std::to_string(t.zero_points.at(0)) + ")";
  }
  return "qtensor_per_channel(" + DTypeExpr(t.dtype) + ", " + PyInts(t.shape) + ", " +
         ValuesExpr(t.values, indent) + ", " + PyFloats(t.scales) + ", " + PyInts(t.zero_points) +
         ", " + std::to_string(t.axis) + ")";
}

// ---- the model: one LibTorch call per layer, as kOpCalls in harness/torch/libtorch_runner.cc --

// Prepack and run of a conv/linear layer (the runner's PrepackTensors and RunPacked).
std::string GemmCall(const Layer& l, const std::string& x) {
  const int rank = ConvSpatialDims(l.op);
  const ConvAttrs& a = l.conv;
  std::string s = "    w = " + QTensorExpr(l.weight, "        ") + "\n";
  if (l.bias) {
    std::vector<double> b(l.bias->begin(), l.bias->end());  // float → double: exact
    s += "    b = torch.tensor(" + PyFloats(b) + ", dtype=torch.float)\n";
  } else {
    s += "    b = None\n";
  }
  const std::string out_q = PyFloat(l.out_scale) + ", " + std::to_string(l.out_zero_point);
  const std::string relu = l.relu ? "_relu" : "";
  switch (l.op) {
    case OpKind::kConv1d:
    case OpKind::kConv2d:
    case OpKind::kConv3d: {
      const std::string name = OpKindName(l.op);
      // conv2d/conv3d: overload "new" (the "" overload is the legacy signature); conv1d: "".
      const std::string overload = l.op == OpKind::kConv1d ? "default" : "new";
      s += "    packed = torch.ops.quantized." + name + "_prepack(w, b, " + PyDims(a.stride, rank) +
           ", " + PyDims(a.padding, rank) + ", " + PyDims(a.dilation, rank) + ", " +
           std::to_string(a.groups) + ")\n";
      s += "    outs.append(torch.ops.quantized." + name + relu + "." + overload + "(" + x +
           ", packed, " + out_q + "))\n";
      return s;
    }
    case OpKind::kConvTranspose2d:
      s += "    packed = torch.ops.quantized.conv_transpose2d_prepack(w, b, " +
           PyDims(a.stride, rank) + ", " + PyDims(a.padding, rank) + ", " +
           PyDims(a.output_padding, rank) + ", " + PyDims(a.dilation, rank) + ", " +
           std::to_string(a.groups) + ")\n";
      s += "    outs.append(torch.ops.quantized.conv_transpose2d.default(" + x + ", packed, " +
           out_q + "))\n";
      return s;
    case OpKind::kLinear:
      s += "    packed = torch.ops.quantized.linear_prepack(w, b)\n";
      s += "    outs.append(torch.ops.quantized.linear" + relu + ".default(" + x + ", packed, " +
           out_q + "))\n";
      return s;
    default:
      throw std::logic_error(std::string("GemmCall: not a GEMM op: ") + OpKindName(l.op));
  }
}

// The expression of a layer without weights on its inputs `in` (already in the layer's layout).
std::string OpExpr(const Layer& l, const std::vector<std::string>& in) {
  const PoolAttrs& p = l.pool;
  const std::string out_q = PyFloat(l.out_scale) + ", " + std::to_string(l.out_zero_point);
  const std::string relu = l.relu ? "_relu" : "";
  auto f = [](float v) { return PyFloat(static_cast<double>(v)); };  // the float, exactly
  switch (l.op) {
    case OpKind::kAdd:
      return "torch.ops.quantized.add" + relu + ".default(" + in.at(0) + ", " + in.at(1) + ", " + out_q + ")";
    case OpKind::kMul:
      return "torch.ops.quantized.mul" + relu + ".default(" + in.at(0) + ", " + in.at(1) + ", " + out_q + ")";
    case OpKind::kCat: {
      std::string list;
      for (const std::string& x : in) list += (list.empty() ? "" : ", ") + x;
      return "torch.ops.quantized.cat.default([" + list + "], " + std::to_string(l.cat_dim) +
             ", " + out_q + ")";
    }
    case OpKind::kMaxPool2d:  // at::max_pool2d → quantized_max_pool2d
      return "F.max_pool2d(" + in.at(0) + ", " + PyDims(p.kernel, 2) + ", " + PyDims(p.stride, 2) +
             ", " + PyDims(p.padding, 2) + ", " + PyDims(p.dilation, 2) +
             ", ceil_mode=" + PyBool(p.ceil_mode) + ")";
    case OpKind::kAvgPool2d:  // divisor_override 0 means None
      return "F.avg_pool2d(" + in.at(0) + ", " + PyDims(p.kernel, 2) + ", " + PyDims(p.stride, 2) +
             ", " + PyDims(p.padding, 2) + ", ceil_mode=" + PyBool(p.ceil_mode) +
             ", count_include_pad=" + PyBool(p.count_include_pad) + ", divisor_override=" +
             (p.divisor_override == 0 ? "None" : std::to_string(p.divisor_override)) + ")";
    case OpKind::kAdaptiveAvgPool2d:
      return "F.adaptive_avg_pool2d(" + in.at(0) + ", " + PyDims(p.output_size, 2) + ")";
    case OpKind::kRelu: return "torch.relu(" + in.at(0) + ")";
    case OpKind::kRelu6: return "F.hardtanh(" + in.at(0) + ", 0.0, 6.0)";  // at::hardtanh(x, 0, 6)
    case OpKind::kHardtanh:
      return "F.hardtanh(" + in.at(0) + ", " + f(l.act.min_value) + ", " + f(l.act.max_value) + ")";
    case OpKind::kClamp:
      return "torch.clamp(" + in.at(0) + ", " + f(l.act.min_value) + ", " + f(l.act.max_value) + ")";
    case OpKind::kSigmoid: return "torch.sigmoid(" + in.at(0) + ")";
    case OpKind::kHardswish:
      return "torch.ops.quantized.hardswish.default(" + in.at(0) + ", " + out_q + ")";
    case OpKind::kLeakyRelu:
      return "torch.ops.quantized.leaky_relu.default(" + in.at(0) + ", " +
             f(l.act.negative_slope) + ", False, " + out_q + ")";
    case OpKind::kFlatten: return "torch.flatten(" + in.at(0) + ", 1)";  // nn.Flatten()
    case OpKind::kHardsigmoid: return "F.hardsigmoid(" + in.at(0) + ")";
    case OpKind::kMean:
      return "torch.mean(" + in.at(0) + ", " + PyDims(l.mean.dims, 2) + ", keepdim=" +
             PyBool(l.mean.keepdim) + ")";
    default:
      throw std::logic_error(std::string("OpExpr: no Python call for ") + OpKindName(l.op));
  }
}

std::string ModelFunction(const Model& m) {
  std::string s =
      "def model(outs):\n"
      "    \"\"\"The case's graph on the current engine. Layer l reads the model input or LibTorch's\n"
      "    own outputs of earlier layers, in the layer's layout; appends its output to outs.\"\"\"\n"
      "    x = " + QTensorExpr(m.input, "        ") + "\n";
  // Further graph inputs (node −2, −3, …: a real model's second operand) are x2, x3, …
  for (size_t k = 0; k < m.extra_inputs.size(); ++k) {
    s += "    x" + std::to_string(k + 2) + " = " + QTensorExpr(m.extra_inputs[k], "        ") + "\n";
  }
  for (size_t l = 0; l < m.layers.size(); ++l) {
    const Layer& layer = m.layers[l];
    std::vector<std::string> in;
    for (int id : LayerInputIds(m, l)) {
      const std::string node = id == -1 ? std::string("x")
                               : id < 0   ? "x" + std::to_string(-id)
                                          : "outs[" + std::to_string(id) + "]";
      in.push_back("layout(" + node +
                   ", " + PyBool(layer.channels_last) + ")");
    }
    s += "    # layer " + std::to_string(l) + ": " + LayerOpName(layer) +
         (layer.channels_last ? ", channels_last" : "") + "\n";
    s += IsGemmOp(layer.op) ? GemmCall(layer, in.at(0))
                            : "    outs.append(" + OpExpr(layer, in) + ")\n";
  }
  return s;
}

std::string ExpectedTable(const Case& c, const std::vector<ReproducerEngine>& engines) {
  std::string s = "EXPECTED = {\n";
  for (const ReproducerEngine& e : engines) {
    s += "    " + PyStr(EngineName(e.engine)) + ": [\n";
    for (size_t l = 0; l < e.layers.size(); ++l) {
      const ReproducerLayer& r = e.layers[l];
      s += "        {\"op\": " + PyStr(LayerOpName(c.model.layers[l])) +
           ", \"recipe\": " + PyStr(r.recipe) + ", \"shape\": " + PyInts(r.shape) + ",\n" +
           "         \"values\": " + PyInts(r.values, "         ") + "},\n";
    }
    s += "    ],\n";
  }
  return s + "}\n";
}

std::string Header(const Case& c, const std::vector<ReproducerEngine>& engines,
                   const ReproducerInfo& info) {
  std::string engine_names;
  for (const ReproducerEngine& e : engines) {
    engine_names += (engine_names.empty() ? "" : ", ") + std::string(EngineName(e.engine));
  }
  std::string s = "#!/usr/bin/python3\n\"\"\"Reproducer for " + DocText(info.case_path) +
                  "\n(case " + DocText(c.id) + "; engines " + engine_names + ").\n\n";
  s += "What is wrong (the case's description";
  s += c.expected_verdict.empty() ? "" : "; qdiff's expected verdict: " + DocText(c.expected_verdict);
  s += "):\n" + Wrapped(c.description.empty() ? "(no description)" : c.description, "    ") + "\n";
  const std::vector<std::string> refs = UpstreamReferences(c.description);
  if (!refs.empty()) {
    s += "Upstream source named by the case:\n";
    for (const std::string& r : refs) s += "    " + DocText(r) + "\n";
    s += "\n";
  }
  const std::vector<std::string> flags = RequiredCpuFlags(c.description);
  if (!flags.empty()) {
    std::string list;
    for (const std::string& f : flags) list += (list.empty() ? "" : " ") + f;
    s += "Requires CPU flags: " + DocText(list) + " (checked in /proc/cpuinfo; exit 2 without them\n"
         "or under an ISA cap, DNNL_MAX_CPU_ISA / ONEDNN_MAX_CPU_ISA).\n\n";
  }
  s += "Made for LibTorch " + DocText(info.libtorch_version) +
       " as its headers report it (Debian 12's 1.13.1+dfsg reports 1.13.0,\n"
       "and its python3-torch says torch.__version__ 1.13.0a0) by " + DocText(info.made_by) +
       ".\n\n";
  s += "Expected values: qdiff's recipe of each engine, computed by `qdiff reproduce` with the\n"
       "evaluation `qdiff replay` uses (layer l fed LibTorch's own outputs of its input layers):\n"
       "conv/linear layers by the engine's scheme, the other ops by the engine path's op recipe\n"
       "(the intended op, never a recipe that models a LibTorch bug):\n";
  for (const ReproducerEngine& e : engines) {
    for (size_t l = 0; l < e.layers.size(); ++l) {
      s += "    " + std::string(EngineName(e.engine)) + " layer " + std::to_string(l) + " " +
           LayerOpName(c.model.layers[l]) + ": " + DocText(e.layers[l].recipe) + "\n";
    }
  }
  s += "\nThe tensors are built from their int_repr values (no float is quantized); each engine's\n"
       "model runs with one intra-op thread, ideep engines (onednn, x86) on a fresh thread, as\n"
       "qdiff's runner does: ideep's primitive cache is per thread, so a result depends on this\n"
       "model's own calls, in this order, on one thread.\n\n";
  if (info.repeat > 1) {
    s += "Each engine's model runs up to " + std::to_string(info.repeat) +
         " times (qdiff reproduce --repeat), each run a new call as a\n"
         "program's repeated forward pass: the bug shows only once earlier calls have left state\n"
         "behind (e.g. memory a kernel reads without writing it). The first run that differs is\n"
         "reported.\n\n";
  }
  s += "Run (needs only torch; Debian 12: apt-get install python3-torch):\n"
       "    /usr/bin/python3 " + DocText(info.script_path.empty() ? "THIS_SCRIPT.py" : info.script_path) +
       "\n"
       "Prints, per engine and layer, whether LibTorch's int_repr agrees with the expected values,\n"
       "and each differing element (at most MAX_SHOWN per layer). Exit 1 while LibTorch disagrees\n"
       "(the bug is present), 0 when every layer agrees, 2 on a setup error (no torch, engine not\n"
       "in this build, CPU without a required flag).\n\"\"\"\n";
  return s;
}

// The engine-independent part of the script: imports, tensor builders, runner and comparison.
constexpr const char* kPrelude = R"PY(import os
import sys
import threading

try:
    import torch
    import torch.nn.functional as F
except ImportError as e:
    sys.stderr.write(f"setup error: needs torch ({e}); run with /usr/bin/python3 "
                     "(Debian 12: apt-get install python3-torch)\n")
    sys.exit(2)

MAX_SHOWN = 16  # differing elements printed per layer
INT_DTYPE = {torch.quint8: torch.uint8, torch.qint8: torch.int8}


def ints(qdtype, shape, values):
    """The int_repr tensor: `values` in row-major order, or one int for a constant tensor."""
    if isinstance(values, int):
        return torch.full(shape, values, dtype=INT_DTYPE[qdtype])
    return torch.tensor(values, dtype=INT_DTYPE[qdtype]).reshape(shape)


def qtensor(qdtype, shape, values, scale, zero_point):
    """Per-tensor quantized tensor from its integers: real value = scale * (q - zero_point)."""
    return torch._make_per_tensor_quantized_tensor(ints(qdtype, shape, values), scale, zero_point)


def qtensor_per_channel(qdtype, shape, values, scales, zero_points, axis):
    """Per-channel quantized tensor from its integers, one scale/zero point per index of axis."""
    return torch._make_per_channel_quantized_tensor(
        ints(qdtype, shape, values), torch.tensor(scales, dtype=torch.double),
        torch.tensor(zero_points, dtype=torch.long), axis)


def layout(t, channels_last):
    """The layout a layer is given: 4-D channels-last if the case says so, else contiguous.
    Layouts select kernels; values are unchanged."""
    if channels_last and t.dim() == 4:
        return t.contiguous(memory_format=torch.channels_last)
    return t.contiguous()
)PY";

constexpr const char* kMain = R"PY(

def required_cpu_flags_missing():
    """The required CPU flags this machine lacks, or a note on an ISA cap; '' when fine."""
    if not REQUIRED_CPU_FLAGS:
        return ""
    for var in ("DNNL_MAX_CPU_ISA", "ONEDNN_MAX_CPU_ISA"):
        if os.environ.get(var):
            return f"{var} caps the instruction set"
    try:
        with open("/proc/cpuinfo") as f:
            have = set(next((l for l in f if l.startswith("flags")), ":").split(":", 1)[1].split())
    except OSError:
        return "/proc/cpuinfo unreadable"
    missing = [flag for flag in REQUIRED_CPU_FLAGS if flag not in have]
    return f"this CPU lacks {' '.join(missing)}" if missing else ""


def run_engine(engine):
    """Sets the engine (before prepacking: it is fixed then) and runs the model. Returns the
    layers' outputs and the exception LibTorch raised, if any."""
    outs, error = [], []

    def body():
        try:
            torch.set_num_threads(1)  # OpenMP's thread count is per thread (at::init_num_threads)
            torch.backends.quantized.engine = engine
            model(outs)
        except Exception as e:  # LibTorch's RuntimeError
            error.append(e)

    if engine in ("onednn", "x86"):  # ideep: a fresh thread, a fresh primitive cache
        t = threading.Thread(target=body)
        t.start()
        t.join()
    else:
        body()
    return outs, (error[0] if error else None)


def coords(index, shape):
    """Flat row-major index → its coordinates in `shape`."""
    out = []
    for size in reversed(shape):
        out.append(index % size if size else 0)
        index = index // size if size else 0
    return ",".join(str(c) for c in reversed(out))


def compare(engine, outs, error):
    """Each layer's verdict and differing elements as lines, and the layers that differ."""
    lines, wrong = [], []
    for l, want in enumerate(EXPECTED[engine]):
        name = f"{engine} layer {l} {want['op']}"
        if l >= len(outs):
            lines.append(f"{name}: LibTorch raised: {str(error).splitlines()[0] if error else '?'}")
            wrong.append(name)
            break
        y = outs[l]
        got = y.int_repr().contiguous().flatten().tolist()
        if list(y.shape) != want["shape"]:
            lines.append(f"{name}: LibTorch's shape {list(y.shape)}, qdiff's {want['shape']}")
            wrong.append(name)
            continue
        diff = [i for i, (a, b) in enumerate(zip(got, want["values"])) if a != b]
        if not diff:
            lines.append(f"{name}: all {len(got)} elements agree with qdiff's {want['recipe']}")
            continue
        lines.append(f"{name}: {len(diff)} of {len(got)} elements differ from qdiff's "
                     f"{want['recipe']} (shape {want['shape']})")
        for i in diff[:MAX_SHOWN]:
            lines.append(f"  element {i} [{coords(i, want['shape'])}]: LibTorch {got[i]}, "
                         f"qdiff {want['values'][i]}")
        if len(diff) > MAX_SHOWN:
            lines.append(f"  ... {len(diff) - MAX_SHOWN} more")
        wrong.append(name)
    return lines, wrong


def run_and_compare(engine):
    """Runs the engine's model up to REPEAT times (each run a new call, as a program repeats a
    forward pass); prints the first run that differs, else the last; returns its wrong layers."""
    for run in range(1, REPEAT + 1):
        lines, wrong = compare(engine, *run_engine(engine))
        if wrong or run == REPEAT:
            if REPEAT > 1:
                lines = [f"{engine} run {run} of at most {REPEAT}: " + lines[0]] + lines[1:]
            print("\n".join(lines))
            return wrong


def main():
    torch.set_num_threads(1)  # as qdiff's runner: one intra-op thread
    why = required_cpu_flags_missing()
    if why:
        print(f"setup error: {why}; this bug needs CPU flags {' '.join(REQUIRED_CPU_FLAGS)} "
              "and their kernels")
        return 2
    missing = [e for e in EXPECTED if e not in torch.backends.quantized.supported_engines]
    if missing:
        print(f"setup error: engine(s) {', '.join(missing)} not in this torch build "
              f"(supported: {', '.join(torch.backends.quantized.supported_engines)})")
        return 2
    if not torch.__version__.startswith(MADE_FOR[:MADE_FOR.rfind(".")] + "."):
        print(f"note: made for LibTorch {MADE_FOR}; this is torch {torch.__version__}")
    wrong = []
    for engine in EXPECTED:
        wrong += run_and_compare(engine)
    if wrong:
        print(f"BUG PRESENT: torch {torch.__version__} disagrees with qdiff's expected values in "
              f"{'; '.join(wrong)}")
        return 1
    print(f"no difference: torch {torch.__version__} gives qdiff's expected values in every layer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
)PY";

}  // namespace

std::string PythonReproducer(const Case& c, const std::vector<ReproducerEngine>& engines,
                             const ReproducerInfo& info) {
  std::string s = Header(c, engines, info);
  s += kPrelude;
  s += "\nMADE_FOR = " + PyStr(info.libtorch_version) + "\n";
  s += "REPEAT = " + std::to_string(info.repeat) + "  # runs of each engine's model (qdiff reproduce --repeat)\n";
  s += "REQUIRED_CPU_FLAGS = " +
       PyList(RequiredCpuFlags(c.description), [](const std::string& f) { return PyStr(f); }) +
       "\n\n\n";
  s += ModelFunction(c.model);
  s += "\n\n# qdiff's expected int_repr of every layer (row-major, logical NCHW order), per engine.\n";
  s += ExpectedTable(c, engines);
  s += kMain;
  return s;
}

}  // namespace qdiff
