"""pytest-benchmark suites (kept out of the default test run).

Run:  python -m pytest bench -o python_files='bench_*.py' -o python_functions='bench_*' --benchmark-columns=median,ops
Every group puts iq1kernels beside numpy on the same shape, threads pinned (threadpoolctl for BLAS).
"""

import os

import pytest

from iq1kernels import benchmarking

THREADS = [int(t) for t in os.environ.get("IQ1_BENCH_THREADS", "1,2").split(",")]


def pytest_report_header(config):
    return benchmarking.blas_info()


@pytest.fixture(params=THREADS, ids=lambda t: f"t{t}")
def threads(request):
    with benchmarking.pinned_threads(request.param):
        yield request.param
