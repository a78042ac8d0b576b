"""iq1kernels.quantize_model: a whole model file in, a GGUF out — metadata with types, kept tensors byte
for byte, quantized tensors identical to one quantize call, llama-quantize's keep rules, include /
exclude, requantization, shards, safetensors / numpy input, imatrix, bounded memory, Dask."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import iq1kernels as iq1
from iq1kernels.gguf_io import GGUFTensor, read_gguf
from iq1kernels.gguf_metadata import T
from iq1kernels.model_quantize import FILE_TYPES, quantize_model
from model_files import write_model


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.gguf"
    write_model(path)
    return path


def stored_floats(f, name):
    """The tensor's values as float32 (F16 / F32 / BF16 as stored)."""
    info = f.tensors[name]
    raw = f.read(name)
    if info.ggml_type == 30:
        x = (raw.view("<u2").astype(np.uint32) << 16).view(np.float32)
    else:
        x = raw.view({0: "<f4", 1: "<f2"}[info.ggml_type]).astype(np.float32)
    return x.reshape(info.shape)


def expected_bytes(x, qtype, imatrix=None):
    """One quantize call per expert (or on the whole matrix): what quantize_model must reproduce."""
    if x.ndim == 2:
        return iq1.quantize(x, qtype, imatrix=imatrix).data.tobytes()
    return b"".join(iq1.quantize(x[e], qtype, imatrix=None if imatrix is None else imatrix[e]).data.tobytes()
                    for e in range(x.shape[0]))


def no_temp_files(folder):
    return not [n for n in os.listdir(folder) if n.endswith(".tmp")]


@pytest.mark.parametrize("qtype", ["iq1_s", "iq1_m", "iq1_s_r4", "iq1_m_r4"])
def test_gguf_model_kept_and_quantized_exactly(model, tmp_path, qtype):
    out = tmp_path / "q.gguf"
    report = quantize_model(model, out, qtype, threads=2, chunk_values=1 << 15)   # 16 chunks per expert
    with read_gguf(model) as src, read_gguf(out) as dst:
        assert list(dst.tensors) == list(src.tensors)                       # names and order
        for key, gv in src.metadata.typed_items():                         # every key with its type
            if key not in ("general.file_type", "general.quantization_version"):
                assert dst.metadata.typed(key) == gv, key
        assert dst.metadata.typed("general.file_type").type == T.UINT32
        assert dst.metadata["general.file_type"] == FILE_TYPES[qtype]
        assert dst.metadata["general.quantization_version"] == 2
        assert dst.metadata["iq1kernels.type"] == qtype and dst.metadata["iq1kernels.version"] == iq1.__version__
        decisions = {t.name: t for t in report.tensors}
        for name, info in src.tensors.items():
            got = dst.tensors[name]
            if decisions[name].quantized:
                assert got.type_name == qtype.upper() and got.ne == info.ne
                assert dst.read(name).tobytes() == expected_bytes(stored_floats(src, name), qtype), name
            else:                                                            # byte for byte, same type
                assert (got.ggml_type, got.ne) == (info.ggml_type, info.ne)
                assert dst.read(name).tobytes() == src.read(name).tobytes(), name
    quantized = {n for n, t in decisions.items() if t.quantized}
    assert quantized == {f"blk.{i}.{t}.weight" for i in (0, 1)
                         for t in ("attn_q", "attn_output", "ffn_gate_exps", "ffn_down_exps", "ffn_up_exps")}
    reasons = {n: t.reason for n, t in decisions.items() if not t.quantized}
    assert reasons["token_embd.weight"] == "token embeddings"
    assert reasons["output.weight"] == "output tensor"
    assert reasons["blk.0.attn_norm.weight"] == "norm"
    assert reasons["blk.0.ffn_gate_inp.weight"] == "expert router"
    assert reasons["blk.0.attn_k.weight"] == "already quantized as Q4_K"
    assert reasons["blk.0.attn_v.weight"] == "already quantized as Q8_0"
    for t in report.quantized:
        assert 0.05 < t.rel_rmse < 0.8 and t.imatrix is None
    loaded = iq1.load_gguf(out)
    assert loaded["blk.1.ffn_up_exps.weight"].shape == (4, 512, 256)          # 3-D expert stack kept
    table = report.format_table()
    assert "kept: token embeddings" in table and "llama-quantize refuses IQ1" in table


