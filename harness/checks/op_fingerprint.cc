// `qdiff fingerprint` for the ops without weights: generated cases per op (fixed seeds), run on
// each engine; every recipe of the op is evaluated on the inputs LibTorch's layer saw, so the table
// shows, per LibTorch path, which recipes reproduce LibTorch bit for bit.
#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include "harness/evaluation/case_evaluation.h"
#include "harness/evaluation/comparison.h"
#include "harness/evaluation/engines.h"
#include "harness/checks/fingerprint.h"
#include "oracles/fnv1a.h"
#include "oracles/ops/op_recipe.h"
#include "properties/case_generator.h"

namespace qdiff {

namespace {

constexpr int kCasesPerOp = 48;
constexpr uint64_t kOpFingerprintSeed = 0x0f1a6e5;

}  // namespace

std::vector<Case> OpDiagnosticCases(OpKind op) {
  GeneratorSettings settings;
  settings.ops = {op};
  std::vector<Case> cases;
  for (int i = 0; i < kCasesPerOp; ++i) {
    Case c;
    // Seeded from the op's name, so adding or reordering ops leaves every other op's cases alone.
    c.seed = CaseSeed(kOpFingerprintSeed + Fnv1a64(OpKindName(op)), i);
    c.id = std::string("fingerprint-") + OpKindName(op) + "-" + std::to_string(i);
    c.model = GenerateModel(c.seed, settings).model;
    cases.push_back(std::move(c));
  }
  return cases;
}

void RunOpFingerprint(const std::vector<Engine>& engines, FingerprintResult* result) {
  std::ostringstream table;
  for (OpKind op : kAllOpKinds) {
    if (IsGemmOp(op)) continue;
    const std::vector<Case> cases = OpDiagnosticCases(op);
    const std::vector<const OpRecipeDef*>& recipes = OpRecipes(op);
    for (Engine engine : engines) {
      const Scheme own = EngineOwnScheme(engine);
      // (path = the recipe qdiff says LibTorch runs, recipe) → counts
      std::map<std::pair<std::string, std::string>, FingerprintRow> rows;
      std::map<std::string, std::string> path_rows;  // path → its recipe's name
      // path → layers the path's recipe missed that an applicable LibTorch-bug recipe reproduces
      // (classified libtorch_bug), and elements the path's recipe missed on the other layers.
      std::map<std::string, int64_t> bug_layers, path_unexplained;
      std::map<std::string, std::string> bug_files;  // path → corpus files of those bugs
      int64_t rejected = 0;
      for (const Case& c : cases) {
        const CaseRuns runs = RunCase(c, {engine}, {own});
        if (runs.libtorch[0].rejected) {
          ++rejected;
          continue;
        }
        for (size_t l = 0; l < c.model.layers.size(); ++l) {
          const Layer& layer = c.model.layers[l];
          if (layer.op != op) continue;
          const LayerTrace& trace = runs.pipeline[0][0][l];
          const std::vector<int32_t>& lt = runs.libtorch[0].layers[l].values;
          const OpRecipeDef* path = EngineOpRecipe(engine, layer, trace.inputs);
          // The kernel path also depends on dtype and memory format: one row each.
          const std::string path_name =
              std::string(path ? path->name : "(none)") + " " + DTypeName(trace.input().dtype) +
              (layer.channels_last && trace.input().shape.size() == 4 ? " cl" : "");
          int64_t path_missed = 0;
          const OpRecipeDef* bug = nullptr;  // an applicable bug recipe that reproduces the layer
          for (const OpRecipeDef* r : recipes) {
            const std::vector<int32_t> out = r->run(layer, trace.inputs, trace.shape);
            if (out == lt && LibTorchBugApplies(*r, engine, layer, trace.inputs)) bug = r;
            FingerprintRow& row = rows[{path_name, r->name}];
            row.op = OpKindName(op);
            row.engine = EngineName(engine);
            row.scheme = r->name;
            row.family = path_name;
            ++row.cases;
            row.elements += static_cast<int64_t>(lt.size());
            for (size_t i = 0; i < lt.size() && i < out.size(); ++i) {
              if (out[i] == lt[i]) continue;
              ++row.mismatches;
              row.max_abs_diff_lsb = std::max<int64_t>(row.max_abs_diff_lsb, std::abs(out[i] - lt[i]));
            }
            if (out.size() != lt.size()) row.mismatches += 1;
            if (r == path) {
              path_rows[path_name] = r->name;
              path_missed = out == lt ? 0 : std::max<int64_t>(1, CompareOutputs(out, lt).mismatches);
            }
          }
          if (path_missed != 0 && bug != nullptr) {
            ++bug_layers[path_name];
            if (bug_files[path_name].find(bug->libtorch_bug) == std::string::npos) {
              bug_files[path_name] += std::string(bug_files[path_name].empty() ? "" : ", ") + bug->libtorch_bug;
            }
          } else {
            path_unexplained[path_name] += path_missed;
          }
        }
      }
      table << "\n" << OpKindName(op) << " on " << engine << " (" << cases.size()
            << " generated cases" << (rejected ? ", " + std::to_string(rejected) + " rejected" : "")
            << "):\n";
      char line[320];
      std::snprintf(line, sizeof line, "  %-40s %6s %9s %10s  %s\n", "LibTorch path (qdiff's recipe)",
                    "layers", "elements", "mismatches", "recipes that reproduce it bit for bit");
      table << line;
      std::string current;
      for (auto& [key, row] : rows) {
        result->rows.push_back(row);
        if (key.first == current) continue;
        current = key.first;
        const auto own_it = path_rows.find(key.first);
        const FingerprintRow& own_row =
            own_it == path_rows.end() ? row : rows.at({key.first, own_it->second});
        std::string reproducing;
        for (const auto& [k2, r2] : rows) {
          if (k2.first != key.first || r2.mismatches != 0) continue;
          reproducing += (reproducing.empty() ? "" : ", ") + k2.second;
        }
        // The path's recipe must reproduce every layer that no applicable LibTorch-bug recipe
        // reproduces (those layers are classified libtorch_bug in campaigns).
        if (const int64_t n = bug_layers[key.first]; n != 0) {
          reproducing += (reproducing.empty() ? "" : "; ") + std::to_string(n) +
                         " layer(s) a LibTorch bug: " + bug_files[key.first];
        }
        if (path_unexplained[key.first] != 0 || own_it == path_rows.end()) {
          result->engine_recipes_reproduce = false;
        }
        std::snprintf(line, sizeof line, "  %-40s %6lld %9lld %10lld  %s\n", key.first.c_str(),
                      static_cast<long long>(own_row.cases), static_cast<long long>(own_row.elements),
                      static_cast<long long>(own_row.mismatches),
                      reproducing.empty() ? "(none: see discrepancies)" : reproducing.c_str());
        table << line;
      }
    }
  }
  result->table += table.str();
}

}  // namespace qdiff
