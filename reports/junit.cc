#include "reports/junit.h"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdint>
#include <map>
#include <set>
#include <tuple>

namespace qdiff {

namespace {

// Length of the well-formed UTF-8 sequence at s[i] that XML 1.0 allows, or 0.
std::size_t Utf8CharLength(const std::string& s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  std::size_t n;
  uint32_t cp;
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    cp = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  const uint32_t min_cp = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
  if (cp < min_cp || cp > 0x10FFFF) return 0;          // overlong or out of range
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;          // surrogates
  if (cp == 0xFFFE || cp == 0xFFFF) return 0;          // not XML characters
  return n;
}

std::string Plural(int64_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}


}  // namespace

std::string XmlEscape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '&': out += "&amp;"; ++i; continue;
      case '<': out += "&lt;"; ++i; continue;
      case '>': out += "&gt;"; ++i; continue;
      case '"': out += "&quot;"; ++i; continue;
      case '\'': out += "&#39;"; ++i; continue;
      default: break;
    }
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      out += '?';
      ++i;
      continue;
    }
    const std::size_t n = Utf8CharLength(text, i);
    if (n == 0) {
      out += '?';
      ++i;
    } else {
      out.append(text, i, n);
      i += n;
    }
  }
  return out;
}

std::string FormatJUnit(const std::vector<SummaryRow>& layers, const RunContext& ctx) {
  struct Testcase {
    std::map<std::string, int64_t> verdicts;  // layers per verdict
    std::map<std::string, int64_t> classes;   // elements per class
    int64_t compared = 0;                     // layers that compared something
  };
  using Key = std::tuple<std::string, std::string, std::string>;  // engine, op, column
  std::vector<std::string> ops = ctx.ops;
  for (const SummaryRow& r : layers) {
    const std::string op = OpFamily(r.op);
    if (std::find(ops.begin(), ops.end(), op) == ops.end()) ops.push_back(op);
  }
  std::map<Key, Testcase> tests;
  for (const std::string& engine : ctx.engines) {
    for (const std::string& op : ops) {
      for (const std::string& column : ctx.columns) tests[Key{engine, op, column}];
    }
  }
  int64_t all_compared = 0;
  for (const SummaryRow& r : layers) {
    auto it = tests.find(Key{r.engine, OpFamily(r.op), r.scheme});
    if (it == tests.end()) continue;  // an engine or column outside the configuration
    Testcase& t = it->second;
    if (r.kind == "verdict") {
      t.verdicts[r.name] += r.count;
      if (r.name != "rejected" && r.name != "crashed" && r.name != "timeout") {
        t.compared += r.count;
        all_compared += r.count;
      }
    } else {
      t.classes[r.name] += r.count;
    }
  }
  auto count = [](const std::map<std::string, int64_t>& m, const std::string& k) {
    const auto it = m.find(k);
    return it == m.end() ? int64_t{0} : it->second;
  };
  auto holds = [](const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  char buffer[32];
  auto seconds = [&](double s) {
    std::snprintf(buffer, sizeof buffer, "%.3f", s);
    return std::string(buffer);
  };

  std::string suites;
  int64_t total = 0, total_failures = 0, total_errors = 0, total_skipped = 0;
  for (const std::string& engine : ctx.engines) {
    int64_t n = 0, failures = 0, errors = 0, skipped = 0;
    double suite_time = 0;
    std::string body;
    for (const std::string& op : ops) {
      for (const std::string& column : ctx.columns) {
        const Testcase& t = tests.at(Key{engine, op, column});
        const double time = all_compared > 0 ? ctx.seconds * t.compared / all_compared : 0.0;
        suite_time += time;
        ++n;
        body += "    <testcase classname=\"" + XmlEscape("qdiff." + engine + "." + op) + "\" name=\"" +
                XmlEscape(column) + "\" time=\"" + seconds(time) + "\">\n";
        const int64_t unexplained = count(t.verdicts, "unexplained");
        const int64_t crashed = count(t.verdicts, "crashed"), timeout = count(t.verdicts, "timeout");
        const int64_t bug = count(t.classes, "libtorch_bug");
        if (unexplained > 0) {
          ++failures;
          std::string keys, text;
          for (const ReportFinding& f : ctx.findings) {
            if (f.engine != engine || !holds(f.schemes, column) || !FindingTouchesOp(f, op)) continue;
            keys += (keys.empty() ? "" : ", ") + f.key;
            text += "finding " + f.key + ": " + Plural(f.cases, "case") + "\n" + f.replay + "\n" +
                    (f.explain.empty() ? "" : f.explain + "\n");
          }
          const std::string message = Plural(unexplained, "unexplained layer") + ", " +
                                      Plural(count(t.classes, "unexplained"), "unexplained element") +
                                      (keys.empty() ? "" : "; findings: " + keys);
          body += "      <failure type=\"unexplained\" message=\"" + XmlEscape(message) + "\">" +
                  XmlEscape(text) + "</failure>\n";
        } else if (crashed + timeout > 0) {
          ++errors;
          const std::string type = std::string(crashed ? "crashed" : "") + (crashed && timeout ? "," : "") +
                                   (timeout ? "timeout" : "");
          std::string text;
          for (const ReportFinding& f : ctx.findings) {
            if (f.engine == "*" && FindingTouchesOp(f, op)) text += f.replay + "\n";
          }
          const std::string message = (crashed ? Plural(crashed, "crashed layer") : "") +
                                      (crashed && timeout ? ", " : "") +
                                      (timeout ? Plural(timeout, "timed-out layer") : "");
          body += "      <error type=\"" + type + "\" message=\"" + XmlEscape(message) + "\">" +
                  XmlEscape(text) + "</error>\n";
        } else if (bug > 0) {
          ++skipped;
          std::string corpora;
          const auto it = ctx.bug_corpora.find(op + "/" + engine);
          if (it != ctx.bug_corpora.end()) {
            for (const std::string& c : it->second) corpora += (corpora.empty() ? "" : ", ") + c;
          }
          body += "      <skipped message=\"" +
                  XmlEscape("known LibTorch bug (" + Plural(bug, "element") + "): " +
                            (corpora.empty() ? "no corpus file recorded" : corpora)) +
                  "\"/>\n";
        } else if (t.compared == 0) {
          ++skipped;
          const int64_t rejected = count(t.verdicts, "rejected");
          body += "      <skipped message=\"" +
                  XmlEscape("not exercised: no layer compared" +
                            (rejected ? " (" + Plural(rejected, "layer") + " rejected by LibTorch)"
                                      : std::string())) +
                  "\"/>\n";
        }
        std::string out = "layers:";
        for (const auto& [verdict, k] : t.verdicts) out += " " + verdict + " " + std::to_string(k);
        if (t.verdicts.empty()) out += " none";
        if (!t.classes.empty()) {
          out += "\nelements per class:";
          for (const auto& [cls, k] : t.classes) out += " " + cls + " " + std::to_string(k);
        }
        body += "      <system-out>" + XmlEscape(out + "\n") + "</system-out>\n";
        body += "    </testcase>\n";
      }
    }
    suites += "  <testsuite name=\"" + XmlEscape(engine) + "\" tests=\"" + std::to_string(n) +
              "\" failures=\"" + std::to_string(failures) + "\" errors=\"" + std::to_string(errors) +
              "\" skipped=\"" + std::to_string(skipped) + "\" time=\"" + seconds(suite_time) + "\">\n" +
              body + "  </testsuite>\n";
    total += n;
    total_failures += failures;
    total_errors += errors;
    total_skipped += skipped;
  }
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  xml += "<testsuites name=\"qdiff\" tests=\"" + std::to_string(total) + "\" failures=\"" +
         std::to_string(total_failures) + "\" errors=\"" + std::to_string(total_errors) +
         "\" skipped=\"" + std::to_string(total_skipped) + "\" time=\"" + seconds(ctx.seconds) + "\">\n";
  xml += suites;
  xml += "</testsuites>\n";
  return xml;
}

}  // namespace qdiff
