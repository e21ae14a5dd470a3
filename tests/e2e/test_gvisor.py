"""Diagnosis in the real runtime (issue 12): agent-init under runc and
under Debian's gVisor (runsc) in its two network modes, on a user-defined
network of the private dockerd, with the resolver behind Docker's
embedded DNS alive, refusing the root query, and dead.

The runtimes are registered with the tests' private dockerd only
(conftest.py: runsc-netstack, runsc-host, runsc-dind).  If runsc is not
installed or cannot run a container, every test here fails with what
went wrong; none is skipped.

Upstreams, in dockerd's network namespace (containers reach them through
the bridge, as Docker's embedded DNS forwards to them):

  10.213.0.53  the session's stub: answers every name (the root: NOERROR)
  10.213.0.54  refuses the root query, answers names: what dnsmasq without
               an upstream and the allow-listing DNS proxies of agent
               sandboxes do
  10.213.0.55  silent: a dead upstream

`docker run --dns X` on a user-defined network keeps 127.0.0.11 in the
container's resolv.conf and makes X the upstream of Docker's embedded DNS
for that container.
"""
import json
import os

import pytest

from conftest import IMAGE, NS_RESOLVER
from harness import AGENT_INIT, check_event_stream
from suputil import named

NET = "e2e-gvisor"
REFUSING = "10.213.0.54"
DEAD = "10.213.0.55"
UPSTREAMS = {"alive": NS_RESOLVER, "refusing": REFUSING, "dead": DEAD}
RUNTIMES = ["runc", "runsc-host", "runsc-netstack"]


@pytest.fixture(scope="module")
def gvisor(engine):
    """The user-defined network and the two extra upstreams; fails (never
    skips) when runsc cannot run a container."""
    if not os.access("/usr/bin/runsc", os.X_OK):
        pytest.fail("/usr/bin/runsc is missing: the gVisor end-to-end tests "
                    "need Debian's runsc (scripts/deps.sh installs it)",
                    pytrace=False)
    engine.dns_stub(REFUSING, ".=refused", "*=a:10.9.9.9")
    engine.dns_stub(DEAD, "*=drop")
    engine.d.docker("network", "create", NET)
    try:
        for rt in ("runsc-host", "runsc-netstack"):
            r = engine.d.docker("run", "--rm", "--pull=never", "--runtime",
                                rt, "--network", NET, "--entrypoint",
                                "/bin/true", IMAGE, check=False, timeout=120)
            if r.returncode != 0:
                pytest.fail("runsc (%s) cannot run a container: %s%s\n"
                            "--- dockerd log:\n%s" % (
                                rt, r.stdout, r.stderr, engine.d.log_tail()),
                            pytrace=False)
        yield engine
    finally:
        engine.d.docker("network", "rm", NET, check=False)


def netcheck(ctr, runtime, upstream, *extra):
    """agent-init netcheck --json in a fresh container; its events."""
    name, r = ctr.run("--runtime", runtime, "--network", NET, "--dns",
                      UPSTREAMS[upstream], "--entrypoint",
                      "/usr/local/bin/agent-init", *extra,
                      cmd=["netcheck", "--json", "--timeout", "2s"],
                      detach=False, check=False)
    evs = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    assert evs and evs[-1]["agent_init"] == "checks", (r.stdout, r.stderr)
    return r, evs


def resolver(evs, r):
    res = [e for e in evs if e.get("check") == "resolver"]
    assert len(res) == 1 and res[0]["target"] == "127.0.0.11", \
        (r.stdout, r.stderr)
    return res[0]


