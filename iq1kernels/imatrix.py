"""Importance matrices (imatrix) for quantization, from the files llama.cpp's `llama-imatrix` writes and
from numpy / safetensors files keyed by tensor name.

    im = load_imatrix("imatrix.gguf")      # or "imatrix.dat" (legacy), ".npz", ".safetensors"
    im.format, im.datasets, im.chunk_count  # "gguf", ["calibration.txt"], 100
    "blk.0.attn_q.weight" in im            # entries are keyed by the weight tensor's name
    v = im.vectors("blk.3.ffn_up_exps.weight", experts=64, k=7168)   # float32 (64, 7168), or None

An importance value per input column (K) of a weight matrix: the mean of x_j^2 over the activations x
that met the matrix during calibration. An expert stack has one vector per expert.

Formats, as llama.cpp reads them (the values below are what `llama-quantize` hands its quantizers):

* GGUF (`general.type = "imatrix"`, what llama-imatrix writes by default): per weight tensor `W`, an F32
  tensor `W.in_sum2` with ne = (K, n_mat) — sums of x^2, one row per matrix (n_mat = number of experts, 1
  for a dense tensor) — and an F32 tensor `W.counts` with ne = (1, n_mat), the number of activation rows
  summed for each matrix. Importance = in_sum2 / counts per matrix; a matrix with count 0 (an expert never
  routed to) gets importance 1 everywhere. `W.in_sum` (plain sums, newer files) is ignored. Metadata:
  `imatrix.datasets` (array of strings), `imatrix.chunk_count`, `imatrix.chunk_size` (UINT32).
* legacy `.dat` (`--output-format dat`), little-endian: int32 n_entries; per entry int32 name length, the
  name (UTF-8), int32 ncall, int32 nval, float32[nval] (nval = K * n_mat, matrix after matrix); then
  optionally int32 chunk count, int32 length, the dataset name. Importance = value / ncall (the values as
  stored when ncall <= 0).
* `.npz` / `.safetensors` of this package's users: `{tensor name: importance}` as float arrays of shape
  (K,), (n_mat, K) or (n_mat * K,); used as they are. A (K,) vector for an expert stack applies to every
  expert.

Every problem is an ImatrixError (a ValueError) naming the file and the entry: truncated or malformed
files, duplicate names, a `.in_sum2` without its `.counts`, non-finite or negative values, and (at
lookup) a vector length that does not match the tensor.
"""

from __future__ import annotations

import os
import struct

import numpy as np

from .gguf_reader import open_regular

_MAX_DAT_ENTRIES = 1 << 24
_MAX_NAME = 65535


class ImatrixError(ValueError):
    """An importance-matrix file that cannot be used (the message names the file and the entry)."""


class ImportanceMatrix:
    """Importance vectors keyed by weight tensor name (see the module docstring)."""

    def __init__(self, path, fmt, entries, datasets=(), chunk_count=None, chunk_size=None):
        self.path, self.format = str(path), fmt
        self._entries = entries  # name -> float32 (n_mat, K) or 1-D (n_mat * K,) / (K,)
        self.datasets = list(datasets)
        self.chunk_count, self.chunk_size = chunk_count, chunk_size

    def __contains__(self, name):
        return name in self._entries

    def __len__(self):
        return len(self._entries)

    def __iter__(self):
        return iter(self._entries)

    def raw(self, name) -> np.ndarray:
        """The stored importance of `name` (float32, as the file shapes it)."""
        return self._entries[name]

    def vectors(self, name, experts, k):
        """float32 (experts, k) importance for the tensor `name` (experts = 1 for a 2-D matrix), or None
        when the file has no entry for it. A length that fits neither k nor experts * k is an ImatrixError."""
        v = self._entries.get(name)
        if v is None:
            return None
        n = v.size
        if v.ndim == 2 and v.shape[1] != k or n not in (k, experts * k):
            what = f"{experts} experts x K = {k}" if experts > 1 else f"K = {k}"
            raise ImatrixError(
                f"{self.path}: entry {name} has {n} values (shape {v.shape}); the tensor needs "
                f"{what}" + (" (or one K-vector for all experts)" if experts > 1 else "")
            )
        v = v.reshape(-1, k)
        if v.shape[0] != experts:
            v = np.broadcast_to(v, (experts, k))
        return v

    def __repr__(self):
        return f"ImportanceMatrix({self.path!r}, {self.format}, {len(self)} entries)"


def _check_values(path, name, v):
    if not np.isfinite(v).all():
        raise ImatrixError(f"{path}: entry {name} contains NaN or Inf")
    if (v < 0).any():
        raise ImatrixError(f"{path}: entry {name} has negative values (importance is a mean of squares)")
    return v


def _read_all(path) -> bytes:
    fh, size = open_regular(path, ImatrixError)
    with fh:
        return fh.read()


