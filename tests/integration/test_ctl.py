"""The control verbs (issue 17; SPEC section 14 "Control verbs"):
`agent-init ctl start|stop|restart|signal` against agent-init as PID 1,
with what stop means (the README's table): dependents first, stopped
until started, main's stop is the shutdown, a required service never
gives up, status and status --quiet; the exit statuses, the JSON mode,
the `control` events and who may act (control_group, SO_PEERCRED)."""
import json
import os
import shutil
import signal
import socket
import subprocess

import pytest

from harness import AGENT_INIT, clean_env, poll
from suputil import (agent, assert_never, index, mark, named, read_marks,
                     short_dir, touch, write_conf)


@pytest.fixture
def sockdir():
    d = short_dir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


def ctl_run(run, tmp_path, sockdir, services, init="", args=(), env=None):
    sock = os.path.join(sockdir, "ctl.sock")
    conf = write_conf(tmp_path / "c.conf", "[init]\ncontrol_socket = %s\n%s%s"
                      % (sock, init, services))
    r = run(["-c", conf] + list(args), env=env)
    poll(lambda: os.path.exists(sock), what="the control socket",
         diag=r.diag)
    return r, sock


def ctl(sock, *args, env=None, timeout=60, user=None):
    cmd = [AGENT_INIT, "ctl", "--socket", sock] + [str(a) for a in args]
    if user:
        cmd = ["setpriv"] + user + cmd
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, env=clean_env(env), timeout=timeout)


def status(sock):
    s = agent(["status", "--socket", sock])
    return s.returncode, json.loads(s.stdout)


def svc(st, name):
    return {x["name"]: x for x in st["services"]}[name]


def controls(r, **fields):
    return named(r.events(), "control", **fields)


CHAIN = """\
[service db]
command = {H}/svcact onterm:%(m)s:db:100 o:db-up wait
[service app]
command = {H}/svcact onterm:%(m)s:app:100 o:app-up wait
after = db
[service side]
command = {H}/svcact wait
restart = always
"""


def test_stop_dependents_first_and_stay_stopped(run, tmp_path, sockdir):
    m = str(tmp_path / "marks")
    r, sock = ctl_run(run, tmp_path, sockdir, CHAIN % {"m": m})
    r.wait_event("ready")

    p = ctl(sock, "stop", "db")
    assert (p.returncode, p.stdout) == (0, "db: stopped\n"), (p.stdout,
                                                              p.stderr)
    # What is after db stopped first, then db: each got its stop signal
    # only once what is after it had ended.
    marks = read_marks(m)
    assert mark(marks, "app", "exit") < mark(marks, "db", "term"), marks
    ev = r.events()
    c = controls(r, verb="stop", service="db")
    assert len(c) == 1 and c[0]["peer_uid"] == 0, c
    assert c[0]["result"] == "stopping", c
    assert index(ev, "control", verb="stop") < index(
        ev, "service_exit", service="app") < index(
        ev, "service_exit", service="db"), [e["agent_init"] for e in ev]
    assert not named(ev, "service_restart") and not named(
        ev, "service_failed") and not named(ev, "shutdown"), ev

    code, st = status(sock)
    assert code == 1 and st["healthy"] is False and st["ready"] is True, st
    assert svc(st, "db")["state"] == "stopped"
    assert svc(st, "db")["reason"].startswith("stopped by ctl stop (uid 0")
    assert svc(st, "app")["state"] == "stopped"
    assert "stopped with db, which it is after" in svc(st, "app")["reason"]
    assert agent(["status", "--socket", sock, "--quiet"]).returncode == 1
    # Stopping it again: nothing to do, and said so.
    p = ctl(sock, "stop", "db")
    assert (p.returncode, p.stdout) == (0, "db: stopped\n"), p.stderr
    assert controls(r, verb="stop", result="already stopped")

    # Another service restarts (twice): db and app stay stopped.
    assert ctl(sock, "restart", "side").returncode == 0
    r.wait_event("service_start", service="side", attempt=2)
    os.kill(r.host_pid(svc(status(sock)[1], "side")["pid"]), signal.SIGKILL)
    r.wait_event("service_start", service="side", attempt=3)
    assert_never(r, "service_start", 1.0, service="db", attempt=2)
    assert not named(r.events(), "service_start", service="app", attempt=2)
    _, st = status(sock)
    assert [svc(st, n)["state"] for n in ("db", "app")] == ["stopped"] * 2

    # Starting app starts db first (it is after db), each when ready.
    p = ctl(sock, "start", "app")
    assert (p.returncode, p.stdout) == (0, "app: ready\n"), p.stderr
    ev = r.events()
    assert index(ev, "service_ready", service="db") < index(
        ev, "service_start", service="app", attempt=2), ev
    code, st = status(sock)
    assert code == 0 and st["healthy"] is True, st
    # Reads are no events without -v.
    assert not controls(r, verb="status") and not controls(r, verb="state")
    r.kill(signal.SIGTERM)
    assert r.wait() == 0, r.diag()


