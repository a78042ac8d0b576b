"""The C conformance driver (tools/conformance): every backend table the CPU can run against the portable
C backend, natively, and for aarch64 (NEON with and without dotprod) under qemu when the cross toolchain is
installed (.ci/run installs it)."""
import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "tools", "conformance", "build.sh")
ARM = os.path.join(ROOT, "tools", "arm64", "conformance.sh")


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


@pytest.mark.skipif(not (shutil.which("aarch64-linux-gnu-gcc") and shutil.which("qemu-aarch64-static")),
                    reason="aarch64 cross toolchain / qemu-user-static not installed (.ci/run installs them)")
def test_aarch64_conformance_under_qemu():
    if not os.path.exists(ARM):
        pytest.fail("tools/arm64/conformance.sh is missing")
    rc, text = run([ARM], 1800)
    assert rc == 0, text
