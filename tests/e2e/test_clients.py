"""Real clients of agent-init's readiness (issue 17), each against engines
of the test's own, never the machine's:

- podman (TESTING.md 10c: rootful, in a network and mount namespace of
  its own, its state in a temporary directory) with --sdnotify=container:
  agent-init's READY=1 reaches podman's NOTIFY_SOCKET only once the
  sandbox is ready; `podman healthcheck run` runs the image's HEALTHCHECK
  (`agent-init status --quiet`; the image built with `podman build
  --format docker`);
- docker-compose (Debian's) against the private dockerd: a service that
  `depends_on: condition: service_healthy` is created only once
  agent-init's sandbox is healthy;
- curl against the HTTP probe endpoint in a real container, before and
  after ready (the Kubernetes httpGet probes of the README), and
  `agent-init ctl stop` through `docker exec` (the README's preStop).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid

import pytest

from conftest import E2E_CONTEXT, IMAGE
from harness import poll, parse_events
from suputil import named

# --- podman, in namespaces of its own -------------------------------------------


class Podman:
    """Rootful podman, every command in one network + mount namespace of
    ours (a holder process keeps them), state in a temporary directory:
    vfs storage (no overlay mounts), cgroupfs, file events, and no
    network for the containers.  Never the machine's podman state."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="aipm-", dir="/tmp")
        self.holder = subprocess.Popen(
            ["unshare", "--net", "--mount", "--propagation", "private",
             "sleep", "3600"], stdin=subprocess.DEVNULL,
            start_new_session=True)
        self.image = "localhost/agent-init-sd:e2e"

    def cmd(self, *args):
        return ["nsenter", "-t", str(self.holder.pid), "--net", "--mount",
                "podman", "--root", self.dir + "/storage", "--runroot",
                self.dir + "/run", "--cgroup-manager", "cgroupfs",
                "--events-backend", "file", "--storage-driver", "vfs"] + [
                    str(a) for a in args]

    def run(self, *args, check=True, env=None, timeout=120):
        e = {k: v for k, v in os.environ.items()
             if not k.startswith("AGENT_INIT") and k != "NOTIFY_SOCKET"}
        e.update(env or {})
        r = subprocess.run(self.cmd(*args), capture_output=True, text=True,
                           env=e, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError("podman %s: exit %d\n%s%s" % (
                " ".join(map(str, args)), r.returncode, r.stdout, r.stderr))
        return r

    def start(self):
        if not shutil.which("podman"):
            pytest.fail("podman is not installed (scripts/deps.sh installs "
                        "it)", pytrace=False)
        # The holder's namespaces exist once nsenter can enter them.
        poll(lambda: self.run("version", check=False).returncode == 0, 20,
             "podman in its namespaces")
        r = self.run("build", "--format", "docker", "-t", self.image,
                     E2E_CONTEXT, check=False, timeout=300)
        if r.returncode != 0:
            pytest.fail("podman build failed:\n%s%s" % (r.stdout, r.stderr),
                        pytrace=False)

    def stop(self):
        try:
            ids = self.run("ps", "-aq", check=False).stdout.split()
            if ids:
                self.run("rm", "-f", "-t", "0", *ids, check=False)
        finally:
            self.holder.kill()
            self.holder.wait(10)
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def podman():
    p = Podman()
    try:
        p.start()
        yield p
    finally:
        p.stop()


class NotifyListener:
    """podman's own NOTIFY_SOCKET: every datagram, with its arrival."""

    def __init__(self, path):
        self.path = path
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind(path)
        os.chmod(path, 0o777)
        self.s.settimeout(0.2)
        self.got = []
        self.stop = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stop:
            try:
                d = self.s.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            self.got.append((time.time(), d.decode(errors="replace")))

    def has(self, text):
        return [t for t, d in self.got if text in d.split("\n")]

    def close(self):
        self.stop = True
        self.t.join(5)
        self.s.close()


def podman_events(pm, name):
    return parse_events(pm.run("logs", name, check=False).stdout)


def test_podman_sdnotify_and_healthcheck(podman, tmp_path):
    pm = podman
    name = "e2e-" + uuid.uuid4().hex[:8]
    notify = NotifyListener(os.path.join(pm.dir, "notify.sock"))
    try:
        pm.run("run", "-d", "--name", name, "--sdnotify=container",
               "--network=none", "--ulimit", "nofile=4096:4096", "--ulimit",
               "nproc=4096:4096", "-e", "AGENT_GATE=/tmp/go", pm.image,
               env={"NOTIFY_SOCKET": notify.path})

        def diag():
            return "\n--- podman logs:\n%s\n--- notify: %r" % (
                pm.run("logs", name, check=False).stdout[-3000:],
                notify.got)
        poll(lambda: named(podman_events(pm, name), "service_ready",
                           service="gateway"), 60, "the gateway ready",
             diag)
        poll(lambda: notify.has("MAINPID=%d" % pm_pid(pm, name)) or
             [d for _, d in notify.got if d.startswith("MAINPID=")], 30,
             "MAINPID from agent-init", diag)
        # Not ready (the agent waits for its gate): no READY=1, and the
        # image's HEALTHCHECK (agent-init status --quiet) fails.
        poll(lambda: named(podman_events(pm, name), "waiting"), 30,
             "a waiting event", diag)
        assert not notify.has("READY=1"), diag()
        hc = pm.run("healthcheck", "run", name, check=False)
        assert hc.returncode == 1, (hc.stdout, hc.stderr)
        assert "unhealthy" in hc.stdout + hc.stderr, (hc.stdout, hc.stderr)
        assert not notify.has("READY=1"), diag()

        pm.run("exec", name, "touch", "/tmp/go")
        poll(lambda: notify.has("READY=1"), 60, "READY=1 on podman's "
             "NOTIFY_SOCKET", diag)
        ready = named(podman_events(pm, name), "ready")
        assert ready, diag()
        hc = pm.run("healthcheck", "run", name, check=False)
        assert hc.returncode == 0, (hc.stdout, hc.stderr)
        # podman stop: the agent's SIGTERM handler exits 0, so does the
        # container.
        pm.run("stop", "-t", "10", name)
        code = pm.run("inspect", "--format", "{{.State.ExitCode}}",
                      name).stdout.strip()
        assert code == "0", diag()
    finally:
        notify.close()
        pm.run("rm", "-f", "-t", "0", name, check=False)


def pm_pid(pm, name):
    r = pm.run("inspect", "--format", "{{.State.ConmonPid}}", name,
               check=False)
    try:
        return int(r.stdout.strip())
    except ValueError:
        return -1


# --- docker-compose against the private dockerd ----------------------------------

COMPOSE = """\
version: "2.4"
services:
  sandbox:
    image: %(image)s
    network_mode: none
    environment:
      AGENT_GATE: /tmp/go
    healthcheck:
      test: ["CMD", "/usr/local/bin/agent-init", "status", "--quiet"]
      interval: 1s
      timeout: 5s
      retries: 1
      start_period: 120s
  dependent:
    image: %(image)s
    network_mode: none
    entrypoint: ["/bin/sh", "-c", "echo dependent started; exec sleep 300"]
    depends_on:
      sandbox:
        condition: service_healthy
"""


def test_compose_depends_on_service_healthy(engine, tmp_path):
    d = engine.d
    project = "e2e" + uuid.uuid4().hex[:8]
    f = tmp_path / "docker-compose.yml"
    f.write_text(COMPOSE % {"image": IMAGE})
    compose = ["docker-compose", "-p", project, "-f", str(f)]
    env = d.env({"COMPOSE_INTERACTIVE_NO_CLI": "1"})

    def names():
        r = d.docker("ps", "-a", "--filter", "label=com.docker.compose."
                     "project=" + project, "--format", "{{.Names}}")
        return r.stdout.split()

    def container(svc):
        for n in names():
            if "_%s_" % svc in n or n.endswith("-" + svc + "-1"):
                return n
        return None

    up = subprocess.Popen(compose + ["up", "-d"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, env=env)
    try:
        sb = poll(lambda: container("sandbox"), 120, "the sandbox container")

        def diag():
            return "\n--- docker logs %s:\n%s\n--- containers: %r" % (
                sb, d.docker("logs", sb, check=False).stdout[-3000:],
                names())
        poll(lambda: named(parse_events(d.docker("logs", sb,
                                                 check=False).stdout),
                           "waiting"), 60, "the sandbox waiting", diag)
        # Health probes fail while the agent waits: compose holds the
        # dependent back (it does not even create it).
        poll(lambda: [x for x in (json.loads(d.docker(
            "inspect", sb).stdout)[0]["State"].get("Health") or {}).get(
            "Log") or [] if x["ExitCode"] == 1], 60, "a failed probe", diag)
        time.sleep(0)  # (no fixed wait: the state is checked now)
        assert container("dependent") is None, diag()
        assert up.poll() is None, up.communicate()[0]
        d.docker("exec", sb, "touch", "/tmp/go")
        out, _ = up.communicate(timeout=120)
        assert up.returncode == 0, out
        dep = container("dependent")
        assert dep, diag()
        logs = d.docker("logs", sb).stdout
        ready = named(parse_events(logs), "ready")
        assert ready, diag()
        started = json.loads(d.docker("inspect", dep).stdout)[0]["State"][
            "StartedAt"]
        # The dependent started after agent-init's `ready` (both UTC).
        assert started[:23] >= ready[0]["ts"][:23], (started, ready[0]["ts"])
        poll(lambda: "dependent started" in d.docker("logs", dep).stdout,
             30, "the dependent's output", diag)
    finally:
        if up.poll() is None:
            up.kill()
            up.communicate()
        subprocess.run(compose + ["down", "-t", "2"], capture_output=True,
                       env=env, timeout=120)
        left = names()
        if left:
            d.docker("rm", "-f", *left, check=False)


# --- curl and ctl in a real container ---------------------------------------------

def ns_curl(pid, path, port=8081):
    """curl in the container's network namespace (loopback only)."""
    p = subprocess.run(["nsenter", "-t", str(pid), "-n", "curl", "-sS",
                        "--max-time", "10", "-o", "-", "-w",
                        "\n%{http_code}", "http://127.0.0.1:%d%s" % (port,
                                                                     path)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    body, _, code = p.stdout.rpartition("\n")
    return int(code), body.rstrip("\n")


def test_curl_readyz_and_prestop_in_a_container(ctr):
    c = ctr.run("--network", "none", "-e", "AGENT_GATE=/tmp/go", "-e",
                "AGENT_INIT_HTTP_LISTEN=127.0.0.1:8081")
    diag = ctr.diag(c)
    ctr.wait_event(c, "service_ready", service="gateway")
    pid = ctr.state(c)["Pid"]
    assert ns_curl(pid, "/readyz") == (503, "not ready yet"), diag()
    assert ns_curl(pid, "/livez") == (200, "ok")
    code, body = ns_curl(pid, "/status")
    assert code == 503 and json.loads(body)["ready"] is False
    ctr.docker("exec", c, "touch", "/tmp/go")
    ctr.wait_event(c, "ready")
    assert ns_curl(pid, "/readyz") == (200, "ok"), diag()
    # The preStop hook of the README: the agent (main) stops, which is
    # the sandbox's shutdown; the container ends with its status, 0.
    r = ctr.docker("exec", c, "/usr/local/bin/agent-init", "ctl", "stop",
                   "agent", check=False)
    assert r.returncode == 0 and "shutdown" in r.stdout, (r.stdout, r.stderr)
    code = ctr.docker("wait", c, timeout=60).stdout.strip()
    assert code == "0", diag()
    ev = ctr.events(c)
    sd = named(ev, "shutdown")
    assert sd and sd[0]["reason"].startswith("main service stopped"), ev
    assert named(ev, "control", verb="stop", service="agent"), ev
