"""The public operations: iq1kernels.quantize, quantize_activations, dequantize, linear and matmul. They check
that weights are an (M, K) QuantizedMatrix and run the kernels (_kernels.py); bad input raises a clear
exception before anything is written."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from . import _kernels
from .activations import Q8K128
from .formats import QType, get_format
from .tensor import QuantizedMatrix


def _check_matrix(W: object) -> QuantizedMatrix:
    if not isinstance(W, QuantizedMatrix):
        raise TypeError(f"weights must be an iq1kernels.QuantizedMatrix, got {type(W).__name__}")
    W.require_2d()
    return W


def quantize_activations(X: ArrayLike, threads: int | None = None) -> Q8K128:
    """(N, K) or (K,) floats -> Q8K128 (K a multiple of 128)."""
    return _kernels.quantize_activations(X, threads)


def dequantize(W: QuantizedMatrix, threads: int | None = None) -> np.ndarray:
    """(M, K) float32, bit-identical to the GGUF reference dequantizer."""
    W = _check_matrix(W)
    m, k = W.shape
    return _kernels.dequantize(W.format, W.data, m, k, threads)


def quantize(
    W: ArrayLike, qtype: QType, imatrix: ArrayLike | None = None, threads: int | None = None
) -> QuantizedMatrix:
    """float (M, K) -> QuantizedMatrix of `qtype`, with optional per-column importance `imatrix` (K,)."""
    fmt = get_format(qtype)
    data, shape = _kernels.quantize(fmt, W, imatrix, threads)
    return QuantizedMatrix(data, fmt, shape)


def linear(
    X: ArrayLike | Q8K128, W: QuantizedMatrix, out: np.ndarray | None = None, threads: int | None = None
) -> np.ndarray:
    """X @ W.T like torch.nn.functional.linear: X (..., K) floats or Q8K128 (N, K) -> (..., M) float32.
    float16 X is widened inside the kernels (no float32 copy); other dtypes are converted to float32."""
    W = _check_matrix(W)
    m, k = W.shape
    return _kernels.linear(X, W.format, W.data, m, k, out, threads)


def matmul(W: QuantizedMatrix, x: ArrayLike, threads: int | None = None) -> np.ndarray:
    """W @ x with numpy semantics: (K,) -> (M,); (K, N) -> (M, N); (..., K, N) -> (..., M, N)."""
    W = _check_matrix(W)
    m, k = W.shape
    return _kernels.matmul(W.format, W.data, m, k, x, threads)
