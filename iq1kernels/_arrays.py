"""Arrays as the C kernels take them: C-contiguous and aligned, float32 without a silent overflow to Inf, and
outputs that share no byte with the inputs the kernel reads."""

from __future__ import annotations

import numpy as np


def c_array(a: np.ndarray) -> np.ndarray:
    """C-contiguous and aligned to its dtype (a copy only when not): the C code dereferences float /
    int16 pointers directly, and a misaligned one is undefined behaviour there."""
    flags = a.flags
    if flags.c_contiguous and flags.aligned:  # the common case: np.require costs ~3 us a call
        return a
    return np.require(a, requirements=("C", "A"))


_FLOAT32 = np.dtype(np.float32)


def as_float32(x, what: str) -> np.ndarray:
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


def as_activations(X, what: str) -> np.ndarray:
    """float16 arrays as they are (the kernels widen them exactly, no float32 copy); the rest -> float32."""
    if isinstance(X, np.ndarray) and X.dtype == np.float16:
        return X
    return as_float32(X, what)


_OVERLAP_WORK = 100_000  # bounds the exact overlap search
_TooHardError = getattr(np, "exceptions", np).TooHardError  # numpy >= 1.25 / older


def check_no_overlap(out: np.ndarray, what: str, arr: np.ndarray) -> None:
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
