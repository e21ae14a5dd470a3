"""The signal path as system calls (issue 15, the PID-1 speed rows).

SPEC 13: the stop signal goes out before any line is written.  Under
strace, agent-init's own system calls after it read SIGTERM from its
signalfd show what its loop does first, and what it does before it
sleeps again.  Only the order is asserted, never a time (how long the
path takes is bench/run.sh's "SIGTERM → the child's handler").

Not in scripts/run-sanitize.sh's set: LeakSanitizer refuses to run under
ptrace, and valgrind's own system calls would be in the trace.
"""
import re
import shutil
import signal

import pytest

from harness import helper
from suputil import write_conf

STRACE = shutil.which("strace")
CALL = re.compile(r"^(\d+) +(\w+)\((.*)$")


def own_calls(path, pid):
    """(name, arguments) of each system call pid started, in order."""
    calls = []
    with open(path) as f:
        for line in f:
            m = CALL.match(line)
            if m and int(m.group(1)) == pid:
                calls.append((m.group(2), m.group(3)))
    return calls


def after_term_read(calls):
    """The calls after the signalfd read that returned SIGTERM (signo 15,
    the record's first four bytes), up to the next wait of the loop."""
    for i, (name, args) in enumerate(calls):
        if name == "read" and '"\\17\\0\\0\\0' in args:
            rest = []
            for c in calls[i + 1:]:
                if c[0] in ("epoll_wait", "epoll_pwait"):
                    return rest
                rest.append(c)
            return rest
    raise AssertionError("no signalfd read of SIGTERM in %d calls" %
                         len(calls))


@pytest.mark.parametrize("config", [False, True],
                         ids=["command", "config"])
def test_shutdown_sends_the_stop_signal_first(run, tmp_path, config):
    assert STRACE, "strace is missing (scripts/deps.sh installs it)"
    trace = tmp_path / "trace"
    if config:
        # side first, main after it: the shutdown stops main first.
        conf = write_conf(tmp_path / "s.conf", """\
[service side]
command = {H}/sigrec
[service main]
command = {H}/sigrec -x 3
after = side
main = yes
""")
        args = ["-c", conf]
    else:
        args = ["--", helper("sigrec"), "-x", "3"]
    r = run(args, wrap=[STRACE, "-f", "-qq", "-o", str(trace), "-e",
                        "trace=read,write,kill,epoll_ctl,epoll_wait,"
                        "epoll_pwait,timerfd_settime,close,sched_yield"])
    init = r.init_pid()
    r.wait_event("ready")
    r.kill(signal.SIGTERM)
    assert r.wait() == 3, r.diag()
    calls = after_term_read(own_calls(trace, init))
    assert calls, "nothing after the SIGTERM read: %s" % calls
    # First: the stop signal, to the main service (its group in a config).
    name, args = calls[0]
    assert name == "kill" and args.split(",")[1].strip().startswith(
        "SIGTERM"), calls[:3]
    # Then the CPU, once, to whoever it may wake; the events after that,
    # in one write, with no watch set up and torn down around it (the
    # sink has room).
    names = [c[0] for c in calls]
    assert "sched_yield" in names, calls
    writes = [i for i, c in enumerate(calls)
              if c[0] == "write" and '"signal\\"' in c[1]]
    assert len(writes) == 1, calls
    assert names.index("sched_yield") < writes[0], calls
    assert "epoll_ctl" not in names, calls
