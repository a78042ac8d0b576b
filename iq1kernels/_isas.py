"""The instruction sets: one extension module each (iq1kernels._backend_<isa>), the one list that setup.py,
_dispatch.py and the tests read.

For each ISA: the machines it is built on (platform.machine().lower()), the CPU flags its module needs before
it may be imported at all (its code is compiled for them: importing it elsewhere would be SIGILL, not an
exception), and its kernel variants, best last. A variant's own extra flags (avxvnni, avx512vnni, ...) are in
its C table (csrc/x86/backend_avx2.c, ...), next to the kernels that need them. The C side lists the same ISAs
in csrc/core/iq1.h (IQ1_ISAS); tests/test_dispatch.py checks that the lists agree.

This file must not import anything of the package: setup.py runs it before anything is built.
"""

from __future__ import annotations

from typing import NamedTuple

X86_64 = ("x86_64", "amd64")
AARCH64 = ("aarch64", "arm64")


class Isa(NamedTuple):
    name: str
    machines: tuple[str, ...] | None  # None: built everywhere
    requires: tuple[str, ...]  # CPU flags (py-cpuinfo spelling, no underscores)
    variants: tuple[str, ...]  # kernel tables, best last


AVX2_FLAGS = ("avx2", "fma", "f16c")
ISAS = (
    Isa("generic", None, (), ("generic",)),
    Isa("avx2", X86_64, AVX2_FLAGS, ("avx2", "avx2_vnni")),
    Isa(
        "avx512",
        X86_64,
        AVX2_FLAGS + ("avx512f", "avx512bw", "avx512vl", "avx512dq"),
        ("avx512", "avx512_vnni", "avx512_amx"),
    ),
    Isa("neon", AARCH64, ("asimd",), ("neon", "neon_dotprod")),
)


def built_on(machine: str) -> tuple[str, ...]:
    """Names of the ISA modules built (and importable, CPU permitting) on `machine`."""
    machine = machine.lower()
    return tuple(isa.name for isa in ISAS if isa.machines is None or machine in isa.machines)
