"""The GGUF reader and writer on hostile input: every problem is a GGUFError (or the documented OSError /
TypeError) naming the file and the tensor or key, never a wrong answer, a hang, or another exception
type. Classes of case: size overflow, invalid alignment, writer/reader limits, duplicates, overlapping /
misaligned offsets, invalid UTF-8, non-regular files, non-integer dimensions, output-file hygiene, CLI."""

import os
import stat
import struct
import subprocess
import sys
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import iq1kernels as iq1
from gguf_craft import gguf_bytes, kv, tensor_info
from iq1kernels import _output
from iq1kernels.gguf_io import GGUFError, GGUFValue, load_gguf, read_gguf, save_gguf
from iq1kernels.gguf_types import MAX_ARRAY_DEPTH, MAX_DIMS

IQ1_S_ROW = 50  # bytes of one 256-value IQ1_S row


def write(tmp_path, blob, name="c.gguf"):
    p = tmp_path / name
    p.write_bytes(blob)
    return p


def rejects(tmp_path, blob, match):
    with pytest.raises(GGUFError, match=match):
        load_gguf(write(tmp_path, blob))


@pytest.mark.parametrize("ne", [(256, 4, 2**62 + 1), (256, 2**32, 2**32), (2**63, 2), (2**64 - 1,)])
def test_dims_whose_product_overflows(tmp_path, ne):
    ttype = 19 if ne[0] == 256 else 0
    rejects(
        tmp_path,
        gguf_bytes(infos=[tensor_info("w", ne, ttype, 0)], data=bytes(4 * IQ1_S_ROW)),
        "tensor w: .*(2\\*\\*63|past the end|multiple)",
    )


@pytest.mark.parametrize(
    "ne, match",
    [
        ((0, 4), "ne\\[0\\] = 0"),
        ((256, 0), "ne\\[1\\] = 0"),
        ((), "0 dimensions"),
        ((1,) * 5, "5 dimensions"),
        ((100, 1), "IQ1_S needs ne\\[0\\] a multiple of 256"),
    ],
)
def test_bad_dims(tmp_path, ne, match):
    blob = gguf_bytes(infos=[tensor_info("w", ne, 19, 0)], data=bytes(256))
    rejects(tmp_path, blob, "tensor w: (dimension )?" + match)


@pytest.mark.parametrize(
    "vtype, value",
    [
        (5, -1),
        (5, -8),
        (5, -32),
        (6, -40.0),
        (8, "-16"),
        (4, 0),
        (6, 0.5),
        (6, float("inf")),
        (4, 48),
        (4, 3),
        (4, 2**31),
        (5, 32),
        (10, 32),
    ],
)
def test_invalid_alignment(tmp_path, vtype, value):
    blob = gguf_bytes(kvs=[kv("general.alignment", vtype, value)], infos=[tensor_info("w", (4,), 0, 0)], data=bytes(16))
    rejects(tmp_path, blob, "general.alignment must be")


def test_valid_alignment_is_honoured(tmp_path):
    for a in (1, 8, 16, 64, 4096):
        blob = gguf_bytes(
            kvs=[kv("general.alignment", 4, a)],
            infos=[tensor_info("b", (3,), 0, 0)],
            data=struct.pack("<3f", 1, 2, 3) + bytes(-12 % a),
            alignment=a,
        )
        np.testing.assert_array_equal(np.asarray(load_gguf(write(tmp_path, blob))["b"]), [1, 2, 3])


