"""GGUF files in and out (GGUF v3: header, key/values, tensor infos, aligned data).

The `gguf` package knows IQ1_S (19) and IQ1_M (29) but not the row-interleaved IQ1_S_R4 (219) and
IQ1_M_R4 (229) of ik_llama.cpp, so the container is parsed and written here directly (it is a small,
fully specified format); `gguf` is used only to dequantize tensors of other quantized types when loading.
Files written here contain exactly the bytes of each tensor and load in gguf's GGUFReader when they hold
no R4 tensor. Shapes: GGUF lists dimensions innermost first (ne0 = K); numpy shapes are the reverse.
"""
from __future__ import annotations

import mmap
import os
import struct
import tempfile

import numpy as np

from .formats import BY_GGML_ID, get_format
from .tensor import QuantizedMatrix

MAGIC = b"GGUF"
VERSION = 3
DEFAULT_ALIGNMENT = 32
FLOAT_TYPES = {0: np.dtype("<f4"), 1: np.dtype("<f2"), 24: np.dtype("i1"), 25: np.dtype("<i2"),
               26: np.dtype("<i4"), 27: np.dtype("<i8"), 28: np.dtype("<f8")}
BF16 = 30
# GGUF metadata value types
_U8, _I8, _U16, _I16, _U32, _I32, _F32, _BOOL, _STR, _ARR, _U64, _I64, _F64 = range(13)
_SCALAR = {_U8: "<B", _I8: "<b", _U16: "<H", _I16: "<h", _U32: "<I", _I32: "<i", _F32: "<f", _BOOL: "<?",
           _U64: "<Q", _I64: "<q", _F64: "<d"}


class GGUFError(ValueError):
    """A file that is not valid GGUF, or a tensor that cannot be stored."""


class _Cursor:
    def __init__(self, buf, path):
        self.buf, self.pos, self.path = buf, 0, path

    def take(self, n):
        if self.pos + n > len(self.buf):
            raise GGUFError(f"{self.path}: truncated GGUF file")
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self):
        n = self.unpack("<Q")
        if n > 1 << 30:
            raise GGUFError(f"{self.path}: corrupt string length")
        return bytes(self.take(n)).decode("utf-8", errors="replace")

    def value(self, vtype, depth=0):
        if vtype in _SCALAR:
            return self.unpack(_SCALAR[vtype])
        if vtype == _STR:
            return self.string()
        if vtype == _ARR and depth < 4:
            etype, count = self.unpack("<I"), self.unpack("<Q")
            if count > len(self.buf):
                raise GGUFError(f"{self.path}: corrupt array length")
            return [self.value(etype, depth + 1) for _ in range(count)]
        raise GGUFError(f"{self.path}: unknown metadata value type {vtype}")


