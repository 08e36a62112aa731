// report.html renders in a real browser: headless Chromium loads the page from disk (no network)
// and the rendered DOM holds the summary table and the SVG histograms. Skipped when Debian's
// chromium is not installed (it is not one of qdiff's build dependencies).
#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/support/qdiff_process.h"

namespace qdiff {
namespace {

TEST(HtmlReport, RendersInHeadlessChromium) {
  if (access("/usr/bin/chromium", X_OK) != 0) GTEST_SKIP() << "chromium is not installed";
  TempDir dir;
  const std::string out = (dir.path() / "run").string();
  ASSERT_EQ(Qdiff("run --cases 60 --seed 2" + DeterministicOps() + " --out " + Quote(out)).exit_code, 0);
  const std::string cmd =
      "timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic "
      "--no-first-run --disable-background-networking --disable-component-update --disable-sync "
      "--user-data-dir=" + Quote((dir.path() / "profile").string()) +
      " --dump-dom " + Quote("file://" + out + "/report.html") + " 2>/dev/null";
  const std::string dom = RunShell(cmd).output;
  EXPECT_NE(dom.find("<table"), std::string::npos) << dom.substr(0, 500);
  EXPECT_NE(dom.find("<svg"), std::string::npos);
  EXPECT_NE(dom.find("qnnpack_fp32"), std::string::npos);
  EXPECT_NE(dom.find("double_rounding"), std::string::npos);
}

}  // namespace
}  // namespace qdiff
