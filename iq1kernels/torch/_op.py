"""The torch custom op `iq1kernels::linear`: y = x @ W.T (+ bias) with W packed IQ1 bytes in a uint8 tensor.

The eager kernel views the tensors as numpy arrays without copying (`Tensor.numpy()`; bfloat16 through its
int16 bits, which numpy cannot name), quantizes the activations to Q8_K128 in C (float16 and bfloat16 are
widened inside the kernel) and runs the GEMV / GEMM of iq1kernels.linear with the GIL released. The fake
kernel gives torch.compile / torch.export the output's shape and dtype. The backward pass is the straight-
through one: the input gradient of x @ dequantize(W).T (the packed weights themselves get no gradient).
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
import torch

from iq1kernels import _kernels, _state, ops
from iq1kernels.formats import get_format
from iq1kernels.tensor import QuantizedMatrix

INPUT_DTYPES = (torch.float32, torch.float16, torch.bfloat16)
_HALF = {torch.float16: "float16", torch.bfloat16: "bfloat16"}


def num_threads() -> int:
    """Threads the kernels use from torch: iq1kernels' own count when set (iq1kernels.set_num_threads),
    else torch.get_num_threads()."""
    user = _state.user_threads()
    return user if user is not None else max(1, torch.get_num_threads())


def check_out_dtype(out_dtype):
    if out_dtype is not None and out_dtype not in INPUT_DTYPES:
        raise TypeError(
            f"out_dtype must be None (the input's dtype), torch.float32, torch.float16 or "
            f"torch.bfloat16, got {out_dtype}"
        )
    return out_dtype


def _check(x, weight, qtype, in_features, out_features, bias, out_dtype):
    """The checks both kernels (eager and fake) make, so compiled code fails the way eager code does."""
    fmt = get_format(qtype)
    fmt.check_shape((out_features, in_features))
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"input must be a torch.Tensor, got {type(x).__name__}")
    if x.dtype not in INPUT_DTYPES:
        raise TypeError(f"input dtype must be float32, float16 or bfloat16, got {x.dtype}")
    if x.dim() == 0 or x.shape[-1] != in_features:
        raise ValueError(
            f"input of shape {tuple(x.shape)} does not match the layer: the last dimension must "
            f"be in_features={in_features}"
        )
    if weight.dtype != torch.uint8 or weight.dim() != 1 or weight.numel() != fmt.nbytes((out_features, in_features)):
        raise ValueError(
            f"packed weights must be a 1-D uint8 tensor of {fmt.nbytes((out_features, in_features))} "
            f"bytes for {fmt.name} ({out_features}, {in_features}), got {weight.dtype} "
            f"{tuple(weight.shape)}"
        )
    if bias is not None and (tuple(bias.shape) != (out_features,) or not bias.is_floating_point()):
        raise ValueError(
            f"bias must be a floating-point tensor of shape ({out_features},), got {bias.dtype} {tuple(bias.shape)}"
        )
    check_out_dtype(out_dtype)
    for name, t in (("input", x), ("bias", bias)):
        if t is not None and t.device != weight.device:
            raise ValueError(
                f"{name} is on {t.device} but the packed weights are on {weight.device}: "
                "IQ1 layers run on the CPU, move both there"
            )


def as_quantized(weight: torch.Tensor, qtype, shape) -> QuantizedMatrix:
    """A QuantizedMatrix over the tensor's bytes (no copy)."""
    if weight.device.type != "cpu":
        raise ValueError(f"IQ1 weights run on the CPU only; these are on {weight.device} (use .cpu())")
    return QuantizedMatrix(weight.detach().numpy(), qtype, shape)


def bits_of(x: torch.Tensor) -> np.ndarray:
    """The uint16 bits of a contiguous float16 / bfloat16 CPU tensor, as a numpy view (no copy)."""
    return x.view(torch.int16).numpy().view(np.uint16)


