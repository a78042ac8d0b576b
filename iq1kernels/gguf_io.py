"""GGUF files in and out, faithfully: every tensor of any ggml type and every metadata key with its type.

    tensors = load_gguf("model-00001-of-00003.gguf")              # lazy: nothing is read or dequantized
    tensors, meta = load_gguf(path, names="blk.*.ffn_*_exps.weight", with_metadata=True)
    save_gguf("out.gguf", tensors, meta)                          # byte-identical tensors, same key types

`load_gguf(path, names=None, with_metadata=False, copy=False)` returns {name: tensor} in file order:
* IQ1_S / IQ1_M / IQ1_S_R4 / IQ1_M_R4 tensors -> QuantizedMatrix, zero-copy over the memory map:
  (M, K) for 2-D tensors (ggml ne = (K, M)), (E, M, K) for 3-D expert tensors (ne = (K, M, E)), whose
  `W[e]` / `W[e, r0:r1]` are zero-copy (M, K) views for `linear`. An IQ1 tensor whose shape our kernels do
  not take (4-D, or an R4 tensor with K not a multiple of 128) is a GGUFTensor.
* every other tensor -> GGUFTensor: its raw bytes (`data`, read-only uint8), ggml type id and name, `ne`,
  `shape`; `dequantize()` -> float32 on request (F32/F16/BF16/F64/I8-I64 here, other quantized types
  through the `gguf` package), `np.asarray(t)` works (F32/F16/F64/integer types as they are stored,
  zero-copy; BF16 and quantized types dequantized to float32).
* `names=`: None (all), a name or glob pattern ("blk.*.attn_*"), a list of names / patterns (a plain name
  that is not in the file is a GGUFError), or a predicate `f(name) -> bool`.
* `with_metadata=True` -> (tensors, GGUFMetadata); split files are read from their first shard
  (see gguf_reader).
* `copy=True` reads the selected tensors into memory instead of mapping the file. A mapped file that
  another program truncates while mapped kills this process with SIGBUS on the next access to the lost
  pages (numpy.memmap does the same); copy=True is for files that may change under you.

`save_gguf(path, tensors, metadata=None, alignment=None, split_max_size=None)` writes atomically through
GGUFFileWriter (gguf_writer), one tensor at a time:
* QuantizedMatrix -> its IQ1 type, ne = (K, M) or (K, M, E); GGUFTensor -> its type, ne and exact bytes;
* numpy arrays (and array-likes): float32 -> F32, float16 -> F16, float64 -> F64, int8 / int16 / int32 /
  int64 -> I8 / I16 / I32 / I64, stored as they are (never widened or narrowed; big-endian input is
  byte-swapped to GGUF's little-endian). Other dtypes (unsigned, bool, complex, strings, objects) are a
  GGUFError: convert them first. A 0-d array is stored as one element, ne = (1,); at most 4 dimensions.
* `metadata`: dict of plain values / GGUFValues, or a GGUFMetadata (types kept); `split_max_size`
  ("2G", bytes) writes `<stem>-0000i-of-0000N.gguf` shards.

Errors: GGUFError (a ValueError) for anything wrong with a file, a tensor or a value; TypeError for
arguments of the wrong kind; OSError subclasses for paths (FileNotFoundError, PermissionError,
IsADirectoryError, iq1kernels._output.OutputFileError for a device / FIFO output).
"""

from __future__ import annotations

import fnmatch

import numpy as np

from .formats import BY_GGML_ID
from .gguf_metadata import GGUFMetadata, GGUFValue, GGUFValueType, as_metadata
from .gguf_reader import GGUFFile, TensorInfo, read_gguf
from .gguf_types import DEFAULT_ALIGNMENT, MAX_DIMS, GGUFError, TypedDims, check_ne, tensor_nbytes, type_id, type_name
from .gguf_writer import GGUFFileWriter, parse_size
from .tensor import QuantizedMatrix

