"""Reading GGUF files (v2 and v3), single or split in shards, without loading tensor data.

    f = read_gguf("model-00001-of-00003.gguf")    # all shards opened; metadata from the first one
    f.metadata                                     # GGUFMetadata: plain values, types kept (gguf_metadata)
    for info in f.tensors.values():                # TensorInfo, in file order, across shards
        info.name, info.type_name, info.ne, info.shape, info.nbytes
        raw = f.view(info.name)                    # read-only uint8 over the memory map (no copy)
        raw = f.read(info.name)                    # the same bytes read into memory (a copy)
    f.close()                                      # or `with read_gguf(path) as f:`

For streaming tools (quantize tensor by tensor with bounded memory), use `read(name)` per tensor: pages of
a memory map count in the process's RSS until the kernel drops them, a copy is freed with its array.
`read_gguf(path, copy=True)` reads the header and closes the map at once; `view` then reads too.

A mapped file that another program truncates while it is mapped makes the next access to the lost pages
raise SIGBUS, which kills the process (numpy.memmap behaves the same); use copy=True when the file may
change under you.

Every structural problem is a GGUFError naming the file and the tensor or key: bad magic or version,
counts or lengths beyond the file, invalid UTF-8 names, duplicate keys or tensor names (also across
shards), unknown value types, arrays nested deeper than MAX_ARRAY_DEPTH, dimensions out of the limits or
whose product overflows, an invalid `general.alignment` (it must be a UINT32 power of two), tensor
offsets that are misaligned, overlap or run past the end, and missing or inconsistent shards. A path that
is not a regular file (a FIFO, a device, a directory) is refused before it is opened, so it cannot block.
"""

from __future__ import annotations

import mmap
import os
import re
import stat
import struct
from dataclasses import dataclass
from typing import NoReturn

import numpy as np

from .gguf_metadata import SCALAR_DTYPES, SCALAR_FORMATS, GGUFMetadata, GGUFValue, T
from .gguf_types import (
    DEFAULT_ALIGNMENT,
    MAX_ARRAY_DEPTH,
    MAX_DIMS,
    MAX_NAME_BYTES,
    MAX_STRING_BYTES,
    GGUFError,
    TypedDims,
    align_up,
    check_alignment,
    check_ne,
    tensor_nbytes,
)

MAGIC = b"GGUF"
SPLIT_KEYS = ("split.no", "split.count", "split.tensors.count")
SHARD_NAME = re.compile(r"^(?P<stem>.*)-(?P<no>\d{5})-of-(?P<count>\d{5})\.gguf$")
_HEADER = 24  # magic, version, tensor count, key count
_MIN_KV = 8 + 4 + 1  # key length, value type, one byte of value
_MIN_TENSOR_INFO = 8 + 4 + 8 + 4 + 8  # name length, n_dims, one dimension, type, offset
_MIN_ITEM = {T.STRING: 8, T.ARRAY: 12}


@dataclass(frozen=True)
class TensorInfo(TypedDims):
    name: str
    ggml_type: int
    ne: tuple  # ggml order: ne[0] = K (innermost)
    offset: int  # absolute byte offset in its shard
    nbytes: int
    size_known: bool  # False: a type nobody here knows; nbytes runs to the next tensor (padding included)
    shard: int  # index into GGUFFile.paths


