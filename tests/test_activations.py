"""Q8_K128 activation quantization: bit-identical to the numpy reference on every backend, including
the edge rules (zero, huge, tiny, NaN / Inf blocks) and never an int8 of -128."""

import numpy as np
import pytest

import iq1kernels as iq1
from helpers import bits_equal
from iq1kernels import reference


def edge_activations(n=6, k=1024, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, k)).astype(np.float32)
    blocks = x.reshape(-1, 128)
    blocks[0] = 0.0  # zero block
    blocks[1] *= 1e6  # beyond fp16
    blocks[2] *= 1e30
    blocks[3] *= 1e-38  # 127/amax overflows: prescaled path
    blocks[4, 5] = 3e38  # one huge value among normal ones
    blocks[5] = np.where(np.arange(128) % 2, 1.0, -1.0)  # exactly +-127
    blocks[6] = np.float32(1.4e-45)  # smallest subnormal everywhere
    blocks[7, :64] = -2.5  # ties: x * id lands on .5
    blocks[7, 64:] = 1.25
    blocks[8, 3] = np.nan
    blocks[9, 7] = np.inf
    blocks[10, 0] = -np.inf
    blocks[11] = np.float32(3.4e38) * np.sign(rng.standard_normal(128)).astype(np.float32)
    return x


def test_reference_rules():
    x = edge_activations()
    q = reference.quantize_activations(x)
    d = q.d.reshape(-1)
    assert d[0] == 0 and (q.qs.reshape(-1, 128)[0] == 0).all()
    assert np.isnan(d[8]) and np.isnan(d[9]) and np.isnan(d[10])
    assert np.isfinite(d[[1, 2, 3, 4, 5, 6, 7, 11]]).all()
    assert q.qs.min() >= -127 and q.qs.max() <= 127
    assert (np.abs(q.qs.reshape(-1, 128)[5]) == 127).all()
    np.testing.assert_array_equal(q.bsums, q.qs.reshape(6, -1, 32).sum(axis=2))
    xd = q.dequantize()
    err = np.abs(xd - x).reshape(-1, 128).max(axis=1)
    amax = np.abs(x).reshape(-1, 128).max(axis=1)
    finite_blocks = np.isfinite(d)
    assert (err[finite_blocks] <= amax[finite_blocks] / 254 * 1.0001 + 1e-44).all()


def test_bit_identical_to_reference(backend):
    x = edge_activations()
    ours, ref = iq1.quantize_activations(x), reference.quantize_activations(x)
    assert bits_equal(ours.d, ref.d)
    np.testing.assert_array_equal(ours.qs, ref.qs)
    np.testing.assert_array_equal(ours.bsums, ref.bsums)
    assert ours.qs.min() >= -127


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_random_and_threads(backend, threads):
    x = np.random.default_rng(threads).standard_normal((33, 512)).astype(np.float32) * 10.0
    ours, ref = iq1.quantize_activations(x, threads=threads), reference.quantize_activations(x)
    assert bits_equal(ours.d, ref.d)
    np.testing.assert_array_equal(ours.qs, ref.qs)


def test_q8k128_object():
    x = np.random.default_rng(0).standard_normal((3, 256)).astype(np.float32)
    q = iq1.quantize_activations(x)
    assert q.shape == (3, 256) and q.d.shape == (3, 2) and q.bsums.shape == (3, 8)
    assert q.nbytes == 3 * 2 * 4 + 3 * 8 * 2 + 3 * 256
    again = iq1.Q8K128(q.d, q.bsums, q.qs)
    np.testing.assert_array_equal(again.dequantize(), q.dequantize())
    with pytest.raises(ValueError, match="bsums"):
        iq1.Q8K128(q.d, q.bsums + 1, q.qs)
    bad = q.qs.copy()
    bad[0, 0] = -128
    with pytest.raises(ValueError, match="-127, 127"):
        iq1.Q8K128(q.d, q.bsums, bad)
    with pytest.raises(ValueError, match="multiple of 128"):
        iq1.quantize_activations(np.ones((2, 100), np.float32))
