"""Model files as a list of tensors that can be read one at a time, or a range of rows at a time, with
positioned reads (no memory map left resident): GGUF (single or split), safetensors (single or an
`*.safetensors.index.json` set), .npy and .npz.

    src = open_source("model-00001-of-00003.gguf")
    for t in src.tensors:                        # SourceTensor: name, ggml_type, ne (ggml order), nbytes
        reader = src.reader(t)
        raw = reader.raw()                       # the stored bytes (for tensors kept as they are)
        part = reader.rows(0, 64)                # bytes of rows 0..63 of the (rows, K) view
        x = to_float32(t, part, 64)              # (64, K) float32, whatever the stored type
    src.close()

Every tensor is seen as `rows x K` (K = ne[0]; rows = the product of the other dimensions), which is how
GGUF, safetensors and C-ordered numpy files store it. Numpy sources: big-endian data are byte-swapped and
Fortran-ordered .npy arrays and .npz members are loaded whole (one tensor at a time).
"""
from __future__ import annotations

import math
import os
import threading
import zipfile
from dataclasses import dataclass

import numpy as np

from .formats import BY_GGML_ID
from .gguf_reader import open_regular
from .gguf_types import GGML_TYPES, tensor_nbytes, type_name

F32, F16, F64, BF16 = 0, 1, 28, 30
FLOAT_TYPES = {F32: "<f4", F16: "<f2", F64: "<f8"}
INT_TYPES = {24: "i1", 25: "<i2", 26: "<i4", 27: "<i8"}
_SAFETENSORS_TYPES = {"F32": F32, "F16": F16, "BF16": BF16, "F64": F64, "I8": 24, "I16": 25, "I32": 26, "I64": 27}
_NUMPY_TYPES = {np.dtype("<f4"): F32, np.dtype("<f2"): F16, np.dtype("<f8"): F64, np.dtype("i1"): 24,
                np.dtype("<i2"): 25, np.dtype("<i4"): 26, np.dtype("<i8"): 27}


class SourceError(ValueError):
    """An input that cannot be read as a model (the message names the file and the tensor)."""


@dataclass(frozen=True)
class SourceTensor:
    name: str
    ggml_type: int | None    # the stored type as a ggml id; None: a dtype GGUF cannot hold (e.g. uint8)
    ne: tuple                # ggml order: ne[0] = K
    nbytes: int
    size_known: bool         # False: a GGUF type nobody here knows (its bytes run to the next tensor)
    file: int                # index into Source.paths
    offset: int | None       # absolute offset of the data in that file; None: loaded through numpy
    stored: str              # the type as the file names it: "BF16", "Q8_0", "float32", "type 139"

    @property
    def shape(self) -> tuple:
        return tuple(reversed(self.ne))

    @property
    def k(self) -> int:
        return self.ne[0]

    @property
    def rows(self) -> int:
        return math.prod(self.ne[1:])

    @property
    def is_float(self) -> bool:
        return self.ggml_type in FLOAT_TYPES or self.ggml_type == BF16

    @property
    def is_integer(self) -> bool:
        return self.ggml_type in INT_TYPES


class Source:
    """The tensors of one model input, in file order (see the module docstring)."""

    def __init__(self, kind, paths, tensors, metadata=None, loader=None):
        self.kind = kind                 # "gguf", "safetensors", "npy", "npz"
        self.paths = list(paths)         # every file read (all shards)
        self.tensors = tensors
        self.metadata = metadata         # GGUFMetadata for GGUF input, else None
        self._loader = loader            # name -> ndarray, for tensors without an offset
        self._fds = {}
        self._lock = threading.Lock()

    def tensor(self, name) -> SourceTensor:
        for t in self.tensors:
            if t.name == name:
                return t
        raise KeyError(name)

    def _fd(self, index):
        with self._lock:                  # Dask worker threads share a Source: one descriptor per file
            if index not in self._fds:
                fh, _ = open_regular(self.paths[index], SourceError)
                self._fds[index] = fh
            return self._fds[index].fileno()

    def pread(self, t: SourceTensor, start, nbytes) -> np.ndarray:
        out = np.empty(nbytes, np.uint8)
        view, done, fd = memoryview(out), 0, self._fd(t.file)
        while done < nbytes:
            n = os.preadv(fd, [view[done:done + (1 << 30)]], t.offset + start + done)
            if n <= 0:
                raise SourceError(f"{self.paths[t.file]}: tensor {t.name}: the file ended while reading it "
                                  "(truncated after it was opened?)")
            done += n
        return out

    def reader(self, t: SourceTensor) -> "TensorReader":
        return TensorReader(self, t)

    def close(self):
        with self._lock:
            for fh in self._fds.values():
                fh.close()
            self._fds = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class TensorReader:
    """Bytes of one tensor, whole or by row range (rows of the (rows, K) view, little-endian, C order)."""

    def __init__(self, source: Source, t: SourceTensor):
        self.source, self.t = source, t
        self._array = None
        if t.offset is None:        # numpy data that cannot be read in place: load it once, little-endian
            a = source._loader(t.name)
            self._array = np.ascontiguousarray(a, a.dtype.newbyteorder("<")).reshape(-1).view(np.uint8)

    def _span(self, r0, r1):
        t = self.t
        if t.ggml_type in BY_GGML_ID or t.ggml_type in GGML_TYPES:
            start = tensor_nbytes(t.ggml_type, (t.k, r0)) if r0 else 0
            return start, tensor_nbytes(t.ggml_type, (t.k, r1)) - start
        per_row = t.nbytes // t.rows
        return r0 * per_row, (r1 - r0) * per_row

    def rows(self, r0, r1) -> np.ndarray:
        start, n = self._span(r0, r1)
        if self._array is not None:
            return self._array[start:start + n]
        return self.source.pread(self.t, start, n)

    def piece(self, start, nbytes) -> np.ndarray:
        """Stored bytes [start, start + nbytes) of the tensor."""
        if self._array is not None:
            return self._array[start:start + nbytes]
        return self.source.pread(self.t, start, nbytes)

    def raw(self) -> np.ndarray:
        return self.piece(0, self.t.nbytes)


