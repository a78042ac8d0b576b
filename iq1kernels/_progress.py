"""Progress of a model quantization on stderr: a live line with ETA on a terminal, one line per tensor
otherwise (logs, pipes), nothing when quiet. Fed by quantize_model's `progress=` callback."""

from __future__ import annotations

import sys
import time


def _duration(seconds) -> str:
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class ProgressPrinter:
    """A `progress=` callback for quantize_model (see ProgressEvent in iq1kernels.model_quantize)."""

    def __init__(self, stream=None, live=None, interval=0.25):
        self.stream = stream if stream is not None else sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.interval = interval
        self._last = 0.0
        self._shown = False

    def eta(self, event) -> str:
        if event.work_done <= 0 or event.elapsed < 1.0:
            return "ETA --"
        left = event.elapsed * (event.work_total - event.work_done) / event.work_done
        return f"ETA {_duration(left)}"

    def __call__(self, event):
        width = len(str(event.tensor_count))
        head = f"[{event.tensor_index + 1:>{width}}/{event.tensor_count}]"
        if self.live:
            now = time.monotonic()
            if not event.finished and now - self._last < self.interval:
                return
            self._last = now
            pct = 100.0 * event.work_done / event.work_total if event.work_total else 100.0
            rows = f"  rows {event.rows_done}/{event.rows_total}" if event.rows_total and not event.finished else ""
            line = f"{head} {pct:5.1f}% {self.eta(event)}  {event.name}{rows}"
            self.stream.write("\r\x1b[K" + line)
            self._shown = True
            if event.finished and event.tensor_index + 1 == event.tensor_count:
                self.close()
        elif event.finished:
            r = event.record
            if r.quantized:
                what = f"{r.source_type} -> {r.output_type}, rel. RMSE {r.rel_rmse:.4f}, {r.seconds:.2f} s"
            else:
                what = f"kept {r.source_type}: {r.reason}"
            self.stream.write(f"{head} {r.name}: {what}\n")
        self.stream.flush()

    def close(self):
        if self.live and self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False
