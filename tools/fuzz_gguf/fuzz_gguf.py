"""Coverage-guided fuzzing (atheris, from PyPI: pip install atheris) of the GGUF reader and of
QuantizedMatrix.from_bytes, outside the test suite, for a bounded time.

    python tools/fuzz_gguf/fuzz_gguf.py gguf -max_total_time=720 [corpus_dir]
    python tools/fuzz_gguf/fuzz_gguf.py from_bytes -max_total_time=300

`gguf`: the input bytes are a file for load_gguf; it must give a result or a GGUFError, and an accepted
file must be written back by save_gguf and read again equal (the same check as tests/gguf_fuzz_worker.py,
whose two valid files seed the corpus). `from_bytes`: a format, two dimensions (any integers, floats or
strings) and a buffer; the result is a QuantizedMatrix that dequantizes equal to the numpy reference, or
a ValueError / TypeError. Anything else stops the run with the input saved (libFuzzer's crash-* file).
The counts of a run go into docs/RELIABILITY.md.
"""

import os
import sys
import tempfile

import atheris

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

import numpy as np  # noqa: E402  (not instrumented: the package is the target)

with atheris.instrument_imports():
    import iq1kernels as iq1
    from iq1kernels import gguf_io, gguf_metadata, gguf_reader, gguf_types, gguf_writer, reference  # noqa: F401

import gguf_fuzz_worker  # noqa: E402
from gguf_craft import small_file  # noqa: E402

FOLDER = tempfile.mkdtemp(prefix="fuzz-gguf-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)


def gguf_target(data: bytes):
    gguf_fuzz_worker.run_case(data, FOLDER)  # raises on anything but a result or a GGUFError


def from_bytes_target(data: bytes):
    fdp = atheris.FuzzedDataProvider(data)
    fmt = iq1.FORMATS[fdp.PickValueInList(list(iq1.FORMATS))]
    # mostly near-valid shapes (so that the bytes get decoded), sometimes any kind of dimension
    m = fdp.ConsumeIntInRange(1, 12) * fmt.rows_multiple + (fdp.ConsumeIntInRange(-1, 1) if fdp.ConsumeBool() else 0)
    k = fdp.ConsumeIntInRange(1, 3) * fmt.k_multiple + (fdp.ConsumeIntInRange(-1, 1) if fdp.ConsumeBool() else 0)
    dims = [m, k]
    kind = fdp.ConsumeIntInRange(0, 9)
    if kind == 7:
        dims[fdp.ConsumeIntInRange(0, 1)] = float(m) + 0.5
    elif kind == 8:
        dims[fdp.ConsumeIntInRange(0, 1)] = str(m)
    elif kind == 9:
        dims.insert(0, fdp.ConsumeIntInRange(-1, 3))  # an expert stack (E, M, K)
    need = fmt.nbytes((max(m, 0), max(k, 0))) * (dims[0] if len(dims) == 3 and dims[0] > 0 else 1)
    size = max(0, need + (fdp.ConsumeIntInRange(-2, 2) if fdp.ConsumeBool() else 0))
    buf = fdp.ConsumeBytes(size)
    buf += bytes(size - len(buf))
    try:
        W = iq1.QuantizedMatrix.from_bytes(buf, fmt.name, tuple(dims))
    except (ValueError, TypeError):
        return
    got = W.dequantize()
    want = reference.dequantize(W if W.ndim == 2 else W._as_2d()).reshape(W.shape)
    if not np.array_equal(got.view(np.uint32), want.view(np.uint32)):
        raise AssertionError(f"dequantize differs from the reference for {fmt.name} {W.shape}")


def main():
    target = sys.argv.pop(1) if len(sys.argv) > 1 and sys.argv[1] in ("gguf", "from_bytes") else "gguf"
    if target == "gguf" and not any(not a.startswith("-") for a in sys.argv[1:]):
        corpus = os.path.join(FOLDER, "corpus")
        os.makedirs(corpus)
        with open(os.path.join(corpus, "small.gguf"), "wb") as fh:
            fh.write(small_file()[0])
        with open(os.path.join(corpus, "second.gguf"), "wb") as fh:
            fh.write(gguf_fuzz_worker.second_file(FOLDER))
        sys.argv.append(corpus)
    iq1.set_num_threads(1)
    atheris.Setup(sys.argv, gguf_target if target == "gguf" else from_bytes_target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
