"""Readiness probes (SPEC section 7; issue 3 items 1 and 2).

Every probe kind gets a test of the same shape: the service starts, the
probe's condition is held false by a gate the test controls (a file that
the service, or the probe itself, waits for), and for a while neither
`service_ready` nor `ready` may appear; then the test opens the gate and
both must follow.  tcp and http probes run in a network namespace of the
run's own (suputil.new_netns), so they only ever touch its loopback.
"""
import os
import signal
import subprocess

import pytest

from harness import AGENT_INIT, clean_env
from suputil import (assert_never, index, named, new_netns, short_dir, touch,
                     wait_waiting, write_conf)

# How long the gate stays shut while we watch that nothing gets ready: the
# probes retry at 10 ms doubling to 500 ms, so they try several times.
CLOSED = 1.2


def gated(run, tmp_path, service, gate, netns=False, reason=None,
          extra_services=""):
    """Run the config with [service svc] = SERVICE; the gate file GATE is
    shut: no ready while it is (and a `waiting` reason containing REASON
    if given); then open it: service_ready and ready follow.  Returns the
    run (still running)."""
    conf = write_conf(tmp_path / "p.conf",
                      "[service svc]\n" + service + extra_services)
    r = run(["-c", conf], preexec_fn=new_netns if netns else None)
    r.wait_event("service_start", service="svc")
    if reason:
        wait_waiting(r, "svc", reason)
    assert_never(r, "service_ready", CLOSED, service="svc")
    assert not named(r.events(), "ready"), r.diag()
    touch(gate)
    ready = r.wait_event("service_ready", service="svc")
    r.wait_event("ready")
    ev = r.events()
    assert index(ev, "service_ready", service="svc") < index(ev, "ready")
    assert ready["elapsed_ms"] >= CLOSED * 1000 - 50, ready
    return r


def stop(r):
    r.kill(15)
    assert r.wait() == 0, r.diag()


def test_probe_started_is_ready_at_exec(run, tmp_path):
    conf = write_conf(tmp_path / "p.conf",
                      "[service svc]\ncommand = {H}/svcact wait\n"
                      "ready = started\n")
    r = run(["-c", conf])
    r.wait_event("ready")
    ev = r.events()
    assert index(ev, "service_start", service="svc") < \
        index(ev, "service_ready", service="svc") < index(ev, "ready")
    stop(r)


def test_probe_started_not_ready_when_exec_fails(run, tmp_path):
    # `started` means exec'd: a command that is not there never is.
    conf = write_conf(tmp_path / "p.conf",
                      "[service svc]\ncommand = %s/nonexistent\n"
                      "ready = started\n"
                      "[service other]\ncommand = {H}/svcact wait\n"
                      % tmp_path)
    r = run(["-c", conf])
    failed = r.wait_event("service_failed", service="svc")
    assert "not found" in failed["reason"].lower() or \
        "no such file" in failed["reason"].lower(), failed
    assert_never(r, "ready", 0.5)
    assert not named(r.events(), "service_ready", service="svc")
    stop(r)


def test_probe_file(run, tmp_path):
    gate = tmp_path / "ready.flag"
    r = gated(run, tmp_path,
              "command = {H}/svcact wait\nready = file:%s\n" % gate, gate,
              reason="does not exist yet")
    stop(r)


@pytest.mark.parametrize("stream", ["O", "E"], ids=["stdout", "stderr"])
def test_probe_log_line_split_across_two_writes(run, tmp_path, stream):
    # "Gateway lis" is written first, without a newline; the rest of the
    # line comes after the gate opens (a pause of our choosing): only the
    # whole line may match.
    gate = tmp_path / "gate"
    lower = stream.lower()
    r = gated(run, tmp_path,
              "command = {H}/svcact %s:Gateway_lis gate:%s "
              "%s:tening_on_8080 wait\n"
              "ready = log:Gateway_listening\n" % (stream, gate, lower),
              gate, reason="no output line contains 'Gateway_listening'")
    stop(r)
    out = r.stdout() if stream == "O" else r.stderr()
    assert "svc| Gateway_listening_on_8080\n" in out, r.diag()