@pytest.mark.parametrize("alignment", [1, 16, 64, 256])
def test_writer_honours_the_alignment_it_records(tmp_path, alignment):
    rng = np.random.default_rng(alignment)
    tensors = {
        "a": rng.standard_normal(3).astype(np.float32),
        "b": rng.standard_normal(5).astype(np.float16),
        "w": iq1.quantize(rng.standard_normal((4, 256)).astype(np.float32), "iq1_m"),
    }
    for how in ("metadata", "argument"):
        path = tmp_path / f"{how}.gguf"
        if how == "metadata":
            save_gguf(path, tensors, {"general.alignment": alignment})
        else:
            save_gguf(path, tensors, alignment=alignment)
        f = read_gguf(path)
        assert f.alignment == alignment and all(i.offset % alignment == 0 for i in f.tensors.values())
        back = load_gguf(path)
        for name, t in tensors.items():
            assert back[name].data.tobytes() == (t.data if isinstance(t, iq1.QuantizedMatrix) else t).tobytes()
    for bad in (0, 3, 48, -16, 2**21, "16", 16.0):
        with pytest.raises((GGUFError, TypeError)):
            save_gguf(tmp_path / "bad.gguf", tensors, {"general.alignment": bad})
        with pytest.raises((GGUFError, TypeError)):
            save_gguf(tmp_path / "bad.gguf", tensors, alignment=bad)
    with pytest.raises(GGUFError, match="disagrees"):
        save_gguf(tmp_path / "bad.gguf", tensors, {"general.alignment": 16}, alignment=64)
    assert not (tmp_path / "bad.gguf").exists()


def nested(depth):
    v = [1]
    for _ in range(depth - 1):
        v = [v]
    return v


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    depth=st.integers(1, MAX_ARRAY_DEPTH + 3), ndim=st.integers(1, MAX_DIMS + 3), strlen=st.sampled_from([0, 1, 1000])
)
def test_writer_and_reader_share_limits(tmp_path_factory, depth, ndim, strlen):
    """Whatever save_gguf writes, load_gguf reads back equal; what it cannot, it refuses before writing."""
    path = tmp_path_factory.mktemp("lim") / "l.gguf"
    meta = {"nest": nested(depth), "s": "x" * strlen}
    tensors = {"t": np.ones((2,) * ndim, np.float32)}
    try:
        save_gguf(path, tensors, meta)
    except GGUFError as exc:
        assert depth > MAX_ARRAY_DEPTH or ndim > MAX_DIMS, exc
        assert not path.exists()
        return
    assert depth <= MAX_ARRAY_DEPTH and ndim <= MAX_DIMS
    back, m = load_gguf(path, with_metadata=True)
    assert m["nest"] == nested(depth) and m["s"] == "x" * strlen
    np.testing.assert_array_equal(np.asarray(back["t"]), tensors["t"])


def test_reader_refuses_arrays_nested_too_deep(tmp_path):
    raw = struct.pack("<I", 9)
    inner = struct.pack("<IQ", 4, 1) + struct.pack("<I", 1)
    for _ in range(MAX_ARRAY_DEPTH):
        inner = struct.pack("<IQ", 9, 1) + inner
    rejects(tmp_path, gguf_bytes(kvs=[b"".join([struct.pack("<Q", 1), b"k", raw, inner])]), "nested deeper")


def test_duplicates_overlaps_misalignment_utf8(tmp_path):
    data = bytes(64)
    rejects(tmp_path, gguf_bytes(kvs=[kv("a", 4, 1), kv("a", 4, 2)]), "duplicate metadata key 'a'")
    rejects(
        tmp_path,
        gguf_bytes(infos=[tensor_info("t", (4,), 0, 0), tensor_info("t", (4,), 0, 32)], data=data),
        "duplicate tensor name 't'",
    )
    rejects(
        tmp_path,
        gguf_bytes(infos=[tensor_info("t", (8,), 0, 0), tensor_info("u", (4,), 0, 0)], data=data),
        "tensor t .*overlaps tensor u|tensor u .*overlaps tensor t",
    )
    rejects(
        tmp_path,
        gguf_bytes(infos=[tensor_info("t", (4,), 0, 8)], data=data),
        "tensor t: offset 8 is not a multiple of the alignment 32",
    )
    rejects(tmp_path, gguf_bytes(infos=[tensor_info("t", (4,), 0, 64)], data=data), "tensor t extends past")
    rejects(tmp_path, gguf_bytes(kvs=[kv(b"bad\xff", 4, 1)]), "metadata key #0 is not valid UTF-8")
    rejects(
        tmp_path,
        gguf_bytes(infos=[tensor_info(b"x\xc3", (4,), 0, 0)], data=data),
        "name of tensor #0 is not valid UTF-8",
    )
    # two names that only differ in their invalid bytes cannot collide silently either
    rejects(
        tmp_path,
        gguf_bytes(infos=[tensor_info(b"x\xfe", (4,), 0, 0), tensor_info(b"x\xff", (4,), 0, 32)], data=data),
        "not valid UTF-8",
    )


