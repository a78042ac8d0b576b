"""GGUF in and out: byte-identical round trips for all four IQ1 formats (R4 included) and raw tensors of
other types, interchange with the `gguf` package's reader and writer, ggml dimension order, lazy loading
(names=, copy=), 3-D expert stacks, atomic writes and clear errors."""

import os

import numpy as np
import pytest

import iq1kernels as iq1
from helpers import QTYPES
from iq1kernels.gguf_io import GGUFError, GGUFTensor, GGUFValue, read_gguf

gguf = pytest.importorskip("gguf")


def weights(seed=0):
    W = np.random.default_rng(seed).standard_normal((64, 512)).astype(np.float32)
    return {f"blk.0.{q}.weight": iq1.quantize(W, q) for q in QTYPES}


def write_with_gguf_writer(path, add):
    writer = gguf.GGUFWriter(str(path), "llama")
    add(writer)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def test_round_trip_is_byte_identical(tmp_path):
    tensors = weights()
    tensors["blk.0.attn_norm.weight"] = np.linspace(-1, 1, 512, dtype=np.float32)
    tensors["half"] = np.arange(12, dtype=np.float16).reshape(3, 4)
    tensors["double"] = np.array([1 / 3, 1e300], np.float64)
    tensors["ids"] = np.array([-5, 2**40], np.int64)
    meta = {
        "general.architecture": "llama",
        "general.name": "test",
        "layers": 3,
        "eps": 1e-5,
        "flag": True,
        "ids": [1, 2, 3],
    }
    path = tmp_path / "m.gguf"
    assert iq1.save_gguf(path, tensors, meta) == [str(path)]
    back, meta_back = iq1.load_gguf(path, with_metadata=True)
    assert list(back) == list(tensors)
    for name, t in tensors.items():
        if isinstance(t, iq1.QuantizedMatrix):
            assert back[name].qtype == t.qtype and back[name].shape == t.shape
            assert back[name].data.tobytes() == t.data.tobytes()
            assert not back[name].data.flags.writeable  # zero-copy over the read-only map
        else:
            assert isinstance(back[name], GGUFTensor) and back[name].shape == t.shape
            assert np.asarray(back[name]).dtype == t.dtype  # stored as it was: no widening
            np.testing.assert_array_equal(np.asarray(back[name]), t)
    assert meta_back["general.name"] == "test" and meta_back["layers"] == 3 and meta_back["ids"] == [1, 2, 3]
    assert meta_back["eps"] == np.float32(1e-5) and meta_back["flag"] is True
    assert meta_back.type_of("layers").name == "UINT32" and meta_back.type_of("eps").name == "FLOAT32"


def test_files_written_here_load_in_gguf_reader(tmp_path):
    tensors = {k: v for k, v in weights(1).items() if not v.format.interleaved}
    tensors["norm"] = np.ones((2, 8), np.float32)
    path = tmp_path / "plain.gguf"
    iq1.save_gguf(
        path,
        tensors,
        {"general.architecture": "llama", "x.i8": GGUFValue(-3, "int8"), "x.f64": GGUFValue(0.1, "float64")},
    )
    reader = gguf.GGUFReader(str(path))
    got = {t.name: t for t in reader.tensors}
    for name, t in tensors.items():
        rt = got[name]
        if isinstance(t, iq1.QuantizedMatrix):
            assert int(rt.tensor_type) == t.format.ggml_id
            assert list(rt.shape) == [t.shape[1], t.shape[0]]  # ggml order: ne0 = K
            assert bytes(np.asarray(rt.data).reshape(-1).view(np.uint8)) == t.data.tobytes()
        else:
            np.testing.assert_array_equal(np.asarray(rt.data).reshape(t.shape), t)
    f64 = reader.fields["x.f64"]
    assert f64.types == [gguf.GGUFValueType.FLOAT64] and f64.parts[-1][0] == 0.1
    assert reader.fields["x.i8"].types == [gguf.GGUFValueType.INT8] and reader.fields["x.i8"].parts[-1][0] == -3


def test_files_written_by_gguf_writer_load_here(tmp_path):
    W = np.random.default_rng(2).standard_normal((16, 256)).astype(np.float32)
    Wq = iq1.quantize(W, "iq1_m")
    path = tmp_path / "theirs.gguf"

    def add(writer):
        writer.add_tensor("w", Wq.data.reshape(16, -1), raw_dtype=gguf.GGMLQuantizationType.IQ1_M)
        writer.add_tensor("b", np.arange(16, dtype=np.float32))

    write_with_gguf_writer(path, add)
    back = iq1.load_gguf(path)
    assert back["w"].qtype == "iq1_m" and back["w"].shape == (16, 256)
    assert back["w"].data.tobytes() == Wq.data.tobytes()
    np.testing.assert_array_equal(np.asarray(back["b"]), np.arange(16, dtype=np.float32))
    np.testing.assert_array_equal(iq1.linear(W[:2], back["w"]), iq1.linear(W[:2], Wq))


