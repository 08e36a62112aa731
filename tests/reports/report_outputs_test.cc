// Tests of the report outputs: JUnit XML, the HTML page, shard merge, baseline comparison.
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "reports/baseline.h"
#include "tests/support/class_counts.h"
#include "reports/findings.h"
#include "reports/html_report.h"
#include "reports/junit.h"
#include "reports/merge.h"
#include "reports/schema.h"
#include "reports/summary.h"

namespace qdiff {
namespace {

namespace fs = std::filesystem;

// ---- a small XML well-formedness checker (enough for our own output) -------------------------

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
         c == ':';
}

// Checks an entity reference starting at s[i] == '&'; advances i past ';'.
bool CheckEntity(const std::string& s, std::size_t& i) {
  const std::size_t end = s.find(';', i);
  if (end == std::string::npos) return false;
  const std::string ent = s.substr(i + 1, end - i - 1);
  static const std::set<std::string> named = {"amp", "lt", "gt", "quot", "apos"};
  bool ok = named.count(ent) > 0;
  if (!ok && ent.size() >= 2 && ent[0] == '#') {
    ok = ent.find_first_not_of("0123456789", 1) == std::string::npos;
  }
  i = end + 1;
  return ok;
}

// "" if `doc` is well-formed (optional <?xml ...?> and <!DOCTYPE ...>, one root element, no
// comments/CDATA), else a description of the first problem.
std::string XmlProblem(const std::string& doc) {
  std::size_t i = 0;
  auto skip_ws = [&] {
    while (i < doc.size() && std::isspace(static_cast<unsigned char>(doc[i]))) ++i;
  };
  if (doc.compare(0, 5, "<?xml") == 0) {
    i = doc.find("?>");
    if (i == std::string::npos) return "unterminated XML declaration";
    i += 2;
  }
  skip_ws();
  if (doc.compare(i, 9, "<!DOCTYPE") == 0) {
    i = doc.find('>', i);
    if (i == std::string::npos) return "unterminated DOCTYPE";
    ++i;
  }
  std::vector<std::string> stack;
  int roots = 0;
  while (i < doc.size()) {
    const char c = doc[i];
    if (c == '<') {
      if (i + 1 < doc.size() && doc[i + 1] == '/') {
        std::size_t j = i + 2;
        while (j < doc.size() && IsNameChar(doc[j])) ++j;
        const std::string name = doc.substr(i + 2, j - i - 2);
        while (j < doc.size() && std::isspace(static_cast<unsigned char>(doc[j]))) ++j;
        if (j >= doc.size() || doc[j] != '>') return "bad end tag </" + name;
        if (stack.empty() || stack.back() != name) {
          return "end tag </" + name + "> does not match <" +
                 (stack.empty() ? std::string("(none)") : stack.back()) + ">";
        }
        stack.pop_back();
        i = j + 1;
        continue;
      }
      std::size_t j = i + 1;
      while (j < doc.size() && IsNameChar(doc[j])) ++j;
      const std::string name = doc.substr(i + 1, j - i - 1);
      if (name.empty()) return "raw '<' at offset " + std::to_string(i);
      if (stack.empty()) {
        if (++roots > 1) return "second root element <" + name + ">";
      }
      std::set<std::string> attrs;
      for (;;) {
        const std::size_t before = j;
        while (j < doc.size() && std::isspace(static_cast<unsigned char>(doc[j]))) ++j;
        if (j >= doc.size()) return "unterminated tag <" + name;
        if (doc[j] == '>') {
          stack.push_back(name);
          ++j;
          break;
        }
        if (doc.compare(j, 2, "/>") == 0) {
          j += 2;
          break;
        }
        if (j == before) return "no space before attribute in <" + name;
        std::size_t k = j;
        while (k < doc.size() && IsNameChar(doc[k])) ++k;
        const std::string attr = doc.substr(j, k - j);
        if (attr.empty() || k >= doc.size() || doc[k] != '=') {
          return "bad attribute in <" + name + "> at offset " + std::to_string(j);
        }
        if (!attrs.insert(attr).second) return "duplicate attribute " + attr + " in <" + name;
        ++k;
        if (k >= doc.size() || (doc[k] != '"' && doc[k] != '\'')) {
          return "unquoted attribute " + attr + " in <" + name + ">";
        }
        const char q = doc[k++];
        while (k < doc.size() && doc[k] != q) {
          if (doc[k] == '<') return "raw '<' in attribute " + attr;
          if (doc[k] == '&') {
            if (!CheckEntity(doc, k)) return "bad entity in attribute " + attr;
          } else {
            ++k;
          }
        }
        if (k >= doc.size()) return "unterminated attribute " + attr;
        j = k + 1;
      }
      i = j;
      continue;
    }
    if (stack.empty() && !std::isspace(static_cast<unsigned char>(c))) {
      return "text outside the root element at offset " + std::to_string(i);
    }
    if (c == '&') {
      if (!CheckEntity(doc, i)) return "bad entity at offset " + std::to_string(i);
      continue;
    }
    if (c == '>') {
      // Allowed by XML in text, but our escaper always escapes it.
      return "raw '>' in text at offset " + std::to_string(i);
    }
    ++i;
  }
  if (!stack.empty()) return "unclosed <" + stack.back() + ">";
  if (roots != 1) return "no root element";
  return "";
}

// The text between the start tag of the testcase with this classname/name and its end tag.
std::string TestcaseBody(const std::string& xml, const std::string& classname,
                         const std::string& name, const std::string& time) {
  const std::string start =
      "<testcase classname=\"" + classname + "\" name=\"" + name + "\" time=\"" + time + "\">";
  const std::size_t b = xml.find(start);
  if (b == std::string::npos) return "(missing testcase " + classname + " " + name + ")";
  const std::size_t e = xml.find("</testcase>", b);
  return xml.substr(b + start.size(), e - b - start.size());
}

std::size_t Count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t p = haystack.find(needle); p != std::string::npos;
       p = haystack.find(needle, p + needle.size())) {
    ++n;
  }
  return n;
}

