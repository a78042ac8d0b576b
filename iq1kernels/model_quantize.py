"""Quantize a whole model file to an IQ1 type, tensor by tensor, into a GGUF file (or split shards).

    report = iq1kernels.quantize_model("model-f16.gguf", "model-iq1_s.gguf", "iq1_s",
                                       imatrix="imatrix.gguf", split_max_size="50G")
    print(report.format_table())          # every tensor: quantized or kept, and why; sizes, bpw, rel. RMSE

This works on files (GGUF, safetensors, .npy / .npz); iq1kernels.torch.quantize_model works on torch
modules in memory. For GGUF input the output is the same model for llama.cpp / ik_llama.cpp: every
metadata key with its type (general.file_type updated, our keys added), every tensor in the same order
with the same name, those not quantized byte-identical.

Which tensors are quantized follows llama-quantize: float tensors (F32, F16, BF16, F64) of 2 or 3
dimensions whose name ends in "weight", except token embeddings, the output tensor, norms, expert
routers (ffn_gate_inp), positional / token-type embeddings, Mamba's ssm_conv1d / ssm_x / ssm_dt and T5's
attn_rel_b, and tensors whose shape the format cannot hold (K a multiple of 256 for IQ1_S / IQ1_M; of 128
with rows a multiple of 4 for the R4 types). Already quantized tensors are kept unless
allow_requantize=True. The name rules apply to GGUF and safetensors input; .npy / .npz arrays are bare
arrays, and every 2-D / 3-D float array that fits is quantized. `include` (names or globs): only the
tensors that match are quantized, whatever the name rules say; a tensor named exactly that cannot take the
format is a ValueError naming the rule, one matched by a glob is kept with the rule as its reason.
`exclude` (names or globs): kept, always.

3-D expert tensors (ggml ne = (K, M, E)) are quantized expert by expert into one 3-D IQ1 tensor, with one
importance vector per expert when the imatrix has them.

Memory: tensors are read with positioned reads (pread; no memory map stays resident), quantized in
chunks of rows (the quantizer is row-independent: the bytes are those of one call on the whole tensor)
and written as they are done. Above the process's baseline (which includes the header's metadata), the
peak is at most the largest IQ1 output tensor + one chunk's buffers, about 5 x 4 x chunk_values bytes
(16 MiB of float32 per buffer by default), + one KEEP_PIECE (64 MiB) of a kept tensor, which is copied
piece by piece. The kept and the quantized tensor are never live at once; the sum allows for the freed
chunk buffers the C allocator may keep. Not the model's size, nor its largest tensor's. With a Dask client,
the result being written is added on the writer's side.

Scale-out: client=dask.distributed.Client(...) sends each tensor to quantize to a worker, which opens the
source by its path (shared storage: every worker must see the same file at the same path) and returns the
IQ1 bytes; this process reads the kept tensors itself and writes everything in file order, with at most
max_in_flight tensors submitted ahead of the writer. The output is byte-identical to the single-process
run.
"""

from __future__ import annotations

import fnmatch
import math
import os
import threading
import time
import warnings
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from ._kernels import NonFiniteWeightsError
from .formats import BY_GGML_ID, get_format
from .gguf_metadata import GGUFMetadata, GGUFValue, T
from .model_sources import Source, SourceTensor, describe_type, open_source, to_float32

# llama.cpp / ik_llama.cpp file-type ids (llama.h: LLAMA_FTYPE_MOSTLY_*); the R4 ones are ik_llama.cpp's
FILE_TYPES = {"iq1_s": 24, "iq1_m": 31, "iq1_s_r4": 224, "iq1_m_r4": 231}
QUANTIZATION_VERSION = 2  # GGML_QNT_VERSION, as llama-quantize records it
DEFAULT_CHUNK_VALUES = 1 << 22  # values per quantization chunk: 16 MiB of float32
KEEP_PIECE = 64 << 20  # bytes per read of a tensor copied as it is
_COPY_COST = 32  # bytes copied per value quantized, for the ETA's work estimate

