"""GGUF metadata with its value types: every key keeps the type it was read with (INT32 stays INT32,
FLOAT64 stays FLOAT64, arrays keep their element type, nested arrays theirs), so a file read and written
back carries the same key/value bytes.

    meta = GGUFMetadata()                       # or the one load_gguf(..., with_metadata=True) returns
    meta["general.name"] = "my model"           # plain values: the type is inferred (rules below)
    meta["general.file_type"] = GGUFValue(24, "uint32")          # an explicit type
    meta.set("my.ids", [1, 2, 3], "array", element_type="int16")  # the same, as a call
    meta["general.file_type"], meta.type_of("general.file_type")  # 24, GGUFValueType.UINT32
    meta.typed("my.ids")                        # GGUFValue([1, 2, 3], ARRAY, element_type=INT16)

Reading a key gives a plain Python value (int, float, bool, str, list; nested arrays as nested lists).

Type of a plain value: bool -> BOOL; str -> STRING; a Python int -> UINT32 when in 0 .. 2**32-1, INT32
when in -2**31 .. -1, else UINT64 / INT64 (beyond 64 bits: GGUFError); a Python float -> FLOAT32 (the
type llama.cpp expects for its float keys; a finite value beyond float32's range is a GGUFError "out of
float32 range" — store it as GGUFValue(x, "float64")); numpy scalars keep their dtype (np.int8 -> INT8,
np.float64 -> FLOAT64, ...); a list / tuple / 1-D numpy array -> ARRAY of its elements' common type
(ints of mixed sign -> the smallest signed type holding them all; an empty list -> ARRAY of UINT32).
Assigning a plain value to a key that already exists keeps that key's type when the value fits it (an
int in range for an integer type; an int or float for a float type; a list whose elements fit the element
type), so `meta["general.file_type"] = 24` on a file's metadata stays UINT32.

Strings are UTF-8; string *values* that are not valid UTF-8 are kept byte-exact (decoded with
"surrogateescape", encoded back the same way). Keys must be valid UTF-8.
"""

from __future__ import annotations

import math
import struct
from collections.abc import MutableMapping
from enum import IntEnum

import numpy as np

from .gguf_types import MAX_ARRAY_DEPTH, MAX_NAME_BYTES, MAX_STRING_BYTES, GGUFError


class GGUFValueType(IntEnum):
    UINT8 = 0
    INT8 = 1
    UINT16 = 2
    INT16 = 3
    UINT32 = 4
    INT32 = 5
    FLOAT32 = 6
    BOOL = 7
    STRING = 8
    ARRAY = 9
    UINT64 = 10
    INT64 = 11
    FLOAT64 = 12


T = GGUFValueType
# fixed-size types: struct code, numpy dtype
SCALAR_FORMATS = {
    T.UINT8: "<B",
    T.INT8: "<b",
    T.UINT16: "<H",
    T.INT16: "<h",
    T.UINT32: "<I",
    T.INT32: "<i",
    T.FLOAT32: "<f",
    T.BOOL: "<?",
    T.UINT64: "<Q",
    T.INT64: "<q",
    T.FLOAT64: "<d",
}
SCALAR_DTYPES = {t: np.dtype(f) for t, f in SCALAR_FORMATS.items()}
INT_RANGES = {
    T.UINT8: (0, 1 << 8),
    T.INT8: (-(1 << 7), 1 << 7),
    T.UINT16: (0, 1 << 16),
    T.INT16: (-(1 << 15), 1 << 15),
    T.UINT32: (0, 1 << 32),
    T.INT32: (-(1 << 31), 1 << 31),
    T.UINT64: (0, 1 << 64),
    T.INT64: (-(1 << 63), 1 << 63),
}
FLOAT_TYPES = (T.FLOAT32, T.FLOAT64)
_NUMPY_KINDS = {
    np.dtype(np.uint8): T.UINT8,
    np.dtype(np.int8): T.INT8,
    np.dtype(np.uint16): T.UINT16,
    np.dtype(np.int16): T.INT16,
    np.dtype(np.uint32): T.UINT32,
    np.dtype(np.int32): T.INT32,
    np.dtype(np.uint64): T.UINT64,
    np.dtype(np.int64): T.INT64,
    np.dtype(np.float32): T.FLOAT32,
    np.dtype(np.float16): T.FLOAT32,
    np.dtype(np.float64): T.FLOAT64,
    np.dtype(np.bool_): T.BOOL,
}
_F32_MAX = float(np.finfo(np.float32).max)


