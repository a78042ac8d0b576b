"""Fuzzing the public functions with hypothesis: random shapes, dtypes, strides and byte buffers. The only
allowed outcomes are a correct result or a clear ValueError / TypeError — never a crash, a hang or a
write outside `out`. Random valid IQ1 bytes through every backend agree with the reference."""

import json
import os
import platform
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import iq1kernels as iq1
from helpers import BACKENDS, QTYPES, assert_linear_close
from iq1kernels import _dispatch, reference, synthetic

FAST = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
DTYPES = [np.float32, np.float64, np.float16, np.int8, np.int32, np.uint8, np.complex64, np.bool_]


@FAST
@given(
    qtype=st.sampled_from(QTYPES),
    backend=st.sampled_from(BACKENDS),
    seed=st.integers(0, 2**32 - 1),
    groups=st.integers(1, 3),
    blocks=st.integers(1, 3),
    n=st.integers(1, 9),
)
def test_random_valid_bytes_agree_with_reference(qtype, backend, seed, groups, blocks, n):
    m, k = 4 * groups, iq1.FORMATS[qtype].k_multiple * blocks
    rng = np.random.default_rng(seed)
    # random bytes everywhere (indices, block scales, signs) with finite fp16 scales
    W = synthetic.random_weights(qtype, (m, k), seed=seed, scale_range=(1e-4, 100.0))
    D = reference.dequantize(W)
    X = rng.standard_normal((n, k)).astype(np.float32)
    previous = iq1.use_backend(backend)
    try:
        np.testing.assert_array_equal(W.dequantize(), D)
        assert_linear_close(iq1.linear(X, W), X, W)
    finally:
        iq1.use_backend(previous)


@FAST
@given(
    qtype=st.sampled_from(QTYPES),
    rows=st.integers(0, 9),
    cols=st.integers(0, 600),
    dtype=st.sampled_from(DTYPES),
    transpose=st.booleans(),
    step=st.integers(1, 3),
    lead=st.integers(0, 3),
)
def test_linear_random_inputs(qtype, rows, cols, dtype, transpose, step, lead):
    W = iq1.QuantizedMatrix.from_bytes(np.zeros(iq1.FORMATS[qtype].nbytes((4, 256)), np.uint8), qtype, (4, 256))
    base = (np.arange(max(rows, 1) * max(cols, 1) * step) % 7).astype(dtype)
    X = base[::step][: rows * cols].reshape(rows, cols) if rows * cols else np.zeros((rows, cols), dtype)
    if transpose:
        X = X.T
    X = X.reshape((1,) * lead + X.shape) if lead else X
    out = np.full(X.shape[:-1] + (4,), 5.0, np.float32) if X.ndim else None
    try:
        Y = iq1.linear(X, W, out=out)
    except (ValueError, TypeError):
        assert out is None or (out == 5.0).all()  # nothing written on error
        return
    assert X.shape[-1] == 256 and Y is out and (Y == 0).all()  # zero weights


@FAST
@given(
    qtype=st.sampled_from(QTYPES),
    nbytes=st.integers(0, 3000),
    m=st.integers(-2, 12),
    k=st.integers(-1, 600),
    offset=st.integers(0, 3),
    readonly=st.booleans(),
)
def test_from_bytes_random_buffers(qtype, nbytes, m, k, offset, readonly):
    raw = np.random.default_rng(nbytes).integers(0, 256, nbytes + offset, dtype=np.uint8)[offset:]
    buf = raw.tobytes() if readonly else raw
    try:
        W = iq1.QuantizedMatrix.from_bytes(buf, qtype, (m, k))
    except (ValueError, TypeError):
        return
    assert W.nbytes == nbytes and W.shape == (m, k)
    D = W.dequantize()
    assert D.shape == (m, k)
    np.testing.assert_array_equal(D, reference.dequantize(W))


@FAST
@given(
    shape=st.tuples(st.integers(0, 9), st.integers(0, 600)),
    dtype=st.sampled_from(DTYPES),
    qtype=st.sampled_from(QTYPES),
    with_im=st.booleans(),
    threads=st.integers(-1, 4),
)
def test_quantize_random_inputs(shape, dtype, qtype, with_im, threads):
    W = (np.random.default_rng(shape[1]).standard_normal(shape) * 3).astype(dtype)
    im = np.ones(shape[1], np.float32) if with_im else None
    try:
        Wq = iq1.quantize(W, qtype, imatrix=im, threads=threads)
    except (ValueError, TypeError):
        return
    assert Wq.shape == shape and np.isfinite(Wq.dequantize()).all()


