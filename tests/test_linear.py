"""The one matmul entry point: linear / matmul / @ for every format on every backend, against float64
math on the dequantized operands and against the portable C backend."""

import numpy as np
import pytest

import iq1kernels as iq1
from helpers import QTYPES, assert_linear_close, exact_linear, min_k
from iq1kernels import _dispatch, synthetic

NS = [1, 2, 7, 8, 33, 512]

# the x86 kernel plans' thresholds (csrc/core/kernel_plan.h); the column counts below sit just below, at and
# above each of them, so that every change of kernel is crossed on every backend
PLAN = _dispatch._generic_module().kernel_plan()


def around(n):
    return [n - 1, n, n + 1]


# every GEMV column count: passes of rows GEMV / columns GEMV, up to the GEMV's maximum, and one more (GEMM)
GEMV_COUNTS = list(range(1, PLAN["GEMV_MAX_COLS"] + 2))
# around the AVX-512 GEMV's per-format maxima (the GEMM above them)
AVX512_GEMV_COUNTS = sorted({c for m in PLAN["AVX512_GEMV_MAX_COLS"].values() for c in around(m)} - set(GEMV_COUNTS))
# more columns than any GEMV takes: a batch that goes to a GEMM in every plan
GEMM_COLS = (
    max([PLAN["GEMV_MAX_COLS"], *PLAN["AVX512_GEMV_MAX_COLS"].values(), *PLAN["AMX_GEMV_MAX_COLS"].values()]) + 8
)
AMX_MINS = sorted(set(PLAN["AMX_MIN_COLS"].values()))  # one per format
AMX_GEMV_MAXES = sorted(set(PLAN["AMX_GEMV_MAX_COLS"].values()))
# around each format's tile minimum and the GEMV's maximum below it, and around one and two whole tile blocks (a
# padded last block before them)
TILE_COUNTS = sorted(
    {c for m in AMX_MINS + AMX_GEMV_MAXES for c in around(m)}
    | {c for b in (1, 2) for c in around(b * PLAN["AMX_BLOCK_COLS"])}
)
BATCH_COUNTS = (
    around(PLAN["AMX_BATCH_COLS"])
    + [PLAN["AMX_BATCH_COLS"] + m - 1 for m in AMX_MINS]
    + around(PLAN["GEMM_BATCH_COLS"])[1:]
    + [PLAN["GEMM_BATCH_COLS"] + m + d for m in (PLAN["AVX2_GEMV_MAX_COLS"], PLAN["GEMV_MAX_COLS"]) for d in (0, 1)]
    + sorted({PLAN["GEMM_BATCH_COLS"] + m + d for m in PLAN["AVX512_GEMV_MAX_COLS"].values() for d in (0, 1)})
)


def test_kernel_plan_is_consistent():
    """The thresholds fit together as the plans use them: a GEMV pass holds the columns GEMV's minimum, the
    GEMV's maximum is whole passes, below the tile GEMM's minimum; the tile batches are whole tile blocks."""
    assert set(PLAN) == {
        "GEMV_PASS_COLS",
        "GEMV_COLUMNS_MIN",
        "GEMV_MAX_COLS",
        "AVX2_GEMV_MAX_COLS",
        "GEMM_BATCH_COLS",
        "AVX512_GEMV_MAX_COLS",
        "AMX_MIN_COLS",
        "AMX_GEMV_MAX_COLS",
        "AMX_BLOCK_COLS",
        "AMX_BATCH_COLS",
    }
    assert 1 < PLAN["GEMV_COLUMNS_MIN"] <= PLAN["GEMV_PASS_COLS"]
    assert PLAN["GEMV_MAX_COLS"] % PLAN["GEMV_PASS_COLS"] == 0
    assert PLAN["AVX2_GEMV_MAX_COLS"] % PLAN["GEMV_PASS_COLS"] == 0
    assert PLAN["GEMV_COLUMNS_MIN"] <= PLAN["AVX2_GEMV_MAX_COLS"] <= PLAN["GEMV_MAX_COLS"]
    assert (
        set(PLAN["AMX_MIN_COLS"]) == set(PLAN["AMX_GEMV_MAX_COLS"]) == set(PLAN["AVX512_GEMV_MAX_COLS"]) == set(QTYPES)
    )
    for qtype in QTYPES:  # the AVX-512 GEMV: whole passes, at least the AVX2 GEMV's columns, within a GEMM batch
        avx512_max = PLAN["AVX512_GEMV_MAX_COLS"][qtype]
        assert avx512_max % PLAN["GEMV_PASS_COLS"] == 0
        assert PLAN["GEMV_MAX_COLS"] <= avx512_max < PLAN["GEMM_BATCH_COLS"]
    for qtype in QTYPES:  # below the tiles, the GEMV serves at least what it serves without them
        assert PLAN["GEMV_MAX_COLS"] <= PLAN["AMX_GEMV_MAX_COLS"][qtype] < PLAN["AMX_MIN_COLS"][qtype]
    for amx_min in AMX_MINS:
        assert (
            PLAN["GEMV_MAX_COLS"] < amx_min <= PLAN["AMX_BLOCK_COLS"] < PLAN["AMX_BATCH_COLS"] < PLAN["GEMM_BATCH_COLS"]
        )
    assert PLAN["AMX_BATCH_COLS"] % PLAN["AMX_BLOCK_COLS"] == 0
    for isa in _dispatch.ISA_MODULES:  # every module built and runnable here exports the same plan
        if _dispatch.module_runnable(isa) and _dispatch._module_if_compiled(isa) is not None:
            assert _dispatch._module_if_compiled(isa).kernel_plan() == PLAN, isa


