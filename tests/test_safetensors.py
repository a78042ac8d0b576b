"""The safetensors reader: values as stored (BF16 converted per tensor), sharded index files, and a
SafetensorsError naming the file and tensor for every malformed header; the CLI prints one line for them."""

import json
import os
import struct
import subprocess
import sys

import numpy as np
import pytest

from iq1kernels.safetensors_io import SafetensorsError, load_safetensors, read_safetensors


def write_st(path, header, data=b""):
    h = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(h)) + h + data)
    return path


def valid(tmp_path, name="m.safetensors"):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b16 = (np.array([1.5, -2.0, 3.25, 0.0], np.float32).view(np.uint32) >> 16).astype("<u2")
    header = {
        "__metadata__": {"format": "pt"},
        "a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
        "b": {"dtype": "BF16", "shape": [4], "data_offsets": [24, 32]},
    }
    return write_st(tmp_path / name, header, a.tobytes() + b16.tobytes())


def test_values_and_lazy_per_tensor_access(tmp_path):
    path = valid(tmp_path)
    t = load_safetensors(path)
    np.testing.assert_array_equal(t["a"], np.arange(6, dtype=np.float32).reshape(2, 3))
    np.testing.assert_array_equal(t["b"], [1.5, -2.0, 3.25, 0.0])
    f = read_safetensors(path)
    assert f.metadata == {"format": "pt"} and f.tensors["b"].dtype == "BF16" and f.tensors["b"].shape == (4,)
    assert f.raw("b").nbytes == 8 and not f.array("a").flags.writeable


def test_sharded_index(tmp_path):
    valid(tmp_path, "m-1.safetensors")
    write_st(
        tmp_path / "m-2.safetensors", {"c": {"dtype": "I8", "shape": [3], "data_offsets": [0, 3]}}, bytes([1, 2, 255])
    )
    index = tmp_path / "model.safetensors.index.json"
    index.write_text(
        json.dumps({"weight_map": {"a": "m-1.safetensors", "b": "m-1.safetensors", "c": "m-2.safetensors"}})
    )
    t = load_safetensors(index)
    assert list(t) == ["a", "b", "c"] and t["c"].tolist() == [1, 2, -1]
    index.write_text(json.dumps({"weight_map": {"a": "m-1.safetensors", "d": "m-3.safetensors"}}))
    with pytest.raises(SafetensorsError, match="shard m-3.safetensors is missing"):
        read_safetensors(index)
    index.write_text(json.dumps({"weight_map": {"c": "m-1.safetensors"}}))
    with pytest.raises(SafetensorsError, match="tensor c is not in m-1.safetensors"):
        read_safetensors(index)


BAD_HEADERS = [
    ([1, 2], "JSON list"),
    ({"a": {"dtype": "F32", "shape": [2]}}, "no data_offsets"),
    ({"a": {"shape": [2], "data_offsets": [0, 8]}}, "no dtype"),
    ({"a": {"dtype": "F32", "shape": [-1, 2], "data_offsets": [0, 8]}}, "non-negative integers"),
    ({"a": {"dtype": "F32", "shape": [2.0], "data_offsets": [0, 8]}}, "non-negative integers"),
    ({"a": {"dtype": "F32", "shape": [True], "data_offsets": [0, 4]}}, "non-negative integers"),
    ({"a": {"dtype": "F32", "shape": "2", "data_offsets": [0, 8]}}, "non-negative integers"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 800]}}, "outside"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [-8, 0]}}, "outside"),
    ({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, "12 bytes, data_offsets give 8"),
    ({"a": {"dtype": "F32", "shape": [2**62, 2**62], "data_offsets": [0, 8]}}, "bytes, data_offsets"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0]}}, "\\[start, end\\]"),
    ({"a": {"dtype": "Q4", "shape": [2], "data_offsets": [0, 8]}}, "unsupported dtype"),
    (
        {
            "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
            "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]},
        },
        "overlap",
    ),
    ({"a": 5}, "not an object"),
    ({"__metadata__": [1]}, "__metadata__"),
]


@pytest.mark.parametrize("header, match", BAD_HEADERS)
def test_bad_headers(tmp_path, header, match):
    path = write_st(tmp_path / "bad.safetensors", header, bytes(8))
    with pytest.raises(SafetensorsError, match=match):
        load_safetensors(path)


def test_bad_files(tmp_path):
    for blob, match in (
        (b"", "only 0 bytes"),
        (struct.pack("<Q", 2**63), "header length"),
        (struct.pack("<Q", 3) + b"{x}", "not JSON"),
    ):
        p = tmp_path / "f.safetensors"
        p.write_bytes(blob)
        with pytest.raises(SafetensorsError, match=match):
            load_safetensors(p)
    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)
    with pytest.raises(SafetensorsError, match="not a regular file"):
        load_safetensors(fifo)


@pytest.mark.parametrize("header, match", [BAD_HEADERS[0], BAD_HEADERS[1], BAD_HEADERS[3]])
def test_cli_quantize_reports_one_line(tmp_path, header, match):
    path = write_st(tmp_path / "bad.safetensors", header, bytes(8))
    proc = subprocess.run(
        [sys.executable, "-m", "iq1kernels", "quantize", str(path), str(tmp_path / "o.gguf"), "--type", "iq1_s"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and str(path) in proc.stderr
    assert not (tmp_path / "o.gguf").exists()
