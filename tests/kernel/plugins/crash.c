/* A plugin whose conv2d and linear dereference a null pointer: a campaign must report each case
 * it runs on as crashed and go on (the kernel runs inside the worker processes). */
#include <stddef.h>

#include "qdiff/kernel_plugin.h"

static const qdiff_kernel_info kInfo = {QDIFF_KERNEL_ABI_VERSION, "crash", "qnnpack",
                                        QDIFF_KERNEL_CONV2D | QDIFF_KERNEL_LINEAR};

const qdiff_kernel_info* qdiff_kernel_info_v1(void) { return &kInfo; }

static int Crash(void) {
  volatile int* p = NULL;
  return *p;
}

int qdiff_kernel_conv2d(const qdiff_conv2d_args* args) { return args ? Crash() : 1; }
int qdiff_kernel_linear(const qdiff_linear_args* args) { return args ? Crash() : 1; }
