"""Read .safetensors files with numpy only (8-byte little-endian header length, JSON header, raw data)."""
from __future__ import annotations

import json
import mmap

import numpy as np

_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
           "U8": "u1", "BOOL": "?"}


def load_safetensors(path) -> dict:
    """{name: ndarray} (BF16 tensors converted to float32, the rest as stored; read-only memory maps)."""
    with open(path, "rb") as fh:
        mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    if len(mm) < 8:
        raise ValueError(f"{path}: not a safetensors file (too short)")
    n = int.from_bytes(mm[:8], "little")
    if n <= 0 or 8 + n > len(mm):
        raise ValueError(f"{path}: not a safetensors file (bad header length)")
    try:
        header = json.loads(bytes(mm[8:8 + n]))
    except ValueError:
        raise ValueError(f"{path}: not a safetensors file (header is not JSON)") from None
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        shape = tuple(info["shape"])
        raw = np.frombuffer(mm, dtype=np.uint8, count=end - start, offset=base + start)
        if info["dtype"] == "BF16":
            arr = (raw.view("<u2").astype(np.uint32) << 16).view(np.float32).reshape(shape)
        elif info["dtype"] in _DTYPES:
            arr = raw.view(_DTYPES[info["dtype"]]).reshape(shape)
        else:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {info['dtype']}")
        out[name] = arr
    return out
