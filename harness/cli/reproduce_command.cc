// `qdiff reproduce`: a case file as a standalone Python script for an upstream bug report
// (harness/evaluation/python_reproducer.h). Exit 0 once written; 2 for a bad case file, an
// unknown or unavailable engine, or a case LibTorch rejects on every engine.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "harness/case/case_json.h"
#include "harness/case/provenance.h"
#include "harness/cli/command.h"
#include "harness/cli/flags.h"
#include "harness/evaluation/case_evaluation.h"
#include "harness/evaluation/python_reproducer.h"
#include "harness/torch/libtorch_runner.h"

namespace qdiff {
namespace {

// --engine (one engine, available here), else the case's engines that are available.
std::vector<Engine> ReproduceEngines(const Case& c, const std::string& flag,
                                     const std::string& path) {
  const std::vector<Engine> available = AvailableEngines();
  if (!flag.empty()) {
    const std::optional<Engine> e = ParseEngine(flag);
    if (!e) {
      throw UsageError("--engine: unknown engine '" + flag + "' (engines: " +
                       EngineList(std::vector<Engine>(std::begin(kAllEngines), std::end(kAllEngines))) + ")");
    }
    if (std::find(available.begin(), available.end(), *e) == available.end()) {
      throw UsageError("--engine: '" + flag + "' is not in this LibTorch build (available: " +
                       EngineList(available) + ")");
    }
    return {*e};
  }
  std::vector<Engine> unavailable;
  const std::vector<Engine> engines = CaseEngines(c, available, &unavailable);
  if (!unavailable.empty()) {
    std::cerr << path << ": not available here, skipped: " << EngineList(unavailable) << "\n";
  }
  if (engines.empty()) throw UsageError(path + ": field 'engines': none of them is available");
  return engines;
}

int CommandReproduce(const std::string& path, const std::string& out, const std::string& engine,
                     int repeat, const CaseFlags& flags) {
  const CaseLimits limits = flags.Limits();
  ArmTimeout(flags.TimeoutSeconds(), path);
  InitLibTorch();
  const Case c = LoadCaseFile(path, limits);
  std::vector<ReproducerEngine> expected;
  for (Engine e : ReproduceEngines(c, engine, path)) {
    ReproducerEngine r;
    std::string rejected;
    if (ReproducerExpectations(c, e, &r, &rejected)) {
      expected.push_back(std::move(r));
    } else {
      std::cerr << path << ": LibTorch " << EngineName(e) << " rejects the case, skipped: "
                << rejected << "\n";
    }
  }
  if (expected.empty()) {
    throw UsageError(path + ": LibTorch rejects the case on every engine: nothing to reproduce");
  }
  const std::string script = PythonReproducer(
      c, expected,
      {path, out, LibTorchVersion(), "qdiff " + QdiffVersion() + " (git " + QdiffGitHash() + ")",
       repeat});
  if (out.empty()) {
    std::cout << script;
    return kExitOk;
  }
  {
    std::ofstream f(out, std::ios::binary | std::ios::trunc);
    f << script;
    if (!f.flush()) throw UsageError("--out: cannot write " + out);
  }
  namespace fs = std::filesystem;
  std::error_code ec;  // executable for its #! line; a failure here is harmless
  fs::permissions(out, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                  fs::perm_options::add, ec);
  std::cout << "wrote " << out << " (" << expected.size()
            << " engine(s)); run: /usr/bin/python3 " << out << "\n";
  return kExitOk;
}

}  // namespace

CommandDef ReproduceCommand() {
  return {"reproduce", "write a case as a standalone Python script (torch only) for a bug report",
          [](CLI::App* reproduce, const std::string&) -> std::function<int()> {
            struct Flags {
              CaseFlags limits;
              std::string out, engine, repeat = "1";
            };
            auto f = std::make_shared<Flags>();
            f->limits.AddTo(reproduce, "seconds before reproduce stops as a timeout (default 120)");
            reproduce->add_option("--out", f->out, "the script to write (default: stdout)");
            reproduce->add_option("--engine", f->engine,
                                  "one engine (default: the case's engines available here)");
            reproduce->add_option("--repeat", f->repeat,
                                  "runs of each engine's model in the script, for a bug that needs "
                                  "earlier calls (default 1)");
            SetHelpFooter(reproduce, [] { return HelpValues{{"--engine", AllowedEngines()}}; },
                          "qdiff reproduce corpora/qnnpack_max_pool_dilated_padding.json --out repro.py");
            return [f] {
              return CommandReproduce(f->limits.path, f->out, f->engine,
                                      static_cast<int>(ParseInteger(f->repeat, "--repeat", 1, 1000)),
                                      f->limits);
            };
          }};
}

}  // namespace qdiff
