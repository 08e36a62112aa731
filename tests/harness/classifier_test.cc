// Tests of harness/classifier: ClassifyElement on constructed elements (one or more per class),
// IsDegenerate, CaseVerdict and the class/verdict names.
//
// Every LibTorch value below is derived by hand from the backend formula of
// docs/semantics.md#conv-and-linear-requantization for the engine named in the row; the comment
// says what the scheme computes, which counterfactual switch (in the classifier's order:
// rounding, zero-point order, overflow, bias, multiplier, arithmetic, then the engine's whole
// recipe) first reproduces LibTorch, and why the earlier switches do not.
#include "harness/evaluation/classifier.h"

#include <gtest/gtest.h>

#include <set>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "oracles/recipe.h"
#include "oracles/scheme.h"

namespace qdiff {
namespace {

struct ClassRow {
  const char* what;
  ChannelQuant quant;
  int64_t acc;
  Scheme scheme;
  std::optional<Scheme> engine;  // nullopt: qdiff has no recipe for the engine
  int32_t libtorch;              // derived by hand (comment)
  int32_t scheme_out;            // what the scheme gives, derived by hand (sanity: a real diff)
  DiffClass expected;
  std::optional<int64_t> kernel_acc = std::nullopt;  // the engine kernel's accumulator, if not acc
};

ChannelQuant Quant(double s_x, double s_w, double s_y, int32_t z_y, QuantRange range = {0, 255},
                   std::optional<float> bias = std::nullopt) {
  ChannelQuant q;
  q.s_x = s_x;
  q.s_w = s_w;
  q.s_y = s_y;
  q.z_y = z_y;
  q.range = range;
  q.bias = bias;
  return q;
}

const std::vector<ClassRow>& Rows() {
  static const std::vector<ClassRow> rows = {
      // --- acc_saturation16 ---------------------------------------------------------------
      // s_x = s_w = 1, s_y = 256 (M = 1/256), z = 0; two products 255·127 = 32385 each.
      // Exact acc 64770 → 64770/256 = 253.008 → 253. A non-VNNI ONEDNN kernel saturates the
      // pair to 32767 → 127.996 → 128. Only the accumulator switch (tried first) explains it.
      {"pair saturated", Quant(1, 1, 256, 0), 64770, Scheme::kOnednnFp32, Scheme::kOnednnFp32,
       128, 253, DiffClass::kAccSaturation16, int64_t{32767}},
      // --- acc_overflow ---------------------------------------------------------------------
      // acc = 2^31 + 1280 (exact), M = 1/256: v = 2^23 + 5 → clamp 255. The int32 register
      // wraps to −2^31 + 1280 → −2^23 + 5 → clamp 0. Kernel acc = wrap(acc) → acc_overflow.
      {"int32 wrap", Quant(1, 1, 256, 0), (int64_t{1} << 31) + 1280, Scheme::kExact,
       Scheme::kOnednnFp32, 0, 255, DiffClass::kAccOverflow,
       -(int64_t{1} << 31) + 1280},
      // --- tie -----------------------------------------------------------------------------
      // M = 0.5, acc = 5, v = 2.5, z = 0. QNNPACK: RNE(f32(5)·0.5 = 2.5) = 2. single_rounding:
      // floor(2.5 + 0.5) = 3. Rounding switch (half-up → half-even, Q31 kept, exact arithmetic):
      // RNE(2.5) = 2 ✓ → tie (scheme does not round twice). It is the first switch tried; the
      // others would not help anyway (Q31 and f32 multipliers are both exactly 0.5, no bias,
      // no overflow, float half-up also gives 3).
      {"tie 2.5", Quant(1, 0.5, 1, 0), 5, Scheme::kSingleRounding, Scheme::kQnnpackFp32, 2, 3,
       DiffClass::kTie},
      // acc = −3, v = −1.5, z = 128. FBGEMM: RNE(−1.5) = −2 → 126. single: floor(−1.0) = −1 →
      // 127. Rounding switch → RNE → 126 ✓.
      {"tie -1.5", Quant(1, 0.5, 1, 128), -3, Scheme::kSingleRounding, Scheme::kFbgemmFp32, 126,
       127, DiffClass::kTie},

      // --- double_rounding -------------------------------------------------------------------
      // M = 1/4, acc = 5, v = 1.25, z = 0. QNNPACK: RNE(1.25) = 1. double_rounding: Q31 {2^30,
      // −1}, SRDHM(5, 2^30) = (5·2^30 + 2^30)/2^31 = 3, RDivPOT(3, 1) = 1 + (1 > 0) = 2.
      // Rounding switch (→ one exact RNE with the same Q31 multiplier 0.25 and int32 bias):
      // RNE(1.25) = 1 ✓; the scheme's rounding is kDoubleRoundingQ31 → double_rounding, not tie.
      {"double rounding 1.25", Quant(1, 0.25, 1, 0), 5, Scheme::kDoubleRounding,
       Scheme::kQnnpackFp32, 1, 2, DiffClass::kDoubleRounding},
      // M = 1/4, acc = −10, v = −2.5, z = 128. ONEDNN: RNE(−2.5 + 128 = 125.5) = 126.
      // double_rounding: SRDHM(−10, 2^30) = −5, RDivPOT(−5, 1) = −3 → 125. Rounding switch:
      // RNE(−2.5) + 128 = 126 ✓ (first switch) → double_rounding (the second rounding's
      // ties-away rule is what a single RNE removes).
      {"double rounding tie", Quant(1, 0.25, 1, 128), -10, Scheme::kDoubleRounding,
       Scheme::kOnednnFp32, 126, 125, DiffClass::kDoubleRounding},

      // --- zero_point_order ------------------------------------------------------------------
      // M = 0.5, acc = 5, z = 1. ONEDNN: RNE(2.5 + 1 = 3.5) = 4. exact: RNE(2.5) + 1 = 3.
      // Rounding: both half-even, skipped. Zero-point switch: RNE(3.5) = 4 ✓.
      {"zp order 2.5+1", Quant(1, 0.5, 1, 1), 5, Scheme::kExact, Scheme::kOnednnFp32, 4, 3,
       DiffClass::kZeroPointOrder},
      // acc = −5, z = 127, scheme qnnpack_fp32. ONEDNN: RNE(−2.5 + 127 = 124.5) = 124. qnnpack:
      // RNE(−2.5) + 127 = 125. Rounding equal (skipped); zp switch: f32(−2.5 + 127) = 124.5 →
      // RNE 124 ✓.
      {"zp order -2.5+127", Quant(1, 0.5, 1, 127), -5, Scheme::kQnnpackFp32,
       Scheme::kOnednnFp32, 124, 125, DiffClass::kZeroPointOrder},

      // --- saturation ------------------------------------------------------------------------
      // M = 256, acc = 2^23, z = 0. QNNPACK: f32(2^23)·256 = 2^31 → cvtps2dq INT32_MIN → 0.
      // exact: 2^31 → clamp 255. Rounding and zp order equal (skipped); overflow switch
      // (integer indefinite): 2^31 is outside int32 → qmin = 0 ✓.
      {"cvt indefinite", Quant(1, 256, 1, 0), 8388608, Scheme::kExact, Scheme::kQnnpackFp32, 0,
       255, DiffClass::kSaturation},
      // ReLU, z = 100, range [100, 255], scheme onednn_fp32, engine FBGEMM: FBGEMM M =
      // f32(256/1) = 256, t = 2^31 → INT32_MIN → qmin = 100. onednn: f32(2^31 + 100) = 2^31
      // (spacing 256 there), float saturation → 255. Rounding equal; zp switch (after): RNE(2^31)
      // beyond int32 saturates → 255, ✗; overflow switch: f32(2^31 + 100) = 2^31 ≥ 2^31 → qmin
      // = 100 ✓.
      {"cvt indefinite relu", Quant(1, 256, 1, 100, {100, 255}), 8388608, Scheme::kOnednnFp32,
       Scheme::kFbgemmFp32, 100, 255, DiffClass::kSaturation},

      // --- bias ------------------------------------------------------------------------------
      // s_x = 0.5, s_w = 0.25 (s_x·s_w = 0.125), s_y = 0.0625 (M = 2), b = 0.0625 = 0.5 units,
      // acc = 10, z = 0. QNNPACK: b_q = RNE(0.0625·f32(1/0.125) = 0.5) = 0, M = 0.125·16 = 2,
      // t = 10·2 = 20. exact: (10 + 0.5)·2 = 21. Rounding/zp equal; overflow switch: 21 fits,
      // still 21 ✗; bias switch (int32 b_q = 0, exact arithmetic): (10 + 0)·2 = 20 ✓.
      {"half-unit bias", Quant(0.5, 0.25, 0.0625, 0, {0, 255}, 0.0625f), 10, Scheme::kExact,
       Scheme::kQnnpackFp32, 20, 21, DiffClass::kBias},
      // Same element, scheme qnnpack_fp32 (20), engine FBGEMM: bf = 0.0625·f32(1/0.125) = 0.5,
      // M = 0.125/0.0625 = 2, t = (10 + 0.5)·2 = 21. Rounding, zp, overflow all equal; bias
      // switch (float fbgemm bias): f32(10) + 0.5 = 10.5, ·2 = 21 ✓.
      {"half-unit bias fbgemm", Quant(0.5, 0.25, 0.0625, 0, {0, 255}, 0.0625f), 10,
       Scheme::kQnnpackFp32, Scheme::kFbgemmFp32, 21, 20, DiffClass::kBias},

      // --- multiplier ------------------------------------------------------------------------
      // s_x = s_w = 1 + 2^-24 (double), s_y = 2^16, acc = 2^23 + 2^15 = 8421376, z = 0.
      // QNNPACK: f32(1 + 2^-24) = 1 (tie, even significand), M = f32(1·1)·f32(2^-16) = 2^-16;
      // t = 8421376·2^-16 = 128.5 exactly → RNE 128. exact: M = (1 + 2^-23 + 2^-48)·2^-16,
      // v = 128.5 + 128.5·2^-23 + … ∈ (128.5, 129) → 129. Rounding/zp equal; overflow ✗ (129);
      // no bias ✗; multiplier switch (exact arithmetic, M = 2^-16): 128.5 → RNE 128 ✓.
      // (Arithmetic alone would not do: f32(exact M) = (1 + 2^-23)·2^-16, 128.5·(1 + 2^-23) =
      // 128.5 + 2^-16 + 2^-24 → f32 → 128.5 + 2^-16 → 129.)
      {"f32 inputs of the multiplier", Quant(1 + 0x1p-24, 1 + 0x1p-24, 65536, 0), 8421376,
       Scheme::kExact, Scheme::kQnnpackFp32, 128, 129, DiffClass::kMultiplier},
      // s_x = 1 + 2^-30, s_w = 1, s_y = 2, acc = 5, z = 0. QNNPACK: f32(s_x) = 1, M = 0.5,
      // RNE(2.5) = 2. exact: v = 5·(0.5 + 2^-31) = 2.5 + 5·2^-31 → 3. Multiplier switch:
      // 5·0.5 = 2.5 → RNE 2 ✓. The arithmetic switch would also reproduce it (f32(0.5 + 2^-31) =
      // 0.5), but the multiplier is tried first.
      {"multiplier before float", Quant(1 + 0x1p-30, 1, 2, 0), 5, Scheme::kExact,
       Scheme::kQnnpackFp32, 2, 3, DiffClass::kMultiplier},

      // --- float_conversion ------------------------------------------------------------------
      // M = 2^-17, acc = 2^24 + 2^16 + 1 = 16842753, z = 0. QNNPACK: f32(acc) = 16842752
      // (spacing 2; tie; 8421376 even) → 128.5 → RNE 128. exact: 128.5 + 2^-17 → 129.
      // Rounding/zp equal; overflow ✗; no bias ✗; multiplier: QNNPACK M = 2^-17 = exact M ✗;
      // arithmetic switch (binary32): f32(acc)·2^-17 = 128.5 → 128 ✓.
      {"f32(acc) beyond 2^24", Quant(1, 0x1p-17, 1, 0), 16842753, Scheme::kExact,
       Scheme::kQnnpackFp32, 128, 129, DiffClass::kFloatConversion},
      // Negative twin, z = 255: QNNPACK RNE(−128.5) = −128 → 127; exact −129 → 126; same
      // reasoning, arithmetic switch → 127 ✓.
      {"f32(acc) beyond 2^24 neg", Quant(1, 0x1p-17, 1, 255), -16842753, Scheme::kExact,
       Scheme::kQnnpackFp32, 127, 126, DiffClass::kFloatConversion},

      // --- combined --------------------------------------------------------------------------
      // s_x = 1 + 2^-30, s_w = 1, s_y = 2, acc = 5, z = 0, scheme single_rounding: Q31 of
      // 0.5 + 2^-31 = {2^30 + 1, 0}, exact, v = 2.5 + 5·2^-31 → half up 3. QNNPACK 2 (above).
      // Rounding → half-even: not a tie, 3 ✗. zp/bias equal (skipped). overflow ✗. multiplier →
      // f32 0.5: v = 2.5 exactly, half-up 3 ✗. arithmetic → binary32 (f32(Q31 value) = 0.5):
      // 2.5, half-up 3 ✗. Only multiplier AND tie rule together: the engine recipe gives 2 ✓.
      {"multiplier and tie", Quant(1 + 0x1p-30, 1, 2, 0), 5, Scheme::kSingleRounding,
       Scheme::kQnnpackFp32, 2, 3, DiffClass::kCombined},
      // M = 1 (s_y = 0.125), b = 0.5 units, z = 1, acc = 2, scheme qnnpack_fp32 (b_q = 0:
      // 2 + 1 = 3), ONEDNN: bf = 0.5, RNE(2.5 + 1 = 3.5) = 4. Rounding equal; zp switch:
      // RNE(2 + 1) = 3 ✗; overflow (saturate): 3 ✗; bias switch (float 0.5, zp after):
      // RNE(2.5) + 1 = 3 ✗; multiplier (onednn M = f32(8/8) = 1, same) ✗; arithmetic equal.
      // Engine recipe (bias and zp order together): 4 ✓.
      {"bias and zp order", Quant(0.5, 0.25, 0.125, 1, {0, 255}, 0.0625f), 2,
       Scheme::kQnnpackFp32, Scheme::kOnednnFp32, 4, 3, DiffClass::kCombined},

      // --- unexplained -----------------------------------------------------------------------
      // M = 0.5, acc = 5, z = 0: every recipe gives 2 (v = 2.5, RNE) — a LibTorch value of 7
      // cannot be reproduced by any switch nor by the QNNPACK recipe itself.
      {"impossible value", Quant(1, 0.5, 1, 0), 5, Scheme::kExact, Scheme::kQnnpackFp32, 7, 2,
       DiffClass::kUnexplained},
      // Scheme = engine = qnnpack_fp32 (2) and LibTorch 3, e.g. an accumulator effect outside
      // the recipe: every switch is a no-op, the engine recipe gives 2 ✗.
      {"engine disagrees with itself", Quant(1, 0.5, 1, 0), 5, Scheme::kQnnpackFp32,
       Scheme::kQnnpackFp32, 3, 2, DiffClass::kUnexplained},
      // No engine recipe known: unexplained even though single_rounding (3) would match.
      {"no engine recipe", Quant(1, 0.5, 1, 0), 5, Scheme::kExact, std::nullopt, 3, 2,
       DiffClass::kUnexplained},
  };
  return rows;
}

TEST(Classifier, ConstructedElements) {
  std::vector<int> per_class(static_cast<int>(DiffClass::kUnexplained) + 1, 0);
  for (const ClassRow& row : Rows()) {
    const ChannelTerms terms = PrepareChannel(row.quant);
    const Recipe scheme = GetScheme(row.scheme).recipe;
    // The element is a real difference: the scheme's own output is the hand-derived one.
    const std::optional<int32_t> own = EvaluateRecipe(scheme, terms, row.acc);
    ASSERT_TRUE(own.has_value()) << row.what;
    EXPECT_EQ(*own, row.scheme_out) << row.what;
    EXPECT_NE(*own, row.libtorch) << row.what;
    std::optional<Recipe> engine;
    if (row.engine) engine = GetScheme(*row.engine).recipe;
    const DiffClass got = ClassifyElement(scheme, engine, terms, row.acc,
                                          row.kernel_acc.value_or(row.acc), row.libtorch);
    EXPECT_EQ(DiffClassName(got), std::string(DiffClassName(row.expected)))
        << row.what << ": scheme " << GetScheme(row.scheme).name << ", engine "
        << (row.engine ? GetScheme(*row.engine).name : "none") << ", acc " << row.acc
        << ", libtorch " << row.libtorch;
    ++per_class[static_cast<int>(row.expected)];
  }
  for (int c = 0; c <= static_cast<int>(DiffClass::kUnexplained); ++c) {
    // libtorch_bug comes only from op recipes (Classifier.OpElements covers it).
    if (static_cast<DiffClass>(c) == DiffClass::kLibTorchBug) continue;
    EXPECT_GT(per_class[c], 0) << "no row for class " << DiffClassName(static_cast<DiffClass>(c));
  }
  std::cout << "[ family   ] classifier rows: " << Rows().size() << "\n";
}

// Ops without weights: the class names the one ingredient in which the scheme pipeline's recipe
// differs from the engine path's recipe that reproduces LibTorch. Recipes are built here with
// chosen ingredients (the run function is never called by the classifier).
TEST(Classifier, OpElements) {
  auto recipe = [](OpIngredients i) {
    return OpRecipeDef{"test.recipe", OpKind::kAdd, i, "", nullptr};
  };
  static constexpr OpFormula m{"m"}, m2{"m"};  // same text, different formulas
  const OpIngredients base{OpRounding::kHalfEven, OpZeroPoint::kAfterRounding,
                           OpArithmetic::kBinary32, OpLayout::kAny, &m};
  OpIngredients half_away = base, zp_before = base, other_m = base, exact = base, two = base;
  OpIngredients nhwc = base, nhwc_zp = base;
  half_away.rounding = OpRounding::kHalfAway;
  zp_before.zero_point = OpZeroPoint::kBeforeRounding;
  other_m.multiplier = &m2;
  exact.arithmetic = OpArithmetic::kExact;
  two.rounding = OpRounding::kHalfAway;
  two.zero_point = OpZeroPoint::kBeforeRounding;
  OpIngredients nchw_base = base;
  nchw_base.layout = OpLayout::kNchw;
  nhwc.layout = OpLayout::kNhwc;
  nhwc_zp.layout = OpLayout::kNhwc;
  nhwc_zp.zero_point = OpZeroPoint::kBeforeRounding;
  const OpRecipeDef scheme = recipe(base);
  const OpRecipeDef nchw_scheme = recipe(nchw_base);
  struct Row {
    const char* what;
    OpIngredients engine;
    int32_t engine_out, libtorch;
    double exact_lsb;
    std::optional<int32_t> bug_out;
    DiffClass expected;
  };
  const std::vector<Row> rows = {
      {"rounding only", half_away, 3, 3, 2.5, std::nullopt, DiffClass::kTie},
      {"zero point only", zp_before, 3, 3, 2.5, std::nullopt, DiffClass::kZeroPointOrder},
      {"multiplier only", other_m, 3, 3, 2.4, std::nullopt, DiffClass::kMultiplier},
      {"arithmetic only", exact, 3, 3, 2.4, std::nullopt, DiffClass::kFloatConversion},
      // Two ingredients: an exact tie with different tie rules is a tie, otherwise combined.
      {"two, at a tie", two, 3, 3, 2.5, std::nullopt, DiffClass::kTie},
      {"two, no tie", two, 3, 3, 2.4, std::nullopt, DiffClass::kCombined},
      // A layout difference (NCHW vs NHWC kernels) has no class of its own.
      {"layout and zero point", nhwc_zp, 3, 3, 2.4, std::nullopt, DiffClass::kCombined},
      {"layout only", nhwc, 3, 3, 2.4, std::nullopt, DiffClass::kCombined},
      // The engine path misses LibTorch: a documented-bug recipe that matches explains it.
      {"bug recipe matches", base, 2, 3, 2.4, 3, DiffClass::kLibTorchBug},
      {"bug recipe differs", base, 2, 3, 2.4, 4, DiffClass::kUnexplained},
      {"nothing matches", base, 2, 3, 2.4, std::nullopt, DiffClass::kUnexplained},
  };
  std::set<DiffClass> seen;
  for (const Row& r : rows) {
    const OpRecipeDef engine = recipe(r.engine);
    // Layout rows compare an NCHW scheme recipe with an NHWC engine recipe.
    const OpRecipeDef& s = r.engine.layout == OpLayout::kNhwc ? nchw_scheme : scheme;
    EXPECT_EQ(DiffClassName(ClassifyOpElement(s, &engine, r.engine_out, r.libtorch,
                                              r.exact_lsb, r.bug_out)),
              std::string(DiffClassName(r.expected)))
        << r.what;
    seen.insert(r.expected);
  }
  EXPECT_EQ(ClassifyOpElement(scheme, nullptr, 0, 3, 2.5), DiffClass::kUnexplained);
  EXPECT_EQ(seen.count(DiffClass::kLibTorchBug), 1u);
}

TEST(Classifier, ClassNamesRoundTrip) {
  for (int c = 0; c <= static_cast<int>(DiffClass::kUnexplained); ++c) {
    const DiffClass d = static_cast<DiffClass>(c);
    const std::optional<DiffClass> back = ParseDiffClass(DiffClassName(d));
    ASSERT_TRUE(back.has_value()) << DiffClassName(d);
    EXPECT_EQ(*back, d);
  }
  EXPECT_STREQ(DiffClassName(DiffClass::kFloatConversion), "float_conversion");
  EXPECT_STREQ(DiffClassName(DiffClass::kZeroPointOrder), "zero_point_order");
  EXPECT_FALSE(ParseDiffClass("Tie").has_value());
  EXPECT_FALSE(ParseDiffClass("").has_value());
}

TEST(Classifier, IsDegenerate) {
  const QuantRange u8{0, 255};
  const QuantRange relu{128, 255};
  EXPECT_TRUE(IsDegenerate({}, u8));                 // nothing compared
  EXPECT_TRUE(IsDegenerate({0}, u8));                // one element, at qmin
  EXPECT_TRUE(IsDegenerate({255}, u8));              // one element, at qmax
  EXPECT_FALSE(IsDegenerate({17}, u8));              // one element inside: not "all equal"
  EXPECT_TRUE(IsDegenerate({0, 255, 0, 255}, u8));   // every output at a bound
  EXPECT_TRUE(IsDegenerate({5, 5, 5}, u8));          // constant
  EXPECT_FALSE(IsDegenerate({5, 6}, u8));
  EXPECT_FALSE(IsDegenerate({0, 255, 3}, u8));       // one output inside the range
  EXPECT_TRUE(IsDegenerate({128, 255, 128}, relu));  // ReLU floor is the bound
  EXPECT_FALSE(IsDegenerate({0, 255}, relu));        // 0 is not a bound of [128, 255]
  EXPECT_FALSE(IsDegenerate({129, 130}, relu));
}

TEST(Classifier, CaseVerdictPrecedence) {
  // (rejected, mismatches, unexplained, degenerate)
  EXPECT_EQ(CaseVerdict(false, 0, 0, false), Verdict::kExact);
  EXPECT_EQ(CaseVerdict(false, 3, 0, false), Verdict::kExplained);
  EXPECT_EQ(CaseVerdict(false, 0, 0, true), Verdict::kDegenerate);   // degenerate > exact
  EXPECT_EQ(CaseVerdict(false, 3, 0, true), Verdict::kDegenerate);   // degenerate > explained
  EXPECT_EQ(CaseVerdict(false, 3, 1, false), Verdict::kUnexplained);
  EXPECT_EQ(CaseVerdict(false, 3, 1, true), Verdict::kUnexplained);  // a finding is never hidden
  EXPECT_EQ(CaseVerdict(false, 1, 1, true), Verdict::kUnexplained);
  EXPECT_EQ(CaseVerdict(true, 0, 0, false), Verdict::kRejected);
  EXPECT_EQ(CaseVerdict(true, 0, 0, true), Verdict::kRejected);      // rejected > degenerate
  EXPECT_STREQ(VerdictName(Verdict::kDegenerate), "degenerate");
  EXPECT_STREQ(VerdictName(Verdict::kUnexplained), "unexplained");
}

// A user's kernel against QNNPACK's recipe on one channel with M = s_x·s_w/s_y = 0.5 exactly, no
// bias, z_y = 0: acc 5 gives t = 2.5, which QNNPACK rounds to even (2).
TEST(Classifier, KernelElementNamesTheIngredientTheKernelChanged) {
  ChannelQuant q;
  q.s_x = 0.5;
  q.s_w = 1.0;
  q.s_y = 1.0;
  const ChannelTerms t = PrepareChannel(q);
  const Recipe qnnpack = GetScheme(Scheme::kQnnpackFp32).recipe;
  ASSERT_EQ(EvaluateRecipe(qnnpack, t, 5), 2);
  std::vector<Scheme> equals;
  // 3: ties away from zero (rndna's rounding).
  EXPECT_EQ(ClassifyKernelElement(qnnpack, t, 5, 3, &equals), DiffClass::kTie);
  EXPECT_NE(std::find(equals.begin(), equals.end(), Scheme::kRndna), equals.end());
  // 4: no recipe qdiff knows gives 4 for 2.5.
  EXPECT_EQ(ClassifyKernelElement(qnnpack, t, 5, 4), DiffClass::kUnexplained);
}

// DNNL_MAX_CPU_ISA=AVX2, grouped conv (found by a campaign): M = 2^-4 · 2^-5 / 1 = 2^-9, z_y = 159,
// acc = -48896 → v = -95.5, an exact tie. double_rounding gives -96 + 159 = 63; ONEDNN adds z_y
// before rounding: RNE(63.5) = 64, which LibTorch returned. The 16-bit pair model predicted a
// saturated accumulator (-16384 → -32 + 159 = 127) that this kernel did not compute. Two
// ingredients differ (rounding and zero-point order) and the engine's recipe on the exact
// accumulator reproduces LibTorch: combined, not unexplained.
TEST(Classifier, EngineRecipeOnExactAccumulatorIsCombinedWhenTheSaturationModelMisses) {
  ChannelQuant q;
  q.s_x = 0x1p-4;
  q.s_w = 0x1p-5;
  q.s_y = 1.0;
  q.z_y = 159;
  const ChannelTerms t = PrepareChannel(q);
  const Recipe dr = GetScheme(Scheme::kDoubleRounding).recipe;
  const Recipe onednn = GetScheme(Scheme::kOnednnFp32).recipe;
  ASSERT_EQ(EvaluateRecipe(dr, t, -48896), 63);
  ASSERT_EQ(EvaluateRecipe(onednn, t, -48896), 64);
  ASSERT_EQ(EvaluateRecipe(onednn, t, -16384), 127);
  EXPECT_EQ(ClassifyElement(dr, onednn, t, -48896, -16384, 64), DiffClass::kCombined);
  EXPECT_EQ(ClassifyElement(dr, onednn, t, -48896, -16384, 65), DiffClass::kUnexplained);
}

}  // namespace
}  // namespace qdiff
