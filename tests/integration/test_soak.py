"""Soak (issue 7, "Fault injection and soak"): thousands of crash/restart
cycles leave agent-init's descriptors and memory where they were; 100,000
orphans are reaped while signals keep being forwarded; a flood of output
through `prefix` mode with a reader that stalls loses no line while PID 1
keeps answering signals and `status`.

The sizes are parameters (environment variables, read here): `make test`
runs the figures below by default, `make soak` the full ones
(SOAK_CYCLES=100000, SOAK_ORPHANS=200000, SOAK_FLOOD_MB=4096).  docs/reliability.md has
the figures of the latest runs."""
import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from harness import (AGENT_INIT, UNSHARE, check_event_stream, children,
                     clean_env, descendants, helper, nspid, poll, proc_state,
                     status_field)
from suputil import agent, short_dir, touch, write_conf

CYCLES = int(os.environ.get("SOAK_CYCLES", "10000"))
ORPHANS = int(os.environ.get("SOAK_ORPHANS", "100000"))
FLOOD_MB = int(os.environ.get("SOAK_FLOOD_MB", "1024"))
# Page-level noise: musl's malloc and the stack may touch a page or two
# more once; a leak per cycle would be thousands of pages by the end.
RSS_TOLERANCE_KB = 16


@pytest.fixture
def sockdir():
    d = short_dir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


def fds_of(pid):
    """{fd: what it points to} of a process."""
    out = {}
    d = "/proc/%d/fd" % pid
    for name in os.listdir(d):
        try:
            out[int(name)] = os.readlink(os.path.join(d, name))
        except FileNotFoundError:
            pass
    return out


def kinds(fds):
    """The descriptors by kind, without inode numbers: pipe:[123] and
    socket:[456] become pipe and socket, anon_inode:[eventpoll] stays."""
    return sorted(re.sub(r":\[\d+\]$", "", v) for v in fds.values())


def rss_kb(pid):
    return int(status_field(pid, "VmRSS")[0])


def count_in(path, needle):
    try:
        with open(path, "rb") as f:
            return f.read().count(needle)
    except FileNotFoundError:
        return 0


# --- crash/restart cycles --------------------------------------------------

def test_crash_restart_cycles_leak_no_fd_and_no_memory(run, tmp_path,
                                                       sockdir):
    hold = tmp_path / "hold"
    evpath = str(tmp_path / "events")
    sock = os.path.join(sockdir, "ctl.sock")
    conf = write_conf(tmp_path / "c.conf", """\
[init]
control_socket = %s
[service crash]
command = {H}/crashy %s
backoff = 0..0
max_restarts = 100000/1s
""" % (sock, hold))
    r = run(["-c", conf, "--events", "file:" + evpath], events_path=evpath)
    init = r.init_pid()

    def starts():
        return count_in(evpath, b'"agent_init":"service_start"')

    def failed():
        return count_in(evpath, b'"agent_init":"service_failed"')

    def steady(n_holding):
        """Freeze the crash loop with one run of the service holding, and
        measure agent-init there: the same state each time."""
        touch(hold)

        def holding():
            return [l for l in r.lines() if l.startswith("crash| holding")]
        poll(lambda: len(holding()) >= n_holding, 60, "the service holding",
             r.diag)
        pid = int(holding()[-1].split("=")[1])
        r.wait_event("service_ready", service="crash", pid=pid, timeout=60)
        # The status client came and went: its descriptor is closed too.
        st = json.loads(agent(["status", "--socket", sock]).stdout)
        assert st["services"][0]["state"] == "ready", st
        assert st["services"][0]["pid"] == pid, st
        return fds_of(init), rss_kb(init), st["services"][0]["restarts"]

    poll(lambda: starts() >= 100, 60, "100 cycles", r.diag, interval=0.05)
    fds1, rss1, restarts1 = steady(1)
    os.unlink(str(hold))
    # (A service that could not be restarted, out of descriptors say,
    # ends the wait at once: the test then fails on it.)
    poll(lambda: starts() >= CYCLES or failed(), 600, "%d cycles" % CYCLES,
         r.diag, interval=0.2)
    assert not failed(), r.diag()
    fds2, rss2, restarts2 = steady(2)
    assert restarts2 >= CYCLES - 1 > restarts1, (restarts1, restarts2)
    # Descriptors: exactly the same number and kinds.
    assert len(fds2) == len(fds1) and kinds(fds2) == kinds(fds1), \
        (fds1, fds2)
    assert rss2 <= rss1 + RSS_TOLERANCE_KB, (rss1, rss2)
    print("\nsoak: %d restarts; agent-init fds %d -> %d, RSS %d kB -> %d kB"
          % (restarts2, len(fds1), len(fds2), rss1, rss2))
    os.unlink(str(hold))
    r.kill(signal.SIGTERM)
    assert r.wait(30) == 0, r.diag()
    events = check_event_stream(r.events_text(), 0)
    assert not [e for e in events if e["agent_init"] == "service_failed"]


