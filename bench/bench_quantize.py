"""Quantizer speed (4096 x 4096 normal data) beside the reference implementation's figures; the error
of each run goes into extra_info (rel_rmse) with the reference's error for comparison."""
import numpy as np
import pytest

import iq1kernels as iq1
from iq1kernels import quant_bench

N = int(__import__("os").environ.get("IQ1_BENCH_SIZE", "4096"))
_W = {}


def data(kind):
    if kind not in _W:
        rng = np.random.default_rng(0)
        _W[kind] = (rng.standard_normal((N, N)) if kind == "normal" else rng.standard_t(5, (N, N))).astype(np.float32)
    return _W[kind]


@pytest.mark.parametrize("kind", ["normal", "t5"])
@pytest.mark.parametrize("qtype", quant_bench.QTYPES)
def bench_quantize(benchmark, threads, qtype, kind):
    W = data(kind)
    benchmark.group = f"quantize {kind} {N}x{N} threads={threads}"
    Wq = benchmark.pedantic(iq1.quantize, (W, qtype), {"threads": threads}, rounds=2, iterations=1)
    D = Wq.dequantize()
    ref_rmse, ref_s = quant_bench.REFERENCE.get((qtype, kind), (None, None))
    benchmark.extra_info.update({
        "rel_rmse": float(np.linalg.norm(W - D) / np.linalg.norm(W)),
        "reference_rel_rmse": ref_rmse, "reference_seconds_1thread": ref_s if N == 4096 else None})
