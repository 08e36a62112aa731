#include "harness/case/case_json.h"

#include <sys/stat.h>

#include <fstream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "harness/evaluation/injected_defect.h"
#include "oracles/scheme.h"
#include "reports/csv.h"

namespace qdiff {

using nlohmann::json;

namespace {
// Graph inputs beyond `input` a case file may hold (node ids −2 … −1 − kMaxExtraInputs).
constexpr int kMaxExtraInputs = 64;

// Reader that names the file and the JSON path of every problem.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void Fail(const std::string& path, const std::string& what) const {
    throw CaseFileError(source_ + ": field '" + path + "': " + what);
  }

  const json& Get(const json& obj, const std::string& path, const char* key) const {
    if (!obj.is_object()) Fail(path.empty() ? "(root)" : path, "expected an object");
    auto it = obj.find(key);
    if (it == obj.end()) Fail(path.empty() ? key : path + "." + key, "missing");
    return *it;
  }

  int64_t Int(const json& v, const std::string& path, int64_t lo = INT64_MIN,
              int64_t hi = INT64_MAX) const {
    if (!v.is_number_integer()) Fail(path, "expected an integer");
    int64_t x = v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)
                    ? (Fail(path, "out of range"), 0)
                    : v.get<int64_t>();
    if (x < lo || x > hi) {
      Fail(path, "value " + std::to_string(x) + " outside [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "]");
    }
    return x;
  }

  double Double(const json& v, const std::string& path) const {
    if (!v.is_number()) Fail(path, "expected a number");
    return v.get<double>();
  }

  std::string String(const json& v, const std::string& path) const {
    if (!v.is_string()) Fail(path, "expected a string");
    return v.get<std::string>();
  }

  bool Bool(const json& v, const std::string& path) const {
    if (!v.is_boolean()) Fail(path, "expected true or false");
    return v.get<bool>();
  }

  // Every key of `obj` must be one of `allowed` (the format's keys at this path).
  void OnlyKeys(const json& obj, const std::string& path, const std::set<std::string>& allowed) const {
    for (const auto& item : obj.items()) {
      if (allowed.count(item.key())) continue;
      std::string known;
      for (const std::string& k : allowed) known += (known.empty() ? "" : ", ") + k;
      Fail(path.empty() ? item.key() : path + "." + item.key(),
           "not a field here (allowed: " + known + ")");
    }
  }

  const json& Array(const json& v, const std::string& path, size_t max_size) const {
    if (!v.is_array()) Fail(path, "expected an array");
    if (v.size() > max_size) Fail(path, "array longer than " + std::to_string(max_size));
    return v;
  }

 private:
  std::string source_;
};

constexpr size_t kMaxArray = size_t{1} << 24;  // same cap as ValidateModel's element limit

json TensorToJson(const QTensor& t) {
  return json{{"dtype", DTypeName(t.dtype)}, {"shape", t.shape},     {"scales", t.scales},
              {"zero_points", t.zero_points}, {"axis", t.axis},      {"values", t.values}};
}

QTensor TensorFromJson(const Reader& r, const json& j, const std::string& path) {
  QTensor t;
  const std::string dtype = r.String(r.Get(j, path, "dtype"), path + ".dtype");
  if (dtype == "quint8") {
    t.dtype = DType::kQUInt8;
  } else if (dtype == "qint8") {
    t.dtype = DType::kQInt8;
  } else {
    r.Fail(path + ".dtype", "expected \"quint8\" or \"qint8\", got \"" + dtype + "\"");
  }
  const json& shape = r.Array(r.Get(j, path, "shape"), path + ".shape", 8);
  for (size_t i = 0; i < shape.size(); ++i) {
    t.shape.push_back(r.Int(shape[i], path + ".shape[" + std::to_string(i) + "]", 1, 1 << 24));
  }
  const json& scales = r.Array(r.Get(j, path, "scales"), path + ".scales", 1 << 16);
  for (size_t i = 0; i < scales.size(); ++i) {
    t.scales.push_back(r.Double(scales[i], path + ".scales[" + std::to_string(i) + "]"));
  }
  const json& zps = r.Array(r.Get(j, path, "zero_points"), path + ".zero_points", 1 << 16);
  for (size_t i = 0; i < zps.size(); ++i) {
    t.zero_points.push_back(static_cast<int32_t>(
        r.Int(zps[i], path + ".zero_points[" + std::to_string(i) + "]", INT32_MIN, INT32_MAX)));
  }
  t.axis = static_cast<int>(r.Int(r.Get(j, path, "axis"), path + ".axis", -1, 7));
  const json& values = r.Array(r.Get(j, path, "values"), path + ".values", kMaxArray);
  t.values.reserve(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    t.values.push_back(static_cast<int32_t>(
        r.Int(values[i], path + ".values[" + std::to_string(i) + "]", INT32_MIN, INT32_MAX)));
  }
  r.OnlyKeys(j, path, {"dtype", "shape", "scales", "zero_points", "axis", "values"});
  return t;
}

