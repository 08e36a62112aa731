// qdiff command line: the commands of harness/cli/, each registered once (command.h). Exit codes:
// 0 nothing unexplained, 1 findings (unexplained, crashed, timeout), 2 usage or input error (the
// message names the bad flag, value, file or field).
#include <CLI/CLI.hpp>
#include <malloc.h>

#include <iostream>
#include <map>

#include "harness/case/provenance.h"
#include "harness/cli/command.h"
#include "harness/cli/flags.h"
#include "harness/torch/libtorch_runner.h"
#include "harness/torch/libtorch_version.h"
#include "reports/csv.h"  // Printable

namespace qdiff {

const std::vector<CommandDef>& AllCommands() {
  static const std::vector<CommandDef> commands = {
      RunCommand(),         ReplayCommand(),       ShrinkCommand(),       ExplainCommand(),
      ReportCommand(),      MergeCommand(),        FingerprintCommand(),  ThroughputCommand(),
      QuantizeCheckCommand(), DynamicCheckCommand(), SeedExampleCommand(), InputsCommand(),
      ReproduceCommand(),
      ModelCommand(),
      ExportCommand(),
      CheckCommand(),       WorkerCommand()};
  return commands;
}

namespace {

// `qdiff --version`: what a bug report needs to say which qdiff ran on which LibTorch.
std::string VersionText() {
  const LibTorchVersionInfo& torch = LoadedLibTorchVersion();
  return "qdiff " + QdiffVersion() + " (git " + QdiffGitHash() + ")\nLibTorch " + torch.version +
         " (from " + torch.source + (torch.library.empty() ? "" : "; " + torch.library) +
         ")\nengines: " + EngineList(AvailableEngines());
}

int Main(int argc, char** argv) {
  // Case after case allocates and frees the same large buffers (layer values, accumulators):
  // keep them in the heap up to 32 MiB each instead of mapping, zeroing and unmapping them every
  // time, and return free memory to the system only beyond 64 MiB. (A campaign worker, which
  // runs for hours, trims far sooner: RunCampaignWorker.)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  CLI::App app{"qdiff: differential tester of quantized inference (integer recipes vs LibTorch)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", VersionText, "qdiff's version and git hash, LibTorch's, the engines");
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);
  std::map<const CLI::App*, std::function<int()>> runners;
  std::string names;
  for (const CommandDef& c : AllCommands()) {
    CLI::App* sub = app.add_subcommand(c.name, c.help);
    if (*c.help == '\0') sub->group("");  // hidden from --help
    else names += (names.empty() ? "" : ", ") + std::string(c.name);
    runners[sub] = c.add(sub, command_line);
  }
  // After the commands: a subcommand inherits the footer set before it is added.
  app.footer("Example:\n  qdiff run --budget 60   (then: qdiff <command> --help lists its flags and values)");
  auto is_command = [&](const char* name) {
    try {
      return app.get_subcommand(name) != nullptr;
    } catch (const CLI::OptionNotFound&) {
      return false;
    }
  };
  if (argc > 1 && argv[1][0] != '-' && !is_command(argv[1])) {
    std::cerr << "qdiff: unknown command '" << Printable(argv[1]) << "' (commands: " << names << ")\n";
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version: printed, exit 0
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "qdiff: " << Printable(e.what()) << "\n";
    return kExitUsage;
  }
  try {
    for (const auto& [sub, run] : runners) {
      if (*sub) return run();
    }
  } catch (const std::exception& e) {
    // Usage, case-file, report and run-folder errors name their flag, file or field; echoed
    // values may come from a hostile file, so the message is made printable.
    std::cerr << "qdiff: " << Printable(e.what(), 4000) << "\n";
    return kExitUsage;
  }
  return kExitUsage;
}

}  // namespace
}  // namespace qdiff

int main(int argc, char** argv) { return qdiff::Main(argc, argv); }
