// Re-running qdiff itself in a fresh process: a finding counts only if it reproduces with no
// state left over from the cases that ran before it.
#pragma once

#include <string>
#include <vector>

namespace qdiff {

// Path of this executable (/proc/self/exe); empty if it cannot be read.
std::string SelfExecutable();

// Runs this executable with `args`, output discarded, and waits for it.
// Returns its exit code, or -1 if it could not start or died from a signal.
int RunSelfInFreshProcess(const std::vector<std::string>& args);

}  // namespace qdiff
