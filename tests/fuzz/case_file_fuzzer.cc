// libFuzzer target for the case-file parser (harness/case/case_json.h).
//
// Contract under test: CaseFromJson(text, source) either returns a valid Case or throws
// CaseFileError; it never crashes, hangs, leaks or allocates without bound. Any other exception
// type is deliberately NOT caught: it escapes, std::terminate prints its type and what(), and
// libFuzzer records the input as a crash.
//
// Round trip: for every accepted input, CaseFromJson(CaseToJson(c)) must be accepted and give the
// same CaseToJson text again; otherwise the fuzzer prints both texts and abort()s.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "harness/case/case_json.h"

namespace {

[[noreturn]] void RoundTripFailure(const char* what, const std::string& first,
                                   const std::string& second) {
  std::fprintf(stderr, "qdiff_fuzz_case_file: round trip failed: %s\n--- CaseToJson(c):\n%s\n"
               "--- CaseToJson(CaseFromJson(CaseToJson(c))):\n%s\n",
               what, first.c_str(), second.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  qdiff::Case c;
  try {
    c = qdiff::CaseFromJson(text, "fuzz-input.json");
  } catch (const qdiff::CaseFileError&) {
    return 0;  // the expected outcome for bad input
  }

  const std::string first = qdiff::CaseToJson(c);
  qdiff::Case again;
  try {
    again = qdiff::CaseFromJson(first, "round-trip.json");
  } catch (const qdiff::CaseFileError& e) {
    RoundTripFailure(e.what(), first, "(rejected)");
  }
  const std::string second = qdiff::CaseToJson(again);
  if (first != second) RoundTripFailure("texts differ", first, second);
  return 0;
}
