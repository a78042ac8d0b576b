"""CPU features, backend choice and the IQ1KERNELS_BACKEND override.

A backend name is a kernel variant ("generic", "avx2", "avx2_vnni", "avx512", "avx512_vnni", "avx512_amx",
"neon", "neon_dotprod"). Variants live in one extension module per ISA (`_backend_<isa>`, the list in
_isas.py). A module is imported only after the detected CPU flags show that the CPU can run its ISA, so a
missing instruction set is an error message, never SIGILL. Flags come from py-cpuinfo's fast /proc path (the
full query sleeps ~1 s and is only made for show_config) and are cross-checked against the compiler's own
check (cpuid / getauxval) in the baseline-compiled generic module: a flag counts only where both agree.
"""

from __future__ import annotations

import importlib
import os
import platform
import threading

from ._isas import ISAS, built_on

# The flags the whole ISA module needs before it may be imported (its variants may need more).
MODULE_REQUIRES = {isa.name: isa.requires for isa in ISAS}
_MACHINE = platform.machine().lower()
ISA_MODULES: tuple[str, ...] = built_on(_MACHINE)
# a flag every CPU of the architecture has: py-cpuinfo output without it is not about this CPU
BASELINE_FLAG = {"x86_64": "sse2", "amd64": "sse2", "aarch64": "asimd", "arm64": "asimd"}
ALL_VARIANTS = tuple(v for isa in ISAS for v in isa.variants)
VARIANT_ISA = {v: isa.name for isa in ISAS for v in isa.variants}

_lock = threading.RLock()
_modules: dict = {}
_flags_cache = None
_cpuinfo_flags_cache = None


def normalize_flag(flag: str) -> str:
    """py-cpuinfo spells some flags two ways (avx512vnni / avx512_vnni): compare without underscores."""
    return flag.strip().lower().replace("_", "")


def _cpuinfo_flags():
    """Flags from py-cpuinfo (or py-cpuinfo2) via its /proc/cpuinfo fast path; None if unavailable."""
    global _cpuinfo_flags_cache
    if _cpuinfo_flags_cache is None:
        flags = None
        try:
            from cpuinfo import cpuinfo as _ci

            info = _ci._get_cpu_info_from_proc_cpuinfo()
            flags = info.get("flags") if isinstance(info, dict) else None
        except Exception:  # old/new py-cpuinfo layouts, no /proc: fall back to the C check
            flags = None
        found = frozenset(normalize_flag(f) for f in flags) if flags else frozenset()
        # /proc/cpuinfo describing another architecture (seen under qemu-user emulation, where it is the
        # host's) is no evidence about this CPU: the compiler's check alone decides then
        baseline = BASELINE_FLAG.get(_MACHINE)
        _cpuinfo_flags_cache = found if baseline is None or baseline in found else frozenset()
    return _cpuinfo_flags_cache


def _hidden_flags():
    """IQ1KERNELS_HIDE_CPU_FLAGS="avx512f,avxvnni" pretends the CPU lacks these (tests, users)."""
    raw = os.environ.get("IQ1KERNELS_HIDE_CPU_FLAGS", "")
    return frozenset(normalize_flag(f) for f in raw.replace(",", " ").split() if f.strip())


def _generic_module():
    return _import_module("generic")


def _import_module(isa: str):
    with _lock:
        mod = _modules.get(isa)
        if mod is None:
            mod = importlib.import_module(f"iq1kernels._backend_{isa}")
            _modules[isa] = mod
        return mod


def cpu_has(flag: str) -> bool:
    """True when py-cpuinfo and the compiler's check both report `flag` (and it is not hidden)."""
    f = normalize_flag(flag)
    if f in _hidden_flags():
        return False
    c_says = _generic_module().cpu_supports(f)
    py_flags = _cpuinfo_flags()
    if c_says == 0:
        return False
    if not py_flags:  # py-cpuinfo could not tell: the compiler's check decides
        return c_says == 1
    return f in py_flags and c_says != 0


def module_runnable(isa: str) -> bool:
    return isa in ISA_MODULES and all(cpu_has(f) for f in MODULE_REQUIRES[isa])


def _module_if_compiled(isa: str):
    try:
        return _import_module(isa)
    except ImportError:
        return None


def compiled_variants():
    """{variant name: (isa module, index, requires)} for every variant built into this installation,
    importing only modules the CPU can run (never an instruction the CPU lacks); variants of other modules are
    listed by name only."""
    out = {}
    for isa in ISA_MODULES:
        if not module_runnable(isa):
            continue
        mod = _module_if_compiled(isa)
        if mod is None:
            continue
        for idx, (name, requires) in enumerate(mod.variants()):
            out[name] = (isa, idx, tuple(normalize_flag(f) for f in requires.split()))
    return out


def available_backends() -> list[str]:
    """Variant names this CPU can run, worst to best (the last one is the default)."""
    return [name for name, (_, _, req) in compiled_variants().items() if all(cpu_has(f) for f in req)]


class Backend:
    """The selected kernel variant: which module, which table."""

    def __init__(self, name: str, isa: str, index: int, module):
        self.name, self.isa, self.index, self.module = name, isa, index, module

    def __repr__(self):
        return f"Backend({self.name!r})"


def resolve(name: str | None) -> Backend:
    """The backend for `name` (None: the best available); a clear error if unknown or not runnable."""
    variants = compiled_variants()
    runnable = available_backends()
    if name is None:
        if not runnable:
            raise RuntimeError("iq1kernels: no compiled backend can run on this CPU")
        name = runnable[-1]
    key = str(name).strip().lower()
    if key not in runnable:
        if key not in ALL_VARIANTS:
            raise ValueError(
                f"unknown iq1kernels backend {name!r}; known: {', '.join(ALL_VARIANTS)}; "
                f"available on this CPU: {', '.join(runnable)}"
            )
        if key in variants:
            missing = [f for f in variants[key][2] if not cpu_has(f)]
            why = f"this CPU lacks {', '.join(missing)}"
        else:
            isa = VARIANT_ISA[key]
            if isa not in ISA_MODULES:
                why = f"it is not built for this architecture ({_MACHINE})"
            elif not module_runnable(isa):
                why = f"this CPU lacks {', '.join(f for f in MODULE_REQUIRES[isa] if not cpu_has(f))}"
            else:
                why = "it was not compiled into this installation"
        raise RuntimeError(f"iq1kernels backend {name!r} cannot be used: {why}; available: {', '.join(runnable)}")
    isa, index, _ = variants[key]
    return Backend(key, isa, index, _import_module(isa))


def full_cpu_info() -> dict:
    """py-cpuinfo's full query (slow: about a second); only for show_config / info."""
    try:
        import cpuinfo

        return cpuinfo.get_cpu_info()
    except Exception as exc:  # report, do not fail
        return {"error": repr(exc)}
