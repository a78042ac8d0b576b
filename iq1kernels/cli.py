"""`iq1kernels info | bench | quantize` (also `python -m iq1kernels ...`)."""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys

import numpy as np


class CliError(Exception):
    """A user error: printed as one line, exit status 2."""


def _int_list(text):
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def _require_file(path):
    if not os.path.isfile(path):
        raise CliError(f"no such file: {path}")


def _describe_value(gv) -> str:
    """A metadata value for a person: scalars in full, arrays by type and length."""
    from iq1kernels.gguf_metadata import T
    if gv.type == T.ARRAY:
        head = ", ".join(repr(v) if gv.element_type != T.ARRAY else "[...]" for v in gv.value[:3])
        more = ", ..." if len(gv.value) > 3 else ""
        return f"{gv.element_type.name}[{len(gv.value)}] [{head}{more}]"
    text = repr(gv.value)
    return f"{gv.type.name} {text if len(text) <= 80 else text[:77] + '...'}"


def _human_size(n) -> str:
    from iq1kernels.model_quantize import human_size
    return human_size(n)


def cmd_info(args) -> int:
    import iq1kernels as iq1
    if not args.file:
        iq1.show_config(full_cpu_info=True)
        return 0
    from iq1kernels import gguf_reader
    with gguf_reader.read_gguf(args.file) as f:
        infos = list(f.tensors.values())
        total = sum(i.nbytes for i in infos)
        shards = f"{len(f.paths)} shards" if len(f.paths) > 1 else "1 file"
        print(f"{args.file}: GGUF v{f.version}, {len(infos)} tensors ({_human_size(total)}), "
              f"{len(f.metadata)} metadata keys, {shards}, alignment {f.alignment}")
        for path in f.paths[1:]:
            print(f"  shard: {path}")
        print("metadata:")
        for key, gv in f.metadata.typed_items():
            print(f"  {key:<40} {_describe_value(gv)}")
        counts = {}
        for i in infos:
            counts[i.type_name] = counts.get(i.type_name, 0) + 1
        print("types: " + ", ".join(f"{n} x {t}" for t, n in sorted(counts.items(), key=lambda kv: -kv[1])))
        split = len(f.paths) > 1
        print(f"| {'tensor':<40} | {'type':<9} | {'shape (ggml ne)':<22} | {'bpw':>6} | {'size':>11} |"
              + (" shard |" if split else ""))
        print(f"|{'-' * 42}|{'-' * 11}|{'-' * 24}|{'-' * 8}|{'-' * 13}|" + ("-------|" if split else ""))
        for i in infos:
            bpw = 8.0 * i.nbytes / math.prod(i.ne)
            size = _human_size(i.nbytes) if i.size_known else "<=" + _human_size(i.nbytes)
            print(f"| {i.name:<40} | {i.type_name:<9} | {str(list(i.ne)):<22} | {bpw:>6.3f} | {size:>11} |"
                  + (f" {i.shard + 1:>5} |" if split else ""))
    return 0


class _Terminated(BaseException):
    """Raised by the signal handler so that everything unwinds (the writer removes its temporary files)."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum, frame):
    from iq1kernels._output import remove_temp_files
    remove_temp_files()             # first, in case the unwinding is cut short
    raise _Terminated(signum)


def _die_by(signum):
    """Exit as if killed by `signum` (the conventional status: 128 + signum in a shell)."""
    import signal
    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
    return 128 + signum             # not reached where the signal kills


def _dask_client(address):
    try:
        from distributed import Client
    except ImportError:
        raise CliError("--scheduler needs dask.distributed: pip install 'iq1kernels[dask]'") from None
    try:
        return Client(address, timeout="30s")
    except (OSError, TimeoutError) as exc:
        raise CliError(f"cannot reach the Dask scheduler at {address}: {exc}") from None


def cmd_quantize(args) -> int:
    import signal

    from iq1kernels._progress import ProgressPrinter
    from iq1kernels.formats import get_format
    from iq1kernels.model_quantize import RequantizationWarning, quantize_model
    try:
        fmt = get_format(args.type)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    _require_file(args.input)
    if args.imatrix:
        _require_file(args.imatrix)
    import warnings
    warnings.simplefilter("ignore", RequantizationWarning)      # the summary's notes say it
    printer = None if args.quiet else ProgressPrinter(sys.stderr)
    client = None
    caught = (signal.SIGTERM, signal.SIGHUP)
    previous = {s: signal.signal(s, _on_signal) for s in caught}
    try:
        if args.scheduler:
            client = _dask_client(args.scheduler)
        report = quantize_model(args.input, args.output, fmt, include=args.include, exclude=args.exclude,
                                imatrix=args.imatrix, threads=args.threads, split_max_size=args.split_max_size,
                                client=client, allow_requantize=args.allow_requantize, progress=printer)
    except _Terminated as exc:
        if printer is not None:
            printer.close()
        print(f"iq1kernels: terminated by signal {exc.signum}; no output written", file=sys.stderr)
        return _die_by(exc.signum)
    except KeyboardInterrupt:
        from iq1kernels._output import remove_temp_files
        remove_temp_files()
        raise
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        if printer is not None:
            printer.close()
        if client is not None:
            client.close()
    if args.quiet:
        print("\n".join(report.summary_lines()))
    else:
        print(report.format_table())
    return 0


def cmd_check(args) -> int:
    """Parse the whole file (every structural rule of the reader), then check every IQ1 tensor's scales."""
    from iq1kernels import gguf_reader
    from iq1kernels.formats import BY_GGML_ID
    bad_total = checked = 0
    with gguf_reader.read_gguf(args.file) as f:
        for name, info in f.tensors.items():
            fmt = BY_GGML_ID.get(info.ggml_type)
            if fmt is None:
                continue
            checked += 1
            data = f.view(name)
            rows = data.size // fmt.nbytes((fmt.rows_multiple, info.ne[0])) * fmt.rows_multiple
            bad_rows = _bad_scale_rows(fmt, data, rows, info.ne[0])
            if bad_rows.size:
                bad_total += 1
                print(f"{name}: {fmt.name}: {bad_rows.size} rows with non-finite fp16 scales, first: "
                      f"{bad_rows[:10].tolist()}")
        print(f"{args.file}: structure valid ({len(f.tensors)} tensors); checked {checked} IQ1 tensors: "
              f"{'all good' if not bad_total else f'{bad_total} bad'}")
    return 1 if bad_total else 0


