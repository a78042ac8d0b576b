"""Pure-numpy reference of every operation: the oracle of the tests and the baseline of the benchmarks.

Written for reading, not speed: each function follows FORMATS.md line by line, in float32 with the same
evaluation order as the C code, so dequantization and activation quantization are bit-identical to it.
"""

from __future__ import annotations

import numpy as np

from .formats import get_format
from .grid import grid_values
from .tensor import Q8K128, QuantizedMatrix

_GRID = grid_values().astype(np.float32)  # (2048, 8) values in {-1, 0, 1}
_F32 = np.float32


def _fp16(u16: np.ndarray) -> np.ndarray:
    """fp16 bit patterns (integer array) -> float32 (exact)."""
    return np.ascontiguousarray(u16, dtype="<u2").view("<f2").astype(_F32)


def _fp16_bytes(b: np.ndarray) -> np.ndarray:
    """(..., 2n) uint8 little-endian fp16 bytes -> (..., n) float32."""
    return np.ascontiguousarray(b).view("<f2").astype(_F32)


def _u16(b: np.ndarray) -> np.ndarray:
    """(..., 2n) uint8 little-endian bytes -> (..., n) uint16."""
    return np.ascontiguousarray(b).view("<u2").astype(np.int64)


def _delta(bit) -> np.ndarray:
    return np.where(bit != 0, _F32(-0.125), _F32(0.125)).astype(_F32)


