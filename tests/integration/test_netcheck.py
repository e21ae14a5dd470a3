"""Startup checks (SPEC section 8, issue 4), through `agent-init netcheck`
(table and --json) and through PID 1 (`check`/`checks` events, `checks =
enforce` and `warn`).

Every run happens in the sandbox namespace of netutil.Topology: real
dnsmasq, tinyproxy and nft/iptables drop rules on the other end of a veth
pair, plus two small helpers (tests/helpers/dnsstub.c for SERVFAIL and
truncated replies, tcplisten.c for listening ports).  Nothing here sends a
packet outside the namespaces it created.

dnsmasq 2.90 cannot be made to answer SERVFAIL on demand: with an
unroutable upstream it answers REFUSED, with a silent one it never answers
at all; so SERVFAIL comes from dnsstub, NOERROR/NXDOMAIN/REFUSED from
dnsmasq.
"""
import base64
import ctypes
import os
import re
import shutil
import signal

import pytest

import netutil
from netutil import conf
from harness import check_event_stream, poll
from netutil import (AUTH_PORT, CLOSED_PORT, DOWN_PORT, DROP_IP, DROP_PORT,
                     EMPTY_IP, NOROUTE_IP, OPEN_PORT, OPEN_PORT2, PROXY_PASS,
                     PROXY_PORT, PROXY_USER, SRV_IP, STUB_IP, SUBNET)

SEC_MARGIN_MS = 1500      # a verdict at the deadline may be this late
CAP_NET_ADMIN = 12
PR_CAPBSET_DROP = 24
EXIT_CHECKS = 69

PROXY = "http://%s:%d" % (SRV_IP, PROXY_PORT)
AUTH_PROXY = "http://%s:%d" % (SRV_IP, AUTH_PORT)
OPEN = "%s:%d" % (SRV_IP, OPEN_PORT)


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


def resolv(tmp_path, *nameservers, name="resolv.conf"):
    p = tmp_path / name
    p.write_text("".join("nameserver %s\n" % n for n in nameservers))
    return str(p)


def hosts(tmp_path):
    p = tmp_path / "hosts"
    p.write_text("127.0.0.1 localhost\n%s hostsonly.test\n" % SRV_IP)
    return str(p)


def resolver_conf(tmp_path, ns, query=None, extra=""):
    text = "[check resolver]\nresolv_conf = %s\nhosts = %s\n" % (
        resolv(tmp_path, *([ns] if isinstance(ns, str) else ns)),
        hosts(tmp_path))
    if query:
        text += "query = %s\n" % query
    return conf(tmp_path, text + extra)


TABLE_ROW = re.compile(r"^(\S+)\s+(\S*)\s+(ok|warn|fail|skip)\s+(\S+)\s+(.*)$")
SUMMARY = re.compile(r"^(\d+) ok, (\d+) warn, (\d+) fail, (\d+) skip in (\d+) ms$")


def table(res):
    """The rows of netcheck's table: [(check, target, status, code, detail,
    hint)], after checking the header and the summary line."""
    lines = res.out.splitlines()
    assert lines and lines[0].split() == ["CHECK", "TARGET", "STATUS", "CODE",
                                          "DETAIL"], res.diag()
    rows = []
    for line in lines[1:]:
        if not line.strip():
            break
        if line.lstrip().startswith("-> "):
            assert rows, res.diag()
            rows[-1][5] = line.split("-> ", 1)[1]
            continue
        m = TABLE_ROW.match(line)
        assert m, "bad table row %r%s" % (line, res.diag())
        rows.append(list(m.groups()) + [None])
    m = SUMMARY.match(lines[-1])
    assert m, "bad summary line %r%s" % (lines[-1], res.diag())
    counts = dict(zip(("ok", "warn", "fail", "skip"),
                      (int(x) for x in m.groups()[:4])))
    for st in counts:
        assert counts[st] == sum(1 for r in rows if r[2] == st), res.diag()
    return rows


def json_checks(res):
    """--json: every line is one event, `check`s then one `checks` whose
    counts add up; returns the `check` events."""
    lines = res.out.splitlines()
    assert lines, res.diag()
    for line in lines:
        assert re.match(r'^\{"agent_init":"checks?","ts":"', line), (
            "bad line %r%s" % (line, res.diag()))
    evs = res.events()
    assert [e["agent_init"] for e in evs] == ["check"] * (len(evs) - 1) + [
        "checks"], res.diag()
    checks = evs[:-1]
    for e in checks:
        validate_check(e, res.diag)
    summary = evs[-1]
    for st in ("ok", "warn", "fail", "skip"):
        assert summary[st] == sum(1 for e in checks if e["status"] == st), (
            res.diag())
    assert isinstance(summary["elapsed_ms"], int)
    return checks


def validate_check(e, diag=lambda: ""):
    for k in ("check", "target", "status", "code", "elapsed_ms", "detail"):
        assert k in e, "check event without %s: %r%s" % (k, e, diag())
    assert e["status"] in ("ok", "warn", "fail", "skip"), e
    assert isinstance(e["elapsed_ms"], int) and e["elapsed_ms"] >= 0, e
    if e["status"] in ("warn", "fail"):
        assert e.get("hint"), "no hint on a %s: %r%s" % (e["status"], e,
                                                          diag())
    if e["status"] == "ok":
        assert "hint" not in e, e


