"""The supervisor (SPEC sections 3, 6, 11, 12; issue 3 items 1, 3, 7, 8,
9 and 11): start order, restart with backoff and giving up, kill_group,
shutdown order and budget, a -- COMMAND beside a configuration, the
termination log, the ready file and our own NOTIFY_SOCKET."""
import os
import re
import shutil
import signal
import socket

import pytest

from harness import helper, poll, proc_state, ts_seconds
from suputil import (assert_never, index, mark, named, read_marks, short_dir,
                     svcact,
                     touch, write_conf)


def stop(r, status=0):
    r.kill(signal.SIGTERM)
    got = r.wait()
    assert got == status, r.diag()


# --- item 1: start order ------------------------------------------------------

def test_after_starts_only_once_dependency_ready(run, tmp_path):
    # a is ready when its gate opens; b is after a; c is independent.
    gate = tmp_path / "gate"
    conf = write_conf(tmp_path / "s.conf", """\
[service a]
command = {H}/svcact wait
ready = file:%s

[service b]
command = {H}/svcact wait
after = a

[service c]
command = {H}/svcact wait
""" % gate)
    r = run(["-c", conf])
    # Independent services start together, without waiting for anyone.
    r.wait_event("service_start", service="a")
    r.wait_event("service_ready", service="c")
    assert_never(r, "service_start", 1.0, service="b")
    touch(gate)
    r.wait_event("ready")
    ev = r.events()
    ia = index(ev, "service_ready", service="a")
    ib = index(ev, "service_start", service="b")
    assert ia < ib < index(ev, "ready"), r.diag()
    assert index(ev, "service_start", service="c") < ia
    # b's start is no older than a's readiness (ts, ms resolution).
    assert ts_seconds(ev[ib]) >= ts_seconds(ev[ia])
    stop(r)


def test_after_chain_and_fan_in(run, tmp_path):
    # d is after both b and c, which are both after a: d starts last and
    # only after both of them are ready.
    g1, g2 = tmp_path / "g1", tmp_path / "g2"
    conf = write_conf(tmp_path / "s.conf", """\
[service a]
command = {H}/svcact wait
[service b]
command = {H}/svcact wait
ready = file:%s
after = a
[service c]
command = {H}/svcact wait
ready = file:%s
after = a
[service d]
command = {H}/svcact wait
after = b c
""" % (g1, g2))
    r = run(["-c", conf])
    r.wait_event("service_start", service="b")
    r.wait_event("service_start", service="c")
    touch(g1)
    r.wait_event("service_ready", service="b")
    assert_never(r, "service_start", 0.8, service="d")
    touch(g2)
    r.wait_event("ready")
    ev = r.events()
    assert index(ev, "service_ready", service="c") < \
        index(ev, "service_start", service="d")
    stop(r)


def test_service_after_a_failed_one_fails_too(run, tmp_path):
    conf = write_conf(tmp_path / "s.conf", """\
[service a]
command = %s/nonexistent
[service b]
command = {H}/svcact wait
after = a
[service c]
command = {H}/svcact wait
""" % tmp_path)
    r = run(["-c", conf])
    f = r.wait_event("service_failed", service="b")
    assert "'a'" in f["reason"], f
    assert not named(r.events(), "service_start", service="b")
    stop(r)


# --- item 3: crash loop -------------------------------------------------------

