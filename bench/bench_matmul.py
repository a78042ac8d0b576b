"""GEMV / GEMM speed: each group = one format, shape and thread count; members = every available
iq1kernels backend, numpy float32 on the already dequantized matrix, and the numpy reference."""

import numpy as np
import pytest

import iq1kernels as iq1
from iq1kernels import reference, synthetic

M = K = int(__import__("os").environ.get("IQ1_BENCH_SIZE", "4096"))
QTYPES = ["iq1_s", "iq1_m", "iq1_s_r4", "iq1_m_r4"]
NS = [1, 8, 512]
_weights = {}


def weights(qtype):
    if qtype not in _weights:
        Wq = synthetic.random_weights(qtype, (M, K), seed=1)
        _weights[qtype] = (Wq, Wq.dequantize())
    return _weights[qtype]


def record(benchmark, n, nbytes):
    flops = 2.0 * M * n * K
    benchmark.extra_info.update(
        {
            "M": M,
            "K": K,
            "N": n,
            "gflops": flops / benchmark.stats["median"] / 1e9,
            "weight_gbs": nbytes / benchmark.stats["median"] / 1e9,
        }
    )


@pytest.mark.parametrize("n", NS)
@pytest.mark.parametrize("qtype", QTYPES)
@pytest.mark.parametrize("backend", iq1.available_backends())
def bench_iq1(benchmark, threads, qtype, n, backend):
    Wq, _ = weights(qtype)
    X = synthetic.random_activations(n, K)
    out = np.empty((n, M), np.float32)
    benchmark.group = f"{qtype} N={n} threads={threads}"
    previous = iq1.use_backend(backend)
    try:
        benchmark(iq1.linear, X, Wq, out=out)
    finally:
        iq1.use_backend(previous)
    record(benchmark, n, Wq.nbytes)


@pytest.mark.parametrize("n", NS)
@pytest.mark.parametrize("qtype", QTYPES)
def bench_numpy_f32(benchmark, threads, qtype, n):
    Wq, Wd = weights(qtype)
    X = synthetic.random_activations(n, K)
    benchmark.group = f"{qtype} N={n} threads={threads}"
    benchmark(np.matmul, X, Wd.T)
    record(benchmark, n, Wd.nbytes)


@pytest.mark.parametrize("n", NS)
@pytest.mark.parametrize("qtype", QTYPES)
def bench_reference(benchmark, threads, qtype, n):
    Wq, _ = weights(qtype)
    X = synthetic.random_activations(n, K)
    benchmark.group = f"{qtype} N={n} threads={threads}"
    benchmark.pedantic(reference.linear, (X, Wq), rounds=2, iterations=1)
    record(benchmark, n, Wq.nbytes)
