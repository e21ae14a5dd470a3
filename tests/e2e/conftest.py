"""Fixtures for the end-to-end tests: real containers under a private,
network-isolated dockerd (privdockerd.py), with the scratch-demo image
(images/scratch-demo) built from the context `make image-context` made.

`make e2e` sets AGENT_INIT, HELPERS and E2E_CONTEXT.  There is no skip
anywhere: if dockerd cannot start, or the image cannot be built, every
test fails with dockerd's log.

The private dockerd also knows gVisor (TESTING.md section 10): Debian's
runsc, registered through one small wrapper script per mode, written into
dockerd's own directory (never the machine's daemon.json):

  runsc-netstack  runsc's default network stack; `runsc start` runs
                  under the noaccess helper (this runsc thinks every
                  network namespace is the root one on new kernels);
  runsc-host      `runsc --network=host`: the container netns's stack;
  runsc-dind      `--network=host --net-raw`: what docker-in-gVisor needs.
"""
import json
import os
import subprocess
import sys
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import harness  # noqa: E402
from privdockerd import PrivateDockerd  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
E2E_CONTEXT = os.environ.get("E2E_CONTEXT",
                             os.path.join(ROOT, "build/images/scratch-demo"))
IMAGE = "agent-init/scratch-demo:e2e"
NS_RESOLVER = "10.213.0.53"


def pytest_sessionstart(session):
    missing = []
    if not os.access(harness.AGENT_INIT or "/nonexistent", os.X_OK):
        missing.append("AGENT_INIT=%r is not an executable"
                       % harness.AGENT_INIT)
    if not os.path.isdir(harness.HELPERS or "/nonexistent"):
        missing.append("HELPERS=%r is not a directory" % harness.HELPERS)
    if not os.path.isfile(os.path.join(E2E_CONTEXT, "Dockerfile")):
        missing.append("E2E_CONTEXT=%r has no Dockerfile" % E2E_CONTEXT)
    if missing:
        raise pytest.UsageError("; ".join(missing) + " (run `make e2e`)")


RUNSC = "/usr/bin/runsc"
RUNTIMES = {
    "runsc-host": 'exec %s --network=host "$@"' % RUNSC,
    "runsc-dind": 'exec %s --network=host --net-raw "$@"' % RUNSC,
    # Only `runsc start` needs the workaround (TESTING.md 10a).
    "runsc-netstack": ('for a; do [ "$a" = start ] && exec %s %s "$@"; '
                       'done\nexec %s "$@"'
                       % (harness.helper("noaccess"), RUNSC, RUNSC)),
}


