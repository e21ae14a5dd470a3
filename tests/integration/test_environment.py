"""The `environment` event, gathered at every start (issue 15 made it
cheaper: one capget(2) instead of libcap-ng's two reads of
/proc/self/status, the MTU with SIOCGIFMTU instead of sysfs).  Its facts
are checked against what the test set up: a network namespace of its own
with a veth of a chosen MTU and a default route, and three capability
sets."""
import os
import subprocess

import pytest

from harness import AGENT_INIT, check_event_stream, clean_env, helper
from netutil import enter_netns


def env_event(text):
    events = check_event_stream(text)
    env = [e for e in events if e["agent_init"] == "environment"]
    assert len(env) == 1, events
    names = [e["agent_init"] for e in events]
    # Right after `start` (a `warning` about the control socket may come
    # between, as PID 1), before any service's line.
    assert names.index("environment") < names.index("service_start"), names
    return env[0]


@pytest.fixture
def routed_netns():
    """A namespace whose default route goes through a veth of MTU 1280
    (its peer stays in the same namespace: nothing leaves it)."""
    name = "ai-env-%d" % os.getpid()
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        for cmd in (
                "link add aienv0 mtu 1280 type veth peer name aienv1 mtu 1280",
                "link set lo up", "link set aienv1 up", "link set aienv0 up",
                "addr add 10.233.0.2/24 dev aienv0",
                "route add default via 10.233.0.1 dev aienv0"):
            subprocess.run(["ip", "-n", name] + cmd.split(), check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def test_mtu_and_route_of_the_namespace_we_run_in(run, pid1, routed_netns):
    # /sys is not remounted here, so sysfs shows the machine's interfaces,
    # not this namespace's: the MTU must come from the namespace itself.
    r = run(["--", "/bin/true"], pid1=pid1,
            preexec_fn=enter_netns(routed_netns))
    assert r.wait() == 0, r.diag()
    env = env_event(r.stdout())
    assert env["routes"]["v4"] is True, env
    assert env["mtu"] == 1280, env


def test_no_default_route(run):
    from suputil import new_netns
    r = run(["--", "/bin/true"], preexec_fn=new_netns)
    assert r.wait() == 0, r.diag()
    env = env_event(r.stdout())
    assert env["routes"] == {"v4": False, "v6": False}, env
    assert env["mtu"] is None, env


def expected_caps():
    """Our own effective set, named as the event names it."""
    with open("/proc/self/status") as f:
        eff = int([l for l in f if l.startswith("CapEff:")][0].split()[1], 16)
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last = int(f.read())
    full = (1 << (last + 1)) - 1
    eff &= full
    return "none" if eff == 0 else "full" if eff == full else "partial"


@pytest.mark.parametrize("how", ["as-is", "userns", "nobody"])
def test_caps(how):
    pre = {"as-is": [],
           "userns": ["unshare", "--user", "--map-root-user"],
           "nobody": ["setpriv", "--reuid=65534", "--regid=65534",
                      "--clear-groups"]}[how]
    p = subprocess.run(pre + [AGENT_INIT, "--", "/bin/true"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, env=clean_env(), timeout=60)
    assert p.returncode == 0, p
    want = {"as-is": expected_caps(), "userns": "full",
            "nobody": "none"}[how]
    assert env_event(p.stdout)["caps"] == want, p.stdout


def test_environment_comes_second_with_services(run, tmp_path):
    from suputil import write_conf
    conf = write_conf(tmp_path / "e.conf", """\
[service a]
command = {H}/exitwith 0
""")
    r = run(["-c", conf])
    assert r.wait() == 0, r.diag()
    env_event(r.stdout())
    assert helper("exitwith")