def dequantize_iq1_s(data: np.ndarray, m: int, k: int) -> np.ndarray:
    blocks = data.reshape(m * (k // 256), 50)
    d = _fp16_bytes(blocks[:, 0:2])[:, 0]  # (B,)
    qs = blocks[:, 2:34].reshape(-1, 8, 4).astype(np.int64)  # (B, ib, l)
    qh = _u16(blocks[:, 34:50])  # (B, ib)
    idx = qs | (((qh[:, :, None] >> (3 * np.arange(4))) & 7) << 8)  # (B, ib, l)
    dl = d[:, None] * (2 * ((qh >> 12) & 7) + 1).astype(_F32)  # (B, ib) fp32 first
    vals = _GRID[idx] + _delta(qh & 0x8000)[:, :, None, None]  # (B, ib, l, 8)
    return (dl[:, :, None, None] * vals).reshape(m, k)


def dequantize_iq1_m(data: np.ndarray, m: int, k: int) -> np.ndarray:
    blocks = data.reshape(m * (k // 256), 56)
    qs = blocks[:, 0:32].reshape(-1, 16, 2).astype(np.int64)  # (B, j, h)
    qh = blocks[:, 32:48].astype(np.int64)  # (B, j)
    sc = _u16(blocks[:, 48:56])  # (B, 4)
    d_bits = (sc[:, 0] >> 12) | ((sc[:, 1] >> 8) & 0x00F0) | ((sc[:, 2] >> 4) & 0x0F00) | (sc[:, 3] & 0xF000)
    d = _fp16(d_bits.astype(np.uint16))  # (B,)
    j = np.arange(16)
    ls = (sc[:, j // 4] >> (3 * (j % 4))) & 7  # (B, j)
    dl = d[:, None] * (2 * ls + 1).astype(_F32)
    h = np.arange(2)
    idx = qs | (((qh[:, :, None] >> (4 * h)) & 7) << 8)  # (B, j, h)
    delta = _delta((qh[:, :, None] >> (4 * h + 3)) & 1)  # (B, j, h)
    vals = _GRID[idx] + delta[:, :, :, None]  # (B, j, h, 8)
    return (dl[:, :, None, None] * vals).reshape(m, k)


def _r4_groups(data: np.ndarray, m: int, k: int, block_bytes: int):
    groups = data.reshape(m // 4, 8 + (k // 32) * block_bytes)
    d = _fp16_bytes(groups[:, 0:8])  # (G, r)
    blocks = groups[:, 8:].reshape(m // 4, k // 32, block_bytes)  # (G, ib, bytes)
    return d, blocks


def _r4_rows(y: np.ndarray, m: int, k: int) -> np.ndarray:
    """(G, ib, r, group, 8) -> (M, K): row 4G + r, column 32 ib + 8 group + t."""
    return y.transpose(0, 2, 1, 3, 4).reshape(m, k)


def dequantize_iq1_s_r4(data: np.ndarray, m: int, k: int) -> np.ndarray:
    d, blocks = _r4_groups(data, m, k, 24)
    qs = blocks[:, :, 0:16].reshape(m // 4, k // 32, 4, 4).astype(np.int64)  # (G, ib, l, r)
    qs = qs.transpose(0, 1, 3, 2)  # (G, ib, r, l)
    qh = _u16(blocks[:, :, 16:24])  # (G, ib, r)
    idx = qs | (((qh[..., None] >> (3 * np.arange(4))) & 7) << 8)
    dl = d[:, None, :] * (2 * ((qh >> 12) & 7) + 1).astype(_F32)  # (G, ib, r)
    vals = _GRID[idx] + _delta(qh & 0x8000)[..., None, None]
    return _r4_rows(dl[..., None, None] * vals, m, k)


def dequantize_iq1_m_r4(data: np.ndarray, m: int, k: int) -> np.ndarray:
    d, blocks = _r4_groups(data, m, k, 28)
    qs = blocks[:, :, 0:16].reshape(m // 4, k // 32, 4, 4).astype(np.int64)  # (G, ib, g, r)
    qs = qs.transpose(0, 1, 3, 2)  # (G, ib, r, g)
    qh = blocks[:, :, 16:24].reshape(m // 4, k // 32, 2, 4).astype(np.int64)  # (G, ib, hf, r)
    qh = qh.transpose(0, 1, 3, 2)  # (G, ib, r, hf)
    scales = blocks[:, :, 24:28].astype(np.int64)  # (G, ib, r)
    g = np.arange(4)
    hf, sh = g // 2, 4 * (g % 2)
    hbyte = qh[..., hf]  # (G, ib, r, g)
    idx = qs | (((hbyte >> sh) & 7) << 8)
    delta = _delta((hbyte >> (sh + 3)) & 1)
    ls = (scales[..., None] >> (4 * hf)) & 15  # (G, ib, r, g)
    dl = d[:, None, :, None] * ls.astype(_F32)
    return _r4_rows(dl[..., None] * (_GRID[idx] + delta[..., None]), m, k)


_DEQUANTIZERS = {
    "iq1_s": dequantize_iq1_s,
    "iq1_m": dequantize_iq1_m,
    "iq1_s_r4": dequantize_iq1_s_r4,
    "iq1_m_r4": dequantize_iq1_m_r4,
}


def dequantize(W, qtype=None, shape=None) -> np.ndarray:
    """Dequantize a QuantizedMatrix (or raw bytes with qtype and shape) to (M, K) float32."""
    if isinstance(W, QuantizedMatrix):
        data, fmt, (m, k) = W.data, W.format, W.shape
    else:
        fmt = get_format(qtype)
        m, k = fmt.check_shape(shape)
        data = np.frombuffer(W, np.uint8) if not isinstance(W, np.ndarray) else W.reshape(-1).view(np.uint8)
        if data.size != fmt.nbytes((m, k)):
            raise ValueError(f"buffer has {data.size} bytes, {fmt.name} {(m, k)} needs {fmt.nbytes((m, k))}")
    with np.errstate(over="ignore", invalid="ignore"):
        return _DEQUANTIZERS[fmt.name](np.asarray(data, np.uint8), m, k).astype(_F32, copy=False)


def quantize_activations(X) -> Q8K128:
    """Q8_K128 of (N, K) floats, bit-identical to the C kernels (rules in csrc/kernels_generic.h)."""
    x = np.asarray(X, dtype=_F32)
    if x.ndim == 1:
        x = x[None, :]
    n, k = x.shape
    if k == 0 or k % 128:
        raise ValueError(f"K={k} must be a positive multiple of 128")
    blocks = x.reshape(n, k // 128, 128)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        ax = np.abs(blocks)
        finite = (ax <= np.finfo(_F32).max).all(axis=2)  # (N, nb)
        amax = np.where(finite, np.where(finite[..., None], ax, 0).max(axis=2), 0).astype(_F32)
        usable = finite & (amax > 0)
        safe = np.where(usable, amax, _F32(1))
        idv = _F32(127) / safe
        tiny = idv > np.finfo(_F32).max  # 127/amax overflows
        pre = np.where(tiny, _F32(2.0**64), _F32(1)).astype(_F32)
        idv = np.where(tiny, _F32(127) / (safe * pre), idv).astype(_F32)
        q = np.rint((blocks * pre[..., None]) * idv[..., None])  # half to even
        q = np.where(usable[..., None], q, 0).astype(np.int8)
        d = np.where(usable, amax / _F32(127), np.where(finite, _F32(0), _F32(np.nan))).astype(_F32)
    bsums = q.reshape(n, k // 32, 32).sum(axis=2, dtype=np.int32).astype(np.int16)
    return Q8K128._trusted(d.reshape(n, k // 128), bsums, q.reshape(n, k))


def linear(X, W: QuantizedMatrix, dtype=np.float32) -> np.ndarray:
    """Dequantize-then-matmul: X (..., K) floats (quantized to Q8_K128 first, as the kernels do) or a
    Q8K128, times the dequantized weights transposed, computed in `dtype`, returned as float32."""
    Wd = dequantize(W).astype(dtype, copy=False)
    if isinstance(X, Q8K128):
        Xd, lead = X.dequantize(), (X.shape[0],)
    else:
        x = np.asarray(X, dtype=_F32)
        lead = x.shape[:-1]
        Xd = quantize_activations(x.reshape(-1, x.shape[-1])).dequantize()
    with np.errstate(over="ignore", invalid="ignore"):
        Y = Xd.astype(dtype, copy=False) @ Wd.T
    return Y.astype(_F32, copy=False).reshape(lead + (W.shape[0],))
