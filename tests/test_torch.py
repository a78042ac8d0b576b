"""iq1kernels.torch: IQ1Linear, the iq1kernels::linear custom op, quantize_model and from_gguf.
Skipped only when PyTorch is not installed (`pip install "iq1kernels[torch]"`)."""

import io
import sys
import tracemalloc

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason='PyTorch not installed: pip install "iq1kernels[torch]"')

from torch import nn  # noqa: E402

import iq1kernels as iq1  # noqa: E402
import iq1kernels.torch as iq1t  # noqa: E402
from helpers import min_k  # noqa: E402
from iq1kernels import ops  # noqa: E402
from iq1kernels.torch import IQ1Linear  # noqa: E402
from iq1kernels.torch._op import _linear_op  # noqa: E402

# torch's own modules use the deprecated torch.jit.script_method when the compile / export tests import them
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")


def make_linear(k, m, seed=0, bias=True):
    torch.manual_seed(seed)
    return nn.Linear(k, m, bias=bias)


def expected(layer, x):
    """What IQ1Linear must return: iq1kernels.linear on the float32-widened input, plus the bias in float32,
    then converted to the input's dtype."""
    y = torch.from_numpy(iq1.linear(x.detach().float().numpy(), layer.quantized))
    if layer.bias is not None:
        y = y + layer.bias.detach().float()
    return y.to(x.dtype)


@pytest.fixture
def threads_state():
    """Restore torch's and iq1kernels' thread settings after a test that changes them."""
    saved_torch, saved_iq1 = torch.get_num_threads(), iq1.set_num_threads(None)
    yield
    torch.set_num_threads(saved_torch)
    iq1.set_num_threads(saved_iq1)


# --- the layer ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_forward_matches_iq1kernels_linear(backend, qtype, dtype):
    k = 2 * min_k(qtype)
    lin = make_linear(k, 32)
    layer = IQ1Linear.from_linear(lin, qtype)
    assert np.array_equal(layer.quantized.data, iq1.quantize(lin.weight.detach().numpy(), qtype).data)
    x = (torch.randn(3, 5, k) * 3).to(dtype)
    with torch.no_grad():
        y = layer(x)
    assert y.dtype == dtype and y.shape == (3, 5, 32)
    assert torch.equal(y, expected(layer, x))


def test_shapes_and_layouts():
    layer = IQ1Linear.from_linear(make_linear(256, 16), "iq1_s")
    x = torch.randn(4, 6, 256)
    with torch.no_grad():
        full = layer(x)
        assert torch.equal(layer(x[1, 2]), full[1, 2])  # 1-D
        assert layer(torch.randn(0, 256)).shape == (0, 16)  # no rows
        assert layer(torch.randn(2, 0, 256)).shape == (2, 0, 16)
        t = x.transpose(0, 1)  # non-contiguous
        assert not t.is_contiguous() and torch.equal(layer(t), full.transpose(0, 1))
        wide = torch.randn(4, 512)[:, ::2]  # strided last dimension
        assert torch.equal(layer(wide), layer(wide.contiguous()))
        assert torch.equal(layer(x.bfloat16()[:, ::2]), layer(x.bfloat16()[:, ::2].contiguous()))


def test_out_dtype():
    lin = make_linear(256, 16)
    x = torch.randn(3, 256).bfloat16()
    layer = IQ1Linear.from_linear(lin, "iq1_m", out_dtype=torch.float32)
    with torch.no_grad():
        y = layer(x)
    assert y.dtype == torch.float32 and torch.equal(y, expected(layer, x.float()))
    with pytest.raises(TypeError, match="out_dtype"):
        IQ1Linear.from_linear(lin, "iq1_m", out_dtype=torch.int32)


