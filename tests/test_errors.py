"""Bad input raises a clear exception and changes nothing (no partial output, no modified argument)."""

import os
import subprocess
import sys

import numpy as np
import pytest

import iq1kernels as iq1
from helpers import QTYPES
from iq1kernels import synthetic


@pytest.mark.parametrize("qtype", QTYPES)
def test_from_bytes_validation(qtype):
    fmt = iq1.FORMATS[qtype]
    good = bytes(fmt.nbytes((4, 256)))
    W = iq1.QuantizedMatrix.from_bytes(good, qtype, (4, 256))
    assert W.nbytes == len(good) and not W.data.flags.writeable  # zero-copy over read-only bytes
    with pytest.raises(ValueError, match="needs exactly"):
        iq1.QuantizedMatrix.from_bytes(good[:-1], qtype, (4, 256))
    with pytest.raises(ValueError, match="needs exactly"):
        iq1.QuantizedMatrix.from_bytes(good + b"\0", qtype, (4, 256))
    with pytest.raises(ValueError, match=f"multiple of {fmt.k_multiple}"):
        iq1.QuantizedMatrix.from_bytes(good, qtype, (4, 250))
    with pytest.raises(ValueError, match="shape"):
        iq1.QuantizedMatrix.from_bytes(good, qtype, (4,))
    with pytest.raises(ValueError):
        iq1.QuantizedMatrix.from_bytes(good, qtype, (0, 256))
    if fmt.interleaved:
        with pytest.raises(ValueError, match="multiple of 4"):
            iq1.QuantizedMatrix.from_bytes(bytes(fmt.nbytes((4, 256)) * 2), qtype, (6, 256))
    with pytest.raises(TypeError):
        iq1.QuantizedMatrix.from_bytes(12345, qtype, (4, 256))
    with pytest.raises(ValueError, match="unknown IQ1 type"):
        iq1.QuantizedMatrix.from_bytes(good, "iq2_xs", (4, 256))


def test_r4_shapes_need_k_multiple_of_128():
    with pytest.raises(ValueError, match="multiple of 128"):
        iq1.QuantizedMatrix.from_bytes(bytes(8 + 24 * 3), "iq1_s_r4", (4, 96))


def test_linear_bad_inputs_raise_and_leave_out_untouched():
    W = synthetic.random_weights("iq1_s", (8, 512))
    out = np.full((2, 8), 7.0, np.float32)
    bad_calls = [
        (lambda: iq1.linear(np.ones((2, 256), np.float32), W, out=out), ValueError, "K=512"),
        (lambda: iq1.linear(np.ones((2, 512), np.complex64), W, out=out), TypeError, "real numeric"),
        (lambda: iq1.linear(np.array([["a"] * 512] * 2), W, out=out), TypeError, "real numeric"),
        (
            lambda: iq1.linear(np.ones((2, 512), np.float32), W, out=np.empty((2, 8), np.float64)),
            ValueError,
            "out must be",
        ),
        (
            lambda: iq1.linear(np.ones((2, 512), np.float32), W, out=np.empty((8, 2), np.float32).T),
            ValueError,
            "out must be",
        ),
        (lambda: iq1.linear(np.ones((2, 512), np.float32), W, out=out, threads=0), ValueError, ">= 1"),
        (lambda: iq1.linear(np.ones((2, 512), np.float32), W, out=out, threads=-3), ValueError, ">= 1"),
        (lambda: iq1.linear(np.ones((2, 512), np.float32), W, out=out, threads=1.5), TypeError, "integer"),
        (lambda: iq1.linear(np.ones((2, 512), np.float32), W, out=out, threads=True), TypeError, "integer"),
        (lambda: iq1.linear(np.ones((2, 512), np.float32), W.dequantize(), out=out), TypeError, "QuantizedMatrix"),
        (lambda: iq1.linear(np.float32(3.0), W, out=out), ValueError, "last dimension"),
    ]
    for call, exc, msg in bad_calls:
        with pytest.raises(exc, match=msg):
            call()
        assert (out == 7.0).all()


