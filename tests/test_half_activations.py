"""16-bit float activations (IEEE float16, bfloat16) quantized by the C kernels, which widen each value
inside the kernel: bit-identical, on every backend, to widening to float32 first and quantizing that, for
every one of the 65536 bit patterns (NaN payloads, Inf, subnormals, -0)."""

import tracemalloc

import numpy as np
import pytest

import iq1kernels as iq1
from helpers import bits_equal, min_k
from iq1kernels import _kernels, _state, reference

# every pattern in order (whole blocks of one exponent: subnormals, huge, NaN / Inf), then a block of +-0
ALL_BITS = np.concatenate(
    [np.arange(65536, dtype=np.uint32).astype(np.uint16), np.tile(np.array([0x8000, 0], np.uint16), 64)]
).reshape(513, 128)


def widen(bits, kind):
    """The float32 values of 16-bit float bits, computed by numpy (the oracle's conversion)."""
    if kind == "float16":
        return bits.view(np.float16).astype(np.float32)
    return (bits.astype(np.uint32) << 16).view(np.float32)


def assert_same_q8(got, want):
    assert bits_equal(got.d, want.d)
    np.testing.assert_array_equal(got.qs, want.qs)
    np.testing.assert_array_equal(got.bsums, want.bsums)


def shuffled_bits(seed, rows=64, k=1024):
    """Random finite patterns with a few NaN / Inf / subnormal / zero blocks, rows long enough for threads."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, k)).astype(np.float32) * np.float32(3.0)
    x.reshape(-1, 128)[1] = 0.0
    x.reshape(-1, 128)[2, 5] = np.nan
    x.reshape(-1, 128)[3, 9] = -np.inf
    return x


@pytest.mark.parametrize("kind", ["float16", "bfloat16"])
def test_every_bit_pattern(backend, kind):
    with np.errstate(invalid="ignore"):
        want = reference.quantize_activations(widen(ALL_BITS, kind))
    got = _kernels.quantize_rows(ALL_BITS, 1, kind)
    assert_same_q8(got, want)
    d = got.d.reshape(-1)
    assert np.isnan(d).any() and d[-1] == 0 and np.isfinite(d).sum() > 400  # the edge blocks are there


@pytest.mark.parametrize("kind", ["float16", "bfloat16"])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_threads(backend, kind, threads):
    x = shuffled_bits(threads)
    bits = x.astype(np.float16).view(np.uint16) if kind == "float16" else (x.view(np.uint32) >> 16).astype(np.uint16)
    with np.errstate(invalid="ignore"):
        want = reference.quantize_activations(widen(bits, kind))
    assert_same_q8(_kernels.quantize_rows(bits, threads, kind), want)


def test_quantize_activations_float16(backend):
    x = shuffled_bits(7).astype(np.float16)
    assert_same_q8(iq1.quantize_activations(x), reference.quantize_activations(x.astype(np.float32)))
    assert_same_q8(iq1.quantize_activations(x[0]), reference.quantize_activations(x[:1].astype(np.float32)))


def test_linear_float16_equals_float32_input(backend, qtype):
    rng = np.random.default_rng(3)
    k = 2 * min_k(qtype)
    Wq = iq1.quantize(rng.standard_normal((32, k)).astype(np.float32), qtype)
    x = (rng.standard_normal((3, 5, k)) * 4).astype(np.float16)
    y = iq1.linear(x, Wq)
    assert y.dtype == np.float32 and y.shape == (3, 5, 32)
    assert bits_equal(y, iq1.linear(x.astype(np.float32), Wq))
    # non-contiguous rows, a single vector, and out=
    strided = x[:, ::2]
    assert bits_equal(iq1.linear(strided, Wq), iq1.linear(strided.astype(np.float32), Wq))
    assert bits_equal(iq1.linear(x[1, 2], Wq), iq1.linear(x[1, 2].astype(np.float32), Wq))
    out = np.empty((3, 5, 32), np.float32)
    assert iq1.linear(x, Wq, out=out) is out and bits_equal(out, y)


def test_linear_float16_makes_no_float32_copy():
    k, n = 4096, 256
    Wq = iq1.quantize(np.random.default_rng(0).standard_normal((16, k)).astype(np.float32), "iq1_s")
    x = np.random.default_rng(1).standard_normal((n, k)).astype(np.float16)
    iq1.linear(x, Wq)
    tracemalloc.start()
    try:
        iq1.linear(x, Wq)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # the Q8_K128 planes are ~n*k bytes; a float32 copy would add 4*n*k
    assert peak < 2 * n * k, peak


def test_bad_input_is_refused():
    b = _state.current_backend()
    bits = ALL_BITS[:2]
    d, bs, qs = np.empty((2, 1), np.float32), np.empty((2, 4), np.int16), np.empty((2, 128), np.int8)
    with pytest.raises(ValueError, match="kind"):
        b.module.quantize_act_half(b.index, 2, bits, d, bs, qs, 1)
    with pytest.raises(ValueError, match="inconsistent"):
        b.module.quantize_act_half(b.index, 0, bits, d[:1], bs, qs, 1)
    with pytest.raises(ValueError, match="multiple of 128"):
        _kernels.quantize_rows(np.zeros((2, 100), np.uint16), 1, "bfloat16")
    with pytest.raises(ValueError, match="K=256"):
        iq1.linear(np.zeros((2, 128), np.float16), iq1.quantize(np.ones((4, 256), np.float32), "iq1_s"))