def test_probe_log_line_before_the_exec_report_not_pid1(tmp_path):
    # A service that prints its line at once: agent-init may read it
    # before the report that the exec succeeded, that is before the
    # probe starts.  It used to be relayed unseen, and the service was
    # never ready (1 start in 10 to 1 in 5 here, more under load); each
    # start must get ready at its first attempt.  agent-init runs as a
    # plain child (200 starts as PID 1 would cost more), so the aarch64
    # run under qemu-user, which refuses the subreaper, leaves it out.
    conf = write_conf(tmp_path / "e.conf", """\
[service side]
command = {H}/saywait up
ready = log:up
ready_timeout = 2s
restart = never
[service main]
command = {H}/exitwith 0
after = side
main = yes
""")
    out = tmp_path / "out"
    for i in range(200):
        with open(str(out), "w") as f:
            p = subprocess.run([AGENT_INIT, "-c", conf], stdout=f,
                               stderr=subprocess.STDOUT, env=clean_env(),
                               timeout=30)
        text = out.read_text()
        assert p.returncode == 0, (i, text[-2000:])
        assert '"agent_init":"ready"' in text, (i, text[-2000:])


def test_probe_log_second_log_probe_needs_its_own_line(run, tmp_path):
    gate = tmp_path / "gate"
    conf = write_conf(tmp_path / "t.conf", """\
[service svc]
command = {H}/svcact o:first gate:%s o:second s:60000
ready = log:first
ready = log:second
""" % gate)
    r = run(["-c", conf])
    r.wait_event("service_start", service="svc")
    wait_waiting(r, "svc", "'second'")
    assert_never(r, "service_ready", CLOSED, service="svc")
    touch(gate)
    r.wait_event("service_ready", service="svc")


def test_probe_log_no_match_on_other_lines(run, tmp_path):
    # Lines that contain only part of the text do not count.
    gate = tmp_path / "gate"
    r = gated(run, tmp_path,
              "command = {H}/svcact o:Gateway o:listening "
              "'o:Gateway listen' gate:%s 'o:now Gateway listening!' wait\n"
              "ready = log:Gateway listening\n" % gate, gate)
    stop(r)


def test_probe_tcp(run, tmp_path):
    gate = tmp_path / "gate"
    r = gated(run, tmp_path,
              "command = {H}/svcact gate:%s tcp:8080 wait\n"
              "ready = tcp:127.0.0.1:8080\n" % gate, gate, netns=True,
              reason="connect: Connection refused")
    stop(r)


def test_probe_tcp_localhost_name(run, tmp_path):
    gate = tmp_path / "gate"
    r = gated(run, tmp_path,
              "command = {H}/svcact gate:%s tcp:8081 wait\n"
              "ready = tcp:localhost:8081\n" % gate, gate, netns=True)
    stop(r)


def test_probe_http_needs_2xx(run, tmp_path):
    # The server answers 503 until the gate opens, then 200.
    gate = tmp_path / "gate"
    r = gated(run, tmp_path,
              "command = {H}/svcact http:8080:%s wait\n"
              "ready = http:127.0.0.1:8080/health\n" % gate, gate,
              netns=True, reason="HTTP status 503")
    stop(r)


def test_probe_unix_http(run, tmp_path):
    d = short_dir()
    try:
        sock = os.path.join(d, "api.sock")
        gate = tmp_path / "gate"
        r = gated(run, tmp_path,
                  "command = {H}/svcact uhttp:%s:%s wait\n"
                  "ready = unix-http:%s:/_ping\n" % (sock, gate, sock),
                  gate, reason="HTTP status 503")
        stop(r)
    finally:
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))
        os.rmdir(d)