json PairToJson(const int64_t v[2]) { return json{v[0], v[1]}; }

// The first `rank` entries of a per-spatial-dimension conv attribute.
json DimsToJson(const int64_t* v, int rank) { return json(std::vector<int64_t>(v, v + rank)); }

// Fields common to all layers, then those of the op: GEMM layers carry weight, bias and (the
// convolutions) window attributes; other ops carry only what they use.
// Convolution fields (format version 2; conv2d's are those of version 1):
//   stride, padding, dilation  one integer per spatial dimension: conv1d [L], conv2d and
//                              conv_transpose2d [H, W], conv3d [D, H, W]
//   output_padding             conv_transpose2d only, [H, W]; each < stride or < dilation
//   groups                     integer
//   weight                     conv1d [OC, C/g, K]; conv2d [OC, C/g, KH, KW]; conv3d
//                              [OC, C/g, KD, KH, KW]; conv_transpose2d [C, OC/g, KH, KW] (PyTorch's
//                              layout; per-channel weights along axis 1)
json LayerToJson(const Layer& l) {
  json j{{"op", OpKindName(l.op)}, {"relu", l.relu}, {"channels_last", l.channels_last}};
  if (!l.inputs.empty()) j["inputs"] = l.inputs;
  if (!KeepsInputQParams(l.op) && !HasFixedOutputQParams(l.op)) {
    j["out_scale"] = l.out_scale;
    j["out_zero_point"] = l.out_zero_point;
  }
  switch (l.op) {
    case OpKind::kConv1d:
    case OpKind::kConv2d:
    case OpKind::kConv3d:
    case OpKind::kConvTranspose2d: {
      // one entry per spatial dimension: conv1d [L], conv2d [H, W], conv3d [D, H, W]
      const int rank = ConvSpatialDims(l.op);
      j["stride"] = DimsToJson(l.conv.stride, rank);
      j["padding"] = DimsToJson(l.conv.padding, rank);
      if (IsTransposedConv(l.op)) j["output_padding"] = DimsToJson(l.conv.output_padding, rank);
      j["dilation"] = DimsToJson(l.conv.dilation, rank);
      j["groups"] = l.conv.groups;
    }
      [[fallthrough]];
    case OpKind::kLinear:
      j["weight"] = TensorToJson(l.weight);
      // floats widened to double first: nlohmann prints a float's shortest float form, which
      // would read back as a different double.
      j["bias"] = l.bias ? json(std::vector<double>(l.bias->begin(), l.bias->end())) : json(nullptr);
      j["out_dtype"] = DTypeName(l.out_dtype);
      break;
    case OpKind::kCat:
      j["dim"] = l.cat_dim;
      break;
    case OpKind::kMaxPool2d:
    case OpKind::kAvgPool2d:
      j["kernel"] = PairToJson(l.pool.kernel);
      j["stride"] = PairToJson(l.pool.stride);
      j["padding"] = PairToJson(l.pool.padding);
      j["ceil_mode"] = l.pool.ceil_mode;
      if (l.op == OpKind::kMaxPool2d) {
        j["dilation"] = PairToJson(l.pool.dilation);
      } else {
        j["count_include_pad"] = l.pool.count_include_pad;
        j["divisor_override"] = l.pool.divisor_override;
      }
      break;
    case OpKind::kAdaptiveAvgPool2d:
      j["output_size"] = PairToJson(l.pool.output_size);
      break;
    case OpKind::kMean:
      j["dims"] = PairToJson(l.mean.dims);
      j["keepdim"] = l.mean.keepdim;
      break;
    case OpKind::kHardtanh:
    case OpKind::kClamp:
      j["min_value"] = static_cast<double>(l.act.min_value);
      j["max_value"] = static_cast<double>(l.act.max_value);
      break;
    case OpKind::kLeakyRelu:
      j["negative_slope"] = static_cast<double>(l.act.negative_slope);
      break;
    default:
      break;
  }
  return j;
}