def test_constructor_and_bad_input():
    layer = IQ1Linear(512, 8, "iq1_s_r4", bias=False)
    assert layer.bias is None and layer.weight.dtype == torch.uint8
    assert "qtype=iq1_s_r4" in repr(layer)
    with torch.no_grad():
        assert torch.equal(layer(torch.randn(2, 512)), torch.zeros(2, 8))  # zero bytes: zero weights
        with pytest.raises(ValueError, match="in_features=512"):
            layer(torch.randn(2, 256))
        with pytest.raises(TypeError, match="float32, float16 or bfloat16"):
            layer(torch.randn(2, 512, dtype=torch.float64))
        with pytest.raises(TypeError, match="float32, float16 or bfloat16"):
            layer(torch.ones(2, 512, dtype=torch.int64))
        with pytest.raises(ValueError, match="CPU"):
            layer(torch.randn(2, 512, device="meta"))
    with pytest.raises(ValueError, match="multiple of 4"):
        IQ1Linear(512, 6, "iq1_s_r4")
    with pytest.raises(ValueError, match="multiple of 256"):
        IQ1Linear(384, 8, "iq1_m")
    with pytest.raises(ValueError, match="unknown IQ1 type"):
        IQ1Linear(256, 8, "q4_0")
    with pytest.raises(TypeError, match="nn.Linear"):
        IQ1Linear.from_linear(nn.Conv1d(256, 8, 1), "iq1_s")
    Wq = iq1.quantize(np.ones((8, 256), np.float32), "iq1_s")
    with pytest.raises(ValueError, match=r"bias must be floating point of shape \(8,\)"):
        IQ1Linear.from_quantized(Wq, bias=np.zeros(3, np.float32))
    with pytest.raises(TypeError, match="QuantizedMatrix"):
        IQ1Linear.from_quantized(np.zeros(400, np.uint8))
    nan = make_linear(256, 8)
    with torch.no_grad():
        nan.weight[3, 7] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        IQ1Linear.from_linear(nan, "iq1_s")


def test_meta_device_runs_the_fake_kernel():
    layer = IQ1Linear.from_linear(make_linear(256, 16), "iq1_s").to("meta")
    y = layer(torch.randn(7, 256, device="meta", dtype=torch.bfloat16))
    assert y.device.type == "meta" and y.shape == (7, 16) and y.dtype == torch.bfloat16


def test_no_copy_of_the_weights(monkeypatch):
    layer = IQ1Linear.from_linear(make_linear(4096, 1024), "iq1_s")
    ptr = layer.weight.data_ptr()
    assert np.shares_memory(layer.quantized.data, layer.weight.numpy())
    monkeypatch.setattr(iq1.QuantizedMatrix, "dequantize", lambda *a, **k: pytest.fail("forward dequantized"))
    monkeypatch.setattr(ops, "dequantize", lambda *a, **k: pytest.fail("forward dequantized"))
    x = torch.randn(8, 4096)
    with torch.no_grad():
        layer(x)
        tracemalloc.start()
        try:
            layer(x)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert layer.weight.data_ptr() == ptr
    assert peak < layer.weight.numel() // 4, peak  # the Q8_K128 planes of 8 rows, not the weights


def test_threads_follow_torch_unless_set(threads_state, monkeypatch):
    iq1.set_num_threads(None)  # as when iq1kernels.set_num_threads was never called
    torch.set_num_threads(1)
    assert iq1t.num_threads() == 1
    torch.set_num_threads(2)
    assert iq1t.num_threads() == 2
    iq1.set_num_threads(3)
    assert iq1t.num_threads() == 3
    seen = []
    real = ops.linear
    monkeypatch.setattr(
        ops, "linear", lambda *a, threads=None, **k: seen.append(threads) or real(*a, threads=threads, **k)
    )
    layer = IQ1Linear.from_linear(make_linear(256, 16), "iq1_s")
    with torch.no_grad():
        layer(torch.randn(2, 256))
        iq1.set_num_threads(None)
        torch.set_num_threads(1)
        layer(torch.randn(2, 256))
    assert seen == [3, 1]


# --- gradients (straight through the activation quantization) ----------------------------------------------
def test_gradients_flow_to_the_input_and_a_trainable_bias():
    lin = make_linear(256, 16)
    layer = IQ1Linear.from_linear(lin, "iq1_m")
    layer.bias.requires_grad_(True)
    Wd = torch.from_numpy(layer.quantized.dequantize())
    x = torch.randn(3, 4, 256, requires_grad=True)
    g = torch.randn(3, 4, 16)
    layer(x).backward(g)
    x2 = x.detach().clone().requires_grad_(True)
    b2 = layer.bias.detach().clone().requires_grad_(True)
    nn.functional.linear(x2, Wd, b2).backward(g)
    torch.testing.assert_close(x.grad, x2.grad, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(layer.bias.grad, b2.grad)
    assert layer.weight.grad is None
    xb = torch.randn(2, 256, dtype=torch.bfloat16, requires_grad=True)
    layer(xb).sum().backward()
    assert xb.grad.dtype == torch.bfloat16 and xb.grad.shape == (2, 256)


def test_opcheck():
    layer = IQ1Linear.from_linear(make_linear(256, 16), "iq1_s_r4")
    for x, out_dtype in ((torch.randn(3, 256), None), (torch.randn(2, 3, 256, requires_grad=True), torch.bfloat16)):
        result = torch.library.opcheck(_linear_op, (x, layer.weight, layer.qtype, 256, 16, layer.bias, out_dtype))
        assert set(result.values()) == {"SUCCESS"}, result


# --- compile, export, trace --------------------------------------------------------------------------
def small_model(qtype="iq1_s_r4"):
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 64)).eval()
    iq1t.quantize_model(model, qtype)
    assert all(isinstance(model[i], IQ1Linear) for i in (0, 2))
    return model