@FAST
@given(
    n=st.integers(0, 5),
    k=st.integers(0, 700),
    dtype=st.sampled_from(DTYPES),
    special=st.sampled_from([None, np.nan, np.inf, -np.inf, 3e38, 1e-45]),
)
def test_quantize_activations_random(n, k, dtype, special):
    X = np.random.default_rng(k).standard_normal((n, k)).astype(dtype)
    if special is not None and X.size and X.dtype.kind == "f":
        with np.errstate(over="ignore"):
            X.flat[X.size // 2] = special
    try:
        q = iq1.quantize_activations(X)
    except (ValueError, TypeError):
        return
    r = reference.quantize_activations(X)
    np.testing.assert_array_equal(q.qs, r.qs)
    np.testing.assert_array_equal(q.d, r.d)


SENTINEL = np.float32(-7.25)
OUT_KINDS = [
    "exact",
    "misaligned",
    "readonly",
    "strided",
    "fortran",
    "float64",
    "big_endian",
    "short",
    "extra_dim",
    "list",
    "overlaps_x",
    "overlaps_planes",
]


def guarded_out(kind, shape, X):
    """An `out` candidate of the given kind, carved from a sentinel-filled arena (so any write outside
    the requested array shows), and a view of the whole arena."""
    n = int(np.prod(shape))
    arena = np.full(4 * n + 64, SENTINEL, np.float32)
    inner = arena[16 : 16 + n].reshape(shape)
    if kind == "misaligned":
        raw = arena.view(np.uint8)[65 : 65 + 4 * n]
        return raw.view(np.float32).reshape(shape), arena
    if kind == "readonly":
        inner.flags.writeable = False
    if kind == "strided":
        return arena[16 : 16 + 2 * n : 2].reshape(shape), arena
    if kind == "fortran":
        return np.asfortranarray(inner) if len(shape) > 1 and min(shape) > 1 else arena[16 : 16 + 2 * n : 2], arena
    if kind == "float64":
        return np.full(shape, SENTINEL, np.float64), arena
    if kind == "big_endian":
        return arena[16 : 16 + n].view(">f4").reshape(shape), arena
    if kind == "short":
        return arena[16 : 16 + n - 1], arena
    if kind == "extra_dim":
        return inner[None], arena
    if kind == "list":
        return inner.tolist(), arena
    if kind == "overlaps_x":
        return (X.reshape(-1)[:n].reshape(shape) if isinstance(X, np.ndarray) and X.size >= n else inner), arena
    if kind == "overlaps_planes":
        return (X.d.reshape(-1)[:n].reshape(shape) if isinstance(X, iq1.Q8K128) and X.d.size >= n else inner), arena
    return inner, arena


@FAST
@given(
    qtype=st.sampled_from(QTYPES),
    backend=st.sampled_from(BACKENDS),
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 6),
    kind=st.sampled_from(OUT_KINDS),
    as_q8=st.booleans(),
)
def test_linear_out_buffers(qtype, backend, seed, n, kind, as_q8):
    """Every kind of `out`: a correct result in exactly `out`, or an error with `out` and its
    surroundings untouched — never a write outside the requested elements."""
    k = iq1.FORMATS[qtype].k_multiple
    W = synthetic.random_weights(qtype, (8, k), seed=seed)
    X = np.random.default_rng(seed).standard_normal((n, k)).astype(np.float32) * 16  # >= 8 elements
    if as_q8:
        X = iq1.quantize_activations(X)
    out, arena = guarded_out(kind, (n, 8), X)
    before = arena.copy()
    previous = iq1.use_backend(backend)
    try:
        expected = iq1.linear(X, W)
        try:
            Y = iq1.linear(X, W, out=out)
        except (ValueError, TypeError):
            assert kind != "exact"
            np.testing.assert_array_equal(arena, before)
            return
    finally:
        iq1.use_backend(previous)
    assert kind in ("exact", "overlaps_x", "overlaps_planes") and Y is out
    np.testing.assert_array_equal(Y, expected)
    changed = np.flatnonzero(arena.view(np.uint32) != before.view(np.uint32))
    assert changed.size == 0 or (changed.min() >= 16 and changed.max() < 16 + 8 * n)