def test_chunks_give_the_bytes_of_one_call(model, tmp_path):
    a, b = tmp_path / "a.gguf", tmp_path / "b.gguf"
    quantize_model(model, a, "iq1_m", threads=1, chunk_values=1)          # 4 rows at a time
    quantize_model(model, b, "iq1_m", threads=2)                          # one chunk per expert
    assert a.read_bytes() == b.read_bytes()


def test_kept_tensors_are_copied_in_pieces(model, tmp_path, monkeypatch):
    """A kept tensor goes through in KEEP_PIECE reads (never whole in memory): the same bytes in pieces of 100
    bytes (ragged ends included) as in one piece; the writer refuses pieces that do not add up."""
    from iq1kernels import model_quantize
    from iq1kernels.gguf_writer import GGUFFileWriter
    a, b = tmp_path / "a.gguf", tmp_path / "b.gguf"
    quantize_model(model, a, "iq1_s", threads=1)
    monkeypatch.setattr(model_quantize, "KEEP_PIECE", 100)
    quantize_model(model, b, "iq1_s", threads=1)
    assert a.read_bytes() == b.read_bytes()
    for parts in ([b"1234"], [b"12345678", b"9"]):
        w = GGUFFileWriter(tmp_path / "w.gguf")
        w.add_tensor_info("t", 0, (2,), 8)
        with pytest.raises(iq1.gguf_io.GGUFError, match="declared"):
            w.write_tensor_parts("t", parts)
        w.abort()
    assert not (tmp_path / "w.gguf").exists() and no_temp_files(tmp_path)


@pytest.mark.parametrize("qtype, k, rows, reason", [
    ("iq1_s", 384, 8, "K = 384 is not a multiple of 256"),
    ("iq1_s_r4", 384, 6, "6 rows is not a multiple of 4"),
    ("iq1_s_r4", 192, 8, "K = 192 is not a multiple of 128"),
])
def test_shapes_the_format_cannot_hold_are_kept(tmp_path, qtype, k, rows, reason):
    x = np.random.default_rng(0).standard_normal((rows, k)).astype(np.float32)
    ok = np.random.default_rng(1).standard_normal((8, 256)).astype(np.float32)
    src = tmp_path / "s.gguf"
    iq1.save_gguf(src, {"blk.0.odd.weight": x, "blk.0.ok.weight": ok, "blk.0.attn_q.bias": ok[0]})
    report = quantize_model(src, tmp_path / "o.gguf", qtype)
    d = {t.name: t for t in report.tensors}
    assert d["blk.0.odd.weight"].reason == reason and d["blk.0.ok.weight"].quantized
    assert d["blk.0.attn_q.bias"].reason == "not a weight (the name does not end in 'weight')"
    # named explicitly: a clear error naming the rule, and no output; matched by a glob: kept, with the rule
    with pytest.raises(ValueError, match=f"blk.0.odd.weight is named by include .* {reason}"):
        quantize_model(src, tmp_path / "p.gguf", qtype, include=["blk.0.ok.weight", "blk.0.odd.weight"])
    assert not (tmp_path / "p.gguf").exists() and no_temp_files(tmp_path)
    report = quantize_model(src, tmp_path / "g.gguf", qtype, include="blk.0.*.weight")
    d = {t.name: t for t in report.tensors}
    assert d["blk.0.odd.weight"].reason == f"{reason} (matched by 'blk.0.*.weight')" and d["blk.0.ok.weight"].quantized


def test_include_overrides_the_rules_and_exclude_wins(model, tmp_path):
    with pytest.warns(UserWarning, match="token_embd.weight"):
        report = quantize_model(model, tmp_path / "o.gguf", "iq1_s", include=["token_embd.weight", "blk.1.*_exps.*"],
                                exclude="*down*", allow_requantize=True)
    d = {t.name: t for t in report.tensors}
    assert d["token_embd.weight"].quantized and d["token_embd.weight"].reason.startswith("requantized from Q8_0")
    assert d["blk.1.ffn_up_exps.weight"].quantized and d["blk.1.ffn_gate_exps.weight"].quantized
    assert d["blk.1.ffn_down_exps.weight"].reason == "excluded by '*down*'"
    assert d["blk.0.attn_q.weight"].reason == "not matched by include"
    assert len(report.quantized) == 3
    with pytest.raises(ValueError, match="token_embd.weight is named by include .* as Q8_0 .*--allow-requantize"):
        quantize_model(model, tmp_path / "p.gguf", "iq1_s", include="token_embd.weight")


