"""The C conformance driver (tools/conformance): every backend table the CPU can run against the portable
C backend, natively; for aarch64 (NEON with and without dotprod) under qemu when the cross toolchain is
installed; and on x86-64 the AVX-512 and AVX-VNNI backends with SIMDe emulating those instructions when its
headers are installed, so that they are checked on CPUs without them too (.ci/run installs both)."""

import os
import shutil
import subprocess

import pytest

from helpers import simde_available

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "tools", "conformance", "build.sh")
ARM = os.path.join(ROOT, "tools", "arm64", "conformance.sh")
SIMDE = os.path.join(ROOT, "tools", "avx512_simde", "build.sh")


def run(cmd, timeout):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    return proc.returncode, proc.stdout + proc.stderr


def test_native_conformance(tmp_path):
    if not shutil.which("gcc"):
        pytest.skip("no C compiler")
    out = str(tmp_path / "conformance")
    rc, text = run([BUILD, "native", out], 300)
    assert rc == 0, text
    rc, text = run([out], 600)
    assert rc == 0 and " 0 failed" in text, text


@pytest.mark.skipif(
    not (shutil.which("aarch64-linux-gnu-gcc") and shutil.which("qemu-aarch64-static")),
    reason="aarch64 cross toolchain / qemu-user-static not installed (.ci/run installs them)",
)
def test_aarch64_conformance_under_qemu():
    if not os.path.exists(ARM):
        pytest.fail("tools/arm64/conformance.sh is missing")
    rc, text = run([ARM], 1800)
    assert rc == 0, text


@pytest.mark.skipif(
    not simde_available() or not shutil.which("gcc"),
    reason="x86-64 with gcc and SIMDe headers needed (.ci/run installs libsimde-dev)",
)
def test_avx512_conformance_under_simde(tmp_path):
    out = str(tmp_path / "conformance-avx512-simde")
    rc, text = run([SIMDE, out], 900)
    assert rc == 0, text
    rc, text = run([out, "--long"], 900)  # with the large and odd shapes: ~40 s emulated
    assert rc == 0 and " 0 failed" in text, text
    for backend in ("avx2_vnni", "avx512", "avx512_vnni"):  # emulated, so never skipped
        assert f"\n{backend}: ok" in text, text
