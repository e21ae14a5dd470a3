"""Signals: forwarding to the child (and its group with -g), and the
stop signal SIGTERM with the stop timeout (issue items 2 and 3).  SIGINT,
SIGQUIT and fault signals: test_dropin.py."""
import os
import re
import signal

import pytest

from harness import (check_event_stream, helper, poll, proc_state, signame,
                     ts_seconds)

FORWARDED = [signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH]

# A real-time signal sent straight to the grandchild, to synchronise with
# it: sigtimedwait() hands out pending standard signals (numbers below 32)
# before any real-time one, so once the grandchild has reported this one,
# it has reported every standard signal that was queued for it before.
SYNC_SIG = 40


def start_sigrec(run, args, **kw):
    r = run(args, **kw)
    child = int(r.wait_line(re.compile(r"ready pid=(\d+)")).group(1))
    return r, child


@pytest.mark.parametrize("group", [False, True], ids=["nogroup", "group"])
def test_signals_forwarded_to_child(run, pid1, group):
    args = (["-g"] if group else []) + ["--", helper("sigrec"), "-g"]
    r, _ = start_sigrec(run, args, pid1=pid1)
    gc = int(r.wait_line(re.compile(r"gc:ready pid=(\d+)")).group(1))
    for sig in FORWARDED:
        name = signame(sig)
        r.kill(sig)
        r.wait_line(name)
        if group:
            r.wait_line("gc:" + name)
        r.wait_event("signal", signal=name, action="forwarded")
    if not group:
        # Without -g only the child gets them, never its process group.
        r.track(r.host_pid(gc))
        os.kill(r.host_pid(gc), SYNC_SIG)
        r.wait_line("gc:SIG%d" % SYNC_SIG)
        got = [l for l in r.lines() if l.startswith("gc:SIG") and
               l != "gc:SIG%d" % SYNC_SIG]
        assert got == [], "grandchild got %s without -g" % got
    for sig in FORWARDED:
        # Each exactly once to the child.
        assert r.count_lines(signame(sig)) == 1, r.diag()
    r.kill(signal.SIGTERM)
    status = r.wait()
    assert status == 143, r.diag()
    check_event_stream(r.stdout(), status)


def test_group_from_environment(run):
    # AGENT_INIT_GROUP=1 is -g.
    r, _ = start_sigrec(run, ["--", helper("sigrec"), "-g"],
                        env={"AGENT_INIT_GROUP": "1"})
    r.wait_line(re.compile(r"gc:ready pid=\d+"))
    r.kill(signal.SIGUSR1)
    r.wait_line("SIGUSR1")
    r.wait_line("gc:SIGUSR1")
    r.kill(signal.SIGTERM)
    assert r.wait() == 143, r.diag()


@pytest.mark.parametrize("sig,opts,expect,recorded", [
    (signal.SIGTERM, [], 143, False),       # default disposition: dies
    (signal.SIGTERM, ["-x", "42"], 42, True),   # catches it, exits 42
], ids=["term-default", "term-caught-42"])
def test_stop_signal(run, pid1, sig, opts, expect, recorded):
    r, _ = start_sigrec(run, ["--", helper("sigrec")] + opts, pid1=pid1)
    r.kill(sig)
    status = r.wait()
    assert status == expect, r.diag()
    if recorded:
        assert signame(sig) in r.lines()
    events = check_event_stream(r.stdout(), status)
    sigev = [e for e in events if e["agent_init"] == "signal"]
    assert sigev and sigev[0]["signal"] == signame(sig), sigev
    assert sigev[0]["action"] == "shutdown", sigev
    assert [e for e in events if e["agent_init"] == "shutdown"]
    exits = [e for e in events if e["agent_init"] == "service_exit"]
    assert len(exits) == 1, exits
    if expect >= 128:
        assert exits[0].get("signal") == signame(expect - 128), exits
    else:
        assert exits[0].get("code") == expect, exits


def test_term_ignored_means_sigkill_after_stop_timeout(run, pid1):
    r, _ = start_sigrec(run, ["--stop-timeout", "1s", "--",
                              helper("sigrec"), "-i"], pid1=pid1)
    r.kill(signal.SIGTERM)
    status = r.wait()
    assert status == 137, r.diag()
    events = check_event_stream(r.stdout(), status)
    exits = [e for e in events if e["agent_init"] == "service_exit"]
    assert exits and exits[0].get("signal") == "SIGKILL", exits
    # The SIGKILL did not come at once: the child had its time.  (A
    # lower bound only: timers never fire early, however busy the box.)
    shutdown = [e for e in events if e["agent_init"] == "shutdown"][0]
    assert ts_seconds(events[-1]) - ts_seconds(shutdown) >= 0.5, events


def test_second_stop_signal_goes_to_the_child(run, pid1):
    # The first SIGTERM starts the shutdown; the child ignores it.  A
    # later SIGINT is forwarded like any other signal and ends the child.
    r, _ = start_sigrec(run, ["--stop-timeout", "60s", "--",
                              helper("sigrec"), "-i"], pid1=pid1)
    r.kill(signal.SIGTERM)
    r.wait_event("shutdown")
    r.kill(signal.SIGINT)
    status = r.wait()
    assert status == 130, r.diag()
    events = check_event_stream(r.stdout(), status)
    sigev = [(e["signal"], e["action"]) for e in events
             if e["agent_init"] == "signal"]
    assert sigev == [("SIGTERM", "shutdown"), ("SIGINT", "forwarded")], sigev


def test_leftovers_killed_after_main_exits(run, pid1):
    # The main command leaves a process behind that ignores SIGTERM: once
    # the main command is gone, it gets SIGTERM, then SIGKILL.
    cmd = ["/bin/sh", "-c", '"$1" -i & exec "$1" -x 5', "sh",
           helper("sigrec")]
    r = run(["-v", "--stop-timeout", "2s", "--"] + cmd, pid1=pid1)
    main = r.wait_event("service_start")["pid"]
    pids = poll(lambda: [int(m.group(1)) for m in
                         (re.match(r"ready pid=(\d+)", l) for l in r.lines())
                         if m] if len(r.lines()) >= 2 else None,
                what="both sigrecs ready", diag=r.diag)
    left = [p for p in pids if p != main]
    assert len(left) == 1, pids
    left_host = r.host_pid(left[0])
    r.track(left_host)
    r.kill(signal.SIGTERM)
    status = r.wait()
    assert status == 5, r.diag()
    ev = r.wait_event("reaped", pid=left[0])
    assert ev.get("signal") == "SIGKILL", ev
    if not pid1:
        assert proc_state(left_host) is None, "leftover still there"
    check_event_stream(r.stdout(), status)


def test_group_stop_signal_reaches_the_whole_group(run, pid1):
    # With -g the stop signal, too, goes to the child's process group.
    # The child is a shell that ignores SIGTERM and waits for its own
    # child (same group), which records SIGTERM and exits 7; the shell
    # then exits 9.  Status 9 is only possible if the grandchild got the
    # signal while the shell was alive, that is through the group; with
    # the child alone signalled, it would be SIGKILLed after 60 s.
    cmd = ["/bin/sh", "-c", 'trap "" TERM; "$1" -x 7 & wait "$!"; exit 9',
           "sh", helper("sigrec")]
    r = run(["-g", "--stop-timeout", "60s", "--"] + cmd, pid1=pid1)
    r.wait_line(re.compile(r"ready pid=\d+"))
    r.kill(signal.SIGTERM)
    status = r.wait()
    assert status == 9, r.diag()
    assert "SIGTERM" in r.lines(), r.diag()