def test_requantize_dequantizes_through_the_library(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((8, 512)).astype(np.float32)
    m = iq1.quantize(x, "iq1_m")
    from gguf.constants import GGMLQuantizationType
    from gguf.quants import dequantize, quantize
    q8 = np.ascontiguousarray(quantize(x, GGMLQuantizationType.Q8_0)).reshape(-1).view(np.uint8)
    src = tmp_path / "s.gguf"
    iq1.save_gguf(src, {"a.weight": m, "b.weight": GGUFTensor(8, (512, 8), q8)})
    with pytest.raises(ValueError, match=r"no tensor to quantize to iq1_s \(1 x already quantized as IQ1_M"):
        quantize_model(src, tmp_path / "k.gguf", "iq1_s")
    with pytest.raises(ValueError, match=r"no tensor to quantize .*excluded by '\*'"):
        quantize_model(src, tmp_path / "k.gguf", "iq1_s", exclude="*", allow_requantize=True)
    assert not (tmp_path / "k.gguf").exists()
    from iq1kernels.model_quantize import RequantizationWarning
    with pytest.warns(RequantizationWarning, match="2 tensors were already quantized"):
        report = quantize_model(src, tmp_path / "o.gguf", "iq1_s", allow_requantize=True)
    assert [t.reason for t in report.tensors] == ["requantized from IQ1_M", "requantized from Q8_0"]
    assert any("requantized" in n for n in report.notes)
    out = iq1.load_gguf(tmp_path / "o.gguf")
    assert out["a.weight"].data.tobytes() == iq1.quantize(m.dequantize(), "iq1_s").data.tobytes()
    b = np.asarray(dequantize(q8.reshape(8, -1), GGMLQuantizationType.Q8_0), np.float32)
    assert out["b.weight"].data.tobytes() == iq1.quantize(b, "iq1_s").data.tobytes()


def test_split_input_and_split_output(tmp_path):
    shards = write_model(tmp_path / "m.gguf", split_max_size=1 << 20)
    assert len(shards) > 2
    single = tmp_path / "single.gguf"
    quantize_model(shards[0], single, "iq1_s")
    report = quantize_model(shards[0], tmp_path / "out.gguf", "iq1_s", split_max_size="600K")
    assert len(report.paths) > 1 and all(os.path.exists(p) for p in report.paths)
    a, b = iq1.load_gguf(single), iq1.load_gguf(report.paths[0])
    assert list(a) == list(b)
    for name in a:
        x, y = a[name], b[name]
        assert x.data.tobytes() == y.data.tobytes(), name
    with read_gguf(report.paths[0]) as f:
        assert f.shard_metadata(1)["split.no"] == 1 and f.metadata["split.count"] == len(report.paths)
    with read_gguf(single) as f:
        assert "split.count" not in f.metadata


def test_output_that_is_the_input_is_refused(tmp_path):
    shards = write_model(tmp_path / "m.gguf", split_max_size=1 << 20)
    before = {p: open(p, "rb").read() for p in shards}
    link = tmp_path / "link.gguf"
    link.symlink_to(shards[0])
    hard = tmp_path / "hard.gguf"
    os.link(shards[1], hard)
    for out in (shards[0], link, hard):
        with pytest.raises(OSError, match="is the input file"):
            quantize_model(shards[0], out, "iq1_s")
    assert {p: open(p, "rb").read() for p in shards} == before and no_temp_files(tmp_path)
    one = write_model(tmp_path / "one.gguf", split_max_size="1G")          # one-00001-of-00001.gguf
    with pytest.raises(OSError, match="one-00001-of-00001.gguf is the input file"):
        quantize_model(one[0], tmp_path / "one.gguf", "iq1_s", split_max_size="1G")   # the same shard set
    im = tmp_path / "im.npz"
    np.savez(im, x=np.ones(256, np.float32))
    with pytest.raises(OSError, match="is the input file"):
        quantize_model(shards[0], im, "iq1_s", imatrix=im)


def test_bad_values_change_nothing(tmp_path):
    x = np.random.default_rng(3).standard_normal((2, 8, 256)).astype(np.float32)
    x[1, 5, 7] = np.nan
    src = tmp_path / "s.gguf"
    iq1.save_gguf(src, {"blk.0.ffn_up_exps.weight": x, "blk.0.attn_q.weight": x[0]})
    out = tmp_path / "o.gguf"
    out.write_bytes(b"old")
    with pytest.raises(ValueError, match="ffn_up_exps.weight: expert 1, row 5 contains NaN"):
        quantize_model(src, out, "iq1_s")
    assert out.read_bytes() == b"old" and no_temp_files(tmp_path)
    with pytest.raises(ValueError, match="unknown IQ1 type"):
        quantize_model(src, out, "q4_0")
    with pytest.raises(TypeError, match="include"):
        quantize_model(src, out, "iq1_s", include=[3])


def test_unknown_types_and_integers_are_kept(tmp_path):
    from iq1kernels.gguf_writer import GGUFFileWriter
    w = np.random.default_rng(4).standard_normal((4, 256)).astype("<f2")
    src = tmp_path / "s.gguf"
    with GGUFFileWriter(src, {"general.architecture": "x"}) as f:
        f.add_tensor_info("a.weight", 139, (256, 4), 555)                 # ik_llama.cpp's IQ4_K: unknown here
        f.add_tensor_info("b.weight", 26, (256, 4))
        f.add_tensor_info("c.weight", 1, (256, 4))
        f.write_tensor("a.weight", bytes(range(256)) * 2 + bytes(43))
        f.write_tensor("b.weight", np.arange(1024, dtype="<i4"))
        f.write_tensor("c.weight", w)
    report = quantize_model(src, tmp_path / "o.gguf", "iq1_s")
    assert [t.reason for t in report.tensors[:2]] == ["type 139 is a type unknown here", "integer tensor"]
    with read_gguf(src) as a, read_gguf(tmp_path / "o.gguf") as b:
        for name in ("a.weight", "b.weight"):
            assert a.read(name).tobytes() == b.read(name).tobytes()
            assert b.tensors[name].ggml_type == a.tensors[name].ggml_type


def test_safetensors_input_keeps_names_and_says_so(tmp_path):
    from safetensors.numpy import save_file
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 16, 256)).astype(np.float32)
    bf16 = (x.view(np.uint32) >> 16).astype(np.uint16)
    bf16_values = (bf16.astype(np.uint32) << 16).view(np.float32)
    tensors = {"model.layers.0.mlp.experts.up_proj.weight": bf16, "model.embed_tokens.weight": bf16[0],
               "model.layers.0.self_attn.q_proj.weight": x[1].astype(np.float16),
               "model.layers.0.input_layernorm.weight": np.ones(256, np.float32)}
    save_file({k: v for k, v in list(tensors.items())[:2]}, str(tmp_path / "a.safetensors"))
    save_file({k: v for k, v in list(tensors.items())[2:]}, str(tmp_path / "b.safetensors"))
    # safetensors.numpy cannot write BF16: relabel the uint16 tensors' dtype in the header
    raw = (tmp_path / "a.safetensors").read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    for v in header.values():
        if isinstance(v, dict) and v.get("dtype") == "U16":
            v["dtype"] = "BF16"
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    (tmp_path / "a.safetensors").write_bytes(len(h).to_bytes(8, "little") + h + raw[8 + n:])
    index = tmp_path / "model.safetensors.index.json"
    index.write_text(json.dumps({"weight_map": {k: ("a" if i < 2 else "b") + ".safetensors"
                                                for i, k in enumerate(tensors)}}))
    report = quantize_model(index, tmp_path / "o.gguf", "iq1_s")
    d = {t.name: t for t in report.tensors}
    assert set(d) == set(tensors)
    assert d["model.layers.0.mlp.experts.up_proj.weight"].quantized
    assert d["model.layers.0.self_attn.q_proj.weight"].quantized
    assert d["model.embed_tokens.weight"].reason == "token embeddings"
    assert any("convert_hf_to_gguf.py" in n for n in report.notes)
    out = iq1.load_gguf(tmp_path / "o.gguf")
    assert out["model.layers.0.mlp.experts.up_proj.weight"].data.tobytes() == expected_bytes(bf16_values, "iq1_s")
    assert out["model.embed_tokens.weight"].type_name == "BF16"
    assert out["model.embed_tokens.weight"].data.tobytes() == bf16[0].tobytes()
    single = quantize_model(tmp_path / "b.safetensors", tmp_path / "b.gguf", "iq1_s")
    assert {t.name: t.quantized for t in single.tensors} == {"model.layers.0.self_attn.q_proj.weight": True,
                                                              "model.layers.0.input_layernorm.weight": False}