@torch.library.custom_op("iq1kernels::linear", mutates_args=())
def _linear_op(
    x: torch.Tensor,
    weight: torch.Tensor,
    qtype: str,
    in_features: int,
    out_features: int,
    bias: Optional[torch.Tensor],  # noqa: UP045 (torch evaluates these annotations: no `X | None` on Python 3.9)
    out_dtype: Optional[torch.dtype],  # noqa: UP045 (as above)
) -> torch.Tensor:
    _check(x, weight, qtype, in_features, out_features, bias, out_dtype)
    if x.device.type != "cpu":
        raise ValueError(f"IQ1 layers run on the CPU only; the input is on {x.device} (use .cpu())")
    W = as_quantized(weight, qtype, (out_features, in_features))
    lead = tuple(x.shape[:-1])
    n = math.prod(lead)
    y = torch.empty((n, out_features), dtype=torch.float32)
    if n:
        x2 = x.detach().reshape(n, in_features).contiguous()  # a view when x is contiguous
        nthreads = num_threads()
        if x2.dtype == torch.float32:
            ops.linear(x2.numpy(), W, out=y.numpy(), threads=nthreads)
        else:
            xq = _kernels.quantize_rows(bits_of(x2), nthreads, _HALF[x2.dtype])
            ops.linear(xq, W, out=y.numpy(), threads=nthreads)
    if bias is not None:
        y.add_(bias.detach())
    y = y.reshape(lead + (out_features,))
    target = out_dtype or x.dtype
    return y if target == torch.float32 else y.to(target)


@_linear_op.register_fake
def _linear_fake(x, weight, qtype, in_features, out_features, bias, out_dtype):
    _check(x, weight, qtype, in_features, out_features, bias, out_dtype)
    return x.new_empty(tuple(x.shape[:-1]) + (out_features,), dtype=out_dtype or x.dtype)


@torch.library.custom_op("iq1kernels::dequantize", mutates_args=())
def _dequantize_op(weight: torch.Tensor, qtype: str, out_features: int, in_features: int) -> torch.Tensor:
    """(out_features, in_features) float32 from the packed bytes (the backward pass's weights)."""
    return torch.from_numpy(as_quantized(weight, qtype, (out_features, in_features)).dequantize(num_threads()))


@_dequantize_op.register_fake
def _dequantize_fake(weight, qtype, out_features, in_features):
    return weight.new_empty((out_features, in_features), dtype=torch.float32)


# --- backward: straight through the activation quantization -------------------------------------------
def _setup_context(ctx, inputs, output):
    x, weight, qtype, in_features, out_features, bias, out_dtype = inputs
    ctx.save_for_backward(weight)
    ctx.meta = (qtype, in_features, out_features, x.dtype, bias.dtype if bias is not None else None)


def _backward(ctx, grad):
    (weight,) = ctx.saved_tensors
    qtype, in_features, out_features, x_dtype, bias_dtype = ctx.meta
    g = grad.reshape(-1, out_features).to(torch.float32)
    grad_x = grad_bias = None
    if ctx.needs_input_grad[0]:
        Wd = _dequantize_op(weight, qtype, out_features, in_features)
        grad_x = (g @ Wd).reshape(tuple(grad.shape[:-1]) + (in_features,)).to(x_dtype)
    if ctx.needs_input_grad[5]:
        grad_bias = g.sum(0).to(bias_dtype)
    return grad_x, None, None, None, None, grad_bias, None


_linear_op.register_autograd(_backward, setup_context=_setup_context)


def linear(
    x: torch.Tensor, W: QuantizedMatrix, bias: torch.Tensor | None = None, out_dtype: torch.dtype | None = None
) -> torch.Tensor:
    """x @ W.T (+ bias) for torch tensors, like torch.nn.functional.linear: x (..., K) float32 / float16 /
    bfloat16 on the CPU, W an iq1kernels.QuantizedMatrix (its bytes are used in place) -> (..., M) of x's
    dtype (or out_dtype)."""
    if not isinstance(W, QuantizedMatrix):
        raise TypeError(f"W must be an iq1kernels.QuantizedMatrix, got {type(W).__name__}")
    m, k = W.shape
    return _linear_op(x, packed_tensor(W.data), W.qtype, k, m, bias, check_out_dtype(out_dtype))


def packed_tensor(data: np.ndarray) -> torch.Tensor:
    """A uint8 tensor over a QuantizedMatrix's bytes (no copy). A read-only buffer (a GGUF memory map) stays
    read-only underneath: torch cannot mark it so, and IQ1Linear never writes into it (load_state_dict
    gives the layer a new buffer instead)."""
    if data.flags.writeable:
        return torch.from_numpy(data)
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(data)
