"""Work that test_fork.py runs in child processes (a module of its own: multiprocessing's 'spawn' and
'forkserver' children import the function by module name)."""

import os

import numpy as np

import iq1kernels as iq1
from iq1kernels import _state, synthetic

QTYPES = ["iq1_s", "iq1_m", "iq1_s_r4", "iq1_m_r4"]


def os_threads() -> int:
    """Threads of this process (Linux)."""
    return len(os.listdir("/proc/self/task"))


def every_operation(threads) -> dict:
    """linear, dequantize, quantize and quantize_activations with `threads`, as bytes (to compare with
    the same calls in another process). Sizes give every OpenMP loop more than one piece of work."""
    out = {}
    for i, qtype in enumerate(QTYPES):
        W = synthetic.random_weights(qtype, (128, 512), seed=i)
        X = synthetic.random_activations(16, 512, seed=i)
        out[f"linear {qtype}"] = iq1.linear(X, W, threads=threads).tobytes()
        out[f"dequantize {qtype}"] = iq1.dequantize(W, threads=threads).tobytes()
        w = np.random.default_rng(i).standard_normal((16, 512)).astype(np.float32)
        out[f"quantize {qtype}"] = iq1.quantize(w, qtype, threads=threads).data.tobytes()
    xq = iq1.quantize_activations(synthetic.random_activations(256, 512), threads=threads)
    out["quantize_activations"] = xq.d.tobytes() + xq.bsums.tobytes() + xq.qs.tobytes()
    return out


def report(threads) -> dict:
    """What a child saw: its results, its default thread count, whether its threaded calls run on the
    after-fork helper thread, and how many OS threads a threaded call added (OpenMP keeps its workers)."""
    before = os_threads()
    results = every_operation(threads)
    return {
        "results": results,
        "default_threads": iq1.get_num_threads(),
        "after_fork": _state.forked_child_state(),
        "threads_added": os_threads() - before,
    }
