"""10,000 calls of each public function grow the resident set by less than 1 MB (no leak in the C or
Cython layers)."""

import gc

import numpy as np
import pytest

import iq1kernels as iq1
from iq1kernels import synthetic


def rss_bytes():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096


CALLS = 10_000


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/statm"), reason="needs /proc")
@pytest.mark.parametrize(
    "name",
    [
        "linear",
        "matmul",
        "quantize_activations",
        "dequantize",
        "quantize",
        "from_bytes",
        "Q8K128",
        "linear_q8k128",
        "bad_input",
    ],
)
def test_rss_growth_below_1mb(name):
    W = synthetic.random_weights("iq1_s_r4", (16, 256), seed=1)
    X = synthetic.random_activations(2, 256, seed=2)
    Wf = np.random.default_rng(3).standard_normal((4, 256)).astype(np.float32)
    out = np.empty((2, 16), np.float32)
    raw = W.data.tobytes()
    q = iq1.quantize_activations(X)

    def bad():
        try:
            iq1.linear(X[:, :128], W)
        except ValueError:
            pass

    calls = {
        "linear": lambda: iq1.linear(X, W, out=out),
        "matmul": lambda: W @ X[0],
        "quantize_activations": lambda: iq1.quantize_activations(X),
        "dequantize": W.dequantize,
        "quantize": lambda: iq1.quantize(Wf, "iq1_s_r4", threads=1),
        "from_bytes": lambda: iq1.QuantizedMatrix.from_bytes(raw, "iq1_s_r4", (16, 256)),
        "Q8K128": lambda: iq1.Q8K128(q.d, q.bsums, q.qs),
        "linear_q8k128": lambda: iq1.linear(q, W),
        "bad_input": bad,
    }
    fn = calls[name]
    for _ in range(500):  # warm up allocator pools and caches
        fn()
    gc.collect()
    before = rss_bytes()
    for _ in range(CALLS):
        fn()
    gc.collect()
    growth = rss_bytes() - before
    assert growth < 1 << 20, f"{name}: RSS grew by {growth} bytes over {CALLS} calls"