@pytest.mark.parametrize(
    "blob, match",
    [
        (b"GGUF" + struct.pack("<IQQ", 3, 2**63, 0), "tensors cannot fit"),
        (b"GGUF" + struct.pack("<IQQ", 3, 0, 2**64 - 1), "metadata keys cannot fit"),
        (gguf_bytes(kvs=[kv("s", 8, None, raw=struct.pack("<Q", 2**62))]), "truncated|limit"),
        (gguf_bytes(kvs=[kv("a", 9, None, raw=struct.pack("<IQ", 4, 2**61))]), "does not fit"),
        (gguf_bytes(kvs=[kv("a", 9, None, raw=struct.pack("<IQ", 99, 1))]), "unknown array element type 99"),
        (gguf_bytes(kvs=[kv("a", 13, None, raw=b"")]), "unknown metadata value type 13"),
        (gguf_bytes(version=1), "unsupported GGUF version 1"),
        (gguf_bytes(version=3 << 24), "big-endian"),
        (b"GGUF\x03\x00", "only 6 bytes"),
    ],
)
def test_header_errors(tmp_path, blob, match):
    rejects(tmp_path, blob, match)


def test_non_regular_files_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.gguf"
    os.mkfifo(fifo)
    result = []
    t = threading.Thread(target=lambda: result.append(pytest.raises(GGUFError, load_gguf, fifo)), daemon=True)
    t.start()
    t.join(20)
    assert not t.is_alive() and "not a regular file" in str(result[0].value)
    for path in (tmp_path, "/dev/null"):
        with pytest.raises(GGUFError, match="not a regular file"):
            read_gguf(path)


def test_from_bytes_takes_integer_dims_only():
    good = bytes(iq1.FORMATS["iq1_s"].nbytes((8, 256)))
    for shape in ((8.7, 256), ("8", 256), (True, 256), (8, 256.0), (np.float64(8), 256)):
        with pytest.raises(TypeError, match="integers"):
            iq1.QuantizedMatrix.from_bytes(good, "iq1_s", shape)
    assert iq1.QuantizedMatrix.from_bytes(good, "iq1_s", (np.int64(8), np.uint16(256))).shape == (8, 256)
    strided = memoryview(bytes(2 * len(good)))[::2]
    with pytest.raises(TypeError, match="contiguous"):
        iq1.QuantizedMatrix.from_bytes(strided, "iq1_s", (8, 256))
    with pytest.raises(ValueError, match="needs exactly"):
        iq1.QuantizedMatrix.from_bytes(good, "iq1_s", (2**62, 256))


def test_metadata_values_the_writer_refuses(tmp_path):
    path = tmp_path / "m.gguf"
    for meta, match in (
        ({"x": 2**64}, "64 bits"),
        ({"x": -(2**63) - 1}, "64 bits"),
        ({"x": 1e39}, "out of float32 range"),
        ({"x": object()}, "cannot be stored"),
        ({"x": [1, "a"]}, "one type"),
        ({"x": lambda: GGUFValue(2**64, "uint64")}, "out of range"),
        ({"": 1}, "non-empty"),
        ({"split.count": 1, "k": {"a": 1}}, "cannot be stored"),
    ):
        with pytest.raises(GGUFError, match=match):
            save_gguf(path, {}, {k: v() if callable(v) else v for k, v in meta.items()})
    assert not path.exists()


# --- output files -----------------------------------------------------------------------------------
def test_output_mode_follows_umask_and_existing_mode_is_kept(tmp_path):
    old = os.umask(0o027)
    try:
        new = tmp_path / "new.gguf"
        save_gguf(new, {"a": np.ones(2, np.float32)})
        assert stat.S_IMODE(os.stat(new).st_mode) == 0o640
    finally:
        os.umask(old)
    os.chmod(new, 0o604)
    save_gguf(new, {"b": np.ones(2, np.float32)})
    assert stat.S_IMODE(os.stat(new).st_mode) == 0o604 and list(load_gguf(new)) == ["b"]