class Engine:
    """The private dockerd, its resolver and the image, for one session."""

    def __init__(self):
        self.d = PrivateDockerd(prefix="e2e")
        self.dns = None
        self.stubs = []
        for name, body in RUNTIMES.items():
            path = os.path.join(self.d.dir, name)
            with open(path, "w") as f:
                f.write("#!/bin/sh\n%s\n" % body)
            os.chmod(path, 0o755)
            self.d.extra_args += ["--add-runtime", "%s=%s" % (name, path)]

    def dns_stub(self, addr, *rules):
        """One more DNS server in dockerd's namespace, on an address of
        its `lo` (containers reach it like NS_RESOLVER); stopped with the
        engine.  Returns its log's path."""
        self.d.nsenter("ip", "addr", "add", addr + "/32", "dev", "lo",
                       check=True)
        log_path = os.path.join(self.d.dir, "dnsstub-%s.log" % addr)
        log = open(log_path, "ab")
        p = subprocess.Popen(
            ["nsenter", "--net=/run/netns/" + self.d.ns,
             harness.helper("dnsstub"), addr + ":53"] + list(rules),
            stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        self.stubs.append(p)
        harness.poll(lambda: "dnsstub ready" in open(log_path).read() or
                     p.poll() is not None, 10, "dnsstub " + addr)
        assert p.poll() is None, "dnsstub died: " + open(log_path).read()
        return log_path

    def start(self):
        try:
            self.d.start()
        except Exception as e:  # noqa: BLE001 - shown whole, never skipped
            pytest.fail("the private dockerd could not start: %s" % e,
                        pytrace=False)
        # The containers' nameserver (dockerd's resolv.conf names it): a
        # DNS stub in dockerd's namespace, so that a container's resolver
        # check has something to find, inside namespaces we made.
        log = open(os.path.join(self.d.dir, "dnsstub.log"), "ab")
        self.dns = subprocess.Popen(
            ["nsenter", "--net=/run/netns/" + self.d.ns,
             harness.helper("dnsstub"), NS_RESOLVER + ":53",
             "*=a:10.9.9.9"], stdout=log, stderr=log,
            stdin=subprocess.DEVNULL)
        log.close()
        harness.poll(lambda: "dnsstub ready" in open(
            os.path.join(self.d.dir, "dnsstub.log")).read() or
            self.dns.poll() is not None, 10, "dnsstub")
        assert self.dns.poll() is None, "dnsstub died: " + open(
            os.path.join(self.d.dir, "dnsstub.log")).read()
        r = self.d.docker("build", "-q", "-t", IMAGE, E2E_CONTEXT,
                          check=False, timeout=300)
        if r.returncode != 0:
            pytest.fail("docker build of %s failed:\n%s%s\n--- dockerd log:\n%s"
                        % (E2E_CONTEXT, r.stdout, r.stderr, self.d.log_tail()),
                        pytrace=False)

    def stop(self):
        for p in [self.dns] + self.stubs:
            if p and p.poll() is None:
                p.kill()
                p.wait(10)
        self.d.stop()


@pytest.fixture(scope="session")
def engine():
    e = Engine()
    try:
        e.start()
        yield e
    finally:
        e.stop()


class Containers:
    """docker run with a unique name; every container is removed at the
    end of the test."""

    def __init__(self, engine):
        self.engine = engine
        self.d = engine.d
        self.names = []

    def run(self, *args, image=IMAGE, cmd=(), detach=True, check=True):
        name = "e2e-" + uuid.uuid4().hex[:10]
        self.names.append(name)
        argv = ["run", "--name", name, "--pull=never"]
        if detach:
            argv.append("-d")
        argv += list(args) + [image] + list(cmd)
        r = self.d.docker(*argv, check=check)
        return name if check else (name, r)

    def docker(self, *args, **kw):
        return self.d.docker(*args, **kw)

    def logs(self, name):
        r = self.d.docker("logs", name, check=False)
        return r.stdout + r.stderr

    def stdout_logs(self, name):
        return self.d.docker("logs", name, check=False).stdout

    def events(self, name):
        return harness.parse_events(self.stdout_logs(name))

    def inspect(self, name):
        r = self.d.docker("inspect", name)
        return json.loads(r.stdout)[0]

    def state(self, name):
        return self.inspect(name)["State"]

    def diag(self, name):
        def f():
            return "\n--- docker logs %s (tail):\n%s\n--- state: %s" % (
                name, "\n".join(self.logs(name).splitlines()[-40:]),
                self.d.docker("inspect", "-f", "{{json .State}}", name,
                              check=False).stdout)
        return f

    def wait_event(self, name, event, timeout=60, **fields):
        def find():
            for ev in self.events(name):
                if ev["agent_init"] == event and all(
                        ev.get(k) == v for k, v in fields.items()):
                    return ev
            return None
        return harness.poll(find, timeout, "event %s %r in %s" % (
            event, fields, name), self.diag(name), interval=0.1)

    def cleanup(self):
        if self.names:
            self.d.docker("rm", "-f", *self.names, check=False)


@pytest.fixture
def ctr(engine):
    c = Containers(engine)
    yield c
    c.cleanup()


@pytest.fixture
def usrroot_image(engine, tmp_path):
    """An image of symlinks only (bin -> usr/bin, ...; TESTING.md 6b): the
    host's /usr is bind-mounted read-only over it, so dockerd, containerd,
    runc, iptables and the docker client are the host's."""
    r = tmp_path / "usrroot"
    for d in ("usr", "etc", "proc", "sys", "dev", "run", "tmp",
              "var/lib/docker", "root"):
        (r / d).mkdir(parents=True)
    for d in ("bin", "sbin", "lib", "lib64"):
        os.symlink("usr/" + d, str(r / d))
    os.symlink("../run", str(r / "var/run"))
    (r / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (r / "etc/group").write_text("root:x:0:\n")
    tar = tmp_path / "usrroot.tar"
    subprocess.run(["tar", "-C", str(r), "-cf", str(tar), "."], check=True)
    name = "agent-init/e2e-usrroot:1"
    engine.d.docker("import", "-c", 'ENTRYPOINT ["/agent-init"]', str(tar),
                    name)
    return name
