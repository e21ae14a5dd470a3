"""Diagnosis (issue 12): verdicts from facts, in namespaces that stand in
for the runtime.  The real runtimes (runc, runsc netstack, runsc
--network=host under a private dockerd) are in tests/e2e/test_gvisor.py;
this file holds what a namespace can show exactly, for every verdict:

  - the name sources: resolv.conf and hosts read without ever blocking;
  - the resolver: reachability apart from the answer (the default probe
    passes on any reply but SERVFAIL; a `query` name is judged by its own
    answer);
  - Docker's embedded DNS (127.0.0.11) three ways apart: unreachable,
    reachable with its upstream dead, healthy; and hints that follow the
    facts (resolv.conf of a user-defined network or not);
  - proxy variables whose two spellings disagree.

Everything runs in the namespaces of netutil.Topology (see
test_netcheck.py); nothing sends a packet outside them.
"""
import os
import subprocess

import pytest

import netutil
from harness import AGENT_INIT_CMD, clean_env, helper
from netutil import OPEN_PORT, SRV_IP


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


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def over_etc(path, target):
    """A wrapper that runs the command with PATH bind-mounted over TARGET
    (/etc/resolv.conf, /etc/hosts) in a private mount namespace: the
    default, planted, path, without touching the machine's file."""
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            'mount --bind "$0" "$1" && shift && exec "$@"', path, target]


# --- the name sources never block --------------------------------------------

@pytest.fixture
def fifo(tmp_path):
    p = str(tmp_path / "fifo")
    os.mkfifo(p)
    return p


def test_planted_fifo_at_etc_resolv_conf_is_refused_at_once(topo, fifo):
    # A FIFO at /etc/resolv.conf (a service can put one there) was opened
    # for reading without O_NONBLOCK: netcheck, and PID 1's checks, waited
    # for a writer forever.  Now: not a regular file, at once.
    res = topo.netcheck("--json", "--timeout", "1s",
                        wrap=over_etc(fifo, "/etc/resolv.conf"), timeout=20)
    e = res.one("resolver")
    assert (e["target"], e["status"], e["code"]) == \
        ("/etc/resolv.conf", "fail", "no_nameserver"), res.diag()
    assert "not a regular file" in e["detail"], res.diag()


def test_planted_fifo_at_etc_hosts_falls_back_to_the_nameserver(
        topo, fifo, tmp_path):
    # The same for /etc/hosts: the name of a tcp target then comes from
    # the nameserver (dnsmasq knows gw.test), and the detail of a failure
    # would name the hosts file's trouble.
    rc = write(tmp_path, "resolv.conf", "nameserver %s\n" % SRV_IP)
    target = "gw.test:%d" % OPEN_PORT
    res = topo.netcheck("--json", "--timeout", "2s", "--resolv-conf", rc,
                        target, wrap=over_etc(fifo, "/etc/hosts"), timeout=20)
    e = res.one("tcp", target)
    assert (e["status"], e["code"]) == ("ok", "ok"), res.diag()
    nx = "nx.test:%d" % OPEN_PORT
    res = topo.netcheck("--json", "--timeout", "2s", "--resolv-conf", rc, nx,
                        wrap=over_etc(fifo, "/etc/hosts"), timeout=20)
    e = res.one("tcp", nx)
    assert e["code"] == "dns_failed", res.diag()
    assert "hosts file /etc/hosts: not a regular file" in e["detail"], \
        res.diag()


def test_operator_fifo_is_read(topo, tmp_path):
    # --resolv-conf names the operator's file: a pipe is fine there
    # (`--resolv-conf <(...)`), read within its deadline.
    p = str(tmp_path / "pipe")
    os.mkfifo(p)
    writer = subprocess.Popen(["sh", "-c", 'printf "nameserver %s\\n" > "$0"'
                               % SRV_IP, p])
    try:
        res = topo.netcheck("--json", "--timeout", "1s", "--resolv-conf", p,
                            timeout=20)
    finally:
        writer.wait(10)
    e = res.one("resolver")
    assert e["target"] == SRV_IP, res.diag()


# --- the resolver: reachability apart from the answer ------------------------

# dnsstubs on more addresses of the server side, each answering the root
# query one way (dnsmasq without an upstream answers it REFUSED).
ROOT_NX = netutil.NET + ".7"
ROOT_SERVFAIL = netutil.NET + ".8"


@pytest.fixture(scope="module")
def roots(topo):
    for ip, action in ((ROOT_NX, "nxdomain"), (ROOT_SERVFAIL, "servfail")):
        netutil.sh("ip", "-n", topo.srv, "addr", "add", ip + "/24", "dev",
                   topo.veth_srv)
        topo.start("dnsstub-" + action, [
            helper("dnsstub"), ip + ":53", ".=" + action,
            "ok.test=a:" + SRV_IP], lambda d: "dnsstub ready" in d.output())
    return topo


