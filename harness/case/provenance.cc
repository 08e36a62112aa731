#include "harness/case/provenance.h"

#include <cstdlib>

#include <ctime>
#include <fstream>
#include <set>
#include <sstream>

#ifndef QDIFF_VERSION
#define QDIFF_VERSION "0.0.0"
#endif
#include "qdiff_git_hash.h"  // generated at build time: #define QDIFF_GIT_HASH "<commit>"

namespace qdiff {

std::string QdiffVersion() { return QDIFF_VERSION; }
std::string QdiffGitHash() { return QDIFF_GIT_HASH; }

namespace {

std::set<std::string> ReadCpuFlags() {
  std::set<std::string> flags;
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    std::string w;
    while (words >> w) flags.insert(w);
    break;
  }
  return flags;
}

}  // namespace

std::string CpuFlags() {
  static const std::string kFlags = [] {
    const std::set<std::string> all = ReadCpuFlags();
    std::string out;
    // Every flag that changes which oneDNN / FBGEMM / ATen kernel runs.
    for (const char* f : {"avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni",
                          "avx512_bf16", "avx512_fp16", "amx_tile", "amx_int8", "amx_bf16"}) {
      if (all.count(f)) out += (out.empty() ? "" : " ") + std::string(f);
    }
    return out;
  }();
  return kFlags;
}

bool CpuHasAmxInt8() { return (" " + CpuFlags() + " ").find(" amx_int8 ") != std::string::npos; }

bool CpuHasVnni() {
  const std::string flags = " " + CpuFlags() + " ";
  return flags.find(" avx512_vnni ") != std::string::npos ||
         flags.find(" avx_vnni ") != std::string::npos;
}

std::vector<std::pair<std::string, std::string>> KernelEnvironment() {
  std::vector<std::pair<std::string, std::string>> env;
  for (const char* name : {"DNNL_MAX_CPU_ISA", "ONEDNN_MAX_CPU_ISA", "DNNL_CPU_ISA_HINTS",
                           "ONEDNN_CPU_ISA_HINTS", "DNNL_DEFAULT_FPMATH_MODE",
                           "ONEDNN_DEFAULT_FPMATH_MODE", "ATEN_CPU_CAPABILITY"}) {
    const char* value = std::getenv(name);
    env.emplace_back(name, value ? value : "");
  }
  return env;
}

std::string UtcNowIso8601() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace qdiff
