#include "harness/campaign/worker_process.h"

#include "harness/campaign/fresh_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace qdiff {

WorkerProcess::WorkerProcess(const std::vector<std::string>& args) {
  std::string exe = SelfExecutable();
  if (exe.empty()) throw std::runtime_error("cannot find /proc/self/exe to start a worker");
  int to_worker[2], from_worker[2];
  if (pipe2(to_worker, O_CLOEXEC) != 0 || pipe2(from_worker, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("cannot create worker pipes: ") + std::strerror(errno));
  }
  std::vector<char*> argv{exe.data()};
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, to_worker[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, from_worker[1], STDOUT_FILENO);
  const int rc = posix_spawn(&pid_, exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(to_worker[0]);
  close(from_worker[1]);
  in_fd_ = to_worker[1];
  out_fd_ = from_worker[0];
  if (rc != 0) {
    close(in_fd_);
    close(out_fd_);
    throw std::runtime_error(std::string("cannot start a worker: ") + std::strerror(rc));
  }
  signal(SIGPIPE, SIG_IGN);  // a dead worker must not kill the campaign through a write
}

WorkerProcess::~WorkerProcess() {
  Kill();
  if (in_fd_ >= 0) close(in_fd_);
  if (out_fd_ >= 0) close(out_fd_);
}

bool WorkerProcess::Send(const std::string& line) {
  const std::string text = line + "\n";
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(in_fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

bool WorkerProcess::ReadAvailable() {
  char buf[65536];
  const ssize_t n = read(out_fd_, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) return false;
  buffer_.append(buf, static_cast<size_t>(n));
  return true;
}

bool WorkerProcess::NextLine(std::string* line) {
  const size_t nl = buffer_.find('\n', scanned_);
  if (nl == std::string::npos) {
    scanned_ = buffer_.size();  // a long line arrives in several reads: each byte is scanned once
    return false;
  }
  line->assign(buffer_, 0, nl);
  buffer_.erase(0, nl + 1);
  scanned_ = 0;
  return true;
}

void WorkerProcess::Kill() {
  if (pid_ > 0 && ended_.empty()) {
    kill(pid_, SIGKILL);
    Wait();
  }
}

std::string WorkerProcess::Wait() {
  if (!ended_.empty() || pid_ <= 0) return ended_;
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    ended_ = "signal " + std::to_string(sig) + " (" + (sigabbrev_np(sig) ? std::string("SIG") + sigabbrev_np(sig) : "?") + ")";
  } else {
    ended_ = "exit " + std::to_string(WEXITSTATUS(status));
  }
  return ended_;
}

}  // namespace qdiff
