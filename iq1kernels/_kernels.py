"""Calls into the selected backend on checked arguments: quantizing activations, dequantizing and quantizing
weights, and the one matmul entry point. Bad input raises a clear exception and changes nothing the caller
owns (NaN / Inf weights are found by the C threads as they quantize into a fresh array, then dropped).

Weights come as their Format, GGUF bytes and (M, K), so that QuantizedMatrix (tensor.py) can use this module
without a cycle; iq1kernels.ops checks that the caller's weights are a QuantizedMatrix first.
"""

from __future__ import annotations

import math

import numpy as np

from . import _state
from ._arrays import as_activations, as_float32, c_array, check_no_overlap
from .activations import Q8K128
from .formats import Format

HALF_KINDS = {"float16": 0, "bfloat16": 1}  # the C kernels' iq1_half codes


# --- activations ------------------------------------------------------------------------------------
def quantize_activations(X, threads: int | None = None) -> Q8K128:
    """(N, K) or (K,) floats -> Q8K128 (K a multiple of 128)."""
    nthreads = _state.resolve_threads(threads)
    x = as_activations(X, "activations")
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError(f"activations must be (N, K) or (K,), got shape {x.shape}")
    return quantize_array(x, nthreads)


def quantize_array(x: np.ndarray, nthreads: int) -> Q8K128:
    """(N, K) float32 or float16 -> Q8K128."""
    x = c_array(x)
    if x.dtype == np.float16:
        return quantize_rows(x.view(np.uint16), nthreads, "float16")
    return quantize_rows(x, nthreads)


