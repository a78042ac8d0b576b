"""Whole models and GGUF files to IQ1Linear layers: quantize_model (in place, torchao's convention) and
from_gguf (zero-copy over the file's memory map)."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from iq1kernels.formats import QType, get_format
from iq1kernels.tensor import QuantizedMatrix
from iq1kernels.torch._linear import IQ1Linear


@dataclass
class QuantizeReport:
    """What quantize_model did: the layers replaced (by name), the layers that passed filter_fn but were
    kept in float (name -> reason), and the bytes of the replaced layers' weights and biases before and after."""

    qtype: str
    replaced: list = field(default_factory=list)
    skipped: dict = field(default_factory=dict)
    bytes_before: int = 0
    bytes_after: int = 0

    @property
    def ratio(self) -> float:
        return self.bytes_after / self.bytes_before if self.bytes_before else 1.0

    def __str__(self):
        lines = [
            f"quantize_model to {self.qtype}: {len(self.replaced)} layers replaced, {len(self.skipped)} "
            f"skipped; {self.bytes_before / 1e6:.2f} MB -> {self.bytes_after / 1e6:.2f} MB "
            f"({100 * self.ratio:.1f}%)"
        ]
        lines += [f"  skipped {name}: {reason}" for name, reason in self.skipped.items()]
        return "\n".join(lines)


def _skip_reason(fmt, fqn, mod, parent_types) -> str | None:
    if any(issubclass(p, nn.MultiheadAttention) for p in parent_types):
        return "nn.MultiheadAttention reads its projection weights directly"
    if type(mod) is not nn.Linear:
        return (
            f"{type(mod).__name__} is a subclass of nn.Linear whose forward may do more than x @ W.T + b "
            "(only plain nn.Linear is replaced)"
        )
    if fqn == "":
        return "the model itself is an nn.Linear: use IQ1Linear.from_linear"
    if mod.weight.device.type != "cpu":
        return f"weights on {mod.weight.device}: IQ1 layers run on the CPU"
    if not mod.weight.is_floating_point():
        return f"weights of dtype {mod.weight.dtype}"
    if mod.in_features % fmt.k_multiple:
        return f"in_features={mod.in_features} is not a multiple of {fmt.k_multiple} ({fmt.name})"
    if mod.out_features % fmt.rows_multiple:
        return f"out_features={mod.out_features} is not a multiple of {fmt.rows_multiple} ({fmt.name})"
    return None


def _bytes(t) -> int:
    return 0 if t is None else t.numel() * t.element_size()


def quantize_model(
    model: nn.Module,
    qtype: QType,
    filter_fn: Callable[[nn.Module, str], bool] | None = None,
    imatrix: Mapping[str, ArrayLike] | None = None,
    *,
    threads: int | None = None,
) -> QuantizeReport:
    """Replace the model's nn.Linear layers by IQ1Linear of `qtype`, in place, and report what was done.

    filter_fn(module, fqn) -> bool chooses the layers (default: every nn.Linear). Layers whose shape the
    format does not allow (in_features a multiple of 256 for IQ1_S / IQ1_M, of 128 for the R4 types, which
    also need out_features a multiple of 4) stay float and are listed in report.skipped with the reason.
    imatrix: {layer name: per-column importances (in_features,)} (the key may end in ".weight").
    All layers are quantized before any is replaced: an error (a NaN weight, a bad imatrix) names the layer
    and leaves the model unchanged."""
    fmt = get_format(qtype)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if filter_fn is not None and not callable(filter_fn):
        raise TypeError("filter_fn must be callable as filter_fn(module, fqn) -> bool")
    importances = _imatrix_by_layer(imatrix)
    parents: dict[int, set[type]] = {}  # id(child) -> types of the modules that hold it
    for _, mod in model.named_modules(remove_duplicate=False):
        for child in mod._modules.values():
            parents.setdefault(id(child), set()).add(type(mod))
    linears = {fqn: mod for fqn, mod in model.named_modules() if isinstance(mod, nn.Linear)}
    unknown = sorted(set(importances) - set(linears))
    if unknown:
        raise ValueError(
            f"imatrix has entries for {', '.join(unknown[:3])}{' ...' if len(unknown) > 3 else ''}, "
            "which name no nn.Linear of the model"
        )
    report = QuantizeReport(fmt.name)
    new = {}  # id(old module) -> IQ1Linear
    for fqn, mod in linears.items():
        if filter_fn is not None and not filter_fn(mod, fqn):
            continue
        reason = _skip_reason(fmt, fqn, mod, parents.get(id(mod), ()))
        if reason is not None:
            report.skipped[fqn] = reason
            continue
        try:
            layer = IQ1Linear.from_linear(mod, fmt, imatrix=importances.get(fqn), threads=threads)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"{fqn}: {exc}") from None
        new[id(mod)] = layer
        report.replaced.append(fqn)
        report.bytes_before += _bytes(mod.weight) + _bytes(mod.bias)
        report.bytes_after += _bytes(layer.weight) + _bytes(layer.bias)
    for _, mod in list(model.named_modules(remove_duplicate=False)):  # every reference, shared ones too
        for name, child in list(mod._modules.items()):  # named_children() skips repeats
            if id(child) in new:
                setattr(mod, name, new[id(child)])
    return report


