"""A private, network-isolated dockerd for the end-to-end tests
(TESTING.md section 5a and Appendix B, rt-dockerd.sh, in Python).

- Its data root, exec root, pidfile, config and socket live in a short
  temporary directory (containerd's socket is DIR/exec/containerd/
  containerd.sock, and a unix socket path has at most 107 bytes).
- It runs in a network namespace of its own (`ip netns add`), entered
  with `nsenter --net` (not `ip netns exec`, which remounts /sys and so
  hides the cgroup mounts from dockerd).  Its docker0 bridge and iptables
  rules live there; host links, routes and rules are never touched, and
  an accidental pull fails with ENETUNREACH.
- It runs in a private mount namespace whose /etc/resolv.conf names
  10.213.0.53, an address that exists only on the namespace's `lo`, so no
  container ever inherits the machine's own resolver.  (Never a loopback
  nameserver there: docker drops it and falls back to 8.8.8.8.)

start() fails loudly (raises) when dockerd cannot start: the suite must
never skip because of that.  stop() removes every container, stops dockerd
by its pid, deletes the namespace and the directory.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

NS_RESOLVER = "10.213.0.53"


def http_unix(sock_path, path, timeout=2.0):
    """GET path over the unix socket; (status, body) or None."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock_path)
        s.sendall(("GET %s HTTP/1.0\r\nHost: docker\r\n\r\n" % path).encode())
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except OSError:
        return None
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    try:
        status = int(head.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None
    return status, body


class PrivateDockerd:
    def __init__(self, extra_args=(), prefix="e2e"):
        self.extra_args = list(extra_args)
        self.dir = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
        self.ns = "aid-" + os.path.basename(self.dir)
        self.sock = os.path.join(self.dir, "docker.sock")
        self.log = os.path.join(self.dir, "dockerd.log")
        self.pid = None
        self.ns_made = False

    @property
    def host(self):
        return "unix://" + self.sock

    def env(self, extra=None):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("DOCKER_") and not k.startswith("AGENT_INIT")}
        env["DOCKER_HOST"] = self.host
        # The daemon is 20.10 and the client has no buildx plugin: the
        # classic builder builds FROM scratch images from local files.
        env["DOCKER_BUILDKIT"] = "0"
        # A client config of our own: no credential helpers, no contexts.
        env["DOCKER_CONFIG"] = os.path.join(self.dir, "client")
        env.update(extra or {})
        return env

    def log_tail(self, n=40):
        try:
            with open(self.log, errors="replace") as f:
                return "\n".join(f.read().splitlines()[-n:])
        except OSError:
            return "(no log)"

    def start(self, timeout=90.0):
        for tool in ("dockerd", "containerd", "runc", "docker", "ip",
                     "nsenter", "unshare"):
            if not shutil.which(tool):
                raise RuntimeError(
                    "%s is not installed: the end-to-end tests need Debian's "
                    "docker.io and iproute2 (scripts/deps.sh installs them)"
                    % tool)
        d = self.dir
        os.makedirs(os.path.join(d, "client"), exist_ok=True)
        with open(os.path.join(d, "daemon.json"), "w") as f:
            f.write("{}\n")
        with open(os.path.join(d, "resolv.conf"), "w") as f:
            f.write("nameserver %s\n" % NS_RESOLVER)
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        self.ns_made = True
        subprocess.run(["ip", "-n", self.ns, "link", "set", "lo", "up"],
                       check=True)
        subprocess.run(["ip", "-n", self.ns, "addr", "add",
                        NS_RESOLVER + "/32", "dev", "lo"], check=True)
        script = ('mount --bind "$1/resolv.conf" /etc/resolv.conf && '
                  'r=$1 ns=$2 && shift 2 && '
                  'exec nsenter --net=/run/netns/$ns dockerd '
                  '--config-file "$r/daemon.json" --data-root "$r/data" '
                  '--exec-root "$r/exec" -H "unix://$r/docker.sock" '
                  '--pidfile "$r/docker.pid" "$@"')
        with open(self.log, "ab") as log:
            p = subprocess.Popen(
                ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                 script, "sh", d, self.ns] + self.extra_args,
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True)
        # unshare, sh and nsenter all exec: p.pid is dockerd's pid.
        self.pid = p.pid
        self._proc = p
        end = time.monotonic() + timeout
        while True:
            r = http_unix(self.sock, "/_ping", 1.0)
            if r and r[0] == 200 and r[1] == b"OK":
                return self
            if p.poll() is not None:
                raise RuntimeError("the private dockerd exited with %s; its "
                                   "log (%s):\n%s" % (p.returncode, self.log,
                                                      self.log_tail()))
            if time.monotonic() > end:
                raise RuntimeError("the private dockerd did not answer /_ping "
                                   "within %.0f s; its log:\n%s"
                                   % (timeout, self.log_tail()))
            time.sleep(0.05)

    def docker(self, *args, check=True, timeout=120, input=None, env=None):
        """Run the docker client against this daemon; CompletedProcess."""
        r = subprocess.run(["docker"] + list(args), env=self.env(env),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=timeout, input=input)
        if check and r.returncode != 0:
            raise AssertionError("docker %s: exit %d\n%s%s" % (
                " ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def api(self, path):
        r = http_unix(self.sock, path, 5.0)
        assert r and r[0] == 200, (path, r)
        return json.loads(r[1])

    def nsenter(self, *cmd, **kw):
        """Run cmd in dockerd's network namespace."""
        return subprocess.run(["nsenter", "--net=/run/netns/" + self.ns]
                              + list(cmd), **kw)

    def stop(self):
        if self.pid and self._proc.poll() is None:
            r = self.docker("ps", "-aq", check=False, timeout=30)
            ids = r.stdout.split()
            if ids:
                self.docker("rm", "-f", *ids, check=False, timeout=60)
            os.kill(self.pid, signal.SIGTERM)
            try:
                self._proc.wait(30)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self._proc.wait(10)
        if self.ns_made:
            subprocess.run(["ip", "netns", "del", self.ns], check=False)
            self.ns_made = False
        # dockerd ran in a private mount namespace, so its mounts went with
        # it; but never leave one behind.
        for line in reversed(open("/proc/mounts").read().splitlines()):
            mnt = line.split()[1]
            if mnt.startswith(self.dir + "/"):
                subprocess.run(["umount", "-l", mnt], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

