"""The control socket (SPEC section 11; issue 3 item 6): `agent-init
status [--quiet]`, `agent-init wait-ready` (ready, failed, timeout), peers
of another uid refused, garbage answered with an error while PID 1 keeps
working."""
import fcntl
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import termios
import time

import pytest

from harness import AGENT_INIT, clean_env, poll
from suputil import agent, named, short_dir, touch, write_conf


@pytest.fixture
def sockdir():
    d = short_dir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


def control_run(run, tmp_path, sockdir, services, env=None):
    sock = os.path.join(sockdir, "ctl.sock")
    conf = write_conf(tmp_path / "c.conf",
                      "[init]\ncontrol_socket = %s\n%s" % (sock, services))
    r = run(["-c", conf], env=env)
    poll(lambda: listening(sock), what="the control socket", diag=r.diag)
    return r, sock


def listening(sock):
    """The socket exists and accepts (between bind and listen, a connect
    is refused: a slow agent-init, e.g. under valgrind, shows it)."""
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        c.connect(sock)
        return True
    except (FileNotFoundError, ConnectionRefusedError):
        return False
    finally:
        c.close()


def sockets_of(pid):
    """How many sockets a process holds."""
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            n += os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith(
                "socket:")
        except FileNotFoundError:
            pass
    return n


def status(sock, *extra, **kw):
    return agent(["status", "--socket", sock] + list(extra), **kw)


def client(args, env=None):
    """A client in the background (wait-ready blocks)."""
    return subprocess.Popen([AGENT_INIT] + args, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env=clean_env(env))


def finish(p, timeout=20):
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise AssertionError("client still running after %d s" % timeout)
    return p.returncode, out, err


def ask(sock, data, timeout=10):
    """Send raw bytes on the control socket, return the reply line.  (After
    it, agent-init closes; with bytes of ours left unread there, the close
    is a reset rather than an end of file.)"""
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(timeout)
    try:
        c.connect(sock)
        if data:
            c.sendall(data)
        out = b""
        while not out.endswith(b"\n"):
            b = c.recv(65536)
            if not b:
                break
            out += b
        return out
    finally:
        c.close()


GATED = """\
[service web]
command = {H}/svcact wait
ready = file:%s
[service side]
command = {H}/svcact wait
"""


def test_status_before_and_after_ready(run, tmp_path, sockdir):
    gate = tmp_path / "gate"
    r, sock = control_run(run, tmp_path, sockdir, GATED % gate)
    r.wait_event("service_start", service="web")
    s = status(sock)
    assert s.returncode == 1, (s.stdout, s.stderr)
    st = json.loads(s.stdout)
    assert st["ready"] is False and st["healthy"] is False, st
    svcs = {x["name"]: x for x in st["services"]}
    assert svcs["web"]["state"] == "starting" and svcs["web"]["pid"] > 0
    assert svcs["side"]["state"] == "ready"
    q = status(sock, "--quiet")
    assert (q.returncode, q.stdout) == (1, ""), (q.stdout, q.stderr)

    touch(gate)
    r.wait_event("ready")
    s = status(sock)
    assert s.returncode == 0, (s.stdout, s.stderr)
    st = json.loads(s.stdout)
    assert st["ready"] is True and st["healthy"] is True, st
    assert {x["name"]: x["state"] for x in st["services"]} == {
        "web": "ready", "side": "ready"}
    q = status(sock, "-q")
    assert (q.returncode, q.stdout) == (0, ""), (q.stdout, q.stderr)
    r.kill(signal.SIGTERM)
    assert r.wait() == 0, r.diag()
    # The socket is gone with agent-init; status says so.
    assert not os.path.exists(sock)
    s = status(sock)
    assert s.returncode == 1 and "cannot connect" in s.stderr, s.stderr


