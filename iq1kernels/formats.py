"""The formats: names, GGML ids, block sizes, bytes per row and the shape rules, from the C format table
(csrc/core/formats.h) through the generic module, so that Python and the kernels cannot disagree."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Union

from . import _dispatch


@dataclass(frozen=True)
class Format:
    name: str  # "iq1_s"
    ggml_id: int  # GGML type id in GGUF files
    code: int  # index into the C kernel tables (iq1_type)
    k_multiple: int  # K must be a multiple of this (256, or 128 for the R4 types' CPU kernels)
    rows_multiple: int  # M must be a multiple of this (4 for the row-interleaved types)
    block_k: int  # values per block along K (256, or 32 for R4)
    block_bytes: int  # bytes per block (for R4: per block of 4 rows)
    group_meta: int  # bytes at the start of each row group (R4: 4 fp16 row scales)
    delta_k: int  # values sharing one delta sign (32: IQ1_S, IQ1_S_R4; 8: IQ1_M, IQ1_M_R4)

    @property
    def interleaved(self) -> bool:
        return self.rows_multiple == 4

    def nbytes(self, shape) -> int:
        """Bytes of a matrix (M, K) or of a stack of E experts (E, M, K)."""
        *lead, m, k = shape
        groups = m // self.rows_multiple
        per_matrix = groups * (self.group_meta + (k // self.block_k) * self.block_bytes)
        return per_matrix * (lead[0] if lead else 1)

    def bpw(self, shape) -> float:
        return 8.0 * self.nbytes(shape) / math.prod(shape)

    def shape_rule(self) -> str:
        rule = f"K (columns) must be a positive multiple of {self.k_multiple}"
        if self.rows_multiple > 1:
            rule += f" and M (rows) a positive multiple of {self.rows_multiple}"
        return rule

    def check_shape(self, shape) -> tuple:
        """(M, K) — or (E, M, K) for a stack of E expert matrices — as Python ints, or raise: TypeError
        for a dimension that is not an integer (8.7, "8" and True are refused; numpy integers are fine),
        ValueError naming the rule otherwise."""
        try:
            dims = tuple(shape)
        except TypeError:
            raise ValueError(f"{self.name}: shape must be (M, K) or (E, M, K), got {shape!r}") from None
        if len(dims) not in (2, 3):
            raise ValueError(f"{self.name}: shape must be (M, K) or (E, M, K), got {shape!r}")
        for v in dims:
            if isinstance(v, bool) or not hasattr(type(v), "__index__"):
                raise TypeError(f"{self.name}: shape dimensions must be integers, got {shape!r}")
        dims = tuple(int(v.__index__()) for v in dims)
        *lead, m, k = dims
        if m <= 0 or k <= 0 or k % self.k_multiple or m % self.rows_multiple:
            raise ValueError(f"{self.name}: shape ({m}, {k}) is not allowed: {self.shape_rule()}")
        if lead and lead[0] <= 0:
            raise ValueError(f"{self.name}: the number of experts must be positive, got shape {dims}")
        return dims


def _from_c_table() -> dict:
    out = {}
    for row in _dispatch._generic_module().format_table():
        out[row["name"]] = Format(
            row["name"],
            row["ggml_id"],
            row["code"],
            row["k_multiple"],
            row["rows_per_group"],
            row["block_k"],
            row["block_bytes"],
            row["group_head_bytes"],
            row["delta_k"],
        )
    return out


FORMATS = _from_c_table()
BY_GGML_ID = {f.ggml_id: f for f in FORMATS.values()}

# how an IQ1 type may be named: "iq1_s" (any case), its GGML id (19) or the Format
QType = Union[str, int, Format]


def get_format(qtype: QType) -> Format:
    """Look a format up by name ("iq1_s", "IQ1_S_R4"), GGML id (19) or Format."""
    if isinstance(qtype, Format):
        return qtype
    if isinstance(qtype, str):
        f = FORMATS.get(qtype.strip().lower())
        if f is not None:
            return f
    elif isinstance(qtype, int) and not isinstance(qtype, bool) and qtype in BY_GGML_ID:
        return BY_GGML_ID[qtype]
    raise ValueError(f"unknown IQ1 type {qtype!r}; expected one of {', '.join(FORMATS)}")
