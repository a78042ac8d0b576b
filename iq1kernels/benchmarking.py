"""Speed comparison used by `iq1kernels bench` and the bench/ suites: an iq1kernels backend beside numpy
on the same shape, in the same run, with iq1kernels' and BLAS's threads pinned to the same count."""

from __future__ import annotations

import contextlib
import os
import time

import numpy as np

from . import _state, ops, reference, synthetic
from ._version import __version__
from .formats import FORMATS


@contextlib.contextmanager
def pinned_threads(n: int):
    """Pin BLAS (threadpoolctl) and iq1kernels to n threads for the duration."""
    previous = _state.set_num_threads(n)  # the previous setting (None: the default), restored as it was
    try:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # still pinned on our side; blas_info() says BLAS was not
            yield
        else:
            with threadpool_limits(limits=n):
                yield
    finally:
        _state.set_num_threads(previous)


def blas_info() -> str:
    """Which BLAS numpy uses and which kernel it picked (OpenBLAS core type), for the report header."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS: unknown (threadpoolctl not installed, BLAS threads not pinned)"
    for lib in threadpool_info():
        if lib.get("user_api") == "blas":
            return (
                f"BLAS: {lib.get('internal_api')} {lib.get('version')} "
                f"kernel={lib.get('architecture', '?')} threads={lib.get('num_threads')}"
            )
    return "BLAS: none found"


SETTLE_S = 0.2


def time_call(fn, min_time=0.3, max_repeats=50, min_repeats=3) -> float:
    """Median seconds per call over repeats taking at least min_time in total (after one warm-up).
    Waits SETTLE_S first: OpenBLAS's and OpenMP's idle workers spin for tens of milliseconds after a call
    and would steal the cores from whatever is timed next."""
    time.sleep(SETTLE_S)
    fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < min_repeats or (time.perf_counter() - start < min_time and len(times) < max_repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


NOISY_SPREAD = 1.2  # a row whose rounds differ by more than this factor is flagged, not presented as a result


def time_pair(fa, fb, rounds=3, min_time=0.15):
    """(rounds of fa, rounds of fb): each round the median seconds per call of fa, then of fb, alternating.
    The clock of a shared machine drifts by up to 2x over seconds (one of the cores of the machine in
    docs/PERFORMANCE.md does); alternating rounds put both sides in the same conditions. A row reports the
    best of its rounds and their spread (slowest / best)."""
    ta, tb = [], []
    for _ in range(rounds):
        ta.append(time_call(fa, min_time=min_time))
        tb.append(time_call(fb, min_time=min_time))
    return ta, tb


def measure(qtype, n, threads, m=4096, k=4096, backend=None, with_reference=True, seed=0) -> dict:
    """One row of the comparison: iq1kernels.linear vs numpy float32 on the dequantized matrix vs the
    numpy dequantize-then-matmul reference, same shape, same thread count."""
    W = synthetic.random_weights(qtype, (m, k), seed=seed)
    X = synthetic.random_activations(n, k, seed=seed + 1)
    Wd = W.dequantize()
    out = np.empty((n, m), np.float32)
    previous = _state.use_backend(backend) if backend else None
    try:
        with pinned_threads(threads):
            rounds_iq1, rounds_np = time_pair(lambda: ops.linear(X, W, out=out), lambda: X @ Wd.T)
            t_ref = (
                time_call(lambda: reference.linear(X, W), min_time=0.0, min_repeats=1)
                if with_reference
                else float("nan")
            )
        name = _state.current_backend().name
    finally:
        if previous:
            _state.use_backend(previous)
    flops = 2.0 * m * n * k
    t_iq1, t_np = min(rounds_iq1), min(rounds_np)
    spread = max(max(rounds_iq1) / t_iq1, max(rounds_np) / t_np)
    return {
        "type": qtype,
        "backend": name,
        "threads": threads,
        "m": m,
        "k": k,
        "n": n,
        "time_s": t_iq1,
        "gflops": flops / t_iq1 / 1e9,
        "weight_gbs": W.nbytes / t_iq1 / 1e9,
        "numpy_f32_s": t_np,
        "speedup_vs_numpy_f32": t_np / t_iq1,
        "reference_s": t_ref,
        "speedup_vs_reference": t_ref / t_iq1,
        "rounds_s": rounds_iq1,
        "numpy_rounds_s": rounds_np,
        "spread": spread,
        "noisy": spread > NOISY_SPREAD,
    }


def format_table(rows) -> str:
    head = (
        f"| {'type':<9} | {'backend':<12} | {'thr':>3} | {'N':>4} | {'time':>10} | {'GFLOP/s':>8} | "
        f"{'W GB/s':>6} | {'vs numpy f32':>12} | {'vs reference':>12} |"
    )
    sep = "|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|"
    lines = [head, sep]
    for r in rows:
        t = r["time_s"]
        tstr = f"{t * 1e3:.3f} ms" if t < 1 else f"{t:.3f} s"
        ref = f"{r['speedup_vs_reference']:.1f}x" if r["speedup_vs_reference"] == r["speedup_vs_reference"] else "-"
        mark = " ~" if r.get("noisy") else "  "
        lines.append(
            f"| {r['type']:<9} | {r['backend']:<12} | {r['threads']:>3} | {r['n']:>4} | {tstr:>8}{mark} | "
            f"{r['gflops']:>8.1f} | {r['weight_gbs']:>6.2f} | {r['speedup_vs_numpy_f32']:>11.2f}x | "
            f"{ref:>12} |"
        )
    noisy = [r for r in rows if r.get("noisy")]
    if noisy:
        lines.append(
            f"~ {len(noisy)} of {len(rows)} rows: their rounds differ by more than "
            f"{(NOISY_SPREAD - 1) * 100:.0f}% (up to {max(r['spread'] for r in noisy):.2f}x): the machine was "
            f"busy; time those rows again before quoting them"
        )
    return "\n".join(lines)


def format_progress(i, total, row) -> str:
    """One line per finished row, for a person watching a long run."""
    rounds = "/".join(f"{t * 1e3:.3g}" for t in row["rounds_s"])
    warn = f"  WARNING: rounds differ by {row['spread']:.2f}x (busy machine)" if row["noisy"] else ""
    return (
        f"[{i}/{total}] {row['type']} {row['backend']} threads={row['threads']} N={row['n']}: "
        f"{row['time_s'] * 1e3:.3f} ms (rounds {rounds} ms), {row['speedup_vs_numpy_f32']:.2f}x numpy f32{warn}"
    )


def machine_info() -> dict:
    """What a figure was measured on: CPU model and flags, backend, versions, commit, BLAS."""
    import platform
    import subprocess
    import sys

    from . import _dispatch

    cpu = "unknown"
    flags: list[str] = []
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and cpu == "unknown":
                    cpu = value.strip()
                elif key.strip() in ("flags", "Features") and not flags:
                    flags = value.split()
    except OSError:
        pass
    commit = None
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        out = subprocess.run(["git", "-C", here, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        if out.returncode == 0:
            dirty = subprocess.run(
                ["git", "-C", here, "status", "--porcelain", "--untracked-files=no"],
                capture_output=True,
                text=True,
                timeout=5,
            ).stdout.strip()
            commit = out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return {
        "cpu": cpu,
        "cpu_flags": flags,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "backend": _state.current_backend().name,
        "available_backends": _dispatch.available_backends(),
        "iq1kernels": __version__,
        "commit": commit,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "blas": blas_info(),
    }


def run(
    qtypes=None, ns=(1, 8, 512), threads=(None,), backends=(None,), m=4096, k=4096, with_reference=True, progress=None
):
    """All rows; progress(i, total, row) after each (1-based i)."""
    plan = [(b, q, t, n) for b in backends for q in (qtypes or list(FORMATS)) for t in threads for n in ns]
    rows = []
    for backend, qtype, t, n in plan:
        row = measure(qtype, n, t or _state.get_num_threads(), m, k, backend, with_reference)
        rows.append(row)
        if progress:
            progress(len(rows), len(plan), row)
    return rows
