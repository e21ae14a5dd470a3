"""The `tunnel` check and the IPv6 finding of the `environment` check
(SPEC section 8, issue 4).

Everything runs in the namespaces of netutil.Topology, plus, on its server
side:

  - holder     a Python TCP server on SRV_IP:HOLD_PORT that accepts and
               keeps every connection open, silent (tcplisten writes
               "hello" and closes, which would end a tunnel at once);
  - tinyproxy  two more instances: CUT_PORT with `Timeout 2` (it closes a
               CONNECT tunnel idle for 2 s) and KEEP_PORT with
               `Timeout 30`; both allow CONNECT to HOLD_PORT only, so a
               CONNECT to OPEN_PORT is denied (403 "Access violation");
  - dnsmasq6   on V6DNS_IP (an extra address of the server): dual.test
               has A and AAAA records, v4only.test only an A record
               (--local=/test/: NODATA for its AAAA; without it dnsmasq
               2.90 with no upstream answers REFUSED).

The sandbox namespace has no IPv6 default route; tests that need one add
it (fixture `v6route`) and remove it again.  Nothing sends a packet outside
the namespaces created here.  Every wait is a bounded poll.
"""
import os
import re
import sys

import pytest

import netutil
from netutil import conf
from harness import check_event_stream
from netutil import (DOWN_PORT, DROP_IP, NET, OPEN_PORT, SRV_IP, SUBNET, sh,
                     tcp_ready)

HOLD_PORT = 8444
CUT_PORT = 3140           # tinyproxy, Timeout 2
KEEP_PORT = 3141          # tinyproxy, Timeout 30
CUT_TIMEOUT_S = 2
V6DNS_IP = NET + ".6"     # dnsmasq with AAAA records
SBX_IP6 = "2001:db8:231::2"
GW_IP6 = "2001:db8:231::1"
AAAA_IP = "2001:db8:231::53"

CUT_PROXY = "http://%s:%d" % (SRV_IP, CUT_PORT)
KEEP_PROXY = "http://%s:%d" % (SRV_IP, KEEP_PORT)
HOLD = "%s:%d" % (SRV_IP, HOLD_PORT)