def test_other_types_stay_raw_until_asked(tmp_path):
    """A Q8_0 tensor is a GGUFTensor of its raw bytes; dequantize() goes through gguf.quants, on request."""
    rng = np.random.default_rng(4)
    values = rng.standard_normal((4, 64)).astype(np.float32)
    q8 = gguf.quants.quantize(values, gguf.GGMLQuantizationType.Q8_0)
    bf16 = (values.view(np.uint32) >> 16).astype(np.uint16)
    path = tmp_path / "q8.gguf"

    def add(writer):
        writer.add_tensor("q8", q8, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
        writer.add_tensor("bf", bf16, raw_dtype=gguf.GGMLQuantizationType.BF16)

    write_with_gguf_writer(path, add)
    back = iq1.load_gguf(path)
    t = back["q8"]
    assert isinstance(t, GGUFTensor) and t.type_name == "Q8_0" and t.ggml_type == 8
    assert t.ne == (64, 4) and t.shape == (4, 64) and t.nbytes == q8.nbytes and not t.data.flags.writeable
    assert t.data.tobytes() == q8.tobytes()
    np.testing.assert_array_equal(t.dequantize(), gguf.quants.dequantize(q8, gguf.GGMLQuantizationType.Q8_0))
    np.testing.assert_array_equal(np.asarray(back["bf"]), (bf16.astype(np.uint32) << 16).view(np.float32))
    out = tmp_path / "again.gguf"
    iq1.save_gguf(out, back)  # passthrough: same bytes, same type
    again = iq1.load_gguf(out)
    assert again["q8"].data.tobytes() == q8.tobytes() and again["q8"].ggml_type == 8


def test_names_filter_and_copy(tmp_path):
    path = tmp_path / "m.gguf"
    tensors = weights()
    tensors["blk.1.attn_norm.weight"] = np.ones(8, np.float32)
    iq1.save_gguf(path, tensors)
    assert list(iq1.load_gguf(path, names="blk.0.*")) == list(weights())
    assert list(iq1.load_gguf(path, names=["blk.1.attn_norm.weight", "*_r4.*"])) == [
        "blk.0.iq1_s_r4.weight",
        "blk.0.iq1_m_r4.weight",
        "blk.1.attn_norm.weight",
    ]
    assert list(iq1.load_gguf(path, names=lambda n: n.endswith("iq1_m.weight"))) == ["blk.0.iq1_m.weight"]
    with pytest.raises(GGUFError, match="no tensor named 'nope'"):
        iq1.load_gguf(path, names=["nope"])
    copied = iq1.load_gguf(path, copy=True)
    mapped = iq1.load_gguf(path)
    for name in tensors:
        a, b = copied[name].data, mapped[name].data
        assert a.tobytes() == b.tobytes() and not np.shares_memory(a, b)
    os.unlink(path)  # copies do not depend on the file
    assert copied["blk.0.iq1_s.weight"].dequantize().shape == (64, 512)


def test_expert_stack_from_gguf_writer(tmp_path):
    """A 3-D expert tensor (ne = K, rows, experts), as in MoE GGUFs, loads as (E, M, K); W[e] and W[e, r0:r1]
    are zero-copy (M, K) views that linear takes without copying the weights."""
    E, M, K = 3, 8, 256
    W = np.random.default_rng(3).standard_normal((E * M, K)).astype(np.float32)
    for qtype in QTYPES:
        Wq = iq1.quantize(W, qtype)
        path = tmp_path / f"moe-{qtype}.gguf"
        gtype = {"iq1_s": 19, "iq1_m": 29}.get(qtype)
        if gtype is not None:
            write_with_gguf_writer(
                path,
                lambda w, Wq=Wq, gtype=gtype: w.add_tensor(
                    "ffn_up_exps", Wq.data.reshape(E, M, -1), raw_dtype=gguf.GGMLQuantizationType(gtype)
                ),
            )
        else:
            iq1.save_gguf(path, {"ffn_up_exps": iq1.QuantizedMatrix.from_bytes(Wq.data, qtype, (E, M, K))})
        assert read_gguf(path).tensors["ffn_up_exps"].ne == (K, M, E)
        stack = iq1.load_gguf(path)["ffn_up_exps"]
        assert stack.shape == (E, M, K) and stack.ndim == 3 and stack.data.tobytes() == Wq.data.tobytes()
        np.testing.assert_array_equal(stack.dequantize(), Wq.dequantize().reshape(E, M, K))
        x = np.random.default_rng(5).standard_normal((2, K)).astype(np.float32)
        for e in range(E):
            expert = stack[e]
            assert expert.shape == (M, K) and np.shares_memory(expert.data, stack.data)
            np.testing.assert_array_equal(iq1.linear(x, expert), iq1.linear(x, Wq[e * M : (e + 1) * M]))
        half = stack[1, 4:8]
        assert half.shape == (4, K) and np.shares_memory(half.data, stack.data)
        np.testing.assert_array_equal(iq1.linear(x, half), iq1.linear(x, Wq[M + 4 : M + 8]))
        assert stack[-1].data.tobytes() == stack[E - 1].data.tobytes()
        with pytest.raises(ValueError, match=r"W\[e\]"):
            iq1.linear(x, stack)
        with pytest.raises(IndexError, match="out of range"):
            stack[E]
        if Wq.format.interleaved:
            with pytest.raises(IndexError, match="multiples of 4"):
                stack[0, 1:5]
        again = tmp_path / f"again-{qtype}.gguf"
        iq1.save_gguf(again, {"ffn_up_exps": stack})
        assert read_gguf(again).tensors["ffn_up_exps"].ne == (K, M, E)


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
    for bad in (np.array(["text"]), np.array([True]), np.ones(3, np.uint16), np.zeros((1,) * 5, np.float32)):
        with pytest.raises(GGUFError):
            iq1.save_gguf(path, {"ok": np.ones(4, np.float32), "bad": bad})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.gguf"]


def test_writer_abort_mid_stream_leaves_nothing(tmp_path):
    """An exception while streaming tensors removes the temporary file; the old output stays."""
    from iq1kernels.gguf_writer import GGUFFileWriter

    path = tmp_path / "out.gguf"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with GGUFFileWriter(path, {"a": 1}) as w:
            w.add_tensor_info("t0", "F32", (4,))
            w.add_tensor_info("t1", "F32", (4,))
            w.write_tensor("t0", np.ones(4, np.float32))
            assert len(os.listdir(tmp_path)) == 2  # old output + its temporary sibling
            raise RuntimeError("stop")
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["out.gguf"]
    w = GGUFFileWriter(path)
    w.add_tensor_info("t0", "F32", (4,))
    with pytest.raises(GGUFError, match="out of order"):
        w.write_tensor("t1", np.ones(4, np.float32))
    with pytest.raises(GGUFError, match="16 declared"):
        w.write_tensor("t0", np.ones(3, np.float32))
    with pytest.raises(GGUFError, match="not written"):
        w.close()
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["out.gguf"]


def test_memory_of_writing_and_loading_is_bounded(tmp_path):
    """Streaming 32 tensors of 2 MB through GGUFFileWriter allocates about one tensor, not the model, and
    load_gguf of the result allocates nothing proportional to it (no float32 copy, no byte copy)."""
    import tracemalloc

    from iq1kernels.gguf_writer import GGUFFileWriter

    path = tmp_path / "big.gguf"
    n, size = 32, 2 << 20
    tracemalloc.start()
    try:
        with GGUFFileWriter(path, {"general.architecture": "llama"}) as w:
            for i in range(n):
                w.add_tensor_info(f"t{i}", "F32" if i % 2 else "Q8_0", (size // 4,) if i % 2 else (size // 34 * 32,))
            for i in range(n):
                nbytes = size if i % 2 else size // 34 * 34
                w.write_tensor(f"t{i}", np.full(nbytes, i, np.uint8))
        _, write_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        tensors = iq1.load_gguf(path)
        assert len(tensors) == n and all(isinstance(t, GGUFTensor) for t in tensors.values())
        _, load_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert os.path.getsize(path) > n * size * 0.99
    print(f"write peak {write_peak} B, load peak {load_peak} B for {n} x {size} B")
    assert write_peak < 3 * size, write_peak  # one tensor (and the header), not 64 MB
    assert load_peak < size // 4, load_peak  # views of the map only


def test_saving_over_the_file_it_was_loaded_from(tmp_path):
    """The new file is renamed over the old one, so the loaded views keep reading the old bytes."""
    path = tmp_path / "m.gguf"
    iq1.save_gguf(path, weights())
    tensors, meta = iq1.load_gguf(path, with_metadata=True)
    before = {n: t.data.tobytes() for n, t in tensors.items()}
    meta["general.name"] = "again"
    iq1.save_gguf(path, tensors, meta)
    assert {n: t.data.tobytes() for n, t in tensors.items()} == before
    back, meta2 = iq1.load_gguf(path, with_metadata=True)
    assert meta2["general.name"] == "again" and {n: t.data.tobytes() for n, t in back.items()} == before
