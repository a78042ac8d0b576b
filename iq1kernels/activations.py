"""Q8K128: activations quantized to 8 bits, the form the IQ1 GEMM / GEMV kernels multiply with."""

from __future__ import annotations

import numpy as np

from ._arrays import c_array


class Q8K128:
    """Activations quantized to Q8_K128: per row of K values, an fp32 scale per 128 values (`d`),
    int8 quants in [-127, 127] (`qs`) and unscaled int16 sums per 32 values (`bsums`)."""

    def __init__(self, d: np.ndarray, bsums: np.ndarray, qs: np.ndarray):
        if not (isinstance(d, np.ndarray) and isinstance(bsums, np.ndarray) and isinstance(qs, np.ndarray)):
            raise TypeError("Q8K128 planes must be numpy arrays")
        if qs.ndim != 2 or qs.dtype != np.int8:
            raise ValueError("qs must be a 2-D int8 array (N, K)")
        n, k = qs.shape
        if k == 0 or k % 128:
            raise ValueError(f"K must be a positive multiple of 128, got {k}")
        if d.dtype != np.float32 or d.shape != (n, k // 128):
            raise ValueError(f"d must be float32 of shape {(n, k // 128)}")
        if bsums.dtype != np.int16 or bsums.shape != (n, k // 32):
            raise ValueError(f"bsums must be int16 of shape {(n, k // 32)}")
        if np.any(qs == -128):
            raise ValueError("Q8_K128 quants must lie in [-127, 127]")
        if not np.array_equal(qs.reshape(n, k // 32, 32).sum(axis=2, dtype=np.int32), bsums):
            raise ValueError("bsums must be the sums of qs over each 32 values")
        self._set(d, bsums, qs)

    def _set(self, d, bsums, qs):
        self.d, self.bsums, self.qs = c_array(d), c_array(bsums), c_array(qs)

    @classmethod
    def _trusted(cls, d, bsums, qs) -> Q8K128:
        """Wrap planes made by our own quantizer (skips the O(N K) consistency checks)."""
        obj = cls.__new__(cls)
        obj._set(d, bsums, qs)
        return obj

    @property
    def shape(self) -> tuple:
        return self.qs.shape

    @property
    def nbytes(self) -> int:
        return self.d.nbytes + self.bsums.nbytes + self.qs.nbytes

    def dequantize(self) -> np.ndarray:
        n, k = self.qs.shape
        return (self.qs.reshape(n, k // 128, 128).astype(np.float32) * self.d[:, :, None]).reshape(n, k)

    def __repr__(self):
        return f"Q8K128(shape={self.shape})"
