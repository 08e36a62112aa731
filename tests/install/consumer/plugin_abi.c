/* Compiled with -std=c99 -pedantic -Werror: the installed plugin header is plain C. */
#include "qdiff/kernel_plugin.h"

static const qdiff_kernel_info kInfo = {QDIFF_KERNEL_ABI_VERSION, "consumer", "",
                                        QDIFF_KERNEL_REQUANTIZE};

const qdiff_kernel_info* qdiff_kernel_info_v1(void) { return &kInfo; }

int qdiff_kernel_requantize(const qdiff_requantize_args* args) { return args->outer < 0; }
