"""Importance-matrix files: llama-imatrix's GGUF layout and its legacy .dat layout (written here from
their documented layouts with `gguf.GGUFWriter` and struct), .npz / .safetensors keyed by name."""

import struct

import numpy as np
import pytest

from iq1kernels.imatrix import ImatrixError, load_imatrix

K, E = 256, 3


def write_imatrix_gguf(path, entries, datasets=("wiki.train.raw",), chunks=10, general_type="imatrix"):
    """entries: name -> (in_sum2 (n_mat, K), counts (n_mat,)), stored as llama-imatrix stores them:
    `<name>.in_sum2` F32 ne = (K, n_mat), `<name>.counts` F32 ne = (1, n_mat)."""
    import gguf

    w = gguf.GGUFWriter(str(path), arch=None)
    if general_type:
        w.add_string("general.type", general_type)
    w.add_array("imatrix.datasets", list(datasets))
    w.add_uint32("imatrix.chunk_count", chunks)
    w.add_uint32("imatrix.chunk_size", 512)
    for name, (sums, counts) in entries.items():
        w.add_tensor(name + ".in_sum2", np.asarray(sums, np.float32))  # numpy (n_mat, K)
        w.add_tensor(name + ".counts", np.asarray(counts, np.float32).reshape(-1, 1))  # numpy (n_mat, 1)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def write_imatrix_dat(path, entries, chunks=7, dataset="calib.txt", trailer=True):
    """entries: name -> (values as stored: mean * ncall, ncall). int32 n; per entry int32 len, name, int32
    ncall, int32 nval, float32[nval]; then int32 chunk count, int32 len, dataset."""
    out = struct.pack("<i", len(entries))
    for name, (values, ncall) in entries.items():
        b = name.encode()
        v = np.asarray(values, "<f4").reshape(-1)
        out += struct.pack("<i", len(b)) + b + struct.pack("<ii", ncall, v.size) + v.tobytes()
    if trailer:
        out += struct.pack("<i", chunks) + struct.pack("<i", len(dataset)) + dataset.encode()
    path.write_bytes(out)


def test_gguf_layout(tmp_path):
    rng = np.random.default_rng(0)
    dense = rng.uniform(0, 50, (1, K))
    experts = rng.uniform(0, 50, (E, K))
    path = tmp_path / "imatrix.gguf"
    write_imatrix_gguf(
        path, {"blk.0.attn_q.weight": (dense, [25]), "blk.0.ffn_up_exps.weight": (experts, [10, 0, 4])}
    )  # expert 1 never routed to
    im = load_imatrix(path)
    assert im.format == "gguf" and im.datasets == ["wiki.train.raw"] and im.chunk_count == 10
    assert len(im) == 2 and "blk.0.attn_q.weight" in im
    np.testing.assert_allclose(im.vectors("blk.0.attn_q.weight", 1, K), dense / 25, rtol=1e-6)
    v = im.vectors("blk.0.ffn_up_exps.weight", E, K)
    np.testing.assert_allclose(v[0], experts[0] / 10, rtol=1e-6)
    np.testing.assert_array_equal(v[1], np.ones(K, np.float32))  # count 0: importance 1, as llama.cpp
    np.testing.assert_allclose(v[2], experts[2] / 4, rtol=1e-6)
    assert im.vectors("blk.9.attn_q.weight", 1, K) is None
    with pytest.raises(ImatrixError, match="blk.0.attn_q.weight has 256 values .* needs K = 512"):
        im.vectors("blk.0.attn_q.weight", 1, 512)
    with pytest.raises(ImatrixError, match="ffn_up_exps.weight has 768 values .* 4 experts"):
        im.vectors("blk.0.ffn_up_exps.weight", 4, K)


