"""`iq1kernels info | bench | quantize` (also `python -m iq1kernels ...`)."""
from __future__ import annotations

import argparse
import json
import platform
import sys


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


def cmd_info(args) -> int:
    import iq1kernels as iq1
    iq1.show_config(full_cpu_info=True)
    return 0


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
    m = k = 1024 if args.quick else args.size
    ns = args.n or ([1, 8, 64] if args.quick else [1, 8, 512])
    threads = args.threads or [iq1.get_num_threads()]
    print(f"iq1kernels {iq1.__version__} bench: M = K = {m}, {platform.machine()}, "
          f"{benchmarking.blas_info()}")
    print("time = median per call of iq1kernels.linear (activation quantization included); "
          "'vs numpy f32' = numpy float32 X @ W.T on the already dequantized matrix; "
          "'vs reference' = numpy dequantize-then-matmul (iq1kernels.reference.linear); same threads.\n")
    rows = []
    try:
        rows = benchmarking.run(qtypes, ns, threads, backends, m, k, with_reference=not args.no_reference,
                                progress=lambda r: None)
    finally:
        if rows:
            print(benchmarking.format_table(rows))
    if args.quantize:
        from iq1kernels import quant_bench
        print()
        print(quant_bench.quantize_table(threads=threads[0], quick=args.quick))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="iq1kernels", description="IQ1 quantized matmul kernels")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("info", help="backends, CPU flags, threads")
    s.set_defaults(func=cmd_info)
    s = sub.add_parser("bench", help="speed of linear() vs numpy on built-in synthetic data")
    s.add_argument("--quick", action="store_true", help="small shapes (M = K = 1024, N = 1, 8, 64)")
    s.add_argument("--type", action="append", help="iq1_s, iq1_m, iq1_s_r4, iq1_m_r4 (repeatable)")
    s.add_argument("--threads", type=_int_list, help="comma-separated thread counts")
    s.add_argument("--n", type=_int_list, help="comma-separated activation column counts N")
    s.add_argument("--size", type=int, default=4096, help="M = K (default 4096)")
    s.add_argument("--backend", action="append", help="backend name(s), or 'all'")
    s.add_argument("--no-reference", action="store_true", help="skip the slow numpy reference timing")
    s.add_argument("--quantize", action="store_true", help="also time the quantizers")
    s.add_argument("--json", help="write the rows to this JSON file")
    s.set_defaults(func=cmd_bench)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
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
