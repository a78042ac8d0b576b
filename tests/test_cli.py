"""The `iq1kernels` command line: bench, quantize, info, check, and one-line errors with exit code 2."""

import json
import os
import signal
import stat
import subprocess
import sys

import numpy as np
import pytest

import iq1kernels as iq1


def cli(*args, timeout=600):
    proc = subprocess.run(
        [sys.executable, "-m", "iq1kernels", *map(str, args)], capture_output=True, text=True, timeout=timeout
    )
    return proc.returncode, proc.stdout, proc.stderr


def test_bench_quick_prints_the_table(tmp_path):
    rc, out, err = cli(
        "bench", "--quick", "--type", "iq1_s", "--type", "iq1_m_r4", "--n", "1,8", "--json", tmp_path / "b.json"
    )
    assert rc == 0, err
    assert "vs numpy f32" in out and "GFLOP/s" in out and "BLAS:" in out
    report = json.loads((tmp_path / "b.json").read_text())
    rows, machine = report["rows"], report["machine"]
    assert {r["type"] for r in rows} == {"iq1_s", "iq1_m_r4"} and {r["n"] for r in rows} == {1, 8}
    assert all(r["time_s"] > 0 and r["speedup_vs_reference"] > 0 for r in rows)
    assert all(r["backend"] == iq1.backend for r in rows)
    assert all(
        len(r["rounds_s"]) == 3 and r["time_s"] == min(r["rounds_s"]) and r["noisy"] == (r["spread"] > 1.2)
        for r in rows
    )
    assert machine["backend"] == iq1.backend and machine["iq1kernels"] == iq1.__version__
    assert machine["cpu"] and machine["numpy"] == np.__version__ and "BLAS" in machine["blas"]
    assert [line.startswith(f"[{i}/4] ") for i, line in enumerate(err.splitlines(), 1)] == [True] * 4


def test_bench_shape_sets_m_and_k(tmp_path):
    rc, out, err = cli(
        "bench",
        "--shape",
        "512x768",
        "--type",
        "iq1_s_r4",
        "--n",
        "1",
        "--threads",
        "1",
        "--no-reference",
        "--json",
        tmp_path / "b.json",
    )
    assert rc == 0, err
    assert "M = 512, K = 768" in out
    [row] = json.loads((tmp_path / "b.json").read_text())["rows"]
    assert (row["m"], row["k"]) == (512, 768)
    for bad in ("512x700", "512", "0x256", "ax256"):
        rc, out, err = cli("bench", "--shape", bad)
        assert rc == 2 and "--shape" in err and "Traceback" not in err


def test_quantize_info_check(tmp_path):
    rng = np.random.default_rng(0)
    src = tmp_path / "w.npz"
    np.savez(
        src,
        **{
            "layer.0.weight": rng.standard_normal((64, 512)).astype(np.float32),
            "layer.0.bias": np.ones(64, np.float32),
            "odd.weight": rng.standard_normal((6, 300)).astype(np.float32),
        },
    )
    out = tmp_path / "w.gguf"
    rc, text, err = cli("quantize", src, out, "--type", "iq1_s_r4", "--threads", "1")
    assert rc == 0, err
    assert "layer.0.weight" in text and "quantized 1 tensors to iq1_s_r4" in text
    assert "kept 2 as they were" in text
    assert "kept: K = 300 is not a multiple of 128" in text
    loaded = iq1.load_gguf(out)
    assert loaded["layer.0.weight"].qtype == "iq1_s_r4"
    np.testing.assert_array_equal(loaded["layer.0.bias"], np.ones(64, np.float32))
    assert loaded["odd.weight"].shape == (6, 300)
    rc, text, _ = cli("info", out)
    assert rc == 0 and "layer.0.weight" in text and "iq1_s_r4" in text
    rc, text, _ = cli("check", out)
    assert rc == 0 and "all good" in text
    # corrupt one row scale (fp16 Inf) and check reports the row
    blob = bytearray(out.read_bytes())
    start = bytes(blob).find(loaded["layer.0.weight"].data.tobytes())
    assert start > 0
    group1 = start + iq1.FORMATS["iq1_s_r4"].nbytes((4, 512))
    blob[group1 + 2 : group1 + 4] = b"\x00\x7c"  # row 5 (group 1, row 1): +Inf
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(bytes(blob))
    rc, text, _ = cli("check", bad)
    assert rc == 1 and "[5]" in text


