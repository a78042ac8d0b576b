"""Quantizer speed on the data of iq1kernels.quant_bench (4096 x 4096 normal and Student-t; IQ1_BENCH_SIZE=1024
for the quick data), without an imatrix and with the log-normal one; extra_info has the errors and the
recorded ik_llama.cpp figures for the same data (quant_bench.REFERENCE)."""
import os

import numpy as np
import pytest

import iq1kernels as iq1
from iq1kernels import quant_bench

QUICK = os.environ.get("IQ1_BENCH_SIZE", "4096") == "1024"
_DATA = {}


def data(kind):
    if not _DATA:
        _DATA.update({name: (mats[0], kinds["lognormal"][0]) for name, mats, kinds in quant_bench.datasets(QUICK)
                      if name in ("normal", "t5")})
    return _DATA[kind]


@pytest.mark.parametrize("imatrix", ["none", "lognormal"])
@pytest.mark.parametrize("kind", ["normal", "t5"])
@pytest.mark.parametrize("qtype", quant_bench.QTYPES)
def bench_quantize(benchmark, threads, qtype, kind, imatrix):
    W, imp = data(kind)
    benchmark.group = f"quantize {kind} {W.shape[0]}x{W.shape[1]} imatrix={imatrix} threads={threads}"
    Wq = benchmark.pedantic(iq1.quantize, (W, qtype), {"imatrix": imp if imatrix == "lognormal" else None,
                                                       "threads": threads}, rounds=2, iterations=1)
    D = Wq.dequantize().astype(np.float64)
    d2 = (W - D) ** 2
    ref = quant_bench.REFERENCE.get((qtype, kind, imatrix)) if not QUICK else None
    benchmark.extra_info.update({
        "rel_rmse": float(np.sqrt(d2.sum() / (W.astype(np.float64) ** 2).sum())),
        "weighted_rel_rmse": float(np.sqrt((imp * d2).sum() / (imp * W.astype(np.float64) ** 2).sum())),
        "ik_rel_rmse": ref[0] if ref else None, "ik_weighted_rel_rmse": ref[1] if ref else None,
        "ik_seconds_1thread": ref[2] if ref else None})
