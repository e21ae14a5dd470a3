"""Fault injection (issue 7, "Fault injection and soak"): agent-init short
of file descriptors, a fork bomb under RLIMIT_NPROC, services that
misbehave (close stdout, write binary and NUL bytes, a 10 MB line, ignore
SIGTERM, exit while their probe runs), abuse of the control socket, and a
dockerd killed with SIGKILL.  In every case PID 1 survives, keeps reaping
and answering, and says why something failed."""
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from harness import children, descendants, helper, poll, proc_state
from suputil import agent, named, new_netns, short_dir, touch, write_conf
from test_dockerd import dockerd_env, dockerd_failed, dockerdir  # noqa: F401
from test_soak import fds_of


@pytest.fixture
def sockdir():
    d = short_dir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def status_of(sock):
    s = agent(["status", "--socket", sock])
    return json.loads(s.stdout) if s.stdout else {"stderr": s.stderr}


def connect(sock, data=None):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(sock)  # blocking: waits while the backlog is full
    c.settimeout(20)
    if data:
        c.sendall(data)
    return c


def recv_line(c):
    out = b""
    while not out.endswith(b"\n"):
        b = c.recv(65536)
        if not b:
            break
        out += b
    return out


# --- out of file descriptors ---------------------------------------------------

NOFILE = 24


def test_out_of_descriptors_services_fail_with_reason_pid1_survives(
        run, tmp_path, sockdir):
    # agent-init runs with RLIMIT_NOFILE = 24.  Clients of the control
    # socket that wait (wait-ready, with a service that is not ready) take
    # every descriptor left.  Then: one more client waits in the listen
    # backlog, and agent-init must not spin on it (a level-triggered
    # accept that fails with EMFILE, retried at once for ever); a service
    # that crashes cannot get pipes for its restart and fails with the
    # reason; once descriptors are free again the waiting client is
    # answered, and the shutdown is clean.
    sock = os.path.join(sockdir, "ctl.sock")
    gate, crash = tmp_path / "gate", tmp_path / "crash"
    conf = write_conf(tmp_path / "c.conf", """\
[init]
control_socket = %s
[service gated]
command = {H}/svcact wait
ready = file:%s
[service flaky]
command = {H}/svcact gate:%s x:1
backoff = 0..0
""" % (sock, gate, crash))

    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))
    r = run(["-c", conf], preexec_fn=limit)
    # Both starts done, so that no exec report pipe is still open: one
    # that closes while a client is accepted would hide the new fd from
    # the count below.
    r.wait_event("service_start", service="flaky")
    r.wait_event("service_start", service="gated")
    poll(lambda: os.path.exists(sock), what="the control socket",
         diag=r.diag)
    init = r.init_pid()
    waiters = []
    try:
        while len(fds_of(init)) < NOFILE:
            assert len(waiters) < NOFILE, fds_of(init)
            n = len(fds_of(init))
            waiters.append(connect(sock, b"wait-ready\n"))
            poll(lambda: len(fds_of(init)) > n, what="client accepted",
                 diag=r.diag)
        # Every descriptor is taken: this one stays in the backlog.
        late = connect(sock, b"status\n")
        t0 = cpu_ticks(init)
        time.sleep(1.0)
        spent = cpu_ticks(init) - t0
        # A spinning accept burns a whole CPU (100 ticks a second).
        assert spent < 20, "agent-init used %d ticks while idle" % spent
        touch(crash)
        ev = r.wait_event("service_failed", service="flaky")
        assert "output pipes" in ev["reason"] or "fork" in ev["reason"], ev
        assert "No file descriptors" in ev["reason"] or \
            "Too many open files" in ev["reason"], ev
        # Room again: the late client gets its answer.
        for c in waiters:
            c.close()
        waiters = []
        st = json.loads(recv_line(late))
        late.close()
        states = {s["name"]: s["state"] for s in st["services"]}
        assert states == {"gated": "starting", "flaky": "failed"}, st
        assert status_of(sock)["services"], r.diag()
    finally:
        for c in waiters:
            c.close()
    r.kill(signal.SIGTERM)
    assert r.wait() == 0, r.diag()
    assert r.events()[-1]["agent_init"] == "exit"


# --- fork bomb ----------------------------------------------------------------

NPROC = 60


