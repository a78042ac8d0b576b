"""Helpers shared by the tests (imported as `helpers`; conftest.py puts this folder on sys.path)."""

import os
import platform

import numpy as np

import iq1kernels as iq1

BACKENDS = iq1.available_backends()
QTYPES = ["iq1_s", "iq1_m", "iq1_s_r4", "iq1_m_r4"]


def simde_available():
    """x86-64 with SIMDe's headers (tools/avx512_simde/install.sh): the AVX-512 / AVX-VNNI kernels can be
    checked under emulation."""
    return platform.machine() in ("x86_64", "AMD64") and os.path.exists("/usr/include/simde/x86/avx512.h")


def min_k(qtype):
    return iq1.FORMATS[qtype].k_multiple


def bits_equal(a, b):
    """Bit-for-bit equality of two float32 arrays (NaN payloads included)."""
    a, b = np.ascontiguousarray(a, np.float32), np.ascontiguousarray(b, np.float32)
    return a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32))


def exact_linear(X, Wq):
    """float64 X' @ W'.T on the dequantized operands, and the bound sum |X'| |W'| for tolerances."""
    xq = X if isinstance(X, iq1.Q8K128) else iq1.reference.quantize_activations(X)
    Xd = xq.dequantize().astype(np.float64)
    Wd = iq1.reference.dequantize(Wq).astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        return Xd @ Wd.T, np.abs(Xd) @ np.abs(Wd).T


def assert_linear_close(Y, X, Wq):
    """Y equals the float64 result up to float32 summation error over K/128 block partial sums."""
    ref, bound = exact_linear(X, Wq)
    nb = Wq.shape[1] // 128
    tol = 1.2e-7 * (nb + 4) * bound + 1e-30
    Y = np.asarray(Y, np.float64).reshape(ref.shape)
    finite = np.isfinite(ref) & (np.abs(ref) < 3e38)
    assert np.isfinite(Y[finite]).all(), "non-finite output where the exact result is finite"
    err = np.abs(Y - ref)[finite]
    assert (err <= tol[finite]).all(), (
        f"max error {err.max():.3g} > tol {tol[finite][np.argmax(err - tol[finite])]:.3g}"
    )
