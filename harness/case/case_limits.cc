#include "harness/case/case_limits.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "harness/case/case_json.h"
#include "oracles/model_cost.h"

namespace qdiff {

namespace {

std::string Gib(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g GiB", bytes / (1 << 30));
  return buf;
}

std::string Count(double n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", n);
  return buf;
}

}  // namespace

void CheckCaseCost(const Model& model, const CaseLimits& limits, int64_t schemes,
                   const std::string& source) {
  const ModelCost cost = EstimateModelCost(model);
  const double bytes = static_cast<double>(cost.elements) *
                       static_cast<double>(CaseLimits::BytesPerElement(schemes));
  if (bytes <= static_cast<double>(limits.MaxBytes()) &&
      cost.multiply_adds <= limits.max_multiply_adds) {
    return;
  }
  throw CaseFileError(source + ": rejected: too large (needs " + Gib(bytes) + " / " +
                      Count(static_cast<double>(cost.multiply_adds)) + " multiply-adds; limit " +
                      Gib(static_cast<double>(limits.MaxBytes())) + " / " +
                      Count(static_cast<double>(limits.max_multiply_adds)) +
                      " multiply-adds; raise with --max-case-gib / --max-case-work)");
}

CaseLimits MakeCaseLimits(double max_gib, double max_multiply_adds) {
  // Upper bounds keep the arithmetic in range; nobody has 2^20 GiB.
  if (!std::isfinite(max_gib) || max_gib <= 0 || max_gib > 1 << 20) {
    throw std::invalid_argument("--max-case-gib: expected a number of GiB in (0, 1048576], got " +
                                Count(max_gib));
  }
  if (!std::isfinite(max_multiply_adds) || max_multiply_adds < 1 || max_multiply_adds > 1e18) {
    throw std::invalid_argument("--max-case-work: expected a multiply-add count in [1, 1e18], got " +
                                Count(max_multiply_adds));
  }
  CaseLimits limits;
  limits.max_gib = max_gib;
  limits.max_multiply_adds = static_cast<int64_t>(max_multiply_adds);
  return limits;
}

}  // namespace qdiff