def value_type(t) -> GGUFValueType:
    """A GGUFValueType from itself, its int, or its name ("uint32", "FLOAT64", "array")."""
    if isinstance(t, GGUFValueType):
        return t
    if isinstance(t, str):
        try:
            return GGUFValueType[t.strip().upper()]
        except KeyError:
            raise GGUFError(f"unknown GGUF value type {t!r}; one of {', '.join(v.name.lower() for v in T)}") from None
    if isinstance(t, int) and not isinstance(t, bool) and t in T._value2member_map_:
        return GGUFValueType(t)
    raise GGUFError(f"unknown GGUF value type {t!r}")


class GGUFValue:
    """A metadata value with its GGUF type (and, for arrays, the element type). Elements of an array of
    arrays are GGUFValues themselves (each inner array has its own element type)."""

    __slots__ = ("value", "type", "element_type")

    def __init__(self, value, type, element_type=None, *, _depth=0):
        self.type = value_type(type)
        if self.type == T.ARRAY:
            if element_type is None:
                element_type = infer(value, _depth).element_type
            self.element_type = value_type(element_type)
        else:
            if element_type is not None:
                raise GGUFError(f"element_type is only for arrays, not {self.type.name}")
            self.element_type = None
        self.value = _coerce(value, self.type, self.element_type, _depth)

    def plain(self):
        """The value as plain Python (nested arrays as nested lists)."""
        if self.type == T.ARRAY and self.element_type == T.ARRAY:
            return [v.plain() for v in self.value]
        return list(self.value) if self.type == T.ARRAY else self.value

    def encode(self) -> bytes:
        """The value's bytes in a GGUF file (without the leading type field)."""
        return b"".join(_encode(self))

    def __eq__(self, other):
        return (
            isinstance(other, GGUFValue)
            and self.type == other.type
            and self.element_type == other.element_type
            and self.encode() == other.encode()
        )

    def __repr__(self):
        v = self.value if self.type != T.ARRAY or len(self.value) <= 8 else f"[{len(self.value)} values]"
        et = f", element_type={self.element_type.name}" if self.element_type is not None else ""
        return f"GGUFValue({v!r}, {self.type.name}{et})"


