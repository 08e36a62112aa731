// Case files: JSON (nlohmann-json), versioned, exact round trip of every double and float.
#pragma once

#include <stdexcept>
#include <string>

#include "harness/case.h"

namespace qdiff {

// A malformed or invalid case file. The message names the file and the offending field.
class CaseFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string CaseToJson(const Case& c);
// Parses and validates (ValidateModel); `source` names the file in error messages.
Case CaseFromJson(const std::string& text, const std::string& source);

Case LoadCaseFile(const std::string& path);
// Atomic: writes path.tmp, fsyncs, renames. Throws CaseFileError naming the path on failure.
void SaveCaseFile(const Case& c, const std::string& path);

}  // namespace qdiff