// ---- hand-made rows -------------------------------------------------------------------------

CaseRow Case(const std::string& id, const std::string& op, const std::string& engine,
             const std::string& scheme, const std::string& verdict,
             const std::string& message = "") {
  CaseRow c;
  c.case_id = id;
  c.seed = 1000 + id.size();
  c.op = op;
  c.engine = engine;
  c.scheme = scheme;
  c.weight_quant = "per_tensor";
  c.shape = "x1x3x8x8 w4x3x3x3 g1 s1 p1 d1";
  c.elements = 256;
  c.verdict = *ParseVerdict(verdict);
  c.message = message;
  return c;
}

DiscrepancyRow Disc(const std::string& id, const std::string& engine, const std::string& scheme,
                    int64_t layer, int64_t index, int64_t diff, const std::string& cls) {
  DiscrepancyRow d;
  d.case_id = id;
  d.engine = engine;
  d.scheme = scheme;
  d.layer = layer;
  d.index = index;
  d.channel = index % 4;
  d.acc = 1000 + index;
  d.bias = 0.1 * static_cast<double>(index);
  d.multiplier = 1518500250;
  d.shift = -7;
  d.real_multiplier = 0.0123456789;
  d.exact_value = 12.5 + static_cast<double>(index) / 3.0;
  d.integer_out = 13 + diff;
  d.libtorch_out = 13;
  d.float_out = 13;
  d.diff_lsb = diff;
  d.cls = ParseDiffClass(cls).value();  // throws on a name that is not a class
  return d;
}

class TempDirs : public ::testing::Test {
 protected:
  std::string NewDir(const std::string& tag) {
    std::string templ = (fs::temp_directory_path() / ("qdiff_outputs_" + tag + "_XXXXXX")).string();
    if (::mkdtemp(templ.data()) == nullptr) ADD_FAILURE() << std::strerror(errno);
    dirs_.push_back(templ);
    return templ;
  }
  void TearDown() override {
    for (const std::string& d : dirs_) {
      std::error_code ec;
      fs::remove_all(d, ec);
    }
  }

 private:
  std::vector<std::string> dirs_;
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---- the checker itself ---------------------------------------------------------------------

TEST(ReportOutputsXmlChecker, RejectsMalformedDocuments) {
  EXPECT_EQ(XmlProblem("<a><b x=\"1\"/>t &amp; &#39;</a>"), "");
  EXPECT_NE(XmlProblem("<a><b></a></b>"), "");
  EXPECT_NE(XmlProblem("<a>x & y</a>"), "");
  EXPECT_NE(XmlProblem("<a b=\"<\"/>"), "");
  EXPECT_NE(XmlProblem("<a>1 < 2</a>"), "");
  EXPECT_NE(XmlProblem("<a>"), "");
  EXPECT_NE(XmlProblem("<a/><b/>"), "");
  EXPECT_NE(XmlProblem("<a b=\"1\" b=\"2\"/>"), "");
}

// ---- JUnit ----------------------------------------------------------------------------------

SummaryRow Layer(const std::string& op, const std::string& engine, const std::string& scheme,
                 const std::string& kind, const std::string& name, int64_t count) {
  return SummaryRow{op, engine, scheme, kind, name, count};
}

// Two engines × three ops × two columns; per-layer counts as SummarizeLayers gives them.
RunContext JUnitContext() {
  RunContext ctx;
  ctx.engines = {"qnnpack", "onednn"};
  ctx.ops = {"conv2d", "linear", "add"};
  ctx.columns = {"exact", "qnnpack_fp32"};
  ctx.bug_corpora["add/qnnpack"] = {"corpora/qnnpack_add_shift_over_31.json", "corpora/other.json"};
  ctx.seconds = 9.0;
  ReportFinding f;
  f.key = "conv2d/qnnpack/unexplained";
  f.op = "conv2d";
  f.engine = "qnnpack";
  f.cls = "unexplained";
  f.schemes = {"exact"};
  f.cases = 2;
  f.file = "out/findings/s1-c000002.qnnpack.exact.shrunk.json";
  f.replay = "qdiff replay " + f.file;
  f.explain = "qdiff explain " + f.file + " --element 3";
  ReportFinding dead;
  dead.key = "linear>relu/*/*/crashed";
  dead.op = "linear>relu";
  dead.engine = "*";
  dead.cls = "crashed";
  dead.file = "out/findings/s1-c000005.json";
  dead.replay = "qdiff replay " + dead.file;
  ctx.findings = {f, dead};
  return ctx;
}

std::vector<SummaryRow> JUnitLayers() {
  return {
      Layer("conv2d", "qnnpack", "exact", "verdict", "exact", 1),
      Layer("conv2d", "qnnpack", "exact", "verdict", "unexplained", 2),
      Layer("conv2d", "qnnpack", "exact", "class", "tie", 2),
      Layer("conv2d", "qnnpack", "exact", "class", "unexplained", 3),
      Layer("linear", "qnnpack", "exact", "verdict", "crashed", 1),
      Layer("add", "qnnpack", "qnnpack_fp32", "verdict", "explained", 1),
      Layer("add", "qnnpack", "qnnpack_fp32", "class", "libtorch_bug", 4),
      Layer("linear", "onednn", "exact", "verdict", "rejected", 2),
      Layer("conv2d", "onednn", "exact", "verdict", "exact", 3),
      Layer("conv2d_relu", "onednn", "exact", "verdict", "exact", 2),  // family conv2d
  };
}

TEST(ReportOutputsJUnit, OneTestcasePerEngineOpColumnWithFailureErrorAndSkips) {
  const std::string xml = FormatJUnit(JUnitLayers(), JUnitContext());
  EXPECT_EQ(XmlProblem(xml), "") << xml;
  EXPECT_EQ(xml.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 0), 0u);
  EXPECT_EQ(Count(xml, "<testcase "), 12u) << xml;  // 2 engines × 3 ops × 2 columns
  EXPECT_EQ(Count(xml, "<testsuite "), 2u);
  // 8 testcases compared nothing (not exercised) + 1 known bug.
  EXPECT_NE(xml.find("<testsuites name=\"qdiff\" tests=\"12\" failures=\"1\" errors=\"1\" skipped=\"9\" time=\"9.000\">"),
            std::string::npos) << xml;
  EXPECT_NE(xml.find("<testsuite name=\"qnnpack\" tests=\"6\" failures=\"1\" errors=\"1\" skipped=\"4\" time=\"4.000\">"),
            std::string::npos) << xml;

