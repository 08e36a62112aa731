#include "harness/campaign/fresh_process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>

extern char** environ;

namespace qdiff {

std::string SelfExecutable() {
  // The literal /proc/self/exe, not its target: it still runs this very binary after the file
  // was rebuilt or replaced during a long campaign (the target would then be "... (deleted)").
  return access("/proc/self/exe", X_OK) == 0 ? "/proc/self/exe" : std::string();
}

int RunSelfInFreshProcess(const std::vector<std::string>& args) {
  std::string exe = SelfExecutable();
  if (exe.empty()) return -1;
  std::vector<char*> argv;
  argv.push_back(exe.data());
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace qdiff
