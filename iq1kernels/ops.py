"""Argument checking and calls into the selected backend (DESIGN.md rule 6: bad input raises a clear
exception before anything is written)."""

from __future__ import annotations

import math

import numpy as np

from . import _state
from .formats import get_format
from .tensor import Q8K128, QuantizedMatrix, _c_array

# the run-time state lives in _state; these names are part of ops' interface
current_backend = _state.current_backend
use_backend = _state.use_backend
set_num_threads = _state.set_num_threads
get_num_threads = _state.get_num_threads
_threads = _state.resolve_threads
_run = _state.run


# --- conversions -------------------------------------------------------------------------------------
_FLOAT32 = np.dtype(np.float32)


def _float32(x, what: str) -> np.ndarray:
    """Any real numeric array-like -> float32 ndarray (no copy when already float32). A finite value
    that float32 cannot hold (float64 1e39) is an error, not an Inf that NaN/Inf rules would then hide."""
    arr = np.asarray(x)
    dtype = arr.dtype
    if dtype is _FLOAT32:  # the common case, without the conversion machinery
        return arr
    if dtype.kind not in "biuf":  # object, complex, str, datetime, void ...
        raise TypeError(f"{what} must be a real numeric array, got dtype {dtype}")
    if dtype.kind != "f" or dtype.itemsize <= 4:
        return arr.astype(np.float32, copy=False)  # other float32 layouts, float16, integers: in range
    with np.errstate(over="ignore"):
        out = arr.astype(np.float32)
    overflow = np.isinf(out)
    if overflow.any():
        overflow &= np.isfinite(arr)
        if overflow.any():
            _raise_out_of_range(arr, int(np.argmax(overflow)), what)
    return out


def _raise_out_of_range(arr: np.ndarray, flat_index: int, what: str):
    index = tuple(int(i) for i in np.unravel_index(flat_index, arr.shape))
    if arr.ndim == 2:
        where = f"row {index[0]}, column {index[1]}"
    else:
        where = f"index {index[0] if arr.ndim == 1 else index}"
    raise ValueError(
        f"{what} value {float(arr[index]):g} at {where} is out of float32 range "
        "(the largest finite float32 is 3.4028235e+38)"
    )


def _activations(X, what: str) -> np.ndarray:
    """float16 arrays as they are (the kernels widen them exactly, no float32 copy); the rest -> float32."""
    if isinstance(X, np.ndarray) and X.dtype == np.float16:
        return X
    return _float32(X, what)


def _check_matrix(W) -> QuantizedMatrix:
    if not isinstance(W, QuantizedMatrix):
        raise TypeError(f"weights must be an iq1kernels.QuantizedMatrix, got {type(W).__name__}")
    if len(W.shape) != 2:
        raise ValueError(
            f"weights of shape {W.shape} are a stack of {W.shape[0]} experts: pass one (M, K) expert matrix, W[e]"
        )
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
    return (
        _quantize_rows(x.view(np.uint16), nthreads, "float16") if x.dtype == np.float16 else _quantize_rows(x, nthreads)
    )


HALF_KINDS = {"float16": 0, "bfloat16": 1}  # the C kernels' iq1_half codes


def _quantize_rows(x: np.ndarray, nthreads: int, half: str | None = None) -> Q8K128:
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
        _run(nthreads, b.module.quantize_act, b.index, x, d, bsums, qs)
    else:
        _run(nthreads, b.module.quantize_act_half, b.index, HALF_KINDS[half], x, d, bsums, qs)
    return Q8K128._trusted(d, bsums, qs)


# --- weights ------------------------------------------------------------------------------------------
def dequantize(W: QuantizedMatrix, threads=None) -> np.ndarray:
    W = _check_matrix(W)
    nthreads = _threads(threads)
    m, k = W.shape
    out = np.empty((m, k), np.float32)
    b = current_backend()
    _run(nthreads, b.module.dequantize, b.index, W.format.code, W.data, m, k, out)
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
        raise ValueError(
            f"weights contain NaN or Inf in row {bad[0]}" + (f" (and {bad.size - 1} more rows)" if bad.size > 1 else "")
        )
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
    _run(nthreads, b.module.quantize, b.index, fmt.code, _c_array(w), im, out)
    return QuantizedMatrix(out, fmt, (m, k))


_OVERLAP_WORK = 100_000  # bounds the exact overlap search
_TooHardError = getattr(np, "exceptions", np).TooHardError  # numpy >= 1.25 / older


def _check_no_overlap(out: np.ndarray, what: str, arr: np.ndarray) -> None:
    """out is written while the kernel reads the inputs: refuse any shared byte. The bounds test is
    cheap; the exact one runs only when the bounds meet (views of one buffer that interleave are fine)."""
    if not np.may_share_memory(out, arr):
        return
    try:
        shared = np.shares_memory(out, arr, max_work=_OVERLAP_WORK)  # type: ignore[arg-type]  # stubs: -1 / 0 only
    except _TooHardError:
        raise ValueError(
            f"out must not overlap {what} (their strides are too intricate to rule it out; pass a separate out)"
        ) from None
    if shared:
        raise ValueError(f"out must not overlap {what}")


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
        xa = np.asarray(X)  # what the caller passed, before any conversion copy (for the out check)
        x = _activations(xa, "activations")
        if x.ndim == 0 or x.shape[-1] != k:
            raise ValueError(
                f"activations of shape {x.shape} do not match weights of shape {W.shape}: "
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
        _check_no_overlap(out, "the weights (W.data)", W.data)
        if xq is None:
            _check_no_overlap(out, "the activations", xa)
        else:
            for plane in (xq.d, xq.bsums, xq.qs):
                _check_no_overlap(out, "the activations (a Q8K128 plane)", plane)
    if n == 0:
        return out if out is not None else np.zeros(out_shape, np.float32)
    if xq is None:
        xq = _quantize_array(x.reshape(n, k), nthreads)
    result = out if out is not None else np.empty(out_shape, np.float32)
    b = current_backend()
    _run(
        nthreads,
        b.module.matmul,
        b.index,
        W.format.code,
        W.data,
        m,
        k,
        _c_array(xq.d),
        _c_array(xq.bsums),
        _c_array(xq.qs),
        result.reshape(n, m),
    )
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
    y = linear(np.swapaxes(xa, -1, -2), W, threads=threads)  # (..., N, M)
    return np.ascontiguousarray(np.swapaxes(y, -1, -2))
