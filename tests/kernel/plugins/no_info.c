/* A shared object that is not a qdiff plugin: it lacks qdiff_kernel_info_v1. */
#include "qdiff/kernel_plugin.h"

int qdiff_kernel_requantize(const qdiff_requantize_args* args) { return args == 0; }