def test_quantize_with_include_exclude_and_imatrix(tmp_path):
    rng = np.random.default_rng(1)
    src = tmp_path / "w.npz"
    np.savez(
        src, a=rng.standard_normal((8, 256)).astype(np.float32), b=rng.standard_normal((8, 256)).astype(np.float32)
    )
    im = tmp_path / "im.npz"
    np.savez(im, a=rng.uniform(0.1, 2.0, 256).astype(np.float32))
    rc, text, err = cli("quantize", src, tmp_path / "o.gguf", "--type", "iq1_s", "--include", "a", "--imatrix", im)
    assert rc == 0, err
    loaded = iq1.load_gguf(tmp_path / "o.gguf")
    assert isinstance(loaded["a"], iq1.QuantizedMatrix) and isinstance(loaded["b"], iq1.gguf_io.GGUFTensor)
    assert loaded["b"].type_name == "F32"  # kept raw, as it was
    assert "| yes" in text


@pytest.mark.parametrize(
    "args, message",
    [
        (("quantize", "missing.npz", "o.gguf", "--type", "iq1_s"), "no such file"),
        (("quantize", __file__, "o.gguf", "--type", "iq1_s"), "unknown input format"),
        (("info", "missing.gguf"), "no such file"),
        (("bench", "--backend", "sse9"), "not available"),
    ],
)
def test_errors_are_one_line(tmp_path, args, message):
    rc, out, err = cli(*args)
    assert rc == 2
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_quantize_type_error(tmp_path):
    src = tmp_path / "w.npz"
    np.savez(src, a=np.ones((4, 256), np.float32))
    rc, _, err = cli("quantize", src, tmp_path / "o.gguf", "--type", "q4_0")
    assert rc == 2 and "unknown IQ1 type" in err
    assert not (tmp_path / "o.gguf").exists()


def test_bench_model_prints_tokens_per_second():
    rc, out, err = cli("bench", "--model", "deepseek-lite", "--type", "iq1_s_r4", "--threads", "1")
    assert rc == 0, err
    assert "pp512" in out and "tg128" in out and "t/s" in out
    rc, _, err = cli("bench", "--model", "gpt-9", "--type", "iq1_s")
    assert rc == 2 and "unknown model" in err


def _model(path, n_large=0, rows=1024):
    """A small first tensor, then n_large (rows x 4096) F16 tensors: slow enough to signal mid-run."""
    rng = np.random.default_rng(8)
    tensors = {
        "blk.0.attn_q.weight": rng.standard_normal((8, 256)).astype(np.float16),
        "blk.0.attn_norm.weight": np.ones(256, np.float32),
    }
    for i in range(n_large):
        tensors[f"blk.{i + 1}.ffn_up.weight"] = rng.standard_normal((rows, 4096), dtype=np.float32).astype(np.float16)
    iq1.save_gguf(path, tensors, {"general.architecture": "llama"})
    return path


def test_quantize_gguf_progress_lines_and_quiet(tmp_path):
    src = _model(tmp_path / "m.gguf", n_large=1, rows=8)
    rc, out, err = cli("quantize", src, tmp_path / "o.gguf", "--type", "iq1_m")
    assert rc == 0, err
    lines = err.strip().splitlines()  # stderr is a pipe: one plain line per tensor
    assert lines[0].startswith("[1/3] blk.0.attn_q.weight: F16 -> IQ1_M, rel. RMSE")
    assert lines[1] == "[2/3] blk.0.attn_norm.weight: kept F32: norm"
    assert "| blk.0.attn_q.weight" in out and "kept: norm" in out and "wrote" in out
    rc, out, err = cli("quantize", src, tmp_path / "q.gguf", "--type", "iq1_m", "--quiet")
    assert rc == 0 and err == "" and "| blk" not in out and out.startswith("quantized 2 tensors to iq1_m")


def test_quantize_progress_on_a_terminal(tmp_path):
    import pty

    src = _model(tmp_path / "m.gguf", n_large=1, rows=64)
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "iq1kernels", "quantize", str(src), str(tmp_path / "o.gguf"), "--type", "iq1_s"],
        stdout=subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    out, _ = proc.communicate(timeout=120)
    os.close(master)
    screen = b"".join(chunks).decode()
    assert proc.returncode == 0
    assert "\r\x1b[K[" in screen and "ETA" in screen and "blk.1.ffn_up.weight" in screen
    assert screen.endswith("\r\x1b[K")  # the live line is cleared at the end
    assert b"| blk.1.ffn_up.weight" in out