  const std::string failing = TestcaseBody(xml, "qdiff.qnnpack.conv2d", "exact", "3.000");
  EXPECT_NE(failing.find("<failure type=\"unexplained\" message=\"2 unexplained layers, 3 unexplained elements; "
                         "findings: conv2d/qnnpack/unexplained\">"
                         "finding conv2d/qnnpack/unexplained: 2 cases\n"
                         "qdiff replay out/findings/s1-c000002.qnnpack.exact.shrunk.json\n"
                         "qdiff explain out/findings/s1-c000002.qnnpack.exact.shrunk.json --element 3\n</failure>"),
            std::string::npos) << failing;
  EXPECT_NE(failing.find("elements per class: tie 2 unexplained 3"), std::string::npos) << failing;
  // The finding names only the column it affects.
  EXPECT_EQ(TestcaseBody(xml, "qdiff.qnnpack.conv2d", "qnnpack_fp32", "0.000").find("<failure"), std::string::npos);

  const std::string crashed = TestcaseBody(xml, "qdiff.qnnpack.linear", "exact", "0.000");
  EXPECT_NE(crashed.find("<error type=\"crashed\" message=\"1 crashed layer\">qdiff replay out/findings/s1-c000005.json\n</error>"),
            std::string::npos) << crashed;

  const std::string bug = TestcaseBody(xml, "qdiff.qnnpack.add", "qnnpack_fp32", "1.000");
  EXPECT_NE(bug.find("<skipped message=\"known LibTorch bug (4 elements): corpora/qnnpack_add_shift_over_31.json, "
                     "corpora/other.json\"/>"),
            std::string::npos) << bug;

  const std::string rejected = TestcaseBody(xml, "qdiff.onednn.linear", "exact", "0.000");
  EXPECT_NE(rejected.find("<skipped message=\"not exercised: no layer compared (2 layers rejected by LibTorch)\"/>"),
            std::string::npos) << rejected;

  const std::string passing = TestcaseBody(xml, "qdiff.onednn.conv2d", "exact", "5.000");
  for (const char* tag : {"<failure", "<skipped", "<error"}) EXPECT_EQ(passing.find(tag), std::string::npos) << passing;
  EXPECT_NE(passing.find("<system-out>layers: exact 5\n</system-out>"), std::string::npos) << passing;
}

TEST(ReportOutputsJUnit, TestcasesDependOnTheConfigurationNotOnTheCounts) {
  RunContext ctx = JUnitContext();
  const std::string some = FormatJUnit(JUnitLayers(), ctx);
  const std::string none = FormatJUnit({}, ctx);
  auto testcases = [](const std::string& xml) {
    std::vector<std::string> out;
    for (size_t p = xml.find("<testcase "); p != std::string::npos; p = xml.find("<testcase ", p + 1)) {
      out.push_back(xml.substr(p, xml.find(" time=", p) - p));
    }
    return out;
  };
  EXPECT_EQ(testcases(some), testcases(none));
  // An op of the rows outside the configuration is added, not dropped.
  std::vector<SummaryRow> layers = JUnitLayers();
  layers.push_back(Layer("hardswish", "onednn", "exact", "verdict", "unexplained", 1));
  const std::string more = FormatJUnit(layers, ctx);
  EXPECT_EQ(Count(more, "<testcase "), 16u);  // + hardswish × 2 engines × 2 columns
  EXPECT_NE(TestcaseBody(more, "qdiff.onednn.hardswish", "exact", "0.900").find("<failure"), std::string::npos) << more;
}