HOLDER = r"""
import select, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(64)
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


def _extras(t):
    t.start("holder", [sys.executable, "-c", HOLDER, SRV_IP, str(HOLD_PORT)],
            lambda d: "holder ready" in d.output())
    for name, port, timeout in (("tinyproxy-cut", CUT_PORT, CUT_TIMEOUT_S),
                                ("tinyproxy-keep", KEEP_PORT, 30)):
        log = t.write(name + ".log", "")
        os.chmod(log, 0o666)
        conf = t.write(name + ".conf", (
            "User nobody\nGroup nogroup\nPort %d\nListen %s\nTimeout %d\n"
            "MaxClients 20\nLogFile \"%s\"\nLogLevel Info\nAllow %s\n"
            "ConnectPort %d\nDisableViaHeader Yes\n")
            % (port, SRV_IP, timeout, log, SUBNET, HOLD_PORT))
        t.start(name, ["tinyproxy", "-d", "-c", conf],
                tcp_ready(t.srv, SRV_IP, port))
    sh("ip", "-n", t.srv, "addr", "add", V6DNS_IP + "/24", "dev", t.veth_srv)
    dlog = t.path("dnsmasq6.log")

    def started(_d):
        try:
            with open(dlog) as f:
                return "started" in f.read()
        except FileNotFoundError:
            return False
    t.start("dnsmasq6", [
        "dnsmasq", "-k", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
        "--no-poll",
        "--host-record=dual.test,%s,%s" % (SRV_IP, AAAA_IP),
        "--host-record=v4only.test,%s" % SRV_IP, "--local=/test/",
        "--listen-address=" + V6DNS_IP, "--bind-interfaces", "--port=53",
        "--user=root", "--log-facility=" + dlog, "--log-queries"], started)


@pytest.fixture(scope="module")
def topo():
    t = netutil.Topology()
    try:
        t.up()
        _extras(t)
    except BaseException:
        t.down()
        raise
    yield t
    errors = t.down()
    assert not errors, errors


def resolv(tmp_path, ns, name="resolv.conf"):
    p = tmp_path / name
    p.write_text("nameserver %s\n" % ns)
    return str(p)


def validate_check(e, diag=lambda: ""):
    for k in ("check", "target", "status", "code", "elapsed_ms", "detail"):
        assert k in e, "check event without %s: %r%s" % (k, e, diag())
    assert e["status"] in ("ok", "warn", "fail", "skip"), e
    assert isinstance(e["elapsed_ms"], int) and e["elapsed_ms"] >= 0, e
    if e["status"] == "ok":
        assert "hint" not in e, e


def assert_hint(e, diag=lambda: ""):
    assert e.get("hint"), "no hint on a %s: %r%s" % (e["status"], e, diag())


def names(evs):
    return [e["agent_init"] for e in evs]


def pid1(run, topo, conf_path, cmd, env=None):
    e = {"AGENT_INIT_CONTROL_SOCKET": ""}
    e.update(env or {})
    return run(["-c", conf_path, "--"] + cmd, pid1=True, env=topo.env(e),
               preexec_fn=netutil.enter_netns(topo.sbx))


def gated(tmp_path):
    """A main service that runs until the test creates the gate file."""
    gate = tmp_path / "gate"
    return gate, [os.path.join(netutil.HELPERS, "svcact"), "o:main-up",
                  "gate:%s" % gate]


def tunnel_conf(tmp_path, target, hold, extra=""):
    return conf(tmp_path, "[check tunnel]\ntarget = %s\nhold = %s\n%s"
                % (target, hold, extra))


def index_of(evs, pred):
    for i, e in enumerate(evs):
        if pred(e):
            return i
    raise AssertionError("no such event in %r" % (names(evs),))


def is_tunnel(e):
    return e["agent_init"] == "check" and e["check"] == "tunnel"


def finish(r, gate):
    gate.write_text("")
    assert r.wait() == 0, r.diag()
    return check_event_stream(r.stdout(), 0)


# --- tunnel -----------------------------------------------------------------

def test_tunnel_cut_by_idle_timeout(run, topo, tmp_path):
    # tinyproxy closes the idle tunnel after its Timeout (2 s); hold is 6 s.
    # A resolver check makes the `checks` summary non-trivial.
    gate, cmd = gated(tmp_path)
    c = tunnel_conf(tmp_path, HOLD, "6s",
                    "[check resolver]\nresolv_conf = %s\nquery = ok.test\n"
                    % resolv(tmp_path, SRV_IP))
    r = pid1(run, topo, c, cmd, env={"HTTPS_PROXY": CUT_PROXY})
    ev = r.wait_event("check", check="tunnel")
    validate_check(ev, r.diag)
    assert (ev["status"], ev["code"], ev["target"]) == (
        "warn", "tunnel_cut", HOLD), r.diag()
    assert_hint(ev, r.diag)
    m = re.search(r"after (\d+) ms", ev["detail"])
    assert m, r.diag()
    lifetime = int(m.group(1))
    assert 1500 <= lifetime <= 4000, "lifetime %d ms, the proxy's idle " \
        "timeout is %d s%s" % (lifetime, CUT_TIMEOUT_S, r.diag())
    assert ev["elapsed_ms"] >= lifetime, r.diag()
    # The main service still runs: the verdict did not wait for it.
    assert "service_exit" not in names(r.events()), r.diag()
    evs = finish(r, gate)
    n = names(evs)
    i_sum = n.index("checks")
    i_tun = index_of(evs, is_tunnel)
    assert i_sum < i_tun, "tunnel verdict before the summary: %r" % n
    assert i_tun < n.index("service_exit"), n
    # One verdict only, and the summary counts the resolver, not the tunnel.
    assert sum(1 for e in evs if is_tunnel(e)) == 1, r.diag()
    s = evs[i_sum]
    assert (s["ok"], s["warn"], s["fail"]) == (1, 0, 0), s


def test_tunnel_survives_hold(run, topo, tmp_path):
    gate, cmd = gated(tmp_path)
    c = tunnel_conf(tmp_path, HOLD, "1s")
    r = pid1(run, topo, c, cmd, env={"HTTPS_PROXY": KEEP_PROXY})
    ev = r.wait_event("check", check="tunnel")
    validate_check(ev, r.diag)
    assert (ev["status"], ev["code"]) == ("ok", "ok"), r.diag()
    m = re.search(r"stayed open for (\d+) ms", ev["detail"])
    assert m, r.diag()
    assert int(m.group(1)) >= 1000, r.diag()   # timers never fire early
    evs = finish(r, gate)
    assert names(evs).index("checks") < index_of(evs, is_tunnel), r.diag()


def test_tunnel_survives_hold_lower_case_variable(run, topo, tmp_path):
    gate, cmd = gated(tmp_path)
    c = tunnel_conf(tmp_path, HOLD, "1s")
    r = pid1(run, topo, c, cmd, env={"https_proxy": KEEP_PROXY})
    ev = r.wait_event("check", check="tunnel")
    assert (ev["status"], ev["code"]) == ("ok", "ok"), r.diag()
    finish(r, gate)


def test_tunnel_denied(run, topo, tmp_path):
    # The proxy allows CONNECT to HOLD_PORT only: 403 for OPEN_PORT.
    gate, cmd = gated(tmp_path)
    c = tunnel_conf(tmp_path, "%s:%d" % (SRV_IP, OPEN_PORT), "5s")
    r = pid1(run, topo, c, cmd, env={"HTTPS_PROXY": KEEP_PROXY})
    ev = r.wait_event("check", check="tunnel")
    validate_check(ev, r.diag)
    assert (ev["status"], ev["code"]) == ("fail", "denied"), r.diag()
    evs = finish(r, gate)
    assert sum(1 for e in evs if is_tunnel(e)) == 1, r.diag()


def test_tunnel_proxy_down_is_unreachable(run, topo, tmp_path):
    gate, cmd = gated(tmp_path)
    c = tunnel_conf(tmp_path, HOLD, "5s")
    r = pid1(run, topo, c, cmd,
             env={"HTTPS_PROXY": "http://%s:%d" % (SRV_IP, DOWN_PORT)})
    ev = r.wait_event("check", check="tunnel")
    validate_check(ev, r.diag)
    assert (ev["status"], ev["code"]) == ("fail", "unreachable"), r.diag()
    finish(r, gate)


def test_pending_tunnel_never_delays_shutdown(run, topo, tmp_path):
    # hold = 5m: the main command ends long before; agent-init exits with
    # it (a run that waited for the tunnel would time out the wait below)
    # and reports no tunnel verdict it does not have.
    c = tunnel_conf(tmp_path, HOLD, "5m")
    r = pid1(run, topo, c, [os.path.join(netutil.HELPERS, "exitwith"), "3"],
             env={"HTTPS_PROXY": KEEP_PROXY})
    assert r.wait() == 3, r.diag()
    evs = check_event_stream(r.stdout(), 3)
    assert not [e for e in evs if is_tunnel(e)], r.diag()


def test_tunnel_without_proxy_is_skip(run, topo, tmp_path):
    gate, cmd = gated(tmp_path)
    c = tunnel_conf(tmp_path, HOLD, "5s")
    r = pid1(run, topo, c, cmd)
    ev = r.wait_event("check", check="tunnel")
    assert (ev["status"], ev["code"]) == ("skip", "none"), r.diag()
    finish(r, gate)


@pytest.mark.parametrize("proxy,target", [
    (KEEP_PROXY, "%s:%d" % (SRV_IP, OPEN_PORT)),            # denied
    ("http://%s:%d" % (SRV_IP, DOWN_PORT), HOLD),           # unreachable
], ids=["denied", "unreachable"])
def test_tunnel_failure_has_hint(run, topo, tmp_path, proxy, target):
    gate, cmd = gated(tmp_path)
    c = tunnel_conf(tmp_path, target, "5s")
    r = pid1(run, topo, c, cmd, env={"HTTPS_PROXY": proxy})
    ev = r.wait_event("check", check="tunnel")
    assert ev["status"] == "fail", r.diag()
    finish(r, gate)
    assert_hint(ev, r.diag)


def slow_checks_with_denied_tunnel(run, topo, tmp_path):
    """A denied tunnel (answered in a few ms) next to a resolver check
    that takes the whole check_timeout (its server drops port 53)."""
    gate, cmd = gated(tmp_path)
    c = tunnel_conf(tmp_path, "%s:%d" % (SRV_IP, OPEN_PORT), "5s",
                    "[init]\ncheck_timeout = 1s\n[check resolver]\n"
                    "resolv_conf = %s\n" % resolv(tmp_path, DROP_IP))
    r = pid1(run, topo, c, cmd, env={"HTTPS_PROXY": KEEP_PROXY})
    r.wait_event("check", check="tunnel")
    r.wait_event("checks")
    evs = finish(r, gate)
    return r, evs


def test_tunnel_not_counted_in_summary(run, topo, tmp_path):
    r, evs = slow_checks_with_denied_tunnel(run, topo, tmp_path)
    s, = [e for e in evs if e["agent_init"] == "checks"]
    res = [e for e in evs if e["agent_init"] == "check" and
           e["check"] == "resolver"]
    assert len(res) == 1 and res[0]["code"] == "timeout", r.diag()
    # One foreground check, the resolver, failed.
    assert (s["ok"], s["warn"], s["fail"], s["skip"]) == (0, 0, 1, 0), (
        "summary %r%s" % (s, r.diag()))


def test_tunnel_verdict_after_summary_even_when_fast(run, topo, tmp_path):
    r, evs = slow_checks_with_denied_tunnel(run, topo, tmp_path)
    assert names(evs).index("checks") < index_of(evs, is_tunnel), (
        "order %r%s" % (names(evs), r.diag()))


def test_netcheck_reports_tunnel_as_background_skip(topo, tmp_path):
    c = tunnel_conf(tmp_path, HOLD, "6s")
    with open(topo.path("tinyproxy-cut.log")) as f:
        before = len(f.read())
    res = topo.netcheck("--json", "-c", c, env={"HTTPS_PROXY": CUT_PROXY})
    assert res.rc == 0, res.diag()
    evs = res.events()
    assert names(evs) == ["check", "checks"], res.diag()
    e = evs[0]
    assert (e["check"], e["target"], e["status"], e["code"]) == (
        "tunnel", HOLD, "skip", "background"), res.diag()
    assert evs[1]["skip"] == 1, res.diag()
    # netcheck did not even open the tunnel: no CONNECT reached the proxy.
    with open(topo.path("tinyproxy-cut.log")) as f:
        log = f.read()
    assert "Request (file descriptor" not in log[before:], log[before:]


# --- IPv6: AAAA records without an IPv6 route ---------------------------------

@pytest.fixture
def v6route(topo):
    """An IPv6 address and default route in the sandbox (removed after)."""
    def add(kind="via"):
        sh("ip", "-n", topo.sbx, "-6", "addr", "add", SBX_IP6 + "/64", "dev",
           topo.veth_sbx, "nodad")
        added.append("addr")
        if kind == "via":
            sh("ip", "-n", topo.sbx, "-6", "route", "add", "default", "via",
               GW_IP6, "dev", topo.veth_sbx)
        else:       # a reject route: no route at all for the kernel
            sh("ip", "-n", topo.sbx, "-6", "route", "add", "unreachable",
               "default")
        added.append(kind)
    added = []
    yield add
    if "via" in added or "unreachable" in added:
        sh("ip", "-n", topo.sbx, "-6", "route", "flush", "default")
    if "addr" in added:
        sh("ip", "-n", topo.sbx, "-6", "addr", "del", SBX_IP6 + "/64", "dev",
           topo.veth_sbx)


def v6_netcheck(topo, tmp_path, name):
    c = conf(tmp_path, "[check resolver]\nresolv_conf = %s\nquery = %s\n"
             % (resolv(tmp_path, V6DNS_IP), name))
    res = topo.netcheck("--json", "-c", c)
    evs = res.events()
    assert names(evs)[-1] == "checks", res.diag()
    rs = [e for e in evs if e["agent_init"] == "check" and
          e["check"] == "resolver"]
    assert len(rs) == 1 and rs[0]["code"] == "ok", res.diag()
    v6 = [e for e in evs if e["agent_init"] == "check" and
          e["check"] == "environment" and e["target"] == "ipv6"]
    assert len(v6) == 1, "want one environment/ipv6: %r%s" % (evs, res.diag())
    validate_check(v6[0], res.diag)
    return res, v6[0], evs[-1]


def test_ipv6_aaaa_without_route_warns(topo, tmp_path):
    res, e, summary = v6_netcheck(topo, tmp_path, "dual.test")
    assert (e["status"], e["code"]) == ("warn", "ipv6_no_route"), res.diag()
    assert "dual.test" in e["detail"], res.diag()
    assert_hint(e, res.diag)
    assert summary["warn"] == 1 and summary["ok"] == 1, res.diag()
    assert res.rc == 0, res.diag()    # a warning is not a failure


def test_ipv6_aaaa_with_default_route_is_ok(topo, tmp_path, v6route):
    v6route("via")
    res, e, _ = v6_netcheck(topo, tmp_path, "dual.test")
    assert (e["status"], e["code"]) == ("ok", "ok"), res.diag()
    assert "1 address" in e["detail"], res.diag()


def test_ipv6_reject_default_route_still_warns(topo, tmp_path, v6route):
    # `unreachable default` is in the table but routes nothing.
    v6route("unreachable")
    res, e, _ = v6_netcheck(topo, tmp_path, "dual.test")
    assert (e["status"], e["code"]) == ("warn", "ipv6_no_route"), res.diag()


def test_ipv6_name_without_aaaa_is_ok(topo, tmp_path):
    res, e, _ = v6_netcheck(topo, tmp_path, "v4only.test")
    assert (e["status"], e["code"]) == ("ok", "ok"), res.diag()
    assert re.search(r"\b0 address", e["detail"]), res.diag()


def test_ipv6_finding_under_pid1(run, topo, tmp_path):
    gate, cmd = gated(tmp_path)
    c = conf(tmp_path, "[check resolver]\nresolv_conf = %s\nquery = "
             "dual.test\n" % resolv(tmp_path, V6DNS_IP))
    r = pid1(run, topo, c, cmd)
    r.wait_event("checks")
    evs = finish(r, gate)
    v6 = [e for e in evs if e["agent_init"] == "check" and
          e["check"] == "environment" and e["target"] == "ipv6"]
    assert len(v6) == 1 and v6[0]["code"] == "ipv6_no_route", r.diag()
    n = names(evs)
    assert evs.index(v6[0]) < n.index("checks"), n
    s = evs[n.index("checks")]
    assert (s["ok"], s["warn"]) == (1, 1), s