def read_gguf(path):
    """(metadata dict, {name: (ggml type id, ne tuple, read-only uint8 ndarray of the data)})."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size < 24:
            raise GGUFError(f"{path}: not a GGUF file (too short)")
        mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    cur = _Cursor(memoryview(mm), path)
    if bytes(cur.take(4)) != MAGIC:
        raise GGUFError(f"{path}: not a GGUF file (bad magic)")
    version = cur.unpack("<I")
    if version not in (2, 3):
        raise GGUFError(f"{path}: unsupported GGUF version {version}")
    n_tensors, n_kv = cur.unpack("<Q"), cur.unpack("<Q")
    metadata = {}
    for _ in range(n_kv):
        key = cur.string()
        metadata[key] = cur.value(cur.unpack("<I"))
    infos = []
    for _ in range(n_tensors):
        name = cur.string()
        n_dims = cur.unpack("<I")
        if n_dims > 8:
            raise GGUFError(f"{path}: tensor {name} has {n_dims} dimensions")
        ne = tuple(cur.unpack("<Q") for _ in range(n_dims))
        infos.append((name, ne, cur.unpack("<I"), cur.unpack("<Q")))
    align = int(metadata.get("general.alignment", DEFAULT_ALIGNMENT))
    data_start = (cur.pos + align - 1) // align * align
    base = np.frombuffer(mm, dtype=np.uint8)
    tensors = {}
    for name, ne, ttype, offset in infos:
        nbytes = tensor_nbytes(ttype, ne)
        start = data_start + offset
        if nbytes is None:
            tensors[name] = (ttype, ne, None)
            continue
        if start + nbytes > size:
            raise GGUFError(f"{path}: tensor {name} extends past the end of the file")
        tensors[name] = (ttype, ne, base[start:start + nbytes])
    return metadata, tensors


def tensor_nbytes(ttype, ne):
    """Bytes of a tensor of GGML type `ttype` and dimensions ne (innermost first); None if unknown."""
    n = int(np.prod(ne, dtype=np.int64)) if ne else 1
    if ttype in BY_GGML_ID:
        fmt = BY_GGML_ID[ttype]
        rows = n // ne[0]
        return fmt.nbytes((rows, ne[0])) if ne[0] % fmt.block_k == 0 and rows % fmt.rows_multiple == 0 else None
    if ttype in FLOAT_TYPES:
        return n * FLOAT_TYPES[ttype].itemsize
    if ttype == BF16:
        return n * 2
    try:
        from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType
        block, size = GGML_QUANT_SIZES[GGMLQuantizationType(ttype)]
        return n // block * size
    except (ImportError, KeyError, ValueError):
        return None


def _to_python(name, ttype, ne, data):
    shape = tuple(reversed(ne))
    if ttype in BY_GGML_ID:
        fmt = BY_GGML_ID[ttype]
        rows = int(np.prod(ne[1:], dtype=np.int64)) if len(ne) > 1 else 1
        return QuantizedMatrix.from_bytes(data, fmt, (rows, ne[0]))
    if ttype in FLOAT_TYPES:
        return data.view(FLOAT_TYPES[ttype]).reshape(shape)
    if ttype == BF16:
        return (data.view("<u2").astype(np.uint32) << 16).view(np.float32).reshape(shape)
    try:
        from gguf.constants import GGMLQuantizationType
        from gguf.quants import dequantize
    except ImportError:
        raise GGUFError(f"tensor {name}: type {ttype} needs the `gguf` package to be read") from None
    return dequantize(data, GGMLQuantizationType(ttype)).reshape(shape).astype(np.float32, copy=False)


def load_gguf(path, with_metadata=False):
    """{name: QuantizedMatrix (IQ1 types, zero-copy over the memory map; 3-D expert tensors are stacked
    to (experts x rows, K)) or ndarray (float types, other quantized types dequantized)}."""
    metadata, raw = read_gguf(path)
    out = {}
    for name, (ttype, ne, data) in raw.items():
        if data is None:
            raise GGUFError(f"{path}: tensor {name} has unknown type {ttype} or a shape its type forbids")
        out[name] = _to_python(name, ttype, ne, data)
    return (out, metadata) if with_metadata else out


def _value_bytes(value):
    """(GGUF value type, packed bytes) of a metadata value."""
    if isinstance(value, bool):
        return _BOOL, struct.pack("<?", value)
    if isinstance(value, (int, np.integer)):
        v = int(value)
        return (_I64, struct.pack("<q", v)) if v < 0 else (_U64, struct.pack("<Q", v)) if v >= 1 << 32 \
            else (_U32, struct.pack("<I", v))
    if isinstance(value, (float, np.floating)):
        return _F32, struct.pack("<f", float(value))
    if isinstance(value, str):
        b = value.encode()
        return _STR, struct.pack("<Q", len(b)) + b
    if isinstance(value, (list, tuple)):
        parts = [_value_bytes(v) for v in value]
        etype = parts[0][0] if parts else _U32
        if any(p[0] != etype for p in parts):
            raise GGUFError("metadata arrays must hold values of one type")
        return _ARR, struct.pack("<IQ", etype, len(parts)) + b"".join(p[1] for p in parts)
    raise GGUFError(f"metadata value of type {type(value).__name__} cannot be stored in GGUF")


def _tensor_entry(name, t):
    """(ggml type, ne, bytes-like) for a QuantizedMatrix or a numpy array."""
    if isinstance(t, QuantizedMatrix):
        m, k = t.shape
        return t.format.ggml_id, (k, m), t.data
    arr = np.asarray(t)
    if arr.dtype == np.float16:
        ttype = 1
    elif arr.dtype == np.float32 or arr.dtype.kind in "fiub":
        ttype, arr = 0, arr.astype(np.float32, copy=False)
    else:
        raise GGUFError(f"tensor {name}: dtype {arr.dtype} cannot be stored")
    if arr.ndim == 0:
        arr = arr.reshape(1)
    return ttype, tuple(reversed(arr.shape)), np.ascontiguousarray(arr).reshape(-1).view(np.uint8)


def save_gguf(path, tensors: dict, metadata=None, alignment=DEFAULT_ALIGNMENT):
    """Write tensors (QuantizedMatrix or float arrays) and metadata to a GGUF v3 file, atomically
    (a temporary file in the same folder, renamed over `path` when complete)."""
    metadata = dict(metadata or {})
    if alignment != DEFAULT_ALIGNMENT:
        metadata["general.alignment"] = int(alignment)
    entries = []
    for name, t in tensors.items():
        if not isinstance(name, str) or not name:
            raise GGUFError(f"tensor names must be non-empty strings, got {name!r}")
        entries.append((name,) + _tensor_entry(name, t))
    head = bytearray(MAGIC + struct.pack("<IQQ", VERSION, len(entries), len(metadata)))
    for key, value in metadata.items():
        kb = str(key).encode()
        vtype, vbytes = _value_bytes(value)
        head += struct.pack("<Q", len(kb)) + kb + struct.pack("<I", vtype) + vbytes
    offsets, offset = [], 0
    for name, ttype, ne, data in entries:
        nb = name.encode()
        head += struct.pack("<Q", len(nb)) + nb + struct.pack("<I", len(ne))
        head += b"".join(struct.pack("<Q", int(d)) for d in ne) + struct.pack("<IQ", ttype, offset)
        offsets.append(offset)
        offset += (len(data) + alignment - 1) // alignment * alignment
    head += b"\0" * ((-len(head)) % alignment)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".iq1kernels-", suffix=".gguf.tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(head)
            for (_, _, _, data) in entries:
                fh.write(memoryview(np.ascontiguousarray(data)))
                fh.write(b"\0" * ((-len(data)) % alignment))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