def test_crash_loop_backoff_doubles_to_cap_then_gives_up(run, tmp_path):
    conf = write_conf(tmp_path / "s.conf", """\
[service crashy]
command = {H}/svcact o:starting e:boom-1 e:boom-2 'e:last words' x:3
restart = on-failure
backoff = 100ms..400ms
max_restarts = 5/1m
required = yes

[service other]
command = {H}/svcact wait
""")
    r = run(["-c", conf], env={"AGENT_INIT_JITTER_SEED": "1"})
    status = r.wait(60)
    assert status == 70, r.diag()
    ev = r.events()
    restarts = named(ev, "service_restart", service="crashy")
    delays = [e["delay_ms"] for e in restarts]
    nominal = [100, 200, 400, 400, 400]
    assert len(delays) == len(nominal), r.diag()
    for d, n in zip(delays, nominal):
        assert n * 0.8 <= d <= n * 1.2, (delays, nominal)
    assert delays != nominal, "no jitter at all: %r" % delays
    assert [e["attempt"] for e in restarts] == [2, 3, 4, 5, 6]
    starts = named(ev, "service_start", service="crashy")
    exits = named(ev, "service_exit", service="crashy")
    assert [e["attempt"] for e in starts] == [1, 2, 3, 4, 5, 6]
    assert len(exits) == 6 and all(e["code"] == 3 for e in exits), exits
    # Each restart really waited its delay.  The `service_exit` line is
    # written after the restart timer is armed, so its timestamp is late by
    # however long agent-init was kept off the CPU in between: 11 ms once
    # under qemu-user on the loaded 2-CPU machine (waited 96 ms for a
    # 107 ms delay).  A restart that did not wait is still caught.
    for ex, rs, st in zip(exits, restarts, starts[1:]):
        waited = ts_seconds(st) - ts_seconds(ex)
        assert waited * 1000 >= rs["delay_ms"] * 0.8, (ex, rs, st)
    failed = named(ev, "service_failed", service="crashy")
    assert len(failed) == 1, r.diag()
    assert "5" in failed[0]["reason"], failed
    tail = failed[0]["tail"]
    assert tail[-3:] == ["boom-1", "boom-2", "last words"], tail
    assert "starting" in tail
    assert exits[-1]["tail"][-1] == "last words"
    assert index(ev, "service_failed") < index(ev, "shutdown")
    assert ev[-1]["agent_init"] == "exit" and ev[-1]["status"] == 70
    assert "crashy" in ev[-1]["reason"], ev[-1]


def test_restart_policies(run, tmp_path):
    # on-failure (the default) does not restart a clean exit; always does;
    # never does not restart a failure.
    conf = write_conf(tmp_path / "s.conf", """\
[service clean]
command = {H}/svcact x:0
[service always]
command = {H}/svcact x:0
restart = always
backoff = 10ms..10ms
max_restarts = 2/1m
[service never]
command = {H}/svcact x:4
restart = never
[service keep]
command = {H}/svcact wait
""")
    r = run(["-c", conf])
    r.wait_event("service_failed", service="always")
    r.wait_event("service_exit", service="never")
    r.wait_event("service_exit", service="clean")
    assert_never(r, "service_restart", 0.5, service="clean")
    ev = r.events()
    assert len(named(ev, "service_start", service="always")) == 3
    assert not named(ev, "service_restart", service="never")
    assert not named(ev, "service_failed", service="never")
    assert len(named(ev, "service_start", service="clean")) == 1
    stop(r)


# --- item 7: kill_group -------------------------------------------------------

KILL_GROUP_CONF = """\
[service holder]
command = {H}/svcact flock:%s bg:1:256 s:300 x:1
restart = on-failure
backoff = 50ms..50ms
max_restarts = 1/1m
stop_timeout = 30s
kill_group = %s
[service keep]
command = {H}/svcact wait
"""


def kill_group_run(run, tmp_path, kill_group):
    lock = tmp_path / "lock"
    conf = write_conf(tmp_path / "s.conf",
                      KILL_GROUP_CONF % (lock, kill_group))
    r = run(["-c", conf])
    r.wait_event("service_failed", service="holder")
    lines = [l for l in r.lines() if l.startswith("holder| flock")]
    stop(r)
    return lines, r


def test_kill_group_stale_child_gone_before_restart(run, tmp_path):
    # The first run leaves a child in its group that ignores SIGTERM and
    # holds a lock; the restart must find the lock free.  The child holds
    # 256 MiB, so it takes the kernel a while to tear it down after the
    # SIGKILL (memory goes before files): agent-init must wait for the
    # group to be gone, not just signal it.
    lines, r = kill_group_run(run, tmp_path, "yes")
    assert lines == ["holder| flock ok", "holder| flock ok"], r.diag()


def test_kill_group_no_leaves_child(run, tmp_path):
    # The same with kill_group = no: the stale child still holds the lock
    # (this shows that the test above can fail).
    lines, r = kill_group_run(run, tmp_path, "no")
    assert lines == ["holder| flock ok", "holder| flock busy"], r.diag()


# --- item 8: shutdown ----------------------------------------------------------

