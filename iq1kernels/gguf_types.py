"""What the GGUF reader and writer agree on: the error class, the limits both enforce, the ggml tensor
types (names, block sizes, bytes per block) and the size arithmetic (Python ints, so nothing wraps).

The limits are checked on read *and* on write, so every file written here loads here:

    MAX_DIMS           4        dimensions of a tensor (ggml's GGML_MAX_DIMS)
    MAX_ARRAY_DEPTH    4        nesting of metadata arrays (an array of arrays of ... of scalars)
    MAX_STRING_BYTES   2**30    bytes of one key, tensor name or string value
    MAX_NAME_BYTES     65535    bytes of a tensor name or metadata key
    MAX_ALIGNMENT      2**20    `general.alignment` (it must also be a power of two, stored as UINT32)
    MAX_ELEMENTS       2**63-1  elements of a tensor; its byte size must fit in int64 too
"""

from __future__ import annotations

import math

from .formats import BY_GGML_ID


class GGUFError(ValueError):
    """A file that is not valid GGUF, or a tensor / metadata value that cannot be stored in one.
    The message names the file and the tensor or key concerned."""


MAX_DIMS = 4
MAX_ARRAY_DEPTH = 4
MAX_STRING_BYTES = 1 << 30
MAX_NAME_BYTES = 65535
MAX_ALIGNMENT = 1 << 20
MAX_ELEMENTS = (1 << 63) - 1
DEFAULT_ALIGNMENT = 32

# ggml type id -> (name, values per block, bytes per block). Mainline ggml's table; the row-interleaved
# IQ1 types of ik_llama.cpp come from formats.py (their size is per group of 4 rows, see tensor_nbytes).
GGML_TYPES = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34),
    9: ("Q8_1", 32, 40),
    10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210),
    15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66),
    17: ("IQ2_XS", 256, 74),
    18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50),
    20: ("IQ4_NL", 32, 18),
    21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82),
    23: ("IQ4_XS", 256, 136),
    24: ("I8", 1, 1),
    25: ("I16", 1, 2),
    26: ("I32", 1, 4),
    27: ("I64", 1, 8),
    28: ("F64", 1, 8),
    29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2),
    34: ("TQ1_0", 256, 54),
    35: ("TQ2_0", 256, 66),
    39: ("MXFP4", 32, 17),
}
GGML_TYPE_IDS = {name: tid for tid, (name, _, _) in GGML_TYPES.items()}
for _f in BY_GGML_ID.values():
    GGML_TYPE_IDS.setdefault(_f.name.upper(), _f.ggml_id)
_gguf_types_merged = False


def _merge_gguf_package_types():
    """Types the installed `gguf` package knows beyond the table above (newer ggml types)."""
    global _gguf_types_merged
    if _gguf_types_merged:
        return
    _gguf_types_merged = True
    try:
        from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType
    except ImportError:
        return
    for t, (block, size) in GGML_QUANT_SIZES.items():
        if int(t) not in GGML_TYPES and int(t) not in BY_GGML_ID:
            GGML_TYPES[int(t)] = (GGMLQuantizationType(t).name, int(block), int(size))
            GGML_TYPE_IDS.setdefault(GGMLQuantizationType(t).name, int(t))


def type_name(ggml_type: int) -> str:
    """ "Q8_0", "IQ1_S_R4", ... or "type 139" for an id this package and `gguf` do not know."""
    if ggml_type in BY_GGML_ID:
        return BY_GGML_ID[ggml_type].name.upper()
    _merge_gguf_package_types()
    return GGML_TYPES[ggml_type][0] if ggml_type in GGML_TYPES else f"type {ggml_type}"