@pytest.mark.parametrize("n", NS)
def test_linear_shapes(backend, qtype, n):
    k = min_k(qtype)
    for m, kk in [(4, k), (20, 2 * k)]:
        W = synthetic.random_weights(qtype, (m, kk), seed=n + m)
        X = synthetic.random_activations(n, kk, seed=n)
        Y = iq1.linear(X, W)
        assert Y.shape == (n, m) and Y.dtype == np.float32
        assert_linear_close(Y, X, W)


# each count once: the lists overlap where thresholds coincide (the AVX2 GEMV's 16 is IQ1_M's AVX-512 one)
ODD_COLUMN_COUNTS = sorted(set(GEMV_COUNTS + AVX512_GEMV_COUNTS + TILE_COUNTS + [255] + BATCH_COUNTS))


@pytest.mark.parametrize("n", ODD_COLUMN_COUNTS)
def test_odd_column_counts(backend, qtype, n):
    """Every GEMV column count, the GEMM's partial column groups, the tile GEMM's blocks and batches."""
    m, k = 12, 2 * min_k(qtype)
    W = synthetic.random_weights(qtype, (m, k), seed=30 + n)
    X = synthetic.random_activations(n, k, seed=31 + n)
    assert_linear_close(iq1.linear(X, W), X, W)


