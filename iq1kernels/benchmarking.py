"""Speed comparison used by `iq1kernels bench` and the bench/ suites: an iq1kernels backend beside numpy
on the same shape, in the same run, with iq1kernels' and BLAS's threads pinned to the same count."""
from __future__ import annotations

import contextlib
import time

import numpy as np

from . import ops, reference, synthetic
from .formats import FORMATS


@contextlib.contextmanager
def pinned_threads(n: int):
    """Pin BLAS (threadpoolctl) and iq1kernels to n threads for the duration."""
    previous = ops.get_num_threads()
    ops.set_num_threads(n)
    try:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:           # still pinned on our side; blas_info() says BLAS was not
            yield
        else:
            with threadpool_limits(limits=n):
                yield
    finally:
        ops.set_num_threads(previous)


def blas_info() -> str:
    """Which BLAS numpy uses and which kernel it picked (OpenBLAS core type), for the report header."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS: unknown (threadpoolctl not installed, BLAS threads not pinned)"
    for lib in threadpool_info():
        if lib.get("user_api") == "blas":
            return (f"BLAS: {lib.get('internal_api')} {lib.get('version')} "
                    f"kernel={lib.get('architecture', '?')} threads={lib.get('num_threads')}")
    return "BLAS: none found"


SETTLE_S = 0.2


def time_call(fn, min_time=0.3, max_repeats=50, min_repeats=3) -> float:
    """Median seconds per call over repeats taking at least min_time in total (after one warm-up).
    Waits SETTLE_S first: OpenBLAS's and OpenMP's idle workers spin for tens of milliseconds after a call
    and would steal the cores from whatever is timed next."""
    time.sleep(SETTLE_S)
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < min_repeats or (time.perf_counter() - start < min_time and len(times) < max_repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def time_pair(fa, fb, rounds=3, min_time=0.15):
    """(seconds per call of fa, of fb): rounds of fa's and fb's timings, alternating; each the best of its
    rounds' medians. The clock of a shared machine drifts by up to 2x over seconds (one of the cores of the
    machine in docs/PERFORMANCE.md does); alternating rounds put both sides in the same conditions."""
    ta, tb = [], []
    for _ in range(rounds):
        ta.append(time_call(fa, min_time=min_time))
        tb.append(time_call(fb, min_time=min_time))
    return min(ta), min(tb)


def measure(qtype, n, threads, m=4096, k=4096, backend=None, with_reference=True, seed=0) -> dict:
    """One row of the comparison: iq1kernels.linear vs numpy float32 on the dequantized matrix vs the
    numpy dequantize-then-matmul reference, same shape, same thread count."""
    W = synthetic.random_weights(qtype, (m, k), seed=seed)
    X = synthetic.random_activations(n, k, seed=seed + 1)
    Wd = W.dequantize()
    out = np.empty((n, m), np.float32)
    previous = ops.use_backend(backend) if backend else None
    try:
        with pinned_threads(threads):
            t_iq1, t_np = time_pair(lambda: ops.linear(X, W, out=out), lambda: X @ Wd.T)
            t_ref = time_call(lambda: reference.linear(X, W), min_time=0.0, min_repeats=1) \
                if with_reference else float("nan")
        name = ops.current_backend().name
    finally:
        if previous:
            ops.use_backend(previous)
    flops = 2.0 * m * n * k
    return {"type": qtype, "backend": name, "threads": threads, "m": m, "k": k, "n": n,
            "time_s": t_iq1, "gflops": flops / t_iq1 / 1e9, "weight_gbs": W.nbytes / t_iq1 / 1e9,
            "numpy_f32_s": t_np, "speedup_vs_numpy_f32": t_np / t_iq1,
            "reference_s": t_ref, "speedup_vs_reference": t_ref / t_iq1}


def format_table(rows) -> str:
    head = (f"| {'type':<9} | {'backend':<12} | {'thr':>3} | {'N':>4} | {'time':>10} | {'GFLOP/s':>8} | "
            f"{'W GB/s':>6} | {'vs numpy f32':>12} | {'vs reference':>12} |")
    sep = "|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|"
    lines = [head, sep]
    for r in rows:
        t = r["time_s"]
        tstr = f"{t * 1e3:.3f} ms" if t < 1 else f"{t:.3f} s"
        ref = f"{r['speedup_vs_reference']:.1f}x" if r["speedup_vs_reference"] == r["speedup_vs_reference"] else "-"
        lines.append(f"| {r['type']:<9} | {r['backend']:<12} | {r['threads']:>3} | {r['n']:>4} | {tstr:>10} | "
                     f"{r['gflops']:>8.1f} | {r['weight_gbs']:>6.2f} | {r['speedup_vs_numpy_f32']:>11.2f}x | "
                     f"{ref:>12} |")
    return "\n".join(lines)


def run(qtypes=None, ns=(1, 8, 512), threads=(None,), backends=(None,), m=4096, k=4096,
        with_reference=True, progress=None):
    rows = []
    for backend in backends:
        for qtype in (qtypes or list(FORMATS)):
            for t in threads:
                for n in ns:
                    row = measure(qtype, n, t or ops.get_num_threads(), m, k, backend, with_reference)
                    rows.append(row)
                    if progress:
                        progress(row)
    return rows