# What each runtime gives on a user-defined network (README
# "Troubleshooting" is written from these runs).
EXPECT = {
    ("runc", "alive"): ("ok", "ok"),
    ("runc", "refusing"): ("ok", "ok"),
    ("runc", "dead"): ("fail", "upstream_dead"),
    ("runsc-host", "alive"): ("ok", "ok"),
    ("runsc-host", "refusing"): ("ok", "ok"),
    ("runsc-host", "dead"): ("fail", "upstream_dead"),
    ("runsc-netstack", "alive"): ("fail", "port_unreachable"),
    ("runsc-netstack", "refusing"): ("fail", "port_unreachable"),
    ("runsc-netstack", "dead"): ("fail", "port_unreachable"),
}


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("upstream", ["alive", "refusing", "dead"])
def test_resolver_in_the_real_runtime(gvisor, ctr, runtime, upstream):
    r, evs = netcheck(ctr, runtime, upstream)
    e = resolver(evs, r)
    assert (e["status"], e["code"]) == EXPECT[runtime, upstream], e
    hint = e.get("hint", "")
    if upstream == "refusing" and e["status"] == "ok":
        # The root query refused, every name answered: reachable, and
        # that is all the default probe asks (issue 12, report 2).
        assert "REFUSED" in e["detail"], e
    if e["code"] == "upstream_dead":
        # 127.0.0.11 answered the container's own name; the resolver
        # behind it is dead (issue 12, report 3): dockerd's dns, never
        # runsc, never the network.
        assert "Docker's own name" in e["detail"], e
        assert "daemon.json" in hint and "runsc" not in hint, e
    if runtime == "runsc-netstack":
        # Issue 12, report 1: the container IS on a user-defined network;
        # netstack never applies Docker's DNAT rules.
        assert "network netstack" in hint, e
        assert "runsc --network=host" in hint, e
        assert "use a user-defined network" not in hint, e
    if runtime == "runsc-host":
        # Host networking is in place: never proposed again.
        assert "runsc --network=host" not in hint, e
    if runtime == "runc":
        assert "runsc" not in hint and "gVisor" not in hint, e
    # The fingerprint of the same run: the runtime as the facts say.
    env_ok = [x for x in evs if x.get("check") == "environment"]
    assert env_ok, evs


def test_runsc_environment_event(gvisor, ctr):
    # PID 1 under runsc: the `environment` event names gVisor.
    name, r = ctr.run("--runtime", "runsc-host", "--network", NET,
                      "-e", "AGENT_EXIT=0", detach=False, check=False)
    evs = [json.loads(l) for l in r.stdout.splitlines()
           if l.startswith('{"agent_init"')]
    env = [e for e in evs if e["agent_init"] == "environment"]
    assert env and env[0]["runtime"] == "gvisor", r.stdout


# --- dockerd in gVisor: the beta9 report -------------------------------------

# The capabilities of the beta9 report (docker-in-gVisor sandboxes).
DIND_CAPS = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
             "NET_BIND_SERVICE", "NET_ADMIN", "NET_RAW", "SETFCAP", "SETGID",
             "SETPCAP", "SETUID", "SYS_ADMIN", "SYS_CHROOT", "SYS_PTRACE",
             "AUDIT_WRITE"]
DEVICES = "failed to start daemon: Devices cgroup isn't mounted"


def test_dockerd_in_gvisor_says_why_and_gives_up_fast(gvisor, ctr,
                                                      usrroot_image):
    # Issue 12, report 4: dockerd 20.10 under runsc (--network=host
    # --net-raw, the 17 capabilities, the host's binaries bind-mounted as
    # in TESTING.md 6b) exits 1 after ~50 lines of level=info; its last
    # line is the reason.  service_failed used to say "exited with code
    # 1", after ten restarts and ~100 s.
    caps = [a for c in DIND_CAPS for a in ("--cap-add", c)]
    c = ctr.run("--runtime", "runsc-dind", *caps,
                "-v", "/usr:/usr:ro",
                "-v", "/etc/alternatives:/etc/alternatives:ro",
                "-v", "%s:/agent-init:ro" % AGENT_INIT,
                "--tmpfs", "/var/lib/docker", "--tmpfs", "/run",
                "--tmpfs", "/tmp", image=usrroot_image,
                cmd=["--dockerd", "--", "/bin/true"])
    r = ctr.docker("wait", c, timeout=180)
    diag = ctr.diag(c)
    assert r.stdout.strip() == "70", (r.stdout, diag())
    ev = check_event_stream(ctr.stdout_logs(c), status=70)
    env = named(ev, "environment")[0]
    assert env["runtime"] == "gvisor", env
    exits = named(ev, "service_exit", service="dockerd")
    # The same cause three times, before dockerd was ever ready: it gives
    # up then (crashloop_limit's default), not after max_restarts.
    assert len(exits) == 3, diag()
    for e in exits:
        assert e["code"] == 1 and e["cause"] == DEVICES, e
        assert "runsc with cgroup support" in e["hint"], e
    failed = named(ev, "service_failed", service="dockerd")[0]
    assert "3 times in a row with the same cause" in failed["reason"], failed
    assert failed["cause"] == DEVICES, failed
    assert ev[-1]["cause"] == DEVICES and ev[-1]["hint"], ev[-1]
    # The agent never started: nothing to run it against.
    assert not named(ev, "service_start", service="main"), diag()
