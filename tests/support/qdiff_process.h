// Helpers for tests that run the real qdiff binary (QDIFF_BINARY) as a user would.
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <algorithm>

#include "harness/campaign/journal.h"  // ParseJournalLine
#include "oracles/model.h"

namespace qdiff {

// `--ops` for tests of the campaign machinery (exit codes, byte-identical reruns, resume,
// shards): every op except conv_transpose2d, whose ONEDNN kernels return memory they never wrote
// in stride holes (a LibTorch finding kept in corpora/onednn_deconv_stride_holes.json; its
// values depend on the process's memory). Those tests are about qdiff's determinism.
inline std::string DeterministicOps() {
  std::string ops;
  for (OpKind op : kAllOpKinds) {
    if (op != OpKind::kConvTranspose2d) ops += (ops.empty() ? "" : ",") + std::string(OpKindName(op));
  }
  return " --ops " + ops;
}

namespace fs = std::filesystem;

struct Result {
  int exit_code = -1;  // -1: did not exit normally
  std::string output;  // stdout and stderr together
};

inline std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

// Runs a shell command; returns its output (stdout, plus stderr if the command redirects it)
// and its exit code.
inline Result RunShell(const std::string& cmd) {
  Result r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
  const int status = pclose(pipe);
  if (status != -1 && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  return r;
}

// Runs `qdiff ARGS` (ARGS already quoted as needed) through the shell, with optional
// environment assignments ("NAME=value ...") in front.
inline Result Qdiff(const std::string& args, const std::string& env = "") {
  return RunShell(env + (env.empty() ? "" : " ") + Quote(QDIFF_BINARY) + " " + args + " 2>&1");
}

// Starts `qdiff ARGS` in the background; Result::output is its pid.
inline Result Qdiff_Background(const std::string& args) {
  return RunShell(Quote(QDIFF_BINARY) + " " + args + " > /dev/null 2>&1 & echo $!");
}

inline std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// The case index below which a run folder's checkpoint (checkpoint.json) has counted every case;
// -1 while it has none. Tests kill a run once it is past 0.
inline int64_t CheckpointIndex(const fs::path& dir) {
  std::ifstream in(dir / "checkpoint.json", std::ios::binary);
  std::string line;
  std::getline(in, line);
  const std::optional<nlohmann::json> record = ParseJournalLine(line);
  return record ? record->value("next_index", int64_t{-1}) : -1;
}

// A fresh temporary folder, removed with the test suite.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "qdiff_test_XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace qdiff
