// Which LibTorch this process runs: the version of the loaded libtorch_cpu.so, not the header's
// TORCH_VERSION (Debian's libtorch-dev 1.13.1+dfsg ships version.h, TorchConfigVersion.cmake and
// the soname file libtorch_cpu.so.1.13.0 all saying 1.13.0).
#pragma once

#include <string>

namespace qdiff {

struct LibTorchVersionInfo {
  std::string version;  // e.g. "1.13.1" (dpkg) or "1.13.1+cpu" (official build-version)
  std::string source;   // where it came from, e.g. "dpkg libtorch1.13:amd64 1.13.1+dfsg-4"
  std::string library;  // real path of the loaded libtorch_cpu.so ("" if none is loaded)
};

// Looked up once per process, first source that answers wins:
//   1. dpkg: the installed package whose file list holds the library (its Version field, upstream
//      part: epoch, "-<debian revision>" and "+dfsg"/"~" suffixes dropped);
//   2. an official LibTorch's <prefix>/build-version beside <prefix>/lib/libtorch_cpu.so;
//   3. the library file name's full x.y.z suffix (libtorch_cpu.so.1.13.1);
//   4. the header macro TORCH_VERSION (source "header TORCH_VERSION").
const LibTorchVersionInfo& LoadedLibTorchVersion();

// The parts of the lookup, for tests. dpkg_dir is normally /var/lib/dpkg.
// "1:1.13.1+dfsg-4" -> "1.13.1"; "1.13.1" -> "1.13.1".
std::string DebianUpstreamVersion(const std::string& debian_version);
// "<package>[:arch] <Version>" of the installed package listing `path` in dpkg_dir/info/*.list,
// or "" if none does.
std::string DpkgOwnerVersion(const std::string& path, const std::string& dpkg_dir);
// "1.13.1" from ".../libtorch_cpu.so.1.13.1"; "" unless the suffix has three numbers.
std::string SonameVersion(const std::string& path);

}  // namespace qdiff
