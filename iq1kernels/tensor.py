"""QuantizedMatrix: IQ1 weights in their exact GGUF bytes (Q8K128, the quantized activations, is in
activations.py and importable from here too)."""

from __future__ import annotations

import mmap
from typing import Union

import numpy as np
from numpy.typing import ArrayLike

from . import _kernels
from .activations import Q8K128
from .formats import Format, QType, get_format

__all__ = ["QuantizedMatrix", "Q8K128"]

# what QuantizedMatrix.from_bytes reads GGUF bytes from
Buffer = Union[bytes, bytearray, memoryview, mmap.mmap, np.ndarray]


class QuantizedMatrix:
    """An (M, K) weight matrix in one of the IQ1 formats, stored as its exact GGUF bytes — or a stack of
    E such matrices, shape (E, M, K): the 3-D expert tensors of MoE GGUFs (ggml ne = (K, M, E)).

    >>> import numpy as np, iq1kernels as iq1
    >>> W = np.random.default_rng(0).standard_normal((256, 512)).astype(np.float32)
    >>> Wq = iq1.quantize(W, "iq1_s")
    >>> Wq.shape, Wq.nbytes, Wq.bpw
    ((256, 512), 25600, 1.5625)
    >>> y = Wq @ np.ones(512, np.float32)          # (256,)

    Indexing gives zero-copy views of the same bytes: `E3[e]` is expert e as an (M, K) matrix, `E3[e, r0:r1]`
    and `W[r0:r1]` are row ranges (for the R4 types both ends must be multiples of 4 rows, the
    interleaving unit). `linear` / `@` take (M, K) matrices only: run experts one at a time with `E3[e]`.
    """

    __array_ufunc__ = None  # make numpy defer `x @ Wq` to __rmatmul__ (which explains what to do)

    def __init__(self, data: np.ndarray, qtype: QType, shape: tuple[int, ...]) -> None:
        fmt = get_format(qtype)
        shape = fmt.check_shape(shape)
        if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 1 or not data.flags.c_contiguous:
            raise TypeError("data must be a C-contiguous 1-D uint8 array (use QuantizedMatrix.from_bytes)")
        if data.size != fmt.nbytes(shape):
            raise ValueError(f"{fmt.name} of shape {shape} needs {fmt.nbytes(shape)} bytes, got {data.size}")
        self._data, self._format, self._shape = data, fmt, shape

    @classmethod
    def from_bytes(cls, buf: Buffer, qtype: QType, shape: tuple[int, ...]) -> QuantizedMatrix:
        """Wrap GGUF bytes (bytes, bytearray, memoryview, mmap, ndarray) as an (M, K) matrix or an (E, M, K)
        stack; zero-copy when contiguous. Dimensions must be integers (numpy integers too)."""
        fmt = get_format(qtype)
        shape = fmt.check_shape(shape)
        if isinstance(buf, np.ndarray):
            arr = buf if buf.flags.c_contiguous else np.ascontiguousarray(buf)
            if arr.dtype == object or arr.dtype.kind not in "biufcV":
                raise TypeError(f"cannot read IQ1 bytes from an array of dtype {arr.dtype}")
            arr = arr.reshape(-1).view(np.uint8)
        else:
            try:
                arr = np.frombuffer(buf, dtype=np.uint8)
            except (TypeError, ValueError, BufferError) as exc:
                raise TypeError(
                    f"cannot read IQ1 bytes from {type(buf).__name__} (it must be a contiguous buffer: {exc})"
                ) from None
        need = fmt.nbytes(shape)
        if arr.size != need:
            raise ValueError(f"buffer has {arr.size} bytes, but {fmt.name} of shape {shape} needs exactly {need}")
        return cls(arr, fmt, shape)

    # --- properties -------------------------------------------------------------------------------
    @property
    def qtype(self) -> str:
        return self._format.name

    @property
    def format(self) -> Format:
        return self._format

    @property
    def shape(self) -> tuple:
        return self._shape

    @property
    def ndim(self) -> int:
        return len(self._shape)

    @property
    def data(self) -> np.ndarray:
        """The exact GGUF bytes (a view, not a copy)."""
        return self._data

    @property
    def nbytes(self) -> int:
        return int(self._data.size)

    @property
    def bpw(self) -> float:
        return self._format.bpw(self._shape)

    def __repr__(self):
        return f"QuantizedMatrix({self.qtype}, shape={self._shape}, {self.nbytes} bytes, {self.bpw:.4g} bpw)"

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "a QuantizedMatrix is not an array: use .dequantize() for float32 values or .data for its bytes"
        )

    # --- views -------------------------------------------------------------------------------------
    def __getitem__(self, key):
        """W3[e] -> expert e (M, K); W3[e, r0:r1] and W[r0:r1] -> rows r0..r1 (zero-copy views)."""
        if not isinstance(key, tuple):
            key = (key,)
        if self.ndim == 3:
            if not 1 <= len(key) <= 2:
                raise IndexError(f"index an (E, M, K) stack as W[e] or W[e, r0:r1], got {key!r}")
            e = _index(key[0], self._shape[0], "expert")
            per = self._format.nbytes(self._shape[1:])
            expert = QuantizedMatrix(self._data[e * per : (e + 1) * per], self._format, self._shape[1:])
            return expert[key[1]] if len(key) == 2 else expert
        if len(key) != 1 or not isinstance(key[0], slice):
            raise IndexError(f"index an (M, K) matrix by a row range W[r0:r1], got {key!r}")
        m, k = self._shape
        r0, r1, step = key[0].indices(m)
        rows = self._format.rows_multiple
        if step != 1 or r1 <= r0:
            raise IndexError(f"row range {key[0]} of {m} rows must be non-empty with step 1")
        if r0 % rows or r1 % rows:
            raise IndexError(
                f"{self.qtype} interleaves groups of {rows} rows: a row range must start and end "
                f"at multiples of {rows}, got {r0}:{r1}"
            )
        per_group = self._format.nbytes((rows, k))
        data = self._data[r0 // rows * per_group : r1 // rows * per_group]
        return QuantizedMatrix(data, self._format, (r1 - r0, k))

    def _as_2d(self) -> QuantizedMatrix:
        """The same bytes as one (E * M, K) matrix (the experts' rows stacked)."""
        if self.ndim == 2:
            return self
        e, m, k = self._shape
        return QuantizedMatrix(self._data, self._format, (e * m, k))

    # --- operations -------------------------------------------------------------------------------
    def require_2d(self) -> None:
        """Raise the ValueError that an (E, M, K) stack gets where one (M, K) matrix is needed."""
        if len(self._shape) != 2:
            raise ValueError(
                f"weights of shape {self._shape} are a stack of {self._shape[0]} experts: pass one (M, K) "
                "expert matrix, W[e]"
            )

    def dequantize(self, threads: int | None = None) -> np.ndarray:
        """(M, K) — or (E, M, K) — float32, bit-identical to the GGUF reference dequantizer."""
        m, k = self._as_2d().shape
        return _kernels.dequantize(self._format, self._data, m, k, threads).reshape(self._shape)

    def __matmul__(self, x: ArrayLike) -> np.ndarray:
        self.require_2d()
        m, k = self._shape
        return _kernels.matmul(self._format, self._data, m, k, x)

    def __rmatmul__(self, x):
        raise TypeError("x @ QuantizedMatrix is not supported: use iq1kernels.linear(x, W) for x @ W.T, or W @ x")


def _index(i, n, what) -> int:
    if isinstance(i, bool) or not hasattr(type(i), "__index__"):
        raise IndexError(f"{what} index must be an integer, got {i!r}")
    i = int(i.__index__())
    if not -n <= i < n:
        raise IndexError(f"{what} index {i} is out of range for {n} {what}s")
    return i % n
