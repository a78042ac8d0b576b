"""Numerical extremes (DESIGN.md rule 5): activations up to 3e38 and mixed huge/tiny values in one block,
weight scales at the fp16 maximum, K = 65536, and an activation buffer of more than 2^31 elements."""
import numpy as np
import pytest

import iq1kernels as iq1
from iq1kernels import synthetic

from helpers import assert_linear_close, exact_linear


@pytest.mark.parametrize("scale", [1e30, 1e36, 3e38])
def test_activations_up_to_3e38(backend, qtype, scale):
    k = iq1.FORMATS[qtype].k_multiple * 2
    W = synthetic.random_weights(qtype, (8, k), seed=1, scale_range=(1e-4, 1e-3))
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


def test_fp16_max_weight_scales(backend, qtype):
    k = iq1.FORMATS[qtype].k_multiple
    W = synthetic.random_weights(qtype, (4, k), seed=4, max_scales=True)
    X = synthetic.random_activations(3, k, seed=5, scale=1e3)
    assert_linear_close(iq1.linear(X, W), X, W)


def test_k_65536(backend, qtype):
    W = synthetic.random_weights(qtype, (8, 65536), seed=6)
    X = synthetic.random_activations(3, 65536, seed=7)
    assert_linear_close(iq1.linear(X, W), X, W)


def test_activation_buffer_beyond_2_31_elements():
    """qs of 32769 x 65536 int8 = 2^31 + 65536 elements: columns past index 2^31 must be read right."""
    k, n = 65536, 32769
    W = iq1.quantize(np.random.default_rng(8).standard_normal((4, k)).astype(np.float32), "iq1_s_r4")
    qs = np.zeros((n, k), np.int8)                          # calloc'ed: untouched pages cost nothing
    tail = np.random.default_rng(9).integers(-127, 128, (3, k), dtype=np.int8)
    qs[-3:] = tail
    d = np.ones((n, k // 128), np.float32)
    bsums = np.zeros((n, k // 32), np.int16)
    bsums[-3:] = tail.reshape(3, -1, 32).sum(axis=2)
    X = iq1.Q8K128._trusted(d, bsums, qs)
    Y = iq1.linear(X, W)
    assert Y.shape == (n, 4)
    assert (Y[:-3] == 0).all()
    small = iq1.Q8K128._trusted(d[-3:], bsums[-3:], qs[-3:])
    np.testing.assert_array_equal(Y[-3:], iq1.linear(small, W))
    assert_linear_close(Y[-3:], small, W)
