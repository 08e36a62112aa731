// Tests of harness/case_json: exact round trip of every double and float of a case, and error
// messages for malformed or hostile case files (each names the file and the offending field).
#include "harness/case/case_json.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace qdiff {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

uint64_t Bits(double d) {
  uint64_t u;
  std::memcpy(&u, &d, sizeof u);
  return u;
}

uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

void ExpectSameTensor(const QTensor& a, const QTensor& b, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(a.dtype, b.dtype);
  EXPECT_EQ(a.shape, b.shape);
  EXPECT_EQ(a.values, b.values);
  EXPECT_EQ(a.zero_points, b.zero_points);
  EXPECT_EQ(a.axis, b.axis);
  ASSERT_EQ(a.scales.size(), b.scales.size());
  for (size_t i = 0; i < a.scales.size(); ++i) {
    EXPECT_EQ(Bits(a.scales[i]), Bits(b.scales[i]))
        << "scales[" << i << "]: " << std::hexfloat << a.scales[i] << " vs " << b.scales[i];
  }
}

// Field by field; doubles and floats compared by their bits (so -0.0 != 0.0).
void ExpectSameCase(const Case& a, const Case& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.description, b.description);
  EXPECT_EQ(a.expected_verdict, b.expected_verdict);
  EXPECT_EQ(a.engines, b.engines);
  EXPECT_EQ(a.schemes, b.schemes);
  EXPECT_EQ(a.provenance.qdiff_version, b.provenance.qdiff_version);
  EXPECT_EQ(a.provenance.git_hash, b.provenance.git_hash);
  EXPECT_EQ(a.provenance.libtorch_version, b.provenance.libtorch_version);
  EXPECT_EQ(a.provenance.cpu_flags, b.provenance.cpu_flags);
  EXPECT_EQ(a.provenance.found_by, b.provenance.found_by);
  EXPECT_EQ(a.provenance.date, b.provenance.date);
  ExpectSameTensor(a.model.input, b.model.input, "input");
  ASSERT_EQ(a.model.layers.size(), b.model.layers.size());
  for (size_t l = 0; l < a.model.layers.size(); ++l) {
    const Layer& x = a.model.layers[l];
    const Layer& y = b.model.layers[l];
    SCOPED_TRACE("layers[" + std::to_string(l) + "]");
    EXPECT_EQ(x.op, y.op);
    EXPECT_EQ(x.relu, y.relu);
    if (x.op == OpKind::kConv2d) {
      for (int d = 0; d < 2; ++d) {
        EXPECT_EQ(x.conv.stride[d], y.conv.stride[d]);
        EXPECT_EQ(x.conv.padding[d], y.conv.padding[d]);
        EXPECT_EQ(x.conv.dilation[d], y.conv.dilation[d]);
      }
      EXPECT_EQ(x.conv.groups, y.conv.groups);
    }
    ExpectSameTensor(x.weight, y.weight, "weight");
    ASSERT_EQ(x.bias.has_value(), y.bias.has_value());
    if (x.bias) {
      ASSERT_EQ(x.bias->size(), y.bias->size());
      for (size_t i = 0; i < x.bias->size(); ++i) {
        EXPECT_EQ(Bits((*x.bias)[i]), Bits((*y.bias)[i]))
            << "bias[" << i << "]: " << std::hexfloat << (*x.bias)[i] << " vs " << (*y.bias)[i];
      }
    }
    EXPECT_EQ(Bits(x.out_scale), Bits(y.out_scale))
        << std::hexfloat << x.out_scale << " vs " << y.out_scale;
    EXPECT_EQ(x.out_zero_point, y.out_zero_point);
    EXPECT_EQ(x.out_dtype, y.out_dtype);
  }
}

