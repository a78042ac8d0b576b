"""Backend choice at import: override, clear errors, and no module imported for an ISA the CPU lacks."""

import json
import os
import subprocess
import sys

import pytest

import iq1kernels as iq1
from iq1kernels import _dispatch

PROBE = (
    "import json, sys, iq1kernels as iq1; "
    "print(json.dumps({'backend': iq1.backend, 'available': iq1.available_backends(), "
    "'modules': sorted(m for m in sys.modules if m.startswith('iq1kernels._backend_'))}))"
)


def run_probe(**env):
    full = dict(os.environ)
    full.pop("IQ1KERNELS_BACKEND", None)
    full.update(env)
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=full, timeout=120)
    return proc


def test_default_is_best_available():
    assert iq1.backend == iq1.available_backends()[-1] or os.environ.get("IQ1KERNELS_BACKEND")
    assert iq1.available_backends()[0] == "generic"


@pytest.mark.parametrize("name", iq1.available_backends())
def test_env_override_selects_exactly(name):
    proc = run_probe(IQ1KERNELS_BACKEND=name)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["backend"] == name


def test_unknown_override_is_a_clear_error():
    proc = run_probe(IQ1KERNELS_BACKEND="avx1024")
    assert proc.returncode != 0
    assert "unknown iq1kernels backend 'avx1024'" in proc.stderr and "available on this CPU" in proc.stderr


def test_hidden_flags_keep_modules_unimported():
    """Simulate a CPU without AVX-512: the avx512 module must never be imported, and forcing it fails."""
    if "avx512" not in _dispatch.ISA_MODULES:
        pytest.skip("no AVX-512 module on this architecture")
    proc = run_probe(IQ1KERNELS_HIDE_CPU_FLAGS="avx512f")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert "iq1kernels._backend_avx512" not in info["modules"]
    assert not any(name.startswith("avx512") for name in info["available"])
    proc = run_probe(IQ1KERNELS_HIDE_CPU_FLAGS="avx512f", IQ1KERNELS_BACKEND="avx512")
    assert proc.returncode != 0 and "lacks avx512f" in proc.stderr
    proc = run_probe(IQ1KERNELS_HIDE_CPU_FLAGS="avx2,avx512f")
    info = json.loads(proc.stdout)
    assert info["available"] == ["generic"] and info["modules"] == ["iq1kernels._backend_generic"]


def test_flag_spellings_normalized():
    assert _dispatch.normalize_flag("avx512_vnni") == _dispatch.normalize_flag("avx512vnni")
    assert _dispatch.normalize_flag(" AVX_VNNI ") == "avxvnni"


def test_show_config_reports(capsys):
    iq1.show_config()
    text = capsys.readouterr().out
    assert f"iq1kernels backend: {iq1.backend}" in text and "threads:" in text


def test_foreign_proc_cpuinfo_is_ignored(monkeypatch):
    """Under qemu-user, /proc/cpuinfo is the host's: flags without this architecture's baseline flag are
    not used, and the compiler's check decides alone."""
    import cpuinfo.cpuinfo as ci

    monkeypatch.setattr(_dispatch, "_cpuinfo_flags_cache", None)
    foreign = ["asimd", "asimddp"] if _dispatch._MACHINE in ("x86_64", "amd64") else ["sse2", "avx2"]
    monkeypatch.setattr(ci, "_get_cpu_info_from_proc_cpuinfo", lambda: {"flags": foreign})
    assert _dispatch._cpuinfo_flags() == frozenset()
    assert _dispatch.cpu_has("avx2") == (_dispatch._generic_module().cpu_supports("avx2") == 1)
    monkeypatch.setattr(_dispatch, "_cpuinfo_flags_cache", None)
