// Shrinking: from a failing case to the smallest case that still fails the same way (same op of
// the failing layer, engine, scheme and class; later layers may go). Works on concrete cases, so stored case files shrink too (`qdiff
// shrink`), not only cases a generator drew. Greedy, like RapidCheck: try simpler candidates in a
// fixed order (big steps first), take the first that still fails, start over; stop when none does.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "harness/case/case.h"
#include "harness/evaluation/case_evaluation.h"

namespace qdiff {

// What "the same way" means.
struct FailureSignature {
  std::string op;  // the layer it gets wrong: a scheme's, that layer op's family (OpFamily,
                   // "conv2d" for "conv2d_relu"); a kernel's, the layer op (DiscrepancyRow::layer_op)
  Engine engine;
  std::optional<Scheme> scheme;  // nullopt: the user's kernel column (kernel_column.h)
  DiffClass cls;   // kUnexplained for the schemes' findings; any class for a kernel's
  bool operator==(const FailureSignature& o) const {
    return op == o.op && engine == o.engine && scheme == o.scheme && cls == o.cls;
  }
  std::string ToString() const;  // "op/engine/scheme/class", scheme "kernel" for the kernel
  std::string SchemeName() const;  // the scheme's name, or "kernel"
  // The inverse of ToString; nullopt for text it does not write.
  static std::optional<FailureSignature> Parse(const std::string& text);
};

// The first unexplained element's signature, if the evaluation has one.
std::optional<FailureSignature> FirstFinding(const CaseEvaluation& ev);
// Every distinct signature with an unexplained element, in the order they first appear.
std::vector<FailureSignature> AllFindings(const CaseEvaluation& ev);

// Runs the case on sig.engine with sig.scheme (or with `kernel` for a kernel signature) and checks
// for an element of class sig.cls in that column.
bool FailsTheSameWay(const Case& c, const FailureSignature& sig,
                     const KernelColumn* kernel = nullptr);

// The first element of class sig.cls in the signature's column (layer, flat output index), as
// FailsTheSameWay evaluates it; nullopt when the case does not fail that way.
struct ElementRef {
  int64_t layer = 0;
  int64_t index = 0;
};
std::optional<ElementRef> FindingElement(const Case& c, const FailureSignature& sig,
                                         const KernelColumn* kernel = nullptr);

// Simpler variants of a case, every one valid (ValidateModel), in the order they are tried.
std::vector<Case> ShrinkCandidates(const Case& c);

struct ShrinkStats {
  int64_t attempts = 0;   // candidates evaluated
  int64_t accepted = 0;   // candidates that still failed (steps taken)
  double seconds = 0;
  int64_t elements_before = 0;  // input + weight + output elements
  int64_t elements_after = 0;
};

// Total size used to compare cases: input, weight and output elements of every layer.
int64_t CaseSize(const Case& c);

// Greedy shrink under `still_fails`, at most `max_attempts` candidate evaluations.
Case ShrinkCase(const Case& c, const std::function<bool(const Case&)>& still_fails,
                ShrinkStats* stats, int64_t max_attempts = 20000);

// The finding case file of `sig`: `c` shrunk under FailsTheSameWay, limited to the signature's
// engine and scheme, expecting `unexplained`, its description extended with the sizes.
Case ShrinkFinding(const Case& c, const FailureSignature& sig, ShrinkStats* stats,
                   const KernelColumn* kernel = nullptr);

}  // namespace qdiff
