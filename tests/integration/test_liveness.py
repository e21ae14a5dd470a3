"""Liveness after ready (issue 16, SPEC section 14): health probes, the
sd_notify watchdog, EXTEND_TIMEOUT_USEC and STATUS=.

agent-init runs as PID 1 of its own PID namespace, and, where a probe
talks TCP, in a network namespace of its own (suputil.new_netns) so that
it only touches a loopback nobody else shares.  The services are
tests/helpers/svcact: its HTTP listener stops answering when the process
is stopped with SIGSTOP (the kernel still completes the TCP handshake, so
the http probe connects and then waits for a reply that never comes),
and it sends WATCHDOG=1 for as long as the test tells it to.

Every wait is a poll with a deadline; "nothing happens" is checked by
watching for a while (assert_never), never by a sleep and an assert.
"""
import json
import os
import shutil
import signal

import pytest

from harness import poll, proc_state
from suputil import (agent, assert_never, index, named, new_netns,
                     short_dir, write_conf)


@pytest.fixture
def sockdir():
    d = short_dir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


HTTP_HEALTH = """\
[service web]
command = {H}/svcact http:8080 wait
ready = http:127.0.0.1:8080/
health = http:127.0.0.1:8080/
health_interval = 200ms
health_timeout = 300ms
health_failures = 2
"""


def start(run, tmp_path, text, netns=True, env=None):
    conf = write_conf(tmp_path / "l.conf", text)
    return run(["-c", conf], preexec_fn=new_netns if netns else None,
               env=env)


def stop(r, status=0):
    r.kill(signal.SIGTERM)
    assert r.wait() == status, r.diag()


def service_pid(r, name, attempt=1):
    """The host pid of a service's run (from its service_start)."""
    st = r.wait_event("service_start", service=name, attempt=attempt)
    return r.host_pid(st["pid"])


def status(sock, *extra):
    return agent(["status", "--socket", sock] + list(extra))


def service_status(sock, name):
    st = json.loads(status(sock).stdout)
    return {s["name"]: s for s in st["services"]}[name]


# --- health probes -----------------------------------------------------------

def test_stopped_service_is_unhealthy_and_restarted(run, tmp_path):
    r = start(run, tmp_path, HTTP_HEALTH)
    r.wait_event("ready")
    pid = service_pid(r, "web")
    # Healthy while it answers: several rounds pass, nothing happens.
    assert_never(r, "service_unhealthy", 1.0)
    os.kill(pid, signal.SIGSTOP)
    bad = r.wait_event("service_unhealthy", service="web")
    assert bad["source"] == "health" and bad["action"] == "restart", bad
    assert bad["failures"] == 2, bad
    assert "http:127.0.0.1:8080/" in bad["reason"], bad
    assert "no HTTP reply within 300 ms" in bad["reason"], bad
    # Stopped, it could not act on SIGTERM: SIGCONT follows, and it dies
    # of the SIGTERM at once rather than of SIGKILL 5 s later.
    ex = r.wait_event("service_exit", service="web")
    assert ex.get("signal") == "SIGTERM", ex
    r.wait_event("service_restart", service="web")
    again = r.wait_event("service_start", service="web", attempt=2)
    r.wait_event("service_ready", service="web", pid=again["pid"])
    ev = r.events()
    assert index(ev, "service_unhealthy") < index(ev, "service_exit") < \
        index(ev, "service_restart") < \
        index(ev, "service_start", service="web", attempt=2)
    assert proc_state(pid) is None, "the stopped process is still there"
    # The new run answers: healthy, no second restart.
    assert_never(r, "service_start", 1.0, service="web", attempt=3)
    stop(r)