@FAST
@given(
    qtype=st.sampled_from(QTYPES),
    seed=st.integers(0, 2**32 - 1),
    shape=st.lists(st.integers(0, 5), min_size=0, max_size=3),
    k_at=st.integers(-3, 2),
    dtype=st.sampled_from(DTYPES),
    reverse=st.booleans(),
)
def test_matmul_random_operands(qtype, seed, shape, k_at, dtype, reverse):
    """W @ x for random ranks, shapes, dtypes and strides: numpy's matmul semantics (shape and the
    rejection of misaligned shapes) with values equal to the reference, or a clear error."""
    k = iq1.FORMATS[qtype].k_multiple
    W = synthetic.random_weights(qtype, (4, k), seed=seed)
    if shape and -len(shape) <= k_at < 0 and (len(shape) == 1 or k_at == -2):
        shape[k_at] = k  # an aligned operand most of the time
    x = (np.random.default_rng(seed).standard_normal(shape) * 4).astype(dtype)
    if reverse and x.ndim:
        x = x[..., ::-1]
    D = reference.dequantize(W).astype(np.float64)
    try:
        expected_shape = np.matmul(D, np.zeros(x.shape)).shape
    except ValueError:
        expected_shape = None
    try:
        y = W @ x
    except (ValueError, TypeError):
        assert expected_shape is None or x.dtype.kind not in "biuf"
        return
    assert expected_shape is not None and y.shape == expected_shape and y.dtype == np.float32
    if x.size and y.size:
        xs = np.moveaxis(x.astype(np.float32), -2, -1).reshape(-1, k) if x.ndim > 1 else x[None]
        ys = np.moveaxis(y, -2, -1).reshape(-1, 4) if x.ndim > 1 else y[None]
        assert_linear_close(ys, xs, W)


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 4),
    blocks=st.integers(0, 3),
    flaw=st.sampled_from(
        [
            "none",
            "d_shape",
            "d_dtype",
            "bsums_shape",
            "bsums_dtype",
            "bsums_wrong",
            "qs_dtype",
            "qs_1d",
            "qs_minus_128",
            "list",
            "strided",
        ]
    ),
    tamper=st.sampled_from([None, "d", "bsums", "qs"]),
)
def test_q8k128_random_planes(seed, n, blocks, flaw, tamper):
    """Q8K128 from random planes: rejected with a clear error, or usable with results equal to the
    reference; replacing a plane after construction never makes the kernels read out of bounds."""
    rng = np.random.default_rng(seed)
    k = 128 * blocks
    qs = rng.integers(-127, 128, (n, k), dtype=np.int8)
    d = rng.uniform(0, 1, (n, blocks)).astype(np.float32)
    bsums = qs.reshape(n, k // 32, 32).sum(axis=2).astype(np.int16)
    planes = {"d": d, "bsums": bsums, "qs": qs}
    if flaw == "d_shape":
        planes["d"] = d[:, :-1] if blocks else np.zeros((n, 1), np.float32)
    elif flaw == "d_dtype":
        planes["d"] = d.astype(np.float64)
    elif flaw == "bsums_shape":
        planes["bsums"] = bsums[:, :-1]
    elif flaw == "bsums_dtype":
        planes["bsums"] = bsums.astype(np.int32)
    elif flaw == "bsums_wrong" and bsums.size:
        planes["bsums"] = bsums + np.int16(1)
    elif flaw == "qs_dtype":
        planes["qs"] = qs.astype(np.int16)
    elif flaw == "qs_1d":
        planes["qs"] = qs.reshape(-1)
    elif flaw == "qs_minus_128" and qs.size:
        planes["qs"] = qs.copy()
        planes["qs"][0, 0] = -128
    elif flaw == "list":
        planes["d"] = d.tolist()
    elif flaw == "strided":
        planes = {name: np.repeat(a, 2, axis=0)[::2] for name, a in planes.items()}  # non-contiguous views
    W = synthetic.random_weights("iq1_m_r4", (4, max(k, 128)), seed=seed)
    try:
        q = iq1.Q8K128(planes["d"], planes["bsums"], planes["qs"])
    except (ValueError, TypeError):
        assert flaw != "none" or k == 0
        return
    assert flaw in ("none", "strided", "bsums_wrong", "qs_minus_128") and q.shape == (n, k)
    if tamper:  # a user replacing a plane by a smaller / other-typed array: an error, not a bad read
        setattr(q, tamper, getattr(q, tamper)[:, :-1].astype(np.int32))
    try:
        Y = iq1.linear(q, W)
    except (ValueError, TypeError):
        assert tamper or k != W.shape[1]
        return
    assert Y.shape == (n, 4) and (not tamper or n == 0)  # with n = 0 nothing is read
    if not tamper:
        assert_linear_close(Y, q, W)


IMPORT_PROBE = r"""
import json, sys, numpy as np, iq1kernels as iq1
from iq1kernels import _dispatch
out = {"available": iq1.available_backends(), "forced": {}}
x = np.linspace(-3, 3, 2 * 256, dtype=np.float32).reshape(2, 256)
for name in _dispatch.ALL_VARIANTS:
    try:
        iq1.use_backend(name)
    except (RuntimeError, ValueError) as exc:
        out["forced"][name] = type(exc).__name__
        continue
    W = iq1.quantize(np.outer(np.arange(1, 5), x[0]), "iq1_s_r4")
    out["forced"][name] = [iq1.linear(x, W).tolist(), W.dequantize().sum().item(), (W @ x[0]).tolist()]
out["modules"] = sorted(m for m in sys.modules if m.startswith("iq1kernels._backend_"))
print(json.dumps(out))
"""
# hidden flag -> variants that must disappear (and every module needing the flag stays unimported)
AVX512_ALL = ("avx512", "avx512_vnni", "avx512_amx")
HIDDEN = {
    "x86_64": {
        "avx512f": AVX512_ALL,
        "avx512bw": AVX512_ALL,
        "avx512vnni": ("avx512_vnni", "avx512_amx"),
        "avxvnni": ("avx2_vnni",),
        "amxtile": ("avx512_amx",),
        "amxint8": ("avx512_amx",),
        "avx2": ("avx2", "avx2_vnni") + AVX512_ALL,
        "fma": ("avx2", "avx2_vnni") + AVX512_ALL,
    },
    "aarch64": {"asimddp": ("neon_dotprod",), "asimd": ("neon", "neon_dotprod")},
}
MACHINE = {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine().lower(), platform.machine().lower())


@pytest.mark.parametrize("hide", sorted(HIDDEN.get(MACHINE, {})) + ["avx512f,avxvnni,asimddp"])
def test_hidden_cpu_flags_import_safety(hide):
    """With CPU flags hidden (IQ1KERNELS_HIDE_CPU_FLAGS), every public call works on what is left, no
    module needing a hidden flag is ever imported, forcing a lacking variant is a clear error (never a
    crash), and the available variants still agree with each other."""
    env = {k: v for k, v in os.environ.items() if k != "IQ1KERNELS_BACKEND"}
    env["IQ1KERNELS_HIDE_CPU_FLAGS"] = hide
    proc = subprocess.run([sys.executable, "-c", IMPORT_PROBE], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    info = json.loads(proc.stdout)
    hidden = set(hide.split(","))
    gone = {v for flag in hidden for v in HIDDEN.get(MACHINE, {}).get(flag, ())}
    assert "generic" in info["available"] and not gone & set(info["available"])
    for name, result in info["forced"].items():
        assert isinstance(result, list) == (name in info["available"]), (name, result)
    for module in info["modules"]:
        isa = module.rsplit("_", 1)[1]
        assert not hidden & set(_dispatch.MODULE_REQUIRES.get(isa, ())), module
    results = [r for r in info["forced"].values() if isinstance(r, list)]
    ref = results[0]
    for r in results[1:]:
        np.testing.assert_allclose(r[0], ref[0], rtol=1e-5, atol=1e-3)
        assert r[1] == ref[1]
        np.testing.assert_allclose(r[2], ref[2], rtol=1e-5, atol=1e-3)


def test_gguf_reader_fuzz():
    """The GGUF reader on ~3900 broken files (tests/gguf_fuzz_worker.py): a small valid file truncated at
    every offset, each of its count / dim / offset / type / length fields set to 0, 1, -1, 2**31, 2**63,
    2**64-1 ..., a richer file truncated every 7 bytes, and 3000 seeded random mutations. Each case ends in
    a result (written back by save_gguf and read again equal) or a GGUFError, within 10 s, in a process
    capped at 8 GB of address space whose peak RSS must stay under 1 GB."""
    worker = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gguf_fuzz_worker.py")
    proc = subprocess.run(
        [sys.executable, worker, "--mutations", "3000", "--seed", "0"], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "findings: 0" in proc.stdout and "accepted and round-tripped" in proc.stdout
