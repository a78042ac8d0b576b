"""Writing GGUF v3 files tensor by tensor, with memory bounded by the one tensor being written.

    with GGUFFileWriter("out.gguf", metadata, split_max_size="2G") as w:
        for name, ggml_type, ne, nbytes in plan:          # every tensor first (the headers need them)
            w.add_tensor_info(name, ggml_type, ne, nbytes)
        for name, ... in plan:                            # then the bytes, in the same order
            w.write_tensor(name, data)                    # bytes-like or uint8 ndarray of exactly nbytes
    # leaving the block without an exception renames the output(s) into place; an exception (also
    # KeyboardInterrupt) removes the temporary files and leaves any existing output untouched

* `metadata`: a GGUFMetadata or a dict of plain values / GGUFValues (types kept, see gguf_metadata).
  `split.no`, `split.count` and `split.tensors.count` in it are dropped: the writer sets them itself.
* `alignment` (default 32, or the metadata's `general.alignment`): a power of two; data are padded to it
  and it is recorded as `general.alignment` (UINT32) whenever it is not 32, so readers agree.
* `split_max_size` (bytes, or "500M" / "2G" / "1T" — decimal units, as llama.cpp's gguf-split; "2GiB"
  for binary): write `<stem>-00001-of-0000N.gguf` shards of at most that size each (a tensor larger than
  the limit gets a shard of its own: a tensor is never split). The first shard carries the metadata, every
  shard `split.no` (UINT16, from 0), `split.count` (UINT16) and `split.tensors.count` (INT32), as gguf-split
  writes them. `writer.paths` lists the files once every tensor info is added.
* Types: any ggml type id (known or not); for a type this package does not know, pass `nbytes`.
* Output files follow the rules of iq1kernels._output (umask, kept mode, symlinks written through,
  devices / directories refused); `inputs=` lists files the outputs must not be.
"""
from __future__ import annotations

import os
import re
import struct

import numpy as np

from ._output import AtomicOutput, check_output_path
from .gguf_metadata import GGUFMetadata, GGUFValue, T, as_metadata
from .gguf_reader import MAGIC, SHARD_NAME, SPLIT_KEYS
from .gguf_types import (DEFAULT_ALIGNMENT, MAX_NAME_BYTES, GGUFError, align_up, check_alignment, check_int,
                         check_ne, tensor_nbytes, type_id, type_name)

VERSION = 3
_UNITS = {"": 1, "K": 10 ** 3, "M": 10 ** 6, "G": 10 ** 9, "T": 10 ** 12,
          "KI": 1 << 10, "MI": 1 << 20, "GI": 1 << 30, "TI": 1 << 40}


def parse_size(value) -> int:
    """Bytes from an int or a string such as "500M", "2G", "1.5T", "2GiB" (K/M/G/T decimal, Ki/Mi/Gi/Ti binary)."""
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]I?)?B?\s*", value.upper())
        if not m:
            raise ValueError(f"size {value!r}: expected bytes or a number with K, M, G or T (e.g. 2G, 500M)")
        n = int(float(m[1]) * _UNITS[m[2] or ""])
    else:
        n = check_int(value, "split_max_size")
    if n <= 0:
        raise ValueError(f"size must be positive, got {value!r}")
    return n


def _kv_bytes(key, gv: GGUFValue) -> bytes:
    kb = key.encode("utf-8")
    return struct.pack("<Q", len(kb)) + kb + struct.pack("<I", gv.type) + gv.encode()


class _Info:
    __slots__ = ("name", "ggml_type", "ne", "nbytes", "header_bytes")

    def __init__(self, name, ggml_type, ne, nbytes):
        self.name, self.ggml_type, self.ne, self.nbytes = name, ggml_type, ne, nbytes
        nb = name.encode("utf-8")
        self.header_bytes = struct.pack("<Q", len(nb)) + nb + struct.pack("<I", len(ne)) + \
            struct.pack(f"<{len(ne)}Q", *ne) + struct.pack("<I", ggml_type)    # + the offset, per shard


