"""Numerical extremes (no overflow, no NaN from finite input): activations up to 3e38 and mixed huge/tiny
values in one block, weight scales at the fp16 maximum, K = 65536, and an activation buffer
of more than 2^31 elements."""

import numpy as np
import pytest

import iq1kernels as iq1
from helpers import BACKENDS, QTYPES, assert_linear_close, exact_linear
from iq1kernels import reference, synthetic


@pytest.mark.parametrize("wscale", [(1e-4, 1e-3), (6e-8, 1e-6)], ids=["small", "fp16_subnormal"])
@pytest.mark.parametrize("scale", [1e30, 1e36, 3e38])
def test_activations_up_to_3e38(backend, qtype, scale, wscale):
    """d_x * integer block sum alone would overflow here (2.4e36 * 1e6): only d_x * d_w * sum may be formed."""
    k = iq1.FORMATS[qtype].k_multiple * 2
    W = synthetic.random_weights(qtype, (8, k), seed=1, scale_range=wscale)
    X = np.random.default_rng(2).uniform(-1, 1, (3, k)).astype(np.float32) * np.float32(scale)
    Y = iq1.linear(X, W)
    ref, _ = exact_linear(X, W)
    assert np.isfinite(Y[np.abs(ref) < 1e37]).all()
    assert_linear_close(Y, X, W)


def test_mixed_huge_and_tiny_in_one_block(backend, qtype):
    k = iq1.FORMATS[qtype].k_multiple
    W = synthetic.random_weights(qtype, (4, k), seed=3, scale_range=(1e-4, 1e-3))
    X = np.full((2, k), 1e-30, np.float32)
    X[0, 5], X[1, 100] = 2e38, -1e-38
    X[1, 7] = 1e20
    Y = iq1.linear(X, W)
    assert np.isfinite(Y).all()
    assert_linear_close(Y, X, W)


def test_nonfinite_activations_poison_exactly_their_outputs(backend, qtype):
    """NaN / +Inf / -Inf anywhere in a row (any block, next to rows of 1e33 values) make that
    row's outputs NaN — all of them, and no other output; the other rows stay equal to the reference."""
    k = iq1.FORMATS[qtype].k_multiple * 3
    W = synthetic.random_weights(qtype, (16, k), seed=11)
    rng = np.random.default_rng(12)
    X = synthetic.random_activations(9, k, seed=13)
    X[[0, 4]] *= np.float32(1e33)  # huge but finite rows around the bad ones
    bad = np.array([1, 2, 5, 8])
    for row, value in zip(bad, [np.nan, np.inf, -np.inf, np.nan]):
        X[row, rng.integers(0, k, 1 + row % 3)] = value
    X[8, k - 1] = np.inf  # NaN and Inf together, last element
    Y = iq1.linear(X, W)
    assert np.isnan(Y[bad]).all()
    good = np.setdiff1d(np.arange(9), bad)
    assert np.isfinite(Y[good]).all()
    assert_linear_close(Y[good], X[good], W)


def test_fp16_max_weight_scales(backend, qtype):
    k = iq1.FORMATS[qtype].k_multiple
    W = synthetic.random_weights(qtype, (4, k), seed=4, max_scales=True)
    X = synthetic.random_activations(3, k, seed=5, scale=1e3)
    assert_linear_close(iq1.linear(X, W), X, W)


def test_k_65536(backend, qtype):
    W = synthetic.random_weights(qtype, (8, 65536), seed=6)
    X = synthetic.random_activations(3, 65536, seed=7)
    assert_linear_close(iq1.linear(X, W), X, W)
    np.testing.assert_array_equal(W.dequantize(), reference.dequantize(W))
    np.testing.assert_array_equal(iq1.quantize_activations(X).qs, reference.quantize_activations(X).qs)


def test_activation_buffer_beyond_2_31_elements(backend):
    """qs of 32769 x 65536 int8 = 2^31 + 65536 elements: columns past index 2^31 must be read right."""
    k, n = 65536, 32769
    W = synthetic.random_weights("iq1_s_r4", (4, k), seed=8)
    qs = np.zeros((n, k), np.int8)  # calloc'ed: untouched pages cost nothing
    tail = np.random.default_rng(9).integers(-127, 128, (3, k), dtype=np.int8)
    qs[-3:] = tail
    d = np.ones((n, k // 128), np.float32)
    bsums = np.zeros((n, k // 32), np.int16)
    bsums[-3:] = tail.reshape(3, -1, 32).sum(axis=2)
    X = iq1.Q8K128._trusted(d, bsums, qs)
    Y = iq1.linear(X, W)
    assert Y.shape == (n, 4)
    assert (Y[:-3] == 0).all()
    assert_linear_close(Y[-3:], iq1.Q8K128._trusted(d[-3:], bsums[-3:], qs[-3:]), W)


def test_weight_buffer_beyond_2_31_bytes(backend):
    """K = 65536 and M such that the weights span 2^31 + a few KB bytes (M x K ~ 1e10 elements): the
    last rows, past every 32-bit byte or element offset, must be read right. Zero bytes are valid
    blocks of scale 0, and untouched calloc'ed pages cost no memory."""
    qtype = QTYPES[BACKENDS.index(backend) % len(QTYPES)]  # every format over the backends
    fmt, k = iq1.FORMATS[qtype], 65536
    row_bytes = fmt.nbytes((4, k)) // 4
    m = ((1 << 31) // row_bytes + 64) // 4 * 4
    data = np.zeros(fmt.nbytes((m, k)), np.uint8)
    assert data.size > 1 << 31
    tail = synthetic.random_weights(qtype, (8, k), seed=10)
    data[-tail.nbytes :] = tail.data
    W = iq1.QuantizedMatrix.from_bytes(data, qtype, (m, k))
    X = synthetic.random_activations(2, k, seed=11)
    Y = iq1.linear(X, W)
    assert Y.shape == (2, m) and (Y[:, :-8] == 0).all()
    assert_linear_close(Y[:, -8:], X, tail)
