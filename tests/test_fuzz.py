"""Fuzzing the public functions with hypothesis: random shapes, dtypes, strides and byte buffers. The only
allowed outcomes are a correct result or a clear ValueError / TypeError — never a crash, a hang or a
write outside `out`. Random valid IQ1 bytes through every backend agree with the reference."""
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import iq1kernels as iq1
from iq1kernels import reference, synthetic

from helpers import BACKENDS, QTYPES, assert_linear_close

FAST = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
DTYPES = [np.float32, np.float64, np.float16, np.int8, np.int32, np.uint8, np.complex64, np.bool_]


@FAST
@given(qtype=st.sampled_from(QTYPES), backend=st.sampled_from(BACKENDS), seed=st.integers(0, 2 ** 32 - 1),
       groups=st.integers(1, 3), blocks=st.integers(1, 3), n=st.integers(1, 9))
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
@given(qtype=st.sampled_from(QTYPES), rows=st.integers(0, 9), cols=st.integers(0, 600),
       dtype=st.sampled_from(DTYPES), transpose=st.booleans(), step=st.integers(1, 3), lead=st.integers(0, 3))
def test_linear_random_inputs(qtype, rows, cols, dtype, transpose, step, lead):
    W = iq1.QuantizedMatrix.from_bytes(np.zeros(iq1.FORMATS[qtype].nbytes((4, 256)), np.uint8), qtype, (4, 256))
    base = (np.arange(max(rows, 1) * max(cols, 1) * step) % 7).astype(dtype)
    X = base[::step][:rows * cols].reshape(rows, cols) if rows * cols else np.zeros((rows, cols), dtype)
    if transpose:
        X = X.T
    X = X.reshape((1,) * lead + X.shape) if lead else X
    out = np.full(X.shape[:-1] + (4,), 5.0, np.float32) if X.ndim else None
    try:
        Y = iq1.linear(X, W, out=out)
    except (ValueError, TypeError):
        assert out is None or (out == 5.0).all()          # nothing written on error
        return
    assert X.shape[-1] == 256 and Y is out and (Y == 0).all()   # zero weights


@FAST
@given(qtype=st.sampled_from(QTYPES), nbytes=st.integers(0, 3000), m=st.integers(-2, 12), k=st.integers(-1, 600),
       offset=st.integers(0, 3), readonly=st.booleans())
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
@given(shape=st.tuples(st.integers(0, 9), st.integers(0, 600)), dtype=st.sampled_from(DTYPES),
       qtype=st.sampled_from(QTYPES), with_im=st.booleans(), threads=st.integers(-1, 4))
def test_quantize_random_inputs(shape, dtype, qtype, with_im, threads):
    W = (np.random.default_rng(shape[1]).standard_normal(shape) * 3).astype(dtype)
    im = np.ones(shape[1], np.float32) if with_im else None
    try:
        Wq = iq1.quantize(W, qtype, imatrix=im, threads=threads)
    except (ValueError, TypeError):
        return
    assert Wq.shape == shape and np.isfinite(Wq.dequantize()).all()


@FAST
@given(n=st.integers(0, 5), k=st.integers(0, 700), dtype=st.sampled_from(DTYPES), special=st.sampled_from(
    [None, np.nan, np.inf, -np.inf, 3e38, 1e-45]))
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
