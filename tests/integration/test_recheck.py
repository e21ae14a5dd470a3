"""Checks after startup (issue 16): `interval =` re-runs a [check] and a
changed verdict is a `check_changed` event, `status` shows every check's
last verdict and its age, and `after = check:NAME` holds a service until
that check passes, at most `check_wait` (then 69 for a required check,
else a start with a warning).

agent-init runs as PID 1 in the sandbox namespace of netutil.Topology,
against a tinyproxy and TCP listeners that the tests start, kill and open
late in the server namespace.  Nothing here sends a packet outside the
namespaces the tests created.  Every wait is a poll with a deadline; the
deadline of a re-run is its interval plus its timeout plus a margin for a
shared, noisy machine.
"""
import json
import os
import shutil
import sys
import time

import pytest

import netutil
from harness import check_event_stream, poll, ts_seconds
from netutil import CLOSED_PORT, OPEN_PORT, SRV_IP, SUBNET, conf, tcp_ready
from suputil import agent, assert_never, named, short_dir, wait_waiting

EXIT_CHECKS = 69
EXIT_CONFIG = 78
WATCH_PORT = 3140      # a tinyproxy of the test's own, killed mid-run
LATE_PORT = 8099       # a listener the test opens late
HOLD_PORT = 8098       # a server that keeps connections open (tunnel)
MARGIN_S = 8.0         # a loaded 2-CPU machine may be this late


@pytest.fixture(scope="module")
def topo():
    t = netutil.Topology()
    try:
        t.up()
    except BaseException:
        t.down()
        raise
    yield t
    errors = t.down()
    assert not errors, errors


@pytest.fixture
def sockdir():
    d = short_dir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def mine(topo):
    """Servers of one test: stopped when it ends, whatever happened, so
    that the next test can listen on the same port."""
    started = []
    yield started
    for d in reversed(started):
        if d in topo.daemons:
            stop(topo, d)


# Accepts connections and keeps them open until the client closes.
HOLDER = r"""
import select, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(16)
print("holder ready", flush=True)
conns = []
while True:
    r, _, _ = select.select([s] + conns, [], [])
    for c in r:
        if c is s:
            conns.append(s.accept()[0])
        elif not c.recv(4096):
            conns.remove(c)
            c.close()
"""


def tinyproxy(topo, name, port, connect_port=OPEN_PORT):
    """A tinyproxy on SRV_IP:port that allows CONNECT to connect_port."""
    log = topo.write(name + ".log", "")
    os.chmod(log, 0o666)
    c = topo.write(name + ".conf", (
        "User nobody\nGroup nogroup\nPort %d\nListen %s\nTimeout 5\n"
        "MaxClients 20\nLogFile \"%s\"\nLogLevel Info\nAllow %s\n"
        "ConnectPort %d\nDisableViaHeader Yes\n")
        % (port, SRV_IP, log, SUBNET, connect_port))
    return topo.start(name, ["tinyproxy", "-d", "-c", c],
                      tcp_ready(topo.srv, SRV_IP, port))


def listener(topo, name, port):
    return topo.start(name, [os.path.join(netutil.HELPERS, "tcplisten"),
                             "%s:%d" % (SRV_IP, port)],
                      lambda d: "tcplisten ready" in d.output())


def stop(topo, d):
    d.stop()
    topo.daemons.remove(d)


def pid1(run, topo, conf_path, env=None, args=()):
    e = {"AGENT_INIT_CONTROL_SOCKET": ""}
    e.update(env or {})
    return run(list(args) + ["-c", conf_path], pid1=True, env=topo.env(e),
               preexec_fn=netutil.enter_netns(topo.sbx))


def svc(name, gate, extra=""):
    """A service that says it is up, then runs until gate exists."""
    return ("[service %s]\ncommand = %s o:%s-up gate:%s\n%s"
            % (name, os.path.join(netutil.HELPERS, "svcact"), name, gate,
               extra))


def status(sock):
    p = agent(["status", "--socket", sock])
    assert p.stdout, p.stderr
    return json.loads(p.stdout)


def verdict(st, check, target):
    got = [c for c in st["checks"] if c["check"] == check and
           c["target"] == target]
    assert len(got) == 1, st
    return got[0]


# --- egress watch ------------------------------------------------------------