class _Cursor:
    """Bounds-checked little-endian reads from a buffer; every error names the file."""

    def __init__(self, buf, size, path):
        self.buf, self.size, self.pos, self.path = buf, size, 0, path

    def fail(self, message) -> NoReturn:
        raise GGUFError(f"{self.path}: {message}")

    def need(self, n, what):
        if n > self.size - self.pos:
            self.fail(f"truncated GGUF file: {what} needs {n} bytes at offset {self.pos}, {self.size - self.pos} left")

    def unpack(self, fmt, what):
        n = struct.calcsize(fmt)
        self.need(n, what)
        v = struct.unpack_from(fmt, self.buf, self.pos)[0]
        self.pos += n
        return v

    def raw_string(self, what, limit=MAX_STRING_BYTES) -> bytes:
        n = self.unpack("<Q", what)
        if n > limit:
            self.fail(f"{what} is {n} bytes long (the limit is {limit})")
        self.need(n, what)
        b = self.buf[self.pos : self.pos + n]
        self.pos += n
        return bytes(b)

    def name(self, what) -> str:
        b = self.raw_string(what, MAX_NAME_BYTES)
        try:
            return b.decode("utf-8")
        except UnicodeDecodeError:
            self.fail(f"{what} is not valid UTF-8: {b[:80]!r}")

    def value(self, vtype, where, depth=0):
        """A GGUFValue of type vtype at the cursor."""
        if vtype not in T._value2member_map_:
            self.fail(f"{where}: unknown metadata value type {vtype}")
        t = T(vtype)
        if t in SCALAR_FORMATS:
            return GGUFValue(self.unpack(SCALAR_FORMATS[t], where), t)
        if t == T.STRING:
            return GGUFValue(self.raw_string(where).decode("utf-8", errors="surrogateescape"), t)
        if depth >= MAX_ARRAY_DEPTH:
            self.fail(f"{where}: arrays nested deeper than {MAX_ARRAY_DEPTH} levels")
        etype = self.unpack("<I", where)
        if etype not in T._value2member_map_:
            self.fail(f"{where}: unknown array element type {etype}")
        et = T(etype)
        count = self.unpack("<Q", where)
        item = SCALAR_DTYPES[et].itemsize if et in SCALAR_DTYPES else _MIN_ITEM[et]
        if count > (self.size - self.pos) // item:
            self.fail(f"{where}: array of {count} {et.name} values does not fit in the file")
        if et in SCALAR_DTYPES:
            n = count * item
            values = np.frombuffer(self.buf, SCALAR_DTYPES[et], count=count, offset=self.pos).tolist() if count else []
            self.pos += n
        elif et == T.STRING:
            values = [self.raw_string(where).decode("utf-8", errors="surrogateescape") for _ in range(count)]
        else:
            values = [self.value(T.ARRAY, where, depth + 1) for _ in range(count)]
        gv = GGUFValue.__new__(GGUFValue)  # already valid: skip the re-checks of the constructor
        gv.type, gv.element_type, gv.value = T.ARRAY, et, values
        return gv