// An array of exactly `n` integers in [lo, 2^16] (one per spatial dimension).
void DimsFromJson(const Reader& r, const json& layer, const std::string& path, const char* key,
                  int64_t lo, int n, int64_t* out) {
  const std::string p = path + "." + key;
  const json& v = r.Array(r.Get(layer, path, key), p, static_cast<size_t>(n));
  if (v.size() != static_cast<size_t>(n)) {
    r.Fail(p, "expected " + std::to_string(n) + (n == 1 ? " integer" : " integers"));
  }
  for (int d = 0; d < n; ++d) out[d] = r.Int(v[d], p + "[" + std::to_string(d) + "]", lo, 1 << 16);
}

void PairFromJson(const Reader& r, const json& layer, const std::string& path, const char* key,
                  int64_t lo, int64_t out[2]) {
  DimsFromJson(r, layer, path, key, lo, 2, out);
}

float FloatFromJson(const Reader& r, const json& j, const std::string& path, const char* key) {
  const std::string p = path + "." + key;
  const double v = r.Double(r.Get(j, path, key), p);
  if (static_cast<double>(static_cast<float>(v)) != v) r.Fail(p, "not exactly a float32 value");
  return static_cast<float>(v);
}

DType DTypeFromJson(const Reader& r, const json& j, const std::string& path) {
  const std::string name = r.String(j, path);
  if (name == "quint8") return DType::kQUInt8;
  if (name == "qint8") return DType::kQInt8;
  r.Fail(path, "expected \"quint8\" or \"qint8\", got \"" + name + "\"");
}

void GemmFromJson(const Reader& r, const json& j, const std::string& path, Layer& l) {
  if (IsConvOp(l.op)) {
    const int rank = ConvSpatialDims(l.op);
    DimsFromJson(r, j, path, "stride", 1, rank, l.conv.stride);
    DimsFromJson(r, j, path, "padding", 0, rank, l.conv.padding);
    if (IsTransposedConv(l.op)) {
      DimsFromJson(r, j, path, "output_padding", 0, rank, l.conv.output_padding);
    }
    DimsFromJson(r, j, path, "dilation", 1, rank, l.conv.dilation);
    l.conv.groups = r.Int(r.Get(j, path, "groups"), path + ".groups", 1, 1 << 16);
  }
  l.weight = TensorFromJson(r, r.Get(j, path, "weight"), path + ".weight");
  const json& bias = r.Get(j, path, "bias");
  if (!bias.is_null()) {
    r.Array(bias, path + ".bias", 1 << 16);
    std::vector<float> b;
    for (size_t i = 0; i < bias.size(); ++i) {
      const std::string p = path + ".bias[" + std::to_string(i) + "]";
      const double v = r.Double(bias[i], p);
      if (static_cast<double>(static_cast<float>(v)) != v) r.Fail(p, "not exactly a float32 value");
      b.push_back(static_cast<float>(v));
    }
    l.bias = std::move(b);
  }
  l.out_dtype = DTypeFromJson(r, r.Get(j, path, "out_dtype"), path + ".out_dtype");
}