def test_probe_notify_with_status(run, tmp_path):
    # STATUS= before READY=1 shows in the `waiting` reason (more than 1 s
    # of waiting), READY=1 makes it ready.
    gate = tmp_path / "gate"
    r = gated(run, tmp_path,
              "command = {H}/svcact 'notify:STATUS=warming up the cache' "
              "gate:%s 'notify:READY=1\\nSTATUS=serving' wait\n"
              "ready = notify\n" % gate, gate,
              reason="STATUS=warming up the cache")
    stop(r)


def test_probe_notify_socket_is_the_services_own(run, tmp_path):
    # A notify service gets a NOTIFY_SOCKET; a service without `ready =
    # notify` gets none (agent-init's own never leaks, see
    # test_supervisor.py for that case).
    conf = write_conf(tmp_path / "p.conf",
                      "[service a]\n"
                      "command = {H}/svcact env:NOTIFY_SOCKET notify:READY=1 "
                      "wait\nready = notify\n"
                      "[service b]\ncommand = {H}/svcact env:NOTIFY_SOCKET "
                      "wait\n")
    r = run(["-c", conf])
    r.wait_event("ready")
    stop(r)
    lines = r.lines()
    assert "b| env NOTIFY_SOCKET unset" in lines, r.diag()
    assert any(l.startswith("a| env NOTIFY_SOCKET=") for l in lines), \
        r.diag()


def test_probe_exec(run, tmp_path):
    gate = tmp_path / "gate"
    r = gated(run, tmp_path,
              "command = {H}/svcact wait\n"
              "ready = exec:/usr/bin/test -e %s\n" % gate, gate,
              reason="exec: exited with status 1")
    stop(r)


def test_probes_all_pass_in_order(run, tmp_path):
    # Two probes: the second is tried only once the first passed, and the
    # service is ready only when both did.
    g1, g2 = tmp_path / "g1", tmp_path / "g2"
    conf = write_conf(tmp_path / "p.conf",
                      "[service svc]\n"
                      "command = {H}/svcact http:8080:%s wait\n"
                      "ready = file:%s\n"
                      "ready = http:127.0.0.1:8080/\n" % (g2, g1))
    r = run(["-c", conf], preexec_fn=new_netns)
    wait_waiting(r, "svc", "does not exist yet")
    assert_never(r, "service_ready", CLOSED, service="svc")
    touch(g1)
    wait_waiting(r, "svc", "HTTP status 503")
    assert_never(r, "service_ready", CLOSED, service="svc")
    assert not named(r.events(), "ready")
    touch(g2)
    r.wait_event("service_ready", service="svc")
    r.wait_event("ready")
    stop(r)


def test_ready_waits_for_every_service(run, tmp_path):
    # Two independent services, one slow: `ready` only after both.
    gate = tmp_path / "gate"
    r = gated(run, tmp_path,
              "command = {H}/svcact wait\nready = file:%s\n" % gate, gate,
              extra_services="[service quick]\ncommand = {H}/svcact wait\n")
    ev = r.events()
    assert index(ev, "service_ready", service="quick") < \
        index(ev, "service_ready", service="svc") < index(ev, "ready")
    assert sorted(named(ev, "ready")[0]["services"]) == ["quick", "svc"]
    stop(r)


# --- ready_timeout (item 2) -------------------------------------------------

def test_ready_timeout_restart_never_fails(run, tmp_path):
    conf = write_conf(tmp_path / "p.conf",
                      "[service svc]\ncommand = {H}/svcact wait\n"
                      "ready = file:%s/never\nready_timeout = 700ms\n"
                      "restart = never\n"
                      "[service other]\ncommand = {H}/svcact wait\n"
                      % tmp_path)
    r = run(["-c", conf])
    failed = r.wait_event("service_failed", service="svc")
    assert "not ready within 700 ms" in failed["reason"], failed
    assert "does not exist yet" in failed["reason"], failed
    ev = r.events()
    # The start that did not get ready was stopped: its process is gone.
    ex = named(ev, "service_exit", service="svc")
    assert len(ex) == 1 and ex[0].get("signal") == "SIGTERM", ex
    assert index(ev, "service_exit", service="svc") < \
        index(ev, "service_failed", service="svc")
    assert not named(ev, "service_restart"), ev
    assert not named(ev, "service_ready", service="svc")
    assert_never(r, "ready", 0.3)
    stop(r)


