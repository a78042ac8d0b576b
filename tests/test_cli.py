"""The `iq1kernels` command line: bench, quantize, info, check, and one-line errors with exit code 2."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import iq1kernels as iq1


def cli(*args, timeout=600):
    proc = subprocess.run([sys.executable, "-m", "iq1kernels", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def test_bench_quick_prints_the_table(tmp_path):
    rc, out, err = cli("bench", "--quick", "--type", "iq1_s", "--type", "iq1_m_r4", "--n", "1,8",
                       "--json", tmp_path / "b.json")
    assert rc == 0, err
    assert "vs numpy f32" in out and "GFLOP/s" in out and "BLAS:" in out
    report = json.loads((tmp_path / "b.json").read_text())
    rows, machine = report["rows"], report["machine"]
    assert {r["type"] for r in rows} == {"iq1_s", "iq1_m_r4"} and {r["n"] for r in rows} == {1, 8}
    assert all(r["time_s"] > 0 and r["speedup_vs_reference"] > 0 for r in rows)
    assert all(r["backend"] == iq1.backend for r in rows)
    assert all(len(r["rounds_s"]) == 3 and r["time_s"] == min(r["rounds_s"]) and r["noisy"] == (r["spread"] > 1.2)
               for r in rows)
    assert machine["backend"] == iq1.backend and machine["iq1kernels"] == iq1.__version__
    assert machine["cpu"] and machine["numpy"] == np.__version__ and "BLAS" in machine["blas"]
    assert [line.startswith(f"[{i}/4] ") for i, line in enumerate(err.splitlines(), 1)] == [True] * 4


def test_quantize_info_check(tmp_path):
    rng = np.random.default_rng(0)
    src = tmp_path / "w.npz"
    np.savez(src, **{"layer.0.weight": rng.standard_normal((64, 512)).astype(np.float32),
                     "layer.0.bias": np.ones(64, np.float32),
                     "odd.weight": rng.standard_normal((6, 300)).astype(np.float32)})
    out = tmp_path / "w.gguf"
    rc, text, err = cli("quantize", src, out, "--type", "iq1_s_r4", "--threads", "1")
    assert rc == 0, err
    assert "layer.0.weight" in text and "quantized 1 tensors to iq1_s_r4, kept 2" in text
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
    blob[group1 + 2:group1 + 4] = b"\x00\x7c"                       # row 5 (group 1, row 1): +Inf
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(bytes(blob))
    rc, text, _ = cli("check", bad)
    assert rc == 1 and "[5]" in text


def test_quantize_with_include_exclude_and_imatrix(tmp_path):
    rng = np.random.default_rng(1)
    src = tmp_path / "w.npz"
    np.savez(src, a=rng.standard_normal((8, 256)).astype(np.float32), b=rng.standard_normal((8, 256)).astype(np.float32))
    im = tmp_path / "im.npz"
    np.savez(im, a=rng.uniform(0.1, 2.0, 256).astype(np.float32))
    rc, text, err = cli("quantize", src, tmp_path / "o.gguf", "--type", "iq1_s", "--include", "a",
                        "--imatrix", im)
    assert rc == 0, err
    loaded = iq1.load_gguf(tmp_path / "o.gguf")
    assert isinstance(loaded["a"], iq1.QuantizedMatrix) and isinstance(loaded["b"], iq1.gguf_io.GGUFTensor)
    assert loaded["b"].type_name == "F32"                 # kept raw, as it was
    assert "| yes" in text


@pytest.mark.parametrize("args, message", [
    (("quantize", "missing.npz", "o.gguf", "--type", "iq1_s"), "no such file"),
    (("quantize", __file__, "o.gguf", "--type", "iq1_s"), "unknown input format"),
    (("info", "missing.gguf"), "no such file"),
    (("bench", "--backend", "sse9"), "not available"),
])
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