def nc_json(topo, *args, env=None, wrap=()):
    """netcheck --json; returns (result, check events)."""
    res = topo.netcheck("--json", *args, env=env, wrap=wrap)
    return res, json_checks(res)


def only(checks, check, target=None, res=None):
    got = [e for e in checks if e["check"].split(":")[0] == check and
           (target is None or e["target"] == target)]
    assert len(got) == 1, "want one %s%s, got %r%s" % (
        check, " " + target if target else "", checks,
        res.diag() if res else "")
    return got[0]


def assert_at_deadline(e, timeout_ms, diag=""):
    # Timers never fire early; a verdict later than the margin is a hang.
    assert timeout_ms <= e["elapsed_ms"] <= timeout_ms + SEC_MARGIN_MS, (
        "verdict at %d ms for a %d ms timeout: %r%s" % (
            e["elapsed_ms"], timeout_ms, e, diag))


# --- resolver ---------------------------------------------------------------

@pytest.mark.parametrize("ns,query,status,code,detail", [
    (SRV_IP, "ok.test", "ok", "ok", "answered"),             # dnsmasq
    (SRV_IP, "nx.test", "warn", "nxdomain", "NXDOMAIN"),     # dnsmasq
    (SRV_IP, "unknown.test", "fail", "refused", "REFUSED"),  # dnsmasq
    (STUB_IP, "servfail.test", "fail", "servfail", "SERVFAIL"),
    (STUB_IP, "refused.test", "fail", "refused", "REFUSED"),
    (STUB_IP, None, "ok", "ok", ". NS"),     # default query: the root's NS
], ids=["ok", "nxdomain", "refused-dnsmasq", "servfail", "refused-stub",
        "root-ns"])
def test_resolver_reply_codes(topo, tmp_path, ns, query, status, code, detail):
    res, checks = nc_json(topo, "-c", resolver_conf(tmp_path, ns, query))
    e = only(checks, "resolver", ns, res)
    assert (e["status"], e["code"]) == (status, code), res.diag()
    assert detail in e["detail"], res.diag()
    # Any reply proves the server reachable: never a firewall hint.
    assert "dropped" not in e.get("hint", ""), res.diag()
    assert res.rc == (1 if status == "fail" else 0), res.diag()


def test_resolver_table_output(topo, tmp_path):
    res = topo.netcheck("-c", resolver_conf(tmp_path, [SRV_IP, STUB_IP],
                                             "servfail.test"))
    rows = table(res)
    by_target = {r[1]: r for r in rows}
    assert by_target[SRV_IP][:4] == ["resolver", SRV_IP, "fail", "refused"]
    assert by_target[STUB_IP][:4] == ["resolver", STUB_IP, "fail", "servfail"]
    assert "upstream" in by_target[STUB_IP][5], res.diag()
    assert res.rc == 1


def test_resolver_one_verdict_per_nameserver(topo, tmp_path):
    res, checks = nc_json(topo, "-c", resolver_conf(
        tmp_path, [SRV_IP, "127.0.0.1", NOROUTE_IP], "ok.test"))
    got = {e["target"]: e["code"] for e in checks if e["check"] == "resolver"}
    assert got == {SRV_IP: "ok", "127.0.0.1": "port_unreachable",
                   NOROUTE_IP: "net_unreachable"}, res.diag()
    assert res.rc == 1


def test_resolver_dropped_times_out_at_the_deadline(topo, tmp_path):
    res, checks = nc_json(topo, "--timeout", "1s", "-c",
                          resolver_conf(tmp_path, DROP_IP, "ok.test"))
    e = only(checks, "resolver", DROP_IP, res)
    assert (e["status"], e["code"]) == ("fail", "timeout"), res.diag()
    assert_at_deadline(e, 1000, res.diag())
    # UDP then TCP were tried, and both stayed silent.
    assert "UDP" in e["detail"] and "TCP" in e["detail"], res.diag()
    assert "dropped" in e["hint"], res.diag()
    # Not the embedded-DNS remedy: that is for 127.0.0.11 only.
    assert "runsc" not in e["hint"], res.diag()


def test_resolver_embedded_dns_hint(topo, tmp_path):
    # 127.0.0.11 in a namespace where an iptables rule drops its packets:
    # not gVisor (the facts say so), so the remedy is the rule and a
    # resolver the sandbox can reach, never `runsc` (issue 12: this test
    # asserted the gVisor remedy before).
    res, checks = nc_json(topo, "--timeout", "1s", "-c",
                          resolver_conf(tmp_path, "127.0.0.11", "ok.test"))
    e = only(checks, "resolver", "127.0.0.11", res)
    assert (e["status"], e["code"]) == ("fail", "timeout"), res.diag()
    assert_at_deadline(e, 1000, res.diag())
    assert "runsc" not in e["hint"], res.diag()
    assert "dropped" in e["hint"] and "firewall rule" in e["hint"], res.diag()
    assert "--dns" in e["hint"] and "embedded DNS" in e["hint"], res.diag()


