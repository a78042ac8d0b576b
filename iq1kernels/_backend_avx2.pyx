# cython: language_level=3
# The avx2 backend module: the shared Cython body built with this ISA's kernels (see setup.py).
include "_backend.pxi"
