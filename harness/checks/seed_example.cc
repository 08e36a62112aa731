#include "harness/checks/seed_example.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "harness/case/provenance.h"
#include "harness/evaluation/engines.h"
#include "harness/evaluation/explain.h"
#include "harness/evaluation/model_check.h"
#include "harness/torch/libtorch_runner.h"
#include "harness/torch/torchscript_model.h"
#include "oracles/fixed_point.h"
#include "oracles/observers.h"

extern char** environ;

namespace qdiff {

namespace {

namespace fs = std::filesystem;

// The forum input: torch.randn(4, 1, 4, 4, generator=torch.Generator().manual_seed(1)), which
// equals the four calibration batches make_models.py feeds the observers (randn(1, 1, 4, 4) ×4
// from the same generator).
const std::vector<int64_t> kForumInputShape = {4, 1, 4, 4};
constexpr uint64_t kForumInputSeed = 1;

// get_default_qconfig(engine) of PyTorch 1.13.1 (torch/ao/quantization/qconfig.py), the qconfig
// make_models.py quantizes each engine's fixture with.
struct DefaultQConfig {
  const char* activation;
  const char* weight;
  bool reduce_range;
  bool per_channel_weights;
};

DefaultQConfig DefaultQConfigOf(Engine engine) {
  switch (engine) {
    case Engine::kQnnpack:
      return {"HistogramObserver(reduce_range=False), quint8",
              "MinMaxObserver(qint8, per_tensor_symmetric) [default_weight_observer]", false, false};
    case Engine::kOnednn:
      return {"HistogramObserver(reduce_range=False), quint8",
              "PerChannelMinMaxObserver(qint8, per_channel_symmetric) "
              "[default_per_channel_weight_observer]", false, true};
    case Engine::kFbgemm:
    case Engine::kX86: break;
  }
  return {"HistogramObserver(reduce_range=True), quint8",
          "PerChannelMinMaxObserver(qint8, per_channel_symmetric) "
          "[default_per_channel_weight_observer]", true, true};
}

std::string ForumFixtureName(Engine engine) {
  return std::string("forum_eager_") + EngineName(engine) + "_script.pt";
}

// A fresh folder under the system's temporary directory, removed with its files at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "qdiff-seed-example-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("cannot create a temporary folder for the forum model");
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string LastLine(const std::string& file) {
  std::ifstream in(file);
  std::string line, last;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  }
  return last;
}

// Runs the fixture script for the forum model of `engines` into `dir` (its output goes to
// dir/make_models.log). Returns "" on success, else what went wrong.
std::string MakeForumFixtures(const std::string& dir, const std::vector<Engine>& engines) {
  std::vector<std::string> args = {QDIFF_PYTHON, QDIFF_FIXTURE_SCRIPT, "--out", dir, "--only",
                                   "forum", "--engines", ""};
  for (Engine e : engines) args.back() += (args.back().empty() ? "" : ",") + std::string(EngineName(e));
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log = dir + "/make_models.log";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0].c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return std::string(QDIFF_PYTHON) + " cannot be started";
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return std::string(QDIFF_PYTHON) + " " + QDIFF_FIXTURE_SCRIPT + " failed: " + LastLine(log);
  }
  return "";
}

// The model file of each engine: --model for all, else the build's forum fixture, else the
// fixture made now into `temp` by the script.
std::map<Engine, std::string> ModelFiles(const SeedExampleOptions& options,
                                         const std::vector<Engine>& engines,
                                         std::unique_ptr<TempDir>* temp) {
  std::map<Engine, std::string> files;
  if (!options.model.empty()) {
    struct stat st {};
    if (::stat(options.model.c_str(), &st) != 0) throw std::invalid_argument(options.model + ": no such file");
    if (!S_ISREG(st.st_mode)) throw std::invalid_argument(options.model + ": not a regular file");
    for (Engine e : engines) files[e] = options.model;
    return files;
  }
  std::vector<Engine> missing;
  for (Engine e : engines) {
    files[e] = std::string(QDIFF_MODEL_FIXTURES) + "/" + ForumFixtureName(e);
    if (!fs::is_regular_file(files[e])) missing.push_back(e);
  }
  if (missing.empty()) return files;
  *temp = std::make_unique<TempDir>();
  std::cerr << "seed-example: " << files[missing[0]] << " is missing; making the forum model with "
            << QDIFF_PYTHON << " " << QDIFF_FIXTURE_SCRIPT << "\n";
  const std::string failed = MakeForumFixtures((*temp)->path(), missing);
  for (Engine e : missing) {
    files[e] = (*temp)->path() + "/" + ForumFixtureName(e);
    if (!failed.empty() || !fs::is_regular_file(files[e])) {
      throw std::invalid_argument(std::string(QDIFF_MODEL_FIXTURES) + "/" + ForumFixtureName(e) +
                                  ": missing, and making it failed (" +
                                  (failed.empty() ? "the script wrote no such file" : failed) +
                                  "); build the tests or give --model FILE.pt");
    }
  }
  return files;
}

