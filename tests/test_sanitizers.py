"""The C kernels under AddressSanitizer + UndefinedBehaviorSanitizer (tools/sanitize.sh): the conformance
driver must run clean (any report is fatal there)."""

import os
import shutil
import subprocess

import pytest

from helpers import simde_available

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def asan_available(tmp_path):
    src = tmp_path / "t.c"
    src.write_text("int main(void) { return 0; }\n")
    proc = subprocess.run(
        ["gcc", "-fsanitize=address,undefined", str(src), "-o", str(tmp_path / "t")], capture_output=True
    )
    return proc.returncode == 0


def test_conformance_clean_under_asan_ubsan(tmp_path):
    if not shutil.which("gcc") or not asan_available(tmp_path):
        pytest.skip("gcc with the ASan/UBSan runtimes is not available")
    script = [os.path.join(ROOT, "tools", "sanitize.sh"), str(tmp_path / "conf-asan")]
    proc = subprocess.run(script, capture_output=True, text=True, timeout=1200)
    if "LeakSanitizer does not work under ptrace" in proc.stderr:
        # emulated (qemu-user) runs: keep ASan and UBSan, drop only the leak checker that cannot run there
        proc = subprocess.run(
            script, capture_output=True, text=True, timeout=1200, env=dict(os.environ, IQ1_DETECT_LEAKS="0")
        )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert " 0 failed" in proc.stdout and "runtime error" not in proc.stderr


@pytest.mark.skipif(not simde_available(), reason="x86-64 with SIMDe headers needed (.ci/run installs libsimde-dev)")
def test_emulated_avx512_and_avx_vnni_clean_under_asan_ubsan(tmp_path):
    """The AVX-512 / AVX-VNNI kernels, which this CPU may not run natively, emulated by SIMDe
    (tools/avx512_simde) under the same sanitizers: every backend checked, none skipped."""
    import iq1kernels

    if {"avx2_vnni", "avx512", "avx512_vnni"} <= set(iq1kernels.available_backends()):
        pytest.skip("this CPU runs them natively: test_conformance_clean_under_asan_ubsan covers them")
    if not shutil.which("gcc") or not asan_available(tmp_path):
        pytest.skip("gcc with the ASan/UBSan runtimes is not available")
    script = [os.path.join(ROOT, "tools", "avx512_simde", "sanitize.sh"), str(tmp_path / "conf-simde-asan")]
    proc = subprocess.run(script, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert " 0 failed" in proc.stdout and "runtime error" not in proc.stderr
    for backend in ("avx2_vnni", "avx512", "avx512_vnni"):
        assert f"\n{backend}: ok" in proc.stdout, proc.stdout[-3000:]