@pytest.mark.parametrize("ns", ["127.0.0.1", EMPTY_IP],
                         ids=["loopback", "veth-peer"])
def test_resolver_no_listener_is_port_unreachable(topo, tmp_path, ns):
    res, checks = nc_json(topo, "--timeout", "5s", "-c",
                          resolver_conf(tmp_path, ns, "ok.test"))
    e = only(checks, "resolver", ns, res)
    assert (e["status"], e["code"]) == ("fail", "port_unreachable"), res.diag()
    # An ICMP error comes back at once: not at the deadline.
    assert e["elapsed_ms"] < 5000, res.diag()
    assert "nothing listens" in e["hint"], res.diag()


def test_resolver_no_route_is_net_unreachable(topo, tmp_path):
    res, checks = nc_json(topo, "--timeout", "5s", "-c",
                          resolver_conf(tmp_path, NOROUTE_IP, "ok.test"))
    e = only(checks, "resolver", NOROUTE_IP, res)
    assert (e["status"], e["code"]) == ("fail", "net_unreachable"), res.diag()
    assert e["elapsed_ms"] < 5000, res.diag()
    assert "route" in e["hint"], res.diag()


def test_resolver_truncated_reply_retries_over_tcp(topo, tmp_path):
    before = topo.stub.output().count("tcp tc.test")
    res, checks = nc_json(topo, "--timeout", "5s", "-c",
                          resolver_conf(tmp_path, STUB_IP, "tc.test"))
    e = only(checks, "resolver", STUB_IP, res)
    assert (e["status"], e["code"]) == ("ok", "ok"), res.diag()
    assert "TCP" in e["detail"], res.diag()
    # Not the half-deadline fallback: the TC bit sent it to TCP at once.
    assert e["elapsed_ms"] < 2500, res.diag()
    # The server saw the question over TCP.
    poll(lambda: topo.stub.output().count("tcp tc.test") > before, 5,
         "dnsstub logging the TCP query")


def test_resolver_no_nameserver(topo, tmp_path):
    res, checks = nc_json(topo, "-c", conf(
        tmp_path, "[check resolver]\nresolv_conf = %s\n"
        % resolv(tmp_path)))
    e = only(checks, "resolver", None, res)
    assert (e["status"], e["code"]) == ("fail", "no_nameserver"), res.diag()
    assert res.rc == 1


def test_resolver_hint_warns_proxy_bypass_clients(topo, tmp_path):
    # [check proxy] first: the proxy is known when the resolver fails.
    c = conf(tmp_path, "[check proxy]\n[check resolver]\nresolv_conf = %s\n"
             "query = ok.test\n" % resolv(tmp_path, NOROUTE_IP, DROP_IP))
    res, checks = nc_json(topo, "--timeout", "1s", "-c", c,
                          env={"HTTPS_PROXY": PROXY})
    for ns in (NOROUTE_IP, DROP_IP):      # at once, and at the deadline
        e = only(checks, "resolver", ns, res)
        assert e["status"] == "fail", res.diag()
        for word in ("WebSocket", "gRPC", "EAI_AGAIN"):
            assert word in e["hint"], (word, res.diag())
    # Without a proxy the warning would be noise.
    res, checks = nc_json(topo, "--timeout", "1s", "-c", c)
    for ns in (NOROUTE_IP, DROP_IP):
        assert "EAI_AGAIN" not in only(checks, "resolver", ns, res)["hint"]


def test_resolver_hint_warns_proxy_bypass_default_checks(topo, tmp_path):
    res, checks = nc_json(topo, "--resolv-conf", resolv(tmp_path, NOROUTE_IP),
                          "--hosts", hosts(tmp_path),
                          env={"HTTPS_PROXY": PROXY})
    e = only(checks, "resolver", NOROUTE_IP, res)
    assert e["code"] == "net_unreachable", res.diag()
    assert "EAI_AGAIN" in e["hint"], res.diag()


def test_resolver_per_check_timeout(topo, tmp_path):
    c = conf(tmp_path, "[init]\ncheck_timeout = 2500ms\n[check resolver]\n"
             "resolv_conf = %s\nquery = ok.test\ntimeout = 300ms\n"
             % resolv(tmp_path, DROP_IP))
    res, checks = nc_json(topo, "-c", c)
    e = only(checks, "resolver", DROP_IP, res)
    assert e["code"] == "timeout", res.diag()
    assert_at_deadline(e, 300, res.diag())


# --- proxy ------------------------------------------------------------------

def proxy_conf(tmp_path, probe=OPEN):
    return conf(tmp_path, "[check proxy]\nconnect_probe = %s\n" % probe)


def test_proxy_connect_allowed(topo, tmp_path):
    res, checks = nc_json(topo, "-c", proxy_conf(tmp_path),
                          env={"HTTPS_PROXY": PROXY})
    e = only(checks, "proxy", None, res)
    assert (e["status"], e["code"]) == ("ok", "ok"), res.diag()
    assert e["target"] == PROXY and "200" in e["detail"], res.diag()
    assert res.rc == 0
    # The same verdict in the table.
    res = topo.netcheck("-c", proxy_conf(tmp_path), env={"https_proxy": PROXY})
    assert [r[:4] for r in table(res)] == [["proxy", PROXY, "ok", "ok"]]