Layer LayerFromJson(const Reader& r, const json& j, const std::string& path) {
  Layer l;
  const std::string op = r.String(r.Get(j, path, "op"), path + ".op");
  const std::optional<OpKind> kind = ParseOpKind(op);
  if (!kind) {
    std::string names;
    for (OpKind k : kAllOpKinds) names += (names.empty() ? "" : ", ") + std::string(OpKindName(k));
    r.Fail(path + ".op", "unknown op \"" + op + "\" (expected one of " + names + ")");
  }
  l.op = *kind;
  l.relu = r.Bool(r.Get(j, path, "relu"), path + ".relu");
  if (j.contains("channels_last")) {  // optional: absent in version 1 files
    l.channels_last = r.Bool(j["channels_last"], path + ".channels_last");
  }
  if (j.contains("inputs")) {
    const json& ids = r.Array(j["inputs"], path + ".inputs", 64);
    for (size_t i = 0; i < ids.size(); ++i) {
      l.inputs.push_back(static_cast<int>(
          r.Int(ids[i], path + ".inputs[" + std::to_string(i) + "]", -1 - kMaxExtraInputs, 1 << 16)));
    }
  }
  if (!KeepsInputQParams(l.op) && !HasFixedOutputQParams(l.op)) {
    l.out_scale = r.Double(r.Get(j, path, "out_scale"), path + ".out_scale");
    l.out_zero_point = static_cast<int32_t>(
        r.Int(r.Get(j, path, "out_zero_point"), path + ".out_zero_point", INT32_MIN, INT32_MAX));
  }
  switch (l.op) {
    case OpKind::kConv1d:
    case OpKind::kConv2d:
    case OpKind::kConv3d:
    case OpKind::kConvTranspose2d:
    case OpKind::kLinear:
      GemmFromJson(r, j, path, l);
      break;
    case OpKind::kCat:
      l.cat_dim = r.Int(r.Get(j, path, "dim"), path + ".dim", 0, 7);
      break;
    case OpKind::kMaxPool2d:
    case OpKind::kAvgPool2d:
      PairFromJson(r, j, path, "kernel", 1, l.pool.kernel);
      PairFromJson(r, j, path, "stride", 1, l.pool.stride);
      PairFromJson(r, j, path, "padding", 0, l.pool.padding);
      l.pool.ceil_mode = r.Bool(r.Get(j, path, "ceil_mode"), path + ".ceil_mode");
      if (l.op == OpKind::kMaxPool2d) {
        PairFromJson(r, j, path, "dilation", 1, l.pool.dilation);
      } else {
        l.pool.count_include_pad =
            r.Bool(r.Get(j, path, "count_include_pad"), path + ".count_include_pad");
        l.pool.divisor_override =
            r.Int(r.Get(j, path, "divisor_override"), path + ".divisor_override", 0, 1 << 16);
      }
      break;
    case OpKind::kAdaptiveAvgPool2d:
      PairFromJson(r, j, path, "output_size", 1, l.pool.output_size);
      break;
    case OpKind::kMean:
      PairFromJson(r, j, path, "dims", -4, l.mean.dims);  // the model checks they mean H and W
      l.mean.keepdim = r.Bool(r.Get(j, path, "keepdim"), path + ".keepdim");
      break;
    case OpKind::kHardtanh:
    case OpKind::kClamp:
      l.act.min_value = FloatFromJson(r, j, path, "min_value");
      l.act.max_value = FloatFromJson(r, j, path, "max_value");
      break;
    case OpKind::kLeakyRelu:
      l.act.negative_slope = FloatFromJson(r, j, path, "negative_slope");
      break;
    default:
      break;
  }
  // The fields this op uses are exactly those LayerToJson writes for it ("inputs" may be given
  // empty, meaning the previous node).
  std::set<std::string> allowed = {"inputs", "channels_last"};
  const json canonical = LayerToJson(l);
  for (const auto& item : canonical.items()) allowed.insert(item.key());
  r.OnlyKeys(j, path, allowed);
  return l;
}

std::vector<std::string> StringList(const Reader& r, const json& j, const std::string& path) {
  std::vector<std::string> out;
  const json& a = r.Array(j, path, 64);
  for (size_t i = 0; i < a.size(); ++i) {
    out.push_back(r.String(a[i], path + "[" + std::to_string(i) + "]"));
  }
  return out;
}

