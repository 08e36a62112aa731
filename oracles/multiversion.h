// Function multi-versioning for the oracles' hot loops (GCC on x86-64): a QDIFF_MULTIVERSION
// function is built for the baseline, AVX2 and x86-64-v4 and the loader picks the best the CPU
// has. All versions compute the same values: integer arithmetic is exact, and the oracles are
// built with -ffp-contract=off, so every float operation rounds on its own under any ISA (no
// fused multiply-add); the wider ISAs only vectorise and turn calls such as nearbyint and floor
// into single instructions. Everything a multi-versioned function calls must be inlined into
// it (QDIFF_INLINE) to be built for its ISA.
#pragma once

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define QDIFF_MULTIVERSION __attribute__((target_clones("default", "avx2", "arch=x86-64-v4")))
#define QDIFF_INLINE __attribute__((always_inline))
#else
#define QDIFF_MULTIVERSION
#define QDIFF_INLINE
#endif
