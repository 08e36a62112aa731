// The checks beside campaigns: `fingerprint` (which scheme each engine implements),
// `quantize-check`, `dynamic-check` and `seed-example` (the forum question).
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include "harness/cli/command.h"
#include "harness/cli/flags.h"
#include "harness/checks/dynamic_check.h"
#include "harness/checks/fingerprint.h"
#include "harness/torch/libtorch_runner.h"
#include "harness/case/provenance.h"
#include "harness/checks/quantize_check.h"
#include "harness/checks/seed_example.h"
#include "reports/csv.h"
#include "reports/schema.h"

namespace qdiff {

namespace {

constexpr int64_t kFingerprintQuantizeTensors = 300;
constexpr int64_t kFingerprintDynamicCases = 200;

// Elements where an engine's linear_dynamic recipe missed LibTorch (no accepted case counts as
// a miss: nothing was compared).
int64_t DynamicMismatches(const DynamicCheckResult& r) {
  int64_t n = 0;
  for (const DynamicEngineCounts& e : r.engines) n += e.mismatches + (e.elements == 0 ? 1 : 0);
  return n;
}

int CommandFingerprint(const std::string& engines_flag, const std::string& schemes_flag,
                       const std::string& out_dir) {
  InitLibTorch();
  const std::vector<Engine> engines = ParseEngines(engines_flag);
  FingerprintResult r = RunFingerprint(engines, ParseSchemes(schemes_flag));
  RunOpFingerprint(engines, &r);
  // quantize_per_tensor / quantize_per_channel / dequantize: one kernel for every engine.
  std::ostringstream quantize_table;
  quantize_table << "\nquantize_per_tensor, quantize_per_channel, dequantize (every engine):\n";
  const QuantizeCheckResult q = RunQuantizeCheck(kFingerprintQuantizeTensors, 1, quantize_table);
  if (q.quantize_mismatches || q.dequantize_mismatches || q.elements == 0) {
    r.engine_recipes_reproduce = false;
  }
  r.table += quantize_table.str();
  // linear_dynamic: float activations quantized on the fly, per engine.
  std::ostringstream dynamic_table;
  dynamic_table << "\nlinear_dynamic, linear_relu_dynamic:\n";
  const DynamicCheckResult d =
      RunDynamicCheck(kFingerprintDynamicCases, 1, engines, dynamic_table);
  if (DynamicMismatches(d) > 0) r.engine_recipes_reproduce = false;
  r.table += dynamic_table.str();
  std::cout << "qdiff fingerprint: which scheme reproduces each engine (LibTorch " << LibTorchVersion()
            << ", CPU flags: " << CpuFlags() << ")\n" << r.table;
  std::filesystem::create_directories(out_dir);
  CsvWriter csv(FingerprintColumns());
  for (const FingerprintRow& row : r.rows) csv.AddRow(FingerprintToFields(row));
  const std::string path = out_dir + "/" + kFingerprintFile;
  csv.WriteFile(path);
  std::cout << "\nWrote " << path << "\n";
  return r.engine_recipes_reproduce ? kExitOk : kExitFindings;
}

}  // namespace

CommandDef FingerprintCommand() {
  return {"fingerprint", "which scheme reproduces each engine, op by op",
          [](CLI::App* fingerprint, const std::string&) -> std::function<int()> {
            struct Flags {
              std::string engines, schemes, out = "out/fingerprint";
            };
            auto f = std::make_shared<Flags>();
            fingerprint->add_option("--engines", f->engines, "comma list (default: every available engine)");
            fingerprint->add_option("--schemes", f->schemes, "comma list (default: all)");
            fingerprint->add_option("--out", f->out, "folder for fingerprint.csv (default: out/fingerprint)");
            SetHelpFooter(fingerprint, [] {
              return HelpValues{{"--engines", AllowedEngines()}, {"--schemes", AllowedSchemes()}};
            }, "qdiff fingerprint --engines qnnpack --out out/fingerprint-qnnpack");
            return [f] { return CommandFingerprint(f->engines, f->schemes, f->out); };
          }};
}

CommandDef QuantizeCheckCommand() {
  return {"quantize-check", "quantize_per_tensor/_per_channel and dequantize vs qdiff's formulas",
          [](CLI::App* check, const std::string&) -> std::function<int()> {
            struct Flags {
              std::string tensors = "2000", seed = "1";
            };
            auto f = std::make_shared<Flags>();
            check->add_option("--tensors", f->tensors, "random tensors (default 2000)");
            check->add_option("--seed", f->seed, "seed");
            SetHelpFooter(check, nullptr, "qdiff quantize-check --tensors 300 --seed 2");
            return [f] {
              const QuantizeCheckResult r = RunQuantizeCheck(
                  ParseInteger(f->tensors, "--tensors", 1, kMaxCases), ParseSeed(f->seed), std::cout);
              return r.quantize_mismatches + r.dequantize_mismatches > 0 ? kExitFindings : kExitOk;
            };
          }};
}

CommandDef DynamicCheckCommand() {
  return {"dynamic-check", "quantized::linear_dynamic (float activations) per engine vs qdiff's recipes",
          [](CLI::App* check, const std::string&) -> std::function<int()> {
            struct Flags {
              std::string cases = "1000", seed = "1", engines;
            };
            auto f = std::make_shared<Flags>();
            check->add_option("--cases", f->cases, "random cases (default 1000)");
            check->add_option("--seed", f->seed, "seed");
            check->add_option("--engines", f->engines, "comma list (default: all available)");
            SetHelpFooter(check, [] { return HelpValues{{"--engines", AllowedEngines()}}; },
                          "qdiff dynamic-check --cases 200 --engines onednn");
            return [f] {
              const int64_t n = ParseInteger(f->cases, "--cases", 1, kMaxCases);
              InitLibTorch();
              const DynamicCheckResult r =
                  RunDynamicCheck(n, ParseSeed(f->seed), ParseEngines(f->engines), std::cout);
              return DynamicMismatches(r) > 0 ? kExitFindings : kExitOk;
            };
          }};
}

CommandDef SeedExampleCommand() {
  return {"seed-example", "the forum question: the real forum model, Conv2d(1,1,1)+ReLU, in integers",
          [](CLI::App* example, const std::string&) -> std::function<int()> {
            auto options = std::make_shared<SeedExampleOptions>();
            example->add_option("--model", options->model,
                                "a TorchScript file of the forum's shape, run on every engine "
                                "(default: each engine's forum fixture of the build)");
            example->add_option("--input", options->input,
                                "float tensor file [N,1,H,W] (torch.save; default: "
                                "torch.randn(4,1,4,4) seeded with 1, the calibration data)");
            SetHelpFooter(example, nullptr, "qdiff seed-example --model build/tests/model_fixtures/ties_conv_manual_qnnpack_script.pt");
            // A model or input it cannot use throws, naming the file: main() exits 2.
            return [options] { return RunSeedExample(*options, std::cout); };
          }};
}

}  // namespace qdiff
