"""The 2048-entry grid: the generated C tables and the numpy copy against the SHA-256 of ggml's iq1s_grid."""

import hashlib

import numpy as np
import pytest

from iq1kernels import _dispatch
from iq1kernels.grid import GRID_CODES, grid_values

SHA = {
    "codes": "e9ffebfc997ad6023063a667c0bf4eedd8ebf7f56b3da399cbc7d1b1f7ea52c6",
    "signed": "07540ffc1aeaf6ad4d97e96b0fcc765aae39671d4ae4a27bbd0e796fde167c6a",
    "unsigned": "bf92c60e2ed15644d2d948b652a55624cc35699ef5c8e0337258e332f8c47b48",
    "nibble": "29bb0f4450fab4aa61d9fa9bc62a06b4a129acf31ebf38266adb6a62ef424117",
}


@pytest.mark.parametrize("isa", [i for i in _dispatch.ISA_MODULES if _dispatch.module_runnable(i)])
@pytest.mark.parametrize("table", sorted(SHA))
def test_c_tables_match_formats_sha256(isa, table):
    tables = _dispatch._import_module(isa).grid_tables()
    assert hashlib.sha256(tables[table]).hexdigest() == SHA[table]


def test_numpy_grid_matches():
    assert hashlib.sha256(GRID_CODES.tobytes()).hexdigest() == SHA["codes"]


def test_grid_properties():
    g = grid_values()
    assert g.shape == (2048, 8)
    assert np.all(np.diff(GRID_CODES.astype(np.int64)) > 0)
    assert (g[0] == -1).all() and (g[2047] == 1).all()
    zero_rows = np.flatnonzero((g == 0).all(axis=1))
    assert list(zero_rows) == [1029]
    hist = np.bincount((g != 0).sum(axis=1), minlength=9)
    assert list(hist) == [1, 16, 112, 410, 150, 992, 114, 3, 250]


def test_gguf_grid_is_ours():
    quants = pytest.importorskip("gguf.quants")
    codes = np.frombuffer(bytes.fromhex(quants.IQ1_S.grid_hex.decode()), dtype="<u2")
    assert np.array_equal(codes, GRID_CODES)