def nc(topo, tmp_path, ns, *args, query=None, env=None):
    text = "[check resolver]\nresolv_conf = %s\n" % write(
        tmp_path, "resolv.conf", "nameserver %s\n" % ns)
    if query:
        text += "query = %s\n" % query
    c = write(tmp_path, "n.conf", text)
    return topo.netcheck("--json", "--timeout", "2s", "-c", c, *args,
                         env=env, timeout=20)


@pytest.mark.parametrize("ns,rcode", [
    (SRV_IP, "REFUSED"),            # dnsmasq without an upstream
    (netutil.STUB_IP, "NOERROR"),   # the stub's root rule: an A answer
    (ROOT_NX, "NXDOMAIN"),
], ids=["refused", "noerror", "nxdomain"])
def test_default_probe_any_reply_but_servfail_passes(roots, tmp_path, ns,
                                                      rcode):
    # Reachability is not the answer: any reply to the root query proves
    # the server is there.  REFUSED was a `fail` with the "allow the
    # sandbox in its ACL" hint: the false alarm of allow-listing resolvers
    # (issue 12, report 2).
    res = nc(roots, tmp_path, ns)
    e = res.one("resolver", ns)
    assert (e["status"], e["code"]) == ("ok", "ok"), res.diag()
    assert rcode in e["detail"], res.diag()
    assert "hint" not in e, res.diag()
    assert res.rc == 0, res.diag()


def test_default_probe_servfail_fails_and_blames_the_upstream(roots, tmp_path):
    res = nc(roots, tmp_path, ROOT_SERVFAIL)
    e = res.one("resolver", ROOT_SERVFAIL)
    assert (e["status"], e["code"]) == ("fail", "servfail"), res.diag()
    assert "SERVFAIL" in e["detail"], res.diag()
    assert "upstream" in e["hint"] and "forwarders" in e["hint"], res.diag()


def test_query_name_is_judged_by_its_own_answer(roots, tmp_path):
    # The same allow-listing resolver: the root query passes, a name it
    # refuses fails, and the hint names that name.
    res = nc(roots, tmp_path, SRV_IP, query="unknown.test")
    e = res.one("resolver", SRV_IP)
    assert (e["status"], e["code"]) == ("fail", "refused"), res.diag()
    assert "`unknown.test`" in e["hint"], res.diag()
    # A name it answers: ok, whatever the root query would say.
    res = nc(roots, tmp_path, ROOT_SERVFAIL, query="ok.test")
    e = res.one("resolver", ROOT_SERVFAIL)
    assert (e["status"], e["code"]) == ("ok", "ok"), res.diag()
    assert "NOERROR, 1 address" in e["detail"], res.diag()


# --- Docker's embedded DNS, three ways apart ---------------------------------

HOSTNAME = "c0ffee5a1d"          # what Docker gives: the short container ID
CLONE_NEWUTS = 0x04000000


class Embedded:
    """A network namespace of its own with 127.0.0.11 on its loopback, as
    Docker's DNAT makes it appear in a container, and agent-init run in it
    with the container's hostname (a UTS namespace of its own).  What
    answers there is a dnsstub the test starts: Docker's resolver answers
    the container's own name itself, and forwards the rest upstream."""

    def __init__(self, workdir):
        self.ns = "aid-emb-%d" % os.getpid()
        self.dir = workdir
        self.daemons = []
        netutil.sh("ip", "netns", "add", self.ns)
        netutil.sh("ip", "-n", self.ns, "link", "set", "lo", "up")

    def serve(self, upstream):
        """127.0.0.11 answers HOSTNAME itself; every other name as
        `upstream` says (a:IP, drop, servfail, refused)."""
        d = netutil.Daemon("stub%d" % len(self.daemons), [
            helper("dnsstub"), "127.0.0.11:53", HOSTNAME + "=a:172.18.0.2",
            "*=" + upstream], self.ns, self.dir)
        self.daemons.append(d)
        d.wait_ready(lambda d: "dnsstub ready" in d.output())

    def drop(self):
        netutil.sh("nft", "-f", "-", ns=self.ns, input="""
table inet aid_emb {
  chain input { type filter hook input priority 0; policy accept;
    ip daddr 127.0.0.11 meta l4proto { udp, tcp } th dport 53 drop
  }
}
""")

    def reset(self):
        for d in self.daemons:
            d.stop()
        self.daemons = []
        subprocess.run(["ip", "netns", "exec", self.ns, "nft", "delete",
                        "table", "inet", "aid_emb"], capture_output=True)

    def preexec(self):
        enter = netutil.enter_netns(self.ns)

        def pre():
            enter()
            libc = netutil._libc
            if libc.unshare(CLONE_NEWUTS) != 0 or libc.sethostname(
                    HOSTNAME.encode(), len(HOSTNAME)) != 0:
                raise OSError("cannot set the sandbox's hostname")
        return pre

    def netcheck(self, resolv_conf, *args):
        cmd = AGENT_INIT_CMD + ["netcheck", "--json", "--timeout", "2s",
               "--resolv-conf", resolv_conf] + list(args)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=20,
                           env=clean_env(
                               {v: None for v in netutil.PROXY_VARS}),
                           preexec_fn=self.preexec())
        return netutil.Result(cmd, p.returncode, p.stdout, p.stderr, 0)

    def down(self):
        self.reset()
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)


