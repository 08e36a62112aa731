// `qdiff model MODEL.pt`: a real quantized TorchScript model, every layer checked on LibTorch's
// own captured inputs (harness/evaluation/model_check.h), per engine.
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "harness/case/case_json.h"
#include "harness/cli/command.h"
#include "harness/cli/flags.h"
#include "harness/evaluation/model_check.h"
#include "harness/evaluation/model_export.h"
#include "reports/csv.h"
#include "harness/torch/libtorch_runner.h"
#include "reports/summary.h"

namespace qdiff {

namespace {

struct ModelFlags {
  std::string path, input, input_shape, seed = "0", engines, schemes, out, save_cases;
  bool quiet = false;
};

std::vector<int64_t> ParseShape(const std::string& text) {
  std::vector<int64_t> shape;
  for (const std::string& d : SplitList(text)) {
    shape.push_back(ParseInteger(d, "--input-shape", 1, int64_t{1} << 24));
  }
  if (shape.empty() || shape.size() > 6) {
    throw UsageError("--input-shape: give 1 to 6 comma-separated sizes, e.g. 1,3,224,224");
  }
  int64_t n = 1;
  for (int64_t d : shape) {
    if (n > (int64_t{1} << 28) / d) throw UsageError("--input-shape: more than 2^28 elements");
    n *= d;
  }
  return shape;
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string s;
  for (int64_t d : shape) s += (s.empty() ? "" : "x") + std::to_string(d);
  return s;
}

// The last `width` characters of a module path ('…' marks a cut).
std::string Tail(const std::string& s, size_t width) {
  if (s.size() <= width) return s;
  return ".." + s.substr(s.size() - (width - 2));
}

std::string Where(const CapturedNode& n) {
  return n.kind + " at " + (n.module_path.empty() ? "(top module)" : n.module_path) +
         (n.source.empty() ? "" : " (" + n.source + ")");
}

// A model with no node qdiff checks is a float model: nothing to check or export.
std::string NotQuantized(const std::string& path) {
  return path + ": no quantized node (quantize_per_tensor, a quantized op or linear_dynamic): the model is "
                "not quantized, so there is nothing to check; quantize it first (PyTorch's eager, FX or "
                "dynamic flow; README, Real models)";
}

void PrintEngine(const ModelCheck& mc, bool quiet) {
  const ModelRun& run = mc.run;
  const std::string engine = EngineName(run.engine);
  if (run.rejected) {
    std::printf("%s: the model does not run on this engine: %s\n\n", engine.c_str(), run.message.c_str());
    return;
  }
  int64_t layers = 0, elements = 0;
  for (const ModelNodeCheck& c : mc.checks) {
    layers += c.layer_case.has_value();
    elements += c.elements;
  }
  std::printf("%s: input %s; %lld layers and %lld quantize/dequantize/dynamic nodes checked, "
              "%zu skipped, %zu data movement; %lld elements\n",
              engine.c_str(), ShapeText(run.input_shape).c_str(), (long long)layers,
              (long long)(mc.checks.size() - layers), mc.skipped.size(), mc.moved.size(),
              (long long)elements);
  if (!quiet) {
    // Keys, then the engine's recipe and its mismatches, then every scheme's mismatches.
    std::vector<std::vector<std::string>> table;
    std::vector<std::string> header = {"#", "module", "op", "out shape", "elems", "engine recipe",
                                       "mism", "classes", "reproduced by", "float"};
    for (Scheme s : mc.schemes) header.push_back(GetScheme(s).name);
    table.push_back(header);
    for (const ModelNodeCheck& c : mc.checks) {
      const CapturedNode& n = run.nodes[c.node];
      std::vector<std::string> line = {std::to_string(c.node), Tail(n.module_path, 30), c.op,
                                       ShapeText(n.out_shape), std::to_string(c.elements),
                                       c.engine_recipe,
                                       c.rejected ? "rejected" : std::to_string(c.engine_mismatches),
                                       c.classes.empty() ? "-" : c.classes};
      // The engine's recipe when it reproduces LibTorch, else the first scheme that does; (+n):
      // n more schemes do too.
      const bool own = std::find(c.reproducing.begin(), c.reproducing.end(), c.engine_scheme) !=
                       c.reproducing.end();
      std::string by = own ? c.engine_recipe : c.reproducing.empty() ? "none" : c.reproducing.front();
      if (c.reproducing.size() > 1) by += "(+" + std::to_string(c.reproducing.size() - 1) + ")";
      if (c.model_vs_rerun) by += " model!=alone:" + std::to_string(c.model_vs_rerun);
      line.push_back(by);
      line.push_back(c.layer_case ? std::to_string(c.float_mismatches) : "-");
      for (size_t s = 0; s < mc.schemes.size(); ++s) {
        line.push_back(c.layer_case && s < c.scheme_mismatches.size() ? std::to_string(c.scheme_mismatches[s]) : "-");
      }
      table.push_back(line);
    }
    std::vector<bool> left(header.size(), false);
    left[1] = left[2] = left[3] = left[5] = left[7] = left[8] = true;
    std::cout << FormatBlockTable(table, 3, left);
  }
  for (size_t i : mc.skipped) {
    std::printf("  skipped %s: %s\n", Where(run.nodes[i]).c_str(), run.nodes[i].note.c_str());
  }
  std::map<std::string, int> moved;
  for (size_t i : mc.moved) ++moved[run.nodes[i].kind];
  if (!moved.empty()) {
    std::string text;
    for (const auto& [kind, count] : moved) text += (text.empty() ? "" : ", ") + kind + " " + std::to_string(count);
    std::printf("  data movement (no arithmetic, not compared): %s\n", text.c_str());
  }
  std::printf("%s: engine recipe mismatches %lld, unexplained %lld; LibTorch forward %.3f s, "
              "capture %.3f s, qdiff check %.2f s\n\n",
              engine.c_str(), (long long)mc.engine_mismatches, (long long)mc.unexplained,
              run.forward_seconds, run.capture_seconds, mc.check_seconds);
}

void MakeDir(const std::string& dir, const char* flag) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    throw UsageError(std::string(flag) + " " + dir + ": cannot create the folder");
  }
}