def test_stopping_a_dependency_keeps_dependents_stopped(run, tmp_path,
                                                       sockdir):
    # Started again, db comes back; app, which was stopped with it, stays
    # stopped until it is started itself.
    m = str(tmp_path / "marks")
    r, sock = ctl_run(run, tmp_path, sockdir, CHAIN % {"m": m})
    r.wait_event("ready")
    assert ctl(sock, "stop", "db").returncode == 0
    p = ctl(sock, "start", "db")
    assert (p.returncode, p.stdout) == (0, "db: ready\n"), p.stderr
    assert_never(r, "service_start", 1.0, service="app", attempt=2)
    assert svc(status(sock)[1], "app")["state"] == "stopped"
    assert ctl(sock, "start", "app").returncode == 0
    assert status(sock)[0] == 0


MAIN = """\
[service gw]
command = {H}/svcact wait
[service agent]
command = {H}/svcact onterm:%s:agent:0 wait
main = yes
after = gw
"""


@pytest.mark.parametrize("target", ["agent", "gw"])
def test_stop_of_main_is_the_shutdown(run, tmp_path, sockdir, target):
    m = str(tmp_path / "marks")
    r, sock = ctl_run(run, tmp_path, sockdir, MAIN % m)
    r.wait_event("ready")
    p = ctl(sock, "stop", target)
    assert p.returncode == 0, p.stderr
    assert "shutdown" in p.stdout, p.stdout
    sd = r.wait_event("shutdown")
    if target == "agent":
        assert sd["reason"].startswith(
            "main service stopped (stopped by ctl stop (uid 0"), sd
    else:
        assert sd["reason"].startswith("service gw stopped (stopped by "
                                       "ctl stop"), sd
        assert sd["reason"].endswith("and main is after it"), sd
    # As if main had exited: it stops first, agent-init exits with its
    # status (0: onterm exits 0 on SIGTERM).
    assert r.wait() == 0, r.diag()
    ev = r.events()
    assert ev[-1]["reason"] == "agent exited with code 0", ev[-1]
    assert index(ev, "service_exit", service="agent") < index(
        ev, "service_exit", service="gw")
    assert not named(ev, "service_failed")


# A client in agent-init's PID namespace (docker exec, a preStop hook):
# it reads its answer and hangs up, then takes its time before it exits.
SLOW_CLIENT = """\
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"stop agent\\n")
reply = s.makefile().readline()
s.close()
time.sleep(float(sys.argv[3]))
open(sys.argv[2], "w").write(reply)
"""


def in_pidns(r, cmd, timeout=60):
    return subprocess.run(["nsenter", "-t", str(r.init_pid()), "--pid",
                           "--"] + cmd, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True,
                          env=clean_env(), timeout=timeout)


def test_stop_of_main_lets_a_client_in_the_namespace_exit_first(
        run, tmp_path, sockdir):
    """`ctl stop` of main from inside the sandbox's PID namespace (the
    README's preStop hook, `docker exec`): PID 1's exit kills whatever is
    left in its namespace, so agent-init waits (at most 1 s) for the
    client it told `shutdown` to hang up and be gone.  Before, a client
    that was not quick enough was SIGKILLed (`docker exec` exit 137)."""
    m = str(tmp_path / "marks")
    r, sock = ctl_run(run, tmp_path, sockdir, MAIN % m)
    r.wait_event("ready")
    out = tmp_path / "reply"
    p = in_pidns(r, ["/usr/bin/python3", "-c", SLOW_CLIENT, sock, str(out),
                     "0.5"])
    assert p.returncode == 0, (p.returncode, p.stderr, r.diag())
    assert json.loads(out.read_text())["result"] == "shutdown"
    assert r.wait() == 0, r.diag()
    # The real client, in the namespace: its answer and exit status 0.
    r, sock = ctl_run(run, tmp_path, sockdir, MAIN % m)
    r.wait_event("ready")
    p = in_pidns(r, [AGENT_INIT, "ctl", "--socket", sock, "stop", "agent"])
    assert (p.returncode, p.stdout) == (0, "agent: shutdown\n"), p.stderr
    assert r.wait() == 0, r.diag()