def to_float32(t: SourceTensor, raw: np.ndarray, rows: int, threads=None) -> np.ndarray:
    """(rows, K) float32 from the stored bytes of `rows` rows of t: float types converted, IQ1 types
    dequantized by this package, other quantized types through the `gguf` package."""
    k, gt = t.k, t.ggml_type
    if gt == F32:
        return raw.view("<f4").reshape(rows, k)
    if gt in FLOAT_TYPES:
        return raw.view(FLOAT_TYPES[gt]).astype(np.float32).reshape(rows, k)
    if gt == BF16:
        return (raw.view("<u2").astype(np.uint32) << 16).view(np.float32).reshape(rows, k)
    if gt in BY_GGML_ID:
        from .tensor import QuantizedMatrix
        return QuantizedMatrix.from_bytes(raw, BY_GGML_ID[gt], (rows, k)).dequantize(threads=threads)
    from .gguf_io import GGUFTensor
    return GGUFTensor(gt, (k, rows), raw, name=t.name).dequantize().reshape(rows, k)


# --- opening ---------------------------------------------------------------------------------------
def _open_gguf(path):
    from .gguf_reader import read_gguf
    with read_gguf(path, copy=True) as f:       # header only; data are read with pread later
        tensors = [SourceTensor(i.name, i.ggml_type, i.ne, i.nbytes, i.size_known, i.shard, i.offset,
                                i.type_name) for i in f.tensors.values()]
        return Source("gguf", f.paths, tensors, f.metadata.copy())


def _open_safetensors(path):
    from .safetensors_io import read_safetensors
    f = read_safetensors(path)
    tensors = []
    for name, e in f.tensors.items():
        ne = tuple(reversed(e.shape)) or (1,)
        if 0 in ne:
            raise SourceError(f"{f.paths[e.file]}: tensor {name} is empty (shape {list(e.shape)}); GGUF cannot "
                              "store it")
        tensors.append(SourceTensor(name, _SAFETENSORS_TYPES.get(e.dtype), ne, e.nbytes, True, e.file, e.start,
                                    e.dtype))
    tensors.sort(key=lambda t: (t.file, t.offset))          # file order, as the data lie
    paths = f.paths
    if path.endswith(".json"):
        paths = [path] + paths
        tensors = [SourceTensor(t.name, t.ggml_type, t.ne, t.nbytes, True, t.file + 1, t.offset, t.stored)
                   for t in tensors]
    return Source("safetensors", paths, tensors)


def _numpy_tensor(path, name, shape, dtype, offset, file=0):
    if dtype.hasobject or dtype.kind not in "fiub":
        raise SourceError(f"{path}: array {name} has dtype {dtype}, which GGUF cannot store")
    ne = tuple(reversed(tuple(shape))) or (1,)
    if 0 in ne:
        raise SourceError(f"{path}: array {name} is empty (shape {tuple(shape)}); GGUF cannot store it")
    little = dtype.newbyteorder("<") if dtype.byteorder == ">" else dtype
    gt = _NUMPY_TYPES.get(little)
    if dtype.byteorder == ">":
        offset = None                    # loaded and byte-swapped through numpy
    return SourceTensor(name, gt, ne, math.prod(shape or (1,)) * dtype.itemsize, True, file, offset, str(dtype))


def _open_npy(path):
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise SourceError(f"{path}: not a readable .npy file ({exc})") from None
    name = os.path.splitext(os.path.basename(path))[0]
    offset = arr.offset if arr.flags.c_contiguous else None
    t = _numpy_tensor(path, name, arr.shape, arr.dtype, offset)
    del arr
    return Source("npy", [path], [t], loader=lambda _: np.load(path, allow_pickle=False))


def _open_npz(path):
    tensors = []
    try:
        with zipfile.ZipFile(path) as z:
            for member in z.namelist():
                if not member.endswith(".npy"):
                    continue
                with z.open(member) as fh:
                    version = np.lib.format.read_magic(fh)
                    header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                        np.lib.format.read_array_header_2_0
                    shape, _, dtype = header(fh)
                tensors.append(_numpy_tensor(path, member[:-4], shape, dtype, None))
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise SourceError(f"{path}: not a readable .npz file ({exc})") from None

    def load(name):
        with np.load(path, allow_pickle=False) as z:
            return z[name]
    return Source("npz", [path], tensors, loader=load)


def open_source(path) -> Source:
    """A Source for a .gguf (give the first shard of a split model), .safetensors,
    .safetensors.index.json, .npy or .npz file."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(2, "no such file", path)
    low = path.lower()
    if low.endswith(".gguf"):
        return _open_gguf(path)
    if low.endswith(".safetensors") or low.endswith(".safetensors.index.json"):
        return _open_safetensors(path)
    if low.endswith(".npy"):
        return _open_npy(path)
    if low.endswith(".npz"):
        return _open_npz(path)
    raise SourceError(f"{path}: unknown input format (expected .gguf, .safetensors, "
                      ".safetensors.index.json, .npy or .npz)")


def describe_type(t: SourceTensor) -> str:
    """The stored type for a person: the ggml name where there is one."""
    return type_name(t.ggml_type) if t.ggml_type is not None else t.stored


__all__ = ["Source", "SourceTensor", "TensorReader", "SourceError", "open_source", "to_float32", "describe_type"]