// The input flags and the model file, checked before anything runs.
ModelInputSpec InputSpec(const ModelFlags& f) {
  ModelInputSpec spec;
  if (!f.input.empty() && !f.input_shape.empty()) {
    throw UsageError("--input and --input-shape: give one of them (a tensor file or a random input's shape)");
  }
  if (f.input.empty() && f.input_shape.empty()) {
    throw UsageError("--input-shape or --input is required (e.g. --input-shape 1,3,224,224)");
  }
  spec.tensor_file = f.input;
  if (!f.input_shape.empty()) spec.shape = ParseShape(f.input_shape);
  spec.seed = ParseSeed(f.seed);
  struct stat st {};
  if (::stat(f.path.c_str(), &st) != 0) throw UsageError(f.path + ": no such file");
  if (!S_ISREG(st.st_mode)) throw UsageError(f.path + ": not a regular file");
  return spec;
}

// CaptureModelRun with its input errors as usage errors (exit 2).
ModelRun Capture(const std::string& path, Engine e, const ModelInputSpec& spec) {
  try {
    return CaptureModelRun(path, e, spec);
  } catch (const ModelFileError& err) {
    throw UsageError(err.what());
  } catch (const std::invalid_argument& err) {
    throw UsageError(err.what());
  }
}

void AddInputFlags(CLI::App* command, ModelFlags* f) {
  command->add_option("model", f->path, "TorchScript file (torch.jit.save of a scripted or traced model)")
      ->required();
  command->add_option("--input", f->input, "input tensor file (torch.save of one float tensor)");
  command->add_option("--input-shape", f->input_shape,
                      "random input of this shape, e.g. 1,3,224,224, uniform over the range "
                      "the model's first quantize_per_tensor maps to its quantized range");
  command->add_option("--seed", f->seed, "seed of the random input (default 0)");
}

int CommandModel(const ModelFlags& f) {
  const ModelInputSpec spec = InputSpec(f);
  std::vector<Engine> engines = ParseEngines(f.engines);
  const std::vector<Scheme> schemes = ParseSchemes(f.schemes);
  if (!f.out.empty()) MakeDir(f.out, "--out");
  if (!f.save_cases.empty()) MakeDir(f.save_cases, "--save-cases");
  InitLibTorch();
  std::vector<CaseRow> cases;
  std::vector<DiscrepancyRow> discrepancies;
  int64_t findings = 0, runnable = 0, saved = 0, checked = 0, skipped = 0;
  for (Engine e : engines) {
    const ModelCheck mc = CheckModelRun(Capture(f.path, e, spec), f.path, schemes);
    PrintEngine(mc, f.quiet);
    if (mc.run.rejected) continue;
    ++runnable;
    checked += static_cast<int64_t>(mc.checks.size());
    skipped += static_cast<int64_t>(mc.skipped.size());
    findings += mc.unexplained;
    for (const ModelNodeCheck& c : mc.checks) findings += c.model_vs_rerun;
    cases.insert(cases.end(), mc.case_rows.begin(), mc.case_rows.end());
    discrepancies.insert(discrepancies.end(), mc.discrepancies.begin(), mc.discrepancies.end());
    if (!f.save_cases.empty()) {
      for (const ModelNodeCheck& c : mc.checks) {
        if (!c.layer_case) continue;
        SaveCaseFile(*c.layer_case, f.save_cases + "/" + EngineName(e) + "-" + c.layer_case->id + ".json");
        ++saved;
      }
    }
  }
  if (!f.out.empty()) {
    WriteReport(f.out, cases, discrepancies, Summarize(cases, discrepancies));
    WriteSummary(f.out + "/ops.csv", SummarizeLayers(cases));
    std::printf("wrote %s/{cases,discrepancies,summary,ops}.csv\n", f.out.c_str());
  }
  if (!f.save_cases.empty()) std::printf("wrote %lld case files to %s\n", (long long)saved, f.save_cases.c_str());
  if (runnable == 0) {
    std::fprintf(stderr, "%s: the model runs on none of the engines asked for\n", f.path.c_str());
    return kExitUsage;
  }
  if (checked == 0) throw UsageError(NotQuantized(f.path));  // a float model: not a pass
  // A skipped node is not a failure (the layers after it were checked on LibTorch's tensors), but
  // the verdict says that something was not checked.
  const std::string skips = skipped ? " (" + std::to_string(skipped) + " node(s) skipped, named above)" : "";
  std::printf("%s: %s%s\n", f.path.c_str(), findings ? "FAIL (unexplained elements)" : "PASS", skips.c_str());
  return findings > 0 ? kExitFindings : kExitOk;
}