def test_proxy_killed_mid_run_gives_check_changed(run, topo, tmp_path,
                                                  sockdir, mine):
    interval_s, timeout_s = 1, 1
    proxy = tinyproxy(topo, "tinyproxy-watch", WATCH_PORT)
    mine.append(proxy)
    gate = tmp_path / "gate"
    sock = os.path.join(sockdir, "ctl.sock")
    c = conf(tmp_path, (
        "[init]\ncontrol_socket = %s\n"
        "[check proxy]\nconnect_probe = %s:%d\ninterval = %ds\n"
        "timeout = %ds\n%s")
        % (sock, SRV_IP, OPEN_PORT, interval_s, timeout_s,
           svc("agent", gate, "main = yes\n")))
    # Credentials in the URL: every verdict shows them as ***.
    secret = "Xq9-w4tch-pw"
    url = "http://***@%s:%d" % (SRV_IP, WATCH_PORT)
    r = pid1(run, topo, c, env={
        "HTTPS_PROXY": url.replace("***", "agent:" + secret),
        "AGENT_INIT_CONTROL_SOCKET": None})
    first = r.wait_event("check", check="proxy")
    assert (first["status"], first["code"]) == ("ok", "ok"), r.diag()
    r.wait_event("ready")
    # Re-runs of a proxy that works say nothing.
    assert_never(r, "check_changed", interval_s * 2 + 0.5)
    st = status(sock)
    v = verdict(st, "proxy", url)
    assert (v["status"], v["code"]) == ("ok", "ok"), st
    # Re-run every second: its age stays below interval + timeout.
    assert 0 <= v["age_ms"] <= (interval_s + timeout_s + MARGIN_S) * 1000, v

    stop(topo, proxy)
    t_kill = time.monotonic()
    ch = r.wait_event("check_changed", check="proxy",
                      timeout=interval_s + timeout_s + MARGIN_S)
    assert ch["target"] == url, ch
    assert (ch["old_status"], ch["old_code"]) == ("ok", "ok"), ch
    assert (ch["status"], ch["code"]) == ("fail", "unreachable"), ch
    assert ch["hint"] and "detail" in ch, ch
    assert time.monotonic() - t_kill <= interval_s + timeout_s + MARGIN_S
    # No `check` event from a re-run: only what changed.
    assert len(named(r.events(), "check", check="proxy")) == 1, r.diag()
    st = status(sock)
    v = verdict(st, "proxy", url)
    assert (v["status"], v["code"]) == ("fail", "unreachable"), st
    # The sandbox goes on: a check is no reason to stop anything.
    assert st["healthy"] is True, st

    # The proxy comes back: changed again, the other way.
    mine.append(tinyproxy(topo, "tinyproxy-watch2", WATCH_PORT))
    back = poll(lambda: [e for e in named(r.events(), "check_changed",
                                          check="proxy")
                         if e["status"] == "ok"],
                interval_s + timeout_s + MARGIN_S, "check_changed back to ok",
                r.diag)[0]
    assert (back["old_code"], back["code"]) == ("unreachable", "ok"), back
    assert "hint" not in back, back
    assert secret not in json.dumps(status(sock)), "status leaks it"
    gate.write_text("")
    assert r.wait() == 0, r.diag()
    evs = check_event_stream(r.stdout(), 0)
    assert len(named(evs, "check_changed")) == 2, r.diag()
    assert secret not in r.stdout() + r.stderr(), "an event leaks it"


def test_reruns_beside_a_tunnel(run, topo, tmp_path, sockdir, mine):
    """A tunnel holds its connection for `hold` while the proxy check is
    re-run every second: a re-run never disturbs it (its verdict comes
    once, after the summary, when hold is over) and PID 1 goes on."""
    mine.append(topo.start("holder", [sys.executable, "-c", HOLDER, SRV_IP,
                                      str(HOLD_PORT)],
                           lambda d: "holder ready" in d.output()))
    mine.append(tinyproxy(topo, "tinyproxy-hold", WATCH_PORT, HOLD_PORT))
    gate = tmp_path / "gate"
    sock = os.path.join(sockdir, "ctl.sock")
    url = "http://%s:%d" % (SRV_IP, WATCH_PORT)
    c = conf(tmp_path, (
        "[init]\ncontrol_socket = %s\n"
        "[check proxy]\ninterval = 1s\ntimeout = 1s\n"
        "[check tunnel]\ntarget = %s:%d\nhold = 4s\n%s")
        % (sock, SRV_IP, HOLD_PORT, svc("agent", gate, "main = yes\n")))
    r = pid1(run, topo, c, env={"HTTPS_PROXY": url,
                                "AGENT_INIT_CONTROL_SOCKET": None})
    r.wait_event("checks")
    # Re-runs of the proxy while the tunnel is held (ages stay small).
    poll(lambda: verdict(status(sock), "proxy", url)["age_ms"] < 900,
         interval_s_margin(), "a re-run of the proxy check", r.diag)
    tun = r.wait_event("check", check="tunnel", timeout=4 + MARGIN_S)
    assert (tun["status"], tun["code"]) == ("ok", "ok"), tun
    assert "stayed open" in tun["detail"], tun
    assert tun["elapsed_ms"] >= 4000, tun
    # One verdict of the tunnel, and status has it too.
    assert len(named(r.events(), "check", check="tunnel")) == 1, r.diag()
    assert verdict(status(sock), "tunnel", "%s:%d" % (SRV_IP, HOLD_PORT))[
        "code"] == "ok"
    # The re-runs go on after it.
    poll(lambda: verdict(status(sock), "proxy", url)["age_ms"] < 900,
         interval_s_margin(), "a re-run of the proxy check", r.diag)
    assert not named(r.events(), "check_changed"), r.diag()
    gate.write_text("")
    assert r.wait() == 0, r.diag()
    evs = check_event_stream(r.stdout(), 0)
    assert len(named(evs, "check", check="tunnel")) == 1, r.diag()