def test_ready_timeout_restarts_then_gives_up(run, tmp_path):
    # With restart = on-failure, a start that is not ready in time counts
    # as a failed start: restarted, and given up after max_restarts.
    conf = write_conf(tmp_path / "p.conf",
                      "[service svc]\ncommand = {H}/svcact wait\n"
                      "ready = file:%s/never\nready_timeout = 300ms\n"
                      "restart = on-failure\nbackoff = 50ms..100ms\n"
                      "max_restarts = 2/1m\nrequired = yes\n" % tmp_path)
    r = run(["-c", conf], env={"AGENT_INIT_JITTER_SEED": "1"})
    assert r.wait() == 70, r.diag()
    ev = r.events()
    assert len(named(ev, "service_start", service="svc")) == 3, r.diag()
    assert len(named(ev, "service_restart", service="svc")) == 2, r.diag()
    failed = named(ev, "service_failed", service="svc")
    assert len(failed) == 1, r.diag()
    assert "giving up" in failed[0]["reason"], failed
    assert "not ready within 300 ms" in failed[0]["reason"], failed
    assert not named(ev, "ready")


# --- a planted /etc/hosts (issue 13 item 2) -----------------------------------

CLONE_NEWNS = 0x00020000
MS_REC, MS_PRIVATE, MS_BIND = 0x4000, 1 << 18, 4096


def hosts_is(path):
    """preexec_fn: a network namespace of our own (only lo), and a mount
    namespace in which /etc/hosts is PATH."""
    def pre():
        import ctypes
        new_netns()
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWNS) != 0:
            raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
        if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
            raise OSError(ctypes.get_errno(), "mount --make-rprivate /")
        if libc.mount(path.encode(), b"/etc/hosts", None, MS_BIND,
                      None) != 0:
            raise OSError(ctypes.get_errno(), "bind %s" % path)
    return pre


def test_a_fifo_planted_at_etc_hosts_never_blocks_pid1(run, tmp_path):
    # A service that can write /etc may put a FIFO at /etc/hosts.  A tcp:
    # probe with a host name reads that file: it must refuse the FIFO at
    # once (the reason says so) rather than wait for a writer, and PID 1
    # keeps answering: another service gets ready, SIGTERM shuts down.
    fifo = str(tmp_path / "hosts-fifo")
    os.mkfifo(fifo)
    conf = write_conf(tmp_path / "p.conf", """\
[service web]
command = {H}/svcact wait
ready = tcp:gw.test:8080
[service other]
command = {H}/svcact wait
ready = file:%s
""" % (tmp_path / "gate"))
    r = run(["-c", conf], preexec_fn=hosts_is(fifo))
    r.wait_event("service_start", service="web")
    wait_waiting(r, "web", "/etc/hosts: not a regular file")
    touch(tmp_path / "gate")
    r.wait_event("service_ready", service="other")
    r.kill(signal.SIGTERM)
    assert r.wait() == 0, r.diag()


def test_probe_host_from_etc_hosts(run, tmp_path):
    # The same probe with a real hosts file: gw.test is 127.0.0.1 there.
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n127.0.0.1 gw.test gw\n")
    conf = write_conf(tmp_path / "p.conf", """\
[service web]
command = {H}/svcact tcp:8080 wait
ready = tcp:gw.test:8080
[service nohost]
command = {H}/svcact wait
ready = tcp:missing.test:8080
""")
    r = run(["-c", conf], preexec_fn=hosts_is(str(hosts)))
    r.wait_event("service_ready", service="web")
    wait_waiting(r, "nohost", "cannot resolve 'missing.test' without DNS")
    r.kill(signal.SIGTERM)
    assert r.wait() == 0, r.diag()
