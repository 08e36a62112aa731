#include "reports/vocabulary.h"

namespace qdiff {

const char* DiffClassName(DiffClass c) {
  switch (c) {
    case DiffClass::kAccSaturation16: return "acc_saturation16";
    case DiffClass::kAccOverflow: return "acc_overflow";
    case DiffClass::kTie: return "tie";
    case DiffClass::kDoubleRounding: return "double_rounding";
    case DiffClass::kZeroPointOrder: return "zero_point_order";
    case DiffClass::kSaturation: return "saturation";
    case DiffClass::kBias: return "bias";
    case DiffClass::kMultiplier: return "multiplier";
    case DiffClass::kFloatConversion: return "float_conversion";
    case DiffClass::kLibTorchBug: return "libtorch_bug";
    case DiffClass::kCombined: return "combined";
    case DiffClass::kUnexplained: return "unexplained";
  }
  return "unexplained";
}

std::optional<DiffClass> ParseDiffClass(const std::string& name) {
  for (int i = 0; i <= static_cast<int>(DiffClass::kUnexplained); ++i) {
    if (name == DiffClassName(static_cast<DiffClass>(i))) return static_cast<DiffClass>(i);
  }
  return std::nullopt;
}

const std::vector<Verdict>& AllVerdicts() {
  static const std::vector<Verdict> all = {Verdict::kExact,    Verdict::kExplained,
                                           Verdict::kUnexplained, Verdict::kRejected,
                                           Verdict::kDegenerate, Verdict::kCrashed,
                                           Verdict::kTimeout};
  return all;
}

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kExact: return "exact";
    case Verdict::kExplained: return "explained";
    case Verdict::kUnexplained: return "unexplained";
    case Verdict::kRejected: return "rejected";
    case Verdict::kDegenerate: return "degenerate";
    case Verdict::kCrashed: return "crashed";
    case Verdict::kTimeout: return "timeout";
  }
  return "unexplained";
}

std::optional<Verdict> ParseVerdict(const std::string& name) {
  for (Verdict v : AllVerdicts()) {
    if (name == VerdictName(v)) return v;
  }
  return std::nullopt;
}

const std::vector<std::string>& TableVerdictColumns() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (Verdict v : AllVerdicts()) {
      if (v != Verdict::kCrashed && v != Verdict::kTimeout) out.push_back(VerdictName(v));
    }
    return out;
  }();
  return names;
}

bool IsFinding(Verdict v) {
  return v == Verdict::kUnexplained || v == Verdict::kCrashed || v == Verdict::kTimeout;
}

bool ComparedNothing(Verdict v) {
  return v == Verdict::kRejected || v == Verdict::kCrashed || v == Verdict::kTimeout;
}

}  // namespace qdiff