# --- orphans ------------------------------------------------------------------

def test_hundred_thousand_orphans_reaped_while_signals_forwarded(run, tmp_path):
    # The storm runs beside the main command (sigrec); we keep sending it
    # signals while the storm lasts, each waited for before the next.  At
    # the end: every orphan reaped (the helper's own count, and agent-init's
    # `reaped` events), no zombie, every signal delivered exactly once.
    evpath = str(tmp_path / "events")
    # The storm is a child of the main command (sh, then sigrec), so its
    # orphans go to agent-init (-r: the pid to watch for, PID 1 here) and
    # -c sees no child of agent-init but the command itself.
    cmd = ["/bin/sh", "-c",
           '"$1" -c -r 1 -b 200 %d > "$3" 2>&1 & exec "$2" -T 900' % ORPHANS,
           "sh", helper("orphans"), helper("sigrec"),
           str(tmp_path / "storm")]
    r = run(["-v", "--events", "file:" + evpath, "--"] + cmd,
            events_path=evpath)
    r.wait_line(re.compile(r"ready pid=\d+"))
    storm = tmp_path / "storm"

    def storm_text():
        try:
            return storm.read_text()
        except FileNotFoundError:
            return ""
    poll(lambda: "orphans: started" in storm_text(), what="the storm",
         diag=r.diag)
    sigs = [signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH]
    sent = 0
    while "orphans: left" not in storm_text():
        sig = sigs[sent % len(sigs)]
        sent += 1
        r.kill(sig)
        name = signal.Signals(sig).name
        want = (sent + len(sigs) - 1 - sigs.index(sig)) // len(sigs)
        poll(lambda: r.count_lines(name) >= want,
             what="%s #%d to reach the command" % (name, want), diag=r.diag)
    text = storm_text()
    assert "orphans: made %d" % ORPHANS in text, text
    assert "orphans: left 0" in text, text
    # No zombie among agent-init's children.  (The storm process itself
    # stays a zombie of sigrec, which reaps nothing: not ours to reap.)
    init = r.init_pid()
    assert [p for p in children(init) if proc_state(p) == "Z"] == []
    r.kill(signal.SIGTERM)
    status = r.wait(60)
    assert status == 143, r.diag()
    events = check_event_stream(r.events_text(), status)
    reaped = [e for e in events if e["agent_init"] == "reaped"]
    # The orphans exit 7 (their parents are reaped by the storm itself).
    assert sum(1 for e in reaped if e.get("code") == 7) == ORPHANS
    fwd = [e for e in events if e["agent_init"] == "signal" and
           e["action"] == "forwarded"]
    assert len(fwd) == sent and sent >= 4, (len(fwd), sent)
    for sig in sigs:
        name = signal.Signals(sig).name
        assert r.count_lines(name) == sum(
            1 for i in range(sent) if sigs[i % len(sigs)] == sig)
    print("\nsoak: %d orphans reaped, %d signals forwarded during the storm"
          % (ORPHANS, sent))


# --- output flood --------------------------------------------------------------

LINE_LEN = 1024
STALL_S = 1.0


