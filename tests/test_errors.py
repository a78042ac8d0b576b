"""Bad input raises a clear exception and changes nothing (DESIGN.md rule 6)."""
import numpy as np
import pytest

import iq1kernels as iq1
from iq1kernels import synthetic

from helpers import QTYPES


@pytest.mark.parametrize("qtype", QTYPES)
def test_from_bytes_validation(qtype):
    fmt = iq1.FORMATS[qtype]
    good = bytes(fmt.nbytes((4, 256)))
    W = iq1.QuantizedMatrix.from_bytes(good, qtype, (4, 256))
    assert W.nbytes == len(good) and not W.data.flags.writeable       # zero-copy over read-only bytes
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
        (lambda: iq1.linear(np.ones((2, 512), np.float32), W, out=np.empty((2, 8), np.float64)),
         ValueError, "out must be"),
        (lambda: iq1.linear(np.ones((2, 512), np.float32), W, out=np.empty((8, 2), np.float32).T),
         ValueError, "out must be"),
        (lambda: iq1.linear(np.ones((2, 512), np.float32), W, out=out, threads=0), ValueError, ">= 1"),
        (lambda: iq1.linear(np.ones((2, 512), np.float32), W, out=out, threads=-3), ValueError, ">= 1"),
        (lambda: iq1.linear(np.ones((2, 512), np.float32), W, out=out, threads=1.5), TypeError, "integer"),
        (lambda: iq1.linear(np.ones((2, 512), np.float32), W, out=out, threads=True), TypeError, "integer"),
        (lambda: iq1.linear(np.ones((2, 512), np.float32), W.dequantize(), out=out), TypeError,
         "QuantizedMatrix"),
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
