"""Harness for the agent-init integration tests.

Runs build/agent-init either as PID 1 of a fresh PID namespace
(``unshare --pid --fork --mount-proc``) or as a plain child of pytest,
with stdout and stderr captured to files (a regular file never blocks, so
agent-init never has to drop an event because the test reads slowly), or
with a pseudo-terminal as its controlling terminal.

Every wait is a bounded poll (``poll``); nothing sleeps for a fixed time
and then asserts.  Every run is killed, with all its descendants, by the
``run`` fixture (conftest.py) when the test ends, whatever happened.

unshare does not forward signals, so signals go to agent-init itself:
in PID-1 mode that is the descendant of unshare whose NSpid ends in 1.
"""
import calendar
import fcntl
import json
import os
import re
import signal
import subprocess
import termios
import threading
import time

AGENT_INIT = os.environ.get("AGENT_INIT", "")
HELPERS = os.environ.get("HELPERS", "")
# EMULATOR (e.g. qemu-aarch64-static) runs AGENT_INIT built for another
# architecture: the emulated process is still the one that unshare makes
# PID 1, and what it starts (the host's helpers) runs natively.
EMULATOR = os.environ.get("EMULATOR", "").split()
AGENT_INIT_CMD = EMULATOR + [AGENT_INIT]
UNSHARE = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child=SIGKILL"]

# Generous: a shared, noisy 2-core machine.
DEADLINE = 20.0

EVENT_PREFIX = '{"agent_init":"'
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def helper(name):
    return os.path.join(HELPERS, name)


def signame(sig):
    return signal.Signals(sig).name


def poll(pred, timeout=DEADLINE, what="a condition", diag=None, interval=0.01):
    """Call pred until it returns something true; fail after timeout."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= end:
            msg = "timed out after %.0f s waiting for %s" % (timeout, what)
            raise AssertionError(msg + (diag() if diag else ""))
        time.sleep(interval)


# --- /proc --------------------------------------------------------------

def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def children(pid):
    out = []
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except (FileNotFoundError, ProcessLookupError):
        return out
    for t in tasks:
        s = _read("/proc/%d/task/%s/children" % (pid, t))
        if s:
            out.extend(int(x) for x in s.split())
    return out


def descendants(pid):
    """All descendants of pid, parents before their children."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop(0)
        for c in children(p):
            if c not in out:
                out.append(c)
                todo.append(c)
    return out


def status_field(pid, name):
    s = _read("/proc/%d/status" % pid)
    if s is None:
        return None
    for line in s.splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].split()
    return None


def nspid(pid):
    f = status_field(pid, "NSpid")
    return [int(x) for x in f] if f else None


def stat_fields(pid):
    """Fields of /proc/PID/stat after the command name: [state, ppid, ...]."""
    s = _read("/proc/%d/stat" % pid)
    if s is None:
        return None
    return s[s.rindex(")") + 2:].split()


def proc_state(pid):
    f = stat_fields(pid)
    return f[0] if f else None


def proc_ppid(pid):
    f = stat_fields(pid)
    return int(f[1]) if f else None


def proc_starttime(pid):
    f = stat_fields(pid)
    return int(f[19]) if f else None


# --- events -------------------------------------------------------------

def parse_events(text):
    """Event lines of text (those starting with the event prefix)."""
    out = []
    for line in text.splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def check_event_stream(text, status=None):
    """Every event line of text is a well-formed event; start is the first
    and exit the last; exit.status is the process's status.  Returns the
    events."""
    lines = [l for l in text.splitlines() if l.startswith("{")]
    assert lines, "no event lines at all"
    events = []
    for line in lines:
        assert line.startswith(EVENT_PREFIX), "bad event prefix: %r" % line
        # The spec fixes the bytes: the name, then "ts".
        assert re.match(r'^\{"agent_init":"[a-z_]+","ts":"', line), line
        ev = json.loads(line)
        assert isinstance(ev, dict)
        assert TS_RE.match(ev["ts"]), "bad ts: %r" % ev["ts"]
        events.append(ev)
    names = [e["agent_init"] for e in events]
    assert names[0] == "start", names[:5]
    assert names[-1] == "exit", names[-5:]
    assert names.count("start") == 1 and names.count("exit") == 1, names
    if status is not None:
        assert events[-1]["status"] == status, events[-1]
    return events