def quantize_rows(x: np.ndarray, nthreads: int, half: str | None = None) -> Q8K128:
    """C-contiguous (N, K) float32 rows, or with `half` the uint16 bits of "float16" / "bfloat16" rows
    (widened inside the kernels: bit-identical to converting to float32 first) -> Q8K128."""
    n, k = x.shape
    if k == 0 or k % 128:
        raise ValueError(f"activation length K={k} must be a positive multiple of 128")
    d = np.empty((n, k // 128), np.float32)
    bsums = np.empty((n, k // 32), np.int16)
    qs = np.empty((n, k), np.int8)
    b = _state.current_backend()
    if half is None:
        _state.run(nthreads, b.module.quantize_act, b.index, x, d, bsums, qs)
    else:
        _state.run(nthreads, b.module.quantize_act_half, b.index, HALF_KINDS[half], x, d, bsums, qs)
    return Q8K128._trusted(d, bsums, qs)


# --- weights ------------------------------------------------------------------------------------------
class NonFiniteWeightsError(ValueError):
    """Weights to quantize hold a NaN or Inf: `row` is the first such row, `count` how many rows do (-1 and 0 when
    re-raised with a caller's prefix, as type(exc)(message))."""

    def __init__(self, message: str, row: int = -1, count: int = 0):
        super().__init__(message)
        self.row, self.count = row, count

    def __reduce__(self):
        return type(self), (str(self), self.row, self.count)


def dequantize(fmt: Format, data: np.ndarray, m: int, k: int, threads: int | None = None) -> np.ndarray:
    """(M, K) float32 from the GGUF bytes of an (M, K) matrix."""
    nthreads = _state.resolve_threads(threads)
    out = np.empty((m, k), np.float32)
    b = _state.current_backend()
    _state.run(nthreads, b.module.dequantize, b.index, fmt.code, data, m, k, out)
    return out


def quantize(fmt: Format, W, imatrix=None, threads: int | None = None) -> tuple[np.ndarray, tuple[int, int]]:
    """float (M, K) -> (the GGUF bytes of `fmt`, (M, K)), with optional per-column importance `imatrix` (K,)."""
    nthreads = _state.resolve_threads(threads)
    w = as_float32(W, "weights")
    if w.ndim != 2:
        raise ValueError(f"weights to quantize must be 2-D (M, K), got shape {w.shape}")
    m, k = fmt.check_shape(w.shape)
    im = None
    if imatrix is not None:
        im = as_float32(imatrix, "imatrix")
        if im.shape != (k,):
            raise ValueError(f"imatrix must have shape ({k},) (one importance per column), got {im.shape}")
        if not np.isfinite(im).all():
            raise ValueError("imatrix contains NaN or Inf")
        if (im < 0).any():
            raise ValueError(f"imatrix entries must be >= 0 (entry {int(np.argmax(im < 0))} is negative)")
        im = c_array(im)
    out = np.empty(fmt.nbytes((m, k)), np.uint8)
    b = _state.current_backend()
    # NaN / Inf rows are found by the C threads next to the quantizer: a serial scan here cost ~2 % of the
    # 2-thread scaling
    first, count = _state.run(nthreads, b.module.quantize, b.index, fmt.code, c_array(w), im, out)
    if count:
        raise NonFiniteWeightsError(
            f"weights contain NaN or Inf in row {first}" + (f" (and {count - 1} more rows)" if count > 1 else ""),
            first,
            count,
        )
    return out, (m, k)


# --- the one matmul entry point -------------------------------------------------------------------
def linear(
    X, fmt: Format, data: np.ndarray, m: int, k: int, out: np.ndarray | None = None, threads: int | None = None
) -> np.ndarray:
    """X @ W.T for the (M, K) weights in `data`: X (..., K) floats or Q8K128 (N, K) -> (..., M) float32.
    float16 X is widened inside the kernels (no float32 copy); other dtypes are converted to float32."""
    nthreads = _state.resolve_threads(threads)
    if isinstance(X, Q8K128):
        if X.shape[1] != k:
            raise ValueError(f"activations have K={X.shape[1]}, weights have K={k}")
        lead, xq = (X.shape[0],), X
    else:
        xa = np.asarray(X)  # what the caller passed, before any conversion copy (for the out check)
        x = as_activations(xa, "activations")
        if x.ndim == 0 or x.shape[-1] != k:
            raise ValueError(
                f"activations of shape {x.shape} do not match weights of shape {(m, k)}: "
                f"the last dimension must be K={k}"
            )
        lead = x.shape[:-1]
        xq = None
    n = math.prod(lead)  # a tuple of ints (np.prod costs ~10 us a call)
    out_shape = lead + (m,)
    if out is not None:
        flags = out.flags if isinstance(out, np.ndarray) else None
        if (
            flags is None
            or out.dtype != np.float32
            or out.shape != out_shape
            or not flags.c_contiguous
            or not flags.aligned
            or not flags.writeable
        ):
            raise ValueError(f"out must be a writeable, aligned, C-contiguous float32 array of shape {out_shape}")
        check_no_overlap(out, "the weights (W.data)", data)
        if xq is None:
            check_no_overlap(out, "the activations", xa)
        else:
            for plane in (xq.d, xq.bsums, xq.qs):
                check_no_overlap(out, "the activations (a Q8K128 plane)", plane)
    if n == 0:
        return out if out is not None else np.zeros(out_shape, np.float32)
    if xq is None:
        xq = quantize_array(x.reshape(n, k), nthreads)
    result = out if out is not None else np.empty(out_shape, np.float32)
    b = _state.current_backend()
    _state.run(
        nthreads,
        b.module.matmul,
        b.index,
        fmt.code,
        data,
        m,
        k,
        c_array(xq.d),
        c_array(xq.bsums),
        c_array(xq.qs),
        result.reshape(n, m),
    )
    return result


def matmul(fmt: Format, data: np.ndarray, m: int, k: int, x, threads: int | None = None) -> np.ndarray:
    """W @ x with numpy semantics: (K,) -> (M,); (K, N) -> (M, N); (..., K, N) -> (..., M, N)."""
    xa = as_float32(x, "right operand")
    if xa.ndim == 0:
        raise ValueError("matmul: the right operand must not be a scalar")
    if xa.ndim == 1:
        if xa.shape[0] != k:
            raise ValueError(f"matmul: shapes {(m, k)} and {xa.shape} do not align (K={k})")
        return linear(xa, fmt, data, m, k, threads=threads)
    if xa.shape[-2] != k:
        raise ValueError(f"matmul: shapes {(m, k)} and {xa.shape} do not align (K={k})")
    y = linear(np.swapaxes(xa, -1, -2), fmt, data, m, k, threads=threads)  # (..., N, M)
    return np.ascontiguousarray(np.swapaxes(y, -1, -2))