def test_torch_compile_matches_eager():
    model = small_model()
    compiled = torch.compile(model, fullgraph=True)  # fullgraph: the op causes no graph break
    with torch.no_grad():
        for x in (torch.randn(4, 256), torch.randn(9, 256), torch.randn(2, 3, 256).bfloat16()):
            if x.dtype == torch.bfloat16:
                model = model.to(torch.bfloat16)
                compiled = torch.compile(model, fullgraph=True)
            assert torch.equal(compiled(x), model(x))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit.trace is deprecated in favour of export
def test_export_and_trace_match_eager():
    model = small_model()
    x = torch.randn(5, 256)
    with torch.no_grad():
        want = model(x)
        exported = torch.export.export(model, (x,), dynamic_shapes=({0: torch.export.Dim("rows")},))
        assert "iq1kernels.linear" in str(exported.graph)
        assert torch.equal(exported.module()(x), want)
        other = torch.randn(11, 256)
        assert torch.equal(exported.module()(other), model(other))
        traced = torch.jit.trace(model, (x,))
        assert torch.equal(traced(x), want)


# --- state dict ----------------------------------------------------------------------------------------
def test_state_dict_round_trip_bit_for_bit():
    model = small_model("iq1_m_r4").to(torch.bfloat16)
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    fresh = nn.Sequential(
        IQ1Linear(256, 128, "iq1_m_r4", dtype=torch.bfloat16),
        nn.ReLU(),
        IQ1Linear(128, 64, "iq1_m_r4", dtype=torch.bfloat16),
    )
    buf.seek(0)
    fresh.load_state_dict(torch.load(buf))  # weights_only loading (torch's default) works
    x = torch.randn(6, 256).bfloat16()
    with torch.no_grad():
        assert torch.equal(fresh(x), model(x))
    assert set(model.state_dict()) == {"0.weight", "0.weight_format", "0.bias", "2.weight", "2.weight_format", "2.bias"}


def test_load_state_dict_of_another_format_changes_nothing():
    src = IQ1Linear.from_linear(make_linear(256, 16, seed=1), "iq1_s_r4")
    dst = IQ1Linear.from_linear(make_linear(256, 16, seed=2), "iq1_s")
    assert src.weight.numel() == dst.weight.numel()  # same byte count: only the format record tells
    before = dst.weight.clone(), dst.bias.detach().clone()
    with pytest.raises(RuntimeError, match=r"holds iq1_s_r4 \(16 x 256.*this layer is iq1_s"):
        dst.load_state_dict(src.state_dict())
    other_shape = IQ1Linear.from_linear(make_linear(512, 16), "iq1_s")
    with pytest.raises(RuntimeError, match="in_features=512"):
        dst.load_state_dict(other_shape.state_dict())
    no_record = {k: v for k, v in src.state_dict().items() if k != "weight_format"}
    with pytest.raises(RuntimeError, match="without weight_format"):
        dst.load_state_dict(no_record)
    assert torch.equal(dst.weight, before[0]) and torch.equal(dst.bias, before[1])


# --- quantize_model ----------------------------------------------------------------------------------------
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.up = nn.Linear(256, 512)
        self.down = nn.Linear(512, 256, bias=False)
        self.narrow = nn.Linear(384, 256)  # K not a multiple of 256
        self.odd = nn.Linear(256, 6)  # M not a multiple of 4 (R4 types)
        self.attn = nn.MultiheadAttention(256, 4)  # out_proj is read directly by the attention code

    def forward(self, x):
        return self.down(torch.relu(self.up(x)))