def test_stop_of_main_waits_for_its_client_only_so_long(run, tmp_path,
                                                        sockdir):
    """A client told `shutdown` that never hangs up holds PID 1 back for
    at most a second after its answer; then the sandbox ends as usual."""
    m = str(tmp_path / "marks")
    r, sock = ctl_run(run, tmp_path, sockdir, MAIN % m)
    r.wait_event("ready")
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        c.connect(sock)
        c.sendall(b"stop agent\n")
        assert json.loads(c.makefile().readline())["result"] == "shutdown"
        assert r.wait() == 0, r.diag()
    finally:
        c.close()
    ev = r.events()
    assert ev[-1]["agent_init"] == "exit", ev[-1]
    assert ev[-1]["reason"] == "agent exited with code 0", ev[-1]


def test_stopped_required_service_never_gives_up(run, tmp_path, sockdir):
    r, sock = ctl_run(run, tmp_path, sockdir, """\
[service db]
command = {H}/svcact wait
required = yes
restart = always
max_restarts = 1/1m
[service app]
command = {H}/svcact wait
""")
    r.wait_event("ready")
    p = ctl(sock, "stop", "db")
    assert p.returncode == 0, p.stderr
    r.wait_event("service_exit", service="db", signal="SIGTERM")
    assert_never(r, "service_failed", 1.0)
    assert not named(r.events(), "shutdown")
    assert r.proc.poll() is None
    # Started again: the whole restart budget back.
    assert ctl(sock, "start", "db").returncode == 0
    assert status(sock)[0] == 0
    r.kill(signal.SIGTERM)
    assert r.wait() == 0, r.diag()


def test_restart_is_outside_the_budget(run, tmp_path, sockdir):
    r, sock = ctl_run(run, tmp_path, sockdir, """\
[service w]
command = {H}/svcact o:up wait
max_restarts = 1/1m
backoff = 5s..5s
""")
    r.wait_event("ready")
    for i in range(3):
        p = ctl(sock, "restart", "w")
        assert (p.returncode, p.stdout) == (0, "w: ready\n"), p.stderr
    ev = r.events()
    rs = named(ev, "service_restart", service="w")
    assert [e["delay_ms"] for e in rs] == [0, 0, 0], rs
    assert [e["attempt"] for e in named(ev, "service_start")] == [1, 2, 3, 4]
    assert not named(ev, "service_failed")
    st = svc(status(sock)[1], "w")
    assert (st["attempt"], st["restarts"], st["state"]) == (4, 3, "ready")
    # A restart of a stopped service starts it.
    assert ctl(sock, "stop", "w").returncode == 0
    p = ctl(sock, "restart", "w")
    assert (p.returncode, p.stdout) == (0, "w: ready\n"), p.stderr


def test_signal(run, tmp_path, sockdir):
    r, sock = ctl_run(run, tmp_path, sockdir, """\
[service rec]
command = {H}/sigrec -g
[service idle]
command = {H}/svcact x:0
""")
    poll(lambda: any(l.startswith("rec| gc:ready") for l in r.lines()),
         what="sigrec's grandchild", diag=r.diag)
    p = ctl(sock, "signal", "USR1", "rec")
    assert (p.returncode, p.stdout) == (0, "rec: sent SIGUSR1\n"), p.stderr
    r.wait_line("rec| SIGUSR1")
    assert "rec| gc:SIGUSR1" not in r.lines()
    # --group: the whole process group, the grandchild too.
    p = ctl(sock, "signal", "--group", "SIGHUP", "rec")
    assert p.returncode == 0, p.stderr
    r.wait_line("rec| SIGHUP")
    r.wait_line("rec| gc:SIGHUP")
    c = controls(r, verb="signal", service="rec")
    assert [x["result"] for x in c] == ["sent SIGUSR1", "sent SIGHUP"], c
    # Nothing to signal: idle exited.
    r.wait_event("service_exit", service="idle")
    p = ctl(sock, "signal", "TERM", "idle")
    assert p.returncode == 1 and "no process" in p.stderr, p.stderr
    p = ctl(sock, "signal", "NOPE", "rec")
    assert p.returncode == 64 and "no signal" in p.stderr, p.stderr


