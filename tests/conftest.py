"""Shared fixtures: every kernel test runs on every backend this CPU can run."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import iq1kernels as iq1  # noqa: E402
from helpers import BACKENDS, QTYPES  # noqa: E402


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Select each available backend in turn; restore the previous one afterwards."""
    previous = iq1.use_backend(request.param)
    try:
        yield request.param
    finally:
        iq1.use_backend(previous)


@pytest.fixture(params=QTYPES)
def qtype(request):
    return request.param
