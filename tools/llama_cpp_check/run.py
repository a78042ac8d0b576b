"""Does llama.cpp / ik_llama.cpp load and run what `iq1kernels quantize` writes? (Not run in CI.)

    python tools/llama_cpp_check/run.py /path/to/llama-simple [workdir] [--mainline]

Makes two tiny llama-architecture models with random F16 weights and a minimal SentencePiece vocabulary
(tests/model_files.py: one dense, one with 4 experts as 3-D ffn_*_exps tensors), quantizes each to
IQ1_S, IQ1_M, IQ1_S_R4 and IQ1_M_R4 with `python -m iq1kernels quantize`, and runs
`llama-simple -m <file> -n 24 -p "the a of"` on every file (with --mainline: `llama-simple -m <file> -n 24
"the a of"`, the argument form of mainline llama.cpp's example, which takes the prompt as its last
argument). Prints, per file, whether it loaded, the tensor types the loader reported and the generated text
(garbage: the weights are random).
"""

import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]  # this checkout's iq1kernels, here and in children
os.environ["PYTHONPATH"] = os.pathsep.join([ROOT] + [p for p in [os.environ.get("PYTHONPATH")] if p])

from model_files import write_model  # noqa: E402


def main():
    args = [a for a in sys.argv[1:] if a != "--mainline"]
    mainline = "--mainline" in sys.argv[1:]
    binary = args[0]
    work = args[1] if len(args) > 1 else "/tmp/iq1_llama_check"
    os.makedirs(work, exist_ok=True)
    models = {"dense": 0, "moe": 4}
    ok = True
    for kind, experts in models.items():
        src = os.path.join(work, f"tiny-{kind}-f16.gguf")
        write_model(src, layers=2, hidden=256, ffn=512, experts=experts, n_vocab=320)
        for qtype in ("f16", "iq1_s", "iq1_m", "iq1_s_r4", "iq1_m_r4"):
            path = src
            if qtype != "f16":
                path = os.path.join(work, f"tiny-{kind}-{qtype}.gguf")
                subprocess.run(
                    [sys.executable, "-m", "iq1kernels", "quantize", src, path, "--type", qtype, "--quiet"],
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
            command = [binary, "-m", path, "-n", "24"] + (["the a of"] if mainline else ["-p", "the a of", "-t", "2"])
            proc = subprocess.run(command, cwd=work, capture_output=True, text=True, errors="replace", timeout=300)
            log = proc.stdout + proc.stderr
            types = sorted(set(re.findall(r"llama_model_loader: - type +(\w+): +(\d+) tensors", log)))
            m = re.search(r"main: decoded (\d+) tokens", log)
            decoded = int(m[1]) if m else 0
            # The prompt and generated text: mainline prints them to stdout, ik_llama.cpp into its log after n_kv_req.
            echo = re.search(r"n_kv_req = \d+\s*(.*?)\s*main: decoded", log, re.S)
            text = proc.stdout.strip() or (echo[1] if echo else "")
            status = "ok" if proc.returncode == 0 and decoded > 0 else f"FAILED ({proc.returncode})"
            ok &= status == "ok"
            print(
                f"{os.path.basename(path):<28} {status:<8} types {dict((t, int(n)) for t, n in types)}  "
                f"{decoded} tokens: {text!r}"
            )
            if status != "ok":
                print(
                    "\n".join(line for line in log.splitlines() if "error" in line.lower() or "failed" in line.lower())
                )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