def test_exit_statuses_and_json(run, tmp_path, sockdir):
    gate = tmp_path / "gate"
    r, sock = ctl_run(run, tmp_path, sockdir, """\
[service web]
command = {H}/svcact wait
ready = file:%s
[service x]
command = {H}/svcact wait
""" % gate)
    r.wait_event("service_start", service="web")
    p = ctl(sock, "stop", "nosuch")
    assert p.returncode == 2 and "no service 'nosuch'" in p.stderr, p.stderr
    assert ctl(sock, "frobnicate", "x").returncode == 64
    assert ctl(sock, "stop").returncode == 64
    assert ctl(sock, "--bogus", "stop", "x").returncode == 64
    p = ctl(os.path.join(sockdir, "nothere.sock"), "stop", "x")
    assert p.returncode == 4 and "cannot connect" in p.stderr, p.stderr
    # Not ready in time: 1, with the state it is in.
    p = ctl(sock, "restart", "--timeout", "1s", "web")
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "web is starting: timed out waiting" in p.stderr, p.stderr
    # Without waiting: 0 at once.
    p = ctl(sock, "--no-wait", "restart", "web")
    assert (p.returncode, p.stdout) == (0, "web: restarting\n"), p.stderr
    touch(gate)
    # JSON: one object, the state reached.
    p = ctl(sock, "--json", "stop", "x")
    assert p.returncode == 0, p.stderr
    j = json.loads(p.stdout)
    assert j == {"ok": True, "verb": "stop", "service": "x",
                 "result": "stopping", "state": "stopped",
                 "reason": j["reason"]}, j
    assert j["reason"].startswith("stopped by ctl stop"), j
    p = ctl(sock, "--json", "start", "nosuch")
    assert p.returncode == 2
    assert json.loads(p.stdout)["code"] == "no_such_service"


def test_refused_during_shutdown(run, tmp_path, sockdir):
    r, sock = ctl_run(run, tmp_path, sockdir, """\
[service slow]
command = {H}/svcact onterm:%s:slow:3000 wait
stop_timeout = 5s
""" % (tmp_path / "m"))
    r.wait_event("ready")
    r.kill(signal.SIGTERM)
    r.wait_event("shutdown")
    p = ctl(sock, "start", "slow")
    assert p.returncode == 1 and "shutting down" in p.stderr, p.stderr
    assert controls(r, verb="start", result="shutting_down")
    assert r.wait() == 0


def test_verbose_reads_are_events(run, tmp_path, sockdir):
    r, sock = ctl_run(run, tmp_path, sockdir,
                      "[service a]\ncommand = {H}/svcact wait\n", args=["-v"])
    r.wait_event("ready")
    assert agent(["status", "--socket", sock]).returncode == 0
    c = r.wait_event("control", verb="status")
    assert c["service"] is None and c["peer_uid"] == 0, c


# --- who may act --------------------------------------------------------------

NOBODY = ["--reuid", "65534", "--regid", "65534", "--clear-groups"]
IN_GROUP = ["--reuid", "65534", "--regid", "65534", "--groups", "4242"]
PRIMARY = ["--reuid", "65534", "--regid", "4242", "--clear-groups"]


def test_control_group(run, tmp_path, sockdir):
    os.chmod(sockdir, 0o755)  # others may reach the socket's directory
    r, sock = ctl_run(run, tmp_path, sockdir,
                      "[service a]\ncommand = {H}/svcact wait\n",
                      init="control_group = 4242\n")
    r.wait_event("ready")
    st = os.stat(sock)
    assert (st.st_mode & 0o777, st.st_gid) == (0o660, 4242)
    # A member (supplementary group, or primary): reads and acts.
    for who in (IN_GROUP, PRIMARY):
        p = ctl(sock, "stop", "a", user=who)
        assert (p.returncode, p.stdout) == (0, "a: stopped\n"), p.stderr
        p = ctl(sock, "start", "a", user=who)
        assert p.returncode == 0, p.stderr
    c = controls(r, verb="stop")
    assert [x["peer_uid"] for x in c] == [65534, 65534], c
    # Anyone else: refused by the socket's mode...
    p = ctl(sock, "stop", "a", user=NOBODY)
    assert p.returncode == 3 and "Permission denied" in p.stderr, p.stderr
    # ...and, with the mode opened by hand, by SO_PEERCRED.
    os.chmod(sock, 0o666)
    p = ctl(sock, "stop", "a", user=NOBODY)
    assert p.returncode == 3, (p.stdout, p.stderr)
    assert "not root, our uid or a member of control_group" in p.stderr
    p = subprocess.run(["setpriv"] + NOBODY + [AGENT_INIT, "status",
                                               "--socket", sock],
                       capture_output=True, text=True, env=clean_env())
    assert p.returncode == 1 and '"services"' not in p.stdout
    # PID 1 is unaffected.
    assert status(sock)[0] == 0
    assert len(controls(r, verb="stop")) == 2
    r.kill(signal.SIGTERM)
    assert r.wait() == 0