@pytest.mark.parametrize("probe,reason", [
    ("203.0.113.9:%d" % OPEN_PORT, "Filtered"),        # host not allowed
    ("%s:%d" % (SRV_IP, OPEN_PORT2), "Access violation"),  # port not allowed
], ids=["host", "port"])
def test_proxy_connect_denied(topo, tmp_path, probe, reason):
    res, checks = nc_json(topo, "-c", proxy_conf(tmp_path, probe),
                          env={"HTTPS_PROXY": PROXY})
    e = only(checks, "proxy", None, res)
    assert (e["status"], e["code"]) == ("fail", "denied"), res.diag()
    assert "403" in e["detail"] and reason in e["detail"], res.diag()
    assert "allow" in e["hint"], res.diag()
    assert res.rc == 1


def assert_no_secret(res):
    everything = res.out + res.err
    assert PROXY_PASS not in everything, res.diag()
    token = base64.b64encode(("%s:%s" % (PROXY_USER, PROXY_PASS)).encode())
    assert token.decode() not in everything, res.diag()


def test_proxy_auth_required(topo, tmp_path):
    res, checks = nc_json(topo, "-c", proxy_conf(tmp_path),
                          env={"HTTPS_PROXY": AUTH_PROXY})
    e = only(checks, "proxy", None, res)
    assert (e["status"], e["code"]) == ("fail", "auth_required"), res.diag()
    assert "407" in e["detail"], res.diag()


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_proxy_credentials_work_and_never_show(topo, tmp_path, fmt):
    url = "http://%s:%s@%s:%d" % (PROXY_USER, PROXY_PASS, SRV_IP, AUTH_PORT)
    args = ["-c", proxy_conf(tmp_path)] + (["--json"] if fmt == "json" else [])
    res = topo.netcheck(*args, env={"HTTPS_PROXY": url, "https_proxy": url})
    assert_no_secret(res)
    if fmt == "json":
        e = only(json_checks(res), "proxy", None, res)
        status, code, target = e["status"], e["code"], e["target"]
    else:
        (_, target, status, code, _, _), = table(res)
    assert (status, code) == ("ok", "ok"), res.diag()
    assert "***" in target and PROXY_USER not in target, res.diag()


def test_proxy_wrong_password_never_shows(topo, tmp_path):
    url = "http://%s:%s@%s:%d" % (PROXY_USER, PROXY_PASS + "x", SRV_IP,
                                  AUTH_PORT)
    res, checks = nc_json(topo, "-c", proxy_conf(tmp_path),
                          env={"HTTPS_PROXY": url})
    assert PROXY_PASS not in res.out + res.err, res.diag()
    e = only(checks, "proxy", None, res)
    assert e["status"] == "fail" and "***" in e["target"], res.diag()


def test_proxy_wrong_password_is_auth_required(topo, tmp_path):
    url = "http://%s:wrong@%s:%d" % (PROXY_USER, SRV_IP, AUTH_PORT)
    res, checks = nc_json(topo, "-c", proxy_conf(tmp_path),
                          env={"HTTPS_PROXY": url})
    e = only(checks, "proxy", None, res)
    assert e["code"] == "auth_required", res.diag()


def test_proxy_case_mismatch(topo, tmp_path):
    res, checks = nc_json(topo, "-c", proxy_conf(tmp_path), env={
        "HTTPS_PROXY": PROXY, "https_proxy": PROXY + "/"})
    e = only(checks, "proxy", None, res)
    assert (e["status"], e["code"]) == ("warn", "mismatch"), res.diag()
    assert "upper" in e["hint"] and "lower" in e["hint"], res.diag()
    assert res.rc == 0      # a warning is not a failure
    # The same value in both cases is no mismatch.
    res, checks = nc_json(topo, "-c", proxy_conf(tmp_path), env={
        "HTTPS_PROXY": PROXY, "https_proxy": PROXY})
    assert only(checks, "proxy", None, res)["code"] == "ok", res.diag()


def test_proxy_mismatch_both_down_fails(topo, tmp_path):
    # Both spellings broken: still `mismatch` (issue 12: the disagreement
    # is reported with each one's reachability), and a failure.
    down = "http://%s:%d" % (SRV_IP, DOWN_PORT)
    res, checks = nc_json(topo, "-c", proxy_conf(tmp_path), env={
        "HTTPS_PROXY": down + "/", "https_proxy": down})
    e = only(checks, "proxy", None, res)
    assert (e["status"], e["code"]) == ("fail", "mismatch"), res.diag()
    assert e["detail"].count("unreachable") == 2, res.diag()