// A parser callback that records the JSON path of the first duplicate key (nlohmann keeps the
// last value silently).
json::parser_callback_t DuplicateKeyFinder(std::string* duplicate) {
  struct Frame {
    bool array = false;
    size_t index = 0;  // arrays: the element being parsed
    std::string key;   // objects: the key being parsed
    std::set<std::string> keys;
  };
  auto stack = std::make_shared<std::vector<Frame>>();
  return [stack, duplicate](int, json::parse_event_t event, json& parsed) {
    auto next_element = [&] {
      if (!stack->empty() && stack->back().array) ++stack->back().index;
    };
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        stack->push_back(Frame{event == json::parse_event_t::array_start, 0, "", {}});
        break;
      case json::parse_event_t::key: {
        Frame& f = stack->back();
        f.key = parsed.get<std::string>();
        if (!f.keys.insert(f.key).second && duplicate->empty()) {
          for (const Frame& g : *stack) {
            *duplicate += g.array ? "[" + std::to_string(g.index) + "]"
                                  : (duplicate->empty() ? "" : ".") + g.key;
          }
        }
        break;
      }
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        stack->pop_back();
        next_element();
        break;
      case json::parse_event_t::value:
        next_element();
        break;
    }
    return true;
  };
}

}  // namespace

std::string CaseToJson(const Case& c) {
  json layers = json::array();
  for (const Layer& l : c.model.layers) layers.push_back(LayerToJson(l));
  const Provenance& p = c.provenance;
  json j{{"format", "qdiff-case"},
         {"version", kCaseFormatVersion},
         {"id", c.id},
         {"seed", c.seed},
         {"description", c.description},
         {"expected_verdict", c.expected_verdict},
         {"engines", EngineNames(c.engines)},
         {"schemes", c.schemes},
         {"injected_defect", c.injected_defect},
         {"input", TensorToJson(c.model.input)},
         {"layers", layers},
         {"provenance",
          {{"qdiff_version", p.qdiff_version},
           {"git_hash", p.git_hash},
           {"libtorch_version", p.libtorch_version},
           {"cpu_flags", p.cpu_flags},
           {"found_by", p.found_by},
           {"date", p.date}}}};
  if (!c.model.extra_inputs.empty()) {
    json extra = json::array();
    for (const QTensor& t : c.model.extra_inputs) extra.push_back(TensorToJson(t));
    j["extra_inputs"] = extra;
  }
  return j.dump(1) + "\n";
}

