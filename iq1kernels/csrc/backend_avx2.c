/* The avx2 backend's variant tables (best last). */
#include "iq1.h"

const iq1_backend *const iq1_backends_avx2[] = { 0 };