def _coerce(value, t, et, depth):
    """`value` checked and normalised for type t (element type et), or a GGUFError that says why not."""
    if t in INT_RANGES:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise GGUFError(f"{t.name} value must be an integer, got {value!r}")
        lo, hi = INT_RANGES[t]
        if not lo <= int(value) < hi:
            raise GGUFError(f"{int(value)} is out of range for {t.name} ({lo} .. {hi - 1})")
        return int(value)
    if t in FLOAT_TYPES:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise GGUFError(f"{t.name} value must be a number, got {value!r}")
        v = float(value)
        if t == T.FLOAT32:
            if math.isfinite(v) and abs(v) > _F32_MAX:
                raise GGUFError(f"{v!r} is out of float32 range: store it as GGUFValue(x, 'float64')")
            v = struct.unpack("<f", struct.pack("<f", v))[0]
        return v
    if t == T.BOOL:
        if not isinstance(value, (bool, np.bool_)):
            raise GGUFError(f"BOOL value must be a bool, got {value!r}")
        return bool(value)
    if t == T.STRING:
        if isinstance(value, (bytes, bytearray)):
            value = bytes(value).decode("utf-8", errors="surrogateescape")
        if not isinstance(value, str):
            raise GGUFError(f"STRING value must be a str, got {type(value).__name__}")
        if len(value) > MAX_STRING_BYTES or len(_utf8(value)) > MAX_STRING_BYTES:
            raise GGUFError(f"string value longer than {MAX_STRING_BYTES} bytes")
        return value
    # ARRAY
    if depth >= MAX_ARRAY_DEPTH:
        raise GGUFError(f"metadata arrays nest deeper than {MAX_ARRAY_DEPTH} levels")
    if isinstance(value, np.ndarray):
        if value.ndim != 1:
            raise GGUFError(f"a numpy array as metadata must be 1-D, got shape {value.shape}")
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        raise GGUFError(f"ARRAY value must be a list, got {type(value).__name__}")
    if et == T.ARRAY:
        out = []
        for v in value:
            if not isinstance(v, GGUFValue):
                v = GGUFValue(v, T.ARRAY, _depth=depth + 1)
            elif v.type != T.ARRAY:
                raise GGUFError(f"an array of arrays holds a {v.type.name} value")
            out.append(v)
        return out
    if et in INT_RANGES or et in FLOAT_TYPES:
        try:  # fast path for long numeric arrays (tokenizer scores, token types)
            arr = np.asarray(value)
            if arr.ndim == 1 and (
                arr.dtype.kind in "iu" and et in INT_RANGES or arr.dtype.kind in "iuf" and et in FLOAT_TYPES
            ):
                if et in INT_RANGES and arr.size:
                    lo, hi = INT_RANGES[et]
                    if int(arr.min()) < lo or int(arr.max()) >= hi:
                        raise GGUFError(f"array values out of range for {et.name} ({lo} .. {hi - 1})")
                elif et == T.FLOAT32 and arr.size:
                    finite = np.abs(arr[np.isfinite(arr)]) if arr.dtype.kind == "f" else np.abs(arr)
                    if finite.size and float(finite.max()) > _F32_MAX:
                        raise GGUFError("array values are out of float32 range: use element_type 'float64'")
                return arr.astype(SCALAR_DTYPES[et]).tolist()
        except (OverflowError, TypeError, ValueError) as exc:
            if isinstance(exc, GGUFError):
                raise
    return [_coerce(v, et, None, depth + 1) for v in value]


def _utf8(s: str) -> bytes:
    return s.encode("utf-8", errors="surrogateescape")


def _int_type(v: int) -> GGUFValueType:
    if 0 <= v < 1 << 32:
        return T.UINT32
    if -(1 << 31) <= v < 0:
        return T.INT32
    if 0 <= v < 1 << 64:
        return T.UINT64
    if -(1 << 63) <= v < 0:
        return T.INT64
    raise GGUFError(f"integer {v} does not fit in 64 bits")


def infer(value, depth=0) -> GGUFValue:
    """The GGUFValue of a plain Python / numpy value (the rules in the module docstring)."""
    if isinstance(value, GGUFValue):
        return value
    if isinstance(value, (bool, np.bool_)):
        return GGUFValue(bool(value), T.BOOL)
    if isinstance(value, np.generic) and value.dtype in _NUMPY_KINDS:
        return GGUFValue(value.item(), _NUMPY_KINDS[value.dtype])
    if isinstance(value, int):
        return GGUFValue(value, _int_type(value))
    if isinstance(value, float):
        return GGUFValue(value, T.FLOAT32)
    if isinstance(value, (str, bytes, bytearray)):
        return GGUFValue(value, T.STRING)
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype in _NUMPY_KINDS:
        return GGUFValue(value, T.ARRAY, _NUMPY_KINDS[value.dtype], _depth=depth)
    if isinstance(value, (list, tuple)):
        if depth >= MAX_ARRAY_DEPTH:
            raise GGUFError(f"metadata arrays nest deeper than {MAX_ARRAY_DEPTH} levels")
        return GGUFValue(list(value), T.ARRAY, _common_type(value, depth), _depth=depth)
    raise GGUFError(f"a metadata value of type {type(value).__name__} cannot be stored in GGUF")


