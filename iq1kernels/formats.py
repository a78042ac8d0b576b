"""The format table: names, GGML ids, block sizes, bytes per row and the shape rules (FORMATS.md §1.7)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    name: str             # "iq1_s"
    ggml_id: int          # GGML type id in GGUF files
    code: int             # index into the C kernel tables (iq1_type)
    k_multiple: int       # K must be a multiple of this (256, or 128 for the R4 types' CPU kernels)
    rows_multiple: int    # M must be a multiple of this (4 for the row-interleaved types)
    block_k: int          # values per block along K (256, or 32 for R4)
    block_bytes: int      # bytes per block (for R4: per block of 4 rows)
    group_meta: int       # bytes at the start of each row group (R4: 4 fp16 row scales)

    @property
    def interleaved(self) -> bool:
        return self.rows_multiple == 4

    def nbytes(self, shape) -> int:
        m, k = shape
        groups = m // self.rows_multiple
        return groups * (self.group_meta + (k // self.block_k) * self.block_bytes)

    def bpw(self, shape) -> float:
        m, k = shape
        return 8.0 * self.nbytes(shape) / (m * k)

    def shape_rule(self) -> str:
        rule = f"K (columns) must be a positive multiple of {self.k_multiple}"
        if self.rows_multiple > 1:
            rule += f" and M (rows) a positive multiple of {self.rows_multiple}"
        return rule

    def check_shape(self, shape) -> tuple:
        """Return (M, K) as ints or raise ValueError naming the rule."""
        try:
            m, k = (int(v) for v in shape)
        except (TypeError, ValueError):
            raise ValueError(f"{self.name}: shape must be (M, K), got {shape!r}") from None
        if m <= 0 or k <= 0 or k % self.k_multiple or m % self.rows_multiple:
            raise ValueError(f"{self.name}: shape ({m}, {k}) is not allowed: {self.shape_rule()}")
        return m, k


FORMATS = {
    f.name: f
    for f in (
        Format("iq1_s", 19, 0, 256, 1, 256, 50, 0),
        Format("iq1_m", 29, 1, 256, 1, 256, 56, 0),
        Format("iq1_s_r4", 219, 2, 128, 4, 32, 24, 8),
        Format("iq1_m_r4", 229, 3, 128, 4, 32, 28, 8),
    )
}
BY_GGML_ID = {f.ggml_id: f for f in FORMATS.values()}


def get_format(qtype) -> Format:
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
