"""The kernels' symbols in the built modules: unique in each module (a profile tells every kernel apart) and,
for every name a macro makes for a format (IQ1_NAME in csrc/core/common.h: iq1_<op>_<format>_<variant>), written
out somewhere in csrc, so that grep and ctags find where it is instantiated."""

import glob
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CSRC = os.path.join(ROOT, "iq1kernels", "csrc")
MODULES = sorted(glob.glob(os.path.join(ROOT, "iq1kernels", "_backend_*.so")))
FORMAT_NAME = re.compile(r"^iq1_\w+?_(iq1_s|iq1_m|iq1_s_r4|iq1_m_r4)_[a-z0-9_]+$")
COMPILER_SUFFIX = re.compile(r"\.(constprop|isra|part|cold|lto_priv)(\.\d+)*")

pytestmark = pytest.mark.skipif(not shutil.which("nm") or not MODULES, reason="needs nm and a built module")


def text_symbols(path):
    """(name, local) of the module's functions, C runtime and Cython glue left out."""
    out = subprocess.run(["nm", path], capture_output=True, text=True, check=True).stdout
    syms = []
    for line in out.splitlines():
        parts = line.split()
        if (
            len(parts) == 3
            and parts[1] in "tT"
            and not parts[2].startswith(("_", "$"))
            and parts[2] not in ("deregister_tm_clones", "register_tm_clones", "frame_dummy")
        ):
            syms.append((parts[2], parts[1] == "t"))
    return syms


def csrc_text():
    return "\n".join(
        open(p, encoding="utf-8").read() for p in glob.glob(os.path.join(CSRC, "**", "*.[ch]"), recursive=True)
    )


@pytest.mark.parametrize("module", MODULES, ids=os.path.basename)
def test_local_symbols_are_unique(module):
    names = [name for name, local in text_symbols(module) if local]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert not duplicates, f"local functions with the same name in {os.path.basename(module)}: {duplicates}"


@pytest.mark.parametrize("module", MODULES, ids=os.path.basename)
def test_kernel_names_are_written_out(module):
    text = csrc_text()
    names = {COMPILER_SUFFIX.sub("", name) for name, _ in text_symbols(module)}
    kernels = sorted(n for n in names if FORMAT_NAME.match(n))
    assert len(kernels) >= 8, kernels  # the matmul entries of every module at least
    missing = [n for n in kernels if not re.search(r"\b" + re.escape(n) + r"\b", text)]
    assert not missing, f"kernel names that only a macro spells (write them out where they are made): {missing}"
