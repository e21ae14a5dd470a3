"""`agent-init ctl logs [-n N] [-f] SERVICE` (issue 17): a service's recent
output from its bounded ring, across restarts, by stream, as text or
JSON, then followed; and a follower never holds a service back: one that
never reads costs the service nothing, and when it reads again it is
told how many lines it missed.  Followers have a limit of their own, and
`status` is answered whatever they do."""
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import time

import pytest

from harness import AGENT_INIT, clean_env, poll
from suputil import agent, short_dir, write_conf


@pytest.fixture
def sockdir():
    d = short_dir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


def start(run, tmp_path, sockdir, services):
    sock = os.path.join(sockdir, "ctl.sock")
    conf = write_conf(tmp_path / "c.conf", "[init]\ncontrol_socket = %s\n%s"
                      % (sock, services))
    r = run(["-c", conf])
    poll(lambda: os.path.exists(sock), what="the control socket",
         diag=r.diag)
    return r, sock


def logs(sock, *args, timeout=30):
    return subprocess.run([AGENT_INIT, "ctl", "--socket", sock, "logs"] +
                          [str(a) for a in args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True,
                          env=clean_env(), timeout=timeout)


class RawFollower:
    """A follower on a socket of its own, reading only when told to."""

    def __init__(self, sock, service, last="all"):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(sock)
        self.s.sendall(("logs %s %s follow\n" % (service, last)).encode())
        self.buf = b""
        self.header = None

    def fill(self, timeout=5.0):
        self.s.settimeout(timeout)
        try:
            b = self.s.recv(1 << 20)
        except socket.timeout:
            return False
        if not b:
            raise EOFError("the server closed")
        self.buf += b
        return True

    def header_line(self):
        while b"\n" not in self.buf:
            self.fill()
        line, self.buf = self.buf.split(b"\n", 1)
        self.header = json.loads(line)
        return self.header

    def frames(self):
        """Whole frames in the buffer: [(kind, payload)]."""
        out = []
        while len(self.buf) >= 5:
            kind = chr(self.buf[0])
            n = struct.unpack("<I", self.buf[1:5])[0]
            if len(self.buf) < 5 + n:
                break
            out.append((kind, self.buf[5:5 + n]))
            self.buf = self.buf[5 + n:]
        return out

    def close(self):
        self.s.close()


CHAT = """\
[service chat]
command = {H}/svcact o:one o:three lines:5 wait
[service errs]
command = {H}/svcact o:out e:err wait
[service quiet]
command = {H}/svcact wait
[service rawsvc]
command = {H}/svcact o:raw wait
output = raw
"""


def test_recent_lines_by_stream(run, tmp_path, sockdir):
    r, sock = start(run, tmp_path, sockdir, CHAT)
    r.wait_line("chat| 0000005")
    p = logs(sock, "chat")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["one", "three"] + [
        "%07d" % i for i in range(1, 6)], p.stdout
    assert p.stderr == ""
    # Each line to the stream it came from.
    r.wait_line("errs| out")
    poll(lambda: "errs| err" in r.stderr(), what="errs' stderr line")
    p = logs(sock, "errs")
    assert (p.returncode, p.stdout, p.stderr) == (0, "out\n", "err\n"), p
    p = logs(sock, "-n", 2, "chat")
    assert p.stdout == "0000004\n0000005\n" and p.stderr == "", p
    p = logs(sock, "--json", "-n", 3, "chat")
    assert [json.loads(l) for l in p.stdout.splitlines()] == [
        {"service": "chat", "stream": "stdout", "line": "%07d" % i}
        for i in (3, 4, 5)], p.stdout
    p = logs(sock, "-n", 0, "chat")
    assert (p.returncode, p.stdout, p.stderr) == (0, "", "")
    # Nothing written yet: nothing, and no error.
    p = logs(sock, "quiet")
    assert (p.returncode, p.stdout) == (0, ""), p.stderr
    # Raw output is not captured: nothing kept, and said so.
    p = logs(sock, "rawsvc")
    assert p.returncode == 1 and "not captured" in p.stderr, p.stderr
    p = logs(sock, "nosuch")
    assert p.returncode == 2, p.stderr
    # Reads: no events.
    assert not [e for e in r.events() if e["agent_init"] == "control"]


def test_logs_across_restarts(run, tmp_path, sockdir):
    r, sock = start(run, tmp_path, sockdir, """\
[service w]
command = {H}/svcact pid o:hello wait
""")
    r.wait_line("w| hello")
    assert subprocess.run([AGENT_INIT, "ctl", "--socket", sock, "restart",
                           "w"], env=clean_env()).returncode == 0
    poll(lambda: r.count_lines("w| hello") == 2, what="the second run")
    out = logs(sock, "w").stdout.splitlines()
    assert [l for l in out if l == "hello"] == ["hello", "hello"], out
    assert len([l for l in out if l.startswith("pid=")]) == 2, out


def test_follow(run, tmp_path, sockdir):
    r, sock = start(run, tmp_path, sockdir, """\
[service tick]
command = i=0; while [ $i -lt 400 ]; do echo tick $i; i=$((i+1)); sleep 0.05; done; sleep 60
shell = yes
""")
    r.wait_line("tick| tick 3")
    f = subprocess.Popen([AGENT_INIT, "ctl", "--socket", sock, "logs", "-f",
                          "-n", "2", "tick"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=clean_env())
    try:
        got = []
        while len(got) < 12:
            line = f.stdout.readline()
            assert line, f.stderr.read()
            got.append(line.decode().rstrip("\n"))
    finally:
        f.kill()
        f.wait()
    n = [int(l.split()[1]) for l in got]
    # The last two when it asked, then every new one, in order.
    assert n == list(range(n[0], n[0] + 12)), got
    assert n[0] >= 2
    # PID 1 goes on; the follower's place is free again.
    assert agent(["status", "--socket", sock]).returncode == 0


def test_follower_that_never_reads(run, tmp_path, sockdir):
    """A follower that stops reading costs the service nothing: its 8 MB
    go to agent-init's stdout at once.  Reading again, the follower is
    told how many lines it missed, then gets whole lines, in order, to
    the end."""
    total = 1000000  # 8-byte lines: 8 MB, far beyond the ring (128 KiB)
    t0 = time.monotonic()
    r, sock = start(run, tmp_path, sockdir, """\
[service flood]
command = {H}/svcact o:start gate:%s lines:%d o:done wait
""" % (tmp_path / "go", total))
    r.wait_line("flood| start")
    f = RawFollower(sock, "flood", last=0)
    assert f.header_line() == {"ok": True, "service": "flood",
                               "follow": True}
    (tmp_path / "go").write_text("")
    # Every line reaches agent-init's stdout while nobody reads f.
    r.wait_line("flood| done", timeout=120)
    assert r.count_lines("flood| %07d" % total) == 1
    print("8 MB relayed with a follower that never reads: %.1f s" % (
        time.monotonic() - t0))
    # Now f reads: first what its socket held, then a skip frame, then
    # the newest lines, whole and in order, up to "done".
    text, skipped, kinds = b"", 0, set()
    deadline = time.monotonic() + 60
    while not text.endswith(b"done\n"):
        assert time.monotonic() < deadline, (skipped, text[-200:])
        f.fill()
        for kind, data in f.frames():
            kinds.add(kind)
            if kind == "s":
                skipped += int(data)
                # A line cut by the skip ends here (it counts as missed).
                if text and not text.endswith(b"\n"):
                    text += b"<cut>\n"
                text += b"<skip>\n"
            else:
                text += data
    f.close()
    assert "s" in kinds and skipped > 0, (kinds, skipped, text[:300])
    lines = text.decode().splitlines()
    assert lines[-1] == "done"
    nums = [l for l in lines[:-1] if l.isdigit() and len(l) == 7]
    # Lines after the skip marker: contiguous to the end.
    after = lines[lines.index("<skip>") + 1:-1]
    assert after and "<skip>" not in after, lines[-5:]
    assert [int(x) for x in after] == list(
        range(int(after[0]), total + 1)), after[:3]
    # What it got plus what it missed is every line, 1 to total (a line
    # cut by a skip counts as missed).
    assert len(nums) + skipped == total, (len(nums), skipped)
    print("follower that never read: %d lines got, %d skipped, of %d" % (
        len(nums), skipped, total))


def test_follower_limit_and_status(run, tmp_path, sockdir):
    """100 followers at once: 64 are served (their own limit), the rest
    are told so; `status` is answered all the while, also with the
    request slots' neighbours all parked as followers."""
    r, sock = start(run, tmp_path, sockdir, """\
[service w]
command = {H}/svcact o:hello wait
""")
    r.wait_line("w| hello")
    fs, refused = [], 0
    try:
        for _ in range(100):
            f = RawFollower(sock, "w")
            h = f.header_line()
            if h.get("ok"):
                fs.append(f)
            else:
                assert h["code"] == "too_many", h
                refused += 1
                f.close()
        assert (len(fs), refused) == (64, 36)
        for _ in range(5):
            s = agent(["status", "--socket", sock])
            assert s.returncode == 0, s.stderr
        p = logs(sock, "w")
        assert p.returncode == 4 and "too many" in p.stderr, p.stderr
    finally:
        for f in fs:
            f.close()
    # Gone, their places are free again.
    poll(lambda: logs(sock, "w").returncode == 0, what="a follower's place")
    r.kill(signal.SIGTERM)
    assert r.wait() == 0