def _bad_scale_rows(fmt, data, rows, k):
    """Rows whose fp16 scale fields are Inf or NaN."""
    if fmt.interleaved:
        groups = data.reshape(rows // 4, -1)
        d = np.ascontiguousarray(groups[:, :8]).view("<u2")                  # (groups, 4 rows)
        bad = (d & 0x7C00) == 0x7C00
        return np.flatnonzero(bad.reshape(-1))
    blocks = data.reshape(rows, -1, fmt.block_bytes)
    if fmt.name == "iq1_s":
        d = np.ascontiguousarray(blocks[:, :, 0:2]).view("<u2")[..., 0]
    else:
        sc = np.ascontiguousarray(blocks[:, :, 48:56]).view("<u2").astype(np.uint32)
        d = (sc[..., 0] >> 12) | ((sc[..., 1] >> 8) & 0xF0) | ((sc[..., 2] >> 4) & 0xF00) | (sc[..., 3] & 0xF000)
    return np.flatnonzero(((d & 0x7C00) == 0x7C00).any(axis=1))


def cmd_bench(args) -> int:
    import iq1kernels as iq1
    from iq1kernels import benchmarking
    from iq1kernels.formats import get_format

    qtypes = [get_format(t).name for t in args.type] if args.type else list(iq1.FORMATS)
    if args.backend == ["all"]:
        backends = iq1.available_backends()
    else:
        backends = args.backend or [iq1.backend]
    for b in backends:
        if b not in iq1.available_backends():
            raise CliError(f"backend {b!r} is not available here (available: {', '.join(iq1.available_backends())})")
    if args.model:
        from iq1kernels import model_bench
        for b in backends:
            previous = iq1.use_backend(b)
            try:
                for qtype in qtypes:
                    for t in (args.threads or [iq1.get_num_threads()]):
                        print(model_bench.format_table(args.model, qtype, t, model_bench.run(args.model, qtype, t)))
                        print()
            finally:
                iq1.use_backend(previous)
        return 0
    m = k = 1024 if args.quick else args.size
    if args.shape:
        m, k = args.shape
    ns = args.n or ([1, 8, 64] if args.quick else [1, 8, 512])
    threads = args.threads or [iq1.get_num_threads()]
    print(f"iq1kernels {iq1.__version__} bench: M = {m}, K = {k}, {platform.machine()}, "
          f"{benchmarking.blas_info()}")
    print("time = per call of iq1kernels.linear (activation quantization included): best of 3 rounds' medians, "
          "rounds alternating with numpy's; "
          "'vs numpy f32' = numpy float32 X @ W.T on the already dequantized matrix; "
          "'vs reference' = numpy dequantize-then-matmul (iq1kernels.reference.linear); same threads.\n")
    rows = []

    def progress(i, total, row):
        print(benchmarking.format_progress(i, total, row), file=sys.stderr, flush=True)
        rows.append(row)

    try:
        benchmarking.run(qtypes, ns, threads, backends, m, k, with_reference=not args.no_reference,
                         progress=progress)
    finally:
        if rows:   # an interrupted run still shows the rows it finished
            print(benchmarking.format_table(rows))
    if args.quantize:
        from iq1kernels import quant_bench
        print()
        print(quant_bench.quantize_table(threads=threads[0], quick=args.quick))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"machine": benchmarking.machine_info(), "command": sys.argv[1:], "rows": rows}, fh, indent=1)
    return 0


