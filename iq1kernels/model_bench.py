"""Model-level speed in the style of llama-bench (`iq1kernels bench --model NAME`): the linear layers of
one transformer block of a named architecture, with synthetic weights of the chosen IQ1 type, run for a
512-token prompt (pp512: N = 512) and for generation (tg128: N = 1 per token); tokens/s for the whole
model = tokens / (time of one block x number of blocks). Attention, norms and the rest of the model are
not included: the figure is an upper bound set by the quantized matmuls, and numpy float32 on the same
(dequantized) layers is measured beside it."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from . import _state, benchmarking, ops, synthetic

# (rows M, columns K, tokens-per-forward factor): factor < 1 for MoE experts (share of tokens routed to one)
ARCHITECTURES: dict[str, dict[str, Any]] = {
    # LLaMA-3.1-8B: hidden 4096, 32 blocks, GQA 8 kv heads of 128, FFN 14336
    "llama-8b": {
        "blocks": 32,
        "layers": [
            ("attn_q", 4096, 4096, 1.0),
            ("attn_k", 1024, 4096, 1.0),
            ("attn_v", 1024, 4096, 1.0),
            ("attn_output", 4096, 4096, 1.0),
            ("ffn_gate", 14336, 4096, 1.0),
            ("ffn_up", 14336, 4096, 1.0),
            ("ffn_down", 4096, 14336, 1.0),
        ],
    },
    # DeepSeek-V2-Lite (16B MoE): hidden 2048, 27 blocks, 64 routed experts (6 active) of 1408 + 2 shared,
    # MLA attention approximated by its projections (q 2048x3072, kv_a 2048x576, kv_b 512x4096, o 2048x2048)
    "deepseek-lite": {
        "blocks": 27,
        "layers": [
            ("attn_q", 3072, 2048, 1.0),
            ("attn_kv_a", 640, 2048, 1.0),
            ("attn_kv_b", 4096, 512, 1.0),
            ("attn_output", 2048, 2048, 1.0),
            ("ffn_gate_shexp", 2816, 2048, 1.0),
            ("ffn_up_shexp", 2816, 2048, 1.0),
            ("ffn_down_shexp", 2048, 2816, 1.0),
            ("ffn_gate_exps", 1408 * 64, 2048, 6 / 64),
            ("ffn_up_exps", 1408 * 64, 2048, 6 / 64),
            ("ffn_down_exps", 2048 * 64, 1408 * 1, 6 / 64),
        ],
    },
}


def _fit(fmt, m, k):
    """Round a layer shape to the format's rules (K multiple of 256 / 128, M multiple of 4)."""
    k = (k + fmt.k_multiple - 1) // fmt.k_multiple * fmt.k_multiple
    m = (m + fmt.rows_multiple - 1) // fmt.rows_multiple * fmt.rows_multiple
    return m, k


def run(model: str, qtype: str, threads: int):
    from .formats import get_format

    if model not in ARCHITECTURES:
        raise ValueError(f"unknown model {model!r}; known: {', '.join(ARCHITECTURES)}")
    arch, fmt = ARCHITECTURES[model], get_format(qtype)
    results = {}
    with benchmarking.pinned_threads(threads):
        for test, n_tokens in (("pp512", 512), ("tg128", 1)):
            t_iq1 = t_np = 0.0
            for i, (_name, m, k, share) in enumerate(arch["layers"]):
                if share < 1.0:
                    # MoE with 64 experts: in a prompt every expert sees share * tokens; a generated
                    # token runs its 6 routed experts with N = 1
                    shape = _fit(fmt, m // 64, k)
                    n = max(1, round(n_tokens * share)) if n_tokens > 1 else 1
                    calls = 64 if n_tokens > 1 else 6
                else:
                    shape, n, calls = _fit(fmt, m, k), n_tokens, 1
                W = synthetic.random_weights(fmt.name, shape, seed=i)
                X = synthetic.random_activations(n, shape[1], seed=i)
                Wd = W.dequantize()
                out = np.empty((n, shape[0]), np.float32)
                t_iq1 += calls * benchmarking.time_call(functools.partial(ops.linear, X, W, out=out), min_time=0.1)
                t_np += calls * benchmarking.time_call(functools.partial(np.matmul, X, Wd.T), min_time=0.1)
            blocks = arch["blocks"]
            results[test] = (n_tokens / (t_iq1 * blocks), n_tokens / (t_np * blocks))
    return results


def format_table(model, qtype, threads, results) -> str:
    lines = [
        f"model {model} ({ARCHITECTURES[model]['blocks']} blocks, linear layers only), {qtype}, "
        f"{threads} threads, backend {_state.current_backend().name}",
        "| test  | iq1kernels t/s | numpy f32 t/s | speed-up |",
        "|-------|---------------:|--------------:|---------:|",
    ]
    for test, (ours, numpy_ts) in results.items():
        lines.append(f"| {test} | {ours:>14.2f} | {numpy_ts:>13.2f} | {ours / numpy_ts:>7.2f}x |")
    return "\n".join(lines)
