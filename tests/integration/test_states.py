"""A service's state machine (issue 14), as PID 1: the three cells that
were bugs (issue 13 items 6, 13 and 14).

Two of them are races between the loop and a child; strace makes each
race happen every time rather than in 3 of 20 trials, by holding one
system call for a while (`inject=SYSCALL:delay_enter/delay_exit`, only
for the path given with -P):

- a stop between fork and the exec report: every execve of svcact is held
  1.5 s, and the SIGTERM arrives meanwhile;
- an exit reaped before the exec report: agent-init itself is held 1 s
  right after it forked a service (the read of its cgroup's OOM counter,
  which it makes after each fork), so the service execs and exits before
  the loop gets back to the exec report, and the reaping pass that
  started the service reaps it too.

strace only slows things down: what is asserted is the order of events
and what runs afterwards, never a time.
"""
import json
import os
import shutil
import signal
import socket
import time

import pytest

from harness import children, poll, _read
from suputil import index, named, read_marks, short_dir, write_conf

STRACE = shutil.which("strace")

# The files oom_kills() reads after each fork (cgroup v2, then v1).
OOM_FILES = ["/sys/fs/cgroup/memory.events",
             "/sys/fs/cgroup/memory/memory.oom_control"]


def strace(*args):
    assert STRACE, "strace is missing (scripts/deps.sh installs it)"
    return [STRACE, "-f", "-qq", "-o", "/dev/null", *args]


def ask_status(sock):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(5)
    try:
        c.connect(sock)
        c.sendall(b"status\n")
        out = b""
        while not out.endswith(b"\n"):
            b = c.recv(65536)
            if not b:
                break
            out += b
        return json.loads(out)
    finally:
        c.close()


def comm(pid):
    return (_read("/proc/%d/comm" % pid) or "").strip()


@pytest.fixture
def sockdir():
    d = short_dir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


# --- issue 13 item 13: a stop between fork and the exec report ---------------

def test_stop_before_exec_report(run, tmp_path, sockdir):
    # `quick` is ready as soon as it exec'd; `probed` runs an exec: probe
    # that leaves a mark each time.  Both are forked, then SIGTERM arrives
    # while their execve is held: the exec reports come after `shutdown`.
    # `quick` survives its stop signal (SIGWINCH is ignored by default)
    # until its stop_timeout, so `status` can be asked meanwhile.
    sock = os.path.join(sockdir, "c.sock")
    marks = tmp_path / "probe-runs"
    conf = write_conf(tmp_path / "s.conf", """\
[init]
control_socket = %s
stop_timeout = 6s
[service quick]
command = {H}/svcact wait
stop_signal = WINCH
stop_timeout = 3s
[service probed]
command = {H}/svcact wait
ready = exec:{H}/svcact append:%s x:1
""" % (sock, marks))
    svcact = os.path.join(os.environ["HELPERS"], "svcact")
    r = run(["-c", conf], wrap=strace(
        "-P", svcact, "-e", "trace=execve",
        "-e", "inject=execve:delay_enter=1500000"))
    init = r.init_pid()
    poll(lambda: os.path.exists(sock), what="the control socket",
         diag=r.diag)
    # Both forked, neither exec'd yet (still named agent-init).
    poll(lambda: len([p for p in children(init)
                      if comm(p) == "agent-init"]) == 2,
         what="two services forked, before their exec", diag=r.diag)
    r.kill(signal.SIGTERM)
    r.wait_event("shutdown")
    # Now the execs go through and their reports come in: `status` must
    # never show `quick` ready while it is stopping.
    poll(lambda: [p for p in children(init) if comm(p) == "svcact"],
         what="the exec of a service", diag=r.diag)
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        try:
            st = ask_status(sock)
        except OSError:
            break  # the socket is gone: the shutdown is over
        assert st["phase"] == "stopping", st
        for s in st["services"]:
            assert s["state"] not in ("ready", "starting"), (st, r.diag())
            assert s["ready"] is False, (st, r.diag())
        time.sleep(0.05)
    assert r.wait() == 0, r.diag()
    ev = r.events()
    after = ev[index(ev, "shutdown"):]
    assert not named(after, "service_start"), r.diag()
    assert not named(after, "service_ready"), r.diag()
    # No probe ran for a service the shutdown had stopped.
    assert not marks.exists(), marks.read_text()
    assert len(named(ev, "service_exit")) == 2, r.diag()


