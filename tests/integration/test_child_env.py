"""What the child inherits (issue item 7): only fds 0, 1 and 2, an empty
signal mask and no ignored signals, whatever agent-init was started with."""
import ctypes
import os
import platform
import re
import signal
import subprocess

import pytest

from harness import check_event_stream, clean_env, helper

ZERO = "0" * 16

# Signals 1-31 in a SigBlk/SigIgn mask.
STANDARD = (1 << 31) - 1


def dirty():
    """Start a process the way a careless launcher would: some signals
    blocked, some ignored."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1,
                                              signal.SIGWINCH,
                                              signal.SIGTERM})
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGUSR2, signal.SIG_IGN)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)


def parse(lines):
    out = {}
    for line in lines:
        if ":" in line:
            k, v = line.split(":", 1)
            out[k] = v.split()
    return out


def test_child_gets_only_fds_012_and_clean_signals(run, pid1, tmp_path):
    r_fd, w_fd = os.pipe()
    f_fd = os.open(tmp_path / "extra", os.O_RDWR | os.O_CREAT, 0o600)
    extra = (r_fd, w_fd, f_fd)
    try:
        # The premise: without agent-init, fdcheck sees the extra fds
        # and the blocked and ignored signals.
        ctl = subprocess.run([helper("fdcheck")], pass_fds=extra,
                             preexec_fn=dirty, env=clean_env(),
                             stdout=subprocess.PIPE, text=True, timeout=20)
        c = parse(ctl.stdout.splitlines())
        assert set(map(str, extra)) <= set(c["fds"]), c
        assert c["SigBlk"] != [ZERO] and c["SigIgn"] != [ZERO], c

        r = run(["--", helper("fdcheck")], pid1=pid1, pass_fds=extra,
                preexec_fn=dirty)
        status = r.wait()
    finally:
        for fd in extra:
            os.close(fd)
    assert status == 0, r.diag()
    got = parse(r.lines())
    assert got["fds"] == ["0", "1", "2"], r.diag()
    assert got["SigBlk"] == [ZERO], got
    # The real-time signals that libc reserves are the next test's.
    assert int(got["SigIgn"][0], 16) & STANDARD == 0, got
    check_event_stream(r.stdout(), status)


# Signals 32-34: glibc keeps 32 and 33 for itself, musl 32 to 34, and
# their sigaction() refuses to touch them.  Ignored ones survive exec.
# GNU make, for one, runs its recipes with 32 and 33 ignored, so under
# `make integration` every process starts that way.
RESERVED = (32, 33, 34)
_libc = ctypes.CDLL(None, use_errno=True)


class _KSigaction(ctypes.Structure):
    # struct sigaction as the x86-64 kernel takes it.
    _fields_ = [("handler", ctypes.c_ulong), ("flags", ctypes.c_ulong),
                ("restorer", ctypes.c_ulong), ("mask", ctypes.c_ulong)]


_IGNORE = _KSigaction(1, 0, 0, 0)  # SIG_IGN


def ignore_reserved():
    # The raw system call: libc would refuse.  SYS_rt_sigaction is 13.
    for sig in RESERVED:
        _libc.syscall(13, sig, ctypes.byref(_IGNORE), None, 8)


@pytest.mark.skipif(platform.machine() != "x86_64", reason="x86-64 only")
def test_child_gets_reserved_realtime_signals_not_ignored(run, pid1):
    ctl = subprocess.run([helper("fdcheck")], preexec_fn=ignore_reserved,
                         env=clean_env(), stdout=subprocess.PIPE, text=True,
                         timeout=20)
    want = sum(1 << (s - 1) for s in RESERVED)
    c = parse(ctl.stdout.splitlines())
    assert int(c["SigIgn"][0], 16) & want == want, c   # the premise
    r = run(["--", helper("fdcheck")], pid1=pid1, preexec_fn=ignore_reserved)
    status = r.wait()
    assert status == 0, r.diag()
    got = parse(r.lines())
    assert got["SigIgn"] == [ZERO], got


def test_child_has_its_own_process_group(run, pid1):
    # sigrec prints its pgrp; it leads its own group.
    r = run(["--", helper("sigrec")], pid1=pid1)
    m = r.wait_line(re.compile(r"ready pid=(\d+) pgrp=(\d+)"))
    assert m.group(1) == m.group(2), m.group(0)
    r.kill(signal.SIGTERM)
    assert r.wait() == 143, r.diag()