def test_shutdown_in_reverse_dependency_order(run, tmp_path, pid1):
    marks = tmp_path / "marks"
    conf = write_conf(tmp_path / "s.conf", """\
[init]
stop_timeout = 20s
[service a]
command = {H}/svcact onterm:%(m)s:a:0 wait
[service b]
command = {H}/svcact onterm:%(m)s:b:600 wait
after = a
[service c]
command = {H}/svcact onterm:%(m)s:c:300 wait
after = b
[service d]
command = {H}/svcact onterm:%(m)s:d:0 wait
""" % {"m": marks})
    r = run(["-c", conf], pid1=pid1)
    r.wait_event("ready")
    stop(r)
    m = read_marks(marks)
    # c first (nothing is after it), then b once c is gone, then a.
    assert mark(m, "c", "exit") < mark(m, "b", "term"), m
    assert mark(m, "b", "exit") < mark(m, "a", "term"), m
    # d is independent: it is stopped at once, with c.
    assert mark(m, "d", "term") < mark(m, "b", "term"), m
    ev = r.events()
    order = [e["service"] for e in named(ev, "service_exit")]
    assert order.index("c") < order.index("b") < order.index("a"), order


def test_shutdown_fits_in_stop_timeout(run, tmp_path, pid1):
    # A service that ignores SIGTERM with a stop_timeout of its own far
    # beyond [init] stop_timeout, plus a leftover process that ignores
    # SIGTERM too: the whole shutdown still ends within [init] stop_timeout
    # (+ the scheduling slack of a busy machine, far below the 60 s the
    # service would otherwise get).
    conf = write_conf(tmp_path / "s.conf", """\
[init]
stop_timeout = 2s
[service stubborn]
command = {H}/svcact ignterm wait
stop_timeout = 60s
[service parent]
command = {H}/svcact bg wait
kill_group = no
""")
    r = run(["-c", conf], pid1=pid1)
    r.wait_event("ready")
    bg = int(r.wait_line(re.compile(r"parent\| bg pid=(\d+)")).group(1))
    bg = r.host_pid(bg)
    r.track(bg)
    r.kill(signal.SIGTERM)
    assert r.wait(30) == 0, r.diag()
    # The leftover is gone too (as PID 1 trivially: the namespace is).
    poll(lambda: proc_state(bg) in (None, "Z"), 10, "the leftover's end")
    ev = r.events()
    shut = named(ev, "shutdown")[0]
    ex = named(ev, "service_exit", service="stubborn")
    assert ex and ex[0]["signal"] == "SIGKILL", r.diag()
    took = ts_seconds(ev[-1]) - ts_seconds(shut)
    assert took <= 2.0 + 1.0, "shutdown took %.3f s%s" % (took, r.diag())


# --- item 9: config plus -- COMMAND -------------------------------------------

def test_config_and_command_main_status(run, tmp_path):
    # The side service opens the gate once its SIGTERM handler is in
    # place; main waits for it, so the shutdown its end begins always
    # finds the handler (without the gate this raced).
    d = short_dir()
    gate = os.path.join(d, "g")
    conf = write_conf(tmp_path / "s.conf", """\
[service side]
command = {H}/svcact onterm:%s:side:0 touch:%s wait
""" % (os.path.join(d, "m"), gate))
    try:
        r = run(["-c", conf, "--", svcact(), "gate:%s" % gate, "o:hi",
                 "x:7"])
        status = r.wait()
        marks = read_marks(os.path.join(d, "m"))
    finally:
        shutil.rmtree(d, ignore_errors=True)
    assert status == 7, r.diag()
    ev = r.events()
    st = named(ev, "service_start", service="main")
    assert st, r.diag()
    assert named(ev, "service_start", service="side")
    assert ev[-1]["status"] == 7 and ev[-1]["agent_init"] == "exit"
    assert "main" in ev[-1]["reason"]
    assert "main| hi" in r.lines()
    # The side service was stopped by the shutdown the main's end began.
    assert mark(marks, "side", "term")


def test_config_and_command_main_killed_by_signal(run, tmp_path):
    conf = write_conf(tmp_path / "s.conf",
                      "[service side]\ncommand = {H}/svcact wait\n")
    r = run(["-c", conf, "--", helper("killself"), "USR1"])
    assert r.wait() == 128 + signal.SIGUSR1, r.diag()


# --- item 11: termination_log, ready_file, NOTIFY_SOCKET -----------------------