# llama-quantize's rules (name pattern, reason); the HF spellings cover safetensors input
_KEEP_BY_NAME = [
    (
        (
            "token_embd.weight",
            "per_layer_token_embd.weight",
            "*embed_tokens.weight",
            "*.wte.weight",
            "*word_embeddings.weight",
        ),
        "token embeddings",
    ),
    (("output.weight", "lm_head.weight"), "output tensor"),
    (("*_norm.weight", "*norm.weight", "*layernorm*"), "norm"),
    (("*ffn_gate_inp.weight", "*.mlp.gate.weight"), "expert router"),
    (
        ("*pos_embd.weight", "*token_types.weight", "*position_embeddings.weight", "*token_type_embeddings.weight"),
        "positional / token-type embeddings",
    ),
    (("*ssm_conv1d*", "*ssm_x.weight", "*ssm_dt.weight"), "Mamba SSM tensor"),
    (("*attn_rel_b.weight",), "relative position bias"),
]


class RequantizationWarning(UserWarning):
    """Tensors that were already quantized are being quantized again (allow_requantize=True)."""


def human_size(n) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n} B"


@dataclass
class TensorReport:
    name: str
    source_type: str  # "BF16", "Q8_0", ...
    output_type: str  # "IQ1_S", or the source type when kept
    ne: tuple  # ggml order
    quantized: bool
    reason: str  # why kept (or "" / a note when quantized)
    bytes_in: int
    bytes_out: int
    rel_rmse: float | None = None  # ||W - Q(W)|| / ||W|| over the whole tensor
    seconds: float = 0.0
    imatrix: bool | None = None  # None: no imatrix given (or not quantized)

    @property
    def bpw(self) -> float:
        return 8.0 * self.bytes_out / math.prod(self.ne)


@dataclass
class QuantizeReport:
    source: str
    source_kind: str  # "gguf", "safetensors", "npy", "npz"
    qtype: str
    paths: list  # files written
    tensors: list = field(default_factory=list)
    seconds: float = 0.0
    notes: list = field(default_factory=list)

    @property
    def quantized(self) -> list:
        return [t for t in self.tensors if t.quantized]

    @property
    def kept(self) -> list:
        return [t for t in self.tensors if not t.quantized]

    @property
    def bytes_in(self) -> int:
        return sum(t.bytes_in for t in self.tensors)

    @property
    def bytes_out(self) -> int:
        return sum(t.bytes_out for t in self.tensors)

    def format_table(self) -> str:
        """Every tensor's decision, sizes, bpw, rel. RMSE and time, then the totals and notes."""
        w = max([44] + [len(t.name) for t in self.tensors])
        lines = [
            f"| {'tensor':<{w}} | {'type':<16} | {'ne':<20} | {'size':>25} | {'bpw':>6} | "
            f"{'rel. RMSE':>9} | imatrix | {'time':>7} | decision",
            f"|{'-' * (w + 2)}|{'-' * 18}|{'-' * 22}|{'-' * 27}|{'-' * 8}|{'-' * 11}|---------|{'-' * 9}|---------",
        ]
        for t in self.tensors:
            types = f"{t.source_type} -> {t.output_type}" if t.quantized else t.source_type
            size = f"{human_size(t.bytes_in)} -> {human_size(t.bytes_out)}" if t.quantized else human_size(t.bytes_in)
            err = f"{t.rel_rmse:.4f}" if t.rel_rmse is not None else ""
            im = {None: "", True: "yes", False: "no"}[t.imatrix]
            secs = f"{t.seconds:.2f}s" if t.quantized else ""
            decision = "quantized" + (f" ({t.reason})" if t.reason else "") if t.quantized else f"kept: {t.reason}"
            lines.append(
                f"| {t.name:<{w}} | {types:<16} | {'x'.join(map(str, t.ne)):<20} | {size:>25} | "
                f"{t.bpw:>6.3f} | {err:>9} | {im:<7} | {secs:>7} | {decision}"
            )
        lines.append("")
        lines.extend(self.summary_lines())
        return "\n".join(lines)

    def summary_lines(self) -> list:
        q, k = self.quantized, self.kept
        q_in, q_out = sum(t.bytes_in for t in q), sum(t.bytes_out for t in q)
        q_values = sum(math.prod(t.ne) for t in q)
        all_values = sum(math.prod(t.ne) for t in self.tensors)
        lines = [
            f"quantized {len(q)} tensors to {self.qtype} ({human_size(q_in)} -> {human_size(q_out)}, "
            f"{8.0 * q_out / max(q_values, 1):.4f} bpw), kept {len(k)} as they were "
            f"({human_size(sum(t.bytes_in for t in k))}); model {human_size(self.bytes_in)} -> "
            f"{human_size(self.bytes_out)} ({8.0 * self.bytes_out / max(all_values, 1):.3f} bpw overall) "
            f"in {self.seconds:.1f} s",
            "wrote " + ", ".join(self.paths),
        ]
        return lines + [f"note: {n}" for n in self.notes]