def test_symlink_output_is_written_through(tmp_path):
    target = tmp_path / "real.gguf"
    target.write_bytes(b"old")
    link = tmp_path / "link.gguf"
    os.symlink("real.gguf", link)
    save_gguf(link, {"a": np.ones(2, np.float32)})
    assert os.path.islink(link) and os.readlink(link) == "real.gguf"
    assert list(load_gguf(target)) == ["a"]
    assert sorted(os.listdir(tmp_path)) == ["link.gguf", "real.gguf"]


def test_device_fifo_directory_outputs_are_refused(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path, exc in (
        ("/dev/null", _output.OutputFileError),
        (fifo, _output.OutputFileError),
        (tmp_path, IsADirectoryError),
    ):
        with pytest.raises(exc, match="not a regular file|directory"):
            save_gguf(path, {"a": np.ones(2, np.float32)})
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode) and stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["fifo"]


def test_output_errors_name_the_users_path(tmp_path, monkeypatch):
    missing = tmp_path / "no" / "such" / "out.gguf"
    with pytest.raises(FileNotFoundError) as err:
        save_gguf(missing, {"a": np.ones(2, np.float32)})
    assert str(missing) in str(err.value) and ".tmp" not in str(err.value)
    real_open = os.open

    def deny(path, flags, mode=0o777, **kw):  # a read-only folder (root bypasses real permissions)
        if str(path).endswith(".tmp"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, mode, **kw)

    monkeypatch.setattr(_output.os, "open", deny)
    out = tmp_path / "ro.gguf"
    with pytest.raises(PermissionError) as err:
        save_gguf(out, {"a": np.ones(2, np.float32)})
    assert str(out) in str(err.value) and ".tmp" not in str(err.value)


def test_output_is_not_an_input(tmp_path):
    src = tmp_path / "in.gguf"
    save_gguf(src, {"a": np.ones(2, np.float32)})
    link = tmp_path / "alias.gguf"
    os.symlink(src, link)
    with pytest.raises(_output.OutputFileError, match="is the input file"):
        _output.AtomicOutput(link, inputs=[src])


def test_live_temp_files_are_listed_and_removed(tmp_path):
    out = _output.AtomicOutput(tmp_path / "x.bin")
    out.write(b"abc")
    assert _output.live_temp_files() == [out.tmp] and os.path.exists(out.tmp)
    _output.remove_temp_files()
    assert not os.path.exists(out.tmp)
    out.abort()
    assert _output.live_temp_files() == [] and os.listdir(tmp_path) == []


# --- the CLI on bad files -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "blob",
    [
        gguf_bytes(infos=[tensor_info("w", (256, 4, 2**62 + 1), 19, 0)]),
        gguf_bytes(kvs=[kv("general.alignment", 5, -8)]),
        gguf_bytes(infos=[tensor_info("w", (0, 4), 19, 0)]),
        gguf_bytes(infos=[tensor_info("w", (), 0, 0)]),
        gguf_bytes(kvs=[kv("a", 9, None, raw=struct.pack("<IQ", 10, 2**40))]),
        b"GGUF",
    ],
)
def test_cli_info_and_check_print_one_line(tmp_path, blob):
    path = write(tmp_path, blob)
    for command in ("info", "check"):
        proc = subprocess.run(
            [sys.executable, "-m", "iq1kernels", command, str(path)], capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and str(path) in proc.stderr


def test_cli_info_lists_every_tensor_and_key(tmp_path):
    rng = np.random.default_rng(0)
    tensors = {
        "e": iq1.QuantizedMatrix.from_bytes(
            iq1.quantize(rng.standard_normal((8, 256)).astype(np.float32), "iq1_m").data, "iq1_m", (2, 4, 256)
        ),
        "f": np.ones(4, np.float16),
    }
    tensors["x"] = iq1.gguf_io.GGUFTensor(139, (32, 2), bytes(96), name="x")
    paths = save_gguf(
        tmp_path / "m.gguf", tensors, {"general.architecture": "deepseek2", "ids": [1, 2, 3, 4]}, split_max_size=600
    )
    proc = subprocess.run(
        [sys.executable, "-m", "iq1kernels", "info", paths[0]], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert f"{len(paths)} shards" in out and "deepseek2" in out and "UINT32[4]" in out
    assert "| e " in out and "IQ1_M" in out and "[256, 4, 2]" in out and "F16" in out and "type 139" in out
