"""Network fixtures for the netcheck tests (test_netcheck.py).

Everything lives in two network namespaces created here and nowhere else:

    sandbox  SBX_IP/24  ---- veth ----  SRV_IP/24 (+ .3, .4)  servers
    (agent-init runs here)             (dnsmasq, dnsstub, tinyproxy,
                                        tcplisten, nft drop rules)

Neither namespace has a default route, so a documentation address
(198.51.100.0/24, 203.0.113.0/24) fails at once with ENETUNREACH and no
packet ever reaches the machine's own network.  Daemons are started with
a preexec_fn that enters the server namespace (no `ip netns exec`, so
their pid is the one Popen returns, and no /etc/netns files are needed),
and are killed by that pid at teardown; `ip netns del` removes the veth
pair with the namespaces.  The machine's /etc/resolv.conf and /etc/hosts
are never read: every run gets --resolv-conf/--hosts files or config keys
naming files of the test.
"""
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from harness import AGENT_INIT_CMD, DEADLINE, HELPERS, clean_env, poll

CLONE_NEWNET = 0x40000000

# The link between the namespaces (private, never routed anywhere).
NET = "10.231.0"
SUBNET = NET + ".0/24"
SBX_IP = NET + ".2"
SRV_IP = NET + ".1"          # dnsmasq :53, tinyproxy :3128/:3129, tcplisten
STUB_IP = NET + ".3"         # dnsstub :53 (servfail, refused, tc, drop)
DROP_IP = NET + ".4"         # port 53 dropped in the server's INPUT hook
EMPTY_IP = NET + ".5"        # an address of the server with no listener
DROP_PORT = 9090             # on SRV_IP: TCP dropped in INPUT
CLOSED_PORT = 9091           # on SRV_IP: nothing listens (RST)
OPEN_PORT = 8443             # on SRV_IP: tcplisten
OPEN_PORT2 = 8080            # on SRV_IP: tcplisten, not in ConnectPort
PROXY_PORT = 3128            # tinyproxy, CONNECT allowed to SRV_IP:8443
AUTH_PORT = 3129             # tinyproxy with BasicAuth
DOWN_PORT = 3999             # no proxy listens here
PROXY_USER = "agent"
PROXY_PASS = "Zq7-s3cr3t-pw"
NOROUTE_IP = "198.51.100.53"  # documentation range: no route in the sandbox

# Proxy variables of the environment pytest runs in never reach a run.
PROXY_VARS = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy",
              "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"]

_libc = ctypes.CDLL(None, use_errno=True)


def enter_netns(name):
    """A preexec_fn that moves the child into the named namespace."""
    path = "/run/netns/" + name

    def enter():
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                e = ctypes.get_errno()
                raise OSError(e, "setns(%s): %s" % (path, os.strerror(e)))
        finally:
            os.close(fd)
    return enter


def _read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return None


def sh(*argv, ns=None, input=None):
    """Run a setup command (ip, nft, iptables); fail loudly."""
    cmd = list(argv)
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    p = subprocess.run(cmd, input=input, capture_output=True, text=True,
                       timeout=DEADLINE)
    if p.returncode != 0:
        raise RuntimeError("%s: status %d: %s" % (" ".join(cmd), p.returncode,
                                                   p.stderr.strip()))
    return p.stdout