@pytest.fixture(scope="module")
def emb(tmp_path_factory):
    e = Embedded(str(tmp_path_factory.mktemp("emb")))
    try:
        yield e
    finally:
        e.down()


@pytest.fixture
def embedded(emb):
    yield emb
    emb.reset()


# resolv.conf as Docker writes it: on a user-defined network (20.10; 25+
# adds "# ExtServers:"), and with `--dns 127.0.0.11` on the default bridge.
USER_NET = "nameserver 127.0.0.11\noptions ndots:0\n"
USER_NET_25 = ("# Generated by Docker Engine.\nnameserver 127.0.0.11\n"
               "options ndots:0\n\n# Based on host file: '/etc/resolv.conf' "
               "(internal resolver)\n# ExtServers: [host(10.213.0.53)]\n")
BRIDGE = "nameserver 127.0.0.11\n"


def one_resolver(res):
    e = res.one("resolver", "127.0.0.11")
    assert e.get("hint") or e["status"] == "ok", res.diag()
    return e


@pytest.mark.parametrize("upstream", ["refused", "a:10.9.9.9"])
def test_embedded_healthy(embedded, tmp_path, upstream):
    embedded.serve(upstream)
    res = embedded.netcheck(write(tmp_path, "r", USER_NET))
    e = one_resolver(res)
    assert (e["status"], e["code"]) == ("ok", "ok"), res.diag()
    assert res.rc == 0, res.diag()


@pytest.mark.parametrize("upstream,conf", [
    ("drop", USER_NET),          # Docker 20.10: no reply at all
    ("servfail", USER_NET),      # later engines answer SERVFAIL
    ("drop", USER_NET_25),
], ids=["silent", "servfail", "engine25"])
def test_embedded_upstream_dead(embedded, tmp_path, upstream, conf):
    # Issue 12, report 3: Docker's resolver is up (it answers the
    # container's own name at once), its upstream is not.  That was
    # `timeout` with the gVisor remedy, twice wrong.
    embedded.serve(upstream)
    res = embedded.netcheck(write(tmp_path, "r", conf))
    e = one_resolver(res)
    assert (e["status"], e["code"]) == ("fail", "upstream_dead"), res.diag()
    assert HOSTNAME in e["detail"] and "NOERROR" in e["detail"], res.diag()
    h = e["hint"]
    assert "dockerd" in h and "daemon.json" in h and "--dns" in h, h
    # Not the layers the facts exclude, nor what is in place.
    assert "runsc" not in h and "iptables" not in h, h
    assert "use a user-defined network" not in h, h


def test_embedded_upstream_dead_with_a_query_name(embedded, tmp_path):
    embedded.serve("drop")
    rc = write(tmp_path, "r", USER_NET)
    c = write(tmp_path, "n.conf", "[check resolver]\nresolv_conf = %s\n"
              "query = api.example.test\n" % rc)
    res = embedded.netcheck(rc, "-c", c)
    e = one_resolver(res)
    assert (e["status"], e["code"]) == ("fail", "upstream_dead"), res.diag()


def test_embedded_default_bridge_port_unreachable(embedded, tmp_path):
    # Nothing on 127.0.0.11 and resolv.conf is not a user-defined
    # network's: `--dns 127.0.0.11` on the default bridge.
    res = embedded.netcheck(write(tmp_path, "r", BRIDGE))
    e = one_resolver(res)
    assert (e["status"], e["code"]) == ("fail", "port_unreachable"), \
        res.diag()
    assert "use a user-defined network" in e["hint"], res.diag()
    assert "runsc" not in e["hint"], res.diag()


@pytest.mark.parametrize("conf", [USER_NET, USER_NET_25],
                         ids=["engine20", "engine25"])