def _common_type(values, depth) -> GGUFValueType:
    if not values:
        return T.UINT32
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        lo, hi = min(values), max(values)
        if lo >= 0:
            return _int_type(hi)
        return T.INT32 if -(1 << 31) <= lo and hi < 1 << 31 else T.INT64
    types = {infer(v, depth + 1).type if not isinstance(v, (list, tuple)) else T.ARRAY for v in values}
    if len(types) != 1:
        raise GGUFError(
            f"metadata arrays hold values of one type, got {sorted(t.name for t in types)}: "
            "give the element type with GGUFValue(values, 'array', element_type)"
        )
    return types.pop()


def _fits(value, gv: GGUFValue) -> bool:
    try:
        GGUFValue(value, gv.type, gv.element_type)
        return True
    except GGUFError:
        return False


def _encode(gv: GGUFValue):
    t = gv.type
    if t in SCALAR_FORMATS:
        yield struct.pack(SCALAR_FORMATS[t], gv.value)
    elif t == T.STRING:
        b = _utf8(gv.value)
        yield struct.pack("<Q", len(b))
        yield b
    else:
        et = gv.element_type
        yield struct.pack("<IQ", et, len(gv.value))
        if et in SCALAR_DTYPES:
            yield np.asarray(gv.value, dtype=SCALAR_DTYPES[et]).tobytes() if gv.value else b""
        elif et == T.STRING:
            for s in gv.value:
                b = _utf8(s)
                yield struct.pack("<Q", len(b))
                yield b
        else:
            for inner in gv.value:
                yield from _encode(inner)


def check_key(key) -> str:
    if not isinstance(key, str) or not key:
        raise GGUFError(f"metadata keys must be non-empty strings, got {key!r}")
    try:
        n = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise GGUFError(f"metadata key {key!r} is not valid UTF-8") from None
    if n > MAX_NAME_BYTES:
        raise GGUFError(f"metadata key {key[:40]!r}... is longer than {MAX_NAME_BYTES} bytes")
    return key


class GGUFMetadata(MutableMapping):
    """Ordered GGUF key/values that remember their types; `m[key]` gives the plain value."""

    def __init__(self, items=None):
        self._items = {}
        if items is not None:
            if isinstance(items, GGUFMetadata):
                self._items = dict(items._items)
            else:
                for k, v in dict(items).items():
                    self[k] = v

    def __getitem__(self, key):
        return self._items[key].plain()

    def __setitem__(self, key, value):
        check_key(key)
        old = self._items.get(key)
        if isinstance(value, GGUFValue):
            self._items[key] = value
        elif old is not None and _fits(value, old):
            self._items[key] = GGUFValue(value, old.type, old.element_type)
        else:
            try:
                self._items[key] = infer(value)
            except GGUFError as exc:
                raise GGUFError(f"metadata key {key}: {exc}") from None

    def set(self, key, value, type=None, element_type=None):
        """Set `key` with an explicit GGUF type (or inferred when type is None)."""
        if type is None:
            self[key] = value
            return
        try:
            self[key] = GGUFValue(value, type, element_type)
        except GGUFError as exc:
            raise GGUFError(f"metadata key {key}: {exc}") from None

    def __delitem__(self, key):
        del self._items[key]

    def __iter__(self):
        return iter(self._items)

    def __len__(self):
        return len(self._items)

    def typed(self, key) -> GGUFValue:
        return self._items[key]

    def type_of(self, key) -> GGUFValueType:
        return self._items[key].type

    def typed_items(self):
        return self._items.items()

    def copy(self) -> GGUFMetadata:
        return GGUFMetadata(self)

    def __repr__(self):
        return "GGUFMetadata({" + ", ".join(f"{k!r}: {v!r}" for k, v in self._items.items()) + "})"


def as_metadata(metadata) -> GGUFMetadata:
    """A GGUFMetadata from None, a GGUFMetadata (copied) or a dict of plain values / GGUFValues."""
    if metadata is None:
        return GGUFMetadata()
    if not isinstance(metadata, (GGUFMetadata, dict)):
        try:
            metadata = dict(metadata)
        except (TypeError, ValueError):
            raise TypeError(f"metadata must be a mapping, got {type(metadata).__name__}") from None
    return GGUFMetadata(metadata)
