"""Argument checking and calls into the selected backend (DESIGN.md rule 6: bad input raises a clear
exception before anything is written)."""
from __future__ import annotations

import math
import numbers
import os
import threading

import numpy as np

from . import _dispatch
from .formats import get_format
from .tensor import Q8K128, QuantizedMatrix, _c_array

_state_lock = threading.Lock()
_backend = None
_num_threads = None


# --- backend and threads ----------------------------------------------------------------------------
def current_backend() -> _dispatch.Backend:
    global _backend
    if _backend is None:
        with _state_lock:
            if _backend is None:
                _backend = _dispatch.resolve(os.environ.get("IQ1KERNELS_BACKEND") or None)
    return _backend


def use_backend(name: str) -> str:
    """Switch kernels at run time; same checks as IQ1KERNELS_BACKEND. Returns the previous name."""
    global _backend
    new = _dispatch.resolve(name)
    with _state_lock:
        old = _backend.name if _backend is not None else None
        _backend = new
    return old


def _default_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _check_threads(threads, what="threads") -> int:
    if type(threads) is int and 1 <= threads <= 1024:   # the common case, without the ABC check
        return threads
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral):
        raise TypeError(f"{what} must be an integer >= 1, got {threads!r}")
    if threads < 1:
        raise ValueError(f"{what} must be >= 1, got {threads}")
    return int(min(threads, 1024))


def set_num_threads(n: int) -> None:
    global _num_threads
    _num_threads = _check_threads(n, "number of threads")


def get_num_threads() -> int:
    return _num_threads if _num_threads is not None else _default_threads()


def _threads(threads) -> int:
    return get_num_threads() if threads is None else _check_threads(threads)


# --- conversions -------------------------------------------------------------------------------------
def _float32(x, what: str) -> np.ndarray:
    """Any real numeric array-like -> float32 ndarray (no copy when already float32)."""
    arr = np.asarray(x)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(f"{what} must be a real numeric array, got dtype {arr.dtype}")
    return arr.astype(np.float32, copy=False)


def _activations(X, what: str) -> np.ndarray:
    """float16 arrays as they are (the kernels widen them exactly, no float32 copy); the rest -> float32."""
    if isinstance(X, np.ndarray) and X.dtype == np.float16:
        return X
    return _float32(X, what)


def _check_matrix(W) -> QuantizedMatrix:
    if not isinstance(W, QuantizedMatrix):
        raise TypeError(f"weights must be an iq1kernels.QuantizedMatrix, got {type(W).__name__}")
    return W


# --- activations ------------------------------------------------------------------------------------
def quantize_activations(X, threads=None) -> Q8K128:
    """(N, K) or (K,) floats -> Q8K128 (K a multiple of 128)."""
    nthreads = _threads(threads)
    x = _activations(X, "activations")
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError(f"activations must be (N, K) or (K,), got shape {x.shape}")
    return _quantize_array(x, nthreads)


def _quantize_array(x: np.ndarray, nthreads: int) -> Q8K128:
    """(N, K) float32 or float16 -> Q8K128."""
    x = _c_array(x)
    return _quantize_rows(x.view(np.uint16), nthreads, "float16") if x.dtype == np.float16 \
        else _quantize_rows(x, nthreads)


HALF_KINDS = {"float16": 0, "bfloat16": 1}   # the C kernels' iq1_half codes


