"""Synthetic model files for the quantize tests and tools/quantize_rss: a llama-architecture MoE GGUF
(3-D expert tensors, a router, dense attention, norms, several quant types kept as they are, a full
metadata set with a tokenizer), written tensor by tensor so that a multi-GB model needs little memory."""

from __future__ import annotations

import numpy as np

from iq1kernels.gguf_metadata import GGUFMetadata
from iq1kernels.gguf_writer import GGUFFileWriter

Q8_0, Q4_K = 8, 12


def tokenizer_metadata(meta, n_vocab):
    """A minimal valid SentencePiece ("llama") vocabulary: <unk>, <s>, </s>, the 256 byte tokens, words."""
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    words = ["\u2581the", "\u2581a", "\u2581of", "\u2581and", "\u2581to", "\u2581in", "\u2581is", "\u2581it"]
    i = 0
    while len(tokens) < n_vocab:
        w = words[i % len(words)]
        tokens.append(w if i < len(words) else f"{w}{i}")
        i += 1
    types = [2, 3, 3] + [6] * 256 + [1] * (n_vocab - 259)  # UNKNOWN, CONTROL, BYTE, NORMAL
    meta.set("tokenizer.ggml.model", "llama", "string")
    meta.set("tokenizer.ggml.tokens", tokens[:n_vocab], "array", "string")
    meta.set("tokenizer.ggml.scores", [-float(i) for i in range(n_vocab)], "array", "float32")
    meta.set("tokenizer.ggml.token_type", types[:n_vocab], "array", "int32")
    meta.set("tokenizer.ggml.bos_token_id", 1, "uint32")
    meta.set("tokenizer.ggml.eos_token_id", 2, "uint32")
    meta.set("tokenizer.ggml.unknown_token_id", 0, "uint32")
    meta.set("tokenizer.ggml.add_bos_token", True, "bool")


