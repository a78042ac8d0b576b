"""GGUF in and out: byte-identical round trips for all four formats (R4 included), interchange with the
`gguf` package's reader and writer, ggml dimension order, atomic writes and clear errors."""
import os

import numpy as np
import pytest

import iq1kernels as iq1
from iq1kernels.gguf_io import GGUFError

from helpers import QTYPES

gguf = pytest.importorskip("gguf")


def weights(seed=0):
    W = np.random.default_rng(seed).standard_normal((64, 512)).astype(np.float32)
    return {f"blk.0.{q}.weight": iq1.quantize(W, q) for q in QTYPES}


def test_round_trip_is_byte_identical(tmp_path):
    tensors = weights()
    tensors["blk.0.attn_norm.weight"] = np.linspace(-1, 1, 512, dtype=np.float32)
    tensors["half"] = np.arange(12, dtype=np.float16).reshape(3, 4)
    meta = {"general.architecture": "llama", "general.name": "test", "layers": 3, "eps": 1e-5,
            "flag": True, "ids": [1, 2, 3]}
    path = tmp_path / "m.gguf"
    iq1.save_gguf(path, tensors, meta)
    back, meta_back = iq1.gguf_io.load_gguf(path, with_metadata=True)
    assert set(back) == set(tensors)
    for name, t in tensors.items():
        if isinstance(t, iq1.QuantizedMatrix):
            assert back[name].qtype == t.qtype and back[name].shape == t.shape
            assert back[name].data.tobytes() == t.data.tobytes()
            assert not back[name].data.flags.writeable          # zero-copy over the read-only map
        else:
            np.testing.assert_array_equal(back[name], t)
            assert back[name].dtype == t.dtype
    assert meta_back["general.name"] == "test" and meta_back["layers"] == 3 and meta_back["ids"] == [1, 2, 3]
    assert abs(meta_back["eps"] - 1e-5) < 1e-12 and meta_back["flag"] is True


def test_files_written_here_load_in_gguf_reader(tmp_path):
    tensors = {k: v for k, v in weights(1).items() if not v.format.interleaved}
    tensors["norm"] = np.ones((2, 8), np.float32)
    path = tmp_path / "plain.gguf"
    iq1.save_gguf(path, tensors, {"general.architecture": "llama"})
    reader = gguf.GGUFReader(str(path))
    got = {t.name: t for t in reader.tensors}
    for name, t in tensors.items():
        rt = got[name]
        if isinstance(t, iq1.QuantizedMatrix):
            assert int(rt.tensor_type) == t.format.ggml_id
            assert list(rt.shape) == [t.shape[1], t.shape[0]]          # ggml order: ne0 = K
            assert bytes(np.asarray(rt.data).reshape(-1).view(np.uint8)) == t.data.tobytes()
        else:
            np.testing.assert_array_equal(np.asarray(rt.data).reshape(t.shape), t)


def test_files_written_by_gguf_writer_load_here(tmp_path):
    W = np.random.default_rng(2).standard_normal((16, 256)).astype(np.float32)
    Wq = iq1.quantize(W, "iq1_m")
    path = tmp_path / "theirs.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_tensor("w", Wq.data.reshape(16, -1), raw_dtype=gguf.GGMLQuantizationType.IQ1_M)
    writer.add_tensor("b", np.arange(16, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    back = iq1.load_gguf(path)
    assert back["w"].qtype == "iq1_m" and back["w"].shape == (16, 256)
    assert back["w"].data.tobytes() == Wq.data.tobytes()
    np.testing.assert_array_equal(back["b"], np.arange(16, dtype=np.float32))
    np.testing.assert_array_equal(iq1.linear(W[:2], back["w"]), iq1.linear(W[:2], Wq))


def test_expert_tensors_stack_rows(tmp_path):
    """A 3-D expert tensor (ne = K, rows, experts), as in MoE GGUFs, loads as (experts * rows, K)."""
    W = np.random.default_rng(3).standard_normal((3 * 8, 256)).astype(np.float32)
    Wq = iq1.quantize(W, "iq1_s")
    path = tmp_path / "moe.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_tensor("ffn_up_exps", Wq.data.reshape(3, 8, -1), raw_dtype=gguf.GGMLQuantizationType.IQ1_S)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    assert iq1.gguf_io.read_gguf(path)[1]["ffn_up_exps"][1] == (256, 8, 3)
    back = iq1.load_gguf(path)["ffn_up_exps"]
    assert back.shape == (24, 256) and back.data.tobytes() == Wq.data.tobytes()


def test_errors(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"NOPE" + bytes(100))
    with pytest.raises(GGUFError, match="bad magic"):
        iq1.load_gguf(bad)
    good = tmp_path / "good.gguf"
    iq1.save_gguf(good, weights())
    truncated = tmp_path / "trunc.gguf"
    truncated.write_bytes(good.read_bytes()[:-100])
    with pytest.raises(GGUFError, match="past the end|truncated"):
        iq1.load_gguf(truncated)
    with pytest.raises(FileNotFoundError):
        iq1.load_gguf(tmp_path / "missing.gguf")


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    path = tmp_path / "out.gguf"
    iq1.save_gguf(path, weights())
    before = path.read_bytes()
    with pytest.raises(GGUFError):
        iq1.save_gguf(path, {"ok": np.ones(4, np.float32), "bad": np.array(["text"])})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.gguf"]
