// Which recipe each LibTorch engine implements for a layer (docs/semantics.md#engine-selection).
#pragma once

#include <optional>
#include <string>

#include "oracles/engine.h"
#include "oracles/kernel_accumulators.h"
#include "oracles/model.h"
#include "oracles/scheme.h"

namespace qdiff {

// qnnpack → qnnpack_fp32, or xnnpack_fp32 when the layer's input is qint8
// (docs/semantics.md#xnnpack-requantization);
// onednn → onednn_fp32; fbgemm → fbgemm_fp32; x86 → onednn_fp32 for a convolution (any rank,
// transposed too) when the CPU has VNNI, groups ≤ 100, the weights are symmetric and there is no
// output_padding (OnednnUtils.h::should_use_onednn_quant, called by every conv prepack of the X86
// engine), else fbgemm_fp32.
// The same recipe holds for every GEMM op on one engine (conv1d, conv2d, conv3d,
// conv_transpose2d, linear): measured on QNNPACK and ONEDNN (tests/harness/conv_variants_test.cc; the
// FBGEMM/X86 rows follow the source).
Scheme EngineScheme(Engine engine, const Layer& layer, bool cpu_has_vnni,
                    DType input_dtype = DType::kQUInt8);

// The scheme that models the engine's own paths for every op (SchemePipelineRecipe):
// qnnpack → qnnpack_fp32, onednn → onednn_fp32, fbgemm and x86 → fbgemm_fp32. (x86
// runs some convs on ONEDNN with VNNI — EngineScheme knows per layer; tables keyed by this
// scheme show those layers against fbgemm_fp32.)
Scheme EngineOwnScheme(Engine engine);
// The same for an engine named in a report row: the scheme's name, "" for a name qdiff does not know.
std::string EngineOwnSchemeName(const std::string& engine);

// The accumulator the engine's kernel computes on this machine: exact with VNNI (vpdpbusd) and on
// QNNPACK (int16 operands); 16-bit pair saturation otherwise (oracles/kernel_accumulators.h).
// ONEDNN's ISA honours DNNL_MAX_CPU_ISA / ONEDNN_MAX_CPU_ISA, so both paths can be tested on a
// VNNI machine (e.g. DNNL_MAX_CPU_ISA=AVX2).
AccumulatorModel EngineAccumulatorModel(Engine engine, const Layer& layer,
                                        DType input_dtype = DType::kQUInt8);

// VNNI as oneDNN will use it: the CPU has it and no ISA cap below *_VNNI is set.
bool OnednnUsesVnni();

// AMX as oneDNN will use it for int8: the CPU has amx_int8 and no ISA cap below AMX is set.
bool OnednnUsesAmx();

}  // namespace qdiff