@dataclass
class ProgressEvent:
    """What the progress callback receives: after each chunk of rows and when each tensor is done."""

    tensor_index: int
    tensor_count: int
    name: str
    rows_done: int  # rows of this tensor done (all experts' rows counted)
    rows_total: int
    work_done: float  # over the whole model, in units proportional to the expected time
    work_total: float
    elapsed: float  # seconds since the start
    finished: bool  # this tensor is written
    record: TensorReport | None = None


@dataclass
class _Plan:
    t: SourceTensor
    quantize: bool
    reason: str
    imatrix: np.ndarray | None = None  # (E, K) float32
    experts: int = 1
    work: float = 0.0


def _patterns(value, what):
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    for p in items:
        if not isinstance(p, str) or not p:
            raise TypeError(f"{what} must be glob strings, got {p!r}")
    return items


def _first_match(name, patterns):
    return next((p for p in patterns if fnmatch.fnmatchcase(name, p)), None)


_dequantizable: dict[int, bool] = {}  # ggml type -> whether _can_dequantize


def _can_dequantize(ggml_type) -> bool:
    """Whether a quantized type can be turned back into floats here (IQ1 types, or through `gguf`)."""
    if ggml_type in BY_GGML_ID:
        return True
    if ggml_type not in _dequantizable:
        from .gguf_io import GGUFTensor
        from .gguf_types import GGML_TYPES

        try:
            _, block, size = GGML_TYPES[ggml_type]
            k = 256 if 256 % block == 0 else block
            GGUFTensor(ggml_type, (k, 1), np.zeros(k // block * size, np.uint8)).dequantize()
            _dequantizable[ggml_type] = True
        except Exception:  # noqa: BLE001 - any failure means "cannot"
            _dequantizable[ggml_type] = False
    return _dequantizable[ggml_type]


def _hard_reason(t: SourceTensor, fmt, allow_requantize):
    """Why t cannot be quantized to fmt at all (None if it can), and a note for a requantization."""
    if t.ggml_type is None:
        return f"dtype {t.stored} has no GGUF type", None
    if t.is_integer:
        return "integer tensor", None
    if not t.size_known:
        return f"{t.stored} is a type unknown here", None
    if t.ggml_type == fmt.ggml_id:
        return f"already {fmt.name.upper()}", None
    note = None
    if not t.is_float:
        if not allow_requantize:
            return f"already quantized as {t.stored}", None
        if not _can_dequantize(t.ggml_type):
            return f"{t.stored} cannot be dequantized here (the `gguf` package does not know it)", None
        note = f"requantized from {t.stored}"
    if len(t.ne) < 2:
        return "1-D tensor", None
    if len(t.ne) > 3:
        return f"{len(t.ne)}-D tensor", None
    k, m = t.ne[0], t.ne[1]
    if k % fmt.k_multiple:
        return f"K = {k} is not a multiple of {fmt.k_multiple}", None
    if m % fmt.rows_multiple:
        return f"{m} rows is not a multiple of {fmt.rows_multiple}", None
    return None, note


def _soft_reason(name, kind):
    """llama-quantize's name rules (GGUF and safetensors input only)."""
    if kind not in ("gguf", "safetensors"):
        return None
    if not name.endswith("weight"):
        return "not a weight (the name does not end in 'weight')"
    for patterns, reason in _KEEP_BY_NAME:
        if _first_match(name, patterns):
            return reason
    return None


def _decide(t, fmt, kind, include, exclude, allow_requantize):
    """(quantize?, reason or note)."""
    pat = _first_match(t.name, exclude)
    if pat:
        return False, f"excluded by {pat!r}"
    hard, note = _hard_reason(t, fmt, allow_requantize)
    if include:
        pat = _first_match(t.name, include)
        if pat is None:
            return False, "not matched by include"
        if hard:
            if any(c in pat for c in "*?["):  # a glob selects: what cannot take the format is kept
                return False, f"{hard} (matched by {pat!r})"
            hint = (
                " (allow_requantize=True / --allow-requantize requantizes it)"
                if hard.startswith("already quantized")
                else ""
            )
            raise ValueError(
                f"tensor {t.name} is named by include {pat!r} but cannot be quantized to {fmt.name}: {hard}{hint}"
            )
        return True, note or f"included by {pat!r}"
    soft = _soft_reason(t.name, kind)  # the name says more than the type (a Q8_0 token_embd)
    if soft:
        return False, soft
    if hard:
        return False, hard
    return True, note or ""


def _output_metadata(source: Source, fmt, im, im_label):
    from ._version import __version__

    meta = source.metadata.copy() if source.metadata is not None else GGUFMetadata()
    for key in [k for k in meta if k.startswith("quantize.imatrix.")]:
        del meta[key]  # a previous quantization's imatrix does not describe this one
    meta["general.quantization_version"] = GGUFValue(QUANTIZATION_VERSION, T.UINT32)
    meta["general.file_type"] = GGUFValue(FILE_TYPES[fmt.name], T.UINT32)
    meta["iq1kernels.version"] = GGUFValue(__version__, T.STRING)
    meta["iq1kernels.type"] = GGUFValue(fmt.name, T.STRING)
    if im is not None:
        meta["quantize.imatrix.file"] = GGUFValue(im_label, T.STRING)
        if im.datasets:
            meta["quantize.imatrix.dataset"] = GGUFValue(str(im.datasets[0]), T.STRING)
        meta["quantize.imatrix.entries_count"] = GGUFValue(len(im), T.INT32)
        if im.chunk_count is not None:
            meta["quantize.imatrix.chunks_count"] = GGUFValue(int(im.chunk_count), T.INT32)
    return meta


def _chunk_rows(k, m, chunk_values):
    rows = max(4, chunk_values // k // 4 * 4)  # multiples of 4: R4 sources and outputs interleave 4 rows
    return min(rows, m)


def quantize_tensor(
    source: Source, t: SourceTensor, fmt, imatrix=None, threads=None, chunk_values=DEFAULT_CHUNK_VALUES, on_rows=None
):
    """One tensor's IQ1 bytes, chunk of rows by chunk: (uint8 array, sum of squared errors, sum of squares).
    imatrix: None or (E, K) float32. on_rows(rows_done) is called after each chunk."""
    from . import ops

    k = t.ne[0]
    m = t.ne[1]
    experts = t.ne[2] if len(t.ne) == 3 else 1
    fmt.check_shape((experts, m, k))
    out = np.empty(fmt.nbytes((experts, m, k)), np.uint8)
    per_expert = fmt.nbytes((m, k))
    step = _chunk_rows(k, m, chunk_values)
    reader = source.reader(t)
    err_sq = ref_sq = 0.0
    done = 0
    for e in range(experts):
        im = None if imatrix is None else imatrix[e]
        for r0 in range(0, m, step):
            r1 = min(r0 + step, m)
            x = to_float32(t, reader.rows(e * m + r0, e * m + r1), r1 - r0, threads)
            try:  # the quantizer's threads scan the rows for NaN / Inf
                q = ops.quantize(x, fmt, imatrix=im, threads=threads)
            except NonFiniteWeightsError as exc:
                where = f"expert {e}, " if experts > 1 else ""
                raise ValueError(f"tensor {t.name}: {where}row {r0 + exc.row} contains NaN or Inf") from None
            start = e * per_expert + fmt.nbytes((r0, k))
            out[start : start + q.nbytes] = q.data
            d = q.dequantize(threads=threads)
            np.subtract(x, d, out=d)
            err_sq += float(np.sum(np.square(d, out=d), dtype=np.float64))
            ref_sq += float(np.sum(np.square(x, out=d), dtype=np.float64))  # d's buffer again: no temp
            del x, d, q
            done += r1 - r0
            if on_rows is not None:
                on_rows(done)
    return out, err_sq, ref_sq


# --- Dask: the work a worker does -------------------------------------------------------------------
_worker_sources: dict[str, tuple] = {}  # path -> (stamp, Source), per worker process
_worker_lock = threading.Lock()


def _stamp(path):
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


def _remote_quantize(spec):
    """Run on a Dask worker: open the source from shared storage (cached per process), quantize one tensor.
    The stamp (size, mtime of the source's first file) tells a worker that sees another file."""
    path, stamp = spec["src"], spec["stamp"]
    if _stamp(path) != stamp:
        raise RuntimeError(
            f"{path}: this worker sees a different file (size / modification time differ from "
            "the client's): the workers need the same file on shared storage"
        )
    with _worker_lock:
        cached = _worker_sources.get(path)
        if cached is None or cached[0] != stamp:
            cached = _worker_sources[path] = (stamp, open_source(path))
    source = cached[1]
    threads = spec["threads"]
    if threads is None:  # the worker's cores shared by the tasks it runs at once
        from . import _state

        try:
            from distributed import get_worker

            threads = max(1, _state.get_num_threads() // max(1, int(get_worker().state.nthreads)))
        except Exception:  # noqa: BLE001 - not in a worker, or an older API: the library default
            threads = None
    t0 = time.perf_counter()
    data, err_sq, ref_sq = quantize_tensor(
        source, source.tensor(spec["name"]), get_format(spec["qtype"]), spec["imatrix"], threads, spec["chunk_values"]
    )
    return data, err_sq, ref_sq, time.perf_counter() - t0


def _dask_results(client, source, plans, fmt, threads, chunk_values, max_in_flight):
    """Yield (plan index, result) for the plans to quantize, in order, computed on the cluster."""
    src = os.path.abspath(source.paths[0])
    stamp = _stamp(src)
    jobs = deque(i for i, p in enumerate(plans) if p.quantize)
    if max_in_flight is None:
        try:
            max_in_flight = 2 * max(1, sum(client.nthreads().values()))
        except Exception:  # noqa: BLE001
            max_in_flight = 4
    futures = {}

    def top_up():
        while jobs and len(futures) < max_in_flight:
            i = jobs.popleft()
            spec = {
                "src": src,
                "stamp": stamp,
                "name": plans[i].t.name,
                "qtype": fmt.name,
                "threads": threads,
                "imatrix": plans[i].imatrix,
                "chunk_values": chunk_values,
            }
            futures[i] = client.submit(_remote_quantize, spec, pure=False)

    try:
        while jobs or futures:
            top_up()
            i = min(futures)
            yield i, futures.pop(i).result()
    finally:
        if futures:
            client.cancel(list(futures.values()))


# --- the driver -------------------------------------------------------------------------------------
def _load_im(imatrix):
    if imatrix is None:
        return None, None
    from .imatrix import ImportanceMatrix, load_imatrix

    if isinstance(imatrix, ImportanceMatrix):
        return imatrix, imatrix.path
    return load_imatrix(imatrix), os.fspath(imatrix)


def _plan(source, fmt, include, exclude, allow_requantize, im):
    plans = []
    for t in source.tensors:
        quantize, reason = _decide(t, fmt, source.kind, include, exclude, allow_requantize)
        p = _Plan(t, quantize, reason)
        if quantize:
            p.experts = t.ne[2] if len(t.ne) == 3 else 1
            if im is not None:
                p.imatrix = im.vectors(t.name, p.experts, t.ne[0])
            p.work = float(math.prod(t.ne))
        else:
            if t.ggml_type is None:
                raise ValueError(
                    f"tensor {t.name}: {t.stored} cannot be stored in GGUF (it has no ggml type); convert it first"
                )
            p.work = t.nbytes / _COPY_COST
        plans.append(p)
    return plans


def quantize_model(
    src,
    dst,
    qtype,
    *,
    include=None,
    exclude=None,
    imatrix=None,
    threads=None,
    split_max_size=None,
    client=None,
    allow_requantize=False,
    progress=None,
    max_in_flight=None,
    chunk_values=DEFAULT_CHUNK_VALUES,
) -> QuantizeReport:
    """Quantize the model file `src` to `qtype` into the GGUF file `dst` (see the module docstring).

    imatrix: a path (llama.cpp GGUF / .dat, .npz, .safetensors) or an ImportanceMatrix; threads: per
    quantize call (on each worker with a client); split_max_size: "50G" / bytes, to write shards;
    client: a dask.distributed.Client; progress: a callable receiving ProgressEvent objects.
    Returns a QuantizeReport. Nothing is written when anything is wrong (the output appears complete or
    not at all); the input (and the imatrix file) can never be the output."""
    from . import _state
    from ._output import OutputFileError, check_output_path
    from .gguf_writer import GGUFFileWriter

    fmt = get_format(qtype)
    include, exclude = _patterns(include, "include"), _patterns(exclude, "exclude")
    if threads is not None:
        threads = _state.check_threads(threads)
    if isinstance(chunk_values, bool) or not isinstance(chunk_values, int) or chunk_values < 1:
        raise ValueError(f"chunk_values must be a positive integer, got {chunk_values!r}")
    if client is not None and not hasattr(client, "submit"):
        raise TypeError(f"client must be a dask.distributed.Client, got {type(client).__name__}")
    if max_in_flight is not None and (
        isinstance(max_in_flight, bool) or not isinstance(max_in_flight, int) or max_in_flight < 1
    ):
        raise ValueError(f"max_in_flight must be a positive integer, got {max_in_flight!r}")
    t_start = time.perf_counter()
    source = open_source(src)
    try:
        im, im_label = _load_im(imatrix)
        plans = _plan(source, fmt, include, exclude, allow_requantize, im)
        if not any(p.quantize for p in plans):
            kept: dict[str, int] = {}
            for p in plans:
                kept[p.reason] = kept.get(p.reason, 0) + 1
            why = "; ".join(f"{n} x {r}" for r, n in sorted(kept.items(), key=lambda kv: -kv[1])[:5])
            raise ValueError(f"{src}: no tensor to quantize to {fmt.name} ({why})")
        inputs = list(source.paths) + ([im.path] if im is not None else [])
        _refuse_inputs([os.fspath(dst)], inputs)
        try:
            writer = GGUFFileWriter(
                dst, _output_metadata(source, fmt, im, im_label), split_max_size=split_max_size, inputs=inputs
            )
        except OutputFileError as exc:
            if exc.filename:
                _refuse_inputs([exc.filename], inputs)  # the first shard's name: say it our way
            raise
        for p in plans:
            if p.quantize:
                writer.add_tensor_info(p.t.name, fmt.ggml_id, p.t.ne, fmt.nbytes((p.experts,) + p.t.shape[-2:]))
            else:
                writer.add_tensor_info(p.t.name, p.t.ggml_type, p.t.ne, p.t.nbytes)
        _refuse_inputs(writer.paths, inputs)
        for path in writer.paths:  # every shard: not a device or folder, its folder exists
            check_output_path(path, inputs)
        report = QuantizeReport(os.fspath(src), source.kind, fmt.name, list(writer.paths))
        _notes(report, source, fmt, plans, im)
        _run(
            writer,
            source,
            plans,
            fmt,
            report,
            threads,
            client,
            progress,
            max_in_flight,
            chunk_values,
            t_start,
            im is not None,
        )
        report.seconds = time.perf_counter() - t_start
        return report
    finally:
        source.close()


def _refuse_inputs(outputs, inputs):
    """An output that is one of the inputs (the same file: by name, symlink or hard link) is refused."""
    from ._output import OutputFileError

    for out in outputs:
        for inp in inputs:
            try:
                same = os.path.samefile(out, inp)
            except OSError:
                continue
            if same:
                how = (
                    ""
                    if os.path.abspath(out) == os.path.abspath(inp)
                    else " (a link to it)"
                    if os.path.islink(out) or os.path.realpath(out) == os.path.realpath(inp)
                    else " (the same file: a hard link)"
                )
                raise OutputFileError(f"output {out} is the input file {inp}{how}: write to another path")


def _notes(report, source, fmt, plans, im):
    if source.kind == "safetensors":
        report.notes.append(
            "safetensors input: tensor names are kept as they are (Hugging Face names); "
            "llama.cpp and ik_llama.cpp need GGUF names and metadata: convert the checkpoint "
            "with llama.cpp's convert_hf_to_gguf.py first and quantize that GGUF"
        )
    elif source.kind in ("npy", "npz"):
        report.notes.append(f"{source.kind} input: arrays are stored under their names, without model metadata")
    if fmt.interleaved:
        report.notes.append(
            f"{fmt.name.upper()} (type {fmt.ggml_id}) is an ik_llama.cpp type: mainline llama.cpp cannot load this file"
        )
    quantized = [p for p in plans if p.quantize]
    if im is None:
        report.notes.append(
            "no imatrix: llama-quantize refuses IQ1 types without one (their quality suffers "
            "most); pass one computed by llama-imatrix"
        )
    else:
        missing = [p.t.name for p in quantized if p.imatrix is None]
        if missing:
            report.notes.append(
                f"{len(missing)} quantized tensors have no imatrix entry and were quantized "
                f"without: {', '.join(missing[:5])}" + (", ..." if len(missing) > 5 else "")
            )
    already = sum(p.reason.startswith("already quantized") for p in plans)
    if already:
        report.notes.append(
            f"{already} tensors already quantized were kept as they are (allow_requantize=True / "
            "--allow-requantize requantizes them)"
        )
    requant = [p.t.name for p in quantized if not p.t.is_float]
    if requant:
        note = (
            f"{len(requant)} tensors were already quantized and are dequantized and requantized (their "
            f"error adds to the earlier one's): {', '.join(requant[:5])}" + (", ..." if len(requant) > 5 else "")
        )
        report.notes.append(note)
        warnings.warn(note, RequantizationWarning, stacklevel=3)


def _run(writer, source, plans, fmt, report, threads, client, progress, max_in_flight, chunk_values, t_start, has_im):
    work_total = sum(p.work for p in plans) or 1.0
    work_done = 0.0
    n = len(plans)
    remote = (
        iter(()) if client is None else _dask_results(client, source, plans, fmt, threads, chunk_values, max_in_flight)
    )

    def emit(i, rows_done, rows_total, finished, record=None, extra=0.0):
        if progress is not None:
            progress(
                ProgressEvent(
                    i,
                    n,
                    plans[i].t.name,
                    rows_done,
                    rows_total,
                    work_done + extra,
                    work_total,
                    time.perf_counter() - t_start,
                    finished,
                    record,
                )
            )

    try:
        with writer:
            for i, p in enumerate(plans):
                t = p.t
                t0 = time.perf_counter()
                if not p.quantize:  # copied in pieces: a kept tensor is never in memory whole
                    r = source.reader(t)
                    writer.write_tensor_parts(
                        t.name,
                        (r.piece(off, min(KEEP_PIECE, t.nbytes - off)) for off in range(0, t.nbytes, KEEP_PIECE)),
                    )
                    report.tensors.append(
                        TensorReport(
                            t.name,
                            describe_type(t),
                            describe_type(t),
                            t.ne,
                            False,
                            p.reason,
                            t.nbytes,
                            t.nbytes,
                            seconds=time.perf_counter() - t0,
                        )
                    )
                    work_done += p.work
                    emit(i, 0, 0, True, report.tensors[-1])
                    continue
                else:
                    rows_total = t.ne[1] * p.experts
                    if client is None:
                        emit(i, 0, rows_total, False)
                        per_row = p.work / rows_total
                        data, err_sq, ref_sq = quantize_tensor(
                            source,
                            t,
                            fmt,
                            p.imatrix,
                            threads,
                            chunk_values,
                            lambda done, i=i, rows_total=rows_total, per_row=per_row: emit(
                                i, done, rows_total, False, extra=done * per_row
                            ),
                        )
                        seconds = time.perf_counter() - t0
                    else:
                        j, (data, err_sq, ref_sq, seconds) = next(remote)
                        assert j == i
                    rel = math.sqrt(err_sq / ref_sq) if ref_sq > 0 else (0.0 if err_sq == 0 else math.inf)
                    rec = TensorReport(
                        t.name,
                        describe_type(t),
                        fmt.name.upper(),
                        t.ne,
                        True,
                        p.reason,
                        t.nbytes,
                        int(data.nbytes),
                        rel,
                        seconds,
                        (p.imatrix is not None) if has_im else None,
                    )
                writer.write_tensor(t.name, data)
                del data
                work_done += p.work
                report.tensors.append(rec)
                emit(i, 0, 0, True, rec)
    finally:
        close = getattr(remote, "close", None)
        if close is not None:
            close()


__all__ = [
    "quantize_model",
    "quantize_tensor",
    "QuantizeReport",
    "TensorReport",
    "ProgressEvent",
    "FILE_TYPES",
    "RequantizationWarning",
]