def open_regular(path, error=GGUFError):
    """(file object, size) of a regular file; anything else is refused (`error`) before open() could block."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(2, "no such file", str(path)) from None
    if not stat.S_ISREG(st.st_mode):
        raise error(f"{path}: not a regular file")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    fh = os.fdopen(fd, "rb", buffering=0)
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):  # replaced between stat and open
        fh.close()
        raise error(f"{path}: not a regular file")
    return fh, st.st_size


class _Shard:
    def __init__(self, path):
        self.path = str(path)
        self.fh, self.size = open_regular(path)
        try:
            if self.size < _HEADER:
                raise GGUFError(f"{path}: not a GGUF file (only {self.size} bytes)")
            self.mm = mmap.mmap(self.fh.fileno(), 0, access=mmap.ACCESS_READ)
            self._parse()
        except BaseException:
            self.close()
            raise

    def _parse(self):
        cur = _Cursor(self.mm, self.size, self.path)
        if self.mm[:4] != MAGIC:
            cur.fail("not a GGUF file (bad magic)")
        cur.pos = 4
        self.version = cur.unpack("<I", "version")
        if self.version not in (2, 3):
            hint = " (a big-endian file?)" if self.version >= 1 << 16 else ""
            cur.fail(f"unsupported GGUF version {self.version}{hint}")
        n_tensors = cur.unpack("<Q", "tensor count")
        n_kv = cur.unpack("<Q", "metadata count")
        if n_kv > (self.size - cur.pos) // _MIN_KV:
            cur.fail(f"{n_kv} metadata keys cannot fit in a {self.size}-byte file")
        if n_tensors > (self.size - cur.pos) // _MIN_TENSOR_INFO:
            cur.fail(f"{n_tensors} tensors cannot fit in a {self.size}-byte file")
        meta = GGUFMetadata()
        for i in range(n_kv):
            key = cur.name(f"metadata key #{i}")
            if key in meta:
                cur.fail(f"duplicate metadata key {key!r}")
            meta._items[key] = cur.value(cur.unpack("<I", f"type of {key}"), f"metadata key {key!r}")
        self.metadata = meta
        self.alignment = DEFAULT_ALIGNMENT
        if "general.alignment" in meta:
            gv = meta.typed("general.alignment")
            if gv.type != T.UINT32:
                cur.fail(f"general.alignment must be a UINT32, got {gv.type.name} {gv.value!r}")
            try:
                self.alignment = check_alignment(gv.value)
            except GGUFError as exc:
                cur.fail(str(exc))
        raw = []
        names = set()
        for i in range(n_tensors):
            name = cur.name(f"name of tensor #{i}")
            if name in names:
                cur.fail(f"duplicate tensor name {name!r}")
            names.add(name)
            n_dims = cur.unpack("<I", f"tensor {name}: dimension count")
            try:
                if not 1 <= n_dims <= MAX_DIMS:
                    raise GGUFError(f"tensor {name}: {n_dims} dimensions (1 to {MAX_DIMS} allowed)")
                ne = check_ne([cur.unpack("<Q", f"tensor {name}: dimensions") for _ in range(n_dims)], f"tensor {name}")
                ttype = cur.unpack("<I", f"tensor {name}: type")
                offset = cur.unpack("<Q", f"tensor {name}: offset")
                nbytes = tensor_nbytes(ttype, ne, f"tensor {name}")
            except GGUFError as exc:
                if str(exc).startswith(self.path):
                    raise
                cur.fail(str(exc))
            if offset % self.alignment:
                cur.fail(f"tensor {name}: offset {offset} is not a multiple of the alignment {self.alignment}")
            raw.append((name, ttype, ne, offset, nbytes))
        self.data_start = align_up(cur.pos, self.alignment)
        if raw and self.data_start > self.size:
            cur.fail("truncated GGUF file: no tensor data")
        self.infos = self._place(raw)

    def _place(self, raw):
        """TensorInfos with absolute offsets; sizes of unknown types run to the next tensor."""
        data_size = self.size - self.data_start
        order = sorted(range(len(raw)), key=lambda i: raw[i][3])
        sizes = {}
        for j, i in enumerate(order):
            name, _, _, offset, nbytes = raw[i]
            end = raw[order[j + 1]][3] if j + 1 < len(order) else data_size
            if nbytes is None:
                nbytes = end - offset
                if nbytes <= 0:
                    raise GGUFError(
                        f"{self.path}: tensor {name} of unknown type {raw[i][1]} has no bytes before the next tensor"
                    )
            if offset + nbytes > data_size:
                raise GGUFError(f"{self.path}: tensor {name} extends past the end of the file (truncated GGUF file?)")
            if offset + nbytes > end:
                nxt = raw[order[j + 1]][0]
                raise GGUFError(
                    f"{self.path}: tensor {name} (bytes {offset} .. {offset + nbytes}) overlaps tensor {nxt} (at {end})"
                )
            sizes[i] = nbytes
        return [
            TensorInfo(name, ttype, ne, self.data_start + offset, sizes[i], nbytes is not None, 0)
            for i, (name, ttype, ne, offset, nbytes) in enumerate(raw)
        ]

    def release_map(self):
        if self.mm is not None:
            try:
                self.mm.close()
            except BufferError:  # arrays still view it: it closes when they go
                pass
            self.mm = None

    def close(self):
        if getattr(self, "mm", None) is not None:
            self.release_map()
        if self.fh is not None:
            self.fh.close()
            self.fh = None


class GGUFFile:
    """A parsed GGUF file or split set: metadata, tensor infos, and access to each tensor's bytes."""

    def __init__(self, shards, copy=False):
        self._shards = shards
        self.copy = copy
        first = shards[0]
        self.metadata, self.version, self.alignment = first.metadata, first.version, first.alignment
        self.tensors = {}
        for index, shard in enumerate(shards):
            for info in shard.infos:
                if info.name in self.tensors:
                    other = shards[self.tensors[info.name].shard].path
                    raise GGUFError(f"{shard.path}: tensor {info.name} is also in {other}")
                self.tensors[info.name] = TensorInfo(
                    info.name, info.ggml_type, info.ne, info.offset, info.nbytes, info.size_known, index
                )
        if copy:
            for shard in shards:
                shard.release_map()

    @property
    def path(self) -> str:
        return self._shards[0].path

    @property
    def paths(self) -> list:
        return [s.path for s in self._shards]

    def shard_metadata(self, index) -> GGUFMetadata:
        return self._shards[index].metadata

    def view(self, name) -> np.ndarray:
        """The tensor's bytes: a read-only uint8 view of the memory map (a copy when opened with copy=True)."""
        info = self.tensors[name]
        shard = self._shards[info.shard]
        if shard.mm is None:
            return self.read(name)
        return np.frombuffer(shard.mm, np.uint8, count=info.nbytes, offset=info.offset)

    def read(self, name) -> np.ndarray:
        """The tensor's bytes read into a new read-only uint8 array (the file is not mapped for it)."""
        info = self.tensors[name]
        shard = self._shards[info.shard]
        if shard.fh is None:
            raise GGUFError(f"{shard.path}: file is closed")
        out = np.empty(info.nbytes, np.uint8)
        view, done = out.data, 0
        while done < info.nbytes:
            n = os.preadv(shard.fh.fileno(), [view[done : done + (1 << 30)]], info.offset + done)
            if n <= 0:
                raise GGUFError(
                    f"{shard.path}: tensor {name}: the file ended while reading it (truncated after it was opened?)"
                )
            done += n
        out.flags.writeable = False
        return out

    def close(self):
        for s in self._shards:
            s.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return (
            f"GGUFFile({self.path!r}, {len(self.tensors)} tensors, {len(self.metadata)} keys, "
            f"{len(self._shards)} shard{'s' if len(self._shards) > 1 else ''})"
        )


