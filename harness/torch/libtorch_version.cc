// LoadedLibTorchVersion: the version of the libtorch_cpu.so this process loaded (see the header
// for the order of sources). Only the fallback needs a torch header.
#include "harness/torch/libtorch_version.h"

#include <link.h>
#include <torch/version.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace qdiff {

namespace fs = std::filesystem;

namespace {

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// The Version of installed package `name` (architecture `arch`, "" = any) in dpkg's status file.
std::string DpkgInstalledVersion(const std::string& name, const std::string& arch,
                                 const std::string& dpkg_dir) {
  std::istringstream status(ReadAll(fs::path(dpkg_dir) / "status"));
  std::string line, package, architecture, version, state;
  auto matches = [&] {
    return package == name && (arch.empty() || architecture == arch || architecture == "all") &&
           state.size() >= 10 && state.compare(state.size() - 10, 10, " installed") == 0;
  };
  while (std::getline(status, line)) {
    if (line.empty()) {  // end of a stanza
      if (matches()) return version;
      package.clear(), architecture.clear(), version.clear(), state.clear();
    } else if (line.rfind("Package: ", 0) == 0) {
      package = Trim(line.substr(9));
    } else if (line.rfind("Architecture: ", 0) == 0) {
      architecture = Trim(line.substr(14));
    } else if (line.rfind("Version: ", 0) == 0) {
      version = Trim(line.substr(9));
    } else if (line.rfind("Status: ", 0) == 0) {
      state = Trim(line.substr(8));
    }
  }
  return matches() ? version : "";
}

// Path of the loaded libtorch_cpu.so as the dynamic loader found it ("" if none).
std::string LoadedLibraryPath() {
  std::string found;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* out) {
        const std::string name = info->dlpi_name ? info->dlpi_name : "";
        if (fs::path(name).filename().string().rfind("libtorch_cpu.so", 0) != 0) return 0;
        *static_cast<std::string*>(out) = name;
        return 1;
      },
      &found);
  return found;
}

LibTorchVersionInfo Lookup() {
  LibTorchVersionInfo info;
  const std::string loaded = LoadedLibraryPath();
  std::error_code ec;
  info.library = loaded.empty() ? "" : fs::canonical(loaded, ec).string();
  if (ec) info.library = loaded;
  if (!info.library.empty()) {
    for (const std::string& path : {info.library, loaded}) {
      const std::string owner = DpkgOwnerVersion(path, "/var/lib/dpkg");
      if (owner.empty()) continue;
      info.version = DebianUpstreamVersion(owner.substr(owner.find(' ') + 1));
      info.source = "dpkg " + owner;
      return info;
    }
    // An official LibTorch: <prefix>/lib/libtorch_cpu.so and <prefix>/build-version ("1.13.1+cpu").
    const fs::path build_version = fs::path(info.library).parent_path().parent_path() / "build-version";
    const std::string text = Trim(ReadAll(build_version));
    if (!text.empty() && text.find('\n') == std::string::npos) {
      info.version = text;
      info.source = build_version.string();
      return info;
    }
    info.version = SonameVersion(info.library);
    if (!info.version.empty()) {
      info.source = "file name " + info.library;
      return info;
    }
  }
  info.version = TORCH_VERSION;
  info.source = "header TORCH_VERSION";
  return info;
}

}  // namespace

std::string DebianUpstreamVersion(const std::string& debian_version) {
  std::string v = debian_version;
  if (const size_t colon = v.find(':'); colon != std::string::npos) v.erase(0, colon + 1);  // epoch
  if (const size_t dash = v.rfind('-'); dash != std::string::npos) v.erase(dash);  // revision
  if (const size_t repack = v.find_first_of("+~"); repack != std::string::npos) v.erase(repack);
  return v;
}

std::string DpkgOwnerVersion(const std::string& path, const std::string& dpkg_dir) {
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(fs::path(dpkg_dir) / "info", ec)) {
    if (entry.path().extension() != ".list") continue;
    const std::string list = "\n" + ReadAll(entry.path());
    if (list.find("\n" + path + "\n") == std::string::npos) continue;
    const std::string owner = entry.path().stem().string();  // "libtorch1.13:amd64"
    const size_t colon = owner.find(':');
    const std::string name = owner.substr(0, colon);
    const std::string arch = colon == std::string::npos ? "" : owner.substr(colon + 1);
    const std::string version = DpkgInstalledVersion(name, arch, dpkg_dir);
    if (!version.empty()) return owner + " " + version;
  }
  return "";
}

std::string SonameVersion(const std::string& path) {
  static const std::regex kVersioned(R"(\.so\.(\d+\.\d+\.\d+)$)");
  std::smatch m;
  return std::regex_search(path, m, kVersioned) ? m[1].str() : "";
}

const LibTorchVersionInfo& LoadedLibTorchVersion() {
  static const LibTorchVersionInfo info = Lookup();
  return info;
}

}  // namespace qdiff