@pytest.mark.parametrize("n", [1, 3, 8, 17, 64])
def test_against_generic_backend(backend, qtype, n):
    W = synthetic.random_weights(qtype, (36, 1024), seed=11)
    X = synthetic.random_activations(n, 1024, seed=12)
    Y = iq1.linear(X, W)
    previous = iq1.use_backend("generic")
    try:
        G = iq1.linear(X, W)
    finally:
        iq1.use_backend(previous)
    _, bound = exact_linear(X, W)
    assert (np.abs(Y.astype(np.float64) - G) <= 2.5e-7 * (1024 // 128 + 4) * bound + 1e-30).all()


@pytest.mark.parametrize("n", [1, 2, 3, 6, 13])
def test_long_rows(backend, qtype, n):
    """k beyond one GEMV pass (16384), several chunks of the few-column GEMV (4096) and several GEMM
    strips (4096), ending in a partial one."""
    k = 16384 + 4096 + 256
    W = synthetic.random_weights(qtype, (20, k), seed=21)
    X = synthetic.random_activations(n, k, seed=22)
    assert_linear_close(iq1.linear(X, W), X, W)


@pytest.mark.parametrize("m", [1, 2, 3, 5, 6, 7, 9, 13])
def test_row_counts_off_the_tiles(backend, qtype, m):
    """Row counts that are no multiple of the kernels' row tiles (4 rows in the GEMV, 8 / 16 in the GEMM):
    the last rows of an IQ1_S / IQ1_M tile are decoded alone; R4 matrices have 4 m rows."""
    m *= iq1.FORMATS[qtype].rows_multiple
    k = 2 * min_k(qtype)
    W = synthetic.random_weights(qtype, (m, k), seed=27 + m)
    for n in (1, 2, 5, 8, 9, 17):
        X = synthetic.random_activations(n, k, seed=n)
        Y = iq1.linear(X, W)
        assert_linear_close(Y, X, W)
        np.testing.assert_array_equal(iq1.linear(X[:1], W)[0], Y[0])


def test_batch_invariance(backend, qtype):
    """A column's result is the same bits whether it is multiplied alone (GEMV) or in a batch (GEMM)."""
    k = 2 * min_k(qtype) + 4096
    W = synthetic.random_weights(qtype, (36, k), seed=23)
    X = synthetic.random_activations(GEMM_COLS, k, seed=24)  # more columns than any GEMV takes
    Y = iq1.linear(X, W)
    for c in (0, 5, GEMM_COLS - 1):
        np.testing.assert_array_equal(iq1.linear(X[c : c + 1], W)[0], Y[c])
        np.testing.assert_array_equal(iq1.linear(X[c : c + 2], W), Y[c : c + 2])
    for c, n in ((0, 8), (3, 7), (5, 4), (9, 16), (20, 11), (1, 33), (7, 40)):  # the GEMV's other column counts
        np.testing.assert_array_equal(iq1.linear(X[c : c + n], W), Y[c : c + n])


@pytest.mark.parametrize("n", TILE_COUNTS + around(3 * PLAN["AMX_BLOCK_COLS"])[1:])
def test_tile_gemm_thresholds(backend, qtype, n):
    """Column counts around the tile GEMM's blocks of 32 (avx512_amx; the other backends' GEMM at the same
    counts): row counts that are no multiple of its 32-row strips, k past its 4096-value strip, activations at
    +-127 and maximal weight scales in the tiles. Every column has the bits of the one-column GEMV."""
    k = 4096 + 2 * min_k(qtype)
    rng = np.random.default_rng(n)
    for m in (4 * iq1.FORMATS[qtype].rows_multiple, 52, 36):
        W = synthetic.random_weights(qtype, (m, k), seed=n + m, max_scales=m == 52)
        X = synthetic.random_activations(n, k, seed=n + 1)
        X[::3] = np.where(rng.random((len(X[::3]), k)) < 0.5, -1.0, 1.0)  # quants of +-127
        Y = iq1.linear(X, W)
        assert_linear_close(Y, X, W)
        for c in (0, n // 2, n - 1):
            np.testing.assert_array_equal(iq1.linear(X[c : c + 1], W)[0], Y[c])
        np.testing.assert_array_equal(iq1.linear(X, W, threads=2), Y)


def test_many_columns(backend, qtype):
    """More columns than one GEMM batch, the last batch small enough for the GEMV path."""
    batch = PLAN["GEMM_BATCH_COLS"]
    k = min_k(qtype)
    W = synthetic.random_weights(qtype, (20, k), seed=25)
    X = synthetic.random_activations(2 * batch + 2, k, seed=26)
    Y = iq1.linear(X, W)
    assert_linear_close(Y, X, W)
    for c in (0, batch - 1, batch, 2 * batch, 2 * batch + 1):
        np.testing.assert_array_equal(iq1.linear(X[c : c + 1], W)[0], Y[c])


@pytest.mark.parametrize("scale", [1e6, 1e30])
def test_huge_activations_finite_and_correct(backend, qtype, scale):
    W = synthetic.random_weights(qtype, (8, 512), seed=2, scale_range=(1e-3, 1.0))
    X = synthetic.random_activations(3, 512, seed=3, scale=scale)
    Y = iq1.linear(X, W)
    assert np.isfinite(Y).all()
    assert_linear_close(Y, X, W)


def test_max_scales_and_zero_blocks(backend, qtype):
    k = 4 * min_k(qtype)
    W = synthetic.random_weights(qtype, (8, k), seed=4, max_scales=True)
    X = synthetic.random_activations(5, k, seed=5)
    X[:, :128] = 0.0  # a zero activation block
    Y = iq1.linear(X, W)
    assert_linear_close(Y, X, W)
    Z = synthetic.random_weights(qtype, (8, k), seed=4)
    Z.data[:] = 0  # zero weight blocks
    assert (iq1.linear(X, Z) == 0).all()


@pytest.mark.parametrize("n", [1, 2, 4, 8, 9])
def test_int8_extremes(backend, qtype, n):
    """Activations that quantize to +-127 everywhere (the sign trick's and the +9 offset's edge), in
    each kernel (GEMV with rows or columns in the lanes, GEMM)."""
    k = min_k(qtype)
    W = synthetic.random_weights(qtype, (4, k), seed=6, max_scales=True)
    X = np.where(np.random.default_rng(0).random((n, k)) < 0.5, -1.0, 1.0).astype(np.float32)
    xq = iq1.quantize_activations(X)
    assert (np.abs(xq.qs) == 127).all()
    assert_linear_close(iq1.linear(xq, W), xq, W)


def test_nonfinite_activations_poison_only_their_column(backend, qtype):
    k = min_k(qtype)
    W = synthetic.random_weights(qtype, (4, k), seed=7)
    X = synthetic.random_activations(4, k, seed=8)
    X[1, 5] = np.nan
    X[2, 0] = np.inf
    Y = iq1.linear(X, W)
    assert np.isnan(Y[1]).all() and np.isnan(Y[2]).all()
    assert np.isfinite(Y[[0, 3]]).all()


def test_matmul_semantics(backend, qtype):
    k = min_k(qtype)
    W = synthetic.random_weights(qtype, (8, k), seed=9)
    x1 = synthetic.random_activations(1, k, seed=1)[0]
    y1 = W @ x1
    assert y1.shape == (8,)
    np.testing.assert_array_equal(y1, iq1.matmul(W, x1))
    np.testing.assert_array_equal(y1, iq1.linear(x1, W))
    x2 = synthetic.random_activations(3, k, seed=2).T  # (K, 3), not contiguous
    y2 = W @ x2
    assert y2.shape == (8, 3) and y2.flags.c_contiguous
    np.testing.assert_array_equal(y2, iq1.linear(np.ascontiguousarray(x2.T), W).T)
    x3 = synthetic.random_activations(6, k, seed=3).reshape(2, 3, k).transpose(0, 2, 1)  # (2, K, 3)
    y3 = W @ x3
    assert y3.shape == (2, 8, 3)
    np.testing.assert_array_equal(y3[1], W @ x3[1])
    with pytest.raises(TypeError, match="linear"):
        x1[None, :8] @ W


def test_linear_batch_dims_dtypes_and_out(backend, qtype):
    k = min_k(qtype)
    W = synthetic.random_weights(qtype, (12, k), seed=10)
    X = synthetic.random_activations(6, k, seed=4)
    ref = iq1.linear(X, W)
    np.testing.assert_array_equal(iq1.linear(X.reshape(2, 3, k), W), ref.reshape(2, 3, 12))
    np.testing.assert_array_equal(iq1.linear(X.astype(np.float64), W), ref)
    np.testing.assert_array_equal(
        iq1.linear(X.astype(np.float16), W), iq1.linear(X.astype(np.float16).astype(np.float32), W)
    )
    out = np.full((6, 12), np.nan, np.float32)
    assert iq1.linear(X, W, out=out) is out
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(iq1.linear(iq1.quantize_activations(X), W), ref)
    assert iq1.linear(np.zeros((0, k), np.float32), W).shape == (0, 12)


def test_threads_give_the_same_result(backend, qtype):
    W = synthetic.random_weights(qtype, (64, 512), seed=13)
    X = synthetic.random_activations(40, 512, seed=14)
    one = iq1.linear(X, W, threads=1)
    for t in (2, 3, 4):
        np.testing.assert_allclose(iq1.linear(X, W, threads=t), one, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(iq1.linear(X, W, threads=2), iq1.linear(X, W, threads=2))
    previous = iq1.set_num_threads(1)  # the previous setting, restored as it was (None: the default)
    try:
        assert iq1.get_num_threads() == 1
        np.testing.assert_array_equal(iq1.linear(X, W), one)
    finally:
        iq1.set_num_threads(previous)
