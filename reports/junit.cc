#include "reports/junit.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <tuple>

namespace qdiff {

namespace {

using Key3 = std::tuple<std::string, std::string, std::string>;

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

std::string JoinIds(const std::set<std::string>& ids) {
  std::string out;
  for (const std::string& id : ids) out += (out.empty() ? "" : ", ") + id;
  return out;
}

struct Group {
  std::map<std::string, int64_t> verdicts;
  std::map<std::string, int64_t> classes;  // elements per class
  std::set<std::string> unexplained;       // case ids
  std::set<std::string> crashed;
  std::set<std::string> timeout;
  std::vector<std::string> reject_messages;  // distinct, first seen first
  int64_t cases = 0;
  int64_t unexplained_elements = 0;
};

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

std::string FormatJUnit(const std::vector<CaseRow>& cases, const std::vector<DiscrepancyRow>& d,
                        const std::string& replay_command_prefix) {
  std::map<Key3, Group> groups;        // (op, engine, scheme)
  std::map<Key3, Key3> group_of;       // (case_id, engine, scheme) -> group key
  for (const CaseRow& c : cases) {
    const Key3 key{c.op, c.engine, c.scheme};
    Group& g = groups[key];
    group_of.emplace(Key3{c.case_id, c.engine, c.scheme}, key);
    ++g.cases;
    ++g.verdicts[VerdictName(c.verdict)];
    if (c.verdict == Verdict::kUnexplained) g.unexplained.insert(c.case_id);
    if (c.verdict == Verdict::kCrashed) g.crashed.insert(c.case_id);
    if (c.verdict == Verdict::kTimeout) g.timeout.insert(c.case_id);
    if (c.verdict == Verdict::kRejected) {
      bool seen = false;
      for (const std::string& m : g.reject_messages) seen = seen || m == c.message;
      if (!seen) g.reject_messages.push_back(c.message);
    }
  }
  for (const DiscrepancyRow& row : d) {
    auto it = group_of.find(Key3{row.case_id, row.engine, row.scheme});
    if (it == group_of.end()) continue;
    Group& g = groups[it->second];
    ++g.classes[DiffClassName(row.cls)];
    if (row.cls == DiffClass::kUnexplained) ++g.unexplained_elements;
  }

  std::string prefix = replay_command_prefix;
  if (!prefix.empty() && prefix.back() != '/' && prefix.back() != ' ') prefix += '/';

  int64_t failures = 0, errors = 0, skipped = 0;
  std::string body;
  for (const auto& [key, g] : groups) {
    const auto& [op, engine, scheme] = key;
    body += "    <testcase classname=\"" + XmlEscape("qdiff." + op + "." + engine) +
            "\" name=\"" + XmlEscape(scheme) + "\">\n";
    std::string also;
    if (!g.crashed.empty()) also += "; also " + std::to_string(g.crashed.size()) +
                                    " crashed: " + JoinIds(g.crashed);
    if (!g.timeout.empty()) also += "; also " + std::to_string(g.timeout.size()) +
                                    " timed out: " + JoinIds(g.timeout);
    if (!g.unexplained.empty()) {
      ++failures;
      const std::string message =
          Plural(static_cast<int64_t>(g.unexplained.size()), "unexplained case") + " (" +
          Plural(g.unexplained_elements, "unexplained element") + "): " + JoinIds(g.unexplained) +
          also;
      std::string text;
      for (const std::string& id : g.unexplained) text += prefix + id + ".json\n";
      body += "      <failure type=\"unexplained\" message=\"" + XmlEscape(message) + "\">" +
              XmlEscape(text) + "</failure>\n";
    } else if (!g.crashed.empty() || !g.timeout.empty()) {
      ++errors;
      std::string type, message;
      if (!g.crashed.empty()) {
        type = "crashed";
        message = std::to_string(g.crashed.size()) + " crashed: " + JoinIds(g.crashed);
      }
      if (!g.timeout.empty()) {
        type += type.empty() ? "timeout" : ",timeout";
        message += (message.empty() ? "" : "; ") + std::to_string(g.timeout.size()) +
                   " timed out: " + JoinIds(g.timeout);
      }
      body += "      <error type=\"" + type + "\" message=\"" + XmlEscape(message) + "\"/>\n";
    } else if (g.verdicts.size() == 1 && g.verdicts.begin()->first == "rejected") {
      ++skipped;
      std::string messages;
      for (std::size_t i = 0; i < g.reject_messages.size() && i < 3; ++i) {
        messages += (i == 0 ? "" : " | ") + g.reject_messages[i];
      }
      if (g.reject_messages.size() > 3) messages += " | ...";
      const std::string message =
          "all " + Plural(g.cases, "case") + " rejected by LibTorch: " + messages;
      body += "      <skipped message=\"" + XmlEscape(message) + "\"/>\n";
    }
    std::string out = Plural(g.cases, "case") + ":";
    for (const auto& [verdict, n] : g.verdicts) out += " " + verdict + " " + std::to_string(n);
    if (!g.classes.empty()) {
      out += "\nelements per class:";
      for (const auto& [cls, n] : g.classes) out += " " + cls + " " + std::to_string(n);
    }
    body += "      <system-out>" + XmlEscape(out + "\n") + "</system-out>\n";
    body += "    </testcase>\n";
  }

  const std::string counts = "tests=\"" + std::to_string(groups.size()) + "\" failures=\"" +
                             std::to_string(failures) + "\" errors=\"" + std::to_string(errors) +
                             "\" skipped=\"" + std::to_string(skipped) + "\"";
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  xml += "<testsuites name=\"qdiff\" " + counts + ">\n";
  xml += "  <testsuite name=\"qdiff\" " + counts + ">\n";
  xml += body;
  xml += "  </testsuite>\n";
  xml += "</testsuites>\n";
  return xml;
}

}  // namespace qdiff
