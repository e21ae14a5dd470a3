"""The --dockerd preset (SPEC section 9; issue 3 item 10), with a real,
private dockerd: its data, exec root, pidfile and socket in a temporary
directory, --bridge=none --iptables=false, and agent-init (PID 1 of a new
PID namespace) in a network namespace of its own, so dockerd never sees
or touches the host's network (TESTING.md sections 5 and 6d).

These tests fail, never skip, when dockerd cannot be started: install
Debian's docker.io (scripts/deps.sh)."""
import json
import os
import shutil
import signal
import subprocess
import tempfile

import pytest

from harness import poll
from suputil import index, mark, named, new_netns, read_marks, svcact


# A test names dockerdir before run: fixtures are torn down in reverse
# order, so the run (and its dockerd) is gone before the directory is
# removed.
@pytest.fixture
def dockerdir():
    if not shutil.which("dockerd"):
        pytest.fail("dockerd is not installed (Debian package docker.io; "
                    "scripts/deps.sh should install it)")
    if not shutil.which("docker"):
        pytest.fail("the docker client is not installed")
    # Short: containerd's socket is DIR/exec/containerd/containerd.sock and
    # a unix socket path has at most 107 bytes.
    d = tempfile.mkdtemp(prefix="aid", dir="/tmp")
    with open(os.path.join(d, "daemon.json"), "w") as f:
        f.write("{}\n")
    yield d
    # Everything ran in the run's PID namespace, which is gone by now (the
    # run fixture killed what was left); its mounts went with its mount
    # namespace, but make sure.
    for line in reversed(open("/proc/mounts").read().splitlines()):
        mnt = line.split()[1]
        if mnt.startswith(d + "/"):
            subprocess.run(["umount", "-l", mnt], check=False)
    shutil.rmtree(d, ignore_errors=True)


def dockerd_env(d):
    return {"AGENT_INIT_DOCKERD_ARGS":
            "--config-file %(d)s/daemon.json --data-root %(d)s/data "
            "--exec-root %(d)s/exec --pidfile %(d)s/docker.pid "
            "--host=unix://%(d)s/docker.sock --bridge=none --iptables=false"
            % {"d": d}}


def dockerd_failed(r):
    ev = r.events()
    return "dockerd could not be started" + r.diag() if \
        named(ev, "service_failed", service="dockerd") else None


def test_dockerd_preset_command_runs_once_dockerd_is_ready(dockerdir, run):
    # A pidfile left by a dockerd killed with SIGKILL: the preset removes
    # it (dockerd would refuse to start) and says so in `adapted`.
    pidfile = os.path.join(dockerdir, "docker.pid")
    with open(pidfile, "w") as f:
        f.write("999999\n")
    sock = "unix://%s/docker.sock" % dockerdir
    r = run(["--dockerd", "--", "docker", "-H", sock, "version",
             "--format", "{{json .Server}}"],
            env=dockerd_env(dockerdir), preexec_fn=new_netns)
    status = r.wait(120)
    ev = r.events()
    assert named(ev, "service_ready", service="dockerd"), \
        dockerd_failed(r) or r.diag()
    assert status == 0, r.diag()
    start = named(ev, "service_start", service="dockerd")[0]
    assert any("stale" in a and pidfile in a
               for a in start.get("adapted", [])), start
    # The command ran only after dockerd's probes passed, and it reached
    # the daemon.
    assert index(ev, "service_ready", service="dockerd") < \
        index(ev, "service_start", service="main") < index(ev, "ready")
    server = [l for l in r.lines() if l.startswith("main| {")]
    assert server, r.diag()
    assert json.loads(server[0][len("main| "):])["Version"], server
    # Then the shutdown: main had ended, dockerd is stopped after it.
    assert index(ev, "service_exit", service="main") < \
        index(ev, "shutdown") < index(ev, "service_exit", service="dockerd")
    assert ev[-1]["agent_init"] == "exit" and ev[-1]["status"] == 0


