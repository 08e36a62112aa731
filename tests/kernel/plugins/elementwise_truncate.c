/* elementwise_double.c truncating toward zero instead of rounding: every non-integer result
 * below .5 away from zero is still right, the others are one step off; no recipe truncates. */
#define ELEMENTWISE_ROUND trunc
#define ELEMENTWISE_NAME "elementwise_truncate"
#include "elementwise_double.c"