TEST(ReportOutputsJUnit, EscapesEverything) {
  RunContext ctx;
  ctx.engines = {"eng\"ine"};
  ctx.ops = {"op<&>"};
  ctx.columns = {"sch'eme"};
  ReportFinding f;
  f.key = "op<&>/eng\"ine/unexplained";
  f.op = "op<&>";
  f.engine = "eng\"ine";
  f.schemes = {"sch'eme"};
  f.replay = "qdiff replay <dir>&/id<1>&\"'.json\x01\xff";
  ctx.findings = {f};
  const std::string xml = FormatJUnit({Layer("op<&>", "eng\"ine", "sch'eme", "verdict", "unexplained", 1)}, ctx);
  EXPECT_EQ(XmlProblem(xml), "") << xml;
  EXPECT_NE(xml.find("classname=\"qdiff.eng&quot;ine.op&lt;&amp;&gt;\" name=\"sch&#39;eme\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("qdiff replay &lt;dir&gt;&amp;/id&lt;1&gt;&amp;&quot;&#39;.json??"), std::string::npos) << xml;
}

TEST(ReportOutputsJUnit, XmlEscapeKeepsUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(XmlEscape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
  EXPECT_EQ(XmlEscape("tab\tnl\ncr\r"), "tab\tnl\ncr\r");
  EXPECT_EQ(XmlEscape(std::string("nul\0x", 5)), "nul?x");
  EXPECT_EQ(XmlEscape("\xc3\xa9 \xe2\x80\x93 \xf0\x9f\x98\x80"), "\xc3\xa9 \xe2\x80\x93 \xf0\x9f\x98\x80");
  EXPECT_EQ(XmlEscape("\xc3"), "?");              // truncated
  EXPECT_EQ(XmlEscape("\xc0\xaf"), "??");         // overlong
  EXPECT_EQ(XmlEscape("\xed\xa0\x80"), "???");    // surrogate
  EXPECT_EQ(XmlEscape("\xef\xbf\xbf"), "???");    // U+FFFF
}

TEST(ReportOutputsFindings, GroupKeyDropsTheSchemeOnly) {
  EXPECT_EQ(FindingGroupKey("conv2d/qnnpack/exact/unexplained"), "conv2d/qnnpack/unexplained");
  EXPECT_EQ(FindingGroupKey("conv2d/qnnpack/rndna/unexplained"), FindingGroupKey("conv2d/qnnpack/exact/unexplained"));
  EXPECT_NE(FindingGroupKey("conv2d/onednn/exact/unexplained"), FindingGroupKey("conv2d/qnnpack/exact/unexplained"));
  EXPECT_EQ(FindingGroupKey("conv2d_relu/qnnpack/kernel/tie"), "conv2d_relu/qnnpack/kernel/tie");  // its own group
  EXPECT_EQ(FindingGroupKey("conv2d>add/*/*/crashed"), "conv2d>add/*/*/crashed");
  EXPECT_EQ(FindingSignatureColumn("conv2d/qnnpack/rndna/unexplained"), "rndna");
  EXPECT_EQ(FindingSignatureColumn("conv2d/qnnpack/kernel/tie"), "kernel");
  EXPECT_EQ(FindingSignatureColumn("conv2d>add/*/*/crashed"), "");
  EXPECT_EQ(OpFamily("conv2d_relu"), "conv2d");
  EXPECT_EQ(OpFamily("add_relu"), "add");
  EXPECT_EQ(OpFamily("leaky_relu"), "leaky_relu");
  EXPECT_EQ(OpFamily("relu"), "relu");
}

TEST(ReportOutputsFindings, RunRecordRoundTripAndErrorsNameTheField) {
  const RunContext ctx = JUnitContext();
  nlohmann::json run = {{"findings", nlohmann::json::array()}};
  for (const ReportFinding& f : ctx.findings) run["findings"].push_back(FindingJson(f));
  const std::vector<ReportFinding> back = FindingsFromRunRecord(run, "d/run.json");
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].key, ctx.findings[0].key);
  EXPECT_EQ(back[0].schemes, ctx.findings[0].schemes);
  EXPECT_EQ(back[0].explain, ctx.findings[0].explain);
  EXPECT_EQ(back[1].replay, ctx.findings[1].replay);
  // A run.json from before the grouping (per-scheme signatures) is grouped when read.
  const nlohmann::json old = {{"findings", {{{"signature", "conv2d/qnnpack/exact/unexplained"}, {"case_id", "c1"}, {"file", "f1"}, {"count", 2}},
                                            {{"signature", "conv2d/qnnpack/rndna/unexplained"}, {"case_id", "c1"}, {"file", "f2"}, {"count", 3}}}}};
  const std::vector<ReportFinding> grouped = FindingsFromRunRecord(old, "old/run.json");
  ASSERT_EQ(grouped.size(), 1u);
  EXPECT_EQ(grouped[0].key, "conv2d/qnnpack/unexplained");
  EXPECT_EQ(grouped[0].schemes, (std::vector<std::string>{"exact", "rndna"}));
  EXPECT_EQ(grouped[0].cases, 3);
  EXPECT_EQ(grouped[0].replay, "qdiff replay f1");
  run["findings"][1].erase("schemes");
  try {
    FindingsFromRunRecord(run, "d/run.json");
    ADD_FAILURE() << "no error";
  } catch (const ReportError& e) {
    EXPECT_NE(std::string(e.what()).find("d/run.json: findings[1].schemes"), std::string::npos) << e.what();
  }
}

// ---- HTML -----------------------------------------------------------------------------------

std::vector<RunData> HtmlRuns() {
  RunData a;
  a.name = "nightly-1";
  a.cases = {
      Case("s1-c000001", "conv2d", "qnnpack", "exact", "exact"),
      Case("s1-c000003", "conv2d", "qnnpack", "exact", "unexplained"),
      Case("s1-c000002", "conv2d", "qnnpack", "exact", "unexplained"),
      Case("s1-c000004", "conv2d", "qnnpack", "exact", "explained"),
      Case("s1-c000010", "linear", "onednn", "exact", "rejected", "unsupported: per_channel"),
      Case("s1-c000011", "linear", "onednn", "exact", "rejected", "unsupported: per_channel"),
      Case("s1-c000012", "linear", "qnnpack", "exact", "exact"),
      Case("s1-c000008", "linear_relu", "onednn", "double_rounding", "explained"),
  };
  auto layer_op = [](DiscrepancyRow d, const std::string& op) {
    d.layer_op = op;
    return d;
  };
  a.discrepancies = {
      layer_op(Disc("s1-c000002", "qnnpack", "exact", 0, 3, 1, "unexplained"), "conv2d"),
      layer_op(Disc("s1-c000002", "qnnpack", "exact", 0, 7, 1, "tie"), "conv2d"),
      layer_op(Disc("s1-c000002", "qnnpack", "exact", 0, 9, -2, "unexplained"), "conv2d"),
      layer_op(Disc("s1-c000003", "qnnpack", "exact", 0, 1, 1, "unexplained"), "conv2d"),
      layer_op(Disc("s1-c000004", "qnnpack", "exact", 0, 1, 1, "tie"), "conv2d"),
      layer_op(Disc("s1-c000008", "onednn", "double_rounding", 0, 2, 5, "bias"), "linear_relu"),
      layer_op(Disc("s1-c000008", "onednn", "double_rounding", 0, 4, -200, "bias"), "linear_relu"),
      layer_op(Disc("s1-c000008", "onednn", "double_rounding", 0, 6, -7, "bias"), "linear_relu"),
  };
  a.context.engines = {"qnnpack", "onednn"};
  a.context.ops = {"conv2d", "linear"};
  a.context.own_scheme = {{"qnnpack", "exact"}, {"onednn", "exact"}};
  a.context.findings = {JUnitContext().findings[0]};
  RunData b;
  b.name = "nightly-2";
  b.cases = {Case("s1-c000001", "conv2d", "qnnpack", "exact", "explained")};
  b.discrepancies = {layer_op(Disc("s1-c000001", "qnnpack", "exact", 0, 0, 1, "tie"), "conv2d"),
                     layer_op(Disc("s1-c000001", "qnnpack", "exact", 0, 5, 1, "tie"), "conv2d")};
  for (RunData* run : {&a, &b}) run->cases = WithClassCounts(run->cases, run->discrepancies);
  return {a, b};
}

std::string WithoutDoctype(const std::string& html) {
  const std::string doctype = "<!DOCTYPE html>\n";
  EXPECT_EQ(html.rfind(doctype, 0), 0u);
  return html.substr(doctype.size());
}

TEST(ReportOutputsHtml, VerdictMatrixHistogramsFindingsThenCollapsedTables) {
  const std::vector<RunData> runs = HtmlRuns();
  const std::string html = FormatHtmlReport(runs);
  EXPECT_EQ(XmlProblem(WithoutDoctype(html)), "") << html;
  const std::string run1 = html.substr(html.find("<h2>Run nightly-1</h2>"), html.find("<h2>Run nightly-2</h2>") - html.find("<h2>Run nightly-1</h2>"));
  size_t at = 0;
  for (const char* section : {"<h3>Verdict</h3>", "<h3>Op \xC3\x97 engine</h3>", "<h3>|diff| by class</h3>",
                              "<h3>Findings</h3>", "<details>", "Per layer op", "Rejected by LibTorch"}) {
    const size_t p = run1.find(section, at);
    ASSERT_NE(p, std::string::npos) << section;
    at = p;
  }
  // Verdict: qnnpack has unexplained layers on its own scheme, onednn none.
  EXPECT_NE(run1.find("<div class=\"panel fail\">\n<h3>qnnpack: FAIL</h3>"), std::string::npos) << run1;
  EXPECT_NE(run1.find("<div class=\"panel pass\">\n<h3>onednn: PASS</h3>"), std::string::npos) << run1;
  EXPECT_NE(run1.find("Unexplained on exact: 2 layers, 3 elements; findings: 1"), std::string::npos) << run1;
  // Matrix: conv2d on qnnpack unexplained (2 of 4 layers), linear on onednn rejected.
  EXPECT_NE(run1.find("<tr><td class=\"t\">conv2d</td><td class=\"o-unexplained\">2 unexplained / 4</td>"
                      "<td class=\"o-none\">not run</td></tr>"),
            std::string::npos) << run1;
  EXPECT_NE(run1.find("<tr><td class=\"t\">linear</td><td class=\"o-exact\">exact / 1</td>"
                      "<td class=\"o-none\">rejected / 2</td></tr>"),
            std::string::npos) << run1;
  // One histogram per engine with differing elements, stacked by class, labelled axes.
  EXPECT_EQ(Count(run1, "<svg "), 2u);
  EXPECT_EQ(Count(run1, ">elements</text>"), 2u);
  EXPECT_EQ(Count(run1, ">|diff| (LSB)</text>"), 2u);
  EXPECT_NE(run1.find("<title>unexplained, |diff| 1 LSB: 2 elements</title>"), std::string::npos) << run1;
  EXPECT_NE(run1.find("<title>tie, |diff| 1 LSB: 2 elements</title>"), std::string::npos);
  EXPECT_NE(run1.find("<title>unexplained, |diff| 2 LSB: 1 element</title>"), std::string::npos);
  EXPECT_NE(run1.find("<title>bias, |diff| 128+ LSB: 1 element</title>"), std::string::npos);
  EXPECT_NE(run1.find("<title>bias, |diff| 4-7 LSB: 2 elements</title>"), std::string::npos);
  EXPECT_EQ(run1.find("|diff| 0 LSB"), std::string::npos);
  EXPECT_NE(run1.find("<figcaption>qnnpack: 5 elements of discrepancies.csv's example rows"), std::string::npos);
  // Findings by root cause with their commands.
  EXPECT_NE(run1.find("<tr><td class=\"t\">conv2d/qnnpack/unexplained</td><td class=\"t\">exact</td><td>2</td>"
                      "<td class=\"t\"><code>qdiff replay out/findings/s1-c000002.qnnpack.exact.shrunk.json</code>"
                      "<br/><code>qdiff explain out/findings/s1-c000002.qnnpack.exact.shrunk.json --element 3</code>"),
            std::string::npos) << run1;
  // The full tables (inside <details>): per layer op row of conv2d/qnnpack/exact: 4 layers = exact 1,
  // explained 1, unexplained 2 (flagged), rejected 0, degenerate 0; classes bias 0 | tie 2 | unexpl. 3.
  EXPECT_NE(run1.find("<td class=\"t\">conv2d</td><td class=\"t\">qnnpack</td><td class=\"t\">"
                      "exact</td><td>4</td><td>1</td><td>1</td><td class=\"bad\">2</td>"
                      "<td>0</td><td>0</td><td class=\"sep\">0</td><td>2</td>"
                      "<td class=\"bad\">3</td></tr>"),
            std::string::npos) << run1;
  EXPECT_NE(run1.find("<tr><td class=\"t\">onednn</td><td>2</td><td class=\"t\">unsupported: per_channel</td>"
                      "<td class=\"t\">linear</td></tr>"),
            std::string::npos) << run1;
  // Classes over runs.
  EXPECT_NE(html.find("<h2>Classes over runs</h2>"), std::string::npos);
  EXPECT_NE(html.find("<title>nightly-2: 2 elements of class tie</title>"), std::string::npos);
  EXPECT_NE(html.find("<title>nightly-1: 3 elements of class unexplained</title>"), std::string::npos);
}

TEST(ReportOutputsHtml, SingleRunHasNoClassesOverRuns) {
  const std::string html = FormatHtmlReport({HtmlRuns()[1]});
  EXPECT_EQ(XmlProblem(WithoutDoctype(html)), "") << html;
  EXPECT_EQ(html.find("Classes over runs"), std::string::npos);
  EXPECT_EQ(Count(html, "<svg "), 1u);
  EXPECT_NE(html.find("No findings."), std::string::npos);
}

// The page aggregates: ten times the cases (same ops, engines, schemes) is about the same size.
TEST(ReportOutputsHtml, SizeDoesNotGrowWithTheCases) {
  auto run = [](int n) {
    RunData r;
    r.name = "big";
    r.context = JUnitContext();
    for (int i = 0; i < n; ++i) {
      char id[32];
      std::snprintf(id, sizeof id, "s1-c%06d", i);
      for (const char* engine : {"qnnpack", "onednn"}) {
        for (const char* scheme : {"exact", "qnnpack_fp32"}) {
          r.cases.push_back(Case(id, i % 2 ? "conv2d" : "conv2d>add", engine, scheme, i % 3 ? "explained" : "unexplained",
                                 ""));
          for (int64_t k = 0; k < 5; ++k) {
            DiscrepancyRow d = Disc(id, engine, scheme, 0, k, 1 + (i + k) % 40, k == 0 && i % 3 == 0 ? "unexplained" : "tie");
            d.layer_op = "conv2d";
            r.discrepancies.push_back(d);
          }
        }
      }
    }
    return FormatHtmlReport({r});
  };
  const size_t small = run(200).size(), large = run(2000).size();
  EXPECT_LT(large, small + small / 5) << small << " -> " << large;
  EXPECT_LT(large, 100u * 1024);
}

TEST(ReportOutputsHtml, EscapesScriptInMessagesAndNames) {
  RunData run;
  run.name = "<script>alert('run')</script>";
  run.cases = {Case("c1", "linear", "onednn", "exact", "rejected",
                    "<script>alert(\"boom\")</script> & more"),
               Case("c<2>", "conv<2d>", "qnn&pack", "exact", "unexplained")};
  // (A class is one of the typed names, so hostile text reaches the page through the other fields.)
  run.discrepancies = {Disc("c<2>", "qnn&pack", "exact", 0, 1, 1, "unexplained")};
  run.context.findings = {JUnitContext().findings[0]};
  run.context.findings[0].replay = "qdiff replay findings/c<2>.json";
  const std::string html = FormatHtmlReport({run, run});
  EXPECT_EQ(XmlProblem(WithoutDoctype(html)), "") << html;
  EXPECT_EQ(html.find("<script"), std::string::npos) << html;
  EXPECT_NE(html.find("&lt;script&gt;alert(&quot;boom&quot;)&lt;/script&gt; &amp; more"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("<h2>Run &lt;script&gt;alert(&#39;run&#39;)&lt;/script&gt;</h2>"),
            std::string::npos);
  EXPECT_NE(html.find("conv&lt;2d"), std::string::npos);  // ('>' splits the chain into layer ops)
  EXPECT_NE(html.find("qdiff replay findings/c&lt;2&gt;.json"), std::string::npos);
}

TEST(ReportOutputsHtml, SelfContained) {
  const std::string html = FormatHtmlReport(HtmlRuns());
  for (const char* banned :
       {"http", "src=", "href=", "<link", "<script", "url(", "@import", "<img", "<iframe"}) {
    EXPECT_EQ(html.find(banned), std::string::npos) << banned;
  }
  EXPECT_NE(html.find("<style>"), std::string::npos);
  EXPECT_NE(html.find("<meta charset=\"utf-8\"/>"), std::string::npos);
}

TEST(ReportOutputsHtml, OrphanDiscrepancyIsAnError) {
  RunData run;
  run.name = "r";
  run.discrepancies = {Disc("nope", "qnnpack", "exact", 0, 0, 1, "tie")};
  EXPECT_THROW(FormatHtmlReport({run}), ReportError);
}

// ---- merge ----------------------------------------------------------------------------------

// 6 cases x 2 engines x 2 schemes in the order of an unsharded run (sorted), with discrepancies.
Report Combined() {
  Report r;
  for (int i = 0; i < 6; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "s7-c%06d", i);
    for (const char* engine : {"onednn", "qnnpack"}) {
      for (const char* scheme : {"double_rounding", "exact"}) {
        const bool bad = i % 3 == 1;
        CaseRow c = Case(id, i % 2 == 0 ? "conv2d" : "linear", engine, scheme,
                         bad ? "unexplained" : "exact");
        c.mean_signed_diff_lsb = 0.1 * i - 1.0 / 3.0;
        r.cases.push_back(c);
        if (bad) {
          for (int64_t layer = 0; layer < 2; ++layer) {
            for (int64_t index : {2, 11}) {
              r.discrepancies.push_back(Disc(id, engine, scheme, layer, index, 1, "unexplained"));
            }
          }
        }
      }
    }
  }
  return r;
}

// Shard k of n takes case indices i with i % n == k (as --shard k/n would).
Report Shard(const Report& all, int k, int n) {
  Report r;
  auto mine = [&](const std::string& id) { return std::stoi(id.substr(4)) % n == k; };
  for (const CaseRow& c : all.cases) {
    if (mine(c.case_id)) r.cases.push_back(c);
  }
  for (const DiscrepancyRow& d : all.discrepancies) {
    if (mine(d.case_id)) r.discrepancies.push_back(d);
  }
  return r;
}

void Write(const std::string& dir, const Report& r) {
  WriteReport(dir, r.cases, r.discrepancies, Summarize(r.cases, r.discrepancies));
}

class ReportOutputsMerge : public TempDirs {};

TEST_F(ReportOutputsMerge, TwoShardsEqualTheCombinedRun) {
  const Report all = Combined();
  const std::string a = NewDir("a"), b = NewDir("b"), whole = NewDir("whole"),
                    merged_dir = NewDir("merged");
  Write(a, Shard(all, 0, 2));
  Write(b, Shard(all, 1, 2));
  Write(whole, all);
  for (const std::vector<std::string>& order :
       {std::vector<std::string>{a, b}, std::vector<std::string>{b, a}}) {
    const Report merged = MergeShards(order);
    const Report expected = LoadReport(whole);
    ASSERT_EQ(merged.cases.size(), expected.cases.size());
    ASSERT_EQ(merged.discrepancies.size(), expected.discrepancies.size());
    for (std::size_t i = 0; i < merged.cases.size(); ++i) {
      EXPECT_EQ(CaseToFields(merged.cases[i]), CaseToFields(expected.cases[i])) << "case " << i;
    }
    for (std::size_t i = 0; i < merged.discrepancies.size(); ++i) {
      EXPECT_EQ(DiscrepancyToFields(merged.discrepancies[i]),
                DiscrepancyToFields(expected.discrepancies[i]))
          << "discrepancy " << i;
    }
    // Written back, the files are byte-identical to the unsharded run's.
    Write(merged_dir, merged);
    for (const char* file : {kCasesFile, kDiscrepanciesFile, kSummaryFile}) {
      EXPECT_EQ(Slurp(merged_dir + "/" + file), Slurp(whole + "/" + file)) << file;
    }
  }
}

TEST_F(ReportOutputsMerge, ThreeShardsInMemory) {
  const Report all = Combined();
  Report reversed = Shard(all, 1, 3);  // rows in any order within a shard
  std::reverse(reversed.cases.begin(), reversed.cases.end());
  std::reverse(reversed.discrepancies.begin(), reversed.discrepancies.end());
  const Report merged =
      MergeReports({Shard(all, 2, 3), reversed, Shard(all, 0, 3)}, {"x", "y", "z"});
  ASSERT_FALSE(reversed.discrepancies.empty());
  ASSERT_EQ(merged.cases.size(), all.cases.size());
  ASSERT_EQ(merged.discrepancies.size(), all.discrepancies.size());
  for (std::size_t i = 0; i < all.cases.size(); ++i) {
    EXPECT_EQ(CaseToFields(merged.cases[i]), CaseToFields(all.cases[i]));
  }
  for (std::size_t i = 0; i < all.discrepancies.size(); ++i) {
    EXPECT_EQ(DiscrepancyToFields(merged.discrepancies[i]),
              DiscrepancyToFields(all.discrepancies[i]));
  }
}

TEST_F(ReportOutputsMerge, DuplicateAcrossShardsNamesBothDirs) {
  const Report all = Combined();
  const std::string a = NewDir("dupA"), b = NewDir("dupB");
  Report shard_b = Shard(all, 1, 2);
  shard_b.cases.push_back(Shard(all, 0, 2).cases[4]);  // also in shard a
  Write(a, Shard(all, 0, 2));
  Write(b, shard_b);
  try {
    MergeShards({a, b});
    FAIL() << "no error";
  } catch (const ReportError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(a), std::string::npos) << what;
    EXPECT_NE(what.find(b), std::string::npos) << what;
    EXPECT_NE(what.find("s7-c000002"), std::string::npos) << what;
  }
}

