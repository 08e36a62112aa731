// `qdiff inputs` and `qdiff check`: the kernel column for code that cannot be loaded into qdiff
// (a device, another language). `inputs` writes, per conv2d/linear layer of a case, the layer's
// input as LibTorch fed it on one engine and every parameter the kernel ABI passes
// (docs/kernel_plugin.md#kernels-qdiff-cannot-load); the user's code writes one output file per
// layer; `check` reads them back as the kernel column (harness/evaluation/kernel_column.h).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "harness/case/case_json.h"
#include "harness/cli/command.h"
#include "harness/cli/flags.h"
#include "harness/evaluation/case_evaluation.h"
#include "harness/evaluation/kernel_column.h"
#include "harness/kernel/kernel_plugin.h"
#include "harness/torch/libtorch_runner.h"

namespace qdiff {
namespace {

using nlohmann::json;

// The engine named by --engine (it must be available), or the case's first available one.
Engine CaseEngine(const Case& c, const std::string& flag, const std::string& path) {
  if (!flag.empty()) return ParseEngines(flag).at(0);
  const std::vector<Engine> engines = CaseEngines(c, AvailableEngines(), nullptr);
  if (engines.empty()) throw UsageError(path + ": field 'engines': none of them is available");
  return engines[0];
}

json ChannelJson(const qdiff_requant_channel& ch) {
  return json{{"input_scale", ch.input_scale},   {"weight_scale", ch.weight_scale},
              {"output_scale", ch.output_scale}, {"bias", ch.has_bias ? json(ch.bias) : json(nullptr)},
              {"multiplier_f32", ch.multiplier_f32}, {"multiplier_q31", ch.multiplier_q31},
              {"right_shift", ch.right_shift},   {"bias_int32", ch.bias_int32},
              {"output_zero_point", ch.output_zero_point}, {"qmin", ch.qmin}, {"qmax", ch.qmax}};
}

// One layer's inputs file: what qdiff_kernel_conv2d / qdiff_kernel_linear would be given.
json LayerInputsJson(const Case& c, size_t l, Engine engine, const LayerTrace& trace) {
  const Layer& layer = c.model.layers[l];
  const QTensor& x = trace.input();
  const KernelGemmCall call = layer.op == OpKind::kConv2d
                                  ? static_cast<KernelGemmCall>(Conv2dCallOf(layer, x))
                                  : static_cast<KernelGemmCall>(LinearCallOf(layer, x));
  json channels = json::array();
  for (const ChannelQuant& q : call.channels) channels.push_back(ChannelJson(KernelRequantChannel(q)));
  std::vector<int32_t> weight_zps = call.weight_zero_points;
  if (weight_zps.size() == 1) weight_zps.assign(call.channels.size(), weight_zps[0]);
  json j{{"format", "qdiff-kernel-inputs"},
         {"version", 1},
         {"case", c.id},
         {"layer", l},
         {"engine", EngineName(engine)},
         {"op", OpKindName(layer.op)},
         {"relu", layer.relu},
         {"input", {{"shape", x.shape}, {"scale", x.Scale(0)}, {"zero_point", x.ZeroPoint(0)},
                    {"values", x.values}}},
         {"weight", {{"shape", layer.weight.shape}, {"zero_points", weight_zps},
                     {"per_channel", layer.weight.per_channel()}, {"values", layer.weight.values}}},
         {"output_shape", trace.shape},
         {"channels", channels}};
  if (layer.op == OpKind::kConv2d) {
    j["stride"] = {layer.conv.stride[0], layer.conv.stride[1]};
    j["padding"] = {layer.conv.padding[0], layer.conv.padding[1]};
    j["dilation"] = {layer.conv.dilation[0], layer.conv.dilation[1]};
    j["groups"] = layer.conv.groups;
  }
  return j;
}

int CommandInputs(const std::string& path, const std::string& engine_flag, const std::string& out,
                  const CaseFlags& flags) {
  const CaseLimits limits = flags.Limits();
  ArmTimeout(flags.TimeoutSeconds(), path);
  InitLibTorch();
  const Case c = LoadCaseFile(path, limits);
  const Engine engine = CaseEngine(c, engine_flag, path);
  const CaseRuns runs = RunCase(c, {engine}, {Scheme::kExact});
  if (runs.libtorch[0].rejected) {
    throw UsageError(path + ": LibTorch " + EngineName(engine) + " rejects the case: " +
                     runs.libtorch[0].message);
  }
  std::filesystem::create_directories(out);
  int written = 0;
  for (size_t l = 0; l < c.model.layers.size(); ++l) {
    const LayerTrace& trace = runs.pipeline[0][0][l];
    if (!KernelCoversLayer(c.model.layers[l], trace.inputs) || !IsGemmOp(c.model.layers[l].op)) {
      continue;
    }
    const std::string file = out + "/" + c.id + ".layer" + std::to_string(l) + ".input.json";
    std::ofstream f(file);
    f << LayerInputsJson(c, l, engine, trace).dump() << "\n";
    if (!f) throw std::runtime_error(file + ": could not write");
    std::cout << "wrote " << file << "\n";
    ++written;
  }
  std::cout << written << " layer(s) of " << path << " as LibTorch " << EngineName(engine)
            << " fed them; write each layer's outputs as " << c.id << ".layer<L>.json "
            << "({\"values\": [...]}) or .u8, then run: qdiff check " << path
            << " --outputs DIR --engine " << EngineName(engine) << "\n";
  return kExitOk;
}

int CommandCheck(const std::vector<std::string>& paths, const std::string& outputs,
                 const std::string& engine_flag, const CaseFlags& flags) {
  if (!std::filesystem::is_directory(outputs)) {
    throw UsageError("--outputs: " + outputs + " is not a directory");
  }
  const CaseLimits limits = flags.Limits();
  InitLibTorch();
  int64_t findings = 0;
  for (const std::string& path : paths) {
    ArmTimeout(flags.TimeoutSeconds(), path);
    const Case c = LoadCaseFile(path, limits);
    const Engine engine = CaseEngine(c, engine_flag, path);
    const std::unique_ptr<KernelColumn> column = OutputsColumn(outputs, engine);
    const CaseEvaluation ev = EvaluateRuns(c, RunCase(c, {engine}, {Scheme::kExact}, column.get()));
    for (const CaseRow& r : ev.case_rows) {
      if (r.scheme != KernelColumnName()) continue;
      std::printf("%s on %s: %lld outputs compared, %lld differ from LibTorch%s%s; %s%s%s\n",
                  c.id.c_str(), r.engine.c_str(), (long long)r.elements,
                  (long long)r.mismatches_vs_libtorch, r.classes.empty() ? "" : " (",
                  (r.classes.empty() ? "" : r.classes + ")").c_str(), VerdictName(r.verdict),
                  r.message.empty() ? "" : ": ", r.message.c_str());
    }
    for (const DiscrepancyRow& d : ev.discrepancies) {
      if (d.scheme != KernelColumnName()) continue;
      std::printf("  layer %lld element %lld: yours %lld, LibTorch %lld, class %s\n",
                  (long long)d.layer, (long long)d.index, (long long)d.integer_out,
                  (long long)d.libtorch_out, DiffClassName(d.cls));
    }
    findings += ev.kernel_findings;
  }
  return findings > 0 ? kExitFindings : kExitOk;
}

}  // namespace

CommandDef InputsCommand() {
  return {"inputs", "write a case's conv2d/linear layer inputs and parameters for your own code",
          [](CLI::App* inputs, const std::string&) -> std::function<int()> {
            struct Flags {
              CaseFlags limits;
              std::string engine, out = "inputs";
            };
            auto f = std::make_shared<Flags>();
            f->limits.AddTo(inputs, "seconds before inputs stops as a timeout (default 120)");
            inputs->add_option("--engine", f->engine, "whose LibTorch layer outputs feed the layers");
            inputs->add_option("--out", f->out, "folder for <case>.layer<L>.input.json (default inputs)");
            SetHelpFooter(inputs, [] { return HelpValues{{"--engine", AllowedEngines()}}; },
                          "qdiff inputs corpora/golden_conv1x1_exact.json --engine qnnpack --out in");
            return [f] { return CommandInputs(f->limits.path, f->engine, f->out, f->limits); };
          }};
}

CommandDef CheckCommand() {
  return {"check", "compare your code's outputs for `qdiff inputs` layers with LibTorch",
          [](CLI::App* check, const std::string&) -> std::function<int()> {
            struct Flags {
              CaseFlags limits;
              std::vector<std::string> more;
              std::string outputs, engine;
            };
            auto f = std::make_shared<Flags>();
            f->limits.AddTo(check, "seconds per case before check stops as a timeout (default 120)");
            check->add_option("more", f->more, "more case files");
            check->add_option("--outputs", f->outputs, "folder of <case>.layer<L>.json or .u8")->required();
            check->add_option("--engine", f->engine, "the engine `qdiff inputs` used");
            SetHelpFooter(check, [] { return HelpValues{{"--engine", AllowedEngines()}}; },
                          "qdiff check corpora/golden_conv1x1_exact.json --outputs out --engine qnnpack");
            return [f] {
              std::vector<std::string> paths = {f->limits.path};
              paths.insert(paths.end(), f->more.begin(), f->more.end());
              return CommandCheck(paths, f->outputs, f->engine, f->limits);
            };
          }};
}

}  // namespace qdiff