def interval_s_margin():
    return 1 + 1 + MARGIN_S


def test_no_interval_no_rerun(run, topo, tmp_path, sockdir):
    """Without `interval`, a check runs once: the verdict only ages."""
    gate = tmp_path / "gate"
    sock = os.path.join(sockdir, "ctl.sock")
    target = "%s:%d" % (SRV_IP, OPEN_PORT)
    c = conf(tmp_path, "[init]\ncontrol_socket = %s\n"
             "[check tcp:gw]\ntarget = %s\n%s"
             % (sock, target, svc("agent", gate, "main = yes\n")))
    r = pid1(run, topo, c, env={"AGENT_INIT_CONTROL_SOCKET": None})
    r.wait_event("ready")
    a1 = verdict(status(sock), "tcp:gw", target)["age_ms"]
    time.sleep(0.3)  # let the verdict age (not an assertion on timing)
    a2 = verdict(status(sock), "tcp:gw", target)["age_ms"]
    assert a2 > a1, (a1, a2)
    gate.write_text("")
    assert r.wait() == 0, r.diag()
    assert not named(check_event_stream(r.stdout(), 0), "check_changed")


# --- start gated on the network ---------------------------------------------

@pytest.mark.parametrize("mode", ["warn", "enforce"])
def test_after_check_starts_once_listener_appears(run, topo, tmp_path, mode,
                                                  mine):
    gate = tmp_path / "gate"
    target = "%s:%d" % (SRV_IP, LATE_PORT)
    c = conf(tmp_path, (
        "[init]\nchecks = %s\n"
        "[check tcp:gw]\ntarget = %s\ntimeout = 1s\nrequired = yes\n"
        "%s%s")
        % (mode, target, svc("other", gate),
           svc("agent", gate, "main = yes\nafter = check:gw\n"
                              "check_wait = 60s\n")))
    r = pid1(run, topo, c)
    first = r.wait_event("check", check="tcp:gw")
    assert (first["status"], first["code"]) == ("fail", "refused"), r.diag()
    w = wait_waiting(r, "agent", "waiting for check gw")
    assert "refused" in w["reason"]["agent"], w
    # Held (even with enforce and a required check that failed): the
    # gate judges it at check_wait, not the first run.
    assert_never(r, "service_start", 1.5, service="agent")
    assert r.proc.poll() is None, r.diag()
    if mode == "warn":
        assert named(r.events(), "service_start", service="other"), r.diag()

    t_open = time.time()
    mine.append(listener(topo, "late-listener", LATE_PORT))
    st = r.wait_event("service_start", service="agent", timeout=20)
    evs = r.events()
    i_changed = [i for i, e in enumerate(evs)
                 if e["agent_init"] == "check_changed" and
                 e["check"] == "tcp:gw" and e["code"] == "ok"]
    i_start = evs.index(st)
    assert i_changed and i_changed[0] < i_start, r.diag()
    # Only once the listener is there (event times have ms precision).
    assert ts_seconds(st) >= t_open - 0.01, (st, t_open)
    assert not named(evs, "warning", what="check_wait"), r.diag()
    gate.write_text("")
    assert r.wait() == 0, r.diag()
    check_event_stream(r.stdout(), 0)


