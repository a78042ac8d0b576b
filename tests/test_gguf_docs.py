"""The MoE example of docs/GGUF.md runs as written, on the small file it makes, and agrees with the same
layer computed in float64 from the dequantized experts; its per-expert matrices are views of the file."""

import os
import re

import numpy as np

DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "GGUF.md")


def moe_example():
    text = open(DOC).read()
    m = re.search(r"<!-- moe-example[^>]*-->\s*```python\n(.*?)```", text, re.S)
    assert m, "the MoE example block is missing from docs/GGUF.md"
    return m.group(1)


def test_moe_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ns = {}
    exec(compile(moe_example(), "docs/GGUF.md", "exec"), ns)
    y, gate, up, down, router = ns["y"], ns["gate"], ns["up"], ns["down"], ns["router"]
    assert y.shape == (8, 256) and np.isfinite(y).all()
    for W in (gate, up, down):
        assert W.ndim == 3 and W.shape[0] == 4
        assert all(np.shares_memory(W[e].data, W.data) for e in range(4))
    # the same layer in float64 from the dequantized experts, on fresh input
    xin = np.random.default_rng(1).standard_normal((5, 256)).astype(np.float32)
    got = ns["moe"](xin)
    G, U, D = (W.dequantize().astype(np.float64) for W in (gate, up, down))
    logits = xin @ router.T
    top = np.argsort(-logits, axis=1)[:, :2]
    want = np.zeros((5, 256))
    for n in range(5):
        w = np.exp(logits[n, top[n]])
        w /= w.sum()
        for wi, e in zip(w, top[n]):
            g = G[e] @ xin[n]
            want[n] += wi * (D[e] @ (g / (1 + np.exp(-g)) * (U[e] @ xin[n])))
    err = np.linalg.norm(got - want) / np.linalg.norm(want)
    assert err < 0.05, err  # Q8_K128 activations: about 1% error
