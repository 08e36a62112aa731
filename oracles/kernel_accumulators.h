// The accumulator a CPU kernel really computes, where it is not the exact Σ(x − z_x)(w − z_w).
//
// u8·s8 kernels without VNNI multiply with vpmaddubsw, which adds two adjacent u8·s8 products
// into an int16 with saturation, before widening to int32 (oneDNN doc/advanced/
// int8_computations.md; FBGEMM GenerateKernelU8S8S32ACC32.cc;
// docs/semantics.md#kernel-accumulators). The zero point of x is removed afterwards with a
// compensation term, so on raw values:
//   acc = Σ_pairs sat16(x_a·w_a + x_b·w_b) − z_x · Σ w          (weight zero point 0)
// and the pairs depend on the kernel's K order:
//   kSat16ChannelPairs  oneDNN: conv pairs adjacent input channels within one kernel tap (padded
//                       taps contribute nothing); matmul/linear pairs adjacent K within the K
//                       blocks of oneDNN's gemm driver (OnednnGemmKBlock)
//   kSat16FlatKPairs    FBGEMM im2col: pairs along the flattened (kh, kw, ic) K, so with odd IC a
//                       pair crosses taps; padded positions hold z_x and are multiplied too
// The kernel accumulator then wraps to int32 (two's complement), as the hardware register does.
//
// conv1d and conv3d use the same K order generalised to their taps (oneDNN computes conv1d as a
// conv2d of height 1, PyTorch qconv.cpp QConv1dInt8). For conv_transpose2d the taps that receive
// no input element are treated as padded. With DNNL_MAX_CPU_ISA=AVX2 on this VNNI machine, the
// channel-pair model explained every differing element of 300 generated conv1d / conv3d /
// conv_transpose2d cases on ONEDNN (863 acc_saturation16 elements, 800 of them transposed, none
// unexplained). The FBGEMM flat-K model of the new ops follows the conv2d source only.
// On VNNI (this machine) and on QNNPACK the accumulator is exact for every op.
#pragma once

#include <cstdint>
#include <vector>

#include "oracles/model.h"

namespace qdiff {

enum class AccumulatorModel { kExact, kSat16ChannelPairs, kSat16FlatKPairs };
const char* AccumulatorModelName(AccumulatorModel m);

// Kernel accumulators of a convolution/linear layer for input x, row-major like the output.
// kExact gives the exact sums wrapped to int32. Weight zero points must be 0 for the sat16
// models (oneDNN requires it; FBGEMM's path with non-zero weight zero points is not modelled).
std::vector<int64_t> KernelAccumulators(const Layer& layer, const QTensor& x,
                                        const std::vector<int64_t>& out_shape,
                                        AccumulatorModel model);

// K block of oneDNN 2.6's gemm driver (src/cpu/gemm/gemm_driver.cpp, get_k_padd): one block up to
// bk_traditional = 256, two blocks of ceil(K/2) and the rest below 2·bk = 768, blocks of bk = 384
// beyond. Pairs restart at every block. The constants (and uk = 1) were measured on LibTorch 1.13
// with DNNL_MAX_CPU_ISA=AVX2 (tests/harness/kernel_accumulators_test.cc).
int64_t OnednnGemmKBlock(int64_t k);

// Two's-complement wrap of an exact sum to int32.
int64_t WrapToInt32(int64_t v);

}  // namespace qdiff
