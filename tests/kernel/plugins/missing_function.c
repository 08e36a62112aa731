/* A plugin that claims conv2d but does not export qdiff_kernel_conv2d. */
#include "qdiff/kernel_plugin.h"

static const qdiff_kernel_info kInfo = {QDIFF_KERNEL_ABI_VERSION, "missing_function", "",
                                        QDIFF_KERNEL_CONV2D};

const qdiff_kernel_info* qdiff_kernel_info_v1(void) { return &kInfo; }