def test_unhealthy_ignore_reports_and_status_follows(run, tmp_path, sockdir):
    # on_unhealthy = ignore: only events; `status --quiet` (the Docker
    # HEALTHCHECK) fails while unhealthy and passes again after.
    sock = os.path.join(sockdir, "ctl.sock")
    r = start(run, tmp_path, "[init]\ncontrol_socket = %s\n" % sock +
              HTTP_HEALTH.replace("health_failures = 2",
                                  "health_failures = 1\n"
                                  "on_unhealthy = ignore"))
    r.wait_event("ready")
    pid = service_pid(r, "web")
    poll(lambda: status(sock, "--quiet").returncode == 0,
         what="status --quiet 0 while healthy", diag=r.diag)
    assert service_status(sock, "web")["health"] == "healthy"
    os.kill(pid, signal.SIGSTOP)
    bad = r.wait_event("service_unhealthy", service="web")
    assert bad["action"] == "ignore" and bad["failures"] == 1, bad
    q = poll(lambda: status(sock, "--quiet").returncode == 1,
             what="status --quiet 1 while unhealthy", diag=r.diag)
    assert q
    s = status(sock)
    assert s.returncode == 1 and s.stdout, (s.stdout, s.stderr)
    st = json.loads(s.stdout)
    assert st["ready"] is True and st["healthy"] is False, st
    web = st["services"][0]
    assert web["state"] == "ready" and web["health"] == "unhealthy", web
    assert "no HTTP reply" in web["health_reason"], web
    assert web["health_failures"] >= 1, web
    # Nothing is done to it: no exit, no restart.
    assert_never(r, "service_exit", 0.8, service="web")
    assert proc_state(pid) == "T"
    os.kill(pid, signal.SIGCONT)
    good = r.wait_event("service_healthy", service="web")
    assert good["pid"] == bad["pid"] and good["unhealthy_ms"] > 0, good
    poll(lambda: status(sock, "--quiet").returncode == 0,
         what="status --quiet 0 again", diag=r.diag)
    assert service_status(sock, "web")["health"] == "healthy"
    assert not named(r.events(), "service_exit")
    stop(r)


def test_exec_health_probe_killed_at_its_timeout(run, tmp_path):
    # An exec probe that hangs is killed at health_timeout (with its
    # group) and reaped: hanging probes never pile up.
    r = start(run, tmp_path, """\
[service web]
command = {H}/svcact wait
health = exec:{H}/svcact s:30000
health_interval = 100ms
health_timeout = 200ms
health_failures = 3
on_unhealthy = ignore
""", netns=False)
    r.wait_event("ready")
    bad = r.wait_event("service_unhealthy", service="web")
    assert "exec:" in bad["reason"] and \
        "still running after 200 ms (killed)" in bad["reason"], bad

    def probes():
        from harness import descendants, _read
        n = 0
        for p in descendants(r.init_pid()):
            cmd = (_read("/proc/%d/cmdline" % p) or "").split("\0")
            if "s:30000" in cmd and proc_state(p) not in (None, "Z"):
                n += 1
        return n
    # Three rounds ran and timed out already; at most the one under way
    # is alive at any time.
    for _ in range(20):
        assert probes() <= 1, r.diag()
        poll(lambda: True, 0.05)
    stop(r)


def test_tcp_health_probe_passes_while_port_listens(run, tmp_path):
    # A tcp probe proves the port listens, no more: the kernel completes
    # the handshake for a stopped process (this is why an http probe is
    # the one that finds a hung service; the README says so).
    r = start(run, tmp_path, HTTP_HEALTH.replace(
        "health = http:127.0.0.1:8080/", "health = tcp:127.0.0.1:8080"))
    r.wait_event("ready")
    os.kill(service_pid(r, "web"), signal.SIGSTOP)
    assert_never(r, "service_unhealthy", 1.5)
    stop(r)


# --- the watchdog ------------------------------------------------------------

