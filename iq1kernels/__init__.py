"""iq1kernels: IQ1_S / IQ1_M / IQ1_S_R4 / IQ1_M_R4 (GGUF 1-bit-class) weights times Q8_K128 activations.

import iq1kernels as iq1
Wq = iq1.quantize(W, "iq1_s")          # (M, K) floats -> QuantizedMatrix (exact GGUF bytes)
Y = iq1.linear(X, Wq)                  # X @ W.T, X: (..., K)
y = Wq @ x                             # numpy matmul semantics
iq1.show_config()                      # which kernels run here
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from . import _state, reference
from ._config import available_backends, get_num_threads, set_num_threads, show_config, use_backend
from ._version import __version__ as __version__  # the one place: pyproject.toml
from .activations import Q8K128
from .formats import FORMATS, QType
from .ops import dequantize, linear, matmul, quantize, quantize_activations
from .tensor import QuantizedMatrix

if TYPE_CHECKING:  # imported when used: GGUF and model files are optional features
    import numpy as np

    from .gguf_io import GGUFTensor
    from .gguf_metadata import GGUFMetadata
    from .imatrix import ImportanceMatrix
    from .model_quantize import ProgressEvent, QuantizeReport

__all__ = [
    "quantize",
    "quantize_activations",
    "linear",
    "matmul",
    "dequantize",
    "QuantizedMatrix",
    "Q8K128",
    "reference",
    "available_backends",
    "use_backend",
    "show_config",
    "set_num_threads",
    "get_num_threads",
    "load_gguf",
    "save_gguf",
    "quantize_model",
    "FORMATS",
    "backend",
]


def load_gguf(
    path: str | os.PathLike,
    names: Iterable[str] | None = None,
    with_metadata: bool = False,
    copy: bool = False,
) -> dict[str, QuantizedMatrix | GGUFTensor] | tuple[dict[str, QuantizedMatrix | GGUFTensor], GGUFMetadata]:
    """Read a GGUF file (or a split set from its first shard), lazily: {name: QuantizedMatrix (IQ1 types,
    zero-copy; 3-D expert tensors as (E, M, K)) or GGUFTensor (any other type, raw bytes)}; with
    with_metadata=True also its GGUFMetadata. See iq1kernels.gguf_io for names=, copy= and SIGBUS."""
    from .gguf_io import load_gguf as _load

    return _load(path, names=names, with_metadata=with_metadata, copy=copy)


def save_gguf(
    path: str | os.PathLike,
    tensors: Mapping[str, QuantizedMatrix | GGUFTensor | np.ndarray],
    metadata: Mapping[str, Any] | GGUFMetadata | None = None,
    alignment: int | None = None,
    split_max_size: int | str | None = None,
) -> list[str]:
    """Write {name: QuantizedMatrix | GGUFTensor | ndarray} and metadata (types kept) to a GGUF file,
    atomically; split_max_size="2G" writes shards. Returns the paths written. See iq1kernels.gguf_io."""
    from .gguf_io import save_gguf as _save

    return _save(path, tensors, metadata=metadata, alignment=alignment, split_max_size=split_max_size)


def quantize_model(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    qtype: QType,
    *,
    include: str | Iterable[str] | None = None,
    exclude: str | Iterable[str] | None = None,
    imatrix: str | os.PathLike | ImportanceMatrix | None = None,
    threads: int | None = None,
    split_max_size: int | str | None = None,
    client: Any = None,
    allow_requantize: bool = False,
    progress: Callable[[ProgressEvent], object] | None = None,
    **advanced: Any,
) -> QuantizeReport:
    """Quantize a model file (GGUF, single or split; safetensors or its index; .npy / .npz) to an IQ1 type
    into a GGUF file, streaming tensor by tensor, with llama-quantize's rules for which tensors; returns a
    QuantizeReport (report.format_table()). include / exclude: globs; imatrix: llama.cpp's imatrix.gguf or
    .dat, or .npz / .safetensors; client: a dask.distributed.Client to spread the work. For torch modules
    in memory see iq1kernels.torch. Details: iq1kernels.model_quantize, docs/QUANTIZE_MODELS.md."""
    from .model_quantize import quantize_model as _quantize_model

    return _quantize_model(
        src,
        dst,
        qtype,
        include=include,
        exclude=exclude,
        imatrix=imatrix,
        threads=threads,
        split_max_size=split_max_size,
        client=client,
        allow_requantize=allow_requantize,
        progress=progress,
        **advanced,
    )


def __getattr__(name: str) -> str:  # PEP 562: `iq1kernels.backend` is looked up when read
    if name == "backend":  # the selected kernel variant's name, e.g. "avx512_vnni"
        return _state.current_backend().name
    raise AttributeError(f"module 'iq1kernels' has no attribute {name!r}")


# choose the backend now: an invalid IQ1KERNELS_BACKEND fails at import, clearly (the `iq1kernels`
# command prints it as one line instead)
from ._config import select_backend_at_import as _select_backend  # noqa: E402

_select_backend()