def test_control_group_from_environment_and_errors(run, tmp_path, sockdir):
    r, sock = ctl_run(run, tmp_path, sockdir,
                      "[service a]\ncommand = {H}/svcact wait\n",
                      init="control_group = 4242\n",
                      env={"AGENT_INIT_CONTROL_GROUP": "4243"})
    r.wait_event("ready")
    assert os.stat(sock).st_gid == 4243
    bad = write_conf(tmp_path / "bad.conf", "[init]\ncontrol_group = "
                     "no-such-group-here\n[service a]\ncommand = x\n")
    p = agent(["-c", bad])
    assert p.returncode == 78, (p.stdout, p.stderr)
    assert "control_group: no group 'no-such-group-here'" in p.stderr
    p = agent(["-c", bad], env={"AGENT_INIT_CONTROL_GROUP": "bad name"})
    assert p.returncode == 64 and "AGENT_INIT_CONTROL_GROUP" in p.stderr
    assert agent(["check-config", bad]).returncode == 0  # a valid name


# --- ctl checks ------------------------------------------------------------------

def test_ctl_checks(run, tmp_path, sockdir):
    """The checks again, on demand, in a network namespace of the test's
    own: a required tcp check passes while its listener (a service) runs,
    fails once that is stopped, passes when it is started again."""
    from suputil import new_netns
    sock = os.path.join(sockdir, "ctl.sock")
    conf = write_conf(tmp_path / "c.conf", """\
[init]
control_socket = %s
checks = warn
[check tcp:gw]
target = 127.0.0.1:18090
required = yes
[check capabilities]
[service gw]
command = {H}/tcplisten 127.0.0.1:18090
""" % sock)
    r = run(["-c", conf], env={"AGENT_INIT_NO_CHECKS": None},
            preexec_fn=new_netns)
    r.wait_event("checks")
    r.wait_event("ready")
    p = ctl(sock, "checks")
    assert p.returncode == 0, (p.stdout, p.stderr)
    rows = {l.split()[0]: l for l in p.stdout.splitlines()[1:] if l.strip()
            and not l.startswith(" ")}
    assert " ok " in rows["tcp:gw"] and "127.0.0.1:18090" in rows["tcp:gw"]
    assert " ok " in rows["capabilities"], p.stdout
    assert p.stdout.rstrip().endswith("ms") and ", 0 fail," in p.stdout
    # The control event that asked for it; the re-run is the egress
    # watch's (issue 16): a verdict that changed since startup (the
    # listener may have come after the first run) is check_changed.
    ev = r.events()
    i = index(ev, "control", verb="checks")
    assert ev[i]["result"] == "started" and ev[i]["service"] is None
    assert all(e["status"] == "ok" for e in ev[i + 1:]
               if e["agent_init"] == "check_changed"), ev

    assert ctl(sock, "stop", "gw").returncode == 0
    p = ctl(sock, "--json", "checks")
    assert p.returncode == 1, (p.stdout, p.stderr)
    j = json.loads(p.stdout)
    gw = [c for c in j["checks"] if c["check"] == "tcp"][0]
    assert (gw["status"], gw["code"], gw["required"]) == (
        "fail", "refused", True), gw
    assert gw["hint"], gw
    assert j["summary"]["fail"] == 1, j
    # The changed verdict is a check_changed event, as for any re-run.
    r.wait_event("check_changed", check="tcp:gw", status="fail")
    # Startup's `enforce` gate is not run again: warn or not, nothing
    # stops; and the sandbox goes on.
    assert r.proc.poll() is None
    assert ctl(sock, "start", "gw").returncode == 0
    assert ctl(sock, "checks").returncode == 0
    assert len(controls(r, verb="checks")) == 3


def test_clients_ask_again_while_every_request_place_is_taken(
        run, tmp_path, sockdir):
    """32 connections that send nothing take every place for a request
    (each for up to 2 s): `status` and `ctl` are told `busy` and ask
    again within their deadline, rather than failing a HEALTHCHECK."""
    r, sock = ctl_run(run, tmp_path, sockdir,
                      "[service a]\ncommand = {H}/svcact wait\n")
    r.wait_event("ready")
    idle = []
    try:
        for _ in range(32):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.connect(sock)
            idle.append(c)
        # The places are taken: a raw request is told so.
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.settimeout(10)
        c.connect(sock)
        assert json.loads(c.recv(4096)) == {"error": "busy", "code": "busy"}
        c.close()
        s = agent(["status", "--socket", sock])
        assert s.returncode == 0, (s.stdout, s.stderr)
        assert json.loads(s.stdout)["healthy"] is True
        p = ctl(sock, "restart", "a")
        assert (p.returncode, p.stdout) == (0, "a: ready\n"), p.stderr
    finally:
        for c in idle:
            c.close()
