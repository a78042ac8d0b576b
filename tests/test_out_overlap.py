"""linear(X, W, out=Y) refuses a Y that shares any byte with what the kernel reads (W.data, X, the planes
of a Q8K128) and then writes nothing and changes nothing; Y next to them or interleaved with them without
sharing a byte is accepted and gives the right result. Every backend; buffers from ndarray, bytearray,
memoryview and mmap bases; W.data at every byte offset modulo 4 (Y must be float32-aligned)."""

import mmap

import numpy as np
import pytest

import iq1kernels as iq1
from helpers import QTYPES, bits_equal
from iq1kernels import _arrays, synthetic

M, K, N = 16, 512, 3


def arena(kind, nbytes):
    """A writeable byte buffer of `kind` and a uint8 view of it (mmap and bytearray stay alive via base)."""
    if kind == "ndarray":
        buf = np.zeros(nbytes, np.uint8)
    elif kind == "bytearray":
        buf = bytearray(nbytes)
    elif kind == "memoryview":
        buf = memoryview(bytearray(nbytes))
    else:
        buf = mmap.mmap(-1, nbytes)
    return buf, np.frombuffer(buf, np.uint8)


def out_at(raw, byte_offset, n=N):
    return raw[byte_offset : byte_offset + n * M * 4].view(np.float32).reshape(n, M)


