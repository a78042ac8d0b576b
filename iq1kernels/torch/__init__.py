"""PyTorch integration: IQ1 weights that stay packed inside a torch model, run by iq1kernels' C kernels on
the CPU (no C++ extension built against torch: Python over the same kernels as iq1kernels.linear).

    import iq1kernels.torch as iq1t
    report = iq1t.quantize_model(model, "iq1_m_r4")        # nn.Linear -> IQ1Linear in place, torchao style
    layer = iq1t.IQ1Linear.from_linear(nn.Linear(4096, 4096), "iq1_s")
    y = layer(x)                                           # x float32 / float16 / bfloat16 (..., K)

Needs PyTorch (`pip install "iq1kernels[torch]"`, which pins the CPU build torch==2.13.0). See docs/TORCH.md.
"""

try:
    import torch as _torch  # noqa: F401  (absolute import: the real PyTorch, not this package)
except ImportError as exc:  # pragma: no cover - exercised only without torch
    raise ImportError(
        'iq1kernels.torch needs PyTorch: pip install "iq1kernels[torch]" '
        "(or pip install torch==2.13.0 for the CPU build)"
    ) from exc

from iq1kernels.torch._convert import QuantizeReport, from_gguf, quantize_model
from iq1kernels.torch._linear import IQ1Linear
from iq1kernels.torch._op import linear, num_threads

__all__ = ["IQ1Linear", "quantize_model", "QuantizeReport", "from_gguf", "linear", "num_threads"]
