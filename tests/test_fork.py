"""A child forked after the parent ran multi-threaded OpenMP work (GNU OpenMP's worker pool does not
survive fork) still runs every threaded operation, with the same results; the parent is unaffected, and
'spawn' / 'forkserver' children run multi-threaded as usual. Every wait has a timeout, so a regression
fails instead of hanging the suite."""

import multiprocessing
import os
import pickle
import select
import signal
import sys
import time

import pytest

import child_work
import iq1kernels as iq1

pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork") or not sys.platform.startswith("linux"),
    reason="fork and /proc/self/task are Linux features",
)
TIMEOUT = 120  # seconds; each child does well under a second of work


@pytest.fixture(scope="module")
def expected():
    """The parent's results, computed with 2 threads, so that its OpenMP worker pool exists."""
    return child_work.every_operation(2)


def run_in_fork(fn, *args, own_group=True):
    """fn(*args) in a child made by os.fork, its result sent back through a pipe. On timeout the child is
    killed with its whole process group (own_group: the child starts one; its own children stay in it)."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        status = 0
        try:
            if own_group:
                os.setpgid(0, 0)
            os.close(rfd)
            payload = pickle.dumps(fn(*args))
            with os.fdopen(wfd, "wb") as f:
                f.write(payload)
        except BaseException:
            status = 1
        os._exit(status)
    os.close(wfd)
    data, deadline = b"", time.monotonic() + TIMEOUT
    with os.fdopen(rfd, "rb") as f:
        while True:
            ready, _, _ = select.select([f], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                (os.killpg if own_group else os.kill)(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                pytest.fail(f"the forked child hung (no result after {TIMEOUT} s)")
            chunk = os.read(f.fileno(), 1 << 20)
            if not chunk:
                break
            data += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the forked child failed"
    return pickle.loads(data)


@pytest.mark.parametrize("threads", [2, None])
def test_os_fork_child_runs_threaded_calls(expected, threads):
    got = run_in_fork(child_work.report, threads)
    assert got["results"] == expected
    assert got["after_fork"] is not None
    if threads == 2:
        assert got["threads_added"] >= 2  # the helper thread and its OpenMP worker


def test_fork_of_a_fork(expected):
    """The child of a child (which itself ran threaded work on its helper thread) works too."""
    got = run_in_fork(lambda: run_in_fork(child_work.every_operation, 2, own_group=False))
    assert got == expected


def test_fork_from_another_thread(expected):
    """fork() called from a thread other than the one that used OpenMP."""
    import threading

    box = {}
    t = threading.Thread(target=lambda: box.update(r=run_in_fork(child_work.every_operation, 2)))
    t.start()
    t.join(TIMEOUT + 10)
    assert box.get("r") == expected


def test_fork_while_other_threads_compute(expected):
    """fork() while two other threads are inside threaded linear calls (their OpenMP teams mid-region)."""
    import threading

    from iq1kernels import synthetic

    W = synthetic.random_weights("iq1_m", (256, 1024))
    X = synthetic.random_activations(8, 1024)
    stop = threading.Event()

    def busy():
        while not stop.is_set():
            iq1.linear(X, W, threads=2)

    workers = [threading.Thread(target=busy) for _ in range(2)]
    for t in workers:
        t.start()
    try:
        for _ in range(3):
            assert run_in_fork(child_work.every_operation, 2) == expected
    finally:
        stop.set()
        for t in workers:
            t.join(TIMEOUT)


def test_parent_is_unaffected(expected):
    run_in_fork(child_work.every_operation, 2)
    assert child_work.every_operation(2) == expected
    assert child_work.every_operation(None) == expected
    from iq1kernels import _state

    assert _state.forked_child_state() is None


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_multiprocessing_pool(expected, method):
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} start method here")
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(2) as pool:
        pending = pool.map_async(child_work.report, [2, 2, None, 2])
        try:
            reports = pending.get(timeout=TIMEOUT)
        except multiprocessing.TimeoutError:
            pytest.fail(f"a '{method}' pool worker hung (no result after {TIMEOUT} s)")
    for r in reports:
        assert r["results"] == expected
    # a fresh interpreter ('spawn', 'forkserver') has no stale pool: threaded calls run where they are made
    # and start their own OpenMP worker; a 'fork' worker runs them on its helper thread
    first = reports[0]
    if method == "fork":
        assert first["after_fork"] is not None
    else:
        assert first["after_fork"] is None
        assert first["default_threads"] == iq1.get_num_threads()
        assert first["threads_added"] == 1