def test_watchdog_silence_restarts(run, tmp_path):
    # WATCHDOG=1 every 100 ms for a while, then silence: unhealthy once
    # `watchdog` passed without one, and restarted.
    r = start(run, tmp_path, """\
[service dog]
command = {H}/svcact env:WATCHDOG_USEC env:WATCHDOG_PID pid \
notify:READY=1 ping:100:10 wait
ready = notify
watchdog = 700ms
""", netns=False)
    r.wait_event("service_ready", service="dog")
    bad = r.wait_event("service_unhealthy", service="dog")
    assert bad["source"] == "watchdog" and bad["action"] == "restart", bad
    assert "no WATCHDOG=1 within 700 ms" in bad["reason"], bad
    r.wait_event("service_restart", service="dog")
    r.wait_event("service_start", service="dog", attempt=2)
    # The silence came after the last WATCHDOG=1, not before it.
    out = r.stdout()
    assert out.index("dog| ping done") < out.index('"service_unhealthy"'), \
        r.diag()
    # The variables of sd_watchdog_enabled(3): the period in us, and the
    # pid of the process that is to send.
    lines = r.lines()
    assert "dog| env WATCHDOG_USEC=700000" in lines, r.diag()
    me = [l for l in lines if l.startswith("dog| pid=")][0]
    pid = me.split()[1].split("=")[1]
    assert "dog| env WATCHDOG_PID=%s" % pid in lines, r.diag()
    stop(r)


def test_watchdog_never_sent(run, tmp_path):
    # A service that never sends WATCHDOG=1 is found out one period after
    # ready, and the reason says it sent none at all.
    r = start(run, tmp_path, """\
[service dog]
command = {H}/svcact wait
watchdog = 300ms
max_restarts = 1/1m
backoff = 10ms..10ms
required = yes
""", netns=False)
    assert r.wait() == 70, r.diag()
    ev = r.events()
    bad = named(ev, "service_unhealthy", service="dog")
    assert len(bad) == 2 and all(b["source"] == "watchdog" for b in bad), ev
    assert "none at all" in bad[0]["reason"], bad
    failed = named(ev, "service_failed", service="dog")[0]
    assert "giving up" in failed["reason"], failed
    assert "unhealthy: watchdog" in failed["reason"], failed


def test_watchdog_variables_are_the_services_own(run, tmp_path):
    # agent-init's own WATCHDOG_* (from its own supervisor) never reach a
    # service; a service without `watchdog` gets none, and no
    # NOTIFY_SOCKET either.
    r = start(run, tmp_path, """\
[service plain]
command = {H}/svcact env:WATCHDOG_USEC env:WATCHDOG_PID env:NOTIFY_SOCKET \
wait
""", netns=False, env={"WATCHDOG_USEC": "5000000", "WATCHDOG_PID": "1"})
    r.wait_line("plain| env NOTIFY_SOCKET unset")
    assert "plain| env WATCHDOG_USEC unset" in r.lines(), r.diag()
    assert "plain| env WATCHDOG_PID unset" in r.lines(), r.diag()
    stop(r)


def test_watchdog_from_another_group_does_not_count(run, tmp_path):
    # Whose WATCHDOG=1 counts: a process of the service's own group (the
    # rule of READY=1).  Another service that learned the socket's name
    # (same uid, its own group) keeps nothing alive.
    r = start(run, tmp_path, """\
[service dog]
command = echo "$NOTIFY_SOCKET" > addr; exec {H}/svcact notify:READY=1 wait
shell = yes
workdir = %s
ready = notify
watchdog = 500ms
on_unhealthy = ignore
[service stranger]
command = while [ ! -s addr ]; do sleep 0.05; done; \
NOTIFY_SOCKET=$(cat addr) exec {H}/svcact ping:50:200 wait
shell = yes
workdir = %s
""" % (tmp_path, tmp_path), netns=False)
    r.wait_event("service_ready", service="dog")
    bad = r.wait_event("service_unhealthy", service="dog")
    assert bad["source"] == "watchdog", bad
    # The stranger was still sending (for 10 s) when dog was found
    # silent.
    assert "stranger| ping done" not in r.lines(), r.diag()
    stop(r)


# --- EXTEND_TIMEOUT_USEC and STATUS= -----------------------------------------

def test_extend_timeout_during_start(run, tmp_path):
    # ready_timeout is 500 ms; the service asks for 5 s more and is ready
    # after 1.5 s: a start that took long, not a failed one.
    r = start(run, tmp_path, """\
[service slow]
command = {H}/svcact notify:EXTEND_TIMEOUT_USEC=5000000 s:1500 \
notify:READY=1 wait
ready = notify
ready_timeout = 500ms
restart = never
""", netns=False)
    ready = r.wait_event("service_ready", service="slow")
    assert ready["elapsed_ms"] >= 1500, ready
    ev = r.events()
    assert not named(ev, "service_exit") and not named(ev, "service_failed")
    stop(r)