def llama_metadata(layers, hidden, ffn, experts, n_vocab, heads=4, name="synthetic-moe"):
    meta = GGUFMetadata()
    meta.set("general.architecture", "llama", "string")
    meta.set("general.name", name, "string")
    meta.set("general.file_type", 1, "uint32")  # MOSTLY_F16
    meta.set("general.quantization_version", 2, "uint32")
    meta.set("llama.block_count", layers, "uint32")
    meta.set("llama.context_length", 256, "uint32")
    meta.set("llama.embedding_length", hidden, "uint32")
    meta.set("llama.feed_forward_length", ffn, "uint32")
    meta.set("llama.attention.head_count", heads, "uint32")
    meta.set("llama.attention.head_count_kv", heads, "uint32")
    meta.set("llama.rope.freq_base", 10000.0, "float32")
    meta.set("llama.attention.layer_norm_rms_epsilon", 1e-5, "float32")
    meta.set("llama.vocab_size", n_vocab, "uint32")
    meta.set("llama.rope.dimension_count", hidden // heads, "uint32")
    if experts:
        meta.set("llama.expert_count", experts, "uint32")
        meta.set("llama.expert_used_count", min(2, experts), "uint32")
    # values of other types, to check they survive with their types
    meta.set("synthetic.int32", -7, "int32")
    meta.set("synthetic.float64", 0.1, "float64")
    meta.set("synthetic.uint64", 1 << 40, "uint64")
    meta.set("synthetic.int8s", [-1, 2, -3], "array", "int8")
    tokenizer_metadata(meta, n_vocab)
    return meta


def _q8_0(rng, rows, k):
    from gguf.constants import GGMLQuantizationType
    from gguf.quants import quantize

    x = rng.standard_normal((rows, k), dtype=np.float32) * 0.05
    return np.ascontiguousarray(quantize(x, GGMLQuantizationType.Q8_0)).reshape(-1).view(np.uint8)


def _q4_k(rng, rows, k):
    """Q4_K blocks (144 bytes per 256 values) with random quants and small finite fp16 d / dmin."""
    blocks = rng.integers(0, 256, (rows * k // 256, 144), dtype=np.uint8)
    blocks[:, 0:4] = np.array([0.002, 0.001], "<f2").view(np.uint8)
    return blocks.reshape(-1)


def _floats(rng, shape, dtype, scale=0.05):
    x = rng.standard_normal(shape, dtype=np.float32) * np.float32(scale)
    if dtype == "bf16":
        return (x.view(np.uint32) >> 16).astype("<u2")  # truncation: any bf16 will do
    return x.astype({"f16": "<f2", "f32": "<f4"}[dtype])


_TYPE_IDS = {"f32": 0, "f16": 1, "bf16": 30}


def model_plan(layers=2, hidden=256, ffn=512, experts=4, n_vocab=320, expert_dtype="f16", dense_dtype="f16"):
    """[(name, ggml type, ne, maker(rng) -> bytes-like)] in file order; expert_dtype "f16" / "bf16" / "f32",
    or a tuple of them taken layer by layer."""

    def floats(shape, dtype):
        return _TYPE_IDS[dtype], tuple(reversed(shape)), lambda rng: _floats(rng, shape, dtype)

    plan = [("token_embd.weight", Q8_0, (hidden, n_vocab), lambda rng: _q8_0(rng, n_vocab, hidden))]
    for i in range(layers):
        b = f"blk.{i}."
        plan.append((b + "attn_norm.weight", *floats((hidden,), "f32")))
        plan.append((b + "attn_q.weight", *floats((hidden, hidden), dense_dtype)))
        plan.append((b + "attn_k.weight", Q4_K, (hidden, hidden), lambda rng: _q4_k(rng, hidden, hidden)))
        plan.append((b + "attn_v.weight", Q8_0, (hidden, hidden), lambda rng: _q8_0(rng, hidden, hidden)))
        plan.append((b + "attn_output.weight", *floats((hidden, hidden), dense_dtype)))
        plan.append((b + "ffn_norm.weight", *floats((hidden,), "f32")))
        if experts:
            plan.append((b + "ffn_gate_inp.weight", *floats((experts, hidden), "f32")))
            dtype = expert_dtype if isinstance(expert_dtype, str) else expert_dtype[i % len(expert_dtype)]
            plan.append((b + "ffn_gate_exps.weight", *floats((experts, ffn, hidden), dtype)))
            plan.append((b + "ffn_down_exps.weight", *floats((experts, hidden, ffn), dtype)))
            plan.append((b + "ffn_up_exps.weight", *floats((experts, ffn, hidden), dtype)))
        else:
            plan.append((b + "ffn_gate.weight", *floats((ffn, hidden), dense_dtype)))
            plan.append((b + "ffn_down.weight", *floats((hidden, ffn), dense_dtype)))
            plan.append((b + "ffn_up.weight", *floats((ffn, hidden), dense_dtype)))
    plan.append(("output_norm.weight", *floats((hidden,), "f32")))
    plan.append(("output.weight", *floats((n_vocab, hidden), "f16")))
    return plan


def write_model(path, seed=0, split_max_size=None, metadata=None, **shape):
    """Write the synthetic model (see model_plan for the shape keywords); returns the files written."""
    params = dict(layers=2, hidden=256, ffn=512, experts=4, n_vocab=320)
    params.update({k: v for k, v in shape.items() if k in params})
    meta = metadata if metadata is not None else llama_metadata(**params)
    plan = model_plan(**shape)
    rng = np.random.default_rng(seed)
    with GGUFFileWriter(path, meta, split_max_size=split_max_size) as w:
        for name, ggml_type, ne, _ in plan:
            w.add_tensor_info(name, ggml_type, ne)
        for name, _, _, make in plan:
            data = make(rng)
            w.write_tensor(name, data)
            del data
    return w.paths


__all__ = ["write_model", "model_plan", "llama_metadata", "tokenizer_metadata"]