def test_numpy_inputs(tmp_path):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((16, 256)).astype(">f4")                      # big-endian
    f = np.asfortranarray(rng.standard_normal((8, 512)).astype(np.float32))
    np.savez(tmp_path / "w.npz", big=x, ints=np.arange(5, dtype=np.int16), odd=np.ones((4, 100), np.float32))
    np.save(tmp_path / "W.npy", f)
    report = quantize_model(tmp_path / "w.npz", tmp_path / "z.gguf", "iq1_s")
    d = {t.name: t for t in report.tensors}
    assert d["big"].quantized and d["ints"].reason == "integer tensor" and not d["odd"].quantized
    out = iq1.load_gguf(tmp_path / "z.gguf")
    assert out["big"].data.tobytes() == expected_bytes(x.astype(np.float32), "iq1_s")
    np.testing.assert_array_equal(np.asarray(out["ints"]), np.arange(5, dtype=np.int16))
    quantize_model(tmp_path / "W.npy", tmp_path / "w.gguf", "iq1_m")
    assert iq1.load_gguf(tmp_path / "w.gguf")["W"].data.tobytes() == expected_bytes(f, "iq1_m")
    np.savez(tmp_path / "u.npz", u=np.ones((4, 256), np.uint8))
    with pytest.raises(ValueError, match="cannot be stored in GGUF"):
        quantize_model(tmp_path / "u.npz", tmp_path / "u.gguf", "iq1_s")


