// Small inputs cannot exhaust the machine, and bad input is refused clearly: a case file's total
// memory and work are bounded before anything is allocated, files are size-checked before they
// are read, the case schema is strict, absurd flag values are refused, and every message names
// its file, field or flag with the value made printable.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "harness/case/case_json.h"
#include "harness/case/case_limits.h"
#include "oracles/model_cost.h"
#include "tests/support/qdiff_process.h"

namespace qdiff {
namespace {

#define EXPECT_MENTIONS(result, text)                                              \
  EXPECT_NE((result).output.find(text), std::string::npos)                          \
      << "output does not mention \"" << (text) << "\":\n" << (result).output

const std::string kCorpusCase = std::string(QDIFF_SOURCE_DIR) + "/corpora/bias_half_lsb.json";

nlohmann::json CorpusCase() { return nlohmann::json::parse(ReadFile(kCorpusCase)); }

nlohmann::json LayerJson(const char* op) {
  return {{"op", op}, {"relu", false}, {"channels_last", false}};
}

// A one-pixel quint8 input followed by `layers`.
nlohmann::json OnePixelCase(const nlohmann::json& layers) {
  return {{"format", "qdiff-case"}, {"version", 2}, {"id", "bomb"}, {"seed", 0},
          {"description", ""}, {"expected_verdict", ""}, {"engines", nlohmann::json::array()},
          {"schemes", nlohmann::json::array()}, {"injected_defect", ""},
          {"input", {{"dtype", "quint8"}, {"shape", {1, 1, 1, 1}}, {"scales", {1.0}},
                     {"zero_points", {0}}, {"axis", -1}, {"values", {7}}}},
          {"layers", layers}};
}

// Writes `j` (or raw text) to DIR/name and returns `qdiff replay --quiet` on it.
Result Replay(const TempDir& dir, const std::string& name, const std::string& text,
              const std::string& flags = "") {
  const fs::path path = dir.path() / name;
  WriteFile(path, text);
  return Qdiff("replay --quiet " + Quote(path.string()) + flags);
}

// Issue item 7: a 1-pixel input upsampled to 4096×4096 by adaptive_avg_pool2d, then 63 relus,
// used to reach 7.4 GB in 23 s; a 1-pixel conv_transpose2d with dilation 4095 peaked at 4.2 GB.
TEST(CaseInputLimits, MemoryBombsAreRejectedBeforeAllocation) {
  TempDir dir;
  nlohmann::json layers = nlohmann::json::array();
  nlohmann::json pool = LayerJson("adaptive_avg_pool2d");
  pool["output_size"] = {4096, 4096};
  layers.push_back(pool);
  for (int i = 0; i < 63; ++i) layers.push_back(LayerJson("relu"));
  Result r = Replay(dir, "upsample.json", OnePixelCase(layers).dump());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, "upsample.json: rejected: too large (needs 176 GiB");
  EXPECT_MENTIONS(r, "limit 2 GiB");

  nlohmann::json deconv = LayerJson("conv_transpose2d");
  deconv.update({{"out_scale", 1.0}, {"out_zero_point", 0}, {"stride", {1, 1}}, {"padding", {0, 0}},
                 {"output_padding", {0, 0}}, {"dilation", {4095, 4095}}, {"groups", 1},
                 {"weight", {{"dtype", "qint8"}, {"shape", {1, 1, 2, 2}}, {"scales", {1.0}},
                             {"zero_points", {0}}, {"axis", -1}, {"values", {1, 1, 1, 1}}}},
                 {"bias", nullptr}, {"out_dtype", "quint8"}});
  r = Replay(dir, "deconv.json", OnePixelCase(nlohmann::json::array({deconv})).dump());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, "deconv.json: rejected: too large");
  // The limits are flags. A 64×64 upsample and a relu hold 8,193 elements: about 1.4 MiB at
  // 176 bytes per element with all nine schemes.
  pool["output_size"] = {64, 64};
  const std::string small = OnePixelCase(nlohmann::json::array({pool, LayerJson("relu")})).dump();
  r = Replay(dir, "small.json", small, " --max-case-gib 0.001");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, "small.json: rejected: too large (needs 0.00134 GiB");
  r = Replay(dir, "small.json", small, " --max-case-gib 0.01");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = Qdiff("replay --quiet --max-case-work 1 " + Quote(kCorpusCase));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, "multiply-adds");
}