def test_termination_log_reason_and_tail(run, tmp_path):
    # A required service gives up: the reason and its last lines.
    tlog = tmp_path / "termination-log"
    conf = write_conf(tmp_path / "s.conf", """\
[init]
termination_log = %s
[service db]
command = {H}/svcact lines:40 'e:fatal: disk full' x:2
backoff = 10ms..10ms
max_restarts = 1/1m
required = yes
""" % tlog)
    r = run(["-c", conf])
    assert r.wait() == 70, r.diag()
    text = tlog.read_text()
    first = text.splitlines()[0]
    failed = named(r.events(), "service_failed", service="db")[0]
    assert first == "db: " + failed["reason"], (first, failed)
    assert "giving up" in first, first
    assert text.endswith("0000039\n0000040\nfatal: disk full\n"), text


def test_termination_log_is_bounded(run, tmp_path):
    # 50 lines of tail, 230 bytes each: the file keeps the newest lines
    # that fit in 4096 bytes (what Kubernetes reads).
    tlog = tmp_path / "termination-log"
    conf = write_conf(tmp_path / "s.conf", """\
[init]
termination_log = %s
[service db]
command = {H}/svcact longs:60:230 'e:the last line' x:2
restart = never
main = yes
""" % tlog)
    r = run(["-c", conf])
    assert r.wait() == 2, r.diag()
    data = tlog.read_bytes()
    assert 3000 < len(data) <= 4096, len(data)
    text = data.decode()
    assert text.startswith("db: "), text[:200]
    lines = text.rstrip("\n").split("\n")
    assert lines[-1] == "the last line", lines[-3:]
    assert lines[-2].startswith("0060-"), lines[-3:]
    assert lines[1].startswith("00"), lines[:3]


def test_termination_log_main_failure_reason(run, tmp_path):
    tlog = tmp_path / "termination-log"
    conf = write_conf(tmp_path / "s.conf", """\
[init]
termination_log = %s
[service app]
command = {H}/svcact 'e:cannot open /data' x:3
main = yes
""" % tlog)
    r = run(["-c", conf])
    assert r.wait() == 3, r.diag()
    text = tlog.read_text()
    assert text.startswith("app: "), text
    assert text.endswith("cannot open /data\n"), text
    # The reason says how it ended, not just that it did.
    assert text.splitlines()[0] == "app: exited with code 3", text


def test_required_service_failing_with_restart_never_shuts_down(run,
                                                                tmp_path):
    conf = write_conf(tmp_path / "s.conf", """\
[service db]
command = {H}/svcact 'e:fatal: disk full' x:2
restart = never
required = yes
[service app]
command = {H}/svcact wait
""")
    r = run(["-c", conf])
    assert r.wait() == 70, r.diag()
    ev = r.events()
    failed = named(ev, "service_failed", service="db")
    assert failed and failed[0]["tail"] == ["fatal: disk full"], r.diag()
    assert index(ev, "service_failed") < index(ev, "shutdown")


def test_ready_file_created_at_ready_removed_at_shutdown(run, tmp_path):
    rf = tmp_path / "ready"
    gate = tmp_path / "gate"
    conf = write_conf(tmp_path / "s.conf", """\
[init]
ready_file = %s
[service a]
command = {H}/svcact wait
ready = file:%s
""" % (rf, gate))
    r = run(["-c", conf])
    r.wait_event("service_start", service="a")
    assert_never(r, "ready", 0.5)
    assert not rf.exists()
    touch(gate)
    r.wait_event("ready")
    poll(rf.exists, what="the ready file")
    stop(r)
    assert not rf.exists()