def test_imatrix_is_matched_by_name_and_per_expert(model, tmp_path):
    rng = np.random.default_rng(7)
    im = {"blk.0.ffn_up_exps.weight": rng.uniform(0.1, 3, (4, 256)).astype(np.float32),
          "blk.0.attn_q.weight": rng.uniform(0.1, 3, 256).astype(np.float32)}
    np.savez(tmp_path / "im.npz", **im)
    out = tmp_path / "o.gguf"
    report = quantize_model(model, out, "iq1_s", imatrix=tmp_path / "im.npz")
    d = {t.name: t for t in report.tensors}
    assert d["blk.0.ffn_up_exps.weight"].imatrix is True and d["blk.1.ffn_up_exps.weight"].imatrix is False
    assert any("8 quantized tensors have no imatrix entry" in n for n in report.notes)
    with read_gguf(model) as src, read_gguf(out) as dst:
        for name, v in im.items():
            x = stored_floats(src, name)
            assert dst.read(name).tobytes() == expected_bytes(x, "iq1_s", v if x.ndim == 3 else v)
        assert dst.metadata["quantize.imatrix.file"] == str(tmp_path / "im.npz")
        assert dst.metadata.type_of("quantize.imatrix.entries_count") == T.INT32
    np.savez(tmp_path / "bad.npz", **{"blk.0.ffn_up_exps.weight": np.ones((3, 256), np.float32)})
    with pytest.raises(ValueError, match="blk.0.ffn_up_exps.weight has 768 values"):
        quantize_model(model, tmp_path / "p.gguf", "iq1_s", imatrix=tmp_path / "bad.npz")
    assert not (tmp_path / "p.gguf").exists()


def test_progress_events(model, tmp_path):
    events = []
    quantize_model(model, tmp_path / "o.gguf", "iq1_s", progress=events.append, chunk_values=20000)
    finished = [e for e in events if e.finished]
    assert [e.tensor_index for e in finished] == list(range(len(finished))) and len(finished) == 23
    within = [e for e in events if not e.finished and e.name == "blk.0.ffn_gate_exps.weight"]
    assert [e.rows_done for e in within][-1] == within[0].rows_total == 2048 and len(within) > 3
    work = [e.work_done for e in events]
    assert work == sorted(work) and finished[-1].work_done == pytest.approx(finished[-1].work_total)


