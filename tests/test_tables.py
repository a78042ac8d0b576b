"""One table per fact: the format table (csrc/core/formats.h, which iq1kernels.FORMATS is built from) against
facts from elsewhere, and the ISA list (iq1kernels/_isas.py) against the C side."""

import os
import re
from collections import Counter

import numpy as np
import pytest

import iq1kernels as iq1
from iq1kernels import _dispatch, _isas

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CSRC = os.path.join(ROOT, "iq1kernels", "csrc")


def test_formats_come_from_the_c_table():
    table = _dispatch._generic_module().format_table()
    assert [row["name"] for row in table] == list(iq1.FORMATS)
    for row in table:
        fmt = iq1.FORMATS[row["name"]]
        assert (
            fmt.code,
            fmt.ggml_id,
            fmt.block_k,
            fmt.block_bytes,
            fmt.rows_multiple,
            fmt.group_meta,
            fmt.k_multiple,
            fmt.delta_k,
        ) == (
            row["code"],
            row["ggml_id"],
            row["block_k"],
            row["block_bytes"],
            row["rows_per_group"],
            row["group_head_bytes"],
            row["k_multiple"],
            row["delta_k"],
        )


def test_formats_agree_with_ggml():
    gguf = pytest.importorskip("gguf")
    for name in ("iq1_s", "iq1_m"):
        ggml_type = getattr(gguf.GGMLQuantizationType, name.upper())
        fmt = iq1.FORMATS[name]
        assert fmt.ggml_id == int(ggml_type)
        assert (fmt.block_k, fmt.block_bytes) == tuple(gguf.GGML_QUANT_SIZES[ggml_type])


def test_r4_formats_have_their_bits_per_weight():
    """IQ1_S_R4: 1.5 bpw, IQ1_M_R4: 1.75 (plus the four fp16 row scales of every group of 4 rows)."""
    k = 1 << 16
    for name, bpw in (("iq1_s_r4", 1.5), ("iq1_m_r4", 1.75)):
        fmt = iq1.FORMATS[name]
        assert fmt.nbytes((4, k)) == 8 + k // 32 * (4 * bpw * 32 // 8)
        assert fmt.rows_multiple == 4 and fmt.ggml_id in (219, 229)


def test_kernels_take_exactly_the_table_shapes():
    """The Cython shape check reads the same table: one row group and one K multiple pass, less does not."""
    generic = _dispatch.resolve("generic").module
    for name, fmt in iq1.FORMATS.items():
        m, k = fmt.rows_multiple, fmt.k_multiple
        W = iq1.quantize(np.random.default_rng(0).standard_normal((m, k)), name)
        assert W.nbytes == fmt.nbytes((m, k))
        out = np.empty((m, k), np.float32)
        generic.dequantize(0, fmt.code, W.data, m, k, out, 1)
        np.testing.assert_array_equal(out, W.dequantize())
        for bad_m, bad_k in ((m, k // 2), (m + 1, k) if m > 1 else (m, k + 64)):
            with pytest.raises(ValueError, match="not allowed"):
                generic.dequantize(0, fmt.code, W.data, bad_m, bad_k, out, 1)


def c_isa_list():
    text = open(os.path.join(CSRC, "core", "iq1.h")).read()
    body = re.search(r"#define IQ1_ISAS\(X\)(.*)", text).group(1)
    return re.findall(r"X\((\w+)\)", body)


def test_isa_list_is_the_same_in_c():
    assert c_isa_list() == [isa.name for isa in _isas.ISAS]
    for isa in _isas.ISAS:
        assert os.path.exists(os.path.join(ROOT, "iq1kernels", f"_backend_{isa.name}.pyx"))


def test_compiled_variants_are_the_listed_ones():
    """Every module this CPU can import has exactly the variants of the ISA list, in its order, and each
    variant's own CPU flags (its C table) include the module's."""
    checked = 0
    for isa in _isas.ISAS:
        if isa.name not in _dispatch.ISA_MODULES or not _dispatch.module_runnable(isa.name):
            continue
        variants = _dispatch._import_module(isa.name).variants()
        assert tuple(name for name, _ in variants) == isa.variants
        for name, requires in variants:
            assert set(isa.requires) <= {_dispatch.normalize_flag(f) for f in requires.split()}, name
        checked += 1
    assert checked >= 1


def test_header_names_are_unique_across_folders():
    """csrc's folders are all on the include path and files include each other by name."""
    names = Counter(f for _, _, files in os.walk(CSRC) for f in files)
    assert [n for n, c in names.items() if c > 1] == []