def test_gguf_errors(tmp_path):
    import gguf

    p = tmp_path / "nocounts.gguf"
    w = gguf.GGUFWriter(str(p), arch=None)
    w.add_string("general.type", "imatrix")
    w.add_tensor("a.weight.in_sum2", np.ones((1, K), np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with pytest.raises(ImatrixError, match="a.weight.in_sum2 has no a.weight.counts"):
        load_imatrix(p)
    model = tmp_path / "model.gguf"
    import iq1kernels as iq1

    iq1.save_gguf(model, {"a.weight": np.ones((2, K), np.float32)}, {"general.architecture": "llama"})
    with pytest.raises(ImatrixError, match="is it a model"):
        load_imatrix(model)
    neg = tmp_path / "neg.gguf"
    write_imatrix_gguf(neg, {"a.weight": (-np.ones((1, K)), [1])})
    with pytest.raises(ImatrixError, match="negative"):
        load_imatrix(neg)


def test_dat_layout(tmp_path):
    rng = np.random.default_rng(1)
    mean_q = rng.uniform(0, 5, K)
    mean_e = rng.uniform(0, 5, (E, K))
    path = tmp_path / "imatrix.dat"
    write_imatrix_dat(
        path,
        {
            "blk.0.attn_q.weight": (mean_q * 7, 7),
            "blk.0.ffn_down_exps.weight": (mean_e * 3, 3),
            "blk.0.zero.weight": (mean_q, 0),
        },
    )
    im = load_imatrix(path)
    assert im.format == "dat" and im.datasets == ["calib.txt"] and im.chunk_count == 7
    np.testing.assert_allclose(im.vectors("blk.0.attn_q.weight", 1, K)[0], mean_q, rtol=1e-5)
    np.testing.assert_allclose(im.vectors("blk.0.ffn_down_exps.weight", E, K), mean_e, rtol=1e-5)
    np.testing.assert_allclose(im.vectors("blk.0.zero.weight", 1, K)[0], mean_q.astype(np.float32))  # ncall 0
    old = tmp_path / "old.dat"
    write_imatrix_dat(old, {"x.weight": (mean_q, 1)}, trailer=False)  # before the dataset trailer
    assert load_imatrix(old).datasets == []


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda b: b[:-3], "unexpected bytes|bad dataset name length|truncated"),
        (lambda b: b[:40], "do not fit|truncated"),
        (lambda b: struct.pack("<i", 0) + b[4:], "not an imatrix .dat file"),
        (lambda b: struct.pack("<i", 1 << 30) + b[4:], "not an imatrix .dat file"),
        (lambda b: b[:4] + struct.pack("<i", -5) + b[8:], "bad name length"),
    ],
)
def test_dat_truncated_or_malformed(tmp_path, mutate, message):
    good = tmp_path / "good.dat"
    write_imatrix_dat(good, {"a.weight": (np.ones(K), 1), "b.weight": (np.ones(K), 1)})
    bad = tmp_path / "bad.dat"
    bad.write_bytes(mutate(good.read_bytes()))
    with pytest.raises(ImatrixError, match=message):
        load_imatrix(bad)


def test_dat_duplicates_and_bad_values(tmp_path):
    p = tmp_path / "dup.dat"
    write_imatrix_dat(p, {"a.weight": (np.ones(K), 1)})
    raw = p.read_bytes()
    entry = raw[4 : 4 + 4 + 8 + 8 + 4 * K]
    p.write_bytes(struct.pack("<i", 2) + entry + entry + raw[4 + len(entry) :])
    with pytest.raises(ImatrixError, match="duplicate entry a.weight"):
        load_imatrix(p)
    v = np.ones(K)
    v[3] = np.nan
    write_imatrix_dat(p, {"a.weight": (v, 1)})
    with pytest.raises(ImatrixError, match="NaN"):
        load_imatrix(p)


def test_npz_and_safetensors(tmp_path):
    from safetensors.numpy import save_file

    rng = np.random.default_rng(2)
    vec, stack = rng.uniform(0, 1, K).astype(np.float32), rng.uniform(0, 1, (E, K)).astype(np.float32)
    np.savez(tmp_path / "im.npz", **{"a.weight": vec, "e.weight": stack, "flat.weight": stack.reshape(-1)})
    save_file({"a.weight": vec}, str(tmp_path / "im.safetensors"))
    im = load_imatrix(tmp_path / "im.npz")
    assert im.format == "npz"
    np.testing.assert_array_equal(im.vectors("a.weight", 1, K)[0], vec)
    np.testing.assert_array_equal(im.vectors("a.weight", E, K), np.broadcast_to(vec, (E, K)))  # one for all
    np.testing.assert_array_equal(im.vectors("e.weight", E, K), stack)
    np.testing.assert_array_equal(im.vectors("flat.weight", E, K), stack)
    with pytest.raises(ImatrixError, match="e.weight has 768 values"):
        im.vectors("e.weight", 1, K)
    st = load_imatrix(tmp_path / "im.safetensors")
    assert st.format == "safetensors"
    np.testing.assert_array_equal(st.vectors("a.weight", 1, K)[0], vec)
    np.savez(tmp_path / "bad.npz", x=np.array(["a"]))
    with pytest.raises(ImatrixError, match="float array"):
        load_imatrix(tmp_path / "bad.npz")
    with pytest.raises(FileNotFoundError):
        load_imatrix(tmp_path / "missing.dat")