def test_proxy_down_is_unreachable(topo, tmp_path):
    down = "http://%s:%d" % (SRV_IP, DOWN_PORT)
    res, checks = nc_json(topo, "-c", proxy_conf(tmp_path),
                          env={"HTTPS_PROXY": down})
    e = only(checks, "proxy", None, res)
    assert (e["status"], e["code"]) == ("fail", "unreachable"), res.diag()
    assert "refused" in e["detail"].lower(), res.diag()
    assert res.rc == 1


def test_proxy_none_and_bad_url(topo, tmp_path):
    res, checks = nc_json(topo, "-c", proxy_conf(tmp_path))
    e = only(checks, "proxy", None, res)
    assert (e["status"], e["code"]) == ("skip", "none"), res.diag()
    res, checks = nc_json(topo, "-c", proxy_conf(tmp_path),
                          env={"HTTPS_PROXY": "socks5://%s:1080" % SRV_IP})
    e = only(checks, "proxy", None, res)
    assert (e["status"], e["code"]) == ("fail", "bad_url"), res.diag()


def test_proxy_upper_case_http_proxy_alone_is_seen(topo, tmp_path):
    res, checks = nc_json(topo, "-c", proxy_conf(tmp_path),
                          env={"HTTP_PROXY": PROXY})
    e = only(checks, "proxy", None, res)
    assert e["code"] != "none", res.diag()


# --- tcp targets --------------------------------------------------------------

def tcp_args(tmp_path, ns=SRV_IP):
    return ["-c", conf(tmp_path, "[check capabilities]\n"), "--resolv-conf",
            resolv(tmp_path, ns), "--hosts", hosts(tmp_path)]


@pytest.mark.parametrize("target,status,code", [
    (OPEN, "ok", "ok"),
    ("%s:%d" % (SRV_IP, CLOSED_PORT), "fail", "refused"),
    ("hostsonly.test:%d" % OPEN_PORT, "ok", "ok"),     # the hosts file
    ("ok.test:%d" % OPEN_PORT, "ok", "ok"),            # dnsmasq
    ("198.51.100.1:443", "fail", "unreachable"),       # no route
], ids=["listening", "closed", "hosts-file", "dns", "no-route"])
def test_tcp_target(topo, tmp_path, target, status, code):
    res, checks = nc_json(topo, "--timeout", "5s", target,
                          *tcp_args(tmp_path))
    e = only(checks, "tcp", target, res)
    assert (e["status"], e["code"]) == (status, code), res.diag()
    assert e["elapsed_ms"] < 5000, res.diag()
    if code == "refused":
        assert "port %d" % CLOSED_PORT in e["hint"], res.diag()
    assert res.rc == (1 if status == "fail" else 0), res.diag()


def test_tcp_dropped_is_timeout_with_firewall_remedy(topo, tmp_path):
    target = "%s:%d" % (SRV_IP, DROP_PORT)
    res, checks = nc_json(topo, "--timeout", "1s", target, *tcp_args(tmp_path))
    e = only(checks, "tcp", target, res)
    assert (e["status"], e["code"]) == ("fail", "timeout"), res.diag()
    assert_at_deadline(e, 1000, res.diag())
    # The remedy names the sandbox's own subnet and the port.
    assert "ufw allow from %s" % SUBNET in e["hint"], res.diag()
    assert "port %d" % DROP_PORT in e["hint"], res.diag()


@pytest.mark.parametrize("name,ns,why", [
    ("nowhere.test", SRV_IP, "refused"),   # dnsmasq knows no such name
    ("nx.test", SRV_IP, "nxdomain"),
    ("nowhere.test", DROP_IP, "timeout"),  # the nameserver is silent
], ids=["refused", "nxdomain", "silent-nameserver"])
def test_tcp_name_that_resolves_nowhere_is_dns_failed(topo, tmp_path, name,
                                                      ns, why):
    target = "%s:%d" % (name, OPEN_PORT)
    res, checks = nc_json(topo, "--timeout", "1s", target,
                          *tcp_args(tmp_path, ns))
    e = only(checks, "tcp", target, res)
    # Never a firewall verdict for a DNS failure, even a silent one.
    assert (e["status"], e["code"]) == ("fail", "dns_failed"), res.diag()
    assert "ufw" not in e["hint"] and "firewall problem" in e["hint"], (
        res.diag())
    # The verdict says which sources failed, and how.
    assert "hosts" in e["detail"], res.diag()
    assert "nameserver %s: %s" % (ns, why) in e["detail"], res.diag()


def test_netcheck_bad_target_is_usage_error(topo, tmp_path):
    res = topo.netcheck("-c", conf(tmp_path, "[check capabilities]\n"),
                        "gw.test:https")
    assert res.rc == 64, res.diag()


# --- capabilities -------------------------------------------------------------

def caps_conf(tmp_path, want="net_admin"):
    return conf(tmp_path, "[check capabilities]\nrequire = %s\n" % want)


def test_capabilities_present(topo, tmp_path):
    res, checks = nc_json(topo, "-c", caps_conf(tmp_path))
    e = only(checks, "capabilities", None, res)
    assert (e["status"], e["code"]) == ("ok", "ok"), res.diag()
    for fact in ("no_new_privs=", "seccomp=", "user_namespace="):
        assert fact in e["detail"], res.diag()


