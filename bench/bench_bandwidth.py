"""GEMV over a weight matrix larger than the last-level cache (>= 300 MB of IQ1_S) beside the machine's
memory-read bandwidth measured the same way with the same thread count (numpy summing a 1 GiB buffer, one
slice per thread), both as GB/s in extra_info."""

import threading

import numpy as np

import iq1kernels as iq1
from iq1kernels import synthetic

K = 16384
M = 96_000  # 96000 x 16384 IQ1_S = 307 MB
_state = {}


def weights():
    if "W" not in _state:
        _state["W"] = synthetic.random_weights("iq1_s", (M, K), seed=1)
    return _state["W"]


def bench_gemv_streaming(benchmark, threads):
    W = weights()
    x = synthetic.random_activations(1, K)
    out = np.empty((1, M), np.float32)
    benchmark.group = f"streaming GEMV threads={threads}"
    benchmark.pedantic(iq1.linear, (x, W), {"out": out}, rounds=5, iterations=1, warmup_rounds=1)
    benchmark.extra_info.update({"weight_bytes": W.nbytes, "gbs": W.nbytes / benchmark.stats["median"] / 1e9})


def read_all(buf, threads):
    """Sum buf in `threads` contiguous slices at once (numpy releases the GIL in the reduction): one
    numpy sum reads with one core only, which would understate a multi-threaded GEMV's share."""
    if threads == 1:
        return np.add.reduce(buf)
    step = -(-len(buf) // threads)
    workers = [threading.Thread(target=np.add.reduce, args=(buf[i * step : (i + 1) * step],)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


def bench_memory_read(benchmark, threads):
    buf = np.ones(1 << 27, np.uint64)  # 1 GiB
    benchmark.group = f"streaming GEMV threads={threads}"
    benchmark.pedantic(read_all, (buf, threads), rounds=5, iterations=1, warmup_rounds=1)
    benchmark.extra_info.update({"bytes": buf.nbytes, "gbs": buf.nbytes / benchmark.stats["median"] / 1e9})