@pytest.mark.parametrize(
    "sig, status", [(signal.SIGTERM, -signal.SIGTERM), (signal.SIGHUP, -signal.SIGHUP), (signal.SIGINT, 130)]
)
def test_quantize_signal_removes_temp_file_and_keeps_the_output(tmp_path, sig, status):
    src = _model(tmp_path / "m.gguf", n_large=12)
    out = tmp_path / "out.gguf"
    out.write_bytes(b"previous output")
    os.chmod(out, 0o640)
    proc = subprocess.Popen(
        [sys.executable, "-m", "iq1kernels", "quantize", str(src), str(out), "--type", "iq1_s", "--threads", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a test run started in the background by a shell inherits SIGINT ignored, and so would the child
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    first = proc.stderr.readline()  # the first tensor is written: a .tmp exists
    assert first.startswith("[ 1/14] blk.0.attn_q.weight"), first
    assert [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == status, err
    assert "Traceback" not in err
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    assert out.read_bytes() == b"previous output" and (os.stat(out).st_mode & 0o777) == 0o640


def test_quantize_output_files_follow_umask_and_keep_modes(tmp_path):
    src = _model(tmp_path / "m.gguf")

    def run(out):
        proc = subprocess.run(
            [sys.executable, "-m", "iq1kernels", "quantize", str(src), str(out), "--type", "iq1_s", "--quiet"],
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=lambda: os.umask(0o027),
        )
        return proc.returncode, proc.stderr

    assert run(tmp_path / "new.gguf")[0] == 0
    assert os.stat(tmp_path / "new.gguf").st_mode & 0o777 == 0o640  # 0666 minus the umask
    old = tmp_path / "old.gguf"
    old.write_bytes(b"x")
    os.chmod(old, 0o604)
    assert run(old)[0] == 0
    assert os.stat(old).st_mode & 0o777 == 0o604 and old.read_bytes()[:4] == b"GGUF"
    target = tmp_path / "target.gguf"
    target.write_bytes(b"y")
    link = tmp_path / "link.gguf"
    link.symlink_to(target)
    assert run(link)[0] == 0
    assert link.is_symlink() and target.read_bytes()[:4] == b"GGUF"  # written through, link kept
    fifo = tmp_path / "fifo.gguf"
    os.mkfifo(fifo)
    rc, err = run(fifo)
    assert rc == 2 and "not a regular file" in err and stat.S_ISFIFO(os.stat(fifo).st_mode)
    rc, err = run(src)
    assert rc == 2 and "is the input file" in err and len(err.strip().splitlines()) == 1
    src_link = tmp_path / "src_link.gguf"
    src_link.symlink_to(src)
    rc, err = run(src_link)
    assert rc == 2 and "(a link to it)" in err
    assert src.read_bytes()[:4] == b"GGUF" and not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]


def test_quantize_imatrix_dat_and_include_errors(tmp_path):
    import struct

    src = _model(tmp_path / "m.gguf")
    v = np.random.default_rng(9).uniform(0.5, 2, 256).astype("<f4")
    name = b"blk.0.attn_q.weight"
    dat = tmp_path / "imatrix.dat"
    dat.write_bytes(
        struct.pack("<i", 1)
        + struct.pack("<i", len(name))
        + name
        + struct.pack("<ii", 4, 256)
        + (v * 4).tobytes()
        + struct.pack("<ii", 3, 0)
    )
    rc, out, err = cli("quantize", src, tmp_path / "o.gguf", "--type", "iq1_s", "--imatrix", dat, "--quiet")
    assert rc == 0, err
    got = iq1.load_gguf(tmp_path / "o.gguf")["blk.0.attn_q.weight"].data.tobytes()
    x = np.asarray(iq1.load_gguf(src)["blk.0.attn_q.weight"], np.float32)
    assert got == iq1.quantize(x, "iq1_s", imatrix=v).data.tobytes()
    rc, _, err = cli("quantize", src, tmp_path / "p.gguf", "--type", "iq1_s", "--include", "blk.0.attn_norm.weight")
    assert rc == 2 and "named by include 'blk.0.attn_norm.weight' but cannot be quantized to iq1_s: 1-D tensor" in err
    assert not (tmp_path / "p.gguf").exists()


def test_version_prints_the_version_and_backend():
    out = subprocess.run([sys.executable, "-m", "iq1kernels", "--version"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"iq1kernels {iq1.__version__} (backend: {iq1.backend})"


def test_version_still_prints_with_an_unusable_backend():
    env = dict(os.environ, IQ1KERNELS_BACKEND="no_such_backend")
    out = subprocess.run(
        [sys.executable, "-m", "iq1kernels", "--version"], capture_output=True, text=True, timeout=120, env=env
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"iq1kernels {iq1.__version__} (backend: none (unknown iq1kernels backend")