// Values cycling through a dtype's whole range, extremes included.
std::vector<int32_t> Fill(int64_t n, DType dtype, int32_t step) {
  const QuantRange r = TypeRange(dtype);
  std::vector<int32_t> v;
  for (int64_t i = 0; i < n; ++i) {
    v.push_back(i == 0 ? r.qmin : i == 1 ? r.qmax : r.qmin + int32_t((i * step) % (r.qmax - r.qmin + 1)));
  }
  return v;
}

// A conv > conv case full of doubles and floats that a careless writer would not round-trip.
// Scales must be > 0 and normal as floats (ValidateModel), so 5e-300-style doubles are invalid
// (f32(5e-300) == 0); the awkward ones are those whose decimal form is long or whose double is
// not a float.
Case AwkwardConvCase() {
  Case c;
  c.id = "awkward-\"conv\"";
  c.seed = std::numeric_limits<uint64_t>::max();
  c.description = "quote \" backslash \\ newline \n tab \t unicode \xc3\xa9 \xe2\x9c\x93";
  c.expected_verdict = "explained";
  c.engines = {Engine::kQnnpack, Engine::kOnednn};
  c.schemes = {"exact", "onednn_fp32"};
  c.provenance = {"0.1.0", "0123456789abcdef", "1.13.0", "avx2 avx512_vnni", "hand-written",
                  "2024-01-02T03:04:05Z"};

  QTensor& x = c.model.input;
  x.dtype = DType::kQUInt8;
  x.shape = {1, 2, 3, 3};
  x.values = Fill(18, x.dtype, 37);
  x.scales = {0.1};
  x.zero_points = {255};

  Layer a;
  a.op = OpKind::kConv2d;
  a.conv.padding[1] = 1;
  a.weight.dtype = DType::kQInt8;
  a.weight.shape = {4, 2, 1, 1};
  a.weight.values = Fill(8, DType::kQInt8, 91);
  a.weight.axis = 0;
  a.weight.scales = {1.0 / 3.0, std::ldexp(1.0, -30), 3.4028235e38 /* rounds to FLT_MAX */,
                     double(FLT_MIN)};
  a.weight.zero_points = {0, -128, 127, 5};
  a.bias = std::vector<float>{0.1f, -3.4e38f, 1e-45f /* smallest subnormal */, -0.0f};
  a.out_scale = double(FLT_MAX) / 4;  // layer b's multiplier s_x·s_w/s_y stays a finite float
  a.out_zero_point = 17;
  a.out_dtype = DType::kQUInt8;

  Layer b;
  b.op = OpKind::kConv2d;
  b.relu = true;
  b.conv.stride[0] = 2;
  b.conv.dilation[1] = 2;
  b.weight.dtype = DType::kQInt8;
  b.weight.shape = {3, 4, 1, 2};
  b.weight.values = Fill(24, DType::kQInt8, 53);
  b.weight.scales = {std::nextafter(1.0, 2.0)};  // 1 + 2^-52: a double that is not a float
  b.weight.zero_points = {-3};
  b.out_scale = 0.1 + 0.2;  // 0.30000000000000004
  b.out_zero_point = 0;
  b.out_dtype = DType::kQUInt8;

  c.model.layers = {a, b};
  return c;
}

Case AwkwardLinearCase() {
  Case c;
  c.id = "awkward-linear";
  c.seed = 0;
  QTensor& x = c.model.input;
  x.dtype = DType::kQInt8;
  x.shape = {2, 3};
  x.values = Fill(6, x.dtype, 29);
  x.scales = {1.0 / 255.0};
  x.zero_points = {-128};
  Layer l;
  l.op = OpKind::kLinear;
  l.relu = true;
  l.weight.dtype = DType::kQInt8;
  l.weight.shape = {2, 3};
  l.weight.values = Fill(6, DType::kQInt8, 7);
  l.weight.scales = {std::nextafter(double(FLT_MIN), 1.0)};  // just above FLT_MIN, still normal
  l.weight.zero_points = {-1};
  l.bias = std::vector<float>{std::numeric_limits<float>::denorm_min(), 16777216.0f};
  l.out_scale = std::nextafter(1.0 / 3.0, 0.0);
  l.out_zero_point = -128;
  l.out_dtype = DType::kQInt8;
  c.model.layers = {l};
  return c;
}

