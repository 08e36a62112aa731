// The LibTorch version qdiff reports (run.json, case provenance, --version) is the loaded
// library's, checked against sources the lookup does not use: /proc/self/maps for the file, and
// dpkg-query or an official LibTorch's build-version for its version. (Debian's python3-torch is
// no such source: torch.__version__ prints "1.13.0a0" there, from the same 1.13.0 metadata as
// the headers.)
#include "harness/torch/libtorch_version.h"

#include <gtest/gtest.h>

#include <string>

#include "harness/torch/libtorch_runner.h"
#include "tests/support/qdiff_process.h"

namespace qdiff {
namespace {

std::string FirstLine(std::string s) { return s.substr(0, s.find('\n')); }

TEST(LibTorchVersion, IsTheLoadedLibrarys) {
  const LibTorchVersionInfo& info = LoadedLibTorchVersion();
  EXPECT_EQ(LibTorchVersion(), info.version);
  ASSERT_FALSE(info.library.empty()) << "no libtorch_cpu.so found in this process";
  EXPECT_NE(ReadFile("/proc/self/maps").find(info.library), std::string::npos) << info.library;
  const Result owner = RunShell("dpkg-query -S " + Quote(info.library) + " 2>/dev/null");
  if (owner.exit_code == 0) {  // "libtorch1.13:amd64: /usr/lib/.../libtorch_cpu.so.1.13.0"
    const std::string package = owner.output.substr(0, owner.output.find(": "));
    const std::string version =
        FirstLine(RunShell("dpkg-query -W -f='${Version}' " + Quote(package)).output);
    // "1.13.1+dfsg-4": the upstream version is followed by '+', '~', '-' or nothing.
    ASSERT_EQ(version.rfind(info.version, 0), 0u) << version << " vs " << info.version;
    ASSERT_TRUE(version.size() == info.version.size() ||
                std::string("+~-").find(version[info.version.size()]) != std::string::npos)
        << version << " vs " << info.version;
    EXPECT_NE(info.source.find(package), std::string::npos) << info.source;
    return;
  }
  const fs::path build_version = fs::path(info.library).parent_path().parent_path() / "build-version";
  if (!fs::exists(build_version)) GTEST_SKIP() << info.library << ": neither dpkg nor build-version knows it";
  EXPECT_EQ(info.version, FirstLine(ReadFile(build_version)));
}

TEST(LibTorchVersion, Parts) {
  EXPECT_EQ(DebianUpstreamVersion("1.13.1+dfsg-4"), "1.13.1");
  EXPECT_EQ(DebianUpstreamVersion("2:2.1.0~rc1-1"), "2.1.0");
  EXPECT_EQ(DebianUpstreamVersion("1.13.1"), "1.13.1");
  EXPECT_EQ(SonameVersion("/opt/lib/libtorch_cpu.so.1.13.1"), "1.13.1");
  EXPECT_EQ(SonameVersion("/usr/lib/libtorch_cpu.so.1.13"), "");
  EXPECT_EQ(SonameVersion("/opt/libtorch/lib/libtorch_cpu.so"), "");

  TempDir dpkg;
  fs::create_directories(dpkg.path() / "info");
  WriteFile(dpkg.path() / "info" / "other.list", "/usr/lib/x/libother.so\n");
  WriteFile(dpkg.path() / "info" / "libtorch1.13:amd64.list", "/usr/lib/x\n/usr/lib/x/libtorch_cpu.so.1.13.0\n");
  WriteFile(dpkg.path() / "status",
            "Package: libtorch1.13\nStatus: deinstall ok config-files\nArchitecture: i386\nVersion: 1.0-1\n\n"
            "Package: libtorch1.13\nStatus: install ok installed\nArchitecture: amd64\n"
            "Version: 1.13.1+dfsg-4\nDescription: x\n");
  EXPECT_EQ(DpkgOwnerVersion("/usr/lib/x/libtorch_cpu.so.1.13.0", dpkg.path().string()),
            "libtorch1.13:amd64 1.13.1+dfsg-4");
  EXPECT_EQ(DpkgOwnerVersion("/usr/lib/x/libtorch_cpu.so", dpkg.path().string()), "");
}

}  // namespace
}  // namespace qdiff