def test_matmul_bad_inputs():
    W = synthetic.random_weights("iq1_m", (8, 256))
    with pytest.raises(ValueError, match="do not align"):
        W @ np.ones(255, np.float32)
    with pytest.raises(ValueError, match="do not align"):
        W @ np.ones((3, 256), np.float32)
    with pytest.raises(ValueError, match="scalar"):
        iq1.matmul(W, 2.0)


def test_threads_setting_validation():
    with pytest.raises(ValueError):
        iq1.set_num_threads(0)
    with pytest.raises(TypeError):
        iq1.set_num_threads("2")


def test_unknown_backend_is_an_error():
    with pytest.raises(ValueError, match="unknown iq1kernels backend"):
        iq1.use_backend("sse9")
    assert iq1.backend in iq1.available_backends()


# --- finite values beyond float32 -----------------------------------------------------------------------
FLT_MAX = float(np.finfo(np.float32).max)


@pytest.mark.parametrize("dtype", [np.float64, np.longdouble])
@pytest.mark.parametrize("value", [1e39, -1e39, 3.5e38])
def test_weights_beyond_float32_are_out_of_range_not_nan(dtype, value):
    W = np.zeros((8, 256), dtype)
    W[5, 17] = value
    with pytest.raises(ValueError, match=r"weights value .* at row 5, column 17 is out of float32 range"):
        iq1.quantize(W, "iq1_s")
    W[5, 17] = FLT_MAX * (1 + 2.0**-26)  # rounds to the largest float32: accepted
    iq1.quantize(W, "iq1_s")
    W[5, 17] = np.inf  # a real Inf is still reported as one
    with pytest.raises(ValueError, match="NaN or Inf in row 5"):
        iq1.quantize(W, "iq1_s")
    im = np.ones(256)
    im[3] = 1e39
    with pytest.raises(ValueError, match=r"imatrix value .* at index 3 is out of float32 range"):
        iq1.quantize(np.ones((4, 256)), "iq1_s", imatrix=im)


def test_activations_beyond_float32_are_an_error(backend):
    """A finite float64 activation beyond float32 would become Inf and poison its row to NaN (the rule for
    real NaN/Inf, which stays): it is refused instead, naming where it is, and nothing is written."""
    W = synthetic.random_weights("iq1_m", (8, 256))
    X = np.ones((3, 256))
    X[1, 9] = 1e39
    out = np.full((3, 8), 7.0, np.float32)
    for call, where in [
        (lambda: iq1.linear(X, W, out=out), "row 1, column 9"),
        (lambda: iq1.quantize_activations(X), "row 1, column 9"),
        (lambda: iq1.linear(X.reshape(3, 1, 256), W), r"index \(1, 0, 9\)"),
        (lambda: iq1.linear(X[1], W), "index 9"),
        (lambda: W @ X.T, "row 9, column 1"),
    ]:
        with pytest.raises(ValueError, match=f"value 1e\\+39 at {where} is out of float32 range"):
            call()
    assert (out == 7.0).all()
    X[1, 9] = np.inf  # a real Inf: that row's outputs are NaN, no error
    Y = iq1.linear(X, W)
    assert np.isnan(Y[1]).all() and np.isfinite(Y[[0, 2]]).all()