def test_flood_through_prefix_with_stalling_reader(tmp_path, sockdir):
    # FLOOD_MB of numbered 1 KiB lines through `prefix` mode into a reader
    # (linesink, a C program: Python would be the bottleneck) that checks
    # every line and stalls three times, each stall lasting until we open
    # its gate (2 s and more).  During each stall the writer must end up blocked in
    # write(2), agent-init not; a SIGUSR1 sent to agent-init must reach
    # the writer (it says so on stderr, which is not stalled) and `status`
    # must answer.  At the end: every line, in order, none lost or torn.
    n = FLOOD_MB * 1024 * 1024 // LINE_LEN
    total = n * (LINE_LEN + len("gen| "))
    stalls = [total // 10, total // 2, total - total // 10]
    sock = os.path.join(sockdir, "ctl.sock")
    conf = write_conf(tmp_path / "c.conf", """\
[init]
control_socket = %s
[service gen]
command = {H}/flood %d %d
main = yes
""" % (sock, n, LINE_LEN))
    stallfile, gate = str(tmp_path / "stalled"), str(tmp_path / "gate")
    evpath = str(tmp_path / "events")
    errpath = str(tmp_path / "stderr")
    rfd, wfd = os.pipe()
    sink_out = open(str(tmp_path / "sink.out"), "wb")
    sink = subprocess.Popen(
        [helper("linesink"), "gen| ", str(LINE_LEN), str(n), stallfile,
         gate] + [str(s) for s in stalls],
        stdin=rfd, stdout=sink_out, stderr=subprocess.STDOUT)
    err = open(errpath, "wb")
    p = subprocess.Popen(UNSHARE + [AGENT_INIT, "-c", conf, "--events",
                                    "file:" + evpath],
                         stdin=subprocess.DEVNULL, stdout=wfd, stderr=err,
                         env=clean_env(), start_new_session=True)
    os.close(rfd)
    os.close(wfd)
    err.close()

    def text(path):
        try:
            with open(path) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def diag():
        return ("\n--- stderr:\n" + text(errpath)[-2000:] +
                "\n--- sink:\n" + text(str(tmp_path / "sink.out")) +
                "\n--- events:\n" + text(evpath)[-2000:])

    def init_pid():
        for pid in descendants(p.pid):
            ns = nspid(pid)
            if ns and len(ns) >= 2 and ns[-1] == 1:
                return pid
        return None

    def gen_pid():
        for pid in descendants(p.pid):
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    if f.read().startswith(helper("flood").encode()):
                        return pid
            except FileNotFoundError:
                pass
        return None

    def wchan(pid):
        try:
            with open("/proc/%d/wchan" % pid) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    rss = []
    try:
        init = poll(init_pid, what="agent-init", diag=diag)
        for i in range(len(stalls)):
            poll(lambda: os.path.exists("%s.%d" % (stallfile, i + 1)), 600,
                 "stall %d of the reader" % (i + 1), diag, interval=0.05)
            gen = poll(gen_pid, what="the generator", diag=diag)
            poll(lambda: "pipe_write" in wchan(gen), 60,
                 "the generator blocked in write(2)", diag)
            assert "pipe_write" not in wchan(init)
            rss.append(rss_kb(init))
            os.kill(init, signal.SIGUSR1)
            poll(lambda: "gen| flood: SIGUSR1 #%d at" % (i + 1)
                 in text(errpath), what="SIGUSR1 #%d forwarded" % (i + 1),
                 diag=diag)
            # The reader stays stalled for seconds, as a log shipper may:
            # status answers at its start and at its end.
            for _ in range(2):
                st = json.loads(agent(["status", "--socket", sock]).stdout)
                assert st["services"][0]["state"] == "ready", st
                assert "pipe_write" not in wchan(init)
                # (The writer may be between two writes just after a
                # signal: wait for it to be blocked again.)
                poll(lambda: "pipe_write" in wchan(gen), 60,
                     "the generator blocked again", diag)
                time.sleep(STALL_S)
            touch("%s.%d" % (gate, i + 1))
        assert p.wait(600) == 0, diag()
        assert sink.wait(120) == 0, diag()
    finally:
        for proc in (p, sink):
            if proc.poll() is None:
                for pid in [proc.pid] + descendants(proc.pid):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                proc.wait(10)
        sink_out.close()
    got = text(str(tmp_path / "sink.out"))
    assert "linesink: lines %d bad 0 bytes %d stalls 3" % (n, total) in got, \
        got
    assert "gen| flood: done %d" % n in text(errpath), diag()
    events = check_event_stream(text(evpath), 0)
    fwd = [e for e in events if e["agent_init"] == "signal" and
           e["signal"] == "SIGUSR1" and e["action"] == "forwarded"]
    assert len(fwd) == 3, fwd
    # Bounded queues: the flood did not grow agent-init.
    assert max(rss) <= rss[0] + RSS_TOLERANCE_KB, rss
    print("\nsoak: %d lines (%d MB) relayed, 0 lost, through 3 stalls; "
          "agent-init RSS at the stalls %s kB" % (
              n, total // (1024 * 1024), rss))
