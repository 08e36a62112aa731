// Where a result came from: qdiff version and git hash, LibTorch version, CPU flags, time.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace qdiff {

std::string QdiffVersion();
std::string QdiffGitHash();        // commit qdiff was built from ("unknown" outside git)
// The CPU flags that change LibTorch's integer results, from /proc/cpuinfo:
// "avx2 avx512f avx512_vnni avx_vnni" as present (space separated, this order).
std::string CpuFlags();
bool CpuHasVnni();                 // avx512_vnni or avx_vnni
bool CpuHasAmxInt8();              // amx_int8 (Intel AMX tiles for int8)
// The environment variables that change which kernels LibTorch runs (oneDNN's ISA cap and hints,
// its floating-point math mode, ATen's CPU capability), each with its value ("" when unset), in
// a fixed order. Runs made under different values are different experiments: run.json records
// them and `qdiff merge` refuses to join shards that differ.
std::vector<std::pair<std::string, std::string>> KernelEnvironment();
std::string UtcNowIso8601();

}  // namespace qdiff
