"""Dequantization: bit-for-bit equal to the gguf package (IQ1_S, IQ1_M) and to the numpy reference
(all four formats), on every backend, for blocks covering every grid index, block scale and delta sign."""

import numpy as np
import pytest

import iq1kernels as iq1
from helpers import QTYPES, bits_equal
from iq1kernels import reference, synthetic

gq = pytest.importorskip("gguf.quants")
GGUF_TYPES = {"iq1_s": "IQ1_S", "iq1_m": "IQ1_M"}


def fp16_bits(values):
    return np.asarray(values, dtype="<f2").view("<u2").astype(np.uint32)


def iq1_s_blocks(d, idx, ls, neg):
    """Encode IQ1_S blocks: d (B,), idx (B, 8, 4) 11-bit, ls (B, 8) 3-bit, neg (B, 8) bool."""
    B = d.shape[0]
    out = np.zeros((B, 50), np.uint8)
    out[:, 0:2] = fp16_bits(d).astype("<u2").view(np.uint8).reshape(B, 2)
    out[:, 2:34] = (idx & 255).reshape(B, 32)
    qh = ((idx >> 8) << (3 * np.arange(4))).sum(axis=2) | (ls << 12) | (neg.astype(np.int64) << 15)
    out[:, 34:50] = qh.astype("<u2").view(np.uint8).reshape(B, 16)
    return out


def iq1_m_blocks(d, idx, ls, neg):
    """Encode IQ1_M blocks: d (B,), idx (B, 16, 2), ls (B, 16) 3-bit, neg (B, 16, 2) bool."""
    B = d.shape[0]
    out = np.zeros((B, 56), np.uint8)
    out[:, 0:32] = (idx & 255).reshape(B, 32)
    qh = (idx[:, :, 0] >> 8) | (neg[:, :, 0] << 3) | ((idx[:, :, 1] >> 8) << 4) | (neg[:, :, 1] << 7)
    out[:, 32:48] = qh
    dbits = fp16_bits(d)
    sc = (ls.reshape(B, 4, 4) << (3 * np.arange(4))).sum(axis=2)
    sc |= ((dbits[:, None] >> (4 * np.arange(4))) & 0xF) << 12
    out[:, 48:56] = sc.astype("<u2").view(np.uint8).reshape(B, 8)
    return out


def all_patterns(qtype):
    """(bytes, M, K) for blocks where every index, every block scale and both delta signs occur."""
    rng = np.random.default_rng(7)
    B = 64  # 64 blocks x 32 groups = 2048 indices
    idx = np.arange(2048).reshape(B, -1)
    rng.shuffle(idx.reshape(-1))
    d = rng.uniform(0.01, 3.0, B).astype(np.float32)
    d[0], d[1] = 65504.0, 6.1e-5  # fp16 maximum, smallest normal
    if qtype == "iq1_s":
        ls = (np.arange(B)[:, None] + np.arange(8)) % 8
        neg = ((np.arange(B)[:, None] + np.arange(8) // 2) % 2).astype(bool)
        data = iq1_s_blocks(d, idx.reshape(B, 8, 4), ls, neg)
    else:
        ls = (np.arange(B)[:, None] + np.arange(16)) % 8
        neg = rng.integers(0, 2, (B, 16, 2))
        data = iq1_m_blocks(d, idx.reshape(B, 16, 2), ls, neg)
    return data.reshape(-1), 8, 8 * 256


@pytest.mark.parametrize("qtype", ["iq1_s", "iq1_m"])
def test_matches_gguf_every_pattern(backend, qtype):
    data, m, k = all_patterns(qtype)
    W = iq1.QuantizedMatrix.from_bytes(data, qtype, (m, k))
    ours = W.dequantize()
    theirs = gq.dequantize(data.reshape(m, -1), getattr(gq.GGMLQuantizationType, GGUF_TYPES[qtype]))
    assert bits_equal(ours, np.asarray(theirs, np.float32))
    assert bits_equal(ours, reference.dequantize(W))


@pytest.mark.parametrize("qtype", ["iq1_s", "iq1_m"])
def test_matches_gguf_random_bytes(backend, qtype):
    """Fully random bytes, fp16 scales included (Inf / NaN / subnormal scales decode the same way)."""
    fmt = iq1.FORMATS[qtype]
    m, k = 6, 1024
    data = np.random.default_rng(3).integers(0, 256, fmt.nbytes((m, k)), dtype=np.uint8)
    ours = iq1.QuantizedMatrix.from_bytes(data, qtype, (m, k)).dequantize()
    with np.errstate(invalid="ignore", over="ignore"):
        theirs = gq.dequantize(data.reshape(m, -1), getattr(gq.GGMLQuantizationType, GGUF_TYPES[qtype]))
    np.testing.assert_array_equal(ours, theirs)  # NaN == NaN here
    finite = np.isfinite(ours)
    assert bits_equal(ours[finite], np.asarray(theirs, np.float32)[finite])


@pytest.mark.parametrize("qtype", QTYPES)
@pytest.mark.parametrize("mode", ["random", "max_scales", "zero"])
def test_matches_reference(backend, qtype, mode):
    fmt = iq1.FORMATS[qtype]
    for m, k in [(4, fmt.k_multiple), (12, 3 * fmt.k_multiple), (8, 4096)]:
        W = synthetic.random_weights(qtype, (m, k), seed=m + k, max_scales=(mode == "max_scales"))
        if mode == "zero":
            W.data[:] = 0
        assert bits_equal(W.dequantize(), reference.dequantize(W))


def test_zero_blocks_decode_as_specified():
    """All-zero bytes have a zero scale (d = 0, or ls = 0 for IQ1_M_R4), so they decode to exact zeros."""
    for qtype in QTYPES:
        fmt = iq1.FORMATS[qtype]
        W = iq1.QuantizedMatrix.from_bytes(bytes(fmt.nbytes((4, 256))), qtype, (4, 256))
        assert (W.dequantize() == 0).all()  # d = 0 (or ls = 0 for IQ1_M_R4) in every case


@pytest.mark.parametrize("qtype", QTYPES)
def test_dequantize_threads_and_unaligned(backend, qtype):
    fmt = iq1.FORMATS[qtype]
    W = synthetic.random_weights(qtype, (36, 512), seed=5)
    raw = np.zeros(W.nbytes + 1, np.uint8)
    raw[1:] = W.data
    Wu = iq1.QuantizedMatrix.from_bytes(raw[1:], qtype, W.shape)  # misaligned view, zero-copy
    assert np.shares_memory(Wu.data, raw)
    ref = reference.dequantize(W)
    for threads in (1, 2, 3):
        assert bits_equal(Wu.dequantize(threads=threads), ref)
    assert fmt.nbytes(W.shape) == W.nbytes
