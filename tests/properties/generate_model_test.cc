// GenerateModel (campaigns, replays by seed) draws without RapidCheck's exec recipe; it must give
// exactly the model GenModel (rc::gen::exec: property tests, shrinking) gives for the same Random
// and size, or a seed would name different cases in a campaign and in a property.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <string>
#include <vector>

#include "harness/case/case_json.h"
#include "properties/case_generator.h"

namespace qdiff {
namespace {

std::string ModelJson(const Model& m) {
  Case c;
  c.id = "generated";
  c.model = m;
  return CaseToJson(c);
}

std::string TagsOf(const CaseTags& t) {
  return t.scale_kind + "|" + t.observer + "|" + t.value_kind + "|" + t.bias_kind + "|" +
         std::to_string(t.large_accumulator) + std::to_string(t.weight_zero_point_nonzero) +
         std::to_string(t.real_size);
}

void ExpectExecsDraws(const GeneratorSettings& settings, uint64_t campaign_seed, int cases) {
  for (int i = 0; i < cases; ++i) {
    const uint64_t seed = CaseSeed(campaign_seed, static_cast<uint64_t>(i));
    const GeneratedModel lean = GenerateModel(seed, settings);
    const GeneratedModel exec = GenModel(settings)(rc::Random(seed), rc::kNominalSize).value();
    ASSERT_EQ(ModelJson(lean.model), ModelJson(exec.model)) << "case " << i;
    ASSERT_EQ(TagsOf(lean.tags), TagsOf(exec.tags)) << "case " << i;
    ASSERT_EQ(lean.first_layer_acc.empty(), exec.first_layer_acc.empty()) << "case " << i;
    if (!lean.first_layer_acc.empty()) {
      ASSERT_EQ(lean.first_layer_acc.get(), exec.first_layer_acc.get()) << "case " << i;
    }
  }
}

TEST(GenerateModel, DrawsWhatExecDrawsFromTheSameSeed) {
  ExpectExecsDraws(GeneratorSettings{}, 3, 300);  // every op: op models, chains, tails, CNNs
  GeneratorSettings gemm;
  gemm.ops = {OpKind::kConv2d, OpKind::kLinear};
  ExpectExecsDraws(gemm, 4, 300);
  gemm.real_size_percent = 100;
  ExpectExecsDraws(gemm, 5, 10);
}

}  // namespace
}  // namespace qdiff
