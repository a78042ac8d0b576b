"""Plot GFLOP/s against N per format and backend from `iq1kernels bench --json FILE` output.

iq1kernels bench --backend all --n 1,2,4,8,16,32,64,128,512 --json /tmp/bench.json
python tools/plot_performance.py /tmp/bench.json docs/performance.png
"""

import json
import sys


def main(src: str, dst: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = json.load(open(src))
    qtypes = sorted({r["type"] for r in rows}, key=["iq1_s", "iq1_m", "iq1_s_r4", "iq1_m_r4"].index)
    fig, axes = plt.subplots(1, len(qtypes), figsize=(4.2 * len(qtypes), 3.8), sharey=True, squeeze=False)
    for ax, qtype in zip(axes[0], qtypes):
        mine = [r for r in rows if r["type"] == qtype]
        for backend, threads in sorted({(r["backend"], r["threads"]) for r in mine}):
            pts = sorted((r["n"], r["gflops"]) for r in mine if (r["backend"], r["threads"]) == (backend, threads))
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=f"{backend} ({threads} thr)")
        for threads in sorted({r["threads"] for r in mine}):
            best = {}  # numpy is timed beside every backend's row: its fastest time per N
            for r in mine:
                if r["threads"] == threads:
                    best[r["n"]] = max(best.get(r["n"], 0.0), 2.0 * r["m"] * r["n"] * r["k"] / r["numpy_f32_s"] / 1e9)
            pts = sorted(best.items())
            ax.plot([p[0] for p in pts], [p[1] for p in pts], ls="--", color="gray", label=f"numpy f32 ({threads} thr)")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(f"{qtype}, M = K = {mine[0]['m']}")
        ax.set_xlabel("N (activation columns)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("GFLOP/s (2·M·N·K / time)")
    axes[0][-1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(dst, dpi=110)
    print("wrote", dst)


if __name__ == "__main__":
    main(*sys.argv[1:3])