def test_dockerd_sigterm_stops_command_first_then_dockerd(dockerdir, run,
                                                          tmp_path):
    # The command takes half a second to stop: dockerd may only get its
    # SIGTERM after the command has exited.
    marks = tmp_path / "marks"
    r = run(["--dockerd", "--output", "json", "--", svcact(),
             "onterm:%s:main:500" % marks, "o:working", "wait"],
            env=dockerd_env(dockerdir), preexec_fn=new_netns)
    poll(lambda: named(r.events(), "ready") or dockerd_failed(r), 90,
         "ready", r.diag)
    assert named(r.events(), "ready"), dockerd_failed(r)
    r.kill(signal.SIGTERM)
    assert r.wait(60) == 0, r.diag()
    ev = r.events()
    m = read_marks(marks)
    assert mark(m, "main", "term") < mark(m, "main", "exit")
    i_main = index(ev, "service_exit", service="main")
    i_dockerd = index(ev, "service_exit", service="dockerd")
    assert i_main is not None and i_dockerd is not None, r.diag()
    assert i_main < i_dockerd
    # dockerd's own word that it got the signal comes after the command
    # was gone.
    got = [i for i, e in enumerate(ev) if e["agent_init"] == "log" and
           e["service"] == "dockerd" and
           "Processing signal 'terminated'" in e["line"]]
    assert got, r.diag()
    assert got[0] > i_main, (got[0], i_main)
    exit_dockerd = ev[i_dockerd]
    assert exit_dockerd.get("code") == 0, exit_dockerd


def caps_of(pid):
    with open("/proc/%d/status" % pid) as f:
        return {l.split(":")[0]: l.split()[1] for l in f
                if l.startswith(("Cap", "Uid:", "NoNewPrivs:"))}


def test_dockerd_keeps_its_capabilities_beside_an_agent_without_any(
        dockerdir, run, tmp_path):
    # Issue 5: the typical sandbox.  dockerd runs as root with all of
    # agent-init's capabilities; the agent after it runs as nobody with
    # none, no_new_privs and the default seccomp filter.
    d = dockerdir
    with open(os.path.join(d, "agent.json"), "w") as f:
        json.dump({"data-root": d + "/data", "exec-root": d + "/exec",
                   "pidfile": d + "/docker.pid",
                   "hosts": ["unix://%s/docker.sock" % d],
                   "bridge": "none", "iptables": False}, f)
    conf = tmp_path / "s.conf"
    conf.write_text("""\
[service dockerd]
command = dockerd --config-file %s/agent.json
ready = unix-http:%s/docker.sock:/_ping
ready_timeout = 60s

[service agent]
command = %s/sbreport status
after = dockerd
user = nobody
capabilities = none
seccomp = default
restart = never
""" % (d, d, os.environ["HELPERS"]))
    r = run(["-c", str(conf)], preexec_fn=new_netns)
    poll(lambda: "agent| sbreport done" in r.lines() or dockerd_failed(r)
         or r.proc.poll() is not None, 90, "the agent's report", r.diag)
    assert not dockerd_failed(r), dockerd_failed(r)
    agent = {l.split(":")[0][7:]: l.split()[-1] for l in r.lines()
             if l.startswith("agent| ")}
    start = named(r.events(), "service_start", service="dockerd")[0]
    dockerd = caps_of(r.host_pid(start["pid"]))
    with open("/proc/self/status") as f:
        ours = [l.split()[1] for l in f if l.startswith("CapBnd:")][0]
    assert dockerd["CapEff"] == ours and dockerd["CapBnd"] == ours, dockerd
    assert dockerd["NoNewPrivs"] == "0", dockerd
    for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(agent[k], 16) == 0, (k, agent)
    assert agent["NoNewPrivs"] == "1" and agent["Seccomp"] == "2", agent
    assert agent["Uid"] == "65534", agent
    r.kill(signal.SIGTERM)
    assert r.wait(60) == 0, r.diag()
