// Case files: JSON (nlohmann-json), versioned, exact round trip of every double and float.
#pragma once

#include <stdexcept>
#include <string>

#include "harness/case/case.h"
#include "harness/case/case_limits.h"

namespace qdiff {

// A malformed or invalid case file. The message names the file and the offending field.
class CaseFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string CaseToJson(const Case& c);
// Parses and validates (ValidateModel); `source` names the file in error messages. Strict: a
// duplicate key, a key the format does not define, a field the layer's op does not use and an
// unknown scheme name are errors naming their JSON path.
Case CaseFromJson(const std::string& text, const std::string& source);

// Refuses what is not a regular file, or is larger than limits.MaxFileBytes(), before reading
// it; after parsing, refuses a case whose cost exceeds the limits (CheckCaseCost).
Case LoadCaseFile(const std::string& path, const CaseLimits& limits = CaseLimits());
// Atomic: writes path.tmp, fsyncs, renames. Throws CaseFileError naming the path on failure.
void SaveCaseFile(const Case& c, const std::string& path);

}  // namespace qdiff