class Daemon:
    """A server in a namespace, started at once, its output in a file."""

    def __init__(self, name, argv, ns, workdir):
        self.name = name
        self.log = os.path.join(workdir, name + ".out")
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, env=clean_env(),
                preexec_fn=enter_netns(ns), start_new_session=True)

    def wait_ready(self, ready):
        poll(lambda: self._ready(ready), DEADLINE, self.name + " ready",
             lambda: "\n" + self.output())

    def _ready(self, pred):
        if self.proc.poll() is not None:
            raise AssertionError("%s exited with %s:\n%s" % (
                self.name, self.proc.returncode, self.output()))
        return pred(self)

    def output(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def _signal_group(self, sig):
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self):
        """SIGTERM, then SIGKILL, to the daemon's own process group (the
        session it was started in: dnsmasq forks a child per TCP query)."""
        pid = self.proc.pid
        if self.proc.returncode is not None:
            return              # reaped already (it died early)
        self._signal_group(signal.SIGTERM)
        # Wait for the leader without reaping it: while it is a zombie its
        # group id cannot be reused, so the SIGKILL below can only reach
        # what is left of our own group.
        end = time.monotonic() + 5
        while time.monotonic() < end and os.waitid(
                os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            time.sleep(0.02)
        self._signal_group(signal.SIGKILL)
        self.proc.wait(5)


def tcp_ready(ns, addr, port):
    """A predicate: something accepts on addr:port in namespace ns."""
    code = ("import socket; socket.create_connection((%r, %d), 1).close()"
            % (addr, port))

    def probe(_daemon=None):
        p = subprocess.run([sys.executable, "-c", code], capture_output=True,
                           timeout=DEADLINE, preexec_fn=enter_netns(ns))
        return p.returncode == 0
    return probe


class Topology:
    """The two namespaces, the link, the servers and the drop rules."""

    def __init__(self):
        tag = "%d" % os.getpid()
        self.sbx = "ainc-sbx-" + tag
        self.srv = "ainc-srv-" + tag
        self.veth_sbx = ("aincs" + tag)[:15]
        self.veth_srv = ("aincv" + tag)[:15]
        self.dir = tempfile.mkdtemp(prefix="ainc-net-")
        # tinyproxy drops to nobody and then reads its filter and log.
        os.chmod(self.dir, 0o755)
        self.daemons = []
        self.netns = []

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, text):
        p = self.path(name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, 0o644)
        return p

    # --- setup ---------------------------------------------------------

    def up(self):
        for ns in (self.sbx, self.srv):
            sh("ip", "netns", "add", ns)
            self.netns.append(ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "link", "add", self.veth_sbx, "netns", self.sbx, "type",
           "veth", "peer", "name", self.veth_srv, "netns", self.srv)
        sh("ip", "-n", self.sbx, "addr", "add", SBX_IP + "/24", "dev",
           self.veth_sbx)
        for ip in (SRV_IP + "/24", STUB_IP + "/24", DROP_IP + "/24",
                   EMPTY_IP + "/24"):
            sh("ip", "-n", self.srv, "addr", "add", ip, "dev", self.veth_srv)
        sh("ip", "-n", self.sbx, "link", "set", self.veth_sbx, "up")
        sh("ip", "-n", self.srv, "link", "set", self.veth_srv, "up")
        # The server side drops (INPUT hook: the client sees silence, not
        # the EPERM an OUTPUT drop would give).
        sh("nft", "-f", "-", ns=self.srv, input="""
table inet ainc_test {
  chain input { type filter hook input priority 0; policy accept;
    ip daddr %s udp dport 53 drop
    ip daddr %s tcp dport 53 drop
    ip daddr %s tcp dport %d drop
  }
}
""" % (DROP_IP, DROP_IP, SRV_IP, DROP_PORT))
        # Docker's embedded DNS address in the sandbox, silenced the way
        # gVisor's netstack silences it (packets go nowhere); iptables
        # here, nft above: both are what users have.
        for proto in ("udp", "tcp"):
            sh("iptables", "-A", "INPUT", "-d", "127.0.0.11", "-p", proto,
               "--dport", "53", "-j", "DROP", ns=self.sbx)
        self._servers()
        return self

    def start(self, name, argv, ready):
        """Start a daemon in the server namespace; it is stopped by down()
        even when it never gets ready."""
        d = Daemon(name, argv, self.srv, self.dir)
        self.daemons.append(d)
        d.wait_ready(ready)
        return d

    def _servers(self):
        self.write("dnsmasq.hosts", "%s gw.test\n" % SRV_IP)
        self.start("dnsmasq", [
            "dnsmasq", "-k", "--conf-file=/dev/null", "--no-resolv",
            "--no-hosts", "--no-poll", "--addn-hosts=" +
            self.path("dnsmasq.hosts"),
            "--address=/ok.test/" + SRV_IP, "--address=/nx.test/",
            "--listen-address=" + SRV_IP, "--bind-interfaces", "--port=53",
            "--user=root", "--log-facility=" + self.path("dnsmasq.log"),
            "--log-queries"],
            lambda d: "started" in (_read(self.path("dnsmasq.log")) or ""))
        stub = os.path.join(HELPERS, "dnsstub")
        self.stub = self.start("dnsstub", [
            stub, STUB_IP + ":53", "servfail.test=servfail",
            "refused.test=refused", "tc.test=tc:" + SRV_IP,
            "silent.test=drop", ".=a:" + SRV_IP],
            lambda d: "dnsstub ready" in d.output())
        lst = os.path.join(HELPERS, "tcplisten")
        self.listen = self.start("tcplisten", [
            lst, "%s:%d" % (SRV_IP, OPEN_PORT), "%s:%d" % (SRV_IP, OPEN_PORT2)],
            lambda d: "tcplisten ready" in d.output())
        self.write("tinyproxy.filter", "^%s$\n" % SRV_IP.replace(".", r"\."))
        for name, port, extra in (
                ("tinyproxy", PROXY_PORT,
                 'Filter "%s"\nFilterType ere\nFilterDefaultDeny Yes\n'
                 % self.path("tinyproxy.filter")),
                ("tinyproxy-auth", AUTH_PORT,
                 "BasicAuth %s %s\n" % (PROXY_USER, PROXY_PASS))):
            log = self.write(name + ".log", "")
            os.chmod(log, 0o666)
            conf = self.write(name + ".conf", (
                "User nobody\nGroup nogroup\nPort %d\nListen %s\n"
                "Timeout 5\nMaxClients 20\nLogFile \"%s\"\nLogLevel Info\n"
                "Allow %s\nConnectPort %d\nDisableViaHeader Yes\n%s")
                % (port, SRV_IP, log, SUBNET, OPEN_PORT, extra))
            self.start(name, ["tinyproxy", "-d", "-c", conf],
                       tcp_ready(self.srv, SRV_IP, port))

    # --- teardown ------------------------------------------------------

    def down(self):
        errors = []
        for d in reversed(self.daemons):
            try:
                d.stop()
            except Exception as e:  # keep cleaning up
                errors.append("%s: %s" % (d.name, e))
        for ns in reversed(self.netns):
            p = subprocess.run(["ip", "netns", "del", ns],
                               capture_output=True, text=True)
            if p.returncode != 0:
                errors.append("ip netns del %s: %s" % (ns, p.stderr))
        shutil.rmtree(self.dir, ignore_errors=True)
        return errors

    # --- runs ----------------------------------------------------------

    def env(self, extra=None):
        """clean_env() without any proxy variable of ours, checks on."""
        e = {v: None for v in PROXY_VARS}
        e["AGENT_INIT_NO_CHECKS"] = None
        e.update(extra or {})
        return e

    def netcheck(self, *args, env=None, wrap=(), timeout=DEADLINE):
        """agent-init netcheck ARGS in the sandbox namespace."""
        cmd = list(wrap) + AGENT_INIT_CMD + ["netcheck"] + \
            [str(a) for a in args]
        t0 = time.monotonic()
        p = subprocess.run(cmd, capture_output=True, text=True,
                           env=clean_env(self.env(env)), timeout=timeout,
                           preexec_fn=enter_netns(self.sbx))
        return Result(cmd, p.returncode, p.stdout, p.stderr,
                      time.monotonic() - t0)


