"""linear and quantize from 8 Python threads at once (the GIL is released in C) give byte-identical
results to serial calls, for thread counts 1 .. 2 x cores, interleaved with set_num_threads."""

import os
import threading

import numpy as np

import iq1kernels as iq1
from helpers import QTYPES
from iq1kernels import synthetic


def run_threads(fn, n):
    results, errors = [None] * n, []

    def work(i):
        try:
            results[i] = fn(i)
        except Exception as exc:  # collected and re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    return results


def test_linear_from_8_threads_is_byte_identical(backend):
    cores = os.cpu_count() or 1
    cases = []
    for i, qtype in enumerate(QTYPES):
        W = synthetic.random_weights(qtype, (64, 1024), seed=i)
        for n in (1, 7, 40):
            X = synthetic.random_activations(n, 1024, seed=10 * i + n)
            for t in range(1, 2 * cores + 1):
                cases.append((X, W, t))
    serial = [iq1.linear(X, W, threads=t).tobytes() for X, W, t in cases]

    def worker(i):
        out = []
        for j, (X, W, t) in enumerate(cases):
            if j % 8 == i % 8:
                iq1.set_num_threads(1 + (i + j) % (2 * cores))  # interleaved, must not matter
            out.append(iq1.linear(X, W, threads=t).tobytes())
        return out

    previous = iq1.set_num_threads(None)  # the setting before (None: the default), restored after
    try:
        for result in run_threads(worker, 8):
            assert result == serial
    finally:
        iq1.set_num_threads(previous)


def test_quantize_from_8_threads_is_byte_identical():
    W = np.random.default_rng(0).standard_normal((32, 512)).astype(np.float32)
    serial = {q: iq1.quantize(W, q, threads=1).data.tobytes() for q in QTYPES}
    results = run_threads(lambda i: {q: iq1.quantize(W, q, threads=1 + i % 4).data.tobytes() for q in QTYPES}, 8)
    for r in results:
        assert r == serial
