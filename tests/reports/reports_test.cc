// Tests of reports/: schemas, CSV writer/reader, summaries, error messages.
#include <sys/resource.h>
#include <unistd.h>

#include <gtest/gtest.h>
// fccp's header trips -Wstringop-truncation (strncpy of file names) under GCC 12.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-truncation"
#include <libfccp/csv.h>
#pragma GCC diagnostic pop

#include <cerrno>
#include <cfloat>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/class_counts.h"
#include "reports/csv.h"
#include "reports/rows.h"
#include "reports/schema.h"
#include "reports/summary.h"

namespace qdiff {
namespace {

namespace fs = std::filesystem;

uint64_t Bits(double d) {
  uint64_t u;
  std::memcpy(&u, &d, sizeof u);
  return u;
}
std::optional<uint64_t> Bits(std::optional<double> d) {  // empty: not applicable
  return d ? std::optional<uint64_t>(Bits(*d)) : std::nullopt;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Spit(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Doubles that fast-cpp-csv-parser's own float parser gets wrong (or that are edge cases).
const std::vector<double>& AwkwardDoubles() {
  static const std::vector<double> v = {0.1,
                                        1.0 / 3.0,
                                        5e-324,  // smallest subnormal
                                        1.7976931348623157e308,
                                        -0.0,
                                        2.2250738585072009e-308,  // largest subnormal
                                        DBL_MIN,
                                        -1e-310,
                                        0.30000000000000004,
                                        123456789.12345679,
                                        -2.5e-5,
                                        1e21,
                                        4.35};
  return v;
}

class ReportsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "qdiff_reports_XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr) << std::strerror(errno);
    dir_ = templ;
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir_, ec);
  }
  std::string Path(const std::string& name) const { return (fs::path(dir_) / name).string(); }

  std::string dir_;
};

CaseRow MakeCase(const std::string& id, const std::string& op, const std::string& engine,
                 const std::string& scheme, const std::string& verdict) {
  CaseRow c;
  c.case_id = id;
  c.seed = 7;
  c.op = op;
  c.engine = engine;
  c.scheme = scheme;
  c.weight_quant = "per_tensor";
  c.shape = "x1x3x8x8 w4x3x3x3 g1 s1 p1 d1";
  c.elements = 256;
  c.verdict = *ParseVerdict(verdict);
  return c;
}

DiscrepancyRow MakeDisc(const std::string& id, const std::string& engine, const std::string& scheme,
                        const std::string& cls) {
  DiscrepancyRow d;
  d.case_id = id;
  d.engine = engine;
  d.scheme = scheme;
  d.cls = ParseDiffClass(cls).value();  // throws on a name that is not a class
  return d;
}

// A valid cases.csv text with one data row (line 2); `edit` replaces field `column` of it.
std::string CasesCsvWith(const std::string& column, const std::string& value) {
  CaseRow c = MakeCase("s1-c000001", "linear", "qnnpack", "exact", "exact");
  std::vector<std::string> fields = CaseToFields(c);
  const auto& cols = CaseColumns();
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (cols[i] == column) fields[i] = value;
  }
  std::string text = FormatCsvLine(cols);
  text += FormatCsvLine(CaseToFields(c));  // line 2: valid
  std::string bad;
  for (std::size_t i = 0; i < fields.size(); ++i) bad += (i ? "," : "") + fields[i];
  text += bad + "\n";  // line 3: edited, written raw
  return text;
}