class Result:
    def __init__(self, cmd, rc, out, err, wall):
        self.cmd, self.rc, self.out, self.err, self.wall = (
            cmd, rc, out, err, wall)

    def diag(self):
        return "\n--- %s\n--- rc=%s wall=%.2fs\n--- stdout:\n%s--- stderr:\n%s" % (
            " ".join(self.cmd), self.rc, self.wall, self.out, self.err)

    def events(self):
        """--json: every stdout line is one JSON object (asserted)."""
        evs = []
        for line in self.out.splitlines():
            try:
                ev = json.loads(line)
            except ValueError:
                raise AssertionError("not JSON: %r%s" % (line, self.diag()))
            assert isinstance(ev, dict), line
            evs.append(ev)
        return evs

    def checks(self, check=None):
        """The `check` events (of one check type, "tcp" also matches
        "tcp:NAME")."""
        return [e for e in self.events() if e.get("agent_init") == "check"
                and (check is None or e["check"].split(":")[0] == check)]

    def one(self, check, target=None):
        cs = [e for e in self.checks(check)
              if target is None or e["target"] == target]
        assert len(cs) == 1, "want one %s check%s, got %r%s" % (
            check, " for " + target if target else "", cs, self.diag())
        return cs[0]


def conf(tmp_path, text, name="n.conf"):
    """Write a config file of the test and return its path."""
    p = tmp_path / name
    p.write_text(text)
    return str(p)