# ggml types numpy holds as they are
NATIVE_DTYPES: dict[int, np.dtype] = {
    0: np.dtype("<f4"),
    1: np.dtype("<f2"),
    28: np.dtype("<f8"),
    24: np.dtype("i1"),
    25: np.dtype("<i2"),
    26: np.dtype("<i4"),
    27: np.dtype("<i8"),
}
_FROM_DTYPE = {np.dtype(v).newbyteorder("<"): k for k, v in NATIVE_DTYPES.items()}
BF16 = 30


class GGUFTensor(TypedDims):
    """A tensor kept as its raw GGUF bytes: any ggml type, known here or not, written back byte-identical."""

    __slots__ = ("name", "ggml_type", "ne", "data", "size_known")

    def __init__(self, ggml_type, ne, data, name=None, size_known=True):
        self.ggml_type = type_id(ggml_type)
        self.ne = check_ne(ne, f"tensor {name}" if name else "tensor")
        arr = np.frombuffer(data, np.uint8) if not isinstance(data, np.ndarray) else data
        if arr.dtype != np.uint8 or arr.ndim != 1:
            raise TypeError("GGUFTensor data must be 1-D uint8 bytes")
        expected = tensor_nbytes(self.ggml_type, self.ne, f"tensor {name}")
        if expected is not None and arr.size != expected:
            raise GGUFError(
                f"tensor {name}: {type_name(self.ggml_type)} with ne = {list(self.ne)} is "
                f"{expected} bytes, got {arr.size}"
            )
        self.name, self.data = name, arr
        self.size_known = size_known and expected is not None

    @property
    def nbytes(self) -> int:
        return int(self.data.size)

    @property
    def dtype(self) -> np.dtype:
        """What np.asarray(t) gives: the stored dtype for F32/F16/F64/integer types, else float32."""
        return NATIVE_DTYPES.get(self.ggml_type, np.dtype(np.float32))

    def dequantize(self) -> np.ndarray:
        """float32 values of `shape` (a new array)."""
        t = self.ggml_type
        if t in NATIVE_DTYPES:
            return self.data.view(NATIVE_DTYPES[t]).reshape(self.shape).astype(np.float32)
        if t == BF16:
            return (self.data.view("<u2").astype(np.uint32) << 16).view(np.float32).reshape(self.shape)
        if t in BY_GGML_ID and BY_GGML_ID[t].interleaved:
            raise GGUFError(
                f"tensor {self.name}: {self.type_name} with ne = {list(self.ne)} is not a shape "
                f"the kernels take ({BY_GGML_ID[t].shape_rule()})"
            )
        if not self.size_known:
            raise GGUFError(f"tensor {self.name}: ggml type {t} is unknown here and to the `gguf` package")
        try:
            from gguf.constants import GGMLQuantizationType
            from gguf.quants import dequantize
        except ImportError:
            raise GGUFError(
                f"tensor {self.name}: dequantizing {self.type_name} needs the `gguf` package (pip install gguf)"
            ) from None
        try:
            values = dequantize(self.data.reshape(_rows(self.ne), -1), GGMLQuantizationType(t))
        except NotImplementedError as exc:
            raise GGUFError(
                f"tensor {self.name}: the `gguf` package cannot dequantize {self.type_name} ({exc})"
            ) from None
        return np.asarray(values, np.float32).reshape(self.shape)

    def __array__(self, dtype=None, copy=None):
        if self.ggml_type in NATIVE_DTYPES:
            arr = self.data.view(NATIVE_DTYPES[self.ggml_type]).reshape(self.shape)
            if copy:
                arr = arr.copy()
        else:
            arr = self.dequantize()
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def __repr__(self):
        return f"GGUFTensor({self.name!r}, {self.type_name}, ne={list(self.ne)}, {self.nbytes} bytes)"


def _rows(ne) -> int:
    n = 1
    for d in ne[1:]:
        n *= d
    return n


