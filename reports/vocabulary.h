// The typed vocabulary shared by the harness and the report sinks. Values stay typed from the
// evaluation to the sink that writes them; names appear only at the boundary (CSV, JSON, text).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace qdiff {

// The outcome of one (case, engine, scheme) comparison, cases.csv's `verdict` column.
enum class Verdict {
  kExact,        // every element equals LibTorch's
  kExplained,    // some differ; the classifier explains each
  kUnexplained,  // some element nothing explains: a finding
  kRejected,     // LibTorch refused the case (nothing compared)
  kDegenerate,   // the comparison tested nothing (classifier.h IsDegenerate)
  kCrashed,      // the worker died on the case: a finding
  kTimeout,      // the worker ran past --case-timeout and was killed: a finding
};

// Why one element's output differs from LibTorch's: discrepancies.csv's `cls` column. The
// classifier (harness/evaluation/classifier.h) decides it by counterfactual ingredients.
enum class DiffClass {
  kAccSaturation16,  // the kernel's 16-bit saturation of adjacent u8·s8 products (no VNNI)
  kAccOverflow,      // the kernel's int32 accumulator wrapped
  kTie,              // the tie rule (rounding ingredient) differs, scheme rounds once
  kDoubleRounding,   // the scheme rounds twice (gemmlowp); one correct rounding reproduces LibTorch
  kZeroPointOrder,   // zero point added before vs after rounding
  kSaturation,       // out-of-int32 handling (cvtps2dq indefinite → range minimum)
  kBias,             // bias representation (exact, int32-rounded, float)
  kMultiplier,       // multiplier representation (exact, Q31, binary32 formula)
  kFloatConversion,  // binary32 arithmetic (f32(acc) beyond 2^24, rounded products)
  kLibTorchBug,      // only a recipe reproducing a documented LibTorch bug explains it (corpora/)
  kCombined,         // only several ingredients together (the engine's full recipe) explain it
  kUnexplained,      // not even the engine's recipe reproduces LibTorch: a bug candidate
};

const char* DiffClassName(DiffClass c);
std::optional<DiffClass> ParseDiffClass(const std::string& name);

// Every verdict, in the column order of the summary tables.
const std::vector<Verdict>& AllVerdicts();
const char* VerdictName(Verdict v);
std::optional<Verdict> ParseVerdict(const std::string& name);
// The verdicts every summary table shows as columns; crashed and timeout get one only when
// present.
const std::vector<std::string>& TableVerdictColumns();
// unexplained, crashed and timeout: what a campaign reports, saves and fails on.
bool IsFinding(Verdict v);
// rejected, crashed and timeout: no element was compared.
bool ComparedNothing(Verdict v);

}  // namespace qdiff
