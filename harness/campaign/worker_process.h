// A worker process: this executable started with arguments, its stdin and stdout connected to
// pipes. The campaign talks to workers with one text line per message; a worker that crashes or
// hangs takes only itself down.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

namespace qdiff {

class WorkerProcess {
 public:
  // Starts /proc/self/exe with `args`. Throws std::runtime_error if it cannot.
  explicit WorkerProcess(const std::vector<std::string>& args);
  ~WorkerProcess();
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  int out_fd() const { return out_fd_; }  // poll() this for POLLIN / POLLHUP
  // Sends one line (a '\n' is appended). False if the worker is gone.
  bool Send(const std::string& line);
  // Reads what is available into the buffer; false on EOF (the worker exited or closed stdout).
  bool ReadAvailable();
  // Takes one complete line from the buffer, if there is one.
  bool NextLine(std::string* line);
  // SIGKILL, then reap. Idempotent.
  void Kill();
  // Reaps the process; returns a description of how it ended ("exit 0", "signal 11 (SIGSEGV)").
  std::string Wait();

 private:
  pid_t pid_ = -1;
  int in_fd_ = -1;   // worker's stdin
  int out_fd_ = -1;  // worker's stdout
  std::string buffer_;
  size_t scanned_ = 0;  // buffer_ holds no '\n' before this
  std::string ended_;
};

}  // namespace qdiff