def test_notify_socket_of_our_own(run, tmp_path):
    # Our supervisor's NOTIFY_SOCKET gets STATUS= while waiting, READY=1 at
    # ready and STOPPING=1 at shutdown; it never leaks to a service.
    path = str(tmp_path / "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(0.2)
    got = []

    def drain():
        while True:
            try:
                got.append(s.recv(4096).decode())
            except socket.timeout:
                return

    def has(text):
        """A line of a datagram so far starts with text."""
        drain()
        return any(line.startswith(text)
                   for msg in got for line in msg.split("\n"))

    gate = tmp_path / "gate"
    conf = write_conf(tmp_path / "s.conf", """\
[service a]
command = {H}/svcact env:NOTIFY_SOCKET wait
ready = file:%s
""" % gate)
    try:
        r = run(["-c", conf], env={"NOTIFY_SOCKET": path})
        r.wait_event("service_start", service="a")
        poll(lambda: has("STATUS=waiting"), what="STATUS= while waiting",
             diag=lambda: repr(got) + r.diag())
        assert not has("READY=1"), got
        touch(gate)
        r.wait_event("ready")
        poll(lambda: has("READY=1"), what="READY=1",
             diag=lambda: repr(got) + r.diag())
        assert not has("STOPPING=1"), got
        stop(r)
        poll(lambda: has("STOPPING=1"), what="STOPPING=1",
             diag=lambda: repr(got) + r.diag())
        assert "a| env NOTIFY_SOCKET unset" in r.lines(), r.diag()
    finally:
        s.close()


# --- further service keys -----------------------------------------------------

def test_our_own_watchdog_variables_never_reach_a_service(run, tmp_path):
    # WATCHDOG_USEC and WATCHDOG_PID given to agent-init by its own
    # supervisor (systemd) are ours, like NOTIFY_SOCKET: a service that
    # inherited them would take that watchdog for its own.
    conf = write_conf(tmp_path / "w.conf", """\
[service plain]
command = {H}/svcact env:WATCHDOG_USEC env:WATCHDOG_PID wait
""")
    r = run(["-c", conf], env={"WATCHDOG_USEC": "5000000",
                               "WATCHDOG_PID": "1"})
    r.wait_line("plain| env WATCHDOG_PID unset")
    assert "plain| env WATCHDOG_USEC unset" in r.lines(), r.diag()
    r.kill(15)
    assert r.wait() == 0, r.diag()


def test_stop_signal_and_max_runtime(run, tmp_path):
    # stop_signal is what a shutdown sends; max_runtime stops a service
    # after that long, for good (no restart).
    conf = write_conf(tmp_path / "s.conf", """\
[service budget]
command = {H}/sigrec -T 60
max_runtime = 700ms
restart = always
[service polite]
command = {H}/sigrec -T 60
stop_signal = INT
""")
    r = run(["-c", conf])
    ex = r.wait_event("service_exit", service="budget")
    assert ex.get("signal") == "SIGTERM", ex
    assert ex["uptime_ms"] >= 650, ex
    assert_never(r, "service_restart", 0.5, service="budget")
    r.kill(signal.SIGTERM)
    assert r.wait() == 0, r.diag()
    ex = named(r.events(), "service_exit", service="polite")[0]
    assert ex.get("signal") == "SIGINT", ex


def test_env_env_clear_and_shell(run, tmp_path):
    conf = write_conf(tmp_path / "s.conf", """\
[service added]
command = {H}/svcact env:GREETING env:HOME x:0
env = GREETING=hello 'SPACED=a b'
[service clear]
command = {H}/svcact env:GREETING env:HOME env:SPACED x:0
env = GREETING=bye 'SPACED=a b'
env_clear = yes
[service sh]
command = echo "shell:$GREETING" > /dev/null; echo shell-ran-$((6*7))
shell = yes
env = GREETING=x
""")
    r = run(["-c", conf], env={"HOME": "/home/test"})
    # No main service and every service ended: agent-init is done.
    assert r.wait() == 0, r.diag()
    lines = r.lines()
    for want in ("added| env GREETING=hello", "added| env HOME=/home/test",
                 "clear| env GREETING=bye", "clear| env HOME unset",
                 "clear| env SPACED=a b", "sh| shell-ran-42"):
        assert want in lines, (want, lines)


def test_ready_once_keeps_satisfying_after_while_restarting(run, tmp_path):
    # a is ready, then crashes and sits in a long backoff; c, after a and
    # held by its own gate until then, still starts: a was ready once.
    # The crash file lives in a short directory: the command line names
    # it twice and an inih line has at most 198 characters, whatever the
    # length of the checkout's path.
    d = short_dir()
    crash, gate = os.path.join(d, "crash"), tmp_path / "gate"
    conf = write_conf(tmp_path / "s.conf", """\
[service a]
command = {H}/svcact gate:%s rm:%s x:1
backoff = 30s..30s
[service b]
command = {H}/svcact gate:%s wait
ready = file:%s
[service c]
command = {H}/svcact o:c-started wait
after = a b
""" % (crash, crash, gate, gate))
    r = run(["-c", conf])
    r.wait_event("service_ready", service="a")
    touch(crash)
    r.wait_event("service_restart", service="a")
    touch(gate)
    r.wait_event("service_start", service="c")
    r.wait_line("c| c-started")
    stop(r)
    shutil.rmtree(d)
