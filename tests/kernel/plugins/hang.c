/* A plugin whose conv2d and linear never return: a campaign must report each case it runs on as a
 * timeout (--case-timeout) and go on. */
#include "qdiff/kernel_plugin.h"

static const qdiff_kernel_info kInfo = {QDIFF_KERNEL_ABI_VERSION, "hang", "qnnpack",
                                        QDIFF_KERNEL_CONV2D | QDIFF_KERNEL_LINEAR};

const qdiff_kernel_info* qdiff_kernel_info_v1(void) { return &kInfo; }

static int Hang(void) {
  for (volatile int spin = 0;; spin = spin + 0) {
  }
  return 1;
}

int qdiff_kernel_conv2d(const qdiff_conv2d_args* args) { return args ? Hang() : 1; }
int qdiff_kernel_linear(const qdiff_linear_args* args) { return args ? Hang() : 1; }
