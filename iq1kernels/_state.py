"""Run-time state: the selected backend, the thread count, and running the C drivers safely after fork.

Thread count, highest precedence first (scikit-learn's convention for OpenMP code):
  1. the `threads=` argument of a call;
  2. `set_num_threads(n)` (process-wide; `set_num_threads(None)` returns to the default);
  3. OpenMP's own setting in the calling thread, `omp_get_max_threads()`: it reflects OMP_NUM_THREADS
     (read once, at start-up, by OpenMP), `omp_set_num_threads` and threadpoolctl's `threadpool_limits`;
     unless OMP_NUM_THREADS asked for a number, it is capped at the CPUs in the affinity mask
     (`os.sched_getaffinity`), which may shrink while the process runs.
An OMP_NUM_THREADS that is not a positive integer (or a list of them) is ignored with a warning, as
GNU OpenMP ignores it.

Fork: GNU OpenMP keeps a pool of worker threads per thread that started a parallel region. fork() copies
only the calling thread, so in the child that thread's pool refers to workers that do not exist, and its
next parallel region waits for them forever. A thread created in the child has no pool yet and gets a new
one. So in a forked child, a multi-threaded call from the thread that forked runs on a helper thread
created in the child (one, kept for later calls); every other call runs where it is made.
"""

from __future__ import annotations

import concurrent.futures
import numbers
import os
import threading
import warnings

from . import _dispatch

MAX_THREADS = 1024

_state_lock = threading.Lock()
_backend = None
_num_threads = None  # set_num_threads(n); None: the default above


# --- backend -----------------------------------------------------------------------------------------
def current_backend() -> _dispatch.Backend:
    global _backend
    if _backend is None:
        with _state_lock:
            if _backend is None:
                _backend = _dispatch.resolve(os.environ.get("IQ1KERNELS_BACKEND") or None)
    return _backend


def use_backend(name: str) -> str | None:
    """Switch kernels at run time; same checks as IQ1KERNELS_BACKEND. Returns the previous name (None if
    none had been chosen yet)."""
    global _backend
    new = _dispatch.resolve(name)
    with _state_lock:
        old = _backend.name if _backend is not None else None
        _backend = new
    return old


# --- threads -----------------------------------------------------------------------------------------
def _parse_omp_num_threads(raw):
    """The first level of OMP_NUM_THREADS ("4" or "4,2"), None when unset or empty, "invalid" otherwise."""
    if raw is None or not raw.strip():
        return None
    levels = [v.strip() for v in raw.split(",")]
    if all(v.isascii() and v.isdigit() and int(v) > 0 for v in levels):
        return int(levels[0])
    return "invalid"


def _read_omp_env():
    value = _parse_omp_num_threads(os.environ.get("OMP_NUM_THREADS"))
    if value == "invalid":
        warnings.warn(
            f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']!r} is not a positive integer; "
            f"iq1kernels ignores it and uses the CPUs in the affinity mask",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    return value


_OMP_ENV = _read_omp_env()  # OpenMP reads it once at start-up too; later changes have no effect
_openmp_max_threads = None  # omp_get_max_threads from the generic module, bound on first use


def check_threads(threads, what="threads") -> int:
    if type(threads) is int and 1 <= threads <= MAX_THREADS:  # the common case, without the ABC check
        return threads
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral):
        raise TypeError(f"{what} must be an integer >= 1, got {threads!r}")
    if threads < 1:
        raise ValueError(f"{what} must be >= 1, got {threads}")
    return min(int(threads), MAX_THREADS)


def _affinity_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _openmp_threads() -> int:
    global _openmp_max_threads
    if _openmp_max_threads is None:
        _openmp_max_threads = _dispatch._generic_module().openmp_max_threads
    return _openmp_max_threads()


def _default_threads() -> int:
    """Every call without threads= asks this (the affinity mask and OpenMP's setting may change)."""
    n = (_openmp_max_threads or _openmp_threads)()
    if _OMP_ENV is None:
        cpus = _affinity_cpus()
        if cpus < n:
            n = cpus
    return n if 1 <= n <= MAX_THREADS else max(1, min(n, MAX_THREADS))


def set_num_threads(n: int | None) -> int | None:
    """Threads for every later call without `threads=` (process-wide); None returns to the default
    (OMP_NUM_THREADS / threadpoolctl / the affinity mask). Returns the previous setting (None: default)."""
    global _num_threads
    new = None if n is None else check_threads(n, "number of threads")
    with _state_lock:
        previous, _num_threads = _num_threads, new
    return previous


def user_threads() -> int | None:
    """What set_num_threads set, None while it is not set (iq1kernels.torch then follows torch's count)."""
    return _num_threads


def get_num_threads() -> int:
    """The thread count a call without `threads=` uses, in the calling thread."""
    n = _num_threads
    return n if n is not None else _default_threads()


def thread_source() -> str:
    """Where get_num_threads() comes from, for show_config."""
    if _num_threads is not None:
        return "set_num_threads"
    omp = _openmp_threads()
    if _OMP_ENV is not None:
        return "OMP_NUM_THREADS" if omp == _OMP_ENV else "OpenMP limit (omp_set_num_threads / threadpoolctl)"
    cpus = _affinity_cpus()
    if omp < cpus:
        return "OpenMP limit (omp_set_num_threads / threadpoolctl)"
    return f"CPU affinity mask of {cpus} CPU{'s' if cpus > 1 else ''}"


def resolve_threads(threads) -> int:
    return get_num_threads() if threads is None else check_threads(threads)


# --- running the drivers ----------------------------------------------------------------------------
_openmp_used = False  # a call with >= 2 threads ran in this process, or in the parent before the fork
_fork_thread = None  # in a forked child whose parent had used OpenMP: the ident of the thread that forked
_fork_host = None  # in such a child: the executor whose one thread runs that thread's threaded calls


def _after_fork_in_child():
    global _fork_thread, _fork_host
    _fork_host = None  # its thread, if any, was not copied
    _fork_thread = threading.get_ident() if _openmp_used else None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def run(nthreads: int, fn, *args):
    """fn(*args, nthreads): a C driver call; see the module docstring for the fork case."""
    global _openmp_used
    if nthreads > 1:
        _openmp_used = True
        if _fork_thread is not None and _fork_thread == threading.get_ident():
            return _run_on_fork_host(fn, args + (nthreads,))
    return fn(*args, nthreads)


def _run_on_fork_host(fn, args):
    global _fork_host
    if _fork_host is None:
        _fork_host = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="iq1kernels-after-fork")
    future = _fork_host.submit(fn, *args)
    try:
        return future.result()
    except BaseException:
        concurrent.futures.wait([future])  # e.g. KeyboardInterrupt: the C call still writes; let it end
        raise


def forked_child_state() -> str | None:
    """For show_config: a note when threaded calls of this thread run on the after-fork helper thread."""
    if _fork_thread is not None and _fork_thread == threading.get_ident():
        return "forked after OpenMP: threaded calls from this thread run on a helper thread"
    return None
