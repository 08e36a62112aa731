// Where a result came from: qdiff version and git hash, LibTorch version, CPU flags, time.
#pragma once

#include <string>

namespace qdiff {

std::string QdiffVersion();
std::string QdiffGitHash();        // commit qdiff was built from ("unknown" outside git)
// The CPU flags that change LibTorch's integer results, from /proc/cpuinfo:
// "avx2 avx512f avx512_vnni avx_vnni" as present (space separated, this order).
std::string CpuFlags();
bool CpuHasVnni();                 // avx512_vnni or avx_vnni
std::string UtcNowIso8601();

}  // namespace qdiff