def _load_dat(path):
    buf = _read_all(path)
    pos = 0

    def take(fmt, what):
        nonlocal pos
        n = struct.calcsize(fmt)
        if pos + n > len(buf):
            raise ImatrixError(f"{path}: truncated imatrix .dat file ({what} at byte {pos})")
        v = struct.unpack_from(fmt, buf, pos)
        pos += n
        return v if len(v) > 1 else v[0]

    n_entries = take("<i", "entry count")
    if not 1 <= n_entries <= _MAX_DAT_ENTRIES or n_entries * 13 > len(buf):
        raise ImatrixError(f"{path}: not an imatrix .dat file ({n_entries} entries in {len(buf)} bytes)")
    entries = {}
    for i in range(n_entries):
        n = take("<i", f"name length of entry {i}")
        if not 1 <= n <= _MAX_NAME or pos + n > len(buf):
            raise ImatrixError(f"{path}: entry {i}: bad name length {n}")
        try:
            name = buf[pos : pos + n].decode("utf-8")
        except UnicodeDecodeError:
            raise ImatrixError(f"{path}: entry {i}: the name is not UTF-8") from None
        pos += n
        ncall = take("<i", f"ncall of {name}")
        nval = take("<i", f"value count of {name}")
        if nval < 1 or pos + 4 * nval > len(buf):
            raise ImatrixError(f"{path}: entry {name}: {nval} values do not fit in the file")
        v = np.frombuffer(buf, "<f4", count=nval, offset=pos).astype(np.float32)
        pos += 4 * nval
        if ncall > 0:
            v /= np.float32(ncall)
        if name in entries:
            raise ImatrixError(f"{path}: duplicate entry {name}")
        entries[name] = _check_values(path, name, v)
    chunk_count, datasets = None, []
    if pos < len(buf):
        chunk_count = take("<i", "chunk count")
        n = take("<i", "dataset name length")
        if not 0 <= n <= len(buf) - pos:
            raise ImatrixError(f"{path}: bad dataset name length {n}")
        if n:
            datasets = [buf[pos : pos + n].decode("utf-8", errors="replace")]
        pos += n
        if pos != len(buf):
            raise ImatrixError(f"{path}: {len(buf) - pos} unexpected bytes after the imatrix data")
    return ImportanceMatrix(path, "dat", entries, datasets, chunk_count)


def _load_gguf(path):
    from .gguf_reader import read_gguf

    with read_gguf(path, copy=True) as f:
        meta = f.metadata
        kind = meta.get("general.type")
        sums = {n[: -len(".in_sum2")]: i for n, i in f.tensors.items() if n.endswith(".in_sum2")}
        if kind != "imatrix" and not sums:
            raise ImatrixError(
                f"{path}: a GGUF file without imatrix data (general.type = {kind!r}, no "
                "<tensor>.in_sum2 entries): is it a model?"
            )
        entries = {}
        for name, info in sums.items():
            counts = f.tensors.get(name + ".counts")
            if counts is None:
                raise ImatrixError(f"{path}: {name}.in_sum2 has no {name}.counts")
            for t in (info, counts):
                if t.ggml_type != 0:
                    raise ImatrixError(f"{path}: {t.name} is {t.type_name}, expected F32")
            k, n_mat = info.ne[0], (info.ne[1] if len(info.ne) > 1 else 1)
            if len(info.ne) > 2 or counts.ne[0] * (counts.ne[1] if len(counts.ne) > 1 else 1) != n_mat:
                raise ImatrixError(
                    f"{path}: {name}: in_sum2 ne = {list(info.ne)} and counts ne = "
                    f"{list(counts.ne)} do not match (expected (K, n) and (1, n))"
                )
            s = f.read(info.name).view("<f4").reshape(n_mat, k).astype(np.float32)
            c = f.read(counts.name).view("<f4").astype(np.float32)
            _check_values(path, name + ".counts", c)
            _check_values(path, name + ".in_sum2", s)
            with np.errstate(divide="ignore", invalid="ignore"):
                v = np.where(c[:, None] > 0, s / np.where(c > 0, c, 1)[:, None], np.float32(1))
            entries[name] = v.astype(np.float32)
        datasets = meta.get("imatrix.datasets", [])
        if isinstance(datasets, str):
            datasets = [datasets]
        return ImportanceMatrix(
            path, "gguf", entries, datasets, meta.get("imatrix.chunk_count"), meta.get("imatrix.chunk_size")
        )


def _load_arrays(path, fmt):
    if fmt == "npz":
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError) as exc:
            raise ImatrixError(f"{path}: not a readable .npz file ({exc})") from None
    else:
        from .safetensors_io import read_safetensors

        f = read_safetensors(path)
        arrays = {n: np.array(f.array(n)) for n in f.tensors}
    entries = {}
    for name, a in arrays.items():
        if a.dtype.kind not in "fiu" or a.ndim not in (1, 2) or a.size == 0:
            raise ImatrixError(
                f"{path}: entry {name}: expected a non-empty 1-D or 2-D float array, got {a.dtype} {a.shape}"
            )
        entries[name] = _check_values(path, name, np.ascontiguousarray(a, np.float32))
    return ImportanceMatrix(path, fmt, entries)


def load_imatrix(path) -> ImportanceMatrix:
    """Read an importance matrix: llama.cpp's GGUF or legacy .dat format, .npz or .safetensors, told apart
    by content (GGUF magic, safetensors / zip headers) and then by the file name."""
    path = os.fspath(path)
    fh, size = open_regular(path, ImatrixError)
    with fh:
        head = fh.read(16)
    low = path.lower()
    if head[:4] == b"GGUF":
        return _load_gguf(path)
    if head[:4] == b"PK\x03\x04" or low.endswith(".npz"):
        return _load_arrays(path, "npz")
    if low.endswith(".safetensors"):
        return _load_arrays(path, "safetensors")
    if low.endswith(".gguf"):
        raise ImatrixError(f"{path}: not a GGUF file (bad magic)")
    return _load_dat(path)


__all__ = ["ImatrixError", "ImportanceMatrix", "load_imatrix"]
