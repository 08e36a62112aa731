#include "reports/findings.h"

#include <algorithm>
#include <sstream>

#include "reports/csv.h"  // ReportError

namespace qdiff {

std::vector<std::string> SplitSignature(const std::string& signature) {
  std::vector<std::string> parts;
  std::stringstream s(signature);
  std::string p;
  while (std::getline(s, p, '/')) parts.push_back(p);
  return parts;
}

namespace {

// A scheme's signature: four parts whose third is a scheme (not "kernel", not "*").
bool IsSchemeSignature(const std::vector<std::string>& parts) {
  return parts.size() == 4 && parts[2] != "kernel" && parts[2] != "*" && !parts[2].empty();
}

}  // namespace

std::string OpFamily(const std::string& layer_op) {
  // The ops with a fused ReLU (the layer's `relu` attribute names them "<op>_relu"); leaky_relu
  // is an op of its own.
  static const char* const kFused[] = {"conv1d", "conv2d", "conv3d", "linear", "add", "mul"};
  for (const char* op : kFused) {
    if (layer_op == std::string(op) + "_relu") return op;
  }
  return layer_op;
}

std::vector<std::string> ChainFamilies(const std::string& chain) {
  std::vector<std::string> out;
  std::stringstream s(chain);
  std::string op;
  while (std::getline(s, op, '>')) out.push_back(OpFamily(op));
  return out;
}

bool FindingTouchesOp(const ReportFinding& f, const std::string& op) {
  if (f.engine != "*") return OpFamily(f.op) == op;
  const std::vector<std::string> chain = ChainFamilies(f.op);
  return std::find(chain.begin(), chain.end(), op) != chain.end();
}

std::string FindingGroupKey(const std::string& signature) {
  const std::vector<std::string> parts = SplitSignature(signature);
  if (!IsSchemeSignature(parts)) return signature;
  return parts[0] + "/" + parts[1] + "/" + parts[3];
}

std::string FindingSignatureColumn(const std::string& signature) {
  const std::vector<std::string> parts = SplitSignature(signature);
  return parts.size() == 4 && parts[2] != "*" ? parts[2] : "";
}

nlohmann::json FindingJson(const ReportFinding& f) {
  return nlohmann::json{{"signature", f.key}, {"op", f.op}, {"engine", f.engine}, {"class", f.cls},
                        {"schemes", f.schemes}, {"count", f.cases}, {"case_id", f.case_id},
                        {"file", f.file}, {"replay", f.replay}, {"explain", f.explain}};
}

std::vector<ReportFinding> FindingsFromRunRecord(const nlohmann::json& run, const std::string& source) {
  std::vector<ReportFinding> out;
  if (!run.contains("findings")) return out;
  const nlohmann::json& findings = run.at("findings");
  if (!findings.is_array()) throw ReportError(source + ": findings: not an array");
  for (size_t i = 0; i < findings.size(); ++i) {
    const nlohmann::json& j = findings[i];
    const std::string where = source + ": findings[" + std::to_string(i) + "]";
    auto text = [&](const char* field) {
      if (!j.is_object() || !j.contains(field) || !j.at(field).is_string()) {
        throw ReportError(where + "." + field + ": missing or not a string");
      }
      return j.at(field).get<std::string>();
    };
    ReportFinding f;
    if (j.is_object() && !j.contains("op") && !j.contains("schemes")) {
      // Written before findings were grouped: one per scheme signature. Grouped here; a group's
      // count is its largest scheme count (the cases of its schemes overlap).
      const std::string signature = text("signature");
      f.key = FindingGroupKey(signature);
      const std::vector<std::string> parts = SplitSignature(f.key);
      f.op = parts.empty() ? "" : parts[0];
      f.engine = parts.size() > 1 ? parts[1] : "";
      f.cls = parts.empty() ? "" : parts.back();
      f.case_id = text("case_id");
      f.file = text("file");
      f.replay = "qdiff replay " + f.file;
      f.cases = j.value("count", int64_t{0});
      const std::string column = FindingSignatureColumn(signature);
      auto same = std::find_if(out.begin(), out.end(), [&](const ReportFinding& g) { return g.key == f.key; });
      if (same == out.end()) same = out.insert(out.end(), f);
      same->cases = std::max(same->cases, f.cases);
      if (!column.empty() && std::find(same->schemes.begin(), same->schemes.end(), column) == same->schemes.end()) {
        same->schemes.push_back(column);
        std::sort(same->schemes.begin(), same->schemes.end());
      }
      continue;
    }
    f.key = text("signature");
    f.op = text("op");
    f.engine = text("engine");
    f.cls = text("class");
    f.case_id = text("case_id");
    f.file = text("file");
    f.replay = text("replay");
    f.explain = text("explain");
    if (!j.contains("count") || !j.at("count").is_number_integer()) {
      throw ReportError(where + ".count: missing or not an integer");
    }
    f.cases = j.at("count").get<int64_t>();
    if (!j.contains("schemes") || !j.at("schemes").is_array()) {
      throw ReportError(where + ".schemes: missing or not an array");
    }
    for (const nlohmann::json& s : j.at("schemes")) {
      if (!s.is_string()) throw ReportError(where + ".schemes: not a string");
      f.schemes.push_back(s.get<std::string>());
    }
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace qdiff
