// junit.xml as CI reads it: the same testcases however many cases ran (one per engine × op ×
// scheme of the configuration), valid against a JUnit schema (tests/e2e/data/junit.xsd, checked
// with Debian's xmllint from libxml2-utils, which scripts/setup.sh installs), an unexplained
// finding a <failure> with its replay command, a crash an <error>, a known LibTorch bug a
// <skipped> naming its corpus file, and durations filled.
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "oracles/model.h"
#include "oracles/scheme.h"
#include "tests/support/qdiff_process.h"

namespace qdiff {
namespace {

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t p = haystack.find(needle); p != std::string::npos; p = haystack.find(needle, p + 1)) ++n;
  return n;
}

// (classname, name) of every testcase, in document order.
std::vector<std::pair<std::string, std::string>> Testcases(const std::string& xml) {
  std::vector<std::pair<std::string, std::string>> out;
  const std::regex re("<testcase classname=\"([^\"]*)\" name=\"([^\"]*)\" time=\"([0-9.]+)\"");
  for (auto it = std::sregex_iterator(xml.begin(), xml.end(), re); it != std::sregex_iterator(); ++it) {
    out.push_back({(*it)[1], (*it)[2]});
  }
  return out;
}

// The body of one testcase (between its start tag and </testcase>), "" if absent.
std::string Body(const std::string& xml, const std::string& classname, const std::string& name) {
  const size_t b = xml.find("<testcase classname=\"" + classname + "\" name=\"" + name + "\"");
  if (b == std::string::npos) return "";
  return xml.substr(b, xml.find("</testcase>", b) - b);
}

// The value of attribute `attr` of the first element `tag`.
std::string Attribute(const std::string& xml, const std::string& tag, const std::string& attr) {
  const size_t b = xml.find("<" + tag + " ");
  const size_t a = xml.find(" " + attr + "=\"", b);
  if (b == std::string::npos || a == std::string::npos) return "";
  const size_t v = a + attr.size() + 3;
  return xml.substr(v, xml.find('"', v) - v);
}

// Schema problems reported by xmllint ("" if valid); nullopt without xmllint.
std::optional<std::string> SchemaProblems(const std::string& file) {
  if (access("/usr/bin/xmllint", X_OK) != 0) return std::nullopt;
  const Result r = RunShell("/usr/bin/xmllint --noout --schema " +
                            Quote(std::string(QDIFF_SOURCE_DIR) + "/tests/e2e/data/junit.xsd") + " " +
                            Quote(file) + " 2>&1");
  return r.exit_code == 0 ? "" : r.output;
}

// The element counts of the root agree with the document: a dashboard shows those numbers.
void ExpectConsistentCounts(const std::string& xml) {
  EXPECT_EQ(Attribute(xml, "testsuites", "tests"), std::to_string(Count(xml, "<testcase ")));
  EXPECT_EQ(Attribute(xml, "testsuites", "failures"), std::to_string(Count(xml, "<failure ")));
  EXPECT_EQ(Attribute(xml, "testsuites", "errors"), std::to_string(Count(xml, "<error ")));
  EXPECT_EQ(Attribute(xml, "testsuites", "skipped"), std::to_string(Count(xml, "<skipped ")));
}

