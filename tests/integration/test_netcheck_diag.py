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