@pytest.mark.parametrize("end", ["sigterm", "time_up"])
def test_fork_bomb_under_rlimit_nproc(run, tmp_path, sockdir, end):
    # The service drops to nobody (RLIMIT_NPROC is not enforced for root
    # with CAP_SYS_ADMIN) with RLIMIT_NPROC = 60, and forks without end;
    # processes keep exiting, so orphans keep coming to PID 1.  Meanwhile
    # agent-init reaps (the `reaped` count grows) and answers status.
    # Then either a SIGTERM shuts everything down (the bomb ignores
    # SIGTERM: SIGKILL after its stop_timeout), or the bomb's time is up
    # and agent-init, still running another service, is left with no
    # zombie and no process of the bomb.
    pub = tempfile.mkdtemp(prefix="ai-bomb-", dir="/tmp")
    os.chmod(pub, 0o777)
    marker = os.path.join(pub, "refused")
    sock = os.path.join(sockdir, "ctl.sock")
    evpath = str(tmp_path / "events")
    conf = write_conf(tmp_path / "c.conf", """\
[init]
control_socket = %s
stop_timeout = 5s
[service bomb]
command = prlimit --nproc=%d:%d -- setpriv --reuid 65534 --regid 65534 --clear-groups -- {H}/forkbomb %d %s
restart = never
stop_timeout = 1s
[service stay]
command = {H}/svcact wait
""" % (sock, NPROC, NPROC, 60 if end == "sigterm" else 4, marker))
    try:
        r = run(["-v", "-c", conf, "--events", "file:" + evpath],
                events_path=evpath)
        r.wait_line(re.compile(r"bomb\| bomb pid=\d+"))
        # The limit is reached: forks are refused.
        poll(lambda: os.path.exists(marker), what="a fork refused",
             diag=r.diag)

        def reaped():
            return r.events_text().count('"agent_init":"reaped"')
        for _ in range(3):
            n = reaped()
            poll(lambda: reaped() > n + 10, what="orphans reaped",
                 diag=r.diag)
            st = status_of(sock)
            assert {s["name"]: s["state"] for s in st["services"]} == {
                "bomb": "ready", "stay": "ready"}, st
        init = r.init_pid()
        if end == "time_up":
            ex = r.wait_event("service_exit", service="bomb", timeout=60)
            assert ex.get("code") == 0, ex
            stay = r.host_pid(named(r.events(), "service_start",
                                    service="stay")[0]["pid"])
            poll(lambda: descendants(init) == [stay], 60,
                 "every process of the bomb gone, no zombie left",
                 lambda: "%r%s" % ([(p, proc_state(p)) for p in
                                    descendants(init)], r.diag()))
        r.kill(signal.SIGTERM)
        assert r.wait(30) == 0, r.diag()
        ev = r.events()
        ex = named(ev, "service_exit", service="bomb")
        if end == "sigterm":
            assert ex and ex[0].get("signal") == "SIGKILL", ex
        assert ev[-1]["agent_init"] == "exit" and ev[-1]["status"] == 0
        print("\nfaults: fork bomb (%s); %d processes reaped"
              % (end, reaped()))
    finally:
        shutil.rmtree(pub, ignore_errors=True)


# --- services that misbehave --------------------------------------------------

def test_service_closes_stdout_early(run, tmp_path):
    conf = write_conf(tmp_path / "c.conf", """\
[service s]
command = exec 1>&-;echo 'after close' >&2;exec {H}/svcact s:200 'e:still here' x:3
shell = yes
main = yes
""")
    r = run(["-c", conf])
    assert r.wait() == 3, r.diag()
    assert "s| after close" in r.stderr() and "s| still here" in r.stderr()
    ex = named(r.events(), "service_exit", service="s")[0]
    assert ex["code"] == 3 and ex["tail"][-1] == "still here", ex


def test_binary_and_nul_bytes_escaped_in_json(run, tmp_path):
    # printf's octal escapes: NUL, 0x01, 0x1b, a lone 0xff, a quote, a
    # backslash, a tab, then valid UTF-8 (e with acute accent).
    conf = write_conf(tmp_path / "c.conf", r"""
[service bin]
command = printf 'a\000b\001c\033d\377e"f\\g\th\303\251\n'
shell = yes
main = yes
output = json
""")
    r = run(["-c", conf])
    assert r.wait() == 0, r.diag()
    raw = [l for l in r.stdout().splitlines() if '"agent_init":"log"' in l]
    assert len(raw) == 1, r.diag()
    # The bytes on the wire: every control character as \uXXXX.
    assert "\\u0000" in raw[0] and "\\u0001" in raw[0] and \
        "\\u001b" in raw[0], raw
    line = json.loads(raw[0])["line"]
    assert line == 'a\x00b\x01c\x1bd\ufffde"f\\g\th\u00e9', repr(line)


