"""Read .safetensors files with numpy only (8-byte little-endian header length, JSON header, raw data),
single files or sharded sets (`model.safetensors.index.json`), tensor by tensor.

    f = read_safetensors("model.safetensors")           # or "model.safetensors.index.json"
    for name, info in f.tensors.items():                # SafetensorsInfo: dtype ("BF16"), shape, nbytes
        W = f.array(name)      # this tensor only: BF16 -> float32 (a new array), others a read-only map
    f.metadata                                          # the "__metadata__" strings
    load_safetensors(path)                              # {name: ndarray} of a whole file (or index) at once

Memory: `array(name)` maps the file and converts one tensor; a BF16 tensor costs its float32 copy, so a
loop that drops each array before the next one stays within a few tensors, whatever the model's size.

Every problem is a SafetensorsError (a ValueError) naming the file and the tensor: a header that is not
a JSON object, an entry without dtype / shape / data_offsets, negative or non-integer dimensions, offsets
out of the data or inconsistent with shape x dtype size, overlapping tensors, unknown dtypes; a missing
shard of an index is a SafetensorsError too. A path that is not a regular file is refused before opening.
"""

from __future__ import annotations

import json
import math
import mmap
import os
from dataclasses import dataclass

import numpy as np

from .gguf_reader import open_regular

DTYPES = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "BF16": "<u2",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U64": "<u8",
    "U32": "<u4",
    "U16": "<u2",
    "U8": "u1",
    "BOOL": "?",
}
MAX_HEADER = 100 << 20  # 100 MB: the format's own limit


class SafetensorsError(ValueError):
    """A file that is not valid safetensors (the message names the file and the tensor)."""


@dataclass(frozen=True)
class SafetensorsInfo:
    name: str
    dtype: str  # "BF16", "F32", ...
    shape: tuple
    start: int  # absolute byte offset in its file
    nbytes: int
    file: int  # index into SafetensorsFile.paths


class _File:
    def __init__(self, path):
        self.path = str(path)
        fh, size = open_regular(path, SafetensorsError)
        with fh:
            if size < 8:
                raise SafetensorsError(f"{path}: not a safetensors file (only {size} bytes)")
            self.mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        n = int.from_bytes(self.mm[:8], "little")
        if n == 0 or n > MAX_HEADER or 8 + n > size:
            raise SafetensorsError(f"{path}: not a safetensors file (header length {n} for a {size}-byte file)")
        try:
            header = json.loads(self.mm[8 : 8 + n])
        except (ValueError, UnicodeDecodeError):
            raise SafetensorsError(f"{path}: not a safetensors file (the header is not JSON)") from None
        if not isinstance(header, dict):
            raise SafetensorsError(f"{path}: the header is a JSON {type(header).__name__}, not an object")
        meta = header.pop("__metadata__", {})
        if not isinstance(meta, dict):
            raise SafetensorsError(f"{path}: __metadata__ must be an object of strings")
        self.metadata = meta
        self.entries = [self._entry(name, info, 8 + n, size) for name, info in header.items()]
        spans = sorted((e.start, e.start + e.nbytes, e.name) for e in self.entries if e.nbytes)
        for (_, e0, a), (s1, _, b) in zip(spans, spans[1:]):
            if s1 < e0:
                raise SafetensorsError(f"{path}: tensors {a} and {b} overlap")

    def _entry(self, name, info, base, size):
        where = f"{self.path}: tensor {name}"
        if not isinstance(info, dict):
            raise SafetensorsError(f"{where}: the entry is not an object")
        for field in ("dtype", "shape", "data_offsets"):
            if field not in info:
                raise SafetensorsError(f"{where}: no {field}")
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if dtype not in DTYPES:
            raise SafetensorsError(f"{where}: unsupported dtype {dtype!r}")
        if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
            raise SafetensorsError(f"{where}: shape must be a list of non-negative integers, got {shape!r}")
        if not isinstance(offsets, list) or len(offsets) != 2 or not all(type(o) is int for o in offsets):
            raise SafetensorsError(f"{where}: data_offsets must be [start, end] integers, got {offsets!r}")
        start, end = offsets
        if not 0 <= start <= end <= size - base:
            raise SafetensorsError(f"{where}: data_offsets {offsets} are outside the {size - base} data bytes")
        nbytes = math.prod(shape) * np.dtype(DTYPES[dtype]).itemsize
        if end - start != nbytes:
            raise SafetensorsError(f"{where}: {dtype} {shape} is {nbytes} bytes, data_offsets give {end - start}")
        return SafetensorsInfo(name, dtype, tuple(shape), base + start, nbytes, 0)


class SafetensorsFile:
    """One .safetensors file or an indexed set of them (see the module docstring)."""

    def __init__(self, files):
        self._files = files
        self.metadata = dict(files[0].metadata)
        self.tensors = {}
        for index, f in enumerate(files):
            for e in f.entries:
                if e.name in self.tensors:
                    raise SafetensorsError(
                        f"{f.path}: tensor {e.name} is also in {files[self.tensors[e.name].file].path}"
                    )
                self.tensors[e.name] = SafetensorsInfo(e.name, e.dtype, e.shape, e.start, e.nbytes, index)

    @property
    def paths(self) -> list:
        return [f.path for f in self._files]

    def raw(self, name) -> np.ndarray:
        """The stored bytes of a tensor: a read-only uint8 view of the map."""
        e = self.tensors[name]
        return np.frombuffer(self._files[e.file].mm, np.uint8, count=e.nbytes, offset=e.start)

    def array(self, name) -> np.ndarray:
        """The tensor as numpy: BF16 converted to float32 (a new array), other dtypes a read-only view."""
        e = self.tensors[name]
        raw = self.raw(name)
        if e.dtype == "BF16":
            return (raw.view("<u2").astype(np.uint32) << 16).view(np.float32).reshape(e.shape)
        return raw.view(DTYPES[e.dtype]).reshape(e.shape)


def read_safetensors(path) -> SafetensorsFile:
    """A .safetensors file, or every shard named by a `*.safetensors.index.json` (its "weight_map")."""
    path = str(path)
    if not path.endswith(".json"):
        return SafetensorsFile([_File(path)])
    fh, _ = open_regular(path, SafetensorsError)
    with fh:
        try:
            index = json.loads(fh.read())
        except (ValueError, UnicodeDecodeError):
            raise SafetensorsError(f"{path}: not JSON") from None
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
        raise SafetensorsError(f'{path}: no "weight_map" of tensor name -> file name')
    folder = os.path.dirname(path)
    names = list(dict.fromkeys(weight_map.values()))
    files = []
    for n in names:
        shard = os.path.join(folder, n)
        if os.path.basename(n) != n or not os.path.exists(shard):
            raise SafetensorsError(f"{path}: shard {n} is missing (expected at {shard})")
        files.append(_File(shard))
    f = SafetensorsFile(files)
    for name, file in weight_map.items():
        if name not in f.tensors or f.paths[f.tensors[name].file] != os.path.join(folder, file):
            raise SafetensorsError(f"{path}: tensor {name} is not in {file}")
    return f


def load_safetensors(path) -> dict:
    """{name: ndarray} (BF16 tensors converted to float32, the rest as stored; read-only memory maps)."""
    f = read_safetensors(path)
    return {name: f.array(name) for name in f.tensors}