def test_status_unhealthy_while_restarting(run, tmp_path, sockdir):
    # Once ready, a service that crashes is in backoff: not healthy (exit
    # 1) though the sandbox was ready; healthy again once it is back.  (The
    # backoff leaves the `status` client time to start, even under
    # valgrind on a loaded machine.)
    crash = tmp_path / "crash"
    r, sock = control_run(run, tmp_path, sockdir, """\
[service flaky]
command = {H}/svcact gate:%s rm:%s x:1
backoff = 10s..10s
""" % (crash, crash))
    # The backoff outlasts a status client's start under valgrind on a
    # loaded machine (2 s did not: the restart came first).
    r.wait_event("ready")
    assert status(sock, "-q").returncode == 0
    touch(crash)
    r.wait_event("service_restart", service="flaky")
    s = status(sock)
    assert s.returncode == 1, s.stdout
    st = json.loads(s.stdout)
    assert st["ready"] is True and st["healthy"] is False, st
    assert st["services"][0]["state"] == "backoff", st
    assert st["services"][0]["last_exit"] == {"code": 1}, st
    r.wait_event("service_start", service="flaky", attempt=2)
    poll(lambda: status(sock, "-q").returncode == 0, what="healthy again",
         diag=r.diag)
    # Restarted and running: last_exit still says how the last run ended
    # (it was null from the restart on before the fix).
    st = json.loads(status(sock).stdout)
    assert st["services"][0]["state"] == "ready", st
    assert st["services"][0]["restarts"] == 1, st
    assert st["services"][0]["last_exit"] == {"code": 1}, st


def test_wait_ready_blocks_until_ready(run, tmp_path, sockdir):
    gate = tmp_path / "gate"
    r, sock = control_run(run, tmp_path, sockdir, GATED % gate)
    w = client(["wait-ready", "--socket", sock, "--timeout", "30s"])
    try:
        time.sleep(1.0)
        assert w.poll() is None, "wait-ready returned before ready"
        touch(gate)
        code, out, err = finish(w)
    finally:
        if w.poll() is None:
            w.kill()
    assert code == 0, (out, err)
    assert json.loads(out)["ready"] is True
    assert named(r.events(), "ready")


def test_wait_ready_started_before_agent_init(run, tmp_path, sockdir):
    # The client may come first (a container's probe): it waits for the
    # socket to appear.
    sock = os.path.join(sockdir, "ctl.sock")
    w = client(["wait-ready", "--socket=" + sock, "--timeout=30s"])
    try:
        time.sleep(0.5)
        conf = write_conf(tmp_path / "c.conf", "[init]\ncontrol_socket = %s\n"
                          "[service a]\ncommand = {H}/svcact wait\n" % sock)
        run(["-c", conf])
        code, out, err = finish(w)
    finally:
        if w.poll() is None:
            w.kill()
    assert code == 0, (out, err)


def test_wait_ready_already_ready(run, tmp_path, sockdir):
    r, sock = control_run(run, tmp_path, sockdir,
                          "[service a]\ncommand = {H}/svcact wait\n")
    r.wait_event("ready")
    w = agent(["wait-ready", "--socket", sock, "--timeout", "20s"])
    assert w.returncode == 0, (w.stdout, w.stderr)


def test_wait_ready_timeout(run, tmp_path, sockdir):
    gate = tmp_path / "gate"
    r, sock = control_run(run, tmp_path, sockdir, GATED % gate)
    w = agent(["wait-ready", "--socket", sock, "--timeout", "800ms"])
    assert w.returncode == 1, (w.stdout, w.stderr)
    assert "timed out" in w.stderr, w.stderr
    # agent-init is fine and still answers.
    assert json.loads(status(sock).stdout)["ready"] is False


def test_wait_ready_required_service_failed(run, tmp_path, sockdir):
    gate = tmp_path / "gate"
    r, sock = control_run(run, tmp_path, sockdir, """\
[service db]
command = {H}/svcact gate:%s 'e:no space left' x:1
ready = log:accepting connections
backoff = 10ms..10ms
max_restarts = 1/1m
required = yes
[service app]
command = {H}/svcact wait
after = db
""" % gate)
    init = r.init_pid()
    # The environment fingerprint's netlink socket is closed; only the
    # listening socket is left (control_run's own probe is gone).
    r.wait_event("environment")
    poll(lambda: sockets_of(init) == 1, what="no client", diag=r.diag)
    w = client(["wait-ready", "--socket", sock, "--timeout", "30s"])
    try:
        # Connected and accepted (a client under valgrind starts slowly:
        # a fixed 0.5 s was not always enough, and it then waited for a
        # socket that was gone with the sandbox).
        poll(lambda: sockets_of(w.pid) >= 1 and sockets_of(init) > 1,
             what="the client accepted", diag=r.diag)
        assert w.poll() is None
        touch(gate)
        code, out, err = finish(w)
    finally:
        if w.poll() is None:
            w.kill()
    assert code == 1, (out, err)
    reply = json.loads(out)
    assert reply["ready"] is False and reply["reason"], reply
    assert r.wait() == 70, r.diag()