// Expects fn to throw ReportError whose message contains every needle.
template <class Fn>
void ExpectReportError(Fn fn, const std::vector<std::string>& needles) {
  try {
    fn();
    ADD_FAILURE() << "no ReportError thrown";
  } catch (const ReportError& e) {
    const std::string msg = e.what();
    for (const std::string& n : needles) {
      EXPECT_NE(msg.find(n), std::string::npos) << "message \"" << msg << "\" lacks \"" << n << "\"";
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Schemas and the writer

TEST(ReportsSchemaTest, ColumnCountsAndOrder) {
  EXPECT_EQ(CaseColumns().size(), 16u);
  EXPECT_EQ(DiscrepancyColumns().size(), 20u);
  EXPECT_EQ(SummaryColumns().size(), 6u);
  EXPECT_EQ(CaseColumns().front(), "case_id");
  EXPECT_EQ(CaseColumns()[11], "mean_signed_diff_lsb");
  EXPECT_EQ(CaseColumns().back(), "message");
  EXPECT_EQ(DiscrepancyColumns()[8], "bias");
  EXPECT_EQ(DiscrepancyColumns()[17], "cls");
  EXPECT_EQ(DiscrepancyColumns().back(), "recipe");
  EXPECT_EQ(SummaryColumns(),
            (std::vector<std::string>{"op", "engine", "scheme", "kind", "name", "count"}));
  EXPECT_EQ(CaseToFields(CaseRow{}).size(), 16u);
  EXPECT_EQ(DiscrepancyToFields(DiscrepancyRow{}).size(), 20u);
}

TEST(ReportsSchemaTest, FieldTextForms) {
  EXPECT_EQ(FormatDouble(0.1), "0.10000000000000001");
  EXPECT_EQ(FormatDouble(5e-324), "4.9406564584124654e-324");
  EXPECT_EQ(FormatDouble(-0.0), "-0");
  EXPECT_EQ(FormatDouble(std::numeric_limits<double>::quiet_NaN()), "nan");
  EXPECT_EQ(FormatDouble(-std::numeric_limits<double>::infinity()), "-inf");
  CaseRow c;
  c.seed = std::numeric_limits<uint64_t>::max();
  c.elements = -3;
  EXPECT_EQ(CaseToFields(c)[1], "18446744073709551615");
  EXPECT_EQ(CaseToFields(c)[7], "-3");
}

TEST(ReportsCsvTest, EscapeField) {
  EXPECT_EQ(CsvEscapeField("plain"), "plain");
  EXPECT_EQ(CsvEscapeField(""), "");
  EXPECT_EQ(CsvEscapeField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvEscapeField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvEscapeField(" lead"), "\" lead\"");
  EXPECT_EQ(CsvEscapeField("trail\t"), "\"trail\t\"");
  EXPECT_EQ(CsvEscapeField("in side"), "in side");
  EXPECT_EQ(CsvEscapeField("two\r\nlines"), "two  lines");
  EXPECT_EQ(CsvEscapeField("end\n"), "\"end \"");  // newline -> space -> trailing space
  EXPECT_EQ(FormatCsvLine({"a", "b,c", ""}), "a,\"b,c\",\n");
}

TEST(ReportsCsvTest, WriterRejectsWrongFieldCount) {
  CsvWriter w({"a", "b"});
  EXPECT_THROW(w.AddRow({"1"}), std::invalid_argument);
  w.AddRow({"1", "2"});
  EXPECT_EQ(w.contents(), "a,b\n1,2\n");
  EXPECT_EQ(w.num_rows(), 1u);
}

TEST_F(ReportsTest, AtomicWriteReplacesAndLeavesNoTemp) {
  const std::string p = Path("f.csv");
  Spit(p, "old content\n");
  WriteFileAtomically(p, "x,y\n1,2\n");
  EXPECT_EQ(Slurp(p), "x,y\n1,2\n");
  EXPECT_FALSE(fs::exists(p + ".tmp"));
}

// ---------------------------------------------------------------------------------------------
// Round trips

TEST_F(ReportsTest, GenericReadCsvRoundTripsAwkwardStrings) {
  const std::vector<std::string> cols = {"a", "b", "c"};
  const std::vector<std::vector<std::string>> rows = {
      {"a,b", "say \"hi\"", "  two leading"},
      {"trailing  ", "\ttab\t", ""},
      {"\"", "\"\"", ","},
      {"semi;colon", "x", "  "},
  };
  CsvWriter w(cols);
  for (const auto& r : rows) w.AddRow(r);
  w.WriteFile(Path("g.csv"));
  const std::string text = Slurp(Path("g.csv"));
  ASSERT_GE(text.size(), 2u);
  EXPECT_EQ(text.back(), '\n');
  EXPECT_NE(text[text.size() - 2], '\n');  // exactly one newline at the end
  EXPECT_EQ(ReadCsv(Path("g.csv"), cols), rows);
}

TEST_F(ReportsTest, CasesRoundTripBitExact) {
  std::vector<CaseRow> rows;
  const std::vector<std::string> strings = {
      "a,b", "say \"hi\"", "  leading", "trailing\t", "\"quoted\"", "x", "", ",", "a\"b,c\"d"};
  for (std::size_t i = 0; i < AwkwardDoubles().size(); ++i) {
    CaseRow c;
    c.case_id = "s1-c" + std::to_string(i) + (i % 2 ? ", odd" : "");
    c.seed = i == 0 ? std::numeric_limits<uint64_t>::max() : i * 1000003u;
    c.op = i % 3 ? "conv2d" : " conv2d_relu ";
    c.engine = strings[i % strings.size()].empty() ? "e" : strings[i % strings.size()];
    c.scheme = "double_rounding";
    c.weight_quant = strings[(i + 1) % strings.size()];
    c.shape = "x1x3x8x8 w4x3x3x3 g1 s1 p1 d1";
    c.elements = std::numeric_limits<int64_t>::max() - static_cast<int64_t>(i);
    c.mismatches_vs_libtorch = static_cast<int64_t>(i);
    c.mismatches_vs_float = 2 * static_cast<int64_t>(i);
    c.max_abs_diff_lsb = 3;
    c.mean_signed_diff_lsb = AwkwardDoubles()[i];
    c.verdict = Verdict::kUnexplained;
    c.classes = "tie:3;bias:1";
    c.message = strings[(i + 2) % strings.size()];
    rows.push_back(c);
  }
  CaseRow nl = rows[0];
  nl.message = "line one\nline two\r\nthree";
  nl.shape = "ends with newline\n";
  rows.push_back(nl);

  WriteCases(Path(kCasesFile), rows);
  const std::vector<CaseRow> back = ReadCases(Path(kCasesFile));
  ASSERT_EQ(back.size(), rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    SCOPED_TRACE(i);
    const CaseRow& a = rows[i];
    const CaseRow& b = back[i];
    EXPECT_EQ(b.case_id, a.case_id);
    EXPECT_EQ(b.seed, a.seed);
    EXPECT_EQ(b.op, a.op);
    EXPECT_EQ(b.engine, a.engine);
    EXPECT_EQ(b.scheme, a.scheme);
    EXPECT_EQ(b.weight_quant, a.weight_quant);
    EXPECT_EQ(b.elements, a.elements);
    EXPECT_EQ(b.mismatches_vs_libtorch, a.mismatches_vs_libtorch);
    EXPECT_EQ(b.mismatches_vs_float, a.mismatches_vs_float);
    EXPECT_EQ(b.max_abs_diff_lsb, a.max_abs_diff_lsb);
    EXPECT_EQ(Bits(b.mean_signed_diff_lsb), Bits(a.mean_signed_diff_lsb))
        << *a.mean_signed_diff_lsb << " read back as " << b.mean_signed_diff_lsb.value_or(-0.0);
    EXPECT_EQ(b.verdict, a.verdict);
    EXPECT_EQ(b.classes, a.classes);
    if (i + 1 < rows.size()) {
      EXPECT_EQ(b.shape, a.shape);
      EXPECT_EQ(b.message, a.message);
    }
  }
  // Raw newlines were replaced by spaces.
  EXPECT_EQ(back.back().message, "line one line two  three");
  EXPECT_EQ(back.back().shape, "ends with newline ");
}

TEST_F(ReportsTest, ReportRoundTripAllFieldsBitExact) {
  std::vector<CaseRow> cases = {MakeCase("c1", "conv2d", "onednn", "exact", "unexplained")};
  std::vector<DiscrepancyRow> discs;
  const auto& dbl = AwkwardDoubles();
  for (std::size_t i = 0; i < dbl.size(); ++i) {
    DiscrepancyRow d = MakeDisc("c1", "onednn", "exact", i % 2 ? "tie" : "bias");
    d.recipe = i % 2 ? "exact" : "bias, \"odd\"";  // a field that needs CSV quoting
    d.layer = 1;
    d.index = static_cast<int64_t>(i) * 17;
    d.channel = static_cast<int64_t>(i % 4);
    d.acc = i == 0 ? std::numeric_limits<int64_t>::min() : -123456789;
    d.integer_bias = -42;
    d.bias = dbl[i];
    d.multiplier = 1518500250;
    d.shift = -7;
    d.real_multiplier = dbl[(i + 1) % dbl.size()];
    d.exact_value = dbl[(i + 2) % dbl.size()];
    d.integer_out = -128;
    d.libtorch_out = 127;
    d.float_out = -1;
    d.diff_lsb = -255;
    if (i % 3 == 2) {  // an op without weights, a float oracle of another shape: empty cells
      d.acc.reset(), d.integer_bias.reset(), d.bias.reset(), d.multiplier.reset(), d.shift.reset();
      d.float_out.reset();
    } else if (i % 3 == 1) {  // 0 is a value, not "not applicable"
      d.integer_bias = 0, d.multiplier = 0, d.shift = 0, d.bias = 0.0;
    }
    discs.push_back(d);
  }
  const std::vector<SummaryRow> summary = Summarize(cases, discs);
  WriteReport(dir_, cases, discs, summary);
  for (const char* f : {kCasesFile, kDiscrepanciesFile, kSummaryFile}) {
    EXPECT_TRUE(fs::exists(Path(f))) << f;
    EXPECT_FALSE(fs::exists(Path(f) + ".tmp")) << f;
  }
  const Report back = LoadReport(dir_);
  ASSERT_EQ(back.cases.size(), 1u);
  EXPECT_EQ(CaseToFields(back.cases[0]), CaseToFields(cases[0]));
  ASSERT_EQ(back.discrepancies.size(), discs.size());
  for (std::size_t i = 0; i < discs.size(); ++i) {
    SCOPED_TRACE(i);
    const DiscrepancyRow& a = discs[i];
    const DiscrepancyRow& b = back.discrepancies[i];
    EXPECT_EQ(DiscrepancyToFields(b), DiscrepancyToFields(a));
    EXPECT_EQ(Bits(b.bias), Bits(a.bias));
    EXPECT_EQ(Bits(b.real_multiplier), Bits(a.real_multiplier));
    EXPECT_EQ(Bits(b.exact_value), Bits(a.exact_value));
    EXPECT_EQ(b.acc, a.acc);
    EXPECT_EQ(b.integer_bias, a.integer_bias);
    EXPECT_EQ(b.multiplier, a.multiplier);
    EXPECT_EQ(b.shift, a.shift);
    EXPECT_EQ(b.float_out, a.float_out);
    EXPECT_EQ(b.cls, a.cls);
  }
  const std::vector<SummaryRow> s2 = ReadSummary(Path(kSummaryFile));
  ASSERT_EQ(s2.size(), summary.size());
  for (std::size_t i = 0; i < s2.size(); ++i) EXPECT_EQ(SummaryToFields(s2[i]), SummaryToFields(summary[i]));
}

// Documents why doubles are read as text: fccp's own double parser is not correctly rounded.
TEST_F(ReportsTest, FccpDoubleParserIsInexactForTheseValues) {
  CsvWriter w({"v"});
  for (double d : AwkwardDoubles()) w.AddRow({FormatDouble(d)});
  w.WriteFile(Path("d.csv"));
  io::CSVReader<1, io::trim_chars<' ', '\t'>, io::double_quote_escape<',', '"'>> r(Path("d.csv"));
  r.read_header(io::ignore_no_column, "v");
  int wrong = 0;
  double v;
  for (double d : AwkwardDoubles()) {
    ASSERT_TRUE(r.read_row(v));
    wrong += Bits(v) != Bits(d);
  }
  EXPECT_GT(wrong, 0);
}

// ---------------------------------------------------------------------------------------------
// Summaries

// Hand-made table:
//   conv2d/onednn/exact:   c1 unexplained (disc: tie, tie, bias), c2 exact, c3 unexplained (tie)
//   conv2d/qnnpack/exact:  c6 explained (disc: tie); c6 exists only on qnnpack, so a join that
//                          ignores the engine finds no case
//   linear/onednn/exact:   c4 rejected, c5 timeout
//   conv2d/onednn/double_rounding: c1 exact
std::vector<CaseRow> HandCases() {
  return {MakeCase("c1", "conv2d", "onednn", "exact", "unexplained"),
          MakeCase("c2", "conv2d", "onednn", "exact", "exact"),
          MakeCase("c3", "conv2d", "onednn", "exact", "unexplained"),
          MakeCase("c6", "conv2d", "qnnpack", "exact", "explained"),
          MakeCase("c4", "linear", "onednn", "exact", "rejected"),
          MakeCase("c5", "linear", "onednn", "exact", "timeout"),
          MakeCase("c1", "conv2d", "onednn", "double_rounding", "exact")};
}
std::vector<DiscrepancyRow> HandDiscs() {
  return {MakeDisc("c1", "onednn", "exact", "tie"), MakeDisc("c3", "onednn", "exact", "tie"),
          MakeDisc("c1", "onednn", "exact", "bias"), MakeDisc("c1", "onednn", "exact", "tie"),
          MakeDisc("c6", "qnnpack", "exact", "tie")};
}

TEST(ReportsSummaryTest, SummarizeHandMadeTable) {
  const std::vector<SummaryRow> got = Summarize(WithClassCounts(HandCases(), HandDiscs()), HandDiscs());
  const std::vector<std::vector<std::string>> want = {
      {"conv2d", "onednn", "double_rounding", "verdict", "exact", "1"},
      {"conv2d", "onednn", "exact", "class", "bias", "1"},
      {"conv2d", "onednn", "exact", "class", "tie", "3"},
      {"conv2d", "onednn", "exact", "verdict", "exact", "1"},
      {"conv2d", "onednn", "exact", "verdict", "unexplained", "2"},
      {"conv2d", "qnnpack", "exact", "class", "tie", "1"},
      {"conv2d", "qnnpack", "exact", "verdict", "explained", "1"},
      {"linear", "onednn", "exact", "verdict", "rejected", "1"},
      {"linear", "onednn", "exact", "verdict", "timeout", "1"},
  };
  std::vector<std::vector<std::string>> got_fields;
  for (const SummaryRow& r : got) got_fields.push_back(SummaryToFields(r));
  EXPECT_EQ(got_fields, want);
}

// summary.csv keys a case by its chain's first two ops: chains of three or more ops share a key
// with ">..." (so that the keys stay bounded), shorter ones keep their own.
TEST(ReportsSummaryTest, SummaryChainKeepsTheFirstTwoOps) {
  EXPECT_EQ(SummaryChain("conv2d"), "conv2d");
  EXPECT_EQ(SummaryChain("conv2d_relu>add"), "conv2d_relu>add");
  EXPECT_EQ(SummaryChain("conv2d>relu>add_relu"), "conv2d>relu>...");
  EXPECT_EQ(SummaryChain("conv2d>relu>max_pool2d>conv2d>add>adaptive_avg_pool2d>flatten>linear"), "conv2d>relu>...");
  std::vector<CaseRow> cases = {MakeCase("a", "conv2d>relu>add", "qnnpack", "exact", "exact"),
                                MakeCase("b", "conv2d>relu>cat>relu", "qnnpack", "exact", "exact"),
                                MakeCase("c", "conv2d>relu", "qnnpack", "exact", "exact")};
  const std::vector<SummaryRow> got = Summarize(cases, {});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(SummaryToFields(got[0]), (std::vector<std::string>{"conv2d>relu", "qnnpack", "exact", "verdict", "exact", "1"}));
  EXPECT_EQ(SummaryToFields(got[1]), (std::vector<std::string>{"conv2d>relu>...", "qnnpack", "exact", "verdict", "exact", "2"}));
}

// Per layer op (ops.csv): each layer of each case row counts once. Case g1 is
// conv2d>relu>add_relu: layer 0 has a tie, layer 2 an unexplained element, layer 1 nothing, so
// conv2d: explained, relu: exact, add_relu: unexplained. Case g2 (relu) was rejected: its one
// layer counts as rejected. Classes go by each discrepancy's own layer_op.
TEST(ReportsSummaryTest, SummarizeLayersCountsEachLayerOnce) {
  std::vector<CaseRow> cases = {MakeCase("g1", "conv2d>relu>add_relu", "onednn", "exact", "unexplained"),
                                MakeCase("g2", "relu", "onednn", "exact", "rejected")};
  auto disc = [](int64_t layer, const char* op, const char* cls) {
    DiscrepancyRow d = MakeDisc("g1", "onednn", "exact", cls);
    d.layer = layer;
    d.layer_op = op;
    return d;
  };
  const std::vector<DiscrepancyRow> discs = {disc(0, "conv2d", "tie"), disc(0, "conv2d", "tie"),
                                             disc(2, "add_relu", "unexplained")};
  auto count = [](const std::vector<SummaryRow>& rows, const std::string& op,
                  const std::string& kind, const std::string& name) {
    int64_t n = 0;
    for (const SummaryRow& r : rows) {
      if (r.op == op && r.kind == kind && r.name == name) n += r.count;
    }
    return n;
  };
  const std::vector<SummaryRow> got = SummarizeLayers(WithClassCounts(cases, discs));
  EXPECT_EQ(count(got, "conv2d", "verdict", "explained"), 1);
  EXPECT_EQ(count(got, "relu", "verdict", "exact"), 1);
  EXPECT_EQ(count(got, "relu", "verdict", "rejected"), 1);
  EXPECT_EQ(count(got, "add_relu", "verdict", "unexplained"), 1);
  EXPECT_EQ(count(got, "conv2d", "class", "tie"), 2);
  EXPECT_EQ(count(got, "add_relu", "class", "unexplained"), 1);
  EXPECT_EQ(count(got, "conv2d", "verdict", "exact"), 0);
  int64_t verdicts = 0;
  for (const SummaryRow& r : got) verdicts += r.kind == "verdict" ? r.count : 0;
  EXPECT_EQ(verdicts, 4);  // 3 layers of g1 + 1 of g2
  // Summed over ops: one row per (engine, scheme, kind, name).
  const std::vector<SummaryRow> all = SumOverOps(got);
  EXPECT_EQ(count(all, "all", "verdict", "exact") + count(all, "all", "verdict", "explained") +
                count(all, "all", "verdict", "unexplained") + count(all, "all", "verdict", "rejected"),
            4);
  EXPECT_EQ(count(all, "all", "class", "tie"), 2);
}

TEST(ReportsSummaryTest, SummarizeRejectsOrphanDiscrepancy) {
  ExpectReportError([] { Summarize(HandCases(), {MakeDisc("c9", "onednn", "exact", "tie")}); },
                    {"c9", "no row in cases"});
}

TEST(ReportsSummaryTest, FormatSummaryTable) {
  const std::string table = FormatSummaryTable(Summarize(WithClassCounts(HandCases(), HandDiscs()), HandDiscs()));
  const std::string want =
      "op      engine   scheme           cases  exact  explained  unexplained  rejected  "
      "degenerate  timeout  |  bias  tie\n"
      "conv2d  onednn   double_rounding      1      1          0            0         0  "
      "         0        0  |     0    0\n"
      "conv2d  onednn   exact                3      1          0            2         0  "
      "         0        0  |     1    3\n"
      "conv2d  qnnpack  exact                1      0          1            0         0  "
      "         0        0  |     0    1\n"
      "linear  onednn   exact                2      0          0            0         1  "
      "         0        1  |     0    0\n";
  EXPECT_EQ(table, want) << table;
}

// ---------------------------------------------------------------------------------------------
// Errors: each names the file and, where known, the line and column.

TEST_F(ReportsTest, ErrorTruncatedRow) {
  std::string text = FormatCsvLine(CaseColumns());
  text += FormatCsvLine(CaseToFields(MakeCase("c1", "linear", "onednn", "exact", "exact")));
  std::vector<std::string> short_row = CaseToFields(MakeCase("c2", "linear", "onednn", "exact", "exact"));
  short_row.resize(9);
  text += FormatCsvLine(short_row);
  Spit(Path(kCasesFile), text);
  ExpectReportError([&] { ReadCases(Path(kCasesFile)); },
                    {Path(kCasesFile) + ":3:", "too few columns", "column mismatches_vs_float"});
}

TEST_F(ReportsTest, ErrorTrailingBlankLine) {
  WriteCases(Path(kCasesFile), {MakeCase("c1", "linear", "onednn", "exact", "exact")});
  Spit(Path(kCasesFile), Slurp(Path(kCasesFile)) + "\n");
  ExpectReportError([&] { ReadCases(Path(kCasesFile)); }, {Path(kCasesFile) + ":3:"});
}

TEST_F(ReportsTest, ErrorBadInteger) {
  Spit(Path(kCasesFile), CasesCsvWith("elements", "12x"));
  ExpectReportError([&] { ReadCases(Path(kCasesFile)); },
                    {Path(kCasesFile) + ":3:", "column elements", "12x"});
  Spit(Path(kCasesFile), CasesCsvWith("max_abs_diff_lsb", "99999999999999999999"));
  ExpectReportError([&] { ReadCases(Path(kCasesFile)); },
                    {Path(kCasesFile) + ":3:", "column max_abs_diff_lsb", "out of range"});
  Spit(Path(kCasesFile), CasesCsvWith("seed", "-1"));
  ExpectReportError([&] { ReadCases(Path(kCasesFile)); },
                    {Path(kCasesFile) + ":3:", "column seed", "negative"});
}

TEST_F(ReportsTest, ErrorEmptyRequiredField) {
  Spit(Path(kCasesFile), CasesCsvWith("mismatches_vs_float", ""));
  ExpectReportError([&] { ReadCases(Path(kCasesFile)); },
                    {Path(kCasesFile) + ":3:", "column mismatches_vs_float", "empty"});
  Spit(Path(kCasesFile), CasesCsvWith("elements", " "));
  ExpectReportError([&] { ReadCases(Path(kCasesFile)); },
                    {Path(kCasesFile) + ":3:", "column elements", "empty"});
  Spit(Path(kCasesFile), CasesCsvWith("verdict", ""));
  ExpectReportError([&] { ReadCases(Path(kCasesFile)); },
                    {Path(kCasesFile) + ":3:", "column verdict", "empty"});
}

// A "not applicable" cell is empty and reads back as empty; a malformed one is still an error
// naming file, line and column.
TEST_F(ReportsTest, NotApplicableCellsAreEmpty) {
  DiscrepancyRow d = MakeDisc("c1", "onednn", "exact", "tie");
  d.acc.reset(), d.integer_bias.reset(), d.bias.reset(), d.multiplier.reset(), d.shift.reset();
  const std::vector<std::string> fields = DiscrepancyToFields(d);
  for (const char* column : {"acc", "integer_bias", "bias", "multiplier", "shift"}) {
    const size_t at = std::find(DiscrepancyColumns().begin(), DiscrepancyColumns().end(), column) -
                      DiscrepancyColumns().begin();
    ASSERT_LT(at, fields.size()) << column;
    EXPECT_EQ(fields[at], "") << column;
    std::vector<std::string> bad = fields;
    bad[at] = "0x";
    ExpectReportError([&] { DiscrepancyFromFields(bad, "d.csv", 7); }, {"d.csv:7:", std::string("column ") + column});
  }
  const DiscrepancyRow back = DiscrepancyFromFields(fields, "d.csv", 2);
  EXPECT_FALSE(back.acc || back.integer_bias || back.bias || back.multiplier || back.shift);
  CaseRow rejected = MakeCase("c1", "linear", "onednn", "exact", "rejected");
  rejected.elements = 0, rejected.max_abs_diff_lsb.reset(), rejected.mean_signed_diff_lsb.reset();
  const std::vector<std::string> case_fields = CaseToFields(rejected);
  EXPECT_EQ(case_fields[10], "");  // max_abs_diff_lsb
  EXPECT_EQ(case_fields[11], "");  // mean_signed_diff_lsb
  EXPECT_EQ(CaseToFields(CaseFromFields(case_fields, "c.csv", 2)), case_fields);
}

TEST_F(ReportsTest, ErrorNonFiniteDouble) {
  for (const char* bad : {"nan", "inf", "-inf", "1e999", "0.5.1"}) {
    SCOPED_TRACE(bad);
    Spit(Path(kCasesFile), CasesCsvWith("mean_signed_diff_lsb", bad));
    ExpectReportError([&] { ReadCases(Path(kCasesFile)); },
                      {Path(kCasesFile) + ":3:", "column mean_signed_diff_lsb", bad});
  }
}

TEST_F(ReportsTest, ErrorWrongHeader) {
  std::vector<std::string> cols = DiscrepancyColumns();
  std::swap(cols[3], cols[4]);  // layer <-> index
  Spit(Path(kDiscrepanciesFile), FormatCsvLine(cols));
  ExpectReportError([&] { ReadDiscrepancies(Path(kDiscrepanciesFile)); },
                    {Path(kDiscrepanciesFile) + ":1:", "column layer", "\"index\""});
  cols = DiscrepancyColumns();
  cols.pop_back();  // header lacks recipe
  Spit(Path(kDiscrepanciesFile), FormatCsvLine(cols));
  ExpectReportError([&] { ReadDiscrepancies(Path(kDiscrepanciesFile)); },
                    {Path(kDiscrepanciesFile) + ":1:", "column recipe", "missing"});
  Spit(Path(kDiscrepanciesFile), "");
  ExpectReportError([&] { ReadDiscrepancies(Path(kDiscrepanciesFile)); },
                    {Path(kDiscrepanciesFile), "empty file"});
}

TEST_F(ReportsTest, ErrorUnterminatedQuote) {
  Spit(Path(kCasesFile), CasesCsvWith("message", "\"open quote"));
  ExpectReportError([&] { ReadCases(Path(kCasesFile)); },
                    {Path(kCasesFile) + ":3:", "unterminated"});
}

TEST_F(ReportsTest, ErrorMissingFile) {
  ExpectReportError([&] { ReadCases(Path("nope.csv")); },
                    {Path("nope.csv"), "No such file or directory"});
  ExpectReportError([&] { LoadReport(Path("no_dir")); }, {Path("no_dir") + "/cases.csv"});
}

TEST_F(ReportsTest, ErrorUnwritableDirectory) {
  // Directory does not exist.
  ExpectReportError(
      [&] { WriteReport(Path("missing_dir"), {}, {}, {}); },
      {Path("missing_dir") + "/discrepancies.csv", "No such file or directory"});
  // "Directory" is a regular file.
  Spit(Path("plain"), "x");
  ExpectReportError([&] { WriteCases(Path("plain") + "/cases.csv", {}); },
                    {Path("plain") + "/cases.csv", "Not a directory"});
  // Read-only directory (root ignores permissions, so only checked for other users).
  if (::geteuid() != 0) {
    fs::create_directory(Path("ro"));
    fs::permissions(Path("ro"), fs::perms::owner_read | fs::perms::owner_exec);
    ExpectReportError([&] { WriteCases(Path("ro") + "/cases.csv", {}); },
                      {Path("ro") + "/cases.csv", "Permission denied"});
  }
}

TEST_F(ReportsTest, ErrorRenameFailureKeepsTargetAndRemovesTemp) {
  // The target is a non-empty directory: rename fails after the temp file was written.
  fs::create_directories(Path("target.csv") + "/sub");
  ExpectReportError([&] { WriteFileAtomically(Path("target.csv"), "a\n"); },
                    {Path("target.csv"), "rename"});
  EXPECT_FALSE(fs::exists(Path("target.csv") + ".tmp"));
  EXPECT_TRUE(fs::is_directory(Path("target.csv") + "/sub"));
}

// A write error in the middle of the file (EFBIG via RLIMIT_FSIZE, standing in for ENOSPC).
TEST_F(ReportsTest, ErrorWriteFailure) {
  const std::string p = Path("big.csv");
  auto child = [&p] {
    std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit old;
    ::getrlimit(RLIMIT_FSIZE, &old);
    struct rlimit lim = {100, old.rlim_max};
    ::setrlimit(RLIMIT_FSIZE, &lim);
    try {
      WriteFileAtomically(p, std::string(10000, 'x'));
      std::fprintf(stderr, "no error\n");
      std::_Exit(1);
    } catch (const ReportError& e) {
      ::setrlimit(RLIMIT_FSIZE, &old);  // or the death test's stderr file is cut at 100 bytes
      const std::string msg = e.what();
      const bool ok = msg.find(p) != std::string::npos &&
                      msg.find("File too large") != std::string::npos && !fs::exists(p) &&
                      !fs::exists(p + ".tmp");
      std::fprintf(stderr, "%s\n", msg.c_str());
      std::_Exit(ok ? 0 : 2);
    }
  };
  EXPECT_EXIT(child(),
      ::testing::ExitedWithCode(0), "File too large");
}

}  // namespace
}  // namespace qdiff

namespace qdiff {
namespace {

// Every column of cases.csv and discrepancies.csv is documented in the README's "Report files".
TEST(ReportColumns, EveryColumnIsDocumentedInTheReadme) {
  std::ifstream in(std::string(QDIFF_SOURCE_DIR) + "/README.md");
  std::stringstream text;
  text << in.rdbuf();
  const std::string readme = text.str();
  const size_t begin = readme.find("## Report files"), end = readme.find("\n## ", begin + 1);
  ASSERT_NE(begin, std::string::npos);
  const std::string section = readme.substr(begin, end - begin);
  for (const auto* columns : {&CaseColumns(), &DiscrepancyColumns()}) {
    for (const std::string& c : *columns) EXPECT_NE(section.find("`" + c + "`"), std::string::npos) << c;
  }
}

}  // namespace
}  // namespace qdiff