# where Y sits relative to W.data (in bytes from W.data's start), and whether that shares a byte
def placements(w_off, w_bytes, out_bytes):
    """(name, Y's byte offset in the arena, overlaps) for Y float32-aligned in the arena."""
    end = w_off + w_bytes
    down = lambda v: v - v % 4  # noqa: E731
    up = lambda v: v + (-v) % 4  # noqa: E731
    return [
        ("ends just before W", down(w_off - out_bytes), False),
        ("covers W's first byte", down(w_off) - out_bytes + 4, True),
        ("starts at W", w_off if w_off % 4 == 0 else down(w_off), True),
        ("inside W", up(w_off + w_bytes // 3), True),
        ("covers W's last byte", down(end - 1), True),
        ("starts just after W", up(end), False),
    ]


@pytest.mark.parametrize("kind", ["ndarray", "bytearray", "memoryview", "mmap"])
@pytest.mark.parametrize("qtype", QTYPES)
def test_out_overlapping_weights_is_refused(backend, qtype, kind):
    W0 = synthetic.random_weights(qtype, (M, K), seed=3)
    X = synthetic.random_activations(N, K, seed=4)
    Xq = iq1.quantize_activations(X)
    expected = iq1.linear(X, W0)
    w_bytes, out_bytes = W0.nbytes, N * M * 4
    for w_shift in range(4):
        buf, raw = arena(kind, 2 * out_bytes + w_bytes + 64)
        w_off = out_bytes + 16 + w_shift
        raw[w_off : w_off + w_bytes] = W0.data
        W = iq1.QuantizedMatrix.from_bytes(
            memoryview(buf)[w_off : w_off + w_bytes] if kind != "ndarray" else raw[w_off : w_off + w_bytes],
            qtype,
            (M, K),
        )
        for name, y_off, overlaps in placements(w_off, w_bytes, out_bytes):
            for source in (X, Xq):
                raw[:w_off] = 0xA5  # sentinels around W
                raw[w_off + w_bytes :] = 0x5A
                before = raw.copy()
                Y = out_at(raw, y_off)
                assert Y.flags.aligned
                if overlaps:
                    with pytest.raises(ValueError, match=r"out must not overlap the weights \(W.data\)"):
                        iq1.linear(source, W, out=Y)
                    assert np.array_equal(raw, before), f"{name}: bytes changed on refusal"
                else:
                    assert iq1.linear(source, W, out=Y) is Y
                    assert bits_equal(Y, expected), name
                    assert np.array_equal(raw[w_off : w_off + w_bytes], W0.data), f"{name}: W changed"


def test_out_overlapping_float_activations(backend):
    W = synthetic.random_weights("iq1_m", (M, K), seed=5)
    X0 = synthetic.random_activations(N, K, seed=6)
    expected = iq1.linear(X0, W)
    base = np.zeros(N * K + 4 * N * M, np.float32)
    X = base[N * M : N * M + N * K].reshape(N, K)
    X[...] = X0
    cases = [  # Y's element offset in base, overlaps X
        (0, False),
        (1, True),
        (N * M + 5, True),
        (N * M + N * K - N * M, True),
        (N * M + N * K - 1, True),
        (N * M + N * K, False),
    ]
    for y_off, overlaps in cases:
        snapshot = base.copy()
        Y = base[y_off : y_off + N * M].reshape(N, M)
        if overlaps:
            with pytest.raises(ValueError, match="out must not overlap the activations"):
                iq1.linear(X, W, out=Y)
            assert bits_equal(base, snapshot)
        else:
            iq1.linear(X, W, out=Y)
            assert bits_equal(Y, expected) and bits_equal(X, X0)


def test_out_overlapping_converted_activations(backend):
    """X in float64 is converted to a float32 copy first; Y over X's own bytes is still refused."""
    W = synthetic.random_weights("iq1_s", (M, K), seed=7)
    X = synthetic.random_activations(N, K, seed=8).astype(np.float64)
    snapshot = X.copy()
    Y = X.reshape(-1).view(np.float32)[K : K + N * M].reshape(N, M)
    with pytest.raises(ValueError, match="out must not overlap the activations"):
        iq1.linear(X, W, out=Y)
    assert np.array_equal(X, snapshot)


def test_out_interleaved_with_activations_without_sharing(backend):
    """Y lies between the rows of a strided X (within its bounds) but shares no element: accepted."""
    W = synthetic.random_weights("iq1_s_r4", (M, K), seed=9)
    pad = N * M  # the gap between X's rows is exactly Y
    base = np.zeros((2, pad + K), np.float32)
    X = base[:, pad:]
    X[...] = synthetic.random_activations(2, K, seed=10)
    X0 = X.copy()
    Y = base[1, : 2 * M].reshape(2, M)  # inside X's bounds, between its two rows
    assert np.may_share_memory(Y, X) and not np.shares_memory(Y, X)
    iq1.linear(X, W, out=Y)
    assert bits_equal(Y, iq1.linear(X0, W)) and bits_equal(X, X0)


def test_undecided_overlap_is_refused(monkeypatch):
    """When the exact search would need more work than allowed, out is refused (never risked)."""
    W = synthetic.random_weights("iq1_s", (M, K))
    base = np.zeros((2, 2 * M + K), np.float32)
    X, Y = base[:, 2 * M :], base[1, : 2 * M].reshape(2, M)
    monkeypatch.setattr(_arrays, "_OVERLAP_WORK", 0)
    with pytest.raises(ValueError, match="too intricate to rule it out"):
        iq1.linear(X, W, out=Y)
    assert not Y.any()


@pytest.mark.parametrize("plane", ["d", "bsums", "qs"])
def test_out_overlapping_q8k128_planes(backend, plane):
    W = synthetic.random_weights("iq1_m_r4", (M, K), seed=11)
    X = synthetic.random_activations(N, K, seed=12)
    ref = iq1.quantize_activations(X)
    expected = iq1.linear(ref, W)
    sizes = {"d": ref.d.nbytes, "bsums": ref.bsums.nbytes, "qs": ref.qs.nbytes}
    out_bytes = N * M * 4
    for shift in (-out_bytes, -out_bytes + 4, 0, 4 * (sizes[plane] // 8), sizes[plane] - 4, sizes[plane]):
        raw = np.zeros(sizes[plane] + 2 * out_bytes + 64, np.uint8)
        start = out_bytes + 32  # the plane's offset: aligned for all dtypes
        src = getattr(ref, plane)
        view = raw[start : start + src.nbytes].view(src.dtype).reshape(src.shape)
        view[...] = src
        planes = {"d": ref.d, "bsums": ref.bsums, "qs": ref.qs, plane: view}
        Xq = iq1.Q8K128(planes["d"], planes["bsums"], planes["qs"])
        assert getattr(Xq, plane) is view or np.shares_memory(getattr(Xq, plane), view)
        Y = out_at(raw, start + shift)
        overlaps = -out_bytes < shift < src.nbytes
        before = raw.copy()
        if overlaps:
            with pytest.raises(ValueError, match=r"out must not overlap the activations \(a Q8K128 plane\)"):
                iq1.linear(Xq, W, out=Y)
            assert np.array_equal(raw, before)
        else:
            iq1.linear(Xq, W, out=Y)
            assert bits_equal(Y, expected)
            assert np.array_equal(raw[start : start + src.nbytes], src.reshape(-1).view(np.uint8))


def test_outputs_never_alias_inputs(backend):
    """The other operations have no `out`: what they return is always new memory."""
    W = synthetic.random_weights("iq1_s", (M, K), seed=13)
    X = synthetic.random_activations(N, K, seed=14)
    xq = iq1.quantize_activations(X)
    for plane in (xq.d, xq.bsums, xq.qs):
        assert not np.shares_memory(plane, X)
    assert not np.shares_memory(iq1.dequantize(W), W.data)
    w = np.asarray(X, np.float32)
    assert not np.shares_memory(iq1.quantize(w, "iq1_s").data, w)
    assert not np.shares_memory(iq1.linear(X, W), X) and not np.shares_memory(W @ X[0], X)
