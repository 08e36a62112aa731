// The named requantization schemes. Each is one Recipe (oracles/recipe.h) defined in its own file
// under oracles/schemes/, with its formula and upstream source; the same short name is used in the
// enum, the CLI flag (--schemes), the CSV `scheme` column and the test names.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "oracles/integer_pipeline.h"
#include "oracles/recipe.h"

namespace qdiff {

enum class Scheme {
  kExact,
  kDoubleRounding,
  kSingleRounding,
  kQnnpackFp32,
  kOnednnFp32,
  kFbgemmFp32,
  kRndnu,
  kRndna,
  kXnnpackFp32,
};

struct SchemeDef {
  Scheme id;
  const char* name;     // short name: "exact", "double_rounding", ...
  Recipe recipe;
  const char* formula;  // one line, for `--help`, `explain` and the README
};

// One definition per file in oracles/schemes/.
extern const SchemeDef kExactScheme;
extern const SchemeDef kDoubleRoundingScheme;
extern const SchemeDef kSingleRoundingScheme;
extern const SchemeDef kQnnpackFp32Scheme;
extern const SchemeDef kOnednnFp32Scheme;
extern const SchemeDef kFbgemmFp32Scheme;
extern const SchemeDef kRndnuScheme;
extern const SchemeDef kRndnaScheme;
extern const SchemeDef kXnnpackFp32Scheme;

// All schemes, in the order above.
const std::vector<const SchemeDef*>& AllSchemes();
const SchemeDef& GetScheme(Scheme id);
std::optional<Scheme> ParseScheme(const std::string& name);

// The pipeline recipe of a scheme (integer_pipeline.h): its GEMM recipe, and for the other ops the
// paths of the engine the scheme models (qnnpack_fp32 and xnnpack_fp32 → QNNPACK, onednn_fp32
// → ONEDNN, fbgemm_fp32 → FBGEMM); the portable schemes use each op's exact reference.
PipelineRecipe SchemePipelineRecipe(Scheme id);

}  // namespace qdiff
