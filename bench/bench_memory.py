"""Peak temporary memory of the GEMV path: tracemalloc (numpy reports its buffers to it) around
iq1kernels.linear on a 4096 x 4096 matrix, against the size of the weights (M x K) — the kernels
themselves allocate nothing on this path (their strip buffers live on the stack)."""

import tracemalloc

import numpy as np

import iq1kernels as iq1
from iq1kernels import synthetic

M = K = 4096


def bench_gemv_peak_memory(benchmark, threads):
    W = synthetic.random_weights("iq1_s", (M, K), seed=1)
    x = synthetic.random_activations(1, K)
    out = np.empty((1, M), np.float32)
    iq1.linear(x, W, out=out)
    tracemalloc.start()
    iq1.linear(x, W, out=out)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    benchmark.group = f"GEMV memory threads={threads}"
    benchmark(iq1.linear, x, W, out=out)
    benchmark.extra_info.update(
        {
            "peak_temporary_bytes": peak,
            "weights_bytes": W.nbytes,
            "float_weights_bytes": M * K * 4,
            "peak_over_MxK": peak / (M * K),
        }
    )