@pytest.mark.parametrize("mode", ["warn", "enforce"])
def test_check_wait_required_exits_69(run, topo, tmp_path, mode):
    gate = tmp_path / "gate"
    c = conf(tmp_path, (
        "[init]\nchecks = %s\n"
        "[check tcp:gw]\ntarget = %s:%d\ntimeout = 1s\nrequired = yes\n"
        "%s%s")
        % (mode, SRV_IP, CLOSED_PORT, svc("other", gate),
           svc("agent", gate, "main = yes\nafter = check:gw\n"
                              "check_wait = 2s\n")))
    r = pid1(run, topo, c)
    assert r.wait() == EXIT_CHECKS, r.diag()
    evs = check_event_stream(r.stdout(), EXIT_CHECKS)
    assert not named(evs, "service_start", service="agent"), r.diag()
    sd = named(evs, "shutdown")
    assert sd and sd[0]["reason"] == "a required check did not pass", sd
    ex = evs[-1]
    assert "required check gw did not pass within 2000 ms" in ex["reason"], ex
    assert "refused" in ex["reason"], ex
    # The re-runs were tried meanwhile (a 2 s wait, pauses of 250 ms
    # doubling): they found nothing new, so nothing changed.
    assert not named(evs, "check_changed"), r.diag()
    if mode == "warn":
        # What had started is stopped by the shutdown, in order.
        assert named(evs, "service_exit", service="other"), r.diag()


def test_check_wait_not_required_starts_with_warning(run, topo, tmp_path):
    gate = tmp_path / "gate"
    c = conf(tmp_path, (
        "[check tcp:gw]\ntarget = %s:%d\ntimeout = 1s\n%s")
        % (SRV_IP, CLOSED_PORT,
           svc("agent", gate, "main = yes\nafter = check:gw\n"
                              "check_wait = 2s\n")))
    r = pid1(run, topo, c)
    st = r.wait_event("service_start", service="agent")
    evs = r.events()
    w = named(evs, "warning", what="check_wait")
    assert len(w) == 1, r.diag()
    assert (w[0]["service"], w[0]["check"]) == ("agent", "gw"), w
    assert "check gw did not pass within 2000 ms" in w[0]["detail"], w
    assert evs.index(w[0]) < evs.index(st), r.diag()
    gate.write_text("")
    assert r.wait() == 0, r.diag()
    check_event_stream(r.stdout(), 0)


# --- configuration errors (no network needed) -------------------------------

@pytest.mark.parametrize("how", ["file", "env", "option"])
def test_checks_off_with_after_check_is_78(run, tmp_path, how):
    text = ("[init]\nchecks = off\n" if how == "file" else "") + (
        "[check tcp:gw]\ntarget = 127.0.0.1:9\n"
        "[service agent]\ncommand = /bin/true\nafter = check:gw\n")
    c = conf(tmp_path, text)
    line = 7 if how == "file" else 5
    env = {"AGENT_INIT_CHECKS": "off"} if how == "env" else {}
    args = ["--no-checks"] if how == "option" else []
    r = run(args + ["-c", c], pid1=True, env=dict(
        env, AGENT_INIT_NO_CHECKS=None, AGENT_INIT_CONTROL_SOCKET=""))
    assert r.wait() == EXIT_CONFIG, r.diag()
    assert r.stderr().startswith("agent-init: %s:%d: after: check:gw needs "
                                 "the checks, but they are off" % (c, line)), (
        r.diag())
    assert r.stdout() == "", r.diag()   # nothing started, not even `start`
    if how == "file":
        p = agent(["check-config", c])
        assert p.returncode == EXIT_CONFIG, p
        assert p.stderr.startswith("%s:%d: after: check:gw" % (c, line)), p


def test_unknown_check_name_is_78(run, tmp_path):
    c = conf(tmp_path, "[check tcp:gw]\ntarget = 127.0.0.1:9\n"
             "[service agent]\ncommand = /bin/true\n"
             "after = check:gateway\n")
    r = run(["-c", c], pid1=True, env={"AGENT_INIT_NO_CHECKS": None,
                                       "AGENT_INIT_CONTROL_SOCKET": ""})
    assert r.wait() == EXIT_CONFIG, r.diag()
    assert r.stderr() == ("agent-init: %s:5: after: no check named 'gateway' "
                          "(a [check TYPE:gateway] section, or an unnamed "
                          "[check gateway])\n" % c), r.diag()
    p = agent(["check-config", c])
    assert p.returncode == EXIT_CONFIG, p
    assert p.stderr.startswith("%s:5: after: no check named" % c), p