Case CaseFromJson(const std::string& text, const std::string& source) {
  json j;
  std::string duplicate;  // JSON path of the first key that occurs twice in its object
  try {
    j = json::parse(text, DuplicateKeyFinder(&duplicate));
  } catch (const json::exception& e) {  // syntax errors, and numbers beyond double (1e400)
    throw CaseFileError(source + ": not valid JSON: " + e.what());
  }
  if (!duplicate.empty()) {
    throw CaseFileError(source + ": field '" + duplicate + "': the key occurs twice in its object");
  }
  Reader r(source);
  if (!j.is_object()) r.Fail("(root)", "expected a JSON object");
  r.OnlyKeys(j, "", {"format", "version", "id", "seed", "description", "expected_verdict", "extra_inputs",
                     "engines", "schemes", "injected_defect", "input", "layers", "provenance"});
  if (r.String(r.Get(j, "", "format"), "format") != "qdiff-case") {
    r.Fail("format", "expected \"qdiff-case\"");
  }
  const int64_t version = r.Int(r.Get(j, "", "version"), "version");
  if (version < 1 || version > kCaseFormatVersion) {
    r.Fail("version", "format version " + std::to_string(version) + " is not supported (this "
                          "build reads versions 1 to " + std::to_string(kCaseFormatVersion) + ")");
  }
  Case c;
  c.id = r.String(r.Get(j, "", "id"), "id");
  const json& seed = r.Get(j, "", "seed");
  if (!seed.is_number_unsigned() && !(seed.is_number_integer() && seed.get<int64_t>() >= 0)) {
    r.Fail("seed", "expected a non-negative integer");
  }
  c.seed = seed.get<uint64_t>();
  c.description = r.String(r.Get(j, "", "description"), "description");
  c.expected_verdict = r.String(r.Get(j, "", "expected_verdict"), "expected_verdict");
  const std::vector<std::string> engines = StringList(r, r.Get(j, "", "engines"), "engines");
  for (size_t i = 0; i < engines.size(); ++i) {
    const std::optional<Engine> e = ParseEngine(engines[i]);
    if (!e) {
      const std::vector<Engine> known(std::begin(kAllEngines), std::end(kAllEngines));
      r.Fail("engines[" + std::to_string(i) + "]",
             "unknown engine \"" + engines[i] + "\" (known: " + EngineList(known) + ")");
    }
    c.engines.push_back(*e);
  }
  c.schemes = StringList(r, r.Get(j, "", "schemes"), "schemes");
  for (size_t i = 0; i < c.schemes.size(); ++i) {
    if (!ParseScheme(c.schemes[i])) {
      std::string known;
      for (const SchemeDef* d : AllSchemes()) known += (known.empty() ? "" : ", ") + std::string(d->name);
      r.Fail("schemes[" + std::to_string(i) + "]", "unknown scheme \"" + c.schemes[i] +
                                                      "\" (known: " + known + ")");
    }
  }
  if (j.contains("injected_defect")) {  // optional: absent in files written before it existed
    c.injected_defect = r.String(j["injected_defect"], "injected_defect");
    if (!c.injected_defect.empty() && !IsKnownDefect(c.injected_defect)) {
      r.Fail("injected_defect", "unknown defect \"" + c.injected_defect + "\"");
    }
  }
  c.model.input = TensorFromJson(r, r.Get(j, "", "input"), "input");
  if (j.contains("extra_inputs")) {  // optional: written only by `qdiff model` for binary ops
    const json& extra = r.Array(j["extra_inputs"], "extra_inputs", kMaxExtraInputs);
    for (size_t i = 0; i < extra.size(); ++i) {
      const std::string at = "extra_inputs[" + std::to_string(i) + "]";
      c.model.extra_inputs.push_back(TensorFromJson(r, extra[i], at));
    }
  }
  const json& layers = r.Array(r.Get(j, "", "layers"), "layers", 64);
  for (size_t i = 0; i < layers.size(); ++i) {
    c.model.layers.push_back(LayerFromJson(r, layers[i], "layers[" + std::to_string(i) + "]"));
  }
  if (j.contains("provenance")) {
    const json& p = j["provenance"];
    if (!p.is_object()) r.Fail("provenance", "expected an object");
    r.OnlyKeys(p, "provenance", {"qdiff_version", "git_hash", "libtorch_version", "cpu_flags",
                                 "found_by", "date"});
    auto text_field = [&](const char* key) {
      return p.contains(key) ? r.String(p[key], std::string("provenance.") + key) : std::string();
    };
    c.provenance = {text_field("qdiff_version"), text_field("git_hash"),
                    text_field("libtorch_version"), text_field("cpu_flags"),
                    text_field("found_by"), text_field("date")};
  }
  const std::string invalid = ValidateModel(c.model);
  if (!invalid.empty()) {
    // ValidateModel names the field first ("layers[0].weight.values: ...").
    const size_t colon = invalid.find(':');
    r.Fail(invalid.substr(0, colon), colon == std::string::npos ? "invalid" : invalid.substr(colon + 2));
  }
  return c;
}

Case LoadCaseFile(const std::string& path, const CaseLimits& limits) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) throw CaseFileError(path + ": cannot open the case file");
  if (S_ISDIR(st.st_mode)) throw CaseFileError(path + ": is a folder, not a case file");
  if (!S_ISREG(st.st_mode)) throw CaseFileError(path + ": not a regular file (a case file is JSON)");
  if (st.st_size > limits.MaxFileBytes()) {
    throw CaseFileError(path + ": rejected: the file has " + std::to_string(st.st_size) +
                        " bytes; case files are limited to " + std::to_string(limits.MaxFileBytes()) +
                        " bytes (1/32 of --max-case-gib, the memory parsing needs)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CaseFileError(path + ": cannot open the case file");
  std::string text(static_cast<size_t>(st.st_size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  const Case c = CaseFromJson(text, path);
  CheckCaseCost(c.model, limits,
                static_cast<int64_t>(c.schemes.empty() ? AllSchemes().size() : c.schemes.size()), path);
  return c;
}

void SaveCaseFile(const Case& c, const std::string& path) {
  try {
    WriteFileAtomically(path, CaseToJson(c));
  } catch (const std::exception& e) {
    throw CaseFileError(e.what());
  }
}

}  // namespace qdiff