SETPRIV = ("setpriv", "--bounding-set", "-net_admin", "--inh-caps",
           "-net_admin", "--")


@pytest.mark.parametrize("wrap", [
    SETPRIV,
    (shutil.which("capsh", path="/usr/sbin:/sbin:/usr/bin") or "capsh",
     "--drop=cap_net_admin", "--", "-c",
     'exec "$0" "$@"'),
], ids=["setpriv", "capsh"])
def test_capabilities_missing(topo, tmp_path, wrap):
    res, checks = nc_json(topo, "-c", caps_conf(tmp_path, "net_admin chown"),
                          wrap=wrap)
    e = only(checks, "capabilities", None, res)
    assert (e["status"], e["code"]) == ("fail", "missing"), res.diag()
    assert "NET_ADMIN" in e["detail"], res.diag()
    assert "CHOWN" not in e["detail"], res.diag()
    assert "--cap-add NET_ADMIN" in e["hint"], res.diag()
    assert "--privileged" in e["hint"], res.diag()
    assert res.rc == 1


def test_capabilities_missing_remedy_is_a_valid_command(topo, tmp_path):
    wrap = ("setpriv", "--bounding-set", "-net_admin,-sys_chroot", "--")
    res, checks = nc_json(topo, "-c", caps_conf(tmp_path,
                                                "net_admin sys_chroot"),
                          wrap=wrap)
    e = only(checks, "capabilities", None, res)
    assert "NET_ADMIN" in e["detail"] and "SYS_CHROOT" in e["detail"]
    assert "--cap-add NET_ADMIN" in e["hint"], res.diag()
    assert "--cap-add SYS_CHROOT" in e["hint"], res.diag()


# --- egress -------------------------------------------------------------------

@pytest.mark.parametrize("direct,env,status,code", [
    (OPEN, {}, "ok", "direct_ok"),
    ("198.51.100.1:443", {"HTTPS_PROXY": PROXY}, "warn", "proxy_only"),
    ("198.51.100.1:443", {}, "fail", "no_egress"),
    ("198.51.100.1:443", {"HTTPS_PROXY": "http://%s:%d" % (SRV_IP, DOWN_PORT)},
     "fail", "proxy_broken"),
], ids=["direct", "proxy-only", "none", "proxy-broken"])
def test_egress(topo, tmp_path, direct, env, status, code):
    c = conf(tmp_path, "[check proxy]\nconnect_probe = %s\n[check egress]\n"
             "direct = %s\n" % (OPEN, direct))
    res, checks = nc_json(topo, "--timeout", "5s", "-c", c, env=env)
    e = only(checks, "egress", None, res)
    assert (e["status"], e["code"]) == (status, code), res.diag()
    assert e["elapsed_ms"] < 5000, res.diag()
    if code == "proxy_only":
        assert "200" in only(checks, "proxy", None, res)["detail"], res.diag()


def test_egress_before_proxy_section_keeps_connect_probe(topo, tmp_path):
    c = conf(tmp_path, "[check egress]\ndirect = 198.51.100.1:443\n"
             "[check proxy]\nconnect_probe = 203.0.113.9:%d\n" % OPEN_PORT)
    res, checks = nc_json(topo, "-c", c, env={"HTTPS_PROXY": PROXY})
    assert only(checks, "proxy", None, res)["code"] == "denied", res.diag()
    assert only(checks, "egress", None, res)["code"] == "proxy_broken"


# --- netcheck's command line and formats --------------------------------------

def test_netcheck_status_zero_with_only_ok_and_warn(topo, tmp_path):
    c = resolver_conf(tmp_path, SRV_IP, "nx.test")      # a warn
    res = topo.netcheck("-c", c, OPEN)
    rows = table(res)
    assert sorted(r[2] for r in rows) == ["ok", "warn"], res.diag()
    assert res.rc == 0, res.diag()
    res = topo.netcheck("-c", c, OPEN, "%s:%d" % (SRV_IP, CLOSED_PORT))
    assert res.rc == 1, res.diag()


def test_netcheck_default_checks(topo, tmp_path):
    # No -c: resolver, proxy, capabilities and environment, and the
    # command line's targets.
    res, checks = nc_json(topo, "--resolv-conf",
                          resolv(tmp_path, SRV_IP), "--hosts",
                          hosts(tmp_path), OPEN,
                          env={"SSL_CERT_FILE": str(tmp_path / "none.pem")})
    types = {e["check"] for e in checks}
    assert {"resolver", "proxy", "capabilities", "environment",
            "tcp"} <= types, res.diag()
    # The root's NS via dnsmasq without upstream: REFUSED, so reachable,
    # and that is all the default probe asks (issue 12): ok.
    e = only(checks, "resolver", SRV_IP, res)
    assert (e["status"], e["code"]) == ("ok", "ok"), res.diag()
    assert "REFUSED" in e["detail"], res.diag()
    ca = [e for e in checks if e["check"] == "environment" and
          e["code"] == "ca_bundle"]
    assert len(ca) == 1 and "SSL_CERT_FILE" in ca[0]["detail"], res.diag()
    # Nothing failed: the CA bundle is a warning.
    assert res.rc == 0, res.diag()


