"""Run-time configuration: backend selection, thread count, and the show_config report."""

from __future__ import annotations

import os
import sys
from typing import TextIO

from . import _dispatch, _state

use_backend = _state.use_backend
set_num_threads = _state.set_num_threads
get_num_threads = _state.get_num_threads
available_backends = _dispatch.available_backends


def select_backend_at_import() -> None:
    """Choose the backend when the package is imported, so that an invalid IQ1KERNELS_BACKEND (or one
    this CPU cannot run) fails at once, clearly. Under the `iq1kernels` command the error is left for
    cli.main to print as one line: the package is imported before main can catch anything, and every
    call that needs the backend raises the same error again."""
    try:
        _state.current_backend()
    except (ValueError, RuntimeError):
        if not _started_as_command():
            raise


def _started_as_command() -> bool:
    """True under the `iq1kernels` console script or `python -m iq1kernels` (sys.argv[0] is "-m" while
    runpy imports the package to find its __main__). A wrong guess only postpones the error to first use."""
    argv0 = sys.argv[0] if sys.argv else ""
    return argv0 == "-m" or os.path.basename(argv0) in ("iq1kernels", "iq1kernels.exe")


def config() -> dict:
    """What was detected, compiled and chosen, as a dict."""
    variants = _dispatch.compiled_variants()
    checked = sorted(
        {f for isa in _dispatch.ISA_MODULES for f in _dispatch.MODULE_REQUIRES[isa]}
        | {f for (_, _, req) in variants.values() for f in req}
    )
    gen = _dispatch._generic_module()
    return {
        "backend": _state.current_backend().name,
        "available_backends": _dispatch.available_backends(),
        "compiled_variants": {
            name: {"module": f"_backend_{isa}", "requires": list(req)} for name, (isa, _, req) in variants.items()
        },
        "isa_modules": list(_dispatch.ISA_MODULES),
        "cpu_flags": {
            f: {
                "py-cpuinfo": f in _dispatch._cpuinfo_flags(),
                "compiler": gen.cpu_supports(f),
                "used": _dispatch.cpu_has(f),
            }
            for f in checked
        },
        "threads": _state.get_num_threads(),
        "threads_source": _state.thread_source(),
        "after_fork": _state.forked_child_state(),
    }


def show_config(file: TextIO | None = None, full_cpu_info: bool = False) -> None:
    """Print the detected CPU flags, the compiled backends and the chosen one."""
    file = file or sys.stdout
    cfg = config()
    print(f"iq1kernels backend: {cfg['backend']}", file=file)
    print(f"available on this CPU: {', '.join(cfg['available_backends'])}", file=file)
    print("compiled variants:", file=file)
    for name, info in cfg["compiled_variants"].items():
        req = " ".join(info["requires"]) or "-"
        print(f"  {name:<14} {info['module']:<18} requires: {req}", file=file)
    print("CPU flags (py-cpuinfo / compiler check -> used):", file=file)
    for f, v in cfg["cpu_flags"].items():
        print(
            f"  {f:<12} {'yes' if v['py-cpuinfo'] else 'no':<4} / "
            f"{ {1: 'yes', 0: 'no', -1: 'n/a'}[v['compiler']]:<4} -> {'yes' if v['used'] else 'no'}",
            file=file,
        )
    print(f"threads: {cfg['threads']} (from {cfg['threads_source']})", file=file)
    if cfg["after_fork"]:
        print(f"  {cfg['after_fork']}", file=file)
    if full_cpu_info:
        info = _dispatch.full_cpu_info()
        print(f"CPU: {info.get('brand_raw', '?')} ({info.get('arch', '?')}, {info.get('count', '?')} cores)", file=file)