# --- issue 13 item 14: an exit reaped before the exec report -----------------

def test_exit_reaped_before_exec_report(run, tmp_path):
    # `gate` becomes ready when its exec: probe exits 0, so `oneshot` is
    # started inside the pass that reaps that probe.  agent-init is held
    # right after the fork, oneshot execs and exits meanwhile, and the
    # same reaping pass collects it before its exec report is read.  Its
    # exec: probe must not outlive it.
    marks = tmp_path / "probe-runs"
    conf = write_conf(tmp_path / "s.conf", """\
[service gate]
command = {H}/svcact wait
ready = exec:{H}/svcact x:0
[service oneshot]
command = {H}/svcact x:0
after = gate
restart = never
ready = exec:{H}/svcact append:%s x:1
""" % marks)
    wrap = ["-e", "trace=open,openat",
            "-e", "inject=open,openat:delay_exit=1000000"]
    for f in OOM_FILES:
        wrap += ["-P", f]
    r = run(["-c", conf], wrap=strace(*wrap))
    r.wait_event("service_exit", service="oneshot")

    def runs():
        t = _read(str(marks))
        return len(t.splitlines()) if t else 0
    # The exit stops the probe the late report started: no probe keeps
    # running every 500 ms for a service that is gone.
    first = runs()
    assert first <= 1, r.diag()
    end = time.monotonic() + 2.5
    while time.monotonic() < end:
        assert runs() == first, ("the probe of an exited service still "
                                 "runs: %d runs" % runs()) + r.diag()
        time.sleep(0.1)
    ev = r.events()
    i = index(ev, "service_exit", service="oneshot")
    assert index(ev, "service_start", service="oneshot") < i, r.diag()
    assert not named(ev, "service_restart", service="oneshot"), r.diag()
    assert not named(ev, "service_failed", service="oneshot"), r.diag()
    r.kill(signal.SIGTERM)
    assert r.wait() == 0, r.diag()


# --- issue 13 item 6: a service already stopping when the shutdown starts ----

def test_stopping_service_takes_shutdown_order(run, tmp_path):
    # `side` is after `main`.  Its max_runtime (1 s) stops it with a long
    # stop_timeout (30 s): it wraps up on the first SIGTERM and quits on a
    # second.  Then the shutdown starts: `side` must get the shutdown's
    # signal, in order, before `main` gets its own, and the exit is main's
    # 0, with a service_exit for both, well inside the 5 s budget.
    marks = tmp_path / "marks"
    conf = write_conf(tmp_path / "s.conf", """\
[init]
stop_timeout = 5s
[service main]
main = yes
command = {H}/svcact onterm:%s:main:0 wait
[service side]
after = main
max_runtime = 1s
stop_timeout = 30s
command = {H}/svcact onterm:%s:side:60000 termtwice wait
""" % (marks, marks))
    r = run(["-c", conf])
    poll(lambda: ("side", "term") in [(n, w) for n, w, _ in
                                       read_marks(marks)],
         what="side stopping after its max_runtime", diag=r.diag)
    r.kill(signal.SIGTERM)
    assert r.wait() == 0, r.diag()
    ev = r.events()
    side = named(ev, "service_exit", service="side")
    main = named(ev, "service_exit", service="main")
    assert side and side[0].get("code") == 0, r.diag()
    assert main and main[0].get("code") == 0, r.diag()
    assert (index(ev, "service_exit", service="side") <
            index(ev, "service_exit", service="main")), r.diag()
    got = [(n, w) for n, w, _ in read_marks(marks)]
    assert got == [("side", "term"), ("side", "again"), ("main", "term"),
                   ("main", "exit")], got
    assert ev[-1]["reason"] == "main exited with code 0", ev[-1]
