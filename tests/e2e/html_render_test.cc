// report.html as a person first sees it, in a real browser: headless Chromium loads the page from
// disk (no network). The rendered DOM holds, in order, the verdict panels, the op × engine
// matrix, the |diff| histograms with labelled axes, the grouped findings with their commands, and
// the full tables collapsed; the first screen's screenshot is a rendered page, not a blank one.
// Skipped only when /usr/bin/chromium is absent (scripts/setup.sh installs Debian's chromium).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "tests/support/qdiff_process.h"

namespace qdiff {
namespace {

std::string Chromium(const TempDir& dir, const std::string& what) {
  return "timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic "
         "--no-first-run --disable-background-networking --disable-component-update --disable-sync "
         "--hide-scrollbars --user-data-dir=" + Quote((dir.path() / "profile").string()) + " " + what +
         " 2>/dev/null";
}

// Width and height of a PNG file (its IHDR chunk), {0, 0} if it is not one.
std::pair<uint32_t, uint32_t> PngSize(const std::string& png) {
  if (png.size() < 24 || png.compare(1, 3, "PNG") != 0) return {0, 0};
  auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(png[at + i]);
    return v;
  };
  return {be32(16), be32(20)};
}

TEST(HtmlReport, RendersItsSectionsInHeadlessChromium) {
  if (access("/usr/bin/chromium", X_OK) != 0) {
    GTEST_SKIP() << "/usr/bin/chromium is not installed (Debian package chromium; scripts/setup.sh installs it)";
  }
  TempDir dir;
  const std::string out = (dir.path() / "run").string();
  // ties_up makes findings, so every section has content.
  const Result run = Qdiff("run --cases 60 --seed 2 --inject-defect ties_up" + DeterministicOps() + " --out " + Quote(out));
  ASSERT_EQ(run.exit_code, 1) << run.output;
  const std::string page = "file://" + out + "/report.html";
  const std::string dom = RunShell(Chromium(dir, "--dump-dom " + Quote(page))).output;
  // The sections, in reading order.
  size_t at = 0;
  for (const char* section : {"<h3>Verdict</h3>", "class=\"panel fail\"", "Reproduced bit for bit by:",
                              "Known LibTorch bugs", "<h3>Op \xC3\x97 engine</h3>", "class=\"matrix\"",
                              "class=\"o-unexplained\"", "<h3>|diff| by class</h3>", "<svg",
                              ">elements</text>", ">|diff| (LSB)</text>", "<h3>Findings</h3>",
                              "qdiff replay ", "qdiff explain ", "<details>", "Per layer op",
                              "Rejected by LibTorch"}) {
    const size_t p = dom.find(section, at);
    EXPECT_NE(p, std::string::npos) << "missing or out of order: " << section << "\n" << dom.substr(0, 1500);
    if (p != std::string::npos) at = p;
  }
  // The tables are collapsed: nothing of them before <details>.
  EXPECT_LT(dom.find("<h3>Findings</h3>"), dom.find("<details>"));
  EXPECT_EQ(dom.find("<details open"), std::string::npos);
  // The first screen: a 1400×1000 screenshot of a rendered page (a blank page compresses to a
  // few KiB).
  const std::string png_path = (dir.path() / "first_screen.png").string();
  RunShell(Chromium(dir, "--window-size=1400,1000 --screenshot=" + Quote(png_path) + " " + Quote(page)));
  const std::string png = ReadFile(png_path);
  EXPECT_EQ(PngSize(png), (std::pair<uint32_t, uint32_t>{1400, 1000}));
  EXPECT_GT(png.size(), 40u * 1024) << "the first screen looks blank";
  std::cout << "[ html ] report.html " << ReadFile(out + "/report.html").size() << " bytes, first screen PNG "
            << png.size() << " bytes\n";
}

}  // namespace
}  // namespace qdiff