def test_embedded_user_network_without_dnat(embedded, tmp_path, conf):
    # The resolv.conf of a user-defined network, yet nothing on
    # 127.0.0.11 (under runc: Docker's DNAT rules are gone).  The hint
    # must not propose a user-defined network: that is in place.
    res = embedded.netcheck(write(tmp_path, "r", conf))
    e = one_resolver(res)
    assert (e["status"], e["code"]) == ("fail", "port_unreachable"), \
        res.diag()
    h = e["hint"]
    assert "use a user-defined network" not in h, h
    assert "DNAT" in h and "--dns" in h and "runsc" not in h, h


def test_embedded_dropped_is_timeout_not_upstream_dead(embedded, tmp_path):
    # A rule drops everything to 127.0.0.11: not even the container's own
    # name comes back, so this is no upstream's fault.
    embedded.serve("a:10.9.9.9")
    embedded.drop()
    res = embedded.netcheck(write(tmp_path, "r", USER_NET))
    e = one_resolver(res)
    assert (e["status"], e["code"]) == ("fail", "timeout"), res.diag()
    h = e["hint"]
    assert "not even for the container's own name" in h, h
    assert "firewall rule" in h and "runsc" not in h, h
    assert "use a user-defined network" not in h, h


# --- proxy variables that disagree ---------------------------------------------

PROXY = "http://%s:%d" % (SRV_IP, netutil.PROXY_PORT)
DOWN = "http://%s:%d" % (SRV_IP, netutil.DOWN_PORT)
AUTH = "http://%s:%s@%s:%d" % (netutil.PROXY_USER, netutil.PROXY_PASS, SRV_IP,
                               netutil.AUTH_PORT)
OPEN = "%s:%d" % (SRV_IP, OPEN_PORT)


def proxy_nc(topo, tmp_path, env, probe=True):
    c = write(tmp_path, "p.conf", "[check proxy]\n%s" % (
        "connect_probe = %s\n" % OPEN if probe else ""))
    res = topo.netcheck("--json", "--timeout", "3s", "-c", c, env=env,
                        timeout=20)
    return res, res.one("proxy")


def test_proxy_mismatch_one_down_fails_and_says_which(topo, tmp_path):
    # Issue 12, report 5: HTTPS_PROXY works, https_proxy (which curl and
    # Python read) does not.  Both values, each one's reachability.
    res, e = proxy_nc(topo, tmp_path, {"HTTPS_PROXY": PROXY,
                                       "https_proxy": DOWN})
    assert (e["status"], e["code"]) == ("fail", "mismatch"), res.diag()
    d = e["detail"]
    assert "HTTPS_PROXY=%s works (CONNECT %s: 200" % (PROXY, OPEN) in d, d
    assert "https_proxy=%s unreachable (connect to the proxy: " \
        "Connection refused)" % DOWN in d, d
    assert "https_proxy does not work" in e["hint"], res.diag()
    assert res.rc == 1


def test_proxy_mismatch_both_work_warns(topo, tmp_path):
    # Two working proxies, one with credentials: a warning, and the
    # password never shows.
    res, e = proxy_nc(topo, tmp_path, {"HTTPS_PROXY": AUTH,
                                       "https_proxy": PROXY})
    assert (e["status"], e["code"]) == ("warn", "mismatch"), res.diag()
    assert netutil.PROXY_PASS not in res.out + res.err, res.diag()
    assert "http://***@%s:%d works" % (SRV_IP, netutil.AUTH_PORT) in \
        e["detail"], res.diag()
    assert "not as the same proxy" in e["hint"], res.diag()
    assert res.rc == 0, res.diag()


def test_proxy_mismatch_in_http_proxy(topo, tmp_path):
    # curl ignores HTTP_PROXY; Go and Python read it: down there fails.
    res, e = proxy_nc(topo, tmp_path, {"HTTP_PROXY": DOWN,
                                       "http_proxy": PROXY}, probe=False)
    assert (e["status"], e["code"]) == ("fail", "mismatch"), res.diag()
    assert e["target"] == PROXY, res.diag()
    assert "HTTP_PROXY does not work" in e["hint"], res.diag()


def test_proxy_mismatch_in_no_proxy_warns(topo, tmp_path):
    res, e = proxy_nc(topo, tmp_path, {"HTTPS_PROXY": PROXY,
                                       "NO_PROXY": "a.test",
                                       "no_proxy": "b.test"})
    assert (e["status"], e["code"]) == ("warn", "mismatch"), res.diag()
    assert "NO_PROXY=a.test but no_proxy=b.test" in e["detail"], res.diag()
    assert "NO_PROXY and no_proxy differ" in e["hint"], res.diag()