def ts_seconds(ev):
    """An event's ts as seconds since the epoch (float)."""
    t = time.strptime(ev["ts"][:19], "%Y-%m-%dT%H:%M:%S")
    return calendar.timegm(t) + int(ev["ts"][20:23]) / 1000.0


# --- one run of agent-init ----------------------------------------------

def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AGENT_INIT") and
           k not in ("HELPERS", "EMULATOR")}
    # The default startup checks query the nameservers of resolv.conf:
    # tests that run in the machine's own network namespace must not
    # (packet hygiene).  Network tests turn them back on, in namespaces
    # of their own, with {"AGENT_INIT_NO_CHECKS": None}.
    env["AGENT_INIT_NO_CHECKS"] = "1"
    for k, v in (extra or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def _set_ctty():
    # After setsid (start_new_session): stdin, the pty's slave, becomes our
    # controlling terminal, and our group its foreground group.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Run:
    """agent-init ARGS, started at once.

    pid1:        run as PID 1 of a new PID namespace (else a plain child)
    env:         extra environment (None values remove a variable); every
                 AGENT_INIT_* variable of ours is removed first
    pass_fds:    descriptors to hand down
    preexec_fn:  runs in the child before exec (after setsid)
    tty:         stdin and stdout are the slave of a new pty, which is the
                 controlling terminal; stdout is read from the master
    events_path: where the events are (for --events file:/fd:), else they
                 are read from stdout, or stderr with events_from="stderr"
    wrap:        a command that runs the whole (e.g. strace, to hold one
                 system call of agent-init or a service for a while)
    """

    def __init__(self, args, workdir, index, *, pid1=True, env=None,
                 pass_fds=(), preexec_fn=None, tty=False, events_path=None,
                 events_from="stdout", wrap=()):
        self.args = list(args)
        self.pid1 = pid1
        self.tty = tty
        self.events_path = events_path
        self.events_from = events_from
        self.out_path = os.path.join(workdir, "run%d.stdout" % index)
        self.err_path = os.path.join(workdir, "run%d.stderr" % index)
        self.tracked = []
        self._init_pid = None
        self._master = None
        self._tty_buf = bytearray()
        self._lock = threading.Lock()
        self._reader = None
        cmd = list(wrap) + ([*UNSHARE, *AGENT_INIT_CMD] if pid1 else
                            AGENT_INIT_CMD) + self.args
        err = open(self.err_path, "ab")
        try:
            if tty:
                self._master, slave = os.openpty()
                pre = preexec_fn

                def preexec():
                    _set_ctty()
                    if pre:
                        pre()
                try:
                    self.proc = subprocess.Popen(
                        cmd, stdin=slave, stdout=slave, stderr=err,
                        env=clean_env(env), pass_fds=pass_fds,
                        start_new_session=True, preexec_fn=preexec)
                finally:
                    os.close(slave)
                self._reader = threading.Thread(target=self._read_tty,
                                                daemon=True)
                self._reader.start()
            else:
                with open(self.out_path, "ab") as out:
                    self.proc = subprocess.Popen(
                        cmd, stdin=subprocess.DEVNULL, stdout=out,
                        stderr=err, env=clean_env(env), pass_fds=pass_fds,
                        start_new_session=True, preexec_fn=preexec_fn)
        finally:
            err.close()

    def _read_tty(self):
        while True:
            try:
                b = os.read(self._master, 65536)
            except OSError:  # EIO: every slave descriptor is closed
                return
            if not b:
                return
            with self._lock:
                self._tty_buf += b

    # What it wrote.
    def stdout(self):
        if self.tty:
            with self._lock:
                return self._tty_buf.decode(errors="replace").replace("\r", "")
        return _read(self.out_path) or ""

    def stderr(self):
        return _read(self.err_path) or ""

    def events_text(self):
        if self.events_path:
            return _read(self.events_path) or ""
        return self.stderr() if self.events_from == "stderr" else self.stdout()

    def events(self):
        # A line may be read while it is being written (a storm of
        # `reaped` events to a file): parse whole lines only.
        text = self.events_text()
        return parse_events(text[:text.rfind("\n") + 1])

    def lines(self):
        """stdout lines that are not events (what the command printed)."""
        return [l for l in self.stdout().splitlines()
                if not l.startswith(EVENT_PREFIX)]

    def diag(self):
        def tail(s, n=30):
            return "\n".join(s.splitlines()[-n:])
        s = "\n--- cmd: %s (pid1=%s)" % (" ".join(self.args), self.pid1)
        s += "\n--- stdout (tail):\n" + tail(self.stdout())
        s += "\n--- stderr (tail):\n" + tail(self.stderr())
        if self.events_path:
            s += "\n--- events (tail):\n" + tail(self.events_text())
        return s

    # Waiting.
    def wait_line(self, want, timeout=DEADLINE):
        """Wait for a line equal to want (str), or matching want (regex,
        from the start of the line); returns the line or the match."""
        def find():
            for line in self.lines():
                if isinstance(want, str):
                    if line == want:
                        return line
                else:
                    m = want.match(line)
                    if m:
                        return m
            return None
        return poll(find, timeout, "line %r" % (want,), self.diag)

    def count_lines(self, want):
        return sum(1 for l in self.lines() if l == want)

    def wait_event(self, name, timeout=DEADLINE, **fields):
        def find():
            for ev in self.events():
                if ev["agent_init"] == name and all(
                        ev.get(k) == v for k, v in fields.items()):
                    return ev
            return None
        return poll(find, timeout, "event %s %r" % (name, fields), self.diag)

    def wait(self, timeout=DEADLINE):
        """Wait for the end; returns the exit status."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("agent-init still running after %.0f s%s"
                                 % (timeout, self.diag())) from None
        if self._reader:
            self._reader.join(5)
        return rc

    # Signals.
    def init_pid(self, timeout=DEADLINE):
        """agent-init's pid (as seen from here)."""
        if self._init_pid:
            return self._init_pid
        if not self.pid1:
            self._init_pid = self.proc.pid
            return self._init_pid

        def find():
            for p in descendants(self.proc.pid):
                ns = nspid(p)
                if ns and len(ns) >= 2 and ns[-1] == 1:
                    return p
            return None
        self._init_pid = poll(find, timeout, "agent-init in the namespace",
                              self.diag)
        return self._init_pid

    def host_pid(self, pid, timeout=DEADLINE):
        """Our pid for a pid that a process of the run printed."""
        if not self.pid1:
            return pid

        def find():
            for p in descendants(self.init_pid()):
                ns = nspid(p)
                if ns and ns[-1] == pid:
                    return p
            return None
        return poll(find, timeout, "host pid of %d" % pid, self.diag)

    def kill(self, sig):
        os.kill(self.init_pid(), sig)

    def type(self, data):
        """Type bytes on the terminal (tty=True only)."""
        os.write(self._master, data)

    def track(self, pid):
        """Also kill pid (a host pid) at cleanup."""
        self.tracked.append(pid)

    def cleanup(self):
        if self.proc.poll() is None:
            pids = descendants(self.proc.pid) + self.tracked
            for p in [self.proc.pid] + pids:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        else:
            for p in self.tracked:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self._master is not None:
            if self._reader:
                self._reader.join(5)
            os.close(self._master)
            self._master = None
