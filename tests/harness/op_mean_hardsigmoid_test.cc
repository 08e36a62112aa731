// mean and hardsigmoid (oracles/ops/mean.cc, hardsigmoid.cc) against LibTorch on seeded random
// inputs, on every engine of this build: the recipe EngineOpRecipe assigns must reproduce every
// element bit for bit. The inputs are drawn where the paths differ: mean over planes of 1 to ~1000
// values (the cascade sum's levels of 16 and its interleaved row sums), channel counts on both
// sides of 4, 8 and 32 (which channels take which sum order), channels-last or not, every dims
// form and keepdim; hardsigmoid over tensors of 1 to 300 elements (the n mod 64 scalar tail of
// cpu_kernel_vec, NHWC memory order) with scales 3·2^-k, whose outputs land on exact halves.
// Each path must be exercised on many elements, so that the test cannot pass by skipping.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "harness/torch/libtorch_runner.h"
#include "oracles/model.h"
#include "oracles/ops/op_recipe.h"

namespace qdiff {
namespace {

struct Draw {
  std::mt19937_64 gen;
  int64_t Int(int64_t a, int64_t b) { return std::uniform_int_distribution<int64_t>(a, b)(gen); }
  double Real(double a, double b) { return std::uniform_real_distribution<double>(a, b)(gen); }
  // Observer-like scales and 3·2^-k (hardsigmoid's exact halves: (x + 3)/6·256 = (q − z)/4 + 128
  // at k = 9).
  double Scale() { return Int(0, 2) == 0 ? 3.0 * std::ldexp(1.0, -Int(7, 10)) : std::exp(Real(-7.0, 0.5)); }
  QTensor Tensor(std::vector<int64_t> shape) {
    const DType dt = Int(0, 1) ? DType::kQUInt8 : DType::kQInt8;
    const QuantRange r = TypeRange(dt);
    std::vector<int32_t> v(ShapeElements(shape));
    for (int32_t& q : v) q = static_cast<int32_t>(Int(r.qmin, r.qmax));
    return PerTensorQTensor(dt, std::move(shape), std::move(v), Scale(),
                            static_cast<int32_t>(Int(r.qmin, r.qmax)));
  }
};

// Elements compared per engine-path recipe name; fails the test on any mismatch.
using PathElements = std::map<std::string, int64_t>;

void Compare(const Layer& layer, const QTensor& x, PathElements* paths) {
  Model m;
  m.input = x;
  m.layers = {layer};
  ASSERT_EQ(ValidateModel(m), "");
  for (Engine engine : AvailableEngines()) {
    const EngineResult lt = RunOnLibTorch(m, engine);
    ASSERT_FALSE(lt.rejected) << lt.message;
    const OpRecipeDef* path = EngineOpRecipe(engine, layer, {x});
    ASSERT_NE(path, nullptr);
    const std::vector<int32_t> got = path->run(layer, {x}, LayerOutputShape(layer, x.shape));
    ASSERT_EQ(got, lt.layers.at(0).values)
        << path->name << " on " << EngineName(engine) << ", shape " << x.shape[0] << "x"
        << (x.shape.size() > 1 ? x.shape[1] : 1) << "x…, " << DTypeName(x.dtype) << " s "
        << x.scales[0] << " z " << x.zero_points[0] << (layer.channels_last ? " channels-last" : "");
    (*paths)[std::string(EngineName(engine)) + " " + path->name] += static_cast<int64_t>(got.size());
  }
}

void Report(const PathElements& paths) {
  for (const auto& [path, elements] : paths) {
    std::printf("%s: %lld elements\n", path.c_str(), static_cast<long long>(elements));
  }
}

TEST(OpMeanLibTorch, EnginePathsReproduceLibTorchBitForBit) {
  InitLibTorch();
  Draw d{std::mt19937_64(20261205)};
  PathElements paths;
  const int64_t dims[4][2] = {{2, 3}, {-1, -2}, {3, 2}, {-2, -1}};
  for (int c = 0; c < 300; ++c) {
    const int64_t channels = d.Int(0, 3) == 0 ? d.Int(32, 70) : d.Int(1, 20);
    const bool large = d.Int(0, 9) == 0;  // planes of up to ~1000 values: several cascade levels
    const int64_t h = large ? d.Int(17, 40) : d.Int(1, 9), w = large ? d.Int(17, 25) : d.Int(1, 9);
    const QTensor x = d.Tensor({d.Int(1, 2), channels, h, w});
    Layer l;
    l.op = OpKind::kMean;
    const int form = static_cast<int>(d.Int(0, 3));
    l.mean.dims[0] = dims[form][0];
    l.mean.dims[1] = dims[form][1];
    l.mean.keepdim = d.Int(0, 1) == 1;
    l.channels_last = d.Int(0, 1) == 1;
    Compare(l, x, &paths);
    if (HasFatalFailure()) return;
  }
  Report(paths);
  for (Engine engine : AvailableEngines()) {
    const std::string e = EngineName(engine);
    EXPECT_GT(paths[e + " mean.inner_dim"], 2000) << e;
    EXPECT_GT(paths[e + " mean.generic"], 2000) << e;
    if (engine == Engine::kQnnpack) EXPECT_GT(paths[e + " mean.qnnpack"], 500);
  }
}

TEST(OpHardsigmoidLibTorch, EnginePathsReproduceLibTorchBitForBit) {
  InitLibTorch();
  Draw d{std::mt19937_64(20261206)};
  PathElements paths;
  for (int c = 0; c < 300; ++c) {
    const bool four_d = d.Int(0, 3) != 0;
    const std::vector<int64_t> shape = four_d ? std::vector<int64_t>{d.Int(1, 2), d.Int(1, 20), d.Int(1, 5), d.Int(1, 5)}
                                              : std::vector<int64_t>{d.Int(1, 3), d.Int(1, 100)};
    Layer l;
    l.op = OpKind::kHardsigmoid;
    l.channels_last = four_d && d.Int(0, 1) == 1;
    Compare(l, d.Tensor(shape), &paths);
    if (HasFatalFailure()) return;
  }
  Report(paths);
  for (Engine engine : AvailableEngines()) {
    const std::string e = EngineName(engine);
    EXPECT_GT(paths[e + " hardsigmoid.default_table"], 5000) << e;
    if (engine == Engine::kQnnpack) EXPECT_GT(paths[e + " hardsigmoid.qnnpack_table"], 5000);
  }
}

}  // namespace
}  // namespace qdiff