int CommandExport(const ModelFlags& f) {
  const ModelInputSpec spec = InputSpec(f);
  const std::vector<Engine> engines = ParseEngines(f.engines);
  if (engines.size() != 1) throw UsageError("--engine: give exactly one engine");
  MakeDir(f.out, "--out");
  InitLibTorch();
  std::vector<Scheme> schemes;
  for (const SchemeDef* s : AllSchemes()) schemes.push_back(s->id);
  const ModelCheck mc = CheckModelRun(Capture(f.path, engines[0], spec), f.path, schemes);
  if (mc.run.rejected) {
    throw UsageError(f.path + ": the model does not run on " + EngineName(engines[0]) + ": " + mc.run.message);
  }
  if (mc.checks.empty()) throw UsageError(NotQuantized(f.path));
  ModelExport ex;
  try {
    ex = ExportModel(mc, f.path);
  } catch (const std::invalid_argument& err) {
    throw UsageError(err.what());
  }
  WriteFileAtomically(f.out + "/model.json", ex.json);
  WriteFileAtomically(f.out + "/model.h", ex.header);
  std::printf("%s on %s: %d graph nodes (%d conv2d/linear layers) exported to %s/model.json and %s/model.h\n",
              f.path.c_str(), EngineName(engines[0]), ex.nodes, ex.exported, f.out.c_str(), f.out.c_str());
  if (!ex.no_c_form.empty()) std::printf("no C form (the C program takes LibTorch's output): %s\n", ex.no_c_form.c_str());
  if (!ex.skipped.empty()) std::printf("not exported: %s\n", ex.skipped.c_str());
  return kExitOk;
}

}  // namespace

CommandDef ExportCommand() {
  return {"export", "what an integer implementation of a model's conv/linear layers needs (JSON, C header)",
          [](CLI::App* command, const std::string&) -> std::function<int()> {
            auto f = std::make_shared<ModelFlags>();
            AddInputFlags(command, f.get());
            command->add_option("--engine", f->engines, "the engine to export for")->required();
            command->add_option("--out", f->out, "folder for model.json and model.h")->required();
            SetHelpFooter(
                command, [] { return HelpValues{{"--engine", AllowedEngines()}}; },
                "qdiff export resnet18_quantized.pt --engine qnnpack --input-shape 1,3,224,224 --out out/r18");
            return [f] { return CommandExport(*f); };
          }};
}

CommandDef ModelCommand() {
  return {"model", "check every layer of a quantized TorchScript model (.pt) on its own inputs",
          [](CLI::App* model, const std::string&) -> std::function<int()> {
            auto f = std::make_shared<ModelFlags>();
            AddInputFlags(model, f.get());
            model->add_option("--engines", f->engines, "comma list (default: every available engine)");
            model->add_option("--schemes", f->schemes, "comma list (default: all)");
            model->add_option("--out", f->out, "write cases.csv, discrepancies.csv, summary.csv, ops.csv here");
            model->add_option("--save-cases", f->save_cases,
                              "write each layer as a case file here (for replay, explain, shrink)");
            model->add_flag("--quiet", f->quiet, "no per-layer table");
            SetHelpFooter(
                model,
                [] {
                  return HelpValues{{"--engines", AllowedEngines()}, {"--schemes", AllowedSchemes()}};
                },
                "qdiff model mobilenet_v2_quantized.pt --input-shape 1,3,224,224 --out out/mnv2");
            return [f] { return CommandModel(*f); };
          }};
}

}  // namespace qdiff