// The cost model: elements held and multiply-adds, computed from the shapes alone.
TEST(CaseInputLimits, CostCountsEveryTensorAndTap) {
  const Case c = CaseFromJson(ReadFile(kCorpusCase), "corpus");
  const ModelCost cost = EstimateModelCost(c.model);
  const Layer& l = c.model.layers[0];
  const std::vector<int64_t> out = NodeShapes(c.model)[0];
  const int64_t outputs = ShapeElements(out);
  // conv: C/groups × kernel volume taps per output.
  int64_t taps = 1;
  for (size_t d = 1; d < l.weight.shape.size(); ++d) taps *= l.weight.shape[d];
  EXPECT_EQ(cost.multiply_adds, outputs * taps);
  EXPECT_EQ(cost.elements, c.model.input.NumElements() + outputs + l.weight.NumElements());

  nlohmann::json pool = LayerJson("avg_pool2d");
  pool.update({{"kernel", {65536, 65536}}, {"stride", {65536, 65536}}, {"padding", {32768, 32768}},
               {"ceil_mode", false}, {"count_include_pad", true}, {"divisor_override", 0}});
  const Case p = CaseFromJson(OnePixelCase(nlohmann::json::array({pool})).dump(), "pool");
  // A window over one pixel visits one pixel, whatever the kernel says.
  EXPECT_EQ(EstimateModelCost(p.model).multiply_adds, 1);
}

// Issue item 8: case files used to be read without a size limit (`replay /dev/zero` grew to
// 4.3 GB before reporting invalid JSON).
TEST(CaseInputLimits, FilesAreCheckedBeforeTheyAreRead) {
  TempDir dir;
  Result r = Qdiff("replay --quiet /dev/zero");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, "/dev/zero: not a regular file");
  r = Qdiff("replay --quiet " + Quote(dir.path().string()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, "is a folder, not a case file");
  // 1 MiB of spaces: over the file limit that --max-case-gib 0.01 implies (0.01 GiB / 32).
  r = Replay(dir, "big.json", std::string(1 << 20, ' '), " --max-case-gib 0.01");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, "big.json: rejected: the file has 1048576 bytes");
}

// Issue item 7 (time): replay, shrink and explain honour --case-timeout.
TEST(CaseInputLimits, ReplayShrinkAndExplainHonourTheCaseTimeout) {
  for (const std::string command : {"replay --quiet", "shrink", "explain --element 0"}) {
    const Result r = Qdiff(command + " --case-timeout 0.001 " + Quote(kCorpusCase));
    EXPECT_EQ(r.exit_code, 1) << command << ": " << r.output;
    EXPECT_MENTIONS(r, "timeout: still running after");
  }
}

// Issue item 12: unknown schemes, unknown keys, fields a layer does not use and duplicate keys
// used to be ignored or take the last value silently.
TEST(CaseInputLimits, CaseSchemaIsStrict) {
  TempDir dir;
  nlohmann::json c = CorpusCase();
  c["schemes"] = {"nope", "zzz"};
  Result r = Replay(dir, "schemes.json", c.dump());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, "field 'schemes[0]': unknown scheme \"nope\"");

  c = CorpusCase();
  c["layers"][0]["channel_last"] = true;
  r = Replay(dir, "typo.json", c.dump());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, "field 'layers[0].channel_last': not a field here");

  c = CorpusCase();
  nlohmann::json relu = LayerJson("relu");
  relu["weight"] = c["layers"][0]["weight"];
  c["layers"].push_back(relu);
  r = Replay(dir, "relu_weight.json", c.dump());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, "field 'layers[1].weight': not a field here");

  c = CorpusCase();
  c["input"]["colour"] = "blue";
  r = Replay(dir, "tensor_key.json", c.dump());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, "field 'input.colour'");

  std::string text = CorpusCase().dump();
  const size_t relu_at = text.find("\"relu\":false");
  ASSERT_NE(relu_at, std::string::npos);
  text.insert(relu_at, "\"relu\":true,");
  r = Replay(dir, "duplicate.json", text);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, "field 'layers[0].relu': the key occurs twice");
}