TEST_F(ReportOutputsMerge, DuplicateWithinOneShardAndOrphanDiscrepancy) {
  const Report all = Combined();
  Report dup = Shard(all, 0, 2);
  dup.cases.push_back(dup.cases[0]);
  EXPECT_THROW(MergeReports({dup}, {"only"}), ReportError);

  Report a = Shard(all, 0, 2), b = Shard(all, 1, 2);
  a.discrepancies.push_back(b.discrepancies[0]);  // its case row is in b
  try {
    MergeReports({a, b}, {"dirA", "dirB"});
    FAIL() << "no error";
  } catch (const ReportError& e) {
    EXPECT_NE(std::string(e.what()).find("in dirA has no case row"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(MergeShards({}), ReportError);
  EXPECT_THROW(MergeShards({NewDir("empty")}), ReportError);  // no cases.csv
}

TEST(ReportOutputsCaseIdOrder, NumericRunsCompareByValue) {
  EXPECT_TRUE(CaseIdLess("s1-c000041", "s1-c000042"));
  EXPECT_TRUE(CaseIdLess("s1-c999999", "s1-c1000000"));
  EXPECT_FALSE(CaseIdLess("s1-c1000000", "s1-c999999"));
  EXPECT_TRUE(CaseIdLess("s2-c000001", "s10-c000000"));
  EXPECT_TRUE(CaseIdLess("c007", "c7"));  // equal value: bytewise
  EXPECT_FALSE(CaseIdLess("c7", "c7"));
  EXPECT_TRUE(CaseIdLess("a", "b"));
  EXPECT_TRUE(CaseIdLess("c1", "c1x"));
}

// ---- baseline -------------------------------------------------------------------------------

TEST(ReportOutputsBaseline, NewFixedPersisting) {
  Report baseline;
  baseline.cases = {Case("b1", "conv2d", "qnnpack", "exact", "unexplained"),
                    Case("b2", "linear", "onednn", "exact", "crashed"),
                    Case("b3", "linear", "qnnpack", "exact", "exact")};
  baseline.discrepancies = {Disc("b1", "qnnpack", "exact", 0, 1, 1, "unexplained"),
                            Disc("b1", "qnnpack", "exact", 0, 2, 1, "unexplained"),
                            Disc("b1", "qnnpack", "exact", 0, 3, 1, "tie")};
  Report current;
  current.cases = {Case("c1", "conv2d", "qnnpack", "exact", "unexplained"),
                   Case("c3", "conv2d", "qnnpack", "exact", "unexplained"),
                   Case("c2", "linear", "onednn", "exact", "exact"),
                   Case("c4", "conv2d", "onednn", "double_rounding", "timeout"),
                   Case("c5", "linear", "qnnpack", "exact", "explained")};
  current.discrepancies = {Disc("c1", "qnnpack", "exact", 0, 1, 1, "unexplained"),
                           Disc("c3", "qnnpack", "exact", 0, 1, -1, "unexplained"),
                           Disc("c3", "qnnpack", "exact", 1, 4, 1, "unexplained"),
                           Disc("c5", "qnnpack", "exact", 0, 1, 1, "unexplained"),
                           Disc("c5", "qnnpack", "exact", 0, 2, 1, "tie")};
  for (Report* r : {&baseline, &current}) r->cases = WithClassCounts(r->cases, r->discrepancies);
  const BaselineDiff diff = CompareWithBaseline(current, baseline);
  EXPECT_TRUE(diff.has_new());

  ASSERT_EQ(diff.new_findings.size(), 2u);
  EXPECT_EQ(diff.new_findings[0].signature,
            (FindingSignature{"conv2d", "onednn", "double_rounding", "timeout"}));
  EXPECT_EQ(diff.new_findings[0].current_cases, 1);
  EXPECT_EQ(diff.new_findings[0].current_elements, 0);
  EXPECT_EQ(diff.new_findings[1].signature,
            (FindingSignature{"linear", "qnnpack", "exact", "unexplained"}));
  EXPECT_EQ(diff.new_findings[1].current_cases, 1);
  EXPECT_EQ(diff.new_findings[1].current_elements, 1);
  EXPECT_EQ(diff.new_findings[1].current_case_ids, std::vector<std::string>{"c5"});

  ASSERT_EQ(diff.fixed.size(), 1u);
  EXPECT_EQ(diff.fixed[0].signature, (FindingSignature{"linear", "onednn", "exact", "crashed"}));
  EXPECT_EQ(diff.fixed[0].baseline_cases, 1);
  EXPECT_EQ(diff.fixed[0].current_cases, 0);

  ASSERT_EQ(diff.persisting.size(), 1u);
  const SignatureDelta& p = diff.persisting[0];
  EXPECT_EQ(p.signature, (FindingSignature{"conv2d", "qnnpack", "exact", "unexplained"}));
  EXPECT_EQ(p.baseline_cases, 1);
  EXPECT_EQ(p.baseline_elements, 2);
  EXPECT_EQ(p.current_cases, 2);
  EXPECT_EQ(p.current_elements, 3);
  EXPECT_EQ(p.current_case_ids, (std::vector<std::string>{"c1", "c3"}));

  const std::string text = FormatBaselineDiff(diff);
  EXPECT_EQ(text,
            "new findings (2):\n"
            "  conv2d  onednn   double_rounding  timeout      cases 0 -> 1  c4\n"
            "  linear  qnnpack  exact            unexplained  cases 0 -> 1  elements 0 -> 1  c5\n"
            "fixed (1):\n"
            "  linear  onednn   exact            crashed      cases 1 -> 0  b2\n"
            "persisting (1):\n"
            "  conv2d  qnnpack  exact            unexplained  cases 1 -> 2  elements 2 -> 3"
            "  c1, c3\n");
}

TEST(ReportOutputsBaseline, IdenticalReportsHaveNothingNewOrFixed) {
  Report r;
  r.cases = {Case("c1", "conv2d", "qnnpack", "exact", "unexplained")};
  const BaselineDiff diff = CompareWithBaseline(r, r);
  EXPECT_FALSE(diff.has_new());
  EXPECT_TRUE(diff.fixed.empty());
  EXPECT_EQ(diff.persisting.size(), 1u);
  const BaselineDiff none = CompareWithBaseline(Report{}, Report{});
  EXPECT_EQ(FormatBaselineDiff(none),
            "new findings (0):\n  none\nfixed (0):\n  none\npersisting (0):\n  none\n");
}

TEST(ReportOutputsBaseline, OrphanDiscrepancyNamesTheReport) {
  Report bad;
  bad.discrepancies = {Disc("x", "qnnpack", "exact", 0, 0, 1, "unexplained")};
  try {
    CompareWithBaseline(Report{}, bad);
    FAIL() << "no error";
  } catch (const ReportError& e) {
    EXPECT_NE(std::string(e.what()).find("baseline"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace qdiff
