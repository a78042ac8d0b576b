"""Fork soak: fork repeatedly while other threads are inside threaded linear calls, and check that every
child finishes threaded linear / dequantize / quantize / quantize_activations with the parent's results.

    python tools/fork_soak.py --forks 200 [--busy-threads 2] [--timeout 60]   (PYTHONPATH=. for a source tree)

Exits 1 at the first child that hangs (killed after --timeout seconds), fails or differs. Bounded: one
fork at a time, each child a fraction of a second of work.
"""

import argparse
import os
import signal
import sys
import threading
import time

import numpy as np

import iq1kernels as iq1
from iq1kernels import synthetic


def work():
    out = []
    for i, qtype in enumerate(("iq1_s", "iq1_m", "iq1_s_r4", "iq1_m_r4")):
        W = synthetic.random_weights(qtype, (128, 512), seed=i)
        X = synthetic.random_activations(16, 512, seed=i)
        out += [
            iq1.linear(X, W, threads=2).tobytes(),
            iq1.dequantize(W, threads=2).tobytes(),
            iq1.quantize(np.asarray(X, np.float32), qtype, threads=2).data.tobytes(),
        ]
    xq = iq1.quantize_activations(synthetic.random_activations(256, 512), threads=2)
    out.append(xq.qs.tobytes())
    return b"".join(out)


def child_matches(expected, timeout):
    pid = os.fork()
    if pid == 0:
        try:
            os._exit(0 if work() == expected else 3)
        except BaseException:
            os._exit(4)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.005)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return "hung"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--forks", type=int, default=200)
    ap.add_argument("--busy-threads", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=60.0)
    args = ap.parse_args()
    expected = work()
    W = synthetic.random_weights("iq1_m", (256, 1024))
    X = synthetic.random_activations(8, 1024)
    stop = threading.Event()

    def busy():
        while not stop.is_set():
            iq1.linear(X, W, threads=2)

    busy_threads = [threading.Thread(target=busy, daemon=True) for _ in range(args.busy_threads)]
    for t in busy_threads:
        t.start()
    start = time.monotonic()
    try:
        for i in range(args.forks):
            result = child_matches(expected, args.timeout)
            if result != 0:
                print(f"fork {i}: child {'hung' if result == 'hung' else f'exited {result}'}")
                return 1
    finally:
        stop.set()
    print(
        f"{args.forks} forks with {args.busy_threads} busy threads: every child matched "
        f"({time.monotonic() - start:.1f} s, backend {iq1.backend})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
