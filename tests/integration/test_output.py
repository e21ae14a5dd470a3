"""Captured service output (SPEC section 5; issue 3 item 4): lines relayed
in prefix and json modes, none lost or torn when the reader of our output
is slow (the service blocks instead), long lines in marked pieces, and a
partial last line flushed when the service exits."""
import fcntl
import json
import os
import select
import signal
import subprocess
import time

import pytest

from harness import (AGENT_INIT, UNSHARE, clean_env, descendants, nspid,
                     parse_events, poll)
from suputil import named, write_conf

N_LINES = 1000000
PIECE = 16 * 1024


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return ""


def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read()
    except (FileNotFoundError, ProcessLookupError):
        return b""


class PipedRun:
    """agent-init as PID 1 of a new PID namespace, its stdout a pipe that
    we read ourselves (slowly), stderr a file."""

    def __init__(self, args, tmp_path, env=None):
        self.err_path = str(tmp_path / "stderr")
        with open(self.err_path, "wb") as err:
            self.p = subprocess.Popen(
                UNSHARE + [AGENT_INIT] + list(args), stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=err, env=clean_env(env),
                start_new_session=True)
        self.fd = self.p.stdout.fileno()

    def pid_of(self, needle):
        for pid in descendants(self.p.pid):
            if needle in _cmdline(pid):
                return pid
        return None

    def init_pid(self):
        for pid in descendants(self.p.pid):
            ns = nspid(pid)
            if ns and len(ns) >= 2 and ns[-1] == 1:
                return pid
        return None

    def wait_blocked_writer(self, needle):
        """While we read nothing, the service (whose cmdline contains
        NEEDLE) ends up blocked in write(2) on its pipe, and agent-init
        does not: backpressure, not buffering without end or dropping."""
        def blocked():
            pid = self.pid_of(needle)
            return pid and "pipe_write" in _read("/proc/%d/wchan" % pid)
        poll(blocked, 30, "the service blocked writing its pipe",
             lambda: "\n" + self.stderr())
        init = self.init_pid()
        assert init, "agent-init not found"
        assert "pipe_write" not in _read("/proc/%d/wchan" % init)

    def consume(self, on_line, pause_every=1 << 16, pause=0.002,
                stall_after=None, stall=0.0):
        """Read stdout to its end, calling on_line(bytes) for each line
        (without the newline); sleep PAUSE after every PAUSE_EVERY bytes,
        and once STALL seconds after STALL_AFTER bytes.  Returns the
        bytes after the last newline."""
        buf = b""
        total = 0
        next_pause = pause_every
        while True:
            ready, _, _ = select.select([self.fd], [], [], 30)
            assert ready, "no output for 30 s\n" + self.stderr()
            b = os.read(self.fd, 65536)
            if not b:
                return buf
            total += len(b)
            buf += b
            lines = buf.split(b"\n")
            buf = lines.pop()
            for line in lines:
                on_line(line)
            if total >= next_pause:
                time.sleep(pause)
                next_pause += pause_every
            if stall_after is not None and total >= stall_after:
                time.sleep(stall)
                stall_after = None

    def wait(self, timeout=60):
        return self.p.wait(timeout)

    def stderr(self):
        return _read(self.err_path)

    def cleanup(self):
        if self.p.poll() is None:
            for pid in [self.p.pid] + descendants(self.p.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.p.wait(10)
        self.p.stdout.close()


@pytest.fixture
def piped(tmp_path):
    runs = []

    def start(args, env=None):
        r = PipedRun(args, tmp_path, env)
        runs.append(r)
        return r
    yield start
    for r in runs:
        r.cleanup()


def gen_conf(tmp_path, actions, output=None):
    return write_conf(tmp_path / "gen.conf",
                      "[service gen]\ncommand = {H}/svcact %s\nmain = yes\n%s"
                      % (actions, "output = %s\n" % output if output else ""))


# The generator writes its lines and then waits for a gate that the test
# opens once it has read the last one, so that these tests are about the
# stream (backpressure, order, integrity) and not about the end of the
# run, which test_output_left_in_pipe_at_exit_is_relayed covers.

def million_run(piped, tmp_path, on_line_check, output=None, events=None,
                pause_every=1 << 16):
    gate = tmp_path / "gate"
    conf = gen_conf(tmp_path, "lines:%d gate:%s" % (N_LINES, gate),
                    output=output)
    args = ["-c", conf] + (["--events", "file:%s" % events] if events
                           else [])
    r = piped(args)
    # We read nothing yet: the service must end up blocked in write(2).
    r.wait_blocked_writer(b"lines:")
    state = {"n": 0, "bad": [], "other": []}

    def on_line(line):
        n = on_line_check(state, line)
        if n == N_LINES:
            open(str(gate), "w").close()
    rest = r.consume(on_line, pause_every=pause_every)
    assert r.wait() == 0, r.stderr()
    assert not state["bad"], state["bad"]
    assert rest == b""
    assert state["n"] == N_LINES
    return state


def test_million_lines_prefix_slow_reader(piped, tmp_path):
    def check(state, line):
        n = state["n"] + 1
        if line != b"gen| %07d" % n and len(state["bad"]) < 5:
            state["bad"].append((n, line))
        state["n"] = n
        return n
    events = tmp_path / "events"
    million_run(piped, tmp_path, check, events=events)
    ev = parse_events(events.read_text())
    assert ev[-1]["agent_init"] == "exit" and ev[-1]["status"] == 0
    assert named(ev, "service_exit", service="gen")[0]["tail"][-1] == \
        "%07d" % N_LINES


def test_million_lines_json_slow_reader(piped, tmp_path):
    def check(state, line):
        ev = json.loads(line)
        if ev["agent_init"] != "log":
            state["other"].append(ev)
            return None
        n = state["n"] + 1
        if (ev.get("service") != "gen" or ev.get("stream") != "stdout" or
                ev.get("line") != "%07d" % n or "continued" in ev) and \
                len(state["bad"]) < 5:
            state["bad"].append((n, ev))
        state["n"] = n
        return n
    state = million_run(piped, tmp_path, check, output="json",
                        pause_every=1 << 18)
    names = [e["agent_init"] for e in state["other"]]
    assert names[0] == "start" and names[-1] == "exit", names
    assert state["other"][-1]["status"] == 0


def test_full_stdout_pipe_is_grown(piped, tmp_path):
    # Our stdout is a pipe that nobody reads yet: when agent-init finds it
    # full, it asks for 1 MiB (pipe-max-size permitting), so that a flood
    # costs fewer wake-ups; then every line still arrives, in order.
    n_lines = 300000
    gate = tmp_path / "gate"
    conf = gen_conf(tmp_path, "lines:%d gate:%s" % (n_lines, gate))
    r = piped(["-c", conf, "--events", "file:%s" % (tmp_path / "events")])
    r.wait_blocked_writer(b"lines:")
    with open("/proc/sys/fs/pipe-max-size") as f:
        want = min(1 << 20, int(f.read()))
    assert fcntl.fcntl(r.fd, fcntl.F_GETPIPE_SZ) == want, \
        "not grown (is uid %d over its pipe quota, pipe(7)?)" % os.getuid()
    got = []

    def on_line(line):
        got.append(line)
        if len(got) == n_lines:
            open(str(gate), "w").close()
    assert r.consume(on_line) == b""
    assert r.wait() == 0, r.stderr()
    assert got == [b"gen| %07d" % i for i in range(1, n_lines + 1)]


@pytest.mark.parametrize("output", ["prefix", "json"])
def test_output_left_in_pipe_at_exit_is_relayed(run, tmp_path, output):
    # A burst of 800 KB that fits in the service's (enlarged) pipe, then
    # the service exits at once: all of it is still to be relayed.
    n = 100000
    conf = gen_conf(tmp_path, "pipesz:1048576 lines:%d" % n, output=output)
    r = run(["-c", conf, "--events", "file:%s" % (tmp_path / "ev")])
    assert r.wait() == 0, r.diag()
    if output == "json":
        got = [e["line"] for e in parse_events((tmp_path / "ev").read_text())
               if e["agent_init"] == "log"]
    else:
        got = [l[5:] for l in r.stdout().splitlines()]
    assert len(got) == n and got[-1] == "%07d" % n, (len(got), got[-1:])


def test_reader_pausing_at_the_end_loses_nothing(piped, tmp_path):
    # The service is long gone and all its output is in agent-init's queue
    # and the pipe to us, when the reader pauses for 3 s (log shippers
    # do): the last lines must still come out.
    n_lines = 200000
    conf = gen_conf(tmp_path, "lines:%d" % n_lines)
    r = piped(["-c", conf, "--events", "file:%s" % (tmp_path / "events")])
    lines = []
    r.consume(lines.append, stall_after=13 * n_lines - 200 * 1024,
              stall=3.0)
    assert r.wait() == 0, r.stderr()
    assert len(lines) == n_lines, (len(lines), lines[-1:])


# --- long lines, partial lines, streams ----------------------------------------

def pattern(n, start=0):
    return "".join(chr(ord("a") + (i % 26)) for i in range(start, start + n))


def test_long_line_split_and_marked_prefix(run, tmp_path):
    conf = gen_conf(tmp_path, "o:before long:40000 o:after")
    r = run(["-c", conf, "--events", "file:%s" % (tmp_path / "ev")])
    assert r.wait() == 0, r.diag()
    lines = r.stdout().split("\n")
    assert lines[0] == "gen| before"
    assert lines[1] == "gen| " + pattern(PIECE)
    assert lines[2] == "gen|+ " + pattern(PIECE, PIECE)
    assert lines[3] == "gen|+ " + pattern(40000 - 2 * PIECE, 2 * PIECE)
    assert lines[4:] == ["gen| after", ""], lines[4:]


def test_long_line_split_and_marked_json(run, tmp_path):
    conf = gen_conf(tmp_path, "o:before long:40000 o:after", output="json")
    r = run(["-c", conf])
    assert r.wait() == 0, r.diag()
    logs = named(r.events(), "log", service="gen")
    assert [e["line"] for e in logs] == [
        "before", pattern(PIECE), pattern(PIECE, PIECE),
        pattern(40000 - 2 * PIECE, 2 * PIECE), "after"]
    assert [e.get("continued", False) for e in logs] == [
        False, True, True, False, False]
    # Every event is still one line, however long.
    assert all(l.startswith("{") for l in r.stdout().splitlines())


def test_line_of_exactly_16k_is_not_split(run, tmp_path):
    # SPEC: only lines longer than 16 KiB are split (480ae15 relayed this
    # one as a full piece plus an empty continuation).
    conf = gen_conf(tmp_path, "long:%d o:after" % PIECE)
    r = run(["-c", conf, "--events", "file:%s" % (tmp_path / "ev")])
    assert r.wait() == 0, r.diag()
    assert r.stdout().split("\n") == ["gen| " + pattern(PIECE),
                                      "gen| after", ""]


@pytest.mark.parametrize("output", ["prefix", "json"])
def test_partial_last_line_flushed_at_exit(run, tmp_path, output):
    conf = gen_conf(tmp_path, "o:complete 'O:no newline at the end' "
                    "'E:err partial'", output=output)
    r = run(["-c", conf])
    assert r.wait() == 0, r.diag()
    ev = r.events()
    if output == "json":
        # (The two streams are two pipes: no order between them.)
        got = [(e["stream"], e["line"]) for e in named(ev, "log")]
        assert [g for g in got if g[0] == "stdout"] == [
            ("stdout", "complete"), ("stdout", "no newline at the end")], got
        assert [g for g in got if g[0] == "stderr"] == [
            ("stderr", "err partial")], got
    else:
        assert r.lines() == ["gen| complete", "gen| no newline at the end"]
        assert r.stderr().splitlines() == ["gen| err partial"]
    ex = named(ev, "service_exit", service="gen")[0]
    assert "no newline at the end" in ex["tail"], ex


def test_partial_line_of_a_killed_service_flushed(run, tmp_path):
    # The service dies by a signal with half a line written.
    flag = tmp_path / "written"
    conf = gen_conf(tmp_path, "'O:half a line' touch:%s wait" % flag)
    r = run(["-c", conf])
    poll(flag.exists, what="the partial line written", diag=r.diag)
    r.kill(signal.SIGTERM)
    assert r.wait() == 128 + signal.SIGTERM, r.diag()
    assert "gen| half a line" in r.lines(), r.diag()


def test_streams_relayed_to_matching_descriptors(run, tmp_path):
    conf = gen_conf(tmp_path, "o:out-1 e:err-1 o:out-2 e:err-2")
    r = run(["-c", conf, "--events", "file:%s" % (tmp_path / "ev")])
    assert r.wait() == 0, r.diag()
    assert r.stdout().splitlines() == ["gen| out-1", "gen| out-2"]
    assert r.stderr().splitlines() == ["gen| err-1", "gen| err-2"]


def test_json_log_events_carry_stream(run, tmp_path):
    conf = gen_conf(tmp_path, "o:out-1 e:err-1", output="json")
    r = run(["-c", conf])
    assert r.wait() == 0, r.diag()
    got = sorted((e["stream"], e["line"])
                 for e in named(r.events(), "log", service="gen"))
    assert got == [("stderr", "err-1"), ("stdout", "out-1")]
    assert r.stderr() == ""


def test_output_mode_per_service(run, tmp_path):
    # [init] output = json, one service overrides it with prefix, and one
    # with raw (not captured: its bytes as written, no tail).
    conf = write_conf(tmp_path / "o.conf", """\
[init]
output = json
[service j]
command = {H}/svcact o:from-j wait
[service p]
command = {H}/svcact o:from-p wait
output = prefix
[service r]
command = {H}/svcact o:from-r x:0
output = raw
""")
    r = run(["-c", conf])
    r.wait_event("service_exit", service="r")
    r.wait_line("p| from-p")
    r.wait_line("from-r")
    r.wait_event("log", service="j", line="from-j")
    r.kill(signal.SIGTERM)
    assert r.wait() == 0, r.diag()
    ev = r.events()
    assert not named(ev, "log", service="p")
    assert not named(ev, "log", service="r")
    assert named(ev, "service_exit", service="r")[0]["tail"] == []
