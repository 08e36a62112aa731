#include "harness/campaign/run_folder.h"

#include "harness/campaign/journal.h"  // kJournalFile

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace qdiff {

namespace fs = std::filesystem;

namespace {

std::string OwnerPid(int fd) {
  char buf[32] = {};
  const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid.empty() ? "unknown" : pid;
}

bool HoldsEntriesBesidesLock(const std::string& dir) {
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    if (e.path().filename() != kLockFile) return true;
  }
  return false;
}

}  // namespace

RunFolder::RunFolder(std::string dir, Mode mode) : dir_(std::move(dir)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw RunFolderError(dir_ + ": cannot create the output folder: " + ec.message());
  if (!fs::is_directory(dir_)) throw RunFolderError(dir_ + ": --out exists and is not a folder");
  const std::string lock = dir_ + "/" + kLockFile;
  lock_fd_ = open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) throw RunFolderError(lock + ": cannot open the lock file: " + std::strerror(errno));
  if (flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const std::string owner = OwnerPid(lock_fd_);
    close(lock_fd_);
    lock_fd_ = -1;
    throw RunFolderError(dir_ + ": in use by another qdiff process (pid " + owner +
                         "); wait for it or choose another --out");
  }
  const std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(lock_fd_, 0) != 0 || pwrite(lock_fd_, pid.data(), pid.size(), 0) < 0) {
    // The pid only improves another process's message; the lock itself is held.
  }
  const bool has_run = fs::exists(dir_ + "/run.json") || fs::exists(dir_ + "/" + kJournalFile);
  switch (mode) {
    case Mode::kNew:
      if (HoldsEntriesBesidesLock(dir_)) {
        throw RunFolderError(dir_ + (has_run ? ": holds a previous run; continue it with --resume, "
                                               "replace it with --overwrite, or choose another --out"
                                             : ": is not empty; choose an empty or new --out"));
      }
      break;
    case Mode::kResume:
      if (!fs::exists(dir_ + "/" + kJournalFile)) {
        throw RunFolderError("--resume: " + dir_ + " holds no " + kJournalFile +
                             " (give the --out of the run to resume)");
      }
      break;
    case Mode::kOverwrite:
      if (!has_run && HoldsEntriesBesidesLock(dir_)) {
        throw RunFolderError("--overwrite: " + dir_ + " is not a qdiff run folder (no run.json or " +
                             kJournalFile + "); refusing to empty it");
      }
      for (const fs::directory_entry& e : fs::directory_iterator(dir_)) {
        if (e.path().filename() == kLockFile) continue;
        fs::remove_all(e.path(), ec);
        if (ec) throw RunFolderError(e.path().string() + ": cannot remove: " + ec.message());
      }
      break;
  }
}

RunFolder::~RunFolder() {
  if (lock_fd_ >= 0) close(lock_fd_);  // releases the flock
}

}  // namespace qdiff
