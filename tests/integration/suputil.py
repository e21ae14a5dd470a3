"""Helpers for the supervisor tests (test_supervisor.py, test_output.py,
test_probes.py, test_control.py, test_config_errors.py, test_dockerd.py).

Configuration files are written with write_conf(), which checks the two
limits of inih that bite: a line is at most 198 characters, and " ;"
starts an inline comment.  "{H}" in the text is the helpers directory.

new_netns() is a preexec_fn: the run gets a network namespace of its own
with only `lo` (up), so that tcp/http probes and the helper servers only
ever talk over a loopback nobody else shares.
"""
import ctypes
import fcntl
import os
import socket
import struct
import subprocess
import tempfile
import time

from harness import AGENT_INIT_CMD, DEADLINE, HELPERS, clean_env, poll

CLONE_NEWNET = 0x40000000
SIOCSIFFLAGS = 0x8914
IFF_UP, IFF_LOOPBACK, IFF_RUNNING = 0x1, 0x8, 0x40


def new_netns():
    """preexec_fn: unshare the network namespace and bring lo up."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "unshare(CLONE_NEWNET): " + os.strerror(e))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        ifr = struct.pack("16sH14x", b"lo", IFF_UP | IFF_LOOPBACK | IFF_RUNNING)
        fcntl.ioctl(s.fileno(), SIOCSIFFLAGS, ifr)
    finally:
        s.close()


def svcact():
    return os.path.join(HELPERS, "svcact")


def write_conf(path, text):
    """Write a configuration file; "{H}" becomes the helpers directory."""
    text = text.replace("{H}", HELPERS)
    for i, line in enumerate(text.splitlines(), 1):
        assert len(line) <= 198, "config line %d too long for inih: %r" % (
            i, line)
        assert " ;" not in line and "\t;" not in line, (
            "config line %d has an inline comment: %r" % (i, line))
    with open(str(path), "w") as f:
        f.write(text)
    return str(path)


def short_dir():
    """A short directory for unix sockets (sun_path is 108 bytes)."""
    return tempfile.mkdtemp(prefix="ai-", dir="/tmp")


# --- events ---------------------------------------------------------------

def named(events, name, **fields):
    return [e for e in events if e["agent_init"] == name and
            all(e.get(k) == v for k, v in fields.items())]


def index(events, name, **fields):
    """Index of the first event NAME with FIELDS, or None."""
    for i, e in enumerate(events):
        if e["agent_init"] == name and all(
                e.get(k) == v for k, v in fields.items()):
            return i
    return None


def assert_never(r, name, seconds, **fields):
    """No event NAME with FIELDS shows up within SECONDS (a negative
    check: the thing must not happen while its condition is unmet)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        got = named(r.events(), name, **fields)
        assert not got, "unexpected %s %r: %r%s" % (name, fields, got,
                                                     r.diag())
        time.sleep(0.02)


def wait_waiting(r, service, text, timeout=DEADLINE):
    """Wait for a `waiting` event whose reason for SERVICE contains TEXT."""
    def find():
        for e in named(r.events(), "waiting"):
            if text in (e.get("reason") or {}).get(service, ""):
                return e
        return None
    return poll(find, timeout, "waiting reason %r for %s" % (text, service),
                r.diag)


def touch(path):
    with open(str(path), "w"):
        pass


def read_marks(path):
    """The lines of an onterm log: [(name, what, ns), ...]."""
    out = []
    try:
        with open(str(path)) as f:
            for line in f:
                name, what, ns = line.split()
                out.append((name, what, int(ns)))
    except FileNotFoundError:
        pass
    return out


def mark(marks, name, what):
    for n, w, ns in marks:
        if n == name and w == what:
            return ns
    raise AssertionError("no mark %s %s in %r" % (name, what, marks))


# --- plain agent-init runs --------------------------------------------------

def agent(args, env=None, timeout=60, **kw):
    """Run `agent-init ARGS` (not a supervisor: check-config, status, ...)
    to its end; returns the CompletedProcess (text)."""
    return subprocess.run(AGENT_INIT_CMD + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True,
                          env=clean_env(env), timeout=timeout, **kw)