TEST(JUnitLayout, SameTestcasesForFewAndManyCasesValidAgainstTheSchema) {
  TempDir dir;
  std::map<int, std::string> xml;
  std::vector<std::string> engines;
  for (int cases : {30, 120}) {
    const std::string out = (dir.path() / ("run" + std::to_string(cases))).string();
    const Result run = Qdiff("run --cases " + std::to_string(cases) +
                             " --seed 5 --ops conv2d,linear --inject-defect ties_up --out " + Quote(out));
    ASSERT_EQ(run.exit_code, 1) << run.output;
    xml[cases] = ReadFile(out + "/junit.xml");
    engines = nlohmann::json::parse(ReadFile(out + "/run.json")).at("engines").get<std::vector<std::string>>();
    const std::optional<std::string> problems = SchemaProblems(out + "/junit.xml");
    if (!problems) {
      ADD_FAILURE() << "xmllint is missing: install libxml2-utils (scripts/setup.sh does)";
    } else {
      EXPECT_EQ(*problems, "") << xml[cases].substr(0, 2000);
    }
    ExpectConsistentCounts(xml[cases]);
  }
  // The configuration decides the testcases: engines × every op × every scheme, not the cases.
  const auto few = Testcases(xml[30]), many = Testcases(xml[120]);
  EXPECT_EQ(few, many);
  EXPECT_EQ(few.size(), engines.size() * std::size(kAllOpKinds) * AllSchemes().size());
  const std::set<std::pair<std::string, std::string>> distinct(few.begin(), few.end());
  EXPECT_EQ(distinct.size(), few.size());
  for (const std::string& engine : engines) {
    EXPECT_NE(xml[120].find("<testsuite name=\"" + engine + "\""), std::string::npos) << engine;
  }
  // The injected defect fails conv2d and linear on some engine; each failure names replayable files.
  const std::regex replay("qdiff replay (\\S+\\.json)");
  size_t failures = 0;
  for (const auto& [classname, name] : many) {
    const std::string body = Body(xml[120], classname, name);
    if (body.find("<failure type=\"unexplained\"") == std::string::npos) continue;
    ++failures;
    EXPECT_TRUE(classname.find(".conv2d") != std::string::npos || classname.find(".linear") != std::string::npos)
        << classname;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(body, m, replay)) << body;
    EXPECT_TRUE(fs::exists(m[1].str())) << m[1];
  }
  EXPECT_GT(failures, 0u) << xml[120].substr(0, 3000);
  // Durations: the layers that ran took time.
  EXPECT_NE(Attribute(xml[120], "testsuites", "time"), "0.000");
  const std::regex positive("<testcase [^>]*time=\"(0\\.0*[1-9]|[1-9])");
  EXPECT_TRUE(std::regex_search(xml[120], positive)) << xml[120].substr(0, 2000);
}

TEST(JUnitLayout, KnownLibTorchBugIsSkippedNamingItsCorpusFile) {
  TempDir dir;
  const std::string out = (dir.path() / "run").string();
  // QNNPACK's clamps scramble channels-last inputs (corpora/qnnpack_clamp_channels_last_scramble.json).
  const Result run = Qdiff("run --cases 60 --seed 1 --engines qnnpack --ops hardtanh,clamp,relu6 --out " + Quote(out));
  ASSERT_EQ(run.exit_code, 0) << run.output;  // a known bug is not a finding
  const std::string xml = ReadFile(out + "/junit.xml");
  const std::regex skipped("<skipped message=\"known LibTorch bug \\([0-9]+ elements?\\): ([^\"]*)\"/>");
  std::set<std::string> corpora;
  for (auto it = std::sregex_iterator(xml.begin(), xml.end(), skipped); it != std::sregex_iterator(); ++it) {
    const std::string list = (*it)[1];
    for (size_t b = 0; b < list.size();) {
      const size_t e = std::min(list.find(", ", b), list.size());
      corpora.insert(list.substr(b, e - b));
      b = e + 2;
    }
  }
  EXPECT_TRUE(corpora.count("corpora/qnnpack_clamp_channels_last_scramble.json")) << xml.substr(0, 3000);
  for (const std::string& c : corpora) EXPECT_TRUE(fs::exists(std::string(QDIFF_SOURCE_DIR) + "/" + c)) << c;
  EXPECT_EQ(xml.find("<failure"), std::string::npos);
  ExpectConsistentCounts(xml);
}

TEST(JUnitLayout, CrashedCaseIsAnErrorWithItsCaseFile) {
  TempDir dir;
  const std::string out = (dir.path() / "run").string();
  const Result run = Qdiff("run --cases 6 --seed 1 --ops conv2d --jobs 1 --out " + Quote(out),
                           "QDIFF_FAULT_INJECTION=segfault:2");
  ASSERT_EQ(run.exit_code, 1) << run.output;
  const std::string xml = ReadFile(out + "/junit.xml");
  const std::regex error("<error type=\"crashed\" message=\"[0-9]+ crashed layers?\">qdiff replay (\\S+\\.json)");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(xml, m, error)) << xml.substr(0, 3000);
  EXPECT_TRUE(fs::exists(m[1].str())) << m[1];
  EXPECT_NE(m[1].str().find("s1-c000002"), std::string::npos) << m[1];
  ExpectConsistentCounts(xml);
}

}  // namespace
}  // namespace qdiff
