// qdiff_bench_ops: cost per output element of every recipe of the ops without weights
// (oracles/ops/op_recipe.h), on one fixed input per op: x [1, 32, 16, 16] quint8 drawn with a
// fixed seed (add/mul/cat: a second input of the same shape with other qparams; pools: 3×3
// windows, stride 2, padding 1). Items processed = output elements, so Google Benchmark prints
// items/s; compare recipes of one op side by side in one run (e.g. exact vs the engine paths).
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "oracles/ops/op_recipe.h"

namespace qdiff {
namespace {

constexpr uint64_t kSeed = 20261126;

QTensor DrawInput(std::mt19937_64& rng, double scale, int32_t zero_point) {
  QTensor x;
  x.dtype = DType::kQUInt8;
  x.shape = {1, 32, 16, 16};
  x.scales = {scale};
  x.zero_points = {zero_point};
  for (int64_t i = 0; i < x.NumElements(); ++i) x.values.push_back(static_cast<int32_t>(rng() % 256));
  return x;
}

struct OpInput {
  Layer layer;
  std::vector<QTensor> inputs;
  std::vector<int64_t> out_shape;
};

OpInput MakeOpInput(OpKind op) {
  std::mt19937_64 rng(kSeed + static_cast<uint64_t>(op));
  OpInput in;
  in.layer.op = op;
  in.layer.out_scale = 0.05;
  in.layer.out_zero_point = 120;
  in.inputs = {DrawInput(rng, 0.03125, 128)};
  if (InputArity(op) != 1) in.inputs.push_back(DrawInput(rng, 0.0421, 101));
  PoolAttrs& p = in.layer.pool;
  p.kernel[0] = p.kernel[1] = 3;
  p.stride[0] = p.stride[1] = 2;
  p.padding[0] = p.padding[1] = 1;
  p.output_size[0] = p.output_size[1] = 5;
  in.layer.act.min_value = -1.0f;
  in.layer.act.max_value = 2.5f;
  std::vector<std::vector<int64_t>> shapes;
  for (const QTensor& x : in.inputs) shapes.push_back(x.shape);
  in.out_shape = LayerOutputShape(in.layer, shapes);
  return in;
}

void BM_OpRecipe(benchmark::State& state, const OpRecipeDef* recipe) {
  const OpInput in = MakeOpInput(recipe->op);
  for (auto _ : state) {
    std::vector<int32_t> out = recipe->run(in.layer, in.inputs, in.out_shape);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * ShapeElements(in.out_shape));
}

}  // namespace
}  // namespace qdiff

int main(int argc, char** argv) {
  for (qdiff::OpKind op : qdiff::kAllOpKinds) {
    for (const qdiff::OpRecipeDef* r : qdiff::OpRecipes(op)) {
      benchmark::RegisterBenchmark((std::string("BM_OpRecipe/") + r->name).c_str(),
                                   qdiff::BM_OpRecipe, r);
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