// The forum model's nodes in a captured run.
struct ForumNodes {
  size_t quantize = 0;
  size_t conv = 0;
  std::optional<size_t> dequantize;
};

// The run must be one quantize_per_tensor feeding one conv2d with a 1×1 kernel over one input
// channel (stride 1, no padding): then output element (n, oc, h, w) reads input (n, 0, h, w) only,
// and a sweep over every input code gives every accumulator the layer can see.
ForumNodes FindForumNodes(const ModelRun& run, const std::string& path) {
  auto refuse = [&](const std::string& why) {
    return std::invalid_argument(
        path + ": not the forum model's shape (" + why + "); seed-example needs one "
        "quantize_per_tensor feeding one conv2d with a 1x1 kernel over one input channel, stride 1, "
        "no padding; `qdiff model` checks any model");
  };
  std::vector<size_t> quantize, layers, dequantize;
  for (size_t i = 0; i < run.nodes.size(); ++i) {
    switch (run.nodes[i].role) {
      case NodeRole::kQuantize: quantize.push_back(i); break;
      case NodeRole::kLayer: layers.push_back(i); break;
      case NodeRole::kDequantize: dequantize.push_back(i); break;
      case NodeRole::kDataMovement:
      case NodeRole::kFloat: break;
      case NodeRole::kDynamicLinear:
      case NodeRole::kUnknown: throw refuse("it has " + run.nodes[i].kind);
    }
  }
  if (quantize.size() != 1) throw refuse(std::to_string(quantize.size()) + " quantize_per_tensor nodes");
  if (layers.size() != 1) throw refuse(std::to_string(layers.size()) + " quantized layers");
  const CapturedNode& conv = run.nodes[layers[0]];
  const Layer& l = conv.layer;
  if (l.op != OpKind::kConv2d) throw refuse("its layer is " + LayerOpName(l));
  const std::vector<int64_t>& ws = l.weight.shape;
  if (ws.size() != 4 || ws[1] != 1 || ws[2] != 1 || ws[3] != 1 || l.conv.groups != 1 ||
      l.conv.stride[0] != 1 || l.conv.stride[1] != 1 || l.conv.padding[0] != 0 || l.conv.padding[1] != 0) {
    throw refuse("its conv2d is not 1x1 over one input channel with stride 1 and no padding");
  }
  const QTensor& xq = run.nodes[quantize[0]].output;
  if (conv.inputs[0].values != xq.values || conv.inputs[0].scales != xq.scales) {
    throw refuse("the conv2d does not read the quantize_per_tensor's output");
  }
  ForumNodes f;
  f.quantize = quantize[0];
  f.conv = layers[0];
  if (!dequantize.empty()) f.dequantize = dequantize[0];
  return f;
}

// The input: the forum batches, then as many [1, 1, H, W] batches as it takes to hold one float
// per code of the input's range, f32(s_x·(q − z_x)) for q = qmin, …, qmax, which quantizes to q.
struct SeedInput {
  std::vector<int64_t> shape;
  std::vector<float> values;
  int64_t forum_elements = 0;  // the first ones; the sweep follows
};