@pytest.mark.parametrize("args", [
    ["--bogus"], ["--timeout"], ["--timeout", "0"], ["--timeout", "soon"],
    ["-c"], ["notatarget"],
], ids=["unknown-option", "timeout-missing", "timeout-zero", "timeout-bad",
        "config-missing", "no-colon"])
def test_netcheck_bad_argument_exits_64(topo, args):
    res = topo.netcheck(*args)
    assert res.rc == 64, res.diag()
    assert res.out == "", res.diag()
    assert "usage" in res.err, res.diag()


@pytest.mark.parametrize("text", [
    "[check tcp]\ntarget = nope\n",
    "[check tcp]\nbogus = 1\n",
    "[check resolver]\n[init]\nchecks = sometimes\n",
    None,
], ids=["bad-target", "unknown-key", "bad-checks", "missing-file"])
def test_netcheck_bad_config_exits_78(topo, tmp_path, text):
    path = conf(tmp_path, text) if text else str(tmp_path / "absent.conf")
    res = topo.netcheck("-c", path)
    assert res.rc == 78, res.diag()
    assert res.out == "", res.diag()
    assert path in res.err, res.diag()


# --- PID 1 ----------------------------------------------------------------------

def enter_sandbox(topo, drop_cap=None):
    enter = netutil.enter_netns(topo.sbx)

    def pre():
        enter()
        if drop_cap is not None:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(PR_CAPBSET_DROP, drop_cap, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "PR_CAPBSET_DROP")
    return pre


def pid1(run, topo, conf_path, cmd, env=None, drop_cap=None):
    e = {"AGENT_INIT_CONTROL_SOCKET": ""}
    e.update(env or {})
    return run(["-c", conf_path, "--"] + cmd, pid1=True, env=topo.env(e),
               preexec_fn=enter_sandbox(topo, drop_cap))


def names(evs):
    return [e["agent_init"] for e in evs]


def test_pid1_enforce_required_failure_exits_69(run, topo, tmp_path):
    c = conf(tmp_path, "[init]\nchecks = enforce\ncheck_timeout = 5s\n"
             "[check tcp:gw]\ntarget = %s:%d\nrequired = yes\n"
             "[check tcp:ok]\ntarget = %s\n" % (SRV_IP, CLOSED_PORT, OPEN))
    r = pid1(run, topo, c, ["/bin/echo", "must not run"])
    assert r.wait() == EXIT_CHECKS, r.diag()
    evs = check_event_stream(r.stdout(), EXIT_CHECKS)
    assert "service_start" not in names(evs), r.diag()
    assert "must not run" not in r.stdout(), r.diag()
    gw = [e for e in evs if e["agent_init"] == "check" and
          e["check"] == "tcp:gw"]
    assert len(gw) == 1 and gw[0]["code"] == "refused", r.diag()
    assert gw[0].get("required") is True, r.diag()
    for e in evs:
        if e["agent_init"] == "check":
            validate_check(e, r.diag)
    summary = [e for e in evs if e["agent_init"] == "checks"]
    assert len(summary) == 1 and summary[0]["fail"] == 1 and \
        summary[0]["ok"] == 1, r.diag()
    assert "tcp:gw" in evs[-1]["reason"], r.diag()


def test_pid1_enforce_starts_services_after_checks(run, topo, tmp_path):
    # A failing check that is not required does not stop startup.
    c = conf(tmp_path, "[init]\nchecks = enforce\ncheck_timeout = 5s\n"
             "[check tcp:ok]\ntarget = %s\nrequired = yes\n"
             "[check tcp:soft]\ntarget = %s:%d\n"
             % (OPEN, SRV_IP, CLOSED_PORT))
    r = pid1(run, topo, c, [os.path.join(netutil.HELPERS, "exitwith"), "7"])
    assert r.wait() == 7, r.diag()
    evs = check_event_stream(r.stdout(), 7)
    n = names(evs)
    assert n.index("checks") < n.index("service_start"), r.diag()
    soft = [e for e in evs if e.get("check") == "tcp:soft"]
    assert soft and soft[0]["status"] == "fail", r.diag()


def test_pid1_warn_starts_services_without_waiting(run, topo, tmp_path):
    gate = tmp_path / "gate"
    c = conf(tmp_path, "[init]\nchecks = warn\ncheck_timeout = 3s\n"
             "[check tcp:fw]\ntarget = %s:%d\nrequired = yes\n"
             % (SRV_IP, DROP_PORT))
    svcact = os.path.join(netutil.HELPERS, "svcact")
    r = pid1(run, topo, c, [svcact, "o:main-up", "gate:%s" % gate, "x:5"])
    r.wait_event("service_start", service="main")
    ev = r.wait_event("check", check="tcp:fw")
    assert ev["code"] == "timeout" and ev["status"] == "fail", r.diag()
    assert_at_deadline(ev, 3000, r.diag())
    r.wait_event("checks")
    gate.write_text("")
    assert r.wait() == 5, r.diag()
    evs = check_event_stream(r.stdout(), 5)
    n = names(evs)
    # The service ran while the check was pending.
    assert n.index("service_start") < n.index("check") < n.index("exit")
    assert "main-up" in r.stdout()


