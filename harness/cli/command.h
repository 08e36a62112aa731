// The qdiff command line: one registration per command. A command adds its flags to its own
// CLI11 sub-app and returns the function that runs it once the command line parsed; that
// function returns the exit code (harness/cli/flags.h) or throws (the message names the flag,
// file or field; main prints it and exits 2).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

#include "reports/rows.h"

namespace qdiff {

struct CommandDef {
  const char* name;
  const char* help;  // "" hides the command from --help (the internal worker)
  std::function<int()> (*add)(CLI::App* command, const std::string& command_line);
};

// Every command, in the order --help lists them.
const std::vector<CommandDef>& AllCommands();

// The console tables of `run` and `report` (run_command.cc): per layer op on each engine's own
// scheme (or on `scheme`), the rejection rate, then per scheme summed over ops.
std::string FormatRunTables(const std::vector<SummaryRow>& summary, const std::vector<SummaryRow>& layer_summary,
                            const std::string& scheme = "");

// The registrations, one per file of harness/cli/.
CommandDef RunCommand();          // run_command.cc
CommandDef ThroughputCommand();   // run_command.cc
CommandDef WorkerCommand();       // run_command.cc
CommandDef ReplayCommand();       // case_commands.cc
CommandDef ShrinkCommand();       // case_commands.cc
CommandDef ExplainCommand();      // case_commands.cc
CommandDef ReportCommand();       // report_commands.cc
CommandDef MergeCommand();        // report_commands.cc
CommandDef FingerprintCommand();  // check_commands.cc
CommandDef QuantizeCheckCommand();  // check_commands.cc
CommandDef DynamicCheckCommand();   // check_commands.cc
CommandDef SeedExampleCommand();    // check_commands.cc
CommandDef InputsCommand();         // device_commands.cc
CommandDef CheckCommand();          // device_commands.cc
CommandDef ReproduceCommand();      // reproduce_command.cc
CommandDef ModelCommand();          // model_command.cc
CommandDef ExportCommand();         // model_command.cc

}  // namespace qdiff