class GGUFFileWriter:
    """See the module docstring."""

    def __init__(self, path, metadata=None, alignment=None, split_max_size=None, inputs=()):
        self.path = os.fspath(path)
        self._inputs = tuple(inputs)
        meta = as_metadata(metadata)
        for key in SPLIT_KEYS:
            meta.pop(key, None)
        if "general.alignment" in meta:
            gv = meta.typed("general.alignment")
            if gv.type != T.UINT32:
                raise GGUFError(f"general.alignment must be a UINT32, got {gv.type.name}")
            recorded = check_alignment(gv.value)
            if alignment is not None and check_int(alignment, "alignment") != recorded:
                raise GGUFError(f"alignment={alignment} disagrees with the metadata's general.alignment = "
                                f"{recorded}")
            self.alignment = recorded
        else:
            self.alignment = DEFAULT_ALIGNMENT if alignment is None else \
                check_alignment(check_int(alignment, "alignment"), "alignment")
            if self.alignment != DEFAULT_ALIGNMENT:
                meta["general.alignment"] = GGUFValue(self.alignment, T.UINT32)
        self.metadata = meta
        self.split_max_size = None if split_max_size is None else parse_size(split_max_size)
        self._kv = b"".join(_kv_bytes(k, gv) for k, gv in meta.typed_items())   # checks every value now
        if self.split_max_size is None:
            check_output_path(self.path, self._inputs)
        else:
            check_output_path(self._shard_path(1, 1), self._inputs)
        self._infos = []
        self._names = set()
        self._shards = None        # [(first info index, end index)] once planned
        self._outputs = []
        self._next = 0             # index of the next tensor to write
        self._closed = False

    # --- declaring tensors --------------------------------------------------------------------------
    def add_tensor_info(self, name, ggml_type, ne, nbytes=None) -> None:
        """Declare a tensor: name, ggml type (id or name), ne (ggml order, innermost first), byte size
        (needed only for types this package does not know; checked against the type otherwise)."""
        if self._shards is not None:
            raise GGUFError("add_tensor_info after write_tensor: declare every tensor first")
        if not isinstance(name, str) or not name:
            raise GGUFError(f"tensor names must be non-empty strings, got {name!r}")
        try:
            if len(name.encode("utf-8")) > MAX_NAME_BYTES:
                raise GGUFError(f"tensor name {name[:40]!r}... is longer than {MAX_NAME_BYTES} bytes")
        except UnicodeEncodeError:
            raise GGUFError(f"tensor name {name!r} is not valid UTF-8") from None
        if name in self._names:
            raise GGUFError(f"duplicate tensor name {name!r}")
        tid = type_id(ggml_type)
        ne = check_ne(ne, f"tensor {name}")
        expected = tensor_nbytes(tid, ne, f"tensor {name}")
        if nbytes is not None:
            nbytes = check_int(nbytes, f"tensor {name}: nbytes")
        if expected is None:
            if nbytes is None or nbytes <= 0:
                raise GGUFError(f"tensor {name}: ggml type {tid} is unknown here: give its size in bytes")
        elif nbytes is not None and nbytes != expected:
            raise GGUFError(f"tensor {name}: {type_name(tid)} with ne = {list(ne)} is {expected} bytes, "
                            f"not {nbytes}")
        self._infos.append(_Info(name, tid, ne, expected if expected is not None else nbytes))
        self._names.add(name)

    # --- planning -----------------------------------------------------------------------------------
    def _shard_path(self, no, count) -> str:
        """`out.gguf` (or `out-00001-of-00007.gguf`) -> `out-0000<no>-of-0000<count>.gguf`."""
        folder, base = os.path.split(self.path)
        m = SHARD_NAME.match(base)
        stem = m["stem"] if m else base[:-5] if base.lower().endswith(".gguf") else base
        return os.path.join(folder, f"{stem}-{no:05d}-of-{count:05d}.gguf")

    def _split_kv(self, no, count) -> bytes:
        return b"".join(_kv_bytes(k, gv) for k, gv in (
            ("split.no", GGUFValue(no, T.UINT16)), ("split.count", GGUFValue(count, T.UINT16)),
            ("split.tensors.count", GGUFValue(len(self._infos), T.INT32))))

    def _header_size(self, kv_size, infos) -> int:
        return align_up(24 + kv_size + sum(len(i.header_bytes) + 8 for i in infos), self.alignment)

    def _plan(self):
        if self._shards is not None:
            return
        if self.split_max_size is None:
            self._shards = [(0, len(self._infos))]
            return
        if len(self._infos) >= 1 << 31:
            raise GGUFError("more than 2**31-1 tensors cannot be counted in split.tensors.count (INT32)")
        split_kv = len(self._split_kv(0, 1))
        other_kv = split_kv + (len(_kv_bytes("general.alignment", GGUFValue(self.alignment, T.UINT32)))
                               if self.alignment != DEFAULT_ALIGNMENT else 0)
        shards, start, data, infos = [], 0, 0, []
        for i, info in enumerate(self._infos):
            kv = len(self._kv) + split_kv if not shards else other_kv
            size = self._header_size(kv, infos + [info]) + data + align_up(info.nbytes, self.alignment)
            if infos and size > self.split_max_size:
                shards.append((start, i))
                start, data, infos = i, 0, []
            infos.append(info)
            data += align_up(info.nbytes, self.alignment)
        shards.append((start, len(self._infos)))
        if len(shards) > 65535:
            raise GGUFError(f"{len(shards)} shards: split.count is a UINT16 (at most 65535); raise split_max_size")
        self._shards = shards

    @property
    def paths(self) -> list:
        """The files this writer produces (planning the shards if not done yet)."""
        self._plan()
        if self.split_max_size is None:
            return [self.path]
        return [self._shard_path(i + 1, len(self._shards)) for i in range(len(self._shards))]

    # --- writing ------------------------------------------------------------------------------------
    def _open_shard(self, index):
        start, end = self._shards[index]
        infos = self._infos[start:end]
        if self.split_max_size is None:
            kv, n_kv = self._kv, len(self.metadata)
        else:
            split = self._split_kv(index, len(self._shards))
            if index == 0:
                kv, n_kv = self._kv + split, len(self.metadata) + 3
            elif self.alignment != DEFAULT_ALIGNMENT:
                kv = split + _kv_bytes("general.alignment", GGUFValue(self.alignment, T.UINT32))
                n_kv = 4
            else:
                kv, n_kv = split, 3
        head = bytearray(MAGIC + struct.pack("<IQQ", VERSION, len(infos), n_kv))
        head += kv
        offset = 0
        for info in infos:
            head += info.header_bytes + struct.pack("<Q", offset)
            offset += align_up(info.nbytes, self.alignment)
        head += bytes(align_up(len(head), self.alignment) - len(head))
        out = AtomicOutput(self.paths[index], self._inputs)
        self._outputs.append(out)
        out.write(head)

    def write_tensor(self, name, data) -> None:
        """Write the next declared tensor's bytes (bytes-like or ndarray, viewed as bytes, never copied
        when contiguous)."""
        self.write_tensor_parts(name, (data,))

    def write_tensor_parts(self, name, parts) -> None:
        """Write the next declared tensor from an iterable of byte pieces in order (e.g. slices read one at a
        time), so that a tensor never has to be in memory whole; their sizes must add up to the declared size."""
        if self._closed:
            raise GGUFError("the writer is closed")
        self._plan()
        if self._next >= len(self._infos):
            raise GGUFError(f"tensor {name}: every declared tensor is already written")
        info = self._infos[self._next]
        if name != info.name:
            raise GGUFError(f"tensor {name!r} written out of order: {info.name!r} is next")
        shard = next(i for i, (s, e) in enumerate(self._shards) if s <= self._next < e)
        while len(self._outputs) <= shard:
            if self._outputs:
                self._outputs[-1].finish()
            self._open_shard(len(self._outputs))
        out = self._outputs[shard]
        written = 0
        for part in parts:
            buf = _as_bytes(part, name)
            if written + buf.nbytes > info.nbytes:
                raise GGUFError(f"tensor {name}: got more than the {info.nbytes} bytes declared")
            out.write(buf)
            written += buf.nbytes
        if written != info.nbytes:
            raise GGUFError(f"tensor {name}: got {written} bytes, {info.nbytes} declared")
        out.write(bytes(align_up(info.nbytes, self.alignment) - info.nbytes))
        self._next += 1

    def close(self) -> None:
        """Finish every file and rename them into place; an error if a declared tensor was not written."""
        if self._closed:
            return
        try:
            if self._next != len(self._infos):
                raise GGUFError(f"{len(self._infos) - self._next} declared tensors were not written "
                                f"(next: {self._infos[self._next].name!r})")
            self._plan()
            while len(self._outputs) < len(self._shards):      # files with no tensor (metadata only)
                self._open_shard(len(self._outputs))
            for out in self._outputs:
                out.finish()
            for out in self._outputs:
                out.commit()
        except BaseException:
            self.abort()
            raise
        self._closed = True

    def abort(self) -> None:
        """Remove every temporary file; existing outputs stay as they were."""
        for out in self._outputs:
            out.abort()
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _as_bytes(data, name) -> memoryview:
    if isinstance(data, np.ndarray):
        data = np.ascontiguousarray(data).reshape(-1).view(np.uint8)
    try:
        return memoryview(data).cast("B")
    except TypeError as exc:
        raise TypeError(f"tensor {name}: data must be a contiguous bytes-like object or array ({exc})") from None


__all__ = ["GGUFFileWriter", "GGUFMetadata", "parse_size"]