def test_quantize_model_replaces_and_reports():
    model = Block()
    model.shared = model.up  # one module, two names
    up_bias = model.up.bias.detach().clone()
    report = iq1t.quantize_model(model, "iq1_s_r4")
    assert isinstance(model.up, IQ1Linear) and model.shared is model.up and isinstance(model.down, IQ1Linear)
    assert torch.equal(model.up.bias.detach(), up_bias) and model.down.bias is None
    assert isinstance(model.narrow, IQ1Linear)  # 384 % 128 == 0 for the R4 types
    assert isinstance(model.odd, nn.Linear) and isinstance(model.attn.out_proj, nn.Linear)
    assert set(report.replaced) == {"up", "down", "narrow"}
    assert "multiple of 4" in report.skipped["odd"] and "MultiheadAttention" in report.skipped["attn.out_proj"]
    assert report.bytes_before == 4 * (256 * 512 + 512 + 512 * 256 + 384 * 256 + 256)
    assert report.bytes_after == sum(model.get_submodule(n).weight.numel() for n in ("up", "down", "narrow")) + 4 * (
        512 + 256
    )
    assert "3 layers replaced, 2 skipped" in str(report)
    with torch.no_grad():
        assert model(torch.randn(3, 256)).shape == (3, 256)

    model2 = Block()
    report2 = iq1t.quantize_model(model2, "iq1_m", filter_fn=lambda mod, fqn: fqn != "down")
    assert report2.replaced == ["up", "odd"] and isinstance(model2.down, nn.Linear)  # no row rule for IQ1_M
    assert "not a multiple of 256" in report2.skipped["narrow"]


def test_quantize_model_imatrix_and_errors():
    model = Block()
    im = np.abs(np.random.default_rng(0).standard_normal(256)).astype(np.float32) + 0.1
    want = IQ1Linear.from_linear(model.up, "iq1_m", imatrix=im)
    iq1t.quantize_model(model, "iq1_m", filter_fn=lambda m, n: n == "up", imatrix={"up.weight": torch.from_numpy(im)})
    assert torch.equal(model.up.weight, want.weight)

    model = Block()
    with torch.no_grad():
        model.down.weight[0, 0] = float("inf")
    with pytest.raises(ValueError, match="^down: .*NaN or Inf"):
        iq1t.quantize_model(model, "iq1_s")
    assert isinstance(model.up, nn.Linear)  # nothing replaced
    with pytest.raises(ValueError, match="name no nn.Linear"):
        iq1t.quantize_model(Block(), "iq1_s", imatrix={"upp": im})
    with pytest.raises(ValueError, match="^up: imatrix"):
        iq1t.quantize_model(Block(), "iq1_s", imatrix={"up": im[:128]})
    with pytest.raises(TypeError, match="nn.Module"):
        iq1t.quantize_model(object(), "iq1_s")


# --- GGUF ------------------------------------------------------------------------------------------------
def write_gguf(tmp_path):
    rng = np.random.default_rng(0)
    tensors = {
        "blk.0.ffn_up.weight": iq1.quantize(rng.standard_normal((64, 256)).astype(np.float32), "iq1_s"),
        "blk.0.ffn_up.bias": rng.standard_normal(64).astype(np.float32),
        "blk.0.attn_q.weight": iq1.quantize(rng.standard_normal((32, 256)).astype(np.float32), "iq1_m_r4"),
        "token_embd.weight": rng.standard_normal((10, 256)).astype(np.float32),
    }
    path = tmp_path / "small.gguf"
    iq1.save_gguf(path, tensors)
    return path, tensors


def in_file_mapping(tensor, path):
    """Whether the tensor's bytes lie in a memory mapping of the file (Linux /proc/self/maps)."""
    start, end = tensor.data_ptr(), tensor.data_ptr() + tensor.numel()
    with open("/proc/self/maps") as fh:
        for line in fh:
            fields = line.split()
            if len(fields) >= 6 and fields[5] == str(path):
                lo, hi = (int(v, 16) for v in fields[0].split("-"))
                if lo <= start and end <= hi:
                    return True
    return False