SeedInput WithCodeSweep(const std::vector<float>& forum, const std::vector<int64_t>& forum_shape,
                        double s_x, int32_t z_x, QuantRange range) {
  SeedInput in;
  in.values = forum;
  in.forum_elements = static_cast<int64_t>(forum.size());
  const int64_t plane = forum_shape[2] * forum_shape[3];
  const int64_t codes = range.qmax - range.qmin + 1;
  const int64_t batches = (codes + plane - 1) / plane;
  for (int64_t k = 0; k < batches * plane; ++k) {
    const int32_t q = range.qmin + static_cast<int32_t>(std::min(k, codes - 1));
    in.values.push_back(static_cast<float>(s_x * (q - z_x)));
  }
  in.shape = forum_shape;
  in.shape[0] += batches;
  return in;
}

ModelRun Capture(const std::string& path, Engine engine, const SeedInput& in) {
  ModelInputSpec spec;
  spec.shape = in.shape;
  spec.values = in.values;
  return CaptureModelRun(path, engine, spec);
}

// Why a scheme's element differs, by the classifier's class (reports/vocabulary.h).
const char* ClassReason(DiffClass c) {
  switch (c) {
    case DiffClass::kTie: return "an exact tie, rounded by another tie rule than the engine's";
    case DiffClass::kDoubleRounding:
      return "two roundings (SRDHM, then RoundingDivideByPOT) where one correct rounding gives LibTorch's";
    case DiffClass::kZeroPointOrder: return "z_y added on the other side of the rounding";
    case DiffClass::kBias:
      return "the bias form (exact, int32 b_q = RNE(b/(s_x*s_w)), or float): up to half an "
             "accumulator unit apart, enough to cross the rounding boundary here";
    case DiffClass::kMultiplier: return "the multiplier's precision (Q31 or binary32 form) crosses the boundary";
    case DiffClass::kFloatConversion: return "binary32 rounding of acc + bias or of the product";
    case DiffClass::kSaturation: return "out-of-int32 handling";
    case DiffClass::kCombined: return "several ingredients together";
    default: return "see docs/semantics.md";
  }
}

// Q31's value before its last rounding, h / 2^rs with h = SRDHM(x·2^ls, M_q31): the Q31 output is
// RoundingDivideByPOT(h, rs) + z_y, i.e. this value rounded half away from zero.
double Q31BeforeLastRounding(const ChannelTerms& t, int64_t acc) {
  const int64_t x = std::clamp<int64_t>(acc + (t.quant.bias ? t.bias_int32 : 0), INT32_MIN, INT32_MAX);
  const int left = std::max(t.q31.shift, 0), right = std::max(-t.q31.shift, 0);
  const int32_t shifted = static_cast<int32_t>(std::clamp<int64_t>(x * (int64_t{1} << left), INT32_MIN, INT32_MAX));
  return std::ldexp(SaturatingRoundingDoublingHighMul(shifted, t.q31.multiplier), -right);
}

// Distance of v from the nearest rounding boundary k + 1/2, in LSB.
double BoundaryMargin(double v) { return std::fabs(v - std::floor(v) - 0.5); }

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string s;
  for (int64_t d : shape) s += (s.empty() ? "" : ", ") + std::to_string(d);
  return s;
}

std::string Values(const std::vector<int32_t>& v) {
  std::string s;
  for (int32_t x : v) s += (s.empty() ? "" : ", ") + std::to_string(x);
  return v.size() == 1 ? s : "[" + s + "]";
}

std::string Scales(const std::vector<double>& v) {
  std::string s;
  for (double x : v) s += (s.empty() ? "" : ", ") + DoubleWithHex(x);
  return v.size() == 1 ? s : "[" + s + "]";
}

struct EngineSection {
  Engine engine;
  std::string path;
  bool fixture;        // the build's (or the script's) forum fixture, not --model
  bool forum_input;    // the default randn input, i.e. the calibration data
  const std::vector<Scheme>& schemes;
};