# --- exception classes ------------------------------------------------------------------------------------
def test_every_compute_error_is_a_documented_class():
    """Malformed arguments to the compute API raise ValueError / TypeError (RuntimeError, MemoryError for
    the machine), each with a message; never IndexError, OverflowError, BufferError or AttributeError."""
    W = synthetic.random_weights("iq1_s", (16, 256))
    X = np.ones((2, 256), np.float32)
    xq = iq1.quantize_activations(X)
    calls = [
        lambda: iq1.quantize(None, "iq1_s"),
        lambda: iq1.quantize("abc", "iq1_s"),
        lambda: iq1.quantize([[1.0, 2.0], [3.0]], "iq1_s"),
        lambda: iq1.quantize(np.ones((4, 256)), None),
        lambda: iq1.quantize(np.ones((4, 256)), 19.5),
        lambda: iq1.quantize(np.ones(256), "iq1_s"),
        lambda: iq1.quantize(np.ones((4, 256)), "iq1_s", imatrix="x"),
        lambda: iq1.quantize(np.ones((4, 256)), "iq1_s", imatrix=np.ones((2, 128))),
        lambda: iq1.quantize(np.ones((4, 256)), "iq1_s", threads=np.float64(2)),
        lambda: iq1.linear(X, object()),
        lambda: iq1.linear(object(), W),
        lambda: iq1.linear(X, W, out=[[0.0]]),
        lambda: iq1.linear(X, W, out=np.empty((2, 16), np.float32)[:, ::-1]),
        lambda: iq1.linear(X, W, threads="1"),
        lambda: iq1.linear(X, W, threads=-(2**70)),
        lambda: iq1.linear(np.ones((2, 0)), W),
        lambda: iq1.linear(np.ones((0, 128)), W),
        lambda: iq1.linear(xq, synthetic.random_weights("iq1_s", (16, 512))),
        lambda: iq1.matmul(W, None),
        lambda: iq1.matmul(None, X[0]),
        lambda: W @ "abc",
        lambda: W @ np.ones((2, 3, 4)),
        lambda: iq1.dequantize(None),
        lambda: iq1.dequantize(W, threads=0),
        lambda: iq1.quantize_activations(np.ones((2, 100))),
        lambda: iq1.quantize_activations(np.ones((2, 2, 256))),
        lambda: iq1.quantize_activations(None),
        lambda: iq1.quantize_activations(np.ones((2, 256)), threads=[2]),
        lambda: iq1.Q8K128(xq.d, xq.bsums, xq.qs[:, :128]),
        lambda: iq1.Q8K128(xq.d, None, xq.qs),
        lambda: iq1.use_backend(3),
        lambda: iq1.use_backend("avx1024"),
        lambda: iq1.set_num_threads(2.5),
    ]
    for i, call in enumerate(calls):
        try:
            call()
        except (ValueError, TypeError, RuntimeError, MemoryError) as exc:
            assert str(exc), f"call {i}: {type(exc).__name__} without a message"
        except Exception as exc:  # noqa: BLE001 - the point of the test
            pytest.fail(f"call {i} raised {type(exc).__name__}: {exc}")
        else:
            pytest.fail(f"call {i} did not raise")


# --- configuration errors at the command line -----------------------------------------------------------
def _run_cli(argv_prefix, env_extra):
    env = {k: v for k, v in os.environ.items() if k not in ("IQ1KERNELS_BACKEND", "IQ1KERNELS_HIDE_CPU_FLAGS")}
    env.update(env_extra)
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(iq1.__file__)))
    return subprocess.run(argv_prefix + ["info"], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("how", ["python -m iq1kernels", "console script"])
def test_bad_backend_setting_at_the_cli_is_one_line_and_exit_2(tmp_path, how):
    if how == "console script":  # what pip's launcher does, from a file named like the command
        script = tmp_path / "iq1kernels"
        script.write_text("import sys\nfrom iq1kernels.cli import main\nsys.exit(main())\n")
        prefix = [sys.executable, str(script)]
    else:
        prefix = [sys.executable, "-m", "iq1kernels"]
    cases = [({"IQ1KERNELS_BACKEND": "avx1024"}, "unknown iq1kernels backend 'avx1024'")]
    if "avx2" in iq1.available_backends():
        cases.append(({"IQ1KERNELS_BACKEND": "avx2", "IQ1KERNELS_HIDE_CPU_FLAGS": "avx2"}, "this CPU lacks avx2"))
    for env, message in cases:
        proc = _run_cli(prefix, env)
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("iq1kernels: error: ") and message in lines[0], proc.stderr
    assert _run_cli(prefix, {}).returncode == 0


def test_bad_backend_setting_still_fails_a_plain_import():
    proc = subprocess.run(
        [sys.executable, "-c", "import iq1kernels"],
        capture_output=True,
        text=True,
        env=dict(os.environ, IQ1KERNELS_BACKEND="avx1024"),
        timeout=120,
    )
    assert proc.returncode != 0 and "unknown iq1kernels backend 'avx1024'" in proc.stderr