def type_id(ggml_type) -> int:
    """A ggml type id from an int (any id, known or not, 0 <= id < 2**32) or a known name ("q8_0")."""
    if isinstance(ggml_type, str):
        _merge_gguf_package_types()
        tid = GGML_TYPE_IDS.get(ggml_type.strip().upper())
        if tid is None:
            raise GGUFError(f"unknown ggml type name {ggml_type!r}")
        return tid
    tid = check_int(ggml_type, "ggml type")
    if not 0 <= tid < 1 << 32:
        raise GGUFError(f"ggml type id {tid} is outside 0 .. 2**32-1")
    return tid


def check_int(value, what) -> int:
    """`value` as a Python int; an int, numpy integer or anything with __index__ — not bool, float or str."""
    if isinstance(value, bool) or not hasattr(type(value), "__index__"):
        raise TypeError(f"{what} must be an integer, got {value!r}")
    return int(value.__index__())


def check_ne(ne, what) -> tuple:
    """ggml dimensions (innermost first) as a tuple of positive ints within the limits."""
    try:
        dims = tuple(check_int(d, f"{what}: dimension") for d in ne)
    except TypeError as exc:
        raise GGUFError(str(exc)) from None
    if not 1 <= len(dims) <= MAX_DIMS:
        raise GGUFError(f"{what}: {len(dims)} dimensions (1 to {MAX_DIMS} allowed)")
    for i, d in enumerate(dims):
        if d <= 0:
            raise GGUFError(f"{what}: dimension ne[{i}] = {d} must be positive")
    if math.prod(dims) > MAX_ELEMENTS:
        raise GGUFError(f"{what}: dimensions {list(dims)} have more than 2**63-1 elements")
    return dims


def tensor_nbytes(ggml_type: int, ne, what="tensor"):
    """Exact bytes of a tensor of `ggml_type` with dims `ne` (innermost first, already checked), or None
    when the type is unknown. A shape its type cannot hold (ne[0] not a multiple of the block, R4 rows not
    a multiple of 4) is a GGUFError naming `what`."""
    n = math.prod(ne)
    if ggml_type in BY_GGML_ID:
        fmt = BY_GGML_ID[ggml_type]
        rows = n // ne[0]
        if ne[0] % fmt.block_k or rows % fmt.rows_multiple:
            raise GGUFError(
                f"{what}: {fmt.name.upper()} needs ne[0] a multiple of {fmt.block_k}"
                + (f" and a multiple of {fmt.rows_multiple} rows" if fmt.rows_multiple > 1 else "")
                + f", got ne = {list(ne)}"
            )
        nbytes = fmt.nbytes((rows, ne[0]))
    else:
        _merge_gguf_package_types()
        if ggml_type not in GGML_TYPES:
            return None
        name, block, size = GGML_TYPES[ggml_type]
        if ne[0] % block:
            raise GGUFError(f"{what}: {name} needs ne[0] a multiple of {block}, got ne = {list(ne)}")
        nbytes = n // block * size
    if nbytes > MAX_ELEMENTS:
        raise GGUFError(f"{what}: {nbytes} bytes is more than 2**63-1")
    return nbytes


class TypedDims:
    """`type_name` and numpy-order `shape` for anything with `ggml_type` and `ne` (ggml order)."""

    __slots__ = ()
    ggml_type: int  # set by the subclass
    ne: tuple  # set by the subclass

    @property
    def type_name(self) -> str:
        return type_name(self.ggml_type)

    @property
    def shape(self) -> tuple:
        """numpy order (outermost first): the reverse of ne."""
        return tuple(reversed(self.ne))


def check_alignment(value, what="general.alignment") -> int:
    """A positive power of two up to MAX_ALIGNMENT, else GGUFError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise GGUFError(f"{what} must be an integer power of two, got {value!r}")
    if value <= 0 or value & (value - 1) or value > MAX_ALIGNMENT:
        raise GGUFError(f"{what} must be a power of two between 1 and {MAX_ALIGNMENT}, got {value}")
    return value


def align_up(n: int, alignment: int) -> int:
    return -(-n // alignment) * alignment