def test_extend_timeout_runs_out(run, tmp_path):
    # An extension is a new deadline, not a pass: past it, the start
    # failed, and the reason says why.
    r = start(run, tmp_path, """\
[service slow]
command = {H}/svcact notify:EXTEND_TIMEOUT_USEC=900000 wait
ready = notify
ready_timeout = 300ms
restart = never
[service other]
command = {H}/svcact wait
""", netns=False)
    failed = r.wait_event("service_failed", service="slow")
    assert "nor within 900 ms of its last EXTEND_TIMEOUT_USEC" in \
        failed["reason"], failed
    ex = named(r.events(), "service_exit", service="slow")[0]
    assert ex["uptime_ms"] >= 900, ex
    stop(r)


def test_status_text_in_status(run, tmp_path, sockdir):
    sock = os.path.join(sockdir, "ctl.sock")
    r = start(run, tmp_path, """\
[init]
control_socket = %s
[service api]
command = {H}/svcact 'notify:READY=1\\nSTATUS=serving 3 clients' wait
ready = notify
""" % sock, netns=False)
    r.wait_event("ready")
    api = poll(lambda: service_status(sock, "api").get("status_text"),
               what="status_text", diag=r.diag)
    assert api == "serving 3 clients"
    # No liveness configured: no health field value.
    assert service_status(sock, "api")["health"] is None
    stop(r)


# --- configuration -------------------------------------------------------------

@pytest.mark.parametrize("value,what", [
    ("log:listening", "a log line shows once"),
    ("notify", "watchdog = DURATION"),
    ("started", "always passes"),
])
def test_health_probe_kinds_that_cannot_fail(tmp_path, value, what):
    conf = write_conf(tmp_path / "bad.conf",
                      "[service a]\ncommand = /bin/true\nhealth = %s\n"
                      % value)
    r = agent(["check-config", conf])
    assert r.returncode == 78, (r.stdout, r.stderr)
    assert r.stderr.startswith("%s:3: health: '%s': " % (conf, value)), \
        r.stderr
    assert what in r.stderr and r.stderr.count("\n") == 1, r.stderr


def test_unhealthy_stop_is_the_operators_stop(run, tmp_path, sockdir):
    # on_unhealthy = stop: service_unhealthy (action stop), then the same
    # stop as `ctl stop`: the service ends `stopped`, is not restarted
    # whatever `restart` says, and `ctl start` brings it back.
    sock = os.path.join(sockdir, "ctl.sock")
    r = start(run, tmp_path, "[init]\ncontrol_socket = %s\n" % sock +
              HTTP_HEALTH.replace("health_failures = 2",
                                  "health_failures = 1\n"
                                  "on_unhealthy = stop\nrestart = always") +
              "[service main]\ncommand = /bin/sleep 600\nmain = yes\n")
    r.wait_event("ready")
    pid = service_pid(r, "web")
    os.kill(pid, signal.SIGSTOP)
    bad = r.wait_event("service_unhealthy", service="web")
    assert bad["action"] == "stop", bad
    r.wait_event("service_exit", service="web")
    poll(lambda: service_status(sock, "web")["state"] == "stopped",
         what="web stopped", diag=r.diag)
    web = service_status(sock, "web")
    assert web["reason"].startswith("unhealthy: "), web
    assert_never(r, "service_start", 0.8, service="web", attempt=2)
    assert status(sock, "--quiet").returncode == 1
    p = agent(["ctl", "--socket", sock, "start", "web"])
    assert p.returncode == 0, (p.stdout, p.stderr)
    poll(lambda: status(sock, "--quiet").returncode == 0,
         what="healthy again after ctl start", diag=r.diag)
    stop(r, 143)  # main is a plain sleep: SIGTERM ends it