def _select(names, available):
    """The tensor names to load, in file order."""
    if names is None:
        return list(available)
    if callable(names):
        return [n for n in available if names(n)]
    patterns = [names] if isinstance(names, str) else list(names)
    for p in patterns:
        if not isinstance(p, str):
            raise TypeError(f"names must be strings, glob patterns or a predicate, got {p!r}")
        if not any(c in p for c in "*?[") and p not in available:
            raise GGUFError(f"no tensor named {p!r} in the file")
    return [n for n in available if any(n == p or fnmatch.fnmatchcase(n, p) for p in patterns)]


def _to_python(info: TensorInfo, data):
    fmt = BY_GGML_ID.get(info.ggml_type)
    if fmt is not None and len(info.ne) in (2, 3):
        shape = info.shape
        try:
            fmt.check_shape(shape)
        except ValueError:
            pass
        else:
            return QuantizedMatrix.from_bytes(data, fmt, shape)
    t = GGUFTensor.__new__(GGUFTensor)  # the reader checked type, dims and size
    t.name, t.ggml_type, t.ne, t.data, t.size_known = info.name, info.ggml_type, info.ne, data, info.size_known
    return t


def load_gguf(path, names=None, with_metadata=False, copy=False):
    """{name: QuantizedMatrix | GGUFTensor} (and the GGUFMetadata); see the module docstring."""
    f = read_gguf(path, copy=copy)
    try:
        out = {}
        for name in _select(names, f.tensors):
            out[name] = _to_python(f.tensors[name], f.read(name) if copy else f.view(name))
        metadata = f.metadata
    finally:
        f.close()  # the arrays keep their map alive; the file descriptors are not needed
    return (out, metadata) if with_metadata else out


def _entry(name, t):
    """(ggml type, ne, nbytes, function returning the bytes) for one tensor to save."""
    if isinstance(t, QuantizedMatrix):
        return t.format.ggml_id, tuple(reversed(t.shape)), t.nbytes, lambda: t.data
    if isinstance(t, GGUFTensor):
        return t.ggml_type, t.ne, t.nbytes, lambda: t.data
    arr = np.asarray(t)
    key = arr.dtype.newbyteorder("<") if arr.dtype.byteorder in "<>=|" and arr.dtype.kind in "fi" else None
    if key not in _FROM_DTYPE:
        raise GGUFError(
            f"tensor {name}: dtype {arr.dtype} cannot be stored in GGUF (float32, float16, float64, "
            "int8, int16, int32 and int64 can): convert it first, e.g. .astype(np.float32)"
        )
    if arr.ndim > MAX_DIMS:
        raise GGUFError(f"tensor {name}: {arr.ndim} dimensions (at most {MAX_DIMS})")
    if arr.size == 0:
        raise GGUFError(f"tensor {name}: an empty array (shape {arr.shape}) cannot be stored")
    shape = arr.shape or (1,)
    little = np.dtype(key)

    def data():
        a = np.ascontiguousarray(arr, dtype=little)
        return a.reshape(-1).view(np.uint8)

    return _FROM_DTYPE[key], tuple(reversed(shape)), arr.size * little.itemsize, data


def save_gguf(path, tensors, metadata=None, alignment=None, split_max_size=None):
    """Write tensors and metadata to GGUF atomically; see the module docstring."""
    if not hasattr(tensors, "items"):
        raise TypeError(f"tensors must be a mapping of name -> tensor, got {type(tensors).__name__}")
    writer = GGUFFileWriter(path, metadata, alignment=alignment, split_max_size=split_max_size)
    entries = []
    for name, t in tensors.items():
        ttype, ne, nbytes, data = _entry(name, t)
        writer.add_tensor_info(name, ttype, ne, nbytes)
        entries.append((name, data))
    with writer:
        for name, data in entries:
            writer.write_tensor(name, data())
    return writer.paths


__all__ = [
    "GGUFError",
    "GGUFTensor",
    "GGUFFile",
    "GGUFFileWriter",
    "GGUFMetadata",
    "GGUFValue",
    "GGUFValueType",
    "TensorInfo",
    "load_gguf",
    "save_gguf",
    "read_gguf",
    "as_metadata",
    "parse_size",
    "DEFAULT_ALIGNMENT",
]