def _imatrix_by_layer(imatrix) -> dict:
    if imatrix is None:
        return {}
    if not isinstance(imatrix, Mapping):
        raise TypeError("imatrix must be a dict {layer name: importances (in_features,)}")
    out = {}
    for key, value in imatrix.items():
        name = key[: -len(".weight")] if isinstance(key, str) and key.endswith(".weight") else key
        if not isinstance(name, str):
            raise TypeError(f"imatrix keys must be layer names, got {key!r}")
        out[name] = value
    return out


def from_gguf(
    path_or_tensors: str | os.PathLike | Mapping[str, object],
    names: Iterable[str] | None = None,
    *,
    out_dtype: torch.dtype | None = None,
) -> dict[str, nn.Module]:
    """IQ1Linear layers over a GGUF file's IQ1 tensors, without copying or dequantizing them.

    path_or_tensors: a GGUF path, or the dict iq1kernels.load_gguf returns. names: tensor names or glob
    patterns ("blk.*.ffn_down_exps.weight"); default every IQ1 tensor. Returns {name: IQ1Linear}; a 3-D
    expert tensor (or a list of expert matrices) gives an nn.ModuleList with one IQ1Linear per expert.
    A float tensor "<name without .weight>.bias" beside a weight becomes the layer's bias."""
    if isinstance(path_or_tensors, (str, os.PathLike)):
        from iq1kernels.gguf_io import load_gguf

        tensors = load_gguf(path_or_tensors)
    elif isinstance(path_or_tensors, Mapping):
        tensors = path_or_tensors
    else:
        raise TypeError(f"from_gguf needs a GGUF path or a dict of tensors, got {type(path_or_tensors).__name__}")
    quantized = [n for n, t in tensors.items() if _is_iq1(t)]
    if names is None:
        selected = quantized
    else:
        patterns = [names] if isinstance(names, str) else list(names)
        selected = []
        for pat in patterns:
            if not isinstance(pat, str):
                raise TypeError(f"names must be strings, got {pat!r}")
            if pat in tensors and not _is_iq1(tensors[pat]):
                raise ValueError(
                    f"tensor {pat} is not in an IQ1 format ({type(tensors[pat]).__name__}); "
                    "only IQ1 tensors become IQ1Linear layers"
                )
            hits = [n for n in quantized if n == pat or fnmatch.fnmatchcase(n, pat)]
            if not hits:
                raise KeyError(f"no IQ1 tensor named or matching {pat!r}")
            selected += [n for n in hits if n not in selected]
    return {name: _layers(name, tensors[name], _bias_for(name, tensors), out_dtype) for name in selected}


def _is_iq1(t) -> bool:
    return isinstance(t, QuantizedMatrix) or (
        isinstance(t, (list, tuple)) and len(t) > 0 and all(isinstance(e, QuantizedMatrix) for e in t)
    )


def _bias_for(name, tensors):
    """The float values of the tensor "<name without .weight>.bias" (an ndarray or a GGUF float tensor)."""
    if not name.endswith(".weight"):
        return None
    bias = tensors.get(name[: -len(".weight")] + ".bias")
    if bias is None or _is_iq1(bias):
        return None
    try:
        return np.array(bias, dtype=np.float32)  # a small copy: the layer's bias is its own
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name[: -len('.weight')]}.bias cannot be read as float values: {exc}") from None


def _layers(name, W, bias, out_dtype):
    experts = (
        list(W) if isinstance(W, (list, tuple)) else [W[e] for e in range(W.shape[0])] if len(W.shape) == 3 else None
    )
    try:
        if experts is None:
            return IQ1Linear.from_quantized(W, bias, out_dtype=out_dtype)
        if bias is not None and bias.shape[0] != len(experts):
            raise ValueError(f"bias of shape {bias.shape} for {len(experts)} experts")
        return nn.ModuleList(
            IQ1Linear.from_quantized(e, None if bias is None else bias[i], out_dtype=out_dtype)
            for i, e in enumerate(experts)
        )
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"{name}: {exc}") from None
