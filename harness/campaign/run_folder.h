// A campaign's output folder (`qdiff run --out DIR`): owned by one process at a time, never
// overwritten by accident, and its journal trusted only line by line.
//
//   DIR/.lock          flock()ed for the whole run (released by the kernel when the process dies);
//                      holds the owner's pid for the message a second run prints
//   DIR/journal.jsonl  what --resume needs (harness/campaign/journal.h)
//   DIR/*.csv.partial  the streaming CSVs while the run goes on; renamed to DIR/*.csv when it
//                      finishes, so a finished run's CSVs are never truncated by a later command
#pragma once

#include <stdexcept>
#include <string>

namespace qdiff {

// The folder cannot be used as asked; the message names the folder and what to do.
class RunFolderError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class RunFolder {
 public:
  enum class Mode {
    kNew,        // the folder must be missing or empty
    kResume,     // the folder must hold a journal (continue that run)
    kOverwrite,  // a previous qdiff run folder (run.json or journal.jsonl) is emptied first;
                 // anything else is refused
  };
  // Creates `dir` if missing, takes its lock, then applies `mode`. Throws RunFolderError.
  RunFolder(std::string dir, Mode mode);
  ~RunFolder();
  RunFolder(const RunFolder&) = delete;
  RunFolder& operator=(const RunFolder&) = delete;

  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  int lock_fd_ = -1;
};

constexpr char kLockFile[] = ".lock";
constexpr char kPartialSuffix[] = ".partial";

}  // namespace qdiff