def test_wait_ready_fails_when_ready_became_impossible(run, tmp_path,
                                                       sockdir):
    r, sock = control_run(run, tmp_path, sockdir, """\
[service helper]
command = {H}/svcact 'e:bad config' x:1
ready = file:/nonexistent/agent-init-gate
backoff = 10ms..10ms
max_restarts = 1/1m
[service app]
command = {H}/svcact wait
""")
    r.wait_event("service_failed", service="helper")
    w = client(["wait-ready", "--socket", sock, "--timeout", "20s"])
    try:
        code, out, err = finish(w, timeout=10)
    finally:
        if w.poll() is None:
            w.kill()
    assert code == 1, (out, err)
    assert "helper" in out, out


def test_wait_ready_answered_when_the_last_hope_ends(run, tmp_path,
                                                     sockdir):
    # `helper` ended (exit 1, no restart) before it was ready, `slow` is
    # still starting: ready may still come, so the client waits.  Then
    # `slow` ends for good too (exit 0, no restart), without failing:
    # nothing can become ready any more, and the waiter is answered.
    # Before, only a failure, `ready` or the shutdown answered waiters:
    # this one waited until its own timeout (make test met it as a flake
    # of test_wait_ready_fails_when_ready_became_impossible, when `app`
    # became ready after the client asked).
    gate = tmp_path / "gate"
    r, sock = control_run(run, tmp_path, sockdir, """\
[service helper]
command = {H}/svcact x:1
restart = never
[service slow]
command = {H}/svcact gate:%s x:0
ready = file:/nonexistent/agent-init-gate
restart = never
[service app]
command = {H}/svcact wait
""" % gate)
    r.wait_event("service_exit", service="helper")
    r.wait_event("service_ready", service="app")
    init = r.init_pid()
    poll(lambda: sockets_of(init) == 1, what="no client", diag=r.diag)
    w = client(["wait-ready", "--socket", sock, "--timeout", "20s"])
    try:
        poll(lambda: sockets_of(w.pid) >= 1 and sockets_of(init) > 1,
             what="the client accepted", diag=r.diag)
        assert w.poll() is None
        touch(gate)
        code, out, err = finish(w, timeout=10)
    finally:
        if w.poll() is None:
            w.kill()
    assert code == 1, (out, err)
    assert json.loads(out)["ready"] is False, out
    r.kill(signal.SIGTERM)
    r.wait()


def test_status_other_uid_refused(run, tmp_path, sockdir):
    r, sock = control_run(run, tmp_path, sockdir,
                          "[service a]\ncommand = {H}/svcact wait\n")
    r.wait_event("ready")
    assert os.stat(sock).st_mode & 0o777 == 0o600
    nobody = ["setpriv", "--reuid", "65534", "--regid", "65534",
              "--clear-groups", AGENT_INIT, "status", "--socket", sock]
    # As it is (0600 in a 0700 directory): refused at connect.
    p = subprocess.run(nobody, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=20, env=clean_env())
    assert p.returncode == 1 and p.stdout == "", (p.stdout, p.stderr)
    assert "denied" in p.stderr.lower(), p.stderr
    # Opened up on purpose, so that the connect succeeds: the SO_PEERCRED
    # check must refuse it all the same.  (agent-init's own client may
    # see its request refused as "send: Broken pipe" when the refusal
    # beats its send; either way it exits 1 and prints no status.)
    os.chmod(sockdir, 0o755)
    os.chmod(sock, 0o777)
    p = subprocess.run(nobody, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=20, env=clean_env())
    assert p.returncode == 1 and p.stdout == "", (p.stdout, p.stderr)
    assert "permission denied" in p.stderr or "Broken pipe" in p.stderr, \
        p.stderr
    assert '"services"' not in p.stderr
    # What the server says, read by a client of that uid that sends its
    # request only after the server had time to look at it.
    py = ("import socket,time,sys\n"
          "c=socket.socket(socket.AF_UNIX)\nc.connect(sys.argv[1])\n"
          "time.sleep(0.3)\n"
          "try:\n c.sendall(b'status\\n')\nexcept OSError: pass\n"
          "print(c.recv(4096).decode())\n")
    p = subprocess.run(["setpriv", "--reuid", "65534", "--regid", "65534",
                        "--clear-groups", "/usr/bin/python3", "-c", py, sock],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=20, env=clean_env())
    assert p.returncode == 0, p.stderr
    reply = json.loads(p.stdout)
    assert "permission denied" in reply["error"], reply
    # Root still gets its answer.
    assert status(sock).returncode == 0


