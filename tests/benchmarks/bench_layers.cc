// What one case costs qdiff outside LibTorch, stage by stage (Google Benchmark):
//   BM_Accumulators/loop and /lowered: the exact accumulators of a layer, by the product loop
//     (ForEachProduct, what LayerAccumulators did before) and by the lowered GEMM (layer_gemm.h);
//   BM_FloatOracle: the float oracle of the same layer;
//   BM_Requantize: one scheme over the layer's accumulators, element by element (EvaluateRecipe);
//   BM_RequantizeRuns: the conv layer through RunIntegerLayer (accumulators included), which
//     requantizes channel run by channel run;
//   BM_GenerateModel: drawing a conv2d/linear case from the generators (the default mix, and
//     every case at real sizes), and a case of the default op list (every op).
// Layers: conv2d 32→32, 3×3, pad 1, 28×28 and linear 1024→1024 with batch 8 (issue bars).
#include <benchmark/benchmark.h>

#include <random>

#include "oracles/float_oracle.h"
#include "oracles/integer_pipeline.h"
#include "oracles/layer_products.h"
#include "oracles/scheme.h"
#include "properties/case_generator.h"

namespace qdiff {
namespace {

Model LayerModel(bool conv) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int32_t> u8(0, 255), s8(-127, 127);
  const std::vector<int64_t> in = conv ? std::vector<int64_t>{1, 32, 28, 28} : std::vector<int64_t>{8, 1024};
  const std::vector<int64_t> w = conv ? std::vector<int64_t>{32, 32, 3, 3} : std::vector<int64_t>{1024, 1024};
  Model m;
  std::vector<int32_t> xs(ShapeElements(in)), ws(ShapeElements(w));
  for (int32_t& v : xs) v = u8(rng);
  for (int32_t& v : ws) v = s8(rng);
  m.input = PerTensorQTensor(DType::kQUInt8, in, xs, 0.02, 128);
  Layer l;
  l.op = conv ? OpKind::kConv2d : OpKind::kLinear;
  if (conv) l.conv.padding[0] = l.conv.padding[1] = 1;
  l.weight = PerTensorQTensor(DType::kQInt8, w, ws, 0.005, 0);
  l.bias = std::vector<float>(w[0], 0.25f);
  DeriveOutputQParams(&l, m.input, 1.0, false);
  m.layers.push_back(l);
  return m;
}

void BM_Accumulators(benchmark::State& state, bool conv, bool lowered) {
  const Model m = LayerModel(conv);
  const Layer& l = m.layers[0];
  const std::vector<int64_t> shape = LayerOutputShape(l, m.input.shape);
  for (auto _ : state) {
    if (lowered) {
      benchmark::DoNotOptimize(LayerAccumulators(l, m.input, shape));
      continue;
    }
    std::vector<int64_t> acc(ShapeElements(shape), 0);
    ForEachProduct(l, m.input.shape, shape, [&](int64_t o, int64_t i, int64_t k) {
      acc[o] += int64_t{m.input.values[i] - m.input.zero_points[0]} * (l.weight.values[k] - l.weight.zero_points[0]);
    });
    benchmark::DoNotOptimize(acc);
  }
  state.SetItemsProcessed(state.iterations() * ShapeElements(shape));
}

void BM_FloatOracle(benchmark::State& state, bool conv) {
  const Model m = LayerModel(conv);
  for (auto _ : state) benchmark::DoNotOptimize(RunFloatOracle(m));
}

void BM_Requantize(benchmark::State& state, bool conv) {
  const Model m = LayerModel(conv);
  const Layer& l = m.layers[0];
  const std::vector<int64_t> shape = LayerOutputShape(l, m.input.shape);
  const std::vector<int64_t> acc = LayerAccumulators(l, m.input, shape);
  const std::vector<ChannelTerms> terms = LayerChannelTerms(l, m.input.scales[0]);
  const Recipe recipe = GetScheme(static_cast<Scheme>(state.range(0))).recipe;
  for (auto _ : state) {
    for (size_t i = 0; i < acc.size(); ++i) {
      benchmark::DoNotOptimize(EvaluateRecipe(recipe, terms[OutputChannelOf(shape, i)], acc[i]));
    }
  }
  state.SetItemsProcessed(state.iterations() * acc.size());
  state.SetLabel(GetScheme(static_cast<Scheme>(state.range(0))).name);
}

// The pipeline's form: one channel run at a time (EvaluateRecipeRun), constants prepared once.
void BM_RequantizeRuns(benchmark::State& state) {
  const Model m = LayerModel(true);
  const Layer& l = m.layers[0];
  const Recipe recipe = GetScheme(static_cast<Scheme>(state.range(0))).recipe;
  for (auto _ : state) benchmark::DoNotOptimize(RunIntegerLayer(l, m.input, recipe).out);
  state.SetItemsProcessed(state.iterations() * ShapeElements(LayerOutputShape(l, m.input.shape)));
  state.SetLabel(GetScheme(static_cast<Scheme>(state.range(0))).name);
}

void BM_GenerateModel(benchmark::State& state, int real_size_percent, bool every_op) {
  GeneratorSettings settings;
  if (!every_op) settings.ops = {OpKind::kConv2d, OpKind::kLinear};
  settings.real_size_percent = real_size_percent;
  uint64_t seed = 0;
  for (auto _ : state) benchmark::DoNotOptimize(GenerateModel(CaseSeed(1, seed++), settings));
}

BENCHMARK_CAPTURE(BM_Accumulators, conv_loop, true, false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Accumulators, conv_lowered, true, true)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Accumulators, linear_loop, false, false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Accumulators, linear_lowered, false, true)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_FloatOracle, conv, true)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_FloatOracle, linear, false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Requantize, conv, true)->DenseRange(0, 8)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RequantizeRuns)->DenseRange(0, 8)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_GenerateModel, default_mix, GeneratorSettings::kDefaultRealSizePercent, false)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_GenerateModel, real_sizes, 100, false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_GenerateModel, every_op, GeneratorSettings::kDefaultRealSizePercent, true)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace qdiff

BENCHMARK_MAIN();
