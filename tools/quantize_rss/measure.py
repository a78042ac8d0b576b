"""Peak memory of `iq1kernels quantize` on a multi-GB synthetic MoE model, against the stated bound.
(Not run in CI: it writes ~2.5 GB and takes minutes.)

    python tools/quantize_rss/measure.py [workdir] [--type iq1_s] [--layers 6]

1. Writes a llama-architecture MoE GGUF (tests/model_files.py, streaming): per layer 32 experts as 3-D
   ffn_{gate,up,down}_exps tensors of 1024 x 2048 (BF16 and F16 layers alternating), dense attention
   (F16 q / output, Q4_K k, Q8_0 v), F32 norms and router, a Q8_0 token_embd and an F16 output over a
   32000-token vocabulary, and a full llama metadata set with the tokenizer arrays.
2. Runs `/usr/bin/time -v python -m iq1kernels quantize model.gguf out.gguf --type T --quiet` and reads
   "Maximum resident set size"; the baseline is the same for a process that imports iq1kernels, parses
   the model's header (the metadata as Python objects: 32000 tokens) and makes a small quantize call
   (the interpreter, numpy, the extension, the OpenMP pool).
3. Prints the bound of iq1kernels.model_quantize: baseline + one piece of a kept tensor (KEEP_PIECE, or
   the largest kept tensor if smaller) + largest IQ1 output tensor + 5 x 4 bytes x chunk_values (never live
   at once, but the allocator may keep freed buffers), the model's size as float32, and the peak.
4. load_gguf of the output under tracemalloc: the Python allocations (no float32 copy) and the RSS change.
"""
import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]          # this checkout's iq1kernels, here and in children
os.environ["PYTHONPATH"] = os.pathsep.join([ROOT] + [p for p in [os.environ.get("PYTHONPATH")] if p])


def max_rss(cmd):
    proc = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(proc.stderr)
    kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)[1])
    wall = re.search(r"Elapsed \(wall clock\) time .*: (\S+)", proc.stderr)[1]
    return kib * 1024, wall, proc.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("workdir", nargs="?", default="/tmp/iq1_quantize_rss")
    ap.add_argument("--type", default="iq1_s")
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    src = os.path.join(args.workdir, "synthetic-moe-f16-bf16.gguf")
    out = os.path.join(args.workdir, f"synthetic-moe-{args.type}.gguf")

    import numpy as np

    import iq1kernels as iq1
    from iq1kernels.gguf_io import read_gguf
    from iq1kernels.model_quantize import DEFAULT_CHUNK_VALUES, KEEP_PIECE
    from model_files import write_model
    shape = dict(layers=args.layers, hidden=2048, ffn=1024, experts=32, n_vocab=32000,
                 expert_dtype=("bf16", "f16"))
    if not os.path.exists(src):
        t0 = time.perf_counter()
        write_model(src, **shape)
        print(f"wrote {src} in {time.perf_counter() - t0:.0f} s")
    with read_gguf(src) as f:
        infos = list(f.tensors.values())
        types = {}
        for i in infos:
            types[i.type_name] = types.get(i.type_name, 0) + 1
        size = os.path.getsize(src)
        as_f32 = sum(int(np.prod(i.ne)) * 4 for i in infos)
        print(f"model: {size / 1e9:.2f} GB, {len(infos)} tensors {types}, {len(f.metadata)} metadata keys, "
              f"{as_f32 / 1e9:.2f} GB as float32")

    base, _, _ = max_rss([sys.executable, "-c", "import sys, numpy as np, iq1kernels as iq1; "
                          "from iq1kernels.model_sources import open_source; s = open_source(sys.argv[1]); "
                          "m = s.metadata.copy(); iq1.quantize(np.ones((64, 4096), np.float32), 'iq1_s')", src])
    cmd = [sys.executable, "-m", "iq1kernels", "quantize", src, out, "--type", args.type, "--quiet"]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    peak, wall, text = max_rss(cmd)
    print(text.strip())

    fmt = iq1.FORMATS[args.type]
    with read_gguf(out) as f:
        outs = list(f.tensors.values())
    kept = [o.nbytes for o in outs if o.type_name != args.type.upper()]
    quantized = [o.nbytes for o in outs if o.type_name == args.type.upper()]
    chunk = 5 * 4 * DEFAULT_CHUNK_VALUES
    piece = min(max(kept), KEEP_PIECE)                             # a kept tensor is copied in pieces
    live = base + max(piece, max(quantized) + chunk)               # what is live at any one time
    bound = base + piece + max(quantized) + chunk                  # + freed buffers the allocator keeps
    print(f"baseline RSS {base / 2**20:.0f} MiB; largest kept tensor {max(kept) / 2**20:.0f} MiB, copied in pieces of "
          f"{piece / 2**20:.0f} MiB; largest {fmt.name} tensor {max(quantized) / 2**20:.1f} MiB + chunk buffers "
          f"{chunk / 2**20:.0f} MiB")
    print(f"peak RSS {peak / 2**20:.0f} MiB (live at once at most {live / 2**20:.0f} MiB, bound {bound / 2**20:.0f} "
          f"MiB; the model is {as_f32 / 2**30:.2f} GiB as float32, {size / 2**30:.2f} GiB on disk); wall time {wall}")

    probe = ("import resource, sys, tracemalloc, iq1kernels as iq1\n"
             "def rss():\n"
             "    return int(open('/proc/self/statm').read().split()[1]) * 4096\n"
             "r0 = rss(); tracemalloc.start()\n"
             "t = iq1.load_gguf(sys.argv[1])\n"
             "cur, peak = tracemalloc.get_traced_memory()\n"
             "print(len(t), peak, rss() - r0)\n")
    n, traced, grown = subprocess.run([sys.executable, "-c", probe, out], capture_output=True, text=True,
                                      check=True).stdout.split()
    print(f"load_gguf({os.path.basename(out)}): {n} tensors, Python allocations peak {int(traced) / 2**20:.2f} MiB, "
          f"RSS +{int(grown) / 2**20:.1f} MiB (the file is {os.path.getsize(out) / 2**20:.0f} MiB)")


if __name__ == "__main__":
    main()