def test_garbage_gets_error_and_pid1_keeps_working(run, tmp_path, sockdir):
    r, sock = control_run(run, tmp_path, sockdir, """\
[service a]
command = {H}/svcact wait
[service b]
command = {H}/svcact wait
""")
    r.wait_event("ready")

    def error_reply(data):
        out = ask(sock, data)
        assert out.endswith(b"\n") and out.count(b"\n") == 1, out
        reply = json.loads(out)
        assert "error" in reply, reply
        return reply["error"]

    error_reply(b"\x00\xff\xfe garbage \x1b[31m\n")
    error_reply(b"STATUS\n")
    error_reply(b"status please\r\n")
    assert "too long" in error_reply(b"s" * 4096)
    # Nothing at all: answered after the request timeout (2 s).
    assert "request" in error_reply(b"")
    # Hang-ups, and more clients at once than it serves.
    for _ in range(5):
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(sock)
        c.close()
    # More idle clients at once than it serves (32): the extra ones are
    # told it is busy, the others time out; each gets one error line.
    many = []
    try:
        for _ in range(40):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            many.append(c)
            c.connect(sock)  # blocking: waits while the backlog is full
            c.settimeout(10)
        replies = []
        for c in many:
            out = b""
            while not out.endswith(b"\n"):
                b = c.recv(4096)
                if not b:
                    break
                out += b
            replies.append(json.loads(out)["error"])
        assert "busy" in replies, replies
    finally:
        for c in many:
            c.close()
    # A well-formed request on a raw connection.
    assert json.loads(ask(sock, b"status\n"))["healthy"] is True
    # PID 1 is still at work: status answers, nothing restarted or
    # exited, and it shuts down cleanly.
    s = status(sock)
    assert s.returncode == 0, (s.stdout, s.stderr)
    ev = r.events()
    assert not named(ev, "service_exit") and not named(ev, "shutdown"), ev
    r.kill(signal.SIGTERM)
    assert r.wait() == 0, r.diag()


def test_status_bad_arguments(tmp_path):
    s = agent(["status", "--bogus"])
    assert s.returncode == 64, (s.stdout, s.stderr)
    w = agent(["wait-ready", "--timeout", "soon"])
    assert w.returncode == 64, (w.stdout, w.stderr)


def test_status_answered_however_many_wait_ready_clients_wait(
        run, tmp_path, sockdir):
    # The sandbox is not ready, and more wait-ready clients wait than
    # there are request slots.  Before the fix the 32 waiters took every
    # slot: `status` got "busy" and Docker's HEALTHCHECK failed.  Waiters
    # now have a limit of their own; one past it is told so.
    gate = tmp_path / "gate"
    r, sock = control_run(run, tmp_path, sockdir, """\
[service slow]
command = {H}/svcact wait
ready = file:%s
""" % gate)
    def unread(c):
        # SIOCOUTQ: what agent-init has not read yet of what we sent.
        b = fcntl.ioctl(c.fileno(), termios.TIOCOUTQ, b"\0" * 4)
        return struct.unpack("i", b)[0]
    waiters = []
    try:
        # One at a time, each read before the next comes: so that none
        # of them is ever a request under way beside 31 others (that one
        # would rightly be told "busy").
        for _ in range(32):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.connect(sock)
            c.sendall(b"wait-ready\n")
            waiters.append(c)
            poll(lambda: unread(c) == 0, what="the request read",
                 diag=r.diag)
        for _ in range(3):
            s = status(sock)
            assert s.returncode == 1 and s.stdout, (s.stdout, s.stderr)
            st = json.loads(s.stdout)
            assert st["services"][0]["state"] == "starting", st
        # One past the limit: told so at once.
        extra = json.loads(ask(sock, b"wait-ready\n"))
        assert extra["code"] == "too_many" and \
            "too many waiting clients" in extra["error"], extra
        touch(gate)
        for c in waiters:
            c.settimeout(20)
            assert json.loads(c.recv(100)) == {"ready": True}
    finally:
        for c in waiters:
            c.close()
    assert status(sock, "-q").returncode == 0
    r.kill(signal.SIGTERM)
    assert r.wait() == 0, r.diag()