int ReportEngine(const EngineSection& e, const std::vector<float>& forum,
                 const std::vector<int64_t>& forum_shape, std::ostream& out) {
  const std::string engine = EngineName(e.engine);
  out << "\n=== " << engine << " ===\nmodel: " << e.path << "\n";
  SeedInput forum_only;
  forum_only.shape = forum_shape;
  forum_only.values = forum;
  forum_only.forum_elements = static_cast<int64_t>(forum.size());
  const ModelRun probe = Capture(e.path, e.engine, forum_only);
  if (probe.rejected) {  // on the forum input: a model of another shape, most likely
    throw std::invalid_argument(e.path + ": LibTorch cannot run it on " + engine + " with the input [" +
                                ShapeText(forum_shape) + "]: " + probe.message);
  }
  const ForumNodes probe_nodes = FindForumNodes(probe, e.path);
  const QTensor& probe_xq = probe.nodes[probe_nodes.quantize].output;
  const double s_x = probe_xq.scales[0];
  const int32_t z_x = probe_xq.zero_points[0];
  const QuantRange x_range = TypeRange(probe_xq.dtype);
  const SeedInput in = WithCodeSweep(forum, forum_shape, s_x, z_x, x_range);
  ModelRun run = Capture(e.path, e.engine, in);
  if (run.rejected) {
    out << "LibTorch cannot run the model on " << engine << ": " << run.message << "\n";
    return 1;
  }
  const ForumNodes nodes = FindForumNodes(run, e.path);
  const ModelCheck mc = CheckModelRun(std::move(run), e.path, e.schemes);
  const ModelRun& r = mc.run;
  const CapturedNode& qn = r.nodes[nodes.quantize];
  const CapturedNode& cn = r.nodes[nodes.conv];
  const Layer& layer = cn.layer;
  const QTensor& xq = qn.output;
  const ModelNodeCheck* qcheck = nullptr;
  const ModelNodeCheck* ccheck = nullptr;
  const ModelNodeCheck* dcheck = nullptr;
  for (const ModelNodeCheck& c : mc.checks) {
    if (c.node == nodes.quantize) qcheck = &c;
    if (c.node == nodes.conv) ccheck = &c;
    if (nodes.dequantize && c.node == *nodes.dequantize) dcheck = &c;
  }
  const int64_t n_in = static_cast<int64_t>(xq.values.size());
  const int64_t plane = forum_shape[2] * forum_shape[3];
  const int64_t out_channels = layer.weight.shape[0];

  // Observers: what the fixture script used, and what the file shows of them.
  const DefaultQConfig qc = DefaultQConfigOf(e.engine);
  const bool weight_per_channel = layer.weight.per_channel();
  out << "observers: ";
  if (e.fixture) {
    out << "get_default_qconfig('" << engine << "') in scripts/fixtures/make_models.py:\n"
        << "  activations " << qc.activation << "\n  weights " << qc.weight << "\n";
  } else {
    out << "not recorded in a TorchScript file\n";
  }
  bool symmetric = true;
  for (int32_t z : layer.weight.zero_points) symmetric = symmetric && z == 0;
  out << "  in the file: weight " << DTypeName(layer.weight.dtype) << " "
      << (weight_per_channel ? "per-channel" : "per-tensor") << ", z_w = " << Values(layer.weight.zero_points)
      << (e.fixture ? (weight_per_channel == qc.per_channel_weights && symmetric ? " (as the qconfig says)"
                                                                                 : " (NOT what the qconfig says)")
                    : "")
      << "\n";
  if (e.fixture && e.forum_input) {
    const auto [lo, hi] = std::minmax_element(forum.begin(), forum.end());
    const QParams mm = MinMaxQParams(*lo, *hi, xq.dtype, QScheme::kAffine, qc.reduce_range);
    const double top = s_x * (x_range.qmax - z_x), bottom = s_x * (x_range.qmin - z_x);
    int64_t clipped = 0;
    for (float x : forum) clipped += x > top || x < bottom;
    out << "  the input is the calibration data: a MinMaxObserver would have given s_x = " << mm.scale
        << ", z_x = " << mm.zero_point << " for its range [" << *lo << ", " << *hi << "];\n"
        << "  the HistogramObserver chose [" << bottom << ", " << top << "], which clamps " << clipped
        << " of the " << forum.size() << " inputs\n";
  }

  // QuantStub: one element of the forum input, step by step.
  out << "\nQuantStub (aten::quantize_per_tensor): s_x = " << DoubleWithHex(s_x) << ", z_x = " << z_x
      << ", " << DTypeName(xq.dtype) << " [" << x_range.qmin << ", " << x_range.qmax << "]\n"
      << "  x_q = clamp(z_x + RNE(f32(x * f32(1/f32(s_x)))), " << x_range.qmin << ", " << x_range.qmax
      << ")   (LibTorch's quantize_val; RNE = round half to even)\n";
  auto quantize_steps = [&](int64_t i) {
    const float x = qn.float_input[i];
    const float inv = 1.0f / static_cast<float>(s_x);
    const float scaled = x * inv;
    const double rounded = std::nearbyint(scaled);
    std::ostringstream s;
    s << "x = " << DoubleWithHex(x) << ": f32(1/s_x) = " << inv << ", x * that = " << scaled
      << ", RNE -> " << rounded << ", + z_x = " << rounded + z_x << ", clamp -> "
      << QuantizeValue(x, s_x, z_x, xq.dtype) << ";  LibTorch x_q = " << xq.values[i];
    return s.str();
  };
  out << "  element 0: " << quantize_steps(0) << "\n";
  std::vector<bool> code_seen(x_range.qmax - x_range.qmin + 1, false);
  for (int64_t i = in.forum_elements; i < n_in; ++i) code_seen[xq.values[i] - x_range.qmin] = true;
  const int64_t codes_seen = std::count(code_seen.begin(), code_seen.end(), true);
  out << "  qdiff's formula vs LibTorch: " << (qcheck ? qcheck->engine_mismatches : -1) << " of " << n_in
      << " elements differ; the sweep (elements " << in.forum_elements << ".." << n_in - 1
      << ") hits " << codes_seen << " of " << code_seen.size() << " codes\n";

  // The conv and every recipe.
  out << "\nConv2d (" << cn.kind << " at " << (cn.module_path.empty() ? "(top)" : cn.module_path)
      << "), from the packed params:\n"
      << "  w_q = " << Values(layer.weight.values) << ", s_w = " << Scales(layer.weight.scales)
      << ", z_w = " << Values(layer.weight.zero_points) << "\n  bias b = ";
  if (layer.bias) {
    for (size_t c = 0; c < layer.bias->size(); ++c) out << (c ? ", " : "") << DoubleWithHex((*layer.bias)[c]);
  } else {
    out << "none";
  }
  out << "\n  s_y = " << DoubleWithHex(layer.out_scale) << ", z_y = " << layer.out_zero_point << "\n";
  if (!ccheck || ccheck->rejected || !ccheck->layer_case) {
    out << "LibTorch rejected the conv alone: " << (ccheck ? ccheck->message : "no check") << "\n";
    return 1;
  }
  const Scheme own = EngineScheme(e.engine, layer, CpuHasVnni(), xq.dtype);
  const Case& layer_case = *ccheck->layer_case;
  const CaseRuns runs = RunCase(layer_case, {e.engine}, e.schemes);
  const LayerTrace& trace = runs.pipeline[0][0][0];
  const std::vector<int32_t>& lt = runs.libtorch[0].layers[0].values;
  const int64_t n_out = static_cast<int64_t>(lt.size());
  for (size_t c = 0; c < trace.channels.size(); ++c) {
    const ChannelTerms& t = trace.channels[c];
    out << (trace.channels.size() > 1 ? "  channel " + std::to_string(c) + ":" : std::string()) << "  M = s_x*s_w/s_y = "
        << DoubleWithHex(t.multiplier_double) << " = Q31 " << t.q31.multiplier << " * 2^(" << t.q31.shift << " - 31)\n";
    if (t.quant.bias) {
      // LibTorch's int32 bias is b/(s_x*s_w) rounded: up to half an accumulator unit off.
      const double offset = static_cast<double>(t.bias_int32 - t.bias_exact_approx);
      char text[200];
      std::snprintf(text, sizeof text, "    int32 bias b_q = %lld, b/(s_x*s_w) = %.6Lf: rounding it moves every output by %.3g LSB\n",
                    static_cast<long long>(t.bias_int32), t.bias_exact_approx, offset * t.multiplier_double);
      out << text;
    }
  }
  out << "\nLibTorch int_repr() vs each recipe on the " << n_out << " outputs (" << in.forum_elements
      << " forum inputs x " << out_channels << " channel(s), then the code sweep):\n";
  char line[200];
  for (size_t s = 0; s < e.schemes.size(); ++s) {
    const SchemeDef& def = GetScheme(e.schemes[s]);
    const std::string name = std::string(def.name) +
                             (e.schemes[s] == Scheme::kDoubleRounding ? " (Q31 M0+shift, gemmlowp)" : "") +
                             (e.schemes[s] == own ? "   <- " + engine + "'s own recipe" : "");
    std::snprintf(line, sizeof line, "  %-48s %lld / %lld differ\n", name.c_str(),
                  static_cast<long long>(ccheck->scheme_mismatches[s]), static_cast<long long>(n_out));
    out << line;
  }
  std::snprintf(line, sizeof line, "  %-48s %lld / %lld differ\n", "float oracle (dequantize, f64, RNE)",
                static_cast<long long>(ccheck->float_mismatches), static_cast<long long>(n_out));
  out << line;
  std::snprintf(line, sizeof line, "  %-48s %lld / %lld differ\n", "LibTorch in the model vs the conv alone",
                static_cast<long long>(ccheck->model_vs_rerun), static_cast<long long>(n_out));
  out << line;
  if (dcheck) {
    out << "DeQuantStub: qdiff's dequantize (s_y*(y - z_y) in binary32) vs LibTorch: "
        << dcheck->engine_mismatches << " of " << dcheck->elements << " floats differ (bitwise)\n";
  }

  // Where recipes differ, classified.
  auto describe = [&](int64_t i) {
    const int64_t x_index = (i / (out_channels * plane)) * plane + i % plane;
    std::ostringstream s;
    s << "element " << i;
    if (x_index < in.forum_elements) {
      s << " (forum input " << x_index << ")";
    } else {
      s << " (sweep, x_q = " << xq.values[x_index] << ")";
    }
    return s.str();
  };
  std::map<std::string, std::vector<const DiscrepancyRow*>> by_scheme;
  for (const DiscrepancyRow& d : mc.discrepancies) {
    if (d.case_id == layer_case.id) by_scheme[d.scheme].push_back(&d);
  }
  out << "\nWhere a recipe differs from LibTorch (qdiff's classifier: one ingredient switched to the "
      << "engine's recipe reproduces LibTorch):\n";
  if (by_scheme.empty()) out << "  nowhere\n";
  for (Scheme id : e.schemes) {
    auto it = by_scheme.find(GetScheme(id).name);
    if (it == by_scheme.end()) continue;
    std::map<DiffClass, int64_t> classes;
    for (const DiscrepancyRow* d : it->second) ++classes[d->cls];
    out << "  " << it->first << ":";
    for (const auto& [cls, n] : classes) out << " " << DiffClassName(cls) << " " << n;
    out << "\n";
    for (size_t k = 0; k < it->second.size() && k < 3; ++k) {
      const DiscrepancyRow& d = *it->second[k];
      out << "    " << describe(d.index) << ": acc " << d.acc.value_or(0) << ", exact "
          << (d.exact_value ? DoubleWithHex(*d.exact_value) : std::string("-")) << ", gives "
          << d.integer_out << ", LibTorch " << d.libtorch_out << ": " << DiffClassName(d.cls) << ", "
          << ClassReason(d.cls) << "\n";
    }
  }

  // Q31 against the engine's recipe. Q31's output is h/2^rs rounded half away from zero, the
  // engine's is t rounded half to even: they differ only where the two values sit on two sides of
  // a boundary k + 1/2, or where h/2^rs lands exactly on one.
  const SchemeDef& own_def = GetScheme(own);
  int64_t live = 0, closest = -1, widest = -1, q31_ties = 0;
  double min_q31_margin = INFINITY, max_gap = 0;
  int64_t q31_differs = 0;
  for (size_t s = 0; s < e.schemes.size(); ++s) {
    if (e.schemes[s] == Scheme::kDoubleRounding) q31_differs = ccheck->scheme_mismatches[s];
  }
  auto engine_value = [&](int64_t i) {  // t + z_y, before the engine's rounding
    const ChannelTerms& t = trace.channels[trace.ChannelOf(i)];
    RecipeTrace rt;
    EvaluateRecipe(own_def.recipe, t, trace.acc[i], &rt);
    return rt.value_before_rounding + t.quant.z_y;
  };
  auto q31_value = [&](int64_t i) {  // h/2^rs + z_y, before Q31's last rounding
    const ChannelTerms& t = trace.channels[trace.ChannelOf(i)];
    return Q31BeforeLastRounding(t, trace.acc[i]) + t.quant.z_y;
  };
  for (int64_t i = 0; i < n_out; ++i) {
    const QuantRange range = trace.channels[trace.ChannelOf(i)].quant.range;
    const double v = engine_value(i), q = q31_value(i);
    // Both neighbouring outputs inside the clamp range: a flip would show.
    if (std::floor(v) < range.qmin || std::floor(v) + 1 > range.qmax) continue;
    ++live;
    const double q_margin = BoundaryMargin(q);
    q31_ties += q_margin == 0;
    if (q_margin < min_q31_margin) min_q31_margin = q_margin, closest = i;
    if (std::fabs(q - v) > max_gap) max_gap = std::fabs(q - v), widest = i;
  }
  out << "\nQ31 (double_rounding) vs " << own_def.name << " on the " << live << " outputs whose two "
      << "neighbouring codes are both inside the clamp range:\n"
      << "  Q31 rounds h/2^rs (h = SRDHM(acc + b_q, M_q31)) half away from zero, the engine t half to even;\n"
      << "  they differ only where h/2^rs and t lie on two sides of a boundary k + 1/2, or h/2^rs on one.\n";
  if (live > 0) {
    std::snprintf(line, sizeof line, "  largest |h/2^rs - t|: %.3g LSB (%s); h/2^rs is a multiple of 2^-%d\n",
                  max_gap, describe(widest).c_str(), std::max(-trace.channels[0].q31.shift, 0));
    out << line;
    const ChannelTerms& t = trace.channels[trace.ChannelOf(closest)];
    const double v = engine_value(closest), q = q31_value(closest);
    const int32_t q31_out = *EvaluateRecipe(GetScheme(Scheme::kDoubleRounding).recipe, t, trace.acc[closest]);
    out << "  closest call, " << describe(closest) << ": exact " << DoubleWithHex(ExactRealOutput(t, trace.acc[closest]))
        << ",\n    engine t + z_y = " << DoubleWithHex(v) << ", Q31 h/2^rs + z_y = " << DoubleWithHex(q) << ":\n";
    if (min_q31_margin == 0) {
      out << "    SRDHM rounded it onto a tie; RoundingDivideByPOT rounds ties away from zero -> " << q31_out
          << ", LibTorch " << lt[closest] << " (rounding that tie half to even would give "
          << static_cast<int64_t>(std::nearbyint(q)) << ")\n";
    } else {
      out << "    " << min_q31_margin << " LSB from k + 1/2 -> " << q31_out << ", LibTorch " << lt[closest] << "\n";
    }
    out << "  " << q31_ties << " of the " << live << " land exactly on k + 1/2 after SRDHM\n";
  }
  const bool exhaustive = codes_seen == static_cast<int64_t>(code_seen.size());
  if (q31_differs > 0) {
    out << "  -> Q31 differs from LibTorch on " << q31_differs << " of " << n_out << " outputs (classified above).\n";
  } else {
    out << "  -> Q31 reproduces LibTorch on every output here"
        << (exhaustive ? ": the sweep feeds every input code, hence every accumulator this layer can "
                         "see,\n     so no input makes Q31 differ from LibTorch on this model"
                       : "")
        << ".\n";
  }

  // One element in integers: the first where Q31 differs, else where any recipe differs, else
  // Q31's closest call.
  int64_t pick = closest >= 0 ? closest : 0;
  for (auto it = e.schemes.rbegin(); it != e.schemes.rend(); ++it) {  // double_rounding wins
    auto found = by_scheme.find(GetScheme(*it).name);
    if (found != by_scheme.end() && (*it == Scheme::kDoubleRounding || pick == closest)) {
      pick = found->second.front()->index;
    }
  }
  const int64_t x_index = (pick / (out_channels * plane)) * plane + pick % plane;
  const ChannelTerms& terms = trace.channels[trace.ChannelOf(pick)];
  const int64_t oc = trace.ChannelOf(pick);
  const int32_t wq = layer.weight.values[oc];
  const int32_t zw = layer.weight.zero_points[WeightQuantIndex(layer, oc)];
  out << "\nOne " << describe(pick) << ", channel " << oc << ", from float x to the output:\n"
      << "  QuantStub: " << quantize_steps(x_index) << "\n"
      << "  x_q - z_x = " << xq.values[x_index] << " - " << z_x << " = " << xq.values[x_index] - z_x << "\n"
      << "  w_q - z_w = " << wq << " - " << zw << " = " << wq - zw << "\n"
      << "  acc = (x_q - z_x)(w_q - z_w) = " << trace.acc[pick] << "   (int32 accumulator)\n"
      << "  The raw int_repr product x_q*w_q = " << int64_t{xq.values[x_index]} * wq
      << " skips the zero points, the bias and the multiplier:\n"
      << "  that is why hand-multiplied int_repr() values come out far off.\n";
  for (Scheme id : e.schemes) {
    const SchemeDef& def = GetScheme(id);
    out << " " << def.name << (id == own ? "   <- " + engine + "'s own recipe" : std::string()) << ": "
        << def.formula << "\n"
        << ExplainScheme(def, terms, trace.acc[pick], "    ");
  }
  out << "  LibTorch int_repr() = " << lt[pick] << ";  float oracle = " << runs.float_oracle[0].out[pick]
      << " (real " << FloatOracleReal(layer_case.model, runs.float_oracle, 0, pick) << ")\n";
  if (nodes.dequantize) {
    out << "  DeQuantStub: s_y*(y - z_y) = " << r.nodes[*nodes.dequantize].float_output[pick]
        << " (LibTorch's float output)\n";
  }
  return mc.engine_mismatches == 0 ? 0 : 1;
}

}  // namespace