_RSS_CHILD = textwrap.dedent("""
    import sys, time, numpy as np, iq1kernels as iq1
    from iq1kernels.model_quantize import quantize_model

    def status(key):
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) * 1024 for line in fh if line.startswith(key + ":"))
    iq1.quantize(np.ones((64, 4096), np.float32), "iq1_s")        # warm-up: thread pool, code pages
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")                                              # reset the peak (VmHWM) to the current RSS
    base = status("VmRSS")
    t0 = time.perf_counter()
    quantize_model(sys.argv[1], sys.argv[2], "iq1_s", chunk_values=1 << 18)
    print(base, status("VmHWM"), time.perf_counter() - t0)
""")


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux's /proc/self/clear_refs")
def test_memory_is_bounded_by_a_few_tensors_not_the_model(tmp_path):
    """~55 MB of F16 (110 MB as float32): the peak grows by the bound, not by the model."""
    src = tmp_path / "m.gguf"
    write_model(src, layers=2, hidden=1024, ffn=1024, experts=4, n_vocab=512)
    with read_gguf(src) as f:
        infos = list(f.tensors.values())
        model_f32 = sum(int(np.prod(i.ne)) * 4 for i in infos)
        largest = max(i.nbytes for i in infos)
    assert model_f32 > 100e6
    proc = subprocess.run([sys.executable, "-c", _RSS_CHILD, str(src), str(tmp_path / "o.gguf")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    base, peak, seconds = proc.stdout.split()
    base, peak = int(base), int(peak)
    # bound: the largest tensor (read whole when kept; its IQ1 output when quantized is ~1/10 of it) +
    # 5 chunk buffers of 2**18 float32 values (5 MiB) + allocator slack
    bound = largest + 5 * 4 * (1 << 18) + 16e6
    print("rss growth", peak - base, "bound", bound, "model as float32", model_f32, "seconds", seconds)
    assert peak - base < bound, (peak - base, bound, model_f32)


def test_load_gguf_of_the_output_allocates_no_float_copy(model, tmp_path):
    import tracemalloc
    out = tmp_path / "o.gguf"
    quantize_model(model, out, "iq1_s")
    tracemalloc.start()
    tensors = iq1.load_gguf(out)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    values = sum(int(np.prod(t.shape)) for t in tensors.values())
    assert peak < 200_000 < values * 4                 # not even one float32 copy of the smallest expert
    assert isinstance(tensors["blk.0.ffn_up_exps.weight"], iq1.QuantizedMatrix)


def test_dask_cluster_gives_identical_bytes(model, tmp_path):
    distributed = pytest.importorskip("distributed")
    single = tmp_path / "single.gguf"
    quantize_model(model, single, "iq1_s_r4", threads=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  worker_dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        events = []
        report = quantize_model(model, tmp_path / "dask.gguf", "iq1_s_r4", threads=1, client=client,
                                max_in_flight=3, progress=events.append)
        assert (tmp_path / "dask.gguf").read_bytes() == single.read_bytes()
        assert len(report.quantized) == 10 and all(t.rel_rmse > 0 for t in report.quantized)
        assert sum(e.finished for e in events) == 23
        cli_out = tmp_path / "cli.gguf"                                  # the CLI's --scheduler, same bytes
        proc = subprocess.run([sys.executable, "-m", "iq1kernels", "quantize", str(model), str(cli_out), "--type",
                               "iq1_s_r4", "--threads", "1", "--scheduler", cluster.scheduler_address, "--quiet"],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert cli_out.read_bytes() == single.read_bytes()
        x = np.full((2, 256), np.inf, np.float32)                        # a worker's error reaches the caller
        iq1.save_gguf(tmp_path / "bad.gguf", {"a.weight": x})
        with pytest.raises(ValueError, match="contains NaN or Inf"):
            quantize_model(tmp_path / "bad.gguf", tmp_path / "bad_out.gguf", "iq1_s", client=client)
        assert no_temp_files(tmp_path) and not (tmp_path / "bad_out.gguf").exists()