def test_pid1_embedded_dns_enforce(run, topo, tmp_path):
    c = conf(tmp_path, "[init]\nchecks = enforce\ncheck_timeout = 1s\n"
             "[check resolver]\nresolv_conf = %s\nquery = ok.test\n"
             "required = yes\n" % resolv(tmp_path, "127.0.0.11"))
    r = pid1(run, topo, c, ["/bin/true"])
    assert r.wait() == EXIT_CHECKS, r.diag()
    evs = check_event_stream(r.stdout(), EXIT_CHECKS)
    e, = [e for e in evs if e["agent_init"] == "check"]
    assert (e["target"], e["code"]) == ("127.0.0.11", "timeout"), r.diag()
    assert_at_deadline(e, 1000, r.diag())
    # Dropped in our own namespace, not gVisor: never the runsc remedy.
    assert "dropped" in e["hint"] and "runsc" not in e["hint"], r.diag()
    assert "service_start" not in names(evs)


def test_pid1_enforce_missing_capability(run, topo, tmp_path):
    c = conf(tmp_path, "[init]\nchecks = enforce\n[check capabilities]\n"
             "require = net_admin\nrequired = yes\n")
    r = pid1(run, topo, c, ["/bin/true"], drop_cap=CAP_NET_ADMIN)
    assert r.wait() == EXIT_CHECKS, r.diag()
    evs = check_event_stream(r.stdout(), EXIT_CHECKS)
    e, = [e for e in evs if e["agent_init"] == "check"]
    assert e["code"] == "missing" and "NET_ADMIN" in e["detail"], r.diag()
    assert "service_start" not in names(evs)


def test_pid1_proxy_secret_not_in_events(run, topo, tmp_path):
    url = "http://%s:%s@%s:%d" % (PROXY_USER, PROXY_PASS, SRV_IP, AUTH_PORT)
    c = conf(tmp_path, "[init]\nchecks = enforce\n[check proxy]\n"
             "connect_probe = %s\nrequired = yes\n" % OPEN)
    r = pid1(run, topo, c, ["/bin/true"], env={"HTTPS_PROXY": url})
    assert r.wait() == 0, r.diag()
    evs = check_event_stream(r.stdout(), 0)
    e, = [e for e in evs if e["agent_init"] == "check"]
    assert e["code"] == "ok" and "***" in e["target"], r.diag()
    assert PROXY_PASS not in r.stdout() + r.stderr(), r.diag()


def test_pid1_sigterm_while_enforce_checks_run(run, topo, tmp_path):
    # The checks never block signal handling: a SIGTERM while a check
    # waits for its (long) deadline ends agent-init at once, and nothing
    # starts.
    c = conf(tmp_path, "[init]\nchecks = enforce\ncheck_timeout = 60s\n"
             "[check tcp:fw]\ntarget = %s:%d\nrequired = yes\n"
             % (SRV_IP, DROP_PORT))
    r = pid1(run, topo, c, ["/bin/echo", "must not run"])
    r.wait_event("environment")
    r.kill(signal.SIGTERM)
    status = r.wait(timeout=20)
    evs = check_event_stream(r.stdout(), status)
    assert "service_start" not in names(evs), r.diag()
    assert "must not run" not in r.stdout()


def test_pid1_sigint_while_enforce_checks_run(run, topo, tmp_path):
    # With a lone command SIGINT is the command's (as with tini), but
    # before the command runs there is nobody to take it: it stops
    # agent-init, as it did before SIGINT became the command's.
    c = conf(tmp_path, "[init]\nchecks = enforce\ncheck_timeout = 60s\n"
             "[check tcp:fw]\ntarget = %s:%d\nrequired = yes\n"
             % (SRV_IP, DROP_PORT))
    r = pid1(run, topo, c, ["/bin/echo", "must not run"])
    r.wait_event("environment")
    r.kill(signal.SIGINT)
    status = r.wait(timeout=20)
    evs = check_event_stream(r.stdout(), status)
    assert status == 128 + signal.SIGINT, r.diag()
    sig = [e for e in evs if e["agent_init"] == "signal"]
    assert [(e["signal"], e["action"]) for e in sig] == [
        ("SIGINT", "shutdown")], r.diag()
    assert "service_start" not in names(evs), r.diag()


def test_pid1_sigterm_while_checks_run_status(run, topo, tmp_path):
    c = conf(tmp_path, "[init]\nchecks = enforce\ncheck_timeout = 60s\n"
             "[check tcp:fw]\ntarget = %s:%d\nrequired = yes\n"
             % (SRV_IP, DROP_PORT))
    r = pid1(run, topo, c, ["/bin/true"])
    r.wait_event("environment")
    r.kill(signal.SIGTERM)
    status = r.wait(timeout=20)
    evs = check_event_stream(r.stdout(), status)
    assert "stop timeout" not in evs[-1]["reason"], r.diag()
    assert status == 128 + signal.SIGTERM, r.diag()
