/* Mutant of examples/kernel_plugin/reference_kernel.c: ties of t round away from zero (roundf)
 * instead of to even. tests/kernel/kernel_plugin_test.cc must tell it from qnnpack_fp32. */
#define QDIFF_REFERENCE_ROUND roundf
#define QDIFF_REFERENCE_NAME "ties_away"
#include "reference_kernel.c"