TEST(CaseJson, AwkwardCasesAreValid) {
  EXPECT_EQ(ValidateModel(AwkwardConvCase().model), "");
  EXPECT_EQ(ValidateModel(AwkwardLinearCase().model), "");
}

TEST(CaseJson, RoundTripIsBitExact) {
  for (const Case& c : {AwkwardConvCase(), AwkwardLinearCase()}) {
    SCOPED_TRACE(c.id);
    const std::string text = CaseToJson(c);
    const Case back = CaseFromJson(text, "roundtrip.json");
    ExpectSameCase(c, back);
    // And the text itself is a fixed point.
    EXPECT_EQ(CaseToJson(back), text);
  }
}

TEST(CaseJson, SaveAndLoadRoundTrip) {
  char tmpl[] = "/tmp/qdiff_case_json_test_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string path = std::string(tmpl) + "/case.json";
  const Case c = AwkwardConvCase();
  SaveCaseFile(c, path);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  ExpectSameCase(c, LoadCaseFile(path));
  fs::remove_all(tmpl);
}

TEST(CaseJson, MissingFileNamesThePath) {
  const std::string path = "/nonexistent/qdiff/case-404.json";
  try {
    LoadCaseFile(path);
    FAIL() << "no error for a missing file";
  } catch (const CaseFileError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------------------------------------
// Malformed and hostile inputs.

constexpr const char* kSource = "corpora/hostile-case.json";

// A valid base document: conv (per-channel weights, bias) > conv (per-tensor, no bias).
json BaseJson() { return json::parse(CaseToJson(AwkwardConvCase())); }

struct Hostile {
  const char* name;
  // Either a mutation of the base document or, if `raw` is set, the whole text.
  std::function<void(json&)> mutate;
  std::function<std::string()> raw;
  // The message must contain this (besides kSource); for field errors: "field 'PATH'".
  std::string expect;
};

// GoogleTest prints the parameter of a failing test: its name, not its bytes.
void PrintTo(const Hostile& h, std::ostream* os) { *os << h.name; }

Hostile Field(const char* name, std::function<void(json&)> mutate, const std::string& path) {
  return {name, std::move(mutate), nullptr, "field '" + path + "'"};
}

Hostile Raw(const char* name, std::function<std::string()> raw, const std::string& expect) {
  return {name, nullptr, std::move(raw), expect};
}

std::vector<Hostile> HostileInputs() {
  std::vector<Hostile> t;
  // Not JSON at all: nlohmann's message gives the line and column.
  t.push_back(Raw("NotJson", [] { return std::string("qdiff case: conv2d 1x1"); }, "line 1, column 1"));
  t.push_back(Raw("Empty", [] { return std::string(); }, "not valid JSON"));
  t.push_back(Raw("Truncated", [] {
    const std::string s = BaseJson().dump(1);
    return s.substr(0, s.size() / 2);
  }, "not valid JSON"));
  t.push_back(Raw("BinaryGarbage", [] { return std::string("\x00\xff\xfe{\"a\":1}", 10); },
                  "not valid JSON"));
  t.push_back(Raw("RootIsArray", [] { return std::string("[1, 2, 3]"); }, "field '(root)'"));
  // Nesting a million levels deep must be an error, not a stack overflow.
  t.push_back(Raw("DeepNesting", [] {
    return "{\"format\": \"qdiff-case\", \"version\": 1, \"id\": " + std::string(1000000, '[') +
           std::string(1000000, ']') + "}";
  }, "field 'id'"));

  // Format and version.
  t.push_back(Field("WrongFormat", [](json& j) { j["format"] = "onnx"; }, "format"));
  t.push_back(Field("MissingFormat", [](json& j) { j.erase("format"); }, "format"));
  t.push_back(Field("Version99", [](json& j) { j["version"] = 99; }, "version"));
  t.push_back(Field("VersionZero", [](json& j) { j["version"] = 0; }, "version"));
  t.push_back(Field("VersionAsString", [](json& j) { j["version"] = "1"; }, "version"));
  t.push_back(Field("VersionAsFloat", [](json& j) { j["version"] = 1.5; }, "version"));

  // Wrong types.
  t.push_back(Field("OutScaleAsString", [](json& j) { j["layers"][0]["out_scale"] = "0.5"; },
                    "layers[0].out_scale"));
  t.push_back(Field("ShapeDimAsString", [](json& j) { j["input"]["shape"][2] = "3"; },
                    "input.shape[2]"));
  t.push_back(Field("ValueAsFloat", [](json& j) { j["input"]["values"][4] = 3.5; },
                    "input.values[4]"));
  t.push_back(Field("ReluAsInt", [](json& j) { j["layers"][1]["relu"] = 1; }, "layers[1].relu"));
  t.push_back(Field("IdAsNumber", [](json& j) { j["id"] = 7; }, "id"));
  t.push_back(Field("NegativeSeed", [](json& j) { j["seed"] = -1; }, "seed"));
  t.push_back(Field("EngineNotString", [](json& j) { j["engines"][1] = 3; }, "engines[1]"));
  t.push_back(Field("UnknownEngine", [](json& j) { j["engines"][1] = "tpu"; }, "engines[1]"));
  t.push_back(Field("LayersAsObject", [](json& j) { j["layers"] = json::object(); }, "layers"));
  t.push_back(Field("LayerAsString", [](json& j) { j["layers"][0] = "conv2d"; }, "layers[0]"));
  t.push_back(Field("StrideOneInteger", [](json& j) { j["layers"][0]["stride"] = {1}; },
                    "layers[0].stride"));
  t.push_back(Field("DTypeUnknown", [](json& j) { j["input"]["dtype"] = "float32"; },
                    "input.dtype"));
  t.push_back(Field("OutDTypeUnknown", [](json& j) { j["layers"][1]["out_dtype"] = "qint32"; },
                    "layers[1].out_dtype"));
  t.push_back(Field("WeightDTypeQuint8",
                    [](json& j) {
                      j["layers"][1]["weight"]["dtype"] = "quint8";  // valid quint8 otherwise
                      j["layers"][1]["weight"]["zero_points"] = {3};
                      j["layers"][1]["weight"]["values"] = std::vector<int>(24, 9);
                    },
                    "layers[1].weight.dtype"));
  t.push_back(Field("ProvenanceDateNotString", [](json& j) { j["provenance"]["date"] = 2024; },
                    "provenance.date"));

  // Missing fields.
  t.push_back(Field("MissingLayers", [](json& j) { j.erase("layers"); }, "layers"));
  t.push_back(Field("MissingInput", [](json& j) { j.erase("input"); }, "input"));
  t.push_back(Field("MissingWeightScales",
                    [](json& j) { j["layers"][0]["weight"].erase("scales"); },
                    "layers[0].weight.scales"));
  t.push_back(Field("MissingBias", [](json& j) { j["layers"][1].erase("bias"); }, "layers[1].bias"));
  t.push_back(Field("MissingGroups", [](json& j) { j["layers"][0].erase("groups"); },
                    "layers[0].groups"));
  t.push_back(Field("NoLayers", [](json& j) { j["layers"] = json::array(); }, "layers"));

  // Unknown op.
  t.push_back(Field("UnknownOp", [](json& j) { j["layers"][1]["op"] = "conv4d"; }, "layers[1].op"));

  // Shapes: overflow, memory cap, negative and zero dims, dims that do not fit.
  t.push_back(Field("ShapeProductOverflows",
                    [](json& j) { j["input"]["shape"] = {1 << 24, 1 << 24, 1 << 24, 1 << 24}; },
                    "input.shape"));
  t.push_back(Field("ShapeOverMemoryCap", [](json& j) { j["input"]["shape"] = {1, 2, 4096, 4097}; },
                    "input.shape"));
  t.push_back(Field("ShapeDimHuge", [](json& j) { j["input"]["shape"][0] = int64_t{1} << 40; },
                    "input.shape[0]"));
  t.push_back(Field("NegativeDim", [](json& j) { j["input"]["shape"][2] = -3; }, "input.shape[2]"));
  t.push_back(Field("ZeroDim", [](json& j) { j["layers"][0]["weight"]["shape"][1] = 0; },
                    "layers[0].weight.shape[1]"));
  t.push_back(Field("EmptyShape", [](json& j) { j["input"]["shape"] = json::array(); },
                    "input.shape"));
  t.push_back(Field("WeightDoesNotFitInput",
                    [](json& j) {
                      j["layers"][1]["weight"]["shape"] = {3, 5, 1, 2};
                      j["layers"][1]["weight"]["values"] = std::vector<int>(30, 0);
                    },
                    "layers[1]"));
  t.push_back(Field("ZeroStride", [](json& j) { j["layers"][0]["stride"][1] = 0; },
                    "layers[0].stride[1]"));
  t.push_back(Field("NegativePadding", [](json& j) { j["layers"][0]["padding"][0] = -1; },
                    "layers[0].padding[0]"));

  // Scales: zero, negative, infinite (JSON has no NaN: 1e400 parses as inf), null, subnormal.
  t.push_back(Field("InputScaleZero", [](json& j) { j["input"]["scales"][0] = 0.0; }, "input.scales"));
  t.push_back(Field("WeightScaleNegative",
                    [](json& j) { j["layers"][0]["weight"]["scales"][2] = -0.5; },
                    "layers[0].weight.scales"));
  t.push_back(Field("OutScaleZero", [](json& j) { j["layers"][1]["out_scale"] = 0; },
                    "layers[1].out_scale"));
  t.push_back(Field("OutScaleNegative", [](json& j) { j["layers"][0]["out_scale"] = -1.0; },
                    "layers[0].out_scale"));
  t.push_back(Field("ScaleNull", [](json& j) { j["input"]["scales"][0] = nullptr; },
                    "input.scales[0]"));
  t.push_back(Field("ScaleSubnormalAsFloat", [](json& j) { j["input"]["scales"][0] = 1e-40; },
                    "input.scales"));
  t.push_back(Field("ScaleTinyDouble", [](json& j) { j["input"]["scales"][0] = 5e-300; },
                    "input.scales"));
  t.push_back(Field("ScaleAboveFloatMax", [](json& j) { j["input"]["scales"][0] = 1e39; },
                    "input.scales"));
  t.push_back(Raw("ScaleInfinite", [] {
    std::string s = BaseJson().dump();
    const std::string key = "\"out_scale\":";
    const size_t at = s.find(key) + key.size();
    const size_t end = s.find_first_of(",}", at);
    return s.replace(at, end - at, "1e400");
  }, "1e400"));  // nlohmann refuses to parse it (number overflow): the message must still say so

  // Zero points.
  t.push_back(Field("InputZeroPointAbove255", [](json& j) { j["input"]["zero_points"][0] = 256; },
                    "input.zero_points"));
  t.push_back(Field("WeightZeroPointBelowQint8",
                    [](json& j) { j["layers"][0]["weight"]["zero_points"][1] = -129; },
                    "layers[0].weight.zero_points"));
  t.push_back(Field("OutZeroPointNegativeQuint8", [](json& j) { j["layers"][0]["out_zero_point"] = -1; },
                    "layers[0].out_zero_point"));
  t.push_back(Field("ZeroPointBeyondInt32",
                    [](json& j) { j["input"]["zero_points"][0] = int64_t{1} << 40; },
                    "input.zero_points[0]"));
  t.push_back(Field("ZeroPointBeyondInt64",
                    [](json& j) { j["input"]["zero_points"][0] = std::numeric_limits<uint64_t>::max(); },
                    "input.zero_points[0]"));

  // Values and lengths.
  t.push_back(Field("ValuesTooShort", [](json& j) { j["input"]["values"].erase(0); },
                    "input.values"));
  t.push_back(Field("ValuesTooLong", [](json& j) { j["layers"][1]["weight"]["values"].push_back(0); },
                    "layers[1].weight.values"));
  t.push_back(Field("ValueOutOfRange", [](json& j) { j["layers"][1]["weight"]["values"][3] = 128; },
                    "layers[1].weight.values"));
  t.push_back(Field("BiasTooShort", [](json& j) { j["layers"][0]["bias"].erase(3); },
                    "layers[0].bias"));
  t.push_back(Field("BiasTooLong", [](json& j) { j["layers"][0]["bias"].push_back(1.0); },
                    "layers[0].bias"));
  t.push_back(Field("BiasNotFloat32", [](json& j) { j["layers"][0]["bias"][2] = 0.1; },
                    "layers[0].bias[2]"));
  t.push_back(Field("BiasBeyondFloatMax", [](json& j) { j["layers"][0]["bias"][0] = 1e39; },
                    "layers[0].bias[0]"));
  t.push_back(Field("BiasString", [](json& j) { j["layers"][0]["bias"][1] = "0.5"; },
                    "layers[0].bias[1]"));
  t.push_back(Field("PerChannelScalesTooShort",
                    [](json& j) { j["layers"][0]["weight"]["scales"].erase(0); },
                    "layers[0].weight.scales"));
  t.push_back(Field("PerChannelZeroPointsTooLong",
                    [](json& j) { j["layers"][0]["weight"]["zero_points"].push_back(0); },
                    "layers[0].weight.zero_points"));
  t.push_back(Field("PerTensorTwoScales",
                    [](json& j) { j["input"]["scales"] = {0.5, 0.25}; }, "input.scales"));
  t.push_back(Field("WeightAxisOne", [](json& j) {
                      j["layers"][0]["weight"]["axis"] = 1;
                      j["layers"][0]["weight"]["scales"] = {0.5, 0.5};
                      j["layers"][0]["weight"]["zero_points"] = {0, 0};
                    },
                    "layers[0].weight.axis"));
  t.push_back(Field("AxisBeyondRank", [](json& j) { j["input"]["axis"] = 5; }, "input.axis"));
  return t;
}

class CaseJsonHostile : public ::testing::TestWithParam<Hostile> {};

TEST_P(CaseJsonHostile, ErrorNamesFileAndField) {
  const Hostile& h = GetParam();
  std::string text;
  if (h.raw) {
    text = h.raw();
  } else {
    json j = BaseJson();
    h.mutate(j);
    text = j.dump(1);
  }
  try {
    CaseFromJson(text, kSource);
    FAIL() << "accepted:\n" << text.substr(0, 2000);
  } catch (const CaseFileError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind(kSource, 0), 0u) << "message does not start with the source: " << msg;
    EXPECT_NE(msg.find(h.expect), std::string::npos)
        << "message does not contain \"" << h.expect << "\": " << msg;
  }
}

INSTANTIATE_TEST_SUITE_P(Table, CaseJsonHostile, ::testing::ValuesIn(HostileInputs()),
                         [](const ::testing::TestParamInfo<Hostile>& info) {
                           return std::string(info.param.name);
                         });

TEST(CaseJson, BaseOfHostileTableIsValid) {
  // Guards the table: every entry must fail because of its own mutation, not the base.
  EXPECT_NO_THROW(CaseFromJson(BaseJson().dump(1), kSource));
}

}  // namespace
}  // namespace qdiff
