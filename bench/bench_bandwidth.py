"""Where the GEMV's limit is: a GEMV over a weight matrix larger than the last-level cache (at least 300 MB and
twice the LLC the kernel reports, so that the weights come from DRAM) beside the machine's memory-read bandwidth
measured the same way with the same thread count (numpy summing a buffer of the same rule's size, one slice per
thread), and the same GEMV on a matrix that stays in L2 (its in-cache rate). All three as GB/s in extra_info.

Some cloud CPUs report a very large shared L3 (480 MiB on one Xeon seen here): a 300 MB matrix would then be
read from L3, not DRAM, which is why the size follows the LLC.
"""

import glob
import threading

import numpy as np

import iq1kernels as iq1
from iq1kernels import synthetic

K = 16384
ROW_BYTES = iq1.FORMATS["iq1_s"].nbytes((1, K))


def last_level_cache_bytes():
    """The largest cache size sysfs lists for cpu0 (0 where sysfs has none)."""
    sizes = []
    for path in glob.glob("/sys/devices/system/cpu/cpu0/cache/index*/size"):
        text = open(path).read().strip()
        scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
        sizes.append(int(text.rstrip("KMG")) * scale)
    return max(sizes, default=0)


STREAM_BYTES = max(300_000_000, 2 * last_level_cache_bytes())
M = -(-STREAM_BYTES // ROW_BYTES)  # rows of IQ1_S: 96000 x 16384 = 307 MB where the LLC is small
M_IN_CACHE = 512  # 512 x 16384 IQ1_S = 1.6 MB: stays in a 2 MB L2
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


def bench_gemv_in_cache(benchmark, threads):
    W = synthetic.random_weights("iq1_s", (M_IN_CACHE, K), seed=2)
    x = synthetic.random_activations(1, K)
    out = np.empty((1, M_IN_CACHE), np.float32)
    benchmark.group = f"streaming GEMV threads={threads}"
    benchmark.pedantic(iq1.linear, (x, W), {"out": out}, rounds=200, iterations=5, warmup_rounds=20)
    benchmark.extra_info.update({"weight_bytes": W.nbytes, "gbs": W.nbytes / benchmark.stats["median"] / 1e9})


def bench_memory_read(benchmark, threads):
    buf = np.ones(-(-STREAM_BYTES // 8), np.uint64)
    benchmark.group = f"streaming GEMV threads={threads}"
    benchmark.pedantic(read_all, (buf, threads), rounds=5, iterations=1, warmup_rounds=1)
    benchmark.extra_info.update({"bytes": buf.nbytes, "gbs": buf.nbytes / benchmark.stats["median"] / 1e9})
