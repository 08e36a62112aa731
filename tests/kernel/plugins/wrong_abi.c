/* A plugin built against a future ABI: abi_version = QDIFF_KERNEL_ABI_VERSION + 1. */
#include "qdiff/kernel_plugin.h"

static const qdiff_kernel_info kInfo = {QDIFF_KERNEL_ABI_VERSION + 1, "wrong_abi", "", 0};

const qdiff_kernel_info* qdiff_kernel_info_v1(void) { return &kInfo; }