def test_ten_megabyte_line(run, tmp_path):
    n = 10 * 1024 * 1024
    conf = write_conf(tmp_path / "c.conf", """\
[service big]
command = {H}/svcact long:%d o:next
main = yes
""" % n)
    r = run(["-c", conf])
    assert r.wait(60) == 0, r.diag()
    lines = r.lines()
    assert lines[0].startswith("big| ") and lines[-1] == "big| next", \
        lines[-1:]
    body = lines[0][len("big| "):] + "".join(
        l[len("big|+ "):] for l in lines[1:-1])
    assert all(l.startswith("big|+ ") for l in lines[1:-1])
    assert len(body) == n
    want = "".join(chr(ord("a") + i % 26) for i in range(26))
    assert body == (want * (n // 26 + 1))[:n]


def test_service_ignoring_sigterm_is_killed_at_its_stop_timeout(run,
                                                                  tmp_path):
    conf = write_conf(tmp_path / "c.conf", """\
[init]
stop_timeout = 60s
[service deaf]
command = {H}/svcact ignterm pid wait
stop_timeout = 1s
""")
    r = run(["-c", conf])
    r.wait_line(re.compile(r"deaf\| pid=\d+"))
    r.wait_event("ready")
    r.kill(signal.SIGTERM)
    # Its own stop_timeout (1 s), not the whole budget (60 s), ends it.
    assert r.wait(30) == 0, r.diag()
    ev = named(r.events(), "service_exit", service="deaf")[0]
    assert ev["signal"] == "SIGKILL", ev


def test_service_exits_during_its_readiness_probe(run, tmp_path):
    # The probe (an exec probe that takes its time) is still running when
    # the service exits: the probe is abandoned and its process reaped,
    # the service restarts, nothing is left behind.
    count = tmp_path / "count"
    conf = write_conf(tmp_path / "c.conf", """\
[service quick]
command = echo x >> %s;sleep 0.2;exit 1
shell = yes
ready = exec:sleep 30
backoff = 10ms..10ms
max_restarts = 5/1m
[service stay]
command = {H}/svcact wait
""" % count)
    r = run(["-c", conf])
    init = r.init_pid()
    ev = r.wait_event("service_failed", service="quick", timeout=60)
    assert "restarted" in ev["reason"], ev
    exits = named(r.events(), "service_exit", service="quick")
    assert len(exits) == 6 and all(e["code"] == 1 for e in exits), exits
    # No probe left running, no zombie: only `stay` is left.
    stay = named(r.events(), "service_start", service="stay")[0]["pid"]
    poll(lambda: [r.host_pid(stay)] == descendants(init),
         what="no process left but stay", diag=r.diag)
    assert not named(r.events(), "service_ready", service="quick")
    st = [p for p in children(init) if proc_state(p) == "Z"]
    assert st == []
    r.kill(signal.SIGTERM)
    assert r.wait() == 0, r.diag()


# --- the control socket -------------------------------------------------------

def test_control_socket_abuse(run, tmp_path, sockdir):
    # Beyond test_control.py's garbage: a 1 MB request, half-open
    # connections (request without newline then shutdown of our side;
    # connections that never read the reply), and 100 clients at once.
    # Each gets a correct reply or one clean error line; PID 1's
    # descriptors are where they were afterwards.
    sock = os.path.join(sockdir, "ctl.sock")
    conf = write_conf(tmp_path / "c.conf", """\
[init]
control_socket = %s
[service a]
command = {H}/svcact wait
""" % sock)
    r = run(["-c", conf])
    r.wait_event("ready")
    init = r.init_pid()
    base = len(fds_of(init))

    # A huge request: one error, the connection closed.
    c = connect(sock)
    try:
        c.sendall(b"x" * (1 << 20))
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        out = recv_line(c)
        # The reply, or (our unread bytes make agent-init's close a reset)
        # an end of the connection: never a hang.
        assert out == b"" or b"too long" in out, out
    except ConnectionResetError:
        pass
    c.close()
    # Half a request, then our side shut: an error or a close, never a
    # hang of PID 1.
    c = connect(sock, b"stat")
    c.shutdown(socket.SHUT_WR)
    out = recv_line(c)
    c.close()
    assert out == b"" or "error" in json.loads(out), out
    # Requests whose replies are never read.
    for _ in range(50):
        connect(sock, b"status\n").close()
    # 100 clients at once, all connected before any reads.
    many = []
    try:
        for _ in range(100):
            many.append(connect(sock, b"status\n"))
        ok = busy = 0
        for c in many:
            reply = json.loads(recv_line(c))
            if "services" in reply:
                assert reply["services"][0]["name"] == "a", reply
                ok += 1
            else:
                assert reply == {"error": "busy"}, reply
                busy += 1
        assert ok + busy == 100 and ok >= 32, (ok, busy)
    finally:
        for c in many:
            c.close()
    poll(lambda: len(fds_of(init)) == base, what="descriptors back",
         diag=lambda: "%r%s" % (fds_of(init), r.diag()))
    assert status_of(sock)["healthy"] is True
    ev = r.events()
    assert not named(ev, "service_exit"), ev
    r.kill(signal.SIGTERM)
    assert r.wait() == 0, r.diag()
    print("\nfaults: 100 concurrent clients: %d answered, %d busy"
          % (ok, busy))


# --- dockerd killed -------------------------------------------------------------

def _dockerd_pid(init):
    for pid in descendants(init):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                if f.read().split(b"\0")[0] == b"dockerd":
                    return pid
        except FileNotFoundError:
            pass
    return None


def test_dockerd_sigkilled_restarts_with_backoff(dockerdir, run):
    # The private dockerd of test_dockerd.py (its own netns, --bridge=none)
    # is killed with SIGKILL while the agent runs: agent-init restarts it
    # after a backoff delay, the pidfile the dead one left does not stop
    # the new one, and readiness comes back; the agent itself is not
    # touched.  The pidfile is made to name a live process that is not
    # dockerd (the agent), as when the dead dockerd's pid has been reused:
    # dockerd would refuse to start ("pid file found"), so agent-init
    # removes it before the restart, with a warning.
    pidfile = os.path.join(dockerdir, "docker.pid")
    sock = "unix://%s/docker.sock" % dockerdir
    r = run(["--dockerd", "--", helper("svcact"), "pid", "wait"],
            env=dockerd_env(dockerdir), preexec_fn=new_netns)
    poll(lambda: named(r.events(), "ready") or dockerd_failed(r), 90,
         "ready", r.diag)
    assert named(r.events(), "ready"), dockerd_failed(r)
    main_pid = named(r.events(), "service_start", service="main")[0]["pid"]
    first = _dockerd_pid(r.init_pid())
    assert first, r.diag()
    with open(pidfile) as f:
        dead_ns_pid = int(f.read())
    with open(pidfile, "w") as f:
        f.write("%d\n" % main_pid)
    os.kill(first, signal.SIGKILL)
    ex = r.wait_event("service_exit", service="dockerd")
    assert ex["signal"] == "SIGKILL", ex
    rs = r.wait_event("service_restart", service="dockerd")
    assert rs["attempt"] == 2 and rs["delay_ms"] > 0, rs
    st = r.wait_event("service_start", service="dockerd", attempt=2,
                      timeout=60)
    poll(lambda: len(named(r.events(), "service_ready",
                           service="dockerd")) == 2 or dockerd_failed(r),
         90, "dockerd ready again", r.diag)
    assert not dockerd_failed(r), r.diag()
    w = [e for e in named(r.events(), "warning", what="pidfile")]
    assert len(w) == 1 and w[0]["path"] == pidfile, r.diag()
    assert "pid %d is not a running dockerd" % main_pid in w[0]["detail"]
    # The pidfile did not stop the new dockerd, which wrote its own pid
    # there.
    with open(pidfile) as f:
        new_ns_pid = int(f.read())
    assert new_ns_pid != dead_ns_pid and new_ns_pid == st["pid"], \
        (dead_ns_pid, new_ns_pid, st)
    ver = subprocess.run(["docker", "-H", sock, "version", "--format",
                          "{{.Server.Version}}"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, timeout=60)
    assert ver.returncode == 0 and ver.stdout.strip(), ver.stderr
    ev = r.events()
    assert len(named(ev, "service_start", service="main")) == 1
    assert not named(ev, "service_exit", service="main")
    assert named(ev, "service_start", service="main")[0]["pid"] == main_pid
    r.kill(signal.SIGTERM)
    assert r.wait(60) == 143, r.diag()
