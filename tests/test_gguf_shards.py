"""Split GGUF files: written with split_max_size as `<stem>-0000i-of-0000N.gguf` with llama.cpp's split keys
(split.no UINT16 from 0, split.count UINT16, split.tensors.count INT32), read back from the first shard,
tensors never cut across shards, and clear errors for missing, inconsistent or duplicated shards."""

import os

import numpy as np
import pytest

import iq1kernels as iq1
from helpers import QTYPES
from iq1kernels.gguf_io import GGUFError, GGUFValue, load_gguf, parse_size, read_gguf, save_gguf


def model(n=6):
    rng = np.random.default_rng(0)
    tensors = {}
    for i in range(n):
        W = rng.standard_normal((64, 512)).astype(np.float32)
        tensors[f"blk.{i}.w"] = iq1.quantize(W, QTYPES[i % 4])
        tensors[f"blk.{i}.norm"] = rng.standard_normal(512).astype(np.float32)
    return tensors


META = {
    "general.architecture": "llama",
    "general.name": "split test",
    "llama.block_count": 6,
    "tokenizer.ggml.tokens": ["a", "b", "c"],
}


def test_split_round_trip(tmp_path):
    tensors = model()
    limit = 20000  # ~3 IQ1 matrices (6.4-7.2 KB each) per shard
    paths = save_gguf(tmp_path / "m.gguf", tensors, META, split_max_size=limit)
    n = len(paths)
    assert n > 2 and paths == [str(tmp_path / f"m-{i:05d}-of-{n:05d}.gguf") for i in range(1, n + 1)]
    seen = []
    for i, p in enumerate(paths):
        assert os.path.getsize(p) <= limit
        f = read_gguf(p) if i == 0 else None
        shard = iq1.gguf_reader._Shard(p)
        meta = shard.metadata
        assert meta.typed("split.no") == GGUFValue(i, "uint16")
        assert meta.typed("split.count") == GGUFValue(n, "uint16")
        assert meta.typed("split.tensors.count") == GGUFValue(len(tensors), "int32")
        assert ("general.name" in meta) == (i == 0)  # metadata in the first shard only
        seen += [info.name for info in shard.infos]
        shard.close()
        if f:
            assert len(f.paths) == n
            f.close()
    assert seen == list(tensors)  # each tensor whole, in one shard, in order
    back, meta = load_gguf(paths[0], with_metadata=True)
    assert list(back) == list(tensors)
    for name, t in tensors.items():
        assert back[name].data.tobytes() == (t.data.tobytes() if isinstance(t, iq1.QuantizedMatrix) else t.tobytes())
    assert meta["general.name"] == "split test" and meta["split.count"] == n
    one = tmp_path / "one.gguf"  # saving without split drops the split keys
    save_gguf(one, back, meta)
    _, meta_one = load_gguf(one, with_metadata=True)
    assert "split.count" not in meta_one and list(meta_one) == list(META)


def test_tensor_larger_than_the_limit_gets_its_own_shard(tmp_path):
    tensors = {"small": np.ones(4, np.float32), "big": np.ones(5000, np.float32), "tail": np.ones(4, np.float32)}
    paths = save_gguf(tmp_path / "m.gguf", tensors, split_max_size="1K")
    assert len(paths) == 3 and os.path.getsize(paths[1]) > 20000
    assert [list(load_gguf(p, names=lambda n: True)) for p in paths[:1]] == [["small", "big", "tail"]]
    assert save_gguf(tmp_path / "x.gguf", tensors, split_max_size="1G") == [str(tmp_path / "x-00001-of-00001.gguf")]
    again = save_gguf(paths[0], load_gguf(paths[0]), split_max_size="1K")  # a shard name as the target
    assert again == paths


def test_parse_size():
    assert parse_size("2G") == 2 * 10**9 and parse_size("500M") == 500 * 10**6
    assert parse_size("2GiB") == 2 << 30 and parse_size(4096) == 4096 and parse_size("1.5K") == 1500
    for bad in ("", "2X", "-1G", 0, -5, "G"):
        with pytest.raises(ValueError):
            parse_size(bad)
    with pytest.raises(TypeError):
        parse_size(2.5)


def test_shard_errors(tmp_path):
    paths = save_gguf(tmp_path / "m.gguf", model(), META, split_max_size=20000)
    n = len(paths)
    with pytest.raises(GGUFError, match="shard 2 of .* not the first: open m-00001"):
        load_gguf(paths[1])
    renamed = tmp_path / "renamed.gguf"
    os.link(paths[0], renamed)
    with pytest.raises(GGUFError, match="cannot be found"):
        load_gguf(renamed)
    os.unlink(renamed)
    keep = open(paths[2], "rb").read()
    os.unlink(paths[2])
    with pytest.raises(GGUFError, match=f"shard 3 of {n} is missing"):
        load_gguf(paths[0])
    # a shard from another split in its place: its split.no disagrees
    with open(paths[2], "wb") as fh:
        fh.write(open(paths[1], "rb").read())
    with pytest.raises(GGUFError, match="split.no is 1, expected 2"):
        load_gguf(paths[0])
    with open(paths[2], "wb") as fh:
        fh.write(keep)
    assert len(load_gguf(paths[0])) == 12
    # the same tensor in two shards: shard 2 of another split whose tensor is named like one of shard 1
    crafted = {"a": np.ones(600, np.float32)}
    first = save_gguf(tmp_path / "c.gguf", {**crafted, "z": np.ones(600, np.float32)}, split_max_size=3000)
    second_src = save_gguf(
        tmp_path / "y.gguf", {"q": np.ones(600, np.float32), "a": np.ones(600, np.float32)}, split_max_size=3000
    )
    with open(first[1], "wb") as fh:
        fh.write(open(second_src[1], "rb").read())
    with pytest.raises(GGUFError, match="tensor a is also in"):
        load_gguf(first[0])


def test_inconsistent_tensor_count(tmp_path):
    from iq1kernels.gguf_writer import GGUFFileWriter

    paths = save_gguf(
        tmp_path / "m.gguf", {"a": np.ones(600, np.float32), "b": np.ones(600, np.float32)}, split_max_size=3000
    )
    blob = bytearray(open(paths[0], "rb").read())
    key = b"split.tensors.count"
    at = blob.find(key) + len(key) + 4  # after the key: type (INT32), then the value
    blob[at : at + 4] = (3).to_bytes(4, "little")
    with open(paths[0], "wb") as fh:
        fh.write(blob)
    with pytest.raises(GGUFError, match="split.tensors.count says 3 tensors"):
        load_gguf(paths[0])
    assert GGUFFileWriter(tmp_path / "n.gguf", split_max_size="2G").paths == [str(tmp_path / "n-00001-of-00001.gguf")]
