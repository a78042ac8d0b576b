"""Fuzz cases for the GGUF reader, run by test_fuzz.py in a subprocess (memory capped, each case under a
time limit). Every case must end in a result or a GGUFError; an accepted file must be written back by
save_gguf and read again equal (the writer takes whatever the reader accepts).

    python tests/gguf_fuzz_worker.py [--mutations N] [--seed S]    # prints counts; exit 1 on a finding
"""

import argparse
import math
import os
import random
import resource
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE), HERE]  # this checkout's iq1kernels, then the test helpers

import numpy as np  # noqa: E402

import iq1kernels as iq1  # noqa: E402
from gguf_craft import small_file  # noqa: E402
from iq1kernels.gguf_io import GGUFError, GGUFTensor, load_gguf, read_gguf, save_gguf  # noqa: E402

SPECIAL = [0, 1, -1, 2**31, 2**63, 2**64 - 1, 2**32 - 1, 2**16, 255, 7]
CASE_SECONDS = 10


class Hang(Exception):
    pass


def second_file(folder):
    """A richer valid file: strings, nested arrays, R4 and unknown-type tensors, an expert stack."""
    rng = np.random.default_rng(1)
    W = rng.standard_normal((8, 256)).astype(np.float32)
    tensors = {
        "r4": iq1.quantize(W, "iq1_m_r4"),
        "exps": iq1.QuantizedMatrix.from_bytes(iq1.quantize(W, "iq1_s").data, "iq1_s", (2, 4, 256)),
        "unk": GGUFTensor(139, (32, 1), bytes(64), name="unk"),
        "h": np.ones(3, np.float16),
    }
    meta = {
        "general.architecture": "x",
        "tok": ["a", "bb", ""],
        "nest": [[1, 2], [3]],
        "f": 0.25,
        "general.alignment": 64,
    }
    path = os.path.join(folder, "second.gguf")
    save_gguf(path, tensors, meta)
    with open(path, "rb") as fh:
        return fh.read()


def same_value(a, b):
    if a.type != b.type or a.element_type != b.element_type:
        return False
    pa, pb = a.plain(), b.plain()
    return _eq(pa, pb)


def _eq(x, y):
    if isinstance(x, list):
        return isinstance(y, list) and len(x) == len(y) and all(_eq(u, v) for u, v in zip(x, y))
    if isinstance(x, float) and math.isnan(x):
        return isinstance(y, float) and math.isnan(y)
    return x == y and type(x) is type(y)


def run_case(blob, folder):
    """'ok' or 'rejected'; raises on a finding."""
    path = os.path.join(folder, "case.gguf")
    with open(path, "wb") as fh:
        fh.write(blob)
    try:
        tensors, meta = load_gguf(path, with_metadata=True)
    except GGUFError:
        return "rejected"
    for t in tensors.values():
        int(t.data.sum())  # every byte is readable
        if isinstance(t, iq1.QuantizedMatrix) and t.nbytes <= 1 << 20:
            t.dequantize()
        elif isinstance(t, GGUFTensor) and t.ggml_type in (0, 1, 30) and t.nbytes <= 1 << 20:
            np.asarray(t)
    out = os.path.join(folder, "again.gguf")
    save_gguf(out, tensors, meta)
    back, meta2 = load_gguf(out, with_metadata=True)
    keys = [k for k in meta if not k.startswith("split.")]
    assert list(meta2) == keys, (list(meta), list(meta2))
    for k in keys:
        assert same_value(meta.typed(k), meta2.typed(k)), k
    assert list(back) == list(tensors)
    for name, t in tensors.items():
        u = back[name]
        assert type(u) is type(t), name
        if getattr(t, "size_known", True):
            assert u.data.tobytes() == t.data.tobytes(), name
        else:  # an unknown type's bytes run to the next tensor / the file's end: padding may be added
            pad = u.nbytes - t.nbytes
            assert u.data.tobytes() == t.data.tobytes() + bytes(pad) and 0 <= pad < read_gguf(out).alignment, name
        assert (u.shape, getattr(u, "ggml_type", None)) == (t.shape, getattr(t, "ggml_type", None)), name
    return "ok"


def cases(mutations, seed, folder):
    base, fields = small_file()
    yield "valid small", base
    for n in range(len(base)):
        yield f"truncated at {n}", base[:n]
    for off, width in fields:
        for v in SPECIAL:
            b = bytearray(base)
            b[off : off + width] = (v % (1 << (8 * width))).to_bytes(width, "little")
            yield f"field at {off} ({width} bytes) = {v}", bytes(b)
    second = second_file(folder)
    yield "valid second", second
    for n in range(0, len(second), 7):
        yield f"second truncated at {n}", second[:n]
    rng = random.Random(seed)
    for i in range(mutations):
        src = bytearray(base if i % 2 else second)
        kind = rng.randrange(4)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(src))
            if kind == 0:
                src[at] = rng.randrange(256)
            elif kind == 1:
                w = rng.choice((1, 2, 4, 8))
                src[at : at + w] = (rng.choice(SPECIAL) % (1 << (8 * w))).to_bytes(w, "little")
            elif kind == 2:
                del src[at : at + rng.randint(1, 16)]
            else:
                src[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        yield f"mutation {i} (seed {seed}, kind {kind})", bytes(src)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mutations", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))  # a crafted count must not allocate GBs
    iq1.set_num_threads(1)

    def on_alarm(signum, frame):
        raise Hang()

    signal.signal(signal.SIGALRM, on_alarm)
    counts, findings = {"ok": 0, "rejected": 0}, []
    t0 = time.time()
    with tempfile.TemporaryDirectory() as folder:
        for label, blob in cases(args.mutations, args.seed, folder):
            signal.alarm(CASE_SECONDS)
            try:
                counts[run_case(blob, folder)] += 1
            except Hang:
                findings.append(f"{label}: no result after {CASE_SECONDS} s")
            except BaseException as exc:  # noqa: BLE001 - any other outcome is a finding
                findings.append(f"{label}: {type(exc).__name__}: {exc}")
            finally:
                signal.alarm(0)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"cases: {sum(counts.values()) + len(findings)}, accepted and round-tripped: {counts['ok']}, "
        f"rejected with GGUFError: {counts['rejected']}, findings: {len(findings)}, "
        f"peak RSS {rss_mb:.0f} MB, {time.time() - t0:.1f} s"
    )
    for f in findings[:20]:
        print("FINDING", f)
    if rss_mb > 1024:
        print("FINDING peak RSS above 1 GB")
        return 1
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
