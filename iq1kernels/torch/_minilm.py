"""What the all-MiniLM-L6-v2 end-to-end check (tests/test_torch_minilm.py) and its benchmark (bench/bench_torch.py)
share: the sentences they embed and the filter that picks the model's FFN linears for quantize_model."""

SENTENCES = [
    "The cat sits on the mat.",
    "A quick brown fox jumps over the lazy dog.",
    "Quantized weights keep models small.",
    "Paris is the capital of France.",
    "I love programming in Python.",
    "The weather is sunny today.",
    "Stock markets fell sharply on Monday.",
    "She plays the violin beautifully.",
]


def is_ffn(module: object, fqn: str) -> bool:
    """A BERT layer's feed-forward linears: intermediate.dense and the output.dense outside the attention."""
    return fqn.endswith("intermediate.dense") or (fqn.endswith("output.dense") and ".attention." not in fqn)
