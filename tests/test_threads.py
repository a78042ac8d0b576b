"""Where the thread count comes from: the `threads=` argument, then set_num_threads, then OpenMP's own
setting (OMP_NUM_THREADS, omp_set_num_threads, threadpoolctl), capped at the affinity mask unless
OMP_NUM_THREADS asked for more; an invalid OMP_NUM_THREADS is a warning. show_config says which."""

import ctypes
import io
import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import iq1kernels as iq1
from iq1kernels import _state, synthetic

threadpoolctl = pytest.importorskip("threadpoolctl")

PROBE = (
    "import io, json, os, warnings\n"
    "warnings.simplefilter('always')\n"
    "with warnings.catch_warnings(record=True) as caught:\n"
    "    import iq1kernels as iq1\n"
    "from iq1kernels import _state\n"
    "{before}\n"
    "text = io.StringIO(); iq1.show_config(file=text)\n"
    "print(json.dumps({{'threads': iq1.get_num_threads(), 'source': _state.thread_source(),\n"
    "                  'show_config': text.getvalue(), 'cpus': len(os.sched_getaffinity(0)),\n"
    "                  'warnings': [str(w.message) for w in caught]}}))\n"
)


def probe(omp=None, before=""):
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    if omp is not None:
        env["OMP_NUM_THREADS"] = omp
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(before=before)], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def our_libgomp():
    """Real paths of the OpenMP runtime mapped into this process (the one our extension links)."""
    with open("/proc/self/maps") as f:
        return {os.path.realpath(line.split()[-1]) for line in f if "libgomp" in line}


def record_threads(monkeypatch):
    """Record the thread count each C driver call receives."""
    seen = []
    real = _state.run

    def run(nthreads, fn, *args):
        seen.append(nthreads)
        return real(nthreads, fn, *args)

    monkeypatch.setattr(_state, "run", run)
    return seen


def every_call(threads=None):
    W = synthetic.random_weights("iq1_s", (16, 256))
    X = synthetic.random_activations(2, 256)
    iq1.linear(X, W, threads=threads)  # quantize_act + matmul
    iq1.matmul(W, X[0], threads=threads)
    iq1.dequantize(W, threads=threads)
    iq1.quantize(np.ones((4, 256), np.float32), "iq1_m", threads=threads)
    iq1.quantize_activations(X, threads=threads)


@pytest.fixture
def default_threads():
    """Run with set_num_threads unset; restore whatever was set before."""
    previous = iq1.set_num_threads(None)
    try:
        yield
    finally:
        iq1.set_num_threads(previous)


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="needs the affinity mask")
def test_default_is_the_affinity_mask():
    info = probe()
    assert info["threads"] == min(info["cpus"], 1024) and info["source"].startswith("CPU affinity mask")
    assert f"threads: {info['threads']} (from CPU affinity mask" in info["show_config"]
    assert info["warnings"] == []


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs the affinity mask")
def test_default_follows_a_narrowed_affinity_mask():
    info = probe(before="os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})")
    assert info["threads"] == 1 and info["cpus"] == 1


@pytest.mark.parametrize("value, threads", [("1", 1), ("3", 3), (" 2 ", 2), ("3,1", 3), ("7", 7)])
def test_omp_num_threads(value, threads):
    """OMP_NUM_THREADS is honoured as given, also beyond the CPU count (as OpenMP does)."""
    info = probe(value)
    assert info["threads"] == threads and info["source"] == "OMP_NUM_THREADS"
    assert f"threads: {threads} (from OMP_NUM_THREADS)" in info["show_config"]
    assert info["warnings"] == []


@pytest.mark.parametrize("value", ["abc", "0", "-2", "2.5", "4,x", "٤"])
def test_invalid_omp_num_threads_warns_and_uses_the_affinity_mask(value):
    info = probe(value)
    assert info["threads"] == min(info["cpus"], 1024) and info["source"].startswith("CPU affinity mask")
    assert any("OMP_NUM_THREADS" in w and "not a positive integer" in w for w in info["warnings"]), info


def test_empty_omp_num_threads_is_unset():
    info = probe("")
    assert info["source"].startswith("CPU affinity mask") and info["warnings"] == []


def test_set_num_threads_wins_over_omp_num_threads():
    info = probe("1", before="iq1.set_num_threads(3)")
    assert info["threads"] == 3 and info["source"] == "set_num_threads"
    assert "threads: 3 (from set_num_threads)" in info["show_config"]


def test_threadpoolctl_finds_our_openmp_runtime():
    libs = our_libgomp()
    if not libs:
        pytest.skip("the extension is not linked with GNU OpenMP")
    found = {os.path.realpath(i["filepath"]) for i in threadpoolctl.threadpool_info() if i["internal_api"] == "openmp"}
    assert libs & found, (libs, found)


def test_threadpool_limits_is_honoured(monkeypatch, default_threads):
    seen = record_threads(monkeypatch)
    with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
        assert iq1.get_num_threads() == 1
        assert _state.thread_source().startswith("OpenMP limit")
        text = io.StringIO()
        iq1.show_config(file=text)
        assert "threads: 1 (from OpenMP limit" in text.getvalue()
        every_call()
        assert seen and set(seen) == {1}
        seen.clear()
        every_call(threads=2)  # the argument still wins
        assert set(seen) == {2}
    assert iq1.get_num_threads() == _state._default_threads()


def test_omp_set_num_threads_applies_to_the_calling_thread(default_threads):
    """OpenMP's setting is per thread: omp_set_num_threads(1) in one thread leaves the others alone."""
    libs = our_libgomp()
    if not libs:
        pytest.skip("the extension is not linked with GNU OpenMP")
    lib = ctypes.CDLL(sorted(libs)[0])
    main_default = iq1.get_num_threads()
    seen = {}

    def worker():
        lib.omp_set_num_threads(1)
        seen["limited"] = iq1.get_num_threads()
        lib.omp_set_num_threads(5)
        seen["raised"] = iq1.get_num_threads()

    t = threading.Thread(target=worker)
    t.start()
    t.join(60)
    assert seen["limited"] == 1
    # without OMP_NUM_THREADS a higher OpenMP setting is capped at the affinity mask
    assert seen["raised"] == (5 if _state._OMP_ENV is not None else min(5, _state._affinity_cpus()))
    assert iq1.get_num_threads() == main_default


def test_precedence_argument_then_set_num_threads(monkeypatch, default_threads):
    seen = record_threads(monkeypatch)
    assert iq1.set_num_threads(3) is None  # returns the previous setting
    try:
        with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
            every_call()
            assert set(seen) == {3}  # set_num_threads wins over OpenMP's setting
            seen.clear()
            every_call(threads=2)
            assert set(seen) == {2}  # the argument wins over set_num_threads
    finally:
        assert iq1.set_num_threads(None) == 3
    assert iq1.get_num_threads() == _state._default_threads()


def test_thread_count_bounds(default_threads):
    assert _state.check_threads(10**9) == 1024
    assert _state.check_threads(np.int64(2)) == 2
    for bad, exc in ((0, ValueError), (-1, ValueError), (2.0, TypeError), ("2", TypeError), (True, TypeError)):
        with pytest.raises(exc):
            iq1.set_num_threads(bad)
    assert iq1.get_num_threads() == _state._default_threads()  # a refused value changes nothing
