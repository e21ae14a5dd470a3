"""Reaping: orphans made by double forks never stay zombies (issue items 1,
6 and 13)."""
import os
import re
import signal

from harness import (check_event_stream, descendants, helper, poll,
                     proc_ppid, proc_starttime, proc_state)

N_ORPHANS = 10000


def test_ten_thousand_orphans_all_reaped(run):
    # orphans -c waits, inside the namespace, until no process but itself
    # has PID 1 as its parent: every orphan reaped, no zombie left.
    r = run(["-v", "--", helper("orphans"), "-c", str(N_ORPHANS)])
    status = r.wait(timeout=120)
    lines = r.lines()
    assert "orphans: made %d" % N_ORPHANS in lines, r.diag()
    assert "orphans: left 0" in lines, r.diag()
    assert status == 0, r.diag()
    events = check_event_stream(r.stdout(), status)
    reaped = [e for e in events if e["agent_init"] == "reaped"]
    assert len(reaped) == N_ORPHANS
    # The orphans (grandchildren) exit 7; their parents are reaped by
    # the helper itself and must not show up here.
    assert all(e.get("code") == 7 for e in reaped), \
        [e for e in reaped if e.get("code") != 7][:3]


def test_orphans_reaped_while_running_seen_from_host(run, pid1):
    # The main command is a shell that runs the storm as its child (the
    # orphans' reaper is then the shell's parent, agent-init: -r $PPID),
    # then goes on running as sigrec.  From the host, agent-init's only
    # descendant is then the main command, and none is a zombie.
    n = 2000
    cmd = ["/bin/sh", "-c", '"$1" -c -r "$PPID" %d && exec "$2"' % n, "sh",
           helper("orphans"), helper("sigrec")]
    r = run(["-v", "--"] + cmd, pid1=pid1)
    r.wait_line(re.compile(r"ready pid=\d+"), timeout=60)
    assert "orphans: left 0" in r.lines(), r.diag()
    init = r.init_pid()
    poll(lambda: len(descendants(init)) == 1,
         what="agent-init to have the main command as only descendant",
         diag=r.diag)
    assert [p for p in descendants(init) + [init]
            if proc_state(p) == "Z"] == []
    r.kill(signal.SIGTERM)
    status = r.wait()
    assert status == 143, r.diag()
    events = check_event_stream(r.stdout(), status)
    assert sum(1 for e in events if e["agent_init"] == "reaped") == n


def test_not_pid1_orphan_reparented_to_agent_init_and_reaped(run):
    # A plain child of pytest: agent-init must be a child subreaper.
    r = run(["-v", "--", helper("mkorphan")], pid1=False)
    orphan = int(r.wait_line(re.compile(r"orphan (\d+)$")).group(1))
    r.track(orphan)
    start = r.wait_event("start")
    assert start["pid1"] is False and start["pid"] == r.proc.pid, start
    assert proc_ppid(orphan) == r.proc.pid, \
        "orphan %d has PPid %s, agent-init is %d" % (
            orphan, proc_ppid(orphan), r.proc.pid)
    born = proc_starttime(orphan)
    os.kill(orphan, signal.SIGTERM)
    # A zombie keeps its /proc entry: wait until it is really gone.
    poll(lambda: proc_starttime(orphan) != born, what="orphan reaped",
         diag=r.diag)
    ev = r.wait_event("reaped", pid=orphan)
    assert ev.get("signal") == "SIGTERM", ev
    r.kill(signal.SIGTERM)
    status = r.wait()
    assert status == 143, r.diag()
    check_event_stream(r.stdout(), status)


def test_signals_forwarded_during_orphan_storm(run, pid1, tmp_path):
    # An endless storm of orphans runs beside the main command while we
    # send it signals one after another; each must arrive, and between
    # two signals agent-init must have reaped at least one orphan (we wait
    # for one before sending the next), so the two really interleave.
    evpath = str(tmp_path / "events")
    cmd = ["/bin/sh", "-c", '("$1" -f -b 50 &) ; exec "$2"', "sh",
           helper("orphans"), helper("sigrec")]
    r = run(["-v", "--events", "file:" + evpath, "--"] + cmd, pid1=pid1,
            events_path=evpath)
    r.wait_line(re.compile(r"ready pid=\d+"))
    r.wait_line("orphans: started")

    def reaped():
        return r.events_text().count('{"agent_init":"reaped"')

    sigs = [signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH]
    sent = {s: 0 for s in sigs}
    rounds = 24
    for i in range(rounds):
        seen = reaped()
        poll(lambda: reaped() > seen, what="an orphan reaped", diag=r.diag)
        sig = sigs[i % len(sigs)]
        name = signal.Signals(sig).name
        sent[sig] += 1
        r.kill(sig)
        poll(lambda: r.count_lines(name) >= sent[sig],
             what="%s #%d to reach the child" % (name, sent[sig]),
             diag=r.diag)
    # The storm never stopped (it runs until killed, or 60 s).
    assert "orphans: made" not in "\n".join(r.lines())
    for sig in sigs:
        assert r.count_lines(signal.Signals(sig).name) == sent[sig]
    r.kill(signal.SIGTERM)
    status = r.wait(timeout=30)
    assert status == 143, r.diag()
    events = check_event_stream(r.events_text(), status)
    fwd = [i for i, e in enumerate(events) if e["agent_init"] == "signal"
           and e["action"] == "forwarded"]
    assert len(fwd) == rounds
    for a, b in zip(fwd, fwd[1:]):
        assert any(e["agent_init"] == "reaped" for e in events[a:b]), \
            "no orphan reaped between events %d and %d" % (a, b)
