"""Fixtures for the agent-init integration tests (see harness.py).

AGENT_INIT and HELPERS name the binary under test and the directory of the
helper programs (tests/helpers/*.c); `make integration` sets both.
"""
import os

import pytest

import harness


def pytest_sessionstart(session):
    missing = []
    if not os.access(harness.AGENT_INIT or "/nonexistent", os.X_OK):
        missing.append("AGENT_INIT=%r is not an executable" % harness.AGENT_INIT)
    if not os.path.isdir(harness.HELPERS or "/nonexistent"):
        missing.append("HELPERS=%r is not a directory" % harness.HELPERS)
    if missing:
        raise pytest.UsageError("; ".join(missing) +
                                " (run `make integration`)")


@pytest.fixture
def run(tmp_path):
    """run(args, **kw) starts agent-init ARGS (see harness.Run); every run
    is killed with all its descendants when the test ends."""
    runs = []

    def start(args, **kw):
        r = harness.Run(args, str(tmp_path), len(runs), **kw)
        runs.append(r)
        return r

    yield start
    for r in runs:
        r.cleanup()


@pytest.fixture(params=[True, False], ids=["pid1", "child"])
def pid1(request):
    """Both ways agent-init runs: PID 1 of a namespace, or a plain child
    (then as a child subreaper)."""
    return request.param
