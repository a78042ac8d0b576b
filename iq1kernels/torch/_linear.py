"""IQ1Linear: an nn.Linear whose weights stay packed in one of the IQ1 GGUF formats."""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from iq1kernels import ops
from iq1kernels.formats import BY_GGML_ID, QType, get_format
from iq1kernels.tensor import QuantizedMatrix
from iq1kernels.torch._op import _linear_op, as_quantized, check_out_dtype, num_threads, packed_tensor


class IQ1Linear(nn.Module):
    """y = x @ W.T + bias with W (out_features, in_features) kept as its exact IQ1 GGUF bytes.

    State: `weight` (uint8 buffer, the packed bytes), `weight_format` (int64 buffer: GGML type id,
    out_features, in_features) and `bias` (a frozen Parameter, or None), so state_dict() / torch.save /
    load_state_dict carry everything, and loading the state of another format or shape is refused.
    forward(x): x (..., in_features) float32 / float16 / bfloat16 on the CPU -> (..., out_features) of x's
    dtype (or `out_dtype`). The activations are quantized to Q8_K128 in C, the weights are never copied or
    dequantized. Gradients flow to x (straight through the activation quantization) and to a bias that
    requires grad; the packed weights get none.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        qtype: QType,
        bias: bool = True,
        *,
        out_dtype: torch.dtype | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        fmt = get_format(qtype)
        m, k = fmt.check_shape((out_features, in_features))
        b = torch.zeros(m, dtype=dtype or torch.float32) if bias else None
        self._setup(fmt, m, k, torch.zeros(fmt.nbytes((m, k)), dtype=torch.uint8), b, out_dtype)

    def _setup(self, fmt, m, k, packed: torch.Tensor, bias, out_dtype, readonly=False):
        self.qtype, self.out_features, self.in_features = fmt.name, m, k
        self.out_dtype = check_out_dtype(out_dtype)
        self._readonly = readonly  # packed bytes over a read-only buffer (a GGUF memory map)
        self.register_buffer("weight", packed)
        self.register_buffer("weight_format", torch.tensor([fmt.ggml_id, m, k], dtype=torch.int64))
        self.bias = nn.Parameter(bias, requires_grad=False) if bias is not None else None

    # --- construction ---------------------------------------------------------------------------------
    @classmethod
    def from_quantized(
        cls, W: QuantizedMatrix, bias: torch.Tensor | None = None, *, out_dtype: torch.dtype | None = None
    ) -> IQ1Linear:
        """A layer over W's bytes, without copying them (a GGUF tensor stays in its memory map)."""
        if not isinstance(W, QuantizedMatrix):
            raise TypeError(f"W must be an iq1kernels.QuantizedMatrix, got {type(W).__name__}")
        if len(W.shape) != 2:
            raise ValueError(
                f"W has shape {W.shape}: an IQ1Linear takes one (M, K) matrix; for an (E, M, K) "
                "expert stack make one layer per expert from W[e] (from_gguf does)"
            )
        m, k = W.shape
        if bias is not None:
            bias = bias.detach().clone() if isinstance(bias, torch.Tensor) else torch.from_numpy(np.array(bias))
            if tuple(bias.shape) != (m,) or not bias.is_floating_point():
                raise ValueError(f"bias must be floating point of shape ({m},), got {bias.dtype} {tuple(bias.shape)}")
        layer = cls.__new__(cls)
        nn.Module.__init__(layer)
        layer._setup(W.format, m, k, packed_tensor(W.data), bias, out_dtype, readonly=not W.data.flags.writeable)
        return layer

    @classmethod
    def from_linear(
        cls,
        linear: nn.Linear,
        qtype: QType,
        imatrix: ArrayLike | None = None,
        *,
        threads: int | None = None,
        out_dtype: torch.dtype | None = None,
    ) -> IQ1Linear:
        """Quantize an nn.Linear's weights to `qtype` (optionally with per-column importances `imatrix`,
        shape (in_features,)); the bias is kept in its dtype."""
        if not isinstance(linear, nn.Linear):
            raise TypeError(f"from_linear needs a torch.nn.Linear, got {type(linear).__name__}")
        w = linear.weight.detach()
        if w.device.type != "cpu":
            raise ValueError(f"the weights are on {w.device}; IQ1 layers are built from CPU weights (use .cpu())")
        if not w.is_floating_point():
            raise TypeError(f"the weights must be floating point, got {w.dtype}")
        im = None
        if imatrix is not None:
            im = imatrix.detach().cpu().to(torch.float32).numpy() if isinstance(imatrix, torch.Tensor) else imatrix
        Wq = ops.quantize(
            w.to(torch.float32).numpy(), qtype, imatrix=im, threads=threads if threads is not None else num_threads()
        )
        bias = linear.bias.detach() if linear.bias is not None else None
        return cls.from_quantized(Wq, bias, out_dtype=out_dtype)

    # --- use --------------------------------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _linear_op(x, self.weight, self.qtype, self.in_features, self.out_features, self.bias, self.out_dtype)

    @property
    def quantized(self) -> QuantizedMatrix:
        """The packed weights as an iq1kernels.QuantizedMatrix (a view, no copy): for iq1kernels.linear,
        dequantize() or save_gguf."""
        return as_quantized(self.weight, self.qtype, (self.out_features, self.in_features))

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, qtype={self.qtype}, "
            f"bias={self.bias is not None}" + (f", out_dtype={self.out_dtype}" if self.out_dtype else "")
        )

    # --- state dict ---------------------------------------------------------------------------------
    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ):
        """Refuse, before anything is copied, packed bytes of another format or shape than this layer's."""
        fmt_key, w_key = prefix + "weight_format", prefix + "weight"
        if w_key in state_dict or fmt_key in state_dict:
            got = state_dict.get(fmt_key)
            if got is None:
                error_msgs.append(f"{w_key}: IQ1 bytes without {fmt_key} (the format and shape they are in)")
                return
            want = (get_format(self.qtype).ggml_id, self.out_features, self.in_features)
            got = tuple(int(v) for v in torch.as_tensor(got).reshape(-1).tolist())
            if got != want:
                error_msgs.append(
                    f"{prefix or 'IQ1Linear'}: the state dict holds {_describe(got)}, this layer is "
                    f"{_describe(want)}; build the layer for that format and shape first"
                )
                return
            if self._readonly and w_key in state_dict:  # never write into a read-only memory map
                self.weight = torch.empty_like(self.weight)
                self._readonly = False
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )


def _describe(fmt_record) -> str:
    if len(fmt_record) != 3:
        return f"a malformed format record {fmt_record}"
    ggml_id, m, k = fmt_record
    name = BY_GGML_ID[ggml_id].name if ggml_id in BY_GGML_ID else f"GGML type {ggml_id}"
    return f"{name} ({m} x {k}: out_features={m}, in_features={k})"