// Issue items 9 and 10: absurd flag values used to be accepted or clamped silently.
TEST(CaseInputLimits, AbsurdFlagValuesAreRefused) {
  TempDir dir;
  const std::string out = " --out " + Quote((dir.path() / "run").string());
  for (const auto& [args, flag] : std::vector<std::pair<std::string, std::string>>{
           {"run --budget inf", "--budget"},
           {"run --budget nan", "--budget"},
           {"run --cases 99999999999999999999", "--cases"},
           {"run --cases 1 --case-timeout 1e10", "--case-timeout"},
           {"run --cases 1 --case-timeout 1e9", "--case-timeout"},
           {"run --cases 1 --jobs 10000", "--jobs"},
           {"run --cases 1 --jobs 0", "--jobs"},
       }) {
    const Result r = Qdiff(args + out);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.output;
    EXPECT_MENTIONS(r, flag);
    EXPECT_FALSE(fs::exists(dir.path() / "run" / "journal.jsonl")) << args;
  }
  // A large but sane --jobs is capped to the cores (and memory), and says so.
  const Result r = Qdiff("run --cases 2 --ops relu --schemes exact --jobs 1000" + out);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_MENTIONS(r, "--jobs 1000 capped to");
}

// Issue item 15: messages without file or field, and values echoed raw.
TEST(CaseInputLimits, MessagesNameFileFieldAndPrintableValue) {
  TempDir dir;
  // A float32 multiplier that overflows used to surface as "Rational::FromDouble: non-finite".
  nlohmann::json c = CorpusCase();
  c["input"]["scales"] = {1e38};
  c["layers"][0]["out_scale"] = 1e-30;
  const fs::path overflow = dir.path() / "overflow.json";
  WriteFile(overflow, c.dump());
  Result r = Qdiff("explain --element 0 " + Quote(overflow.string()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, "overflow.json: field 'layers[0].out_scale': the multiplier");

  r = Qdiff("explain --element 1e23 " + Quote(kCorpusCase));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, "--element: expected an integer in [0, 1099511627776], got '1e23'");

  // Invalid UTF-8 and control characters in a value are escaped, never echoed raw.
  r = Replay(dir, "utf8.json", "{\"format\":\"qdiff-case\",\"version\":2,\"id\":\"x\",\"op\x01\":1}");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(r.output.find('\x01'), std::string::npos) << r.output;
  r = Qdiff("run --cases 1 --inject-defect " + Quote("bad\xff\x1b[31m") + " --out " +
            Quote((dir.path() / "run").string()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, "bad\\xff\\x1b[31m");
  EXPECT_EQ(r.output.find('\x1b'), std::string::npos) << r.output;

  // A discrepancy without its case row: the error names the file and line.
  const fs::path run = dir.path() / "rows";
  ASSERT_EQ(Qdiff("run --cases 20 --seed 2 --ops conv2d --schemes exact,onednn_fp32 --jobs 1 --out " +
                  Quote(run.string())).exit_code, 0);
  const std::string cases = ReadFile(run / "cases.csv");
  const std::string discrepancies = ReadFile(run / "discrepancies.csv");
  ASSERT_GT(std::count(discrepancies.begin(), discrepancies.end(), '\n'), 1) << "no discrepancy";
  fs::remove(run / "run.json");
  fs::remove(run / "journal.jsonl");  // a folder of CSVs made elsewhere
  WriteFile(run / "cases.csv", cases.substr(0, cases.find('\n') + 1));
  r = Qdiff("report " + Quote(run.string()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, (run / "discrepancies.csv").string() + ":2");
  EXPECT_MENTIONS(r, "has no row in " + (run / "cases.csv").string());

  // A wrong-typed run.json field in merge used to surface as nlohmann's type_error.302.
  const fs::path shard = dir.path() / "shard";
  ASSERT_EQ(Qdiff("run --cases 2 --ops relu --schemes exact --out " + Quote(shard.string())).exit_code, 0);
  nlohmann::json record = nlohmann::json::parse(ReadFile(shard / "run.json"));
  record["settings"]["shard_count"] = "two";
  WriteFile(shard / "run.json", record.dump());
  r = Qdiff("merge " + Quote(shard.string()) + " --out " + Quote((dir.path() / "m").string()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_MENTIONS(r, "field 'shard_count' has the wrong type");
  EXPECT_EQ(r.output.find("type_error"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace qdiff
