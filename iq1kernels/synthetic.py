"""Built-in synthetic data: random but valid IQ1 weights (any index, scale and sign pattern, finite
fp16 scales) and activations, for `iq1kernels bench`, the tests and the benchmarks."""

from __future__ import annotations

import numpy as np

from .formats import get_format
from .tensor import QuantizedMatrix


def _put_fp16(dst: np.ndarray, values: np.ndarray) -> None:
    dst[...] = np.ascontiguousarray(values.astype("<f2")).view(np.uint8).reshape(dst.shape)


def random_weights(qtype, shape, seed=0, scale_range=(1e-3, 2.0), max_scales=False) -> QuantizedMatrix:
    """Uniformly random block bytes with the fp16 scales replaced by finite values from `scale_range`
    (or the fp16 maximum 65504 and every block scale at its maximum with max_scales=True)."""
    fmt = get_format(qtype)
    m, k = fmt.check_shape(shape)
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, fmt.nbytes((m, k)), dtype=np.uint8)
    lo, hi = scale_range
    blocks: np.ndarray  # (M/4, K/32, block bytes) or (blocks, block bytes)
    if fmt.interleaved:
        groups = data.reshape(m // 4, -1)
        scales = np.full((m // 4, 4), 65504.0) if max_scales else rng.uniform(lo, hi, (m // 4, 4))
        _put_fp16(groups[:, 0:8], scales)
        if max_scales:
            blocks = groups[:, 8:].reshape(m // 4, k // 32, fmt.block_bytes)
            if fmt.name == "iq1_s_r4":
                blocks[:, :, 17:24:2] |= 0x70  # high byte of each qh word: ls = 7
            else:
                blocks[:, :, 24:28] = 0xFF  # both 4-bit scales = 15
    else:
        blocks = data.reshape(-1, fmt.block_bytes)
        scales = np.full(blocks.shape[0], 65504.0) if max_scales else rng.uniform(lo, hi, blocks.shape[0])
        h = np.ascontiguousarray(scales.astype("<f2")).view("<u2").astype(np.uint16)
        if fmt.name == "iq1_s":
            _put_fp16(blocks[:, 0:2], scales[:, None])
            if max_scales:
                blocks[:, 35:50:2] |= 0x70
        else:  # iq1_m: the fp16 super-scale lives in the top nibbles of the four scale words
            sc = np.ascontiguousarray(blocks[:, 48:56]).view("<u2").copy()
            for j in range(4):
                sc[:, j] = (sc[:, j] & 0x0FFF) | (((h >> (4 * j)) & 0xF) << 12)
                if max_scales:
                    sc[:, j] |= 0x0FFF
            blocks[:, 48:56] = sc.view(np.uint8)
    return QuantizedMatrix(data, fmt, (m, k))


def random_activations(n, k, seed=1, scale=1.0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((n, k)) * scale).astype(np.float32)