int RunSeedExample(const SeedExampleOptions& options, std::ostream& final_out) {
  // Written at the end, so that a model or input refused half-way prints nothing but the error.
  std::ostringstream out;
  InitLibTorch();
  const std::vector<Engine> engines = AvailableEngines();
  std::unique_ptr<TempDir> temp;
  const std::map<Engine, std::string> files = ModelFiles(options, engines, &temp);
  std::vector<int64_t> forum_shape = kForumInputShape;
  std::vector<float> forum;
  if (options.input.empty()) {
    forum = TorchRandn(forum_shape, kForumInputSeed);
  } else {
    forum = LoadFloatTensorFile(options.input, &forum_shape);
    if (forum_shape.size() != 4 || forum_shape[1] != 1 || forum.empty()) {
      throw std::invalid_argument("--input " + options.input + ": shape [" + ShapeText(forum_shape) +
                                  "]; the forum model takes [N, 1, H, W]");
    }
  }
  std::vector<Scheme> schemes;
  for (const SchemeDef* s : AllSchemes()) schemes.push_back(s->id);
  out << "qdiff seed-example: "
      << (options.model.empty()
              ? "the forum model, QuantStub -> Conv2d(1,1,1)+ReLU (fused) -> DeQuantStub,\n"
                "quantized by PyTorch's eager flow (fuse, prepare, calibrate, convert) and scripted.\n"
              : options.model + " (--model), on every engine.\n")
      << "Input: "
      << (options.input.empty() ? "torch.randn(4,1,4,4, generator=torch.Generator().manual_seed(1))"
                                : options.input)
      << ", then one float per input code\n(x = f32(s_x*(q - z_x)), q over the whole range: the sweep).\n"
      << "LibTorch " << LibTorchVersion() << ", CPU flags: " << CpuFlags() << "\n";
  int exit_code = 0;
  for (Engine engine : engines) {
    const EngineSection section{engine, files.at(engine), options.model.empty(), options.input.empty(),
                                schemes};
    exit_code = std::max(exit_code, ReportEngine(section, forum, forum_shape, out));
  }
  out << "\nResult: "
      << (exit_code == 0 ? "every engine's own recipe reproduces LibTorch bit for bit"
                         : "an engine's recipe does NOT reproduce LibTorch")
      << "\n";
  final_out << out.str();
  return exit_code;
}

}  // namespace qdiff
