// Shrinking a layer saved from a real model (`qdiff model --save-cases`) whose second operand is an
// extra graph input: the input and the extra input are sliced together, so add, mul and cat cases
// shrink as far as cases with one input do.
#include <gtest/gtest.h>

#include <algorithm>

#include "harness/evaluation/shrink.h"
#include "oracles/model.h"

namespace qdiff {
namespace {

// add(x, e) over [2, 3, 4, 4] with one marked pair: x = 200 and e = 100 at the same element.
Case AddWithExtraInput(OpKind op) {
  Case c;
  c.id = "extra-input";
  std::vector<int32_t> xs(96, 10), es(96, 20);
  xs[77] = 200;
  es[77] = 100;
  c.model.input = PerTensorQTensor(DType::kQUInt8, {2, 3, 4, 4}, xs, 0.5, 3);
  c.model.extra_inputs = {PerTensorQTensor(DType::kQUInt8, {2, 3, 4, 4}, es, 0.25, 1)};
  Layer l;
  l.op = op;
  l.out_scale = 0.5;
  l.out_zero_point = 2;
  l.inputs = {-1, -2};
  c.model.layers = {l};
  return c;
}

// The marked pair survives: some element holds x = 200 and e = 100.
bool HoldsMarkedPair(const Case& s) {
  const QTensor& x = s.model.input;
  const QTensor& e = s.model.extra_inputs.at(0);
  if (x.values.size() != e.values.size()) return false;
  for (size_t i = 0; i < x.values.size(); ++i) {
    if (x.values[i] == 200 && e.values[i] == 100) return true;
  }
  return false;
}

TEST(ShrinkExtraInputs, BinaryOpsShrinkBothOperandsToOneElement) {
  for (OpKind op : {OpKind::kAdd, OpKind::kMul}) {
    const Case c = AddWithExtraInput(op);
    ASSERT_EQ(ValidateModel(c.model), "");
    ShrinkStats stats;
    const Case s = ShrinkCase(c, HoldsMarkedPair, &stats);
    EXPECT_TRUE(HoldsMarkedPair(s));
    EXPECT_EQ(s.model.input.shape, (std::vector<int64_t>{1, 1, 1, 1})) << OpKindName(op);
    EXPECT_EQ(s.model.extra_inputs.at(0).shape, (std::vector<int64_t>{1, 1, 1, 1})) << OpKindName(op);
  }
}

TEST(ShrinkExtraInputs, CatKeepsTheOtherOperandWholeAlongItsOwnDimension) {
  Case c = AddWithExtraInput(OpKind::kCat);
  c.model.layers[0].cat_dim = 1;
  // The second operand has 2 channels, the first 3: along dim 1 only the first is sliced.
  QTensor& e = c.model.extra_inputs[0];
  e.shape = {2, 2, 4, 4};
  e.values.resize(64);
  ASSERT_EQ(ValidateModel(c.model), "");
  // Fails while the first operand still holds a 200 and the second a 100 anywhere. Batch and
  // spatial slices apply to both operands alike, so both marks share those coordinates.
  auto marked = [](const Case& s) {
    const auto& x = s.model.input.values;
    const auto& ev = s.model.extra_inputs.at(0).values;
    return std::count(x.begin(), x.end(), 200) > 0 && std::count(ev.begin(), ev.end(), 100) > 0;
  };
  e.values[61] = 100;  // n 1, c 1, h 3, w 1: the spatial position of the first operand's 200
  ShrinkStats stats;
  const Case s = ShrinkCase(c, marked, &stats);
  EXPECT_TRUE(marked(s));
  EXPECT_EQ(s.model.input.shape, (std::vector<int64_t>{1, 1, 1, 1}));
  // batch and spatial dims follow the input; the channel dim (cat's) kept its own length
  EXPECT_EQ(s.model.extra_inputs.at(0).shape, (std::vector<int64_t>{1, 2, 1, 1}));
}

}  // namespace
}  // namespace qdiff
