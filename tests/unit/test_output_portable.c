/*
 * The relay tests of test_output.c again, on the portable copy_line()
 * (memchr and memcpy) that builds without SSE2 use.
 */
#define OUTPUT_NO_SSE2 1
#include "test_output.c"