def test_from_gguf_is_zero_copy_over_the_file(tmp_path):
    path, tensors = write_gguf(tmp_path)
    layers = iq1t.from_gguf(path)
    assert set(layers) == {"blk.0.ffn_up.weight", "blk.0.attn_q.weight"}
    up = layers["blk.0.ffn_up.weight"]
    if sys.platform.startswith("linux"):
        assert in_file_mapping(up.weight, path)
    assert np.array_equal(up.quantized.data, tensors["blk.0.ffn_up.weight"].data)
    assert torch.equal(up.bias.detach(), torch.from_numpy(tensors["blk.0.ffn_up.bias"]))
    x = torch.randn(3, 256)
    with torch.no_grad():
        assert torch.equal(up(x), expected(up, x))
    # a loaded dict: the layer uses the very same bytes
    loaded = iq1.load_gguf(path)
    q = iq1t.from_gguf(loaded, names="blk.*.attn_q.weight")["blk.0.attn_q.weight"]
    assert np.shares_memory(q.weight.numpy(), loaded["blk.0.attn_q.weight"].data)
    # loading a state dict never writes into the read-only map: the layer gets its own buffer
    fresh = IQ1Linear.from_linear(make_linear(256, 64, seed=5), "iq1_s")
    up.load_state_dict(fresh.state_dict())
    assert torch.equal(up.weight, fresh.weight)
    if sys.platform.startswith("linux"):
        assert not in_file_mapping(up.weight, path)
    assert np.array_equal(iq1.load_gguf(path)["blk.0.ffn_up.weight"].data, tensors["blk.0.ffn_up.weight"].data)


def test_from_gguf_expert_stack(tmp_path):
    """A 3-D (E, M, K) IQ1 tensor, as MoE GGUFs store their experts: one layer per expert over its bytes."""
    E, m, k = 3, 16, 256
    flat = iq1.quantize(np.random.default_rng(0).standard_normal((E * m, k)).astype(np.float32), "iq1_s")
    stack = iq1.QuantizedMatrix.from_bytes(flat.data, "iq1_s", (E, m, k))
    path = tmp_path / "moe.gguf"
    iq1.save_gguf(path, {"blk.0.ffn_up_exps.weight": stack})
    experts = iq1t.from_gguf(path)["blk.0.ffn_up_exps.weight"]
    assert isinstance(experts, nn.ModuleList) and len(experts) == E
    x = torch.randn(2, k)
    with torch.no_grad():
        for e, layer in enumerate(experts):
            assert (layer.out_features, layer.in_features) == (m, k) and layer.bias is None
            if sys.platform.startswith("linux"):
                assert in_file_mapping(layer.weight, path)
            want = torch.from_numpy(
                iq1.linear(
                    x.numpy(),
                    iq1.QuantizedMatrix(
                        flat.data[e * m * k // 256 * 50 : (e + 1) * m * k // 256 * 50], "iq1_s", (m, k)
                    ),
                )
            )
            assert torch.equal(layer(x), want)
    with pytest.raises(ValueError, match="one layer per expert"):
        IQ1Linear.from_quantized(stack)


def test_from_gguf_experts_and_errors(tmp_path):
    path, tensors = write_gguf(tmp_path)
    experts = [
        iq1.quantize(np.random.default_rng(e).standard_normal((16, 256)).astype(np.float32), "iq1_s") for e in range(3)
    ]
    out = iq1t.from_gguf({"blk.0.ffn_down_exps.weight": experts})["blk.0.ffn_down_exps.weight"]
    assert isinstance(out, nn.ModuleList) and len(out) == 3
    assert all(np.shares_memory(layer.weight.numpy(), e.data) for layer, e in zip(out, experts))
    with pytest.raises(KeyError, match="no IQ1 tensor"):
        iq1t.from_gguf(path, names=["blk.9.*"])
    with pytest.raises(ValueError, match="token_embd.weight is not in an IQ1 format"):
        iq1t.from_gguf(path, names="token_embd.weight")
    with pytest.raises(TypeError, match="GGUF path or a dict"):
        iq1t.from_gguf(42)


def test_functional_linear():
    Wq = iq1.quantize(np.random.default_rng(0).standard_normal((16, 256)).astype(np.float32), "iq1_m")
    x = torch.randn(2, 256).half()
    bias = torch.randn(16)
    y = iq1t.linear(x, Wq, bias)
    want = (torch.from_numpy(iq1.linear(x.float().numpy(), Wq)) + bias).half()
    assert y.dtype == torch.float16 and torch.equal(y, want)
    with pytest.raises(TypeError, match="QuantizedMatrix"):
        iq1t.linear(x, np.zeros((16, 256)))


def test_torch_stays_optional():
    import subprocess

    code = (
        "import sys, iq1kernels; assert 'torch' not in sys.modules, 'iq1kernels imported torch'\n"
        "sys.modules['torch'] = None\n"  # as if PyTorch were not installed
        "try:\n    import iq1kernels.torch\nexcept ImportError as e:\n    print(e)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert 'pip install "iq1kernels[torch]"' in proc.stdout