def _split_int(shard, key):
    gv = shard.metadata.typed(key)
    if gv.type not in (T.UINT8, T.INT8, T.UINT16, T.INT16, T.UINT32, T.INT32, T.UINT64, T.INT64):
        raise GGUFError(f"{shard.path}: {key} must be an integer, got {gv.type.name} {gv.value!r}")
    return gv.value


def shard_paths(path, count) -> list:
    """Paths of all `count` shards of a split set, from the first shard's path."""
    folder, base = os.path.split(str(path))
    m = SHARD_NAME.match(base)
    if not m or int(m["no"]) != 1 or int(m["count"]) != count:
        raise GGUFError(
            f"{path}: a shard of a {count}-file split set, but its name does not end in "
            f"-00001-of-{count:05d}.gguf, so the other shards cannot be found"
        )
    return [os.path.join(folder, f"{m['stem']}-{i:05d}-of-{count:05d}.gguf") for i in range(1, count + 1)]


def read_gguf(path, copy=False) -> GGUFFile:
    """Parse a GGUF file, or the whole split set given its first shard (see the module docstring)."""
    first = _Shard(path)
    shards = [first]
    try:
        if "split.count" in first.metadata:
            count = _split_int(first, "split.count")
            no = _split_int(first, "split.no") if "split.no" in first.metadata else 0
            if count < 1 or not 0 <= no < count:
                raise GGUFError(f"{path}: split.no = {no} and split.count = {count} are inconsistent")
            if no != 0:
                m = SHARD_NAME.match(os.path.basename(str(path)))
                hint = f": open {m['stem']}-00001-of-{m['count']}.gguf" if m else ""
                raise GGUFError(f"{path}: this is shard {no + 1} of {count}, not the first{hint}")
            for i, p in enumerate(shard_paths(path, count)[1:] if count > 1 else [], start=1):
                if not os.path.exists(p):
                    raise GGUFError(f"{path}: shard {i + 1} of {count} is missing: {p}")
                s = _Shard(p)
                shards.append(s)
                for key, want in (("split.count", count), ("split.no", i)):
                    got = _split_int(s, key) if key in s.metadata else None
                    if got != want:
                        raise GGUFError(f"{p}: {key} is {got}, expected {want} (a shard of another split?)")
            if "split.tensors.count" in first.metadata:
                total = _split_int(first, "split.tensors.count")
                found = sum(len(s.infos) for s in shards)
                if total != found:
                    raise GGUFError(
                        f"{path}: split.tensors.count says {total} tensors, the {count} shards hold {found}"
                    )
        return GGUFFile(shards, copy=copy)
    except BaseException:
        for s in shards:
            s.close()
        raise