def _shape_arg(text: str):
    """'2048x7168' -> (2048, 7168); K must be a multiple of 256 (the IQ1 super-block)."""
    try:
        m, k = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not MxK, e.g. 2048x7168") from None
    if m < 1 or k < 256 or k % 256:
        raise argparse.ArgumentTypeError(f"{text!r}: M must be >= 1 and K a positive multiple of 256")
    return m, k


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="iq1kernels", description="IQ1 quantized matmul kernels")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("info", help="backends, CPU flags, threads; with FILE: its metadata and tensors")
    s.add_argument("file", nargs="?", help="a GGUF file")
    s.set_defaults(func=cmd_info)
    s = sub.add_parser("quantize", help="quantize a model file (GGUF, safetensors, npy/npz) to an IQ1 type in "
                                         "a GGUF file, tensor by tensor",
                       description="Quantize a model to an IQ1 type. GGUF input keeps every metadata key and "
                                   "every tensor it does not quantize byte for byte, so llama.cpp / ik_llama.cpp "
                                   "load the result; safetensors input keeps its tensor names (convert it with "
                                   "llama.cpp's convert_hf_to_gguf.py first for those tools). See "
                                   "docs/QUANTIZE_MODELS.md.")
    s.add_argument("input", help=".gguf (the first shard of a split model), .safetensors, "
                                 ".safetensors.index.json, .npy or .npz")
    s.add_argument("output", help="GGUF file to write (atomically; with --split-max-size: "
                                  "<stem>-0000i-of-0000N.gguf shards)")
    s.add_argument("--type", required=True, help="iq1_s, iq1_m, iq1_s_r4 or iq1_m_r4")
    s.add_argument("--imatrix", help="importance matrix: llama-imatrix's imatrix.gguf or legacy .dat, or "
                                     ".npz / .safetensors keyed by tensor name")
    s.add_argument("--threads", type=int, default=None, help="threads per quantize call (per worker with "
                                                              "--scheduler)")
    s.add_argument("--include", action="append", metavar="GLOB",
                   help="quantize only tensors matching (repeatable), whatever the name rules say; a tensor "
                        "named exactly that cannot take the type is an error, one matched by a glob is kept")
    s.add_argument("--exclude", action="append", metavar="GLOB", help="keep tensors matching as they are "
                                                                       "(repeatable; wins over --include)")
    s.add_argument("--allow-requantize", action="store_true",
                   help="also requantize tensors that are already quantized (dequantized first; adds error)")
    s.add_argument("--split-max-size", metavar="SIZE", help="write shards of at most SIZE (e.g. 50G, 500M)")
    s.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="spread the tensors over a Dask cluster "
                                                                  "(workers read the input from shared storage)")
    s.add_argument("--quiet", action="store_true", help="no progress and no per-tensor table, only the totals")
    s.set_defaults(func=cmd_quantize)
    s = sub.add_parser("check", help="validate a GGUF file's structure and every IQ1 tensor's scales")
    s.add_argument("file")
    s.set_defaults(func=cmd_check)
    s = sub.add_parser("bench", help="speed of linear() vs numpy on built-in synthetic data")
    s.add_argument("--quick", action="store_true", help="small shapes (M = K = 1024, N = 1, 8, 64)")
    s.add_argument("--type", action="append", help="iq1_s, iq1_m, iq1_s_r4, iq1_m_r4 (repeatable)")
    s.add_argument("--threads", type=_int_list, help="comma-separated thread counts")
    s.add_argument("--n", type=_int_list, help="comma-separated activation column counts N")
    s.add_argument("--size", type=int, default=4096, help="M = K (default 4096)")
    s.add_argument("--shape", type=_shape_arg, metavar="MxK",
                   help="M output rows by K inputs instead of --size, e.g. 2048x7168 (a DeepSeek expert)")
    s.add_argument("--backend", action="append", help="backend name(s), or 'all'")
    s.add_argument("--no-reference", action="store_true", help="skip the slow numpy reference timing")
    s.add_argument("--quantize", action="store_true", help="also time the quantizers")
    s.add_argument("--model", help="llama-bench style pp512 / tg128 tokens/s for the linear layers of "
                                   "llama-8b or deepseek-lite")
    s.add_argument("--json", help="write the rows to this JSON file")
    s.set_defaults(func=cmd_bench)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        from iq1kernels import _state
        _state.current_backend()   # an invalid IQ1KERNELS_BACKEND is reported here, in one line
        return args.func(args)
    except CliError as exc:
        print(f"iq1kernels: error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, RuntimeError, OSError) as exc:
        print(f"iq1kernels: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("iq1kernels: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