def _quantize_rows(x: np.ndarray, nthreads: int, half: str = None) -> Q8K128:
    """C-contiguous (N, K) float32 rows, or with `half` the uint16 bits of "float16" / "bfloat16" rows
    (widened inside the kernels: bit-identical to converting to float32 first) -> Q8K128."""
    n, k = x.shape
    if k == 0 or k % 128:
        raise ValueError(f"activation length K={k} must be a positive multiple of 128")
    d = np.empty((n, k // 128), np.float32)
    bsums = np.empty((n, k // 32), np.int16)
    qs = np.empty((n, k), np.int8)
    b = current_backend()
    if half is None:
        b.module.quantize_act(b.index, x, d, bsums, qs, nthreads)
    else:
        b.module.quantize_act_half(b.index, HALF_KINDS[half], x, d, bsums, qs, nthreads)
    return Q8K128._trusted(d, bsums, qs)


# --- weights ------------------------------------------------------------------------------------------
def dequantize(W: QuantizedMatrix, threads=None) -> np.ndarray:
    W = _check_matrix(W)
    nthreads = _threads(threads)
    m, k = W.shape
    out = np.empty((m, k), np.float32)
    b = current_backend()
    b.module.dequantize(b.index, W.format.code, W.data, m, k, out, nthreads)
    return out


def quantize(W, qtype, imatrix=None, threads=None) -> QuantizedMatrix:
    """float (M, K) -> QuantizedMatrix of `qtype`, with optional per-column importance `imatrix` (K,)."""
    fmt = get_format(qtype)
    nthreads = _threads(threads)
    w = _float32(W, "weights")
    if w.ndim != 2:
        raise ValueError(f"weights to quantize must be 2-D (M, K), got shape {w.shape}")
    m, k = fmt.check_shape(w.shape)
    finite_rows = np.isfinite(w).all(axis=1)
    if not finite_rows.all():
        bad = np.flatnonzero(~finite_rows)
        raise ValueError(f"weights contain NaN or Inf in row {bad[0]}"
                         + (f" (and {bad.size - 1} more rows)" if bad.size > 1 else ""))
    im = None
    if imatrix is not None:
        im = _float32(imatrix, "imatrix")
        if im.shape != (k,):
            raise ValueError(f"imatrix must have shape ({k},) (one importance per column), got {im.shape}")
        if not np.isfinite(im).all():
            raise ValueError("imatrix contains NaN or Inf")
        if (im < 0).any():
            raise ValueError(f"imatrix entries must be >= 0 (entry {int(np.argmax(im < 0))} is negative)")
        im = _c_array(im)
    out = np.empty(fmt.nbytes((m, k)), np.uint8)
    b = current_backend()
    b.module.quantize(b.index, fmt.code, _c_array(w), im, out, nthreads)
    return QuantizedMatrix(out, fmt, (m, k))


# --- the one matmul entry point -------------------------------------------------------------------
def linear(X, W: QuantizedMatrix, out=None, threads=None) -> np.ndarray:
    """X @ W.T like torch.nn.functional.linear: X (..., K) floats or Q8K128 (N, K) -> (..., M) float32.
    float16 X is widened inside the kernels (no float32 copy); other dtypes are converted to float32."""
    W = _check_matrix(W)
    nthreads = _threads(threads)
    m, k = W.shape
    if isinstance(X, Q8K128):
        if X.shape[1] != k:
            raise ValueError(f"activations have K={X.shape[1]}, weights have K={k}")
        lead, xq = (X.shape[0],), X
    else:
        x = _activations(X, "activations")
        if x.ndim == 0 or x.shape[-1] != k:
            raise ValueError(f"activations of shape {x.shape} do not match weights of shape {W.shape}: "
                             f"the last dimension must be K={k}")
        lead = x.shape[:-1]
        xq = None
    n = math.prod(lead)   # a tuple of ints (np.prod costs ~10 us a call)
    out_shape = lead + (m,)
    if out is not None:
        flags = out.flags if isinstance(out, np.ndarray) else None
        if flags is None or out.dtype != np.float32 or out.shape != out_shape \
                or not flags.c_contiguous or not flags.aligned or not flags.writeable:
            raise ValueError(f"out must be a writeable, aligned, C-contiguous float32 array of shape {out_shape}")
        if np.may_share_memory(out, x) if xq is None else \
                any(np.may_share_memory(out, p) for p in (xq.d, xq.bsums, xq.qs)):
            raise ValueError("out must not overlap the activations")
    if n == 0:
        return out if out is not None else np.zeros(out_shape, np.float32)
    if xq is None:
        xq = _quantize_array(x.reshape(n, k), nthreads)
    result = out if out is not None else np.empty(out_shape, np.float32)
    b = current_backend()
    b.module.matmul(b.index, W.format.code, W.data, m, k, _c_array(xq.d), _c_array(xq.bsums), _c_array(xq.qs),
                    result.reshape(n, m), nthreads)
    return result


def matmul(W: QuantizedMatrix, x, threads=None) -> np.ndarray:
    """W @ x with numpy semantics: (K,) -> (M,); (K, N) -> (M, N); (..., K, N) -> (..., M, N)."""
    W = _check_matrix(W)
    xa = _float32(x, "right operand")
    m, k = W.shape
    if xa.ndim == 0:
        raise ValueError("matmul: the right operand must not be a scalar")
    if xa.ndim == 1:
        if xa.shape[0] != k:
            raise ValueError(f"matmul: shapes {W.shape} and {xa.shape} do not align (K={k})")
        return linear(xa, W, threads=threads)
    if xa.shape[-2] != k:
        raise ValueError(f"matmul: shapes {W.shape} and {xa.shape} do not align (K={k})")
    y = linear(np.swapaxes(xa, -1, -2), W, threads=threads)      # (..., N, M)
    return np.ascontiguousarray(np.swapaxes(y, -1, -2))
