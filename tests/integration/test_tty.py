"""A terminal on stdin (issue item 11): the child gets the foreground, and
the job-control stop signals never stop agent-init; they are forwarded."""
import re
import signal

import pytest

from harness import check_event_stream, helper, proc_state, signame

STOPS = [signal.SIGTSTP, signal.SIGTTOU, signal.SIGTTIN]


def test_child_is_foreground_process_group(run, pid1, tmp_path):
    ev = str(tmp_path / "events")
    r = run(["--events", "file:" + ev, "--", helper("ttycheck")], pid1=pid1,
            tty=True, events_path=ev)
    status = r.wait()
    m = re.search(r"tty: isatty=(\d) pgrp=(\d+) tpgrp=(-?\d+) fg=(\d)",
                  r.stdout())
    assert m, r.diag()
    assert m.group(1) == "1", m.group(0)
    assert m.group(4) == "1", "child not in the foreground: " + m.group(0)
    assert status == 0, r.diag()
    check_event_stream(r.events_text(), status)


@pytest.mark.parametrize("tty", [True, False], ids=["tty", "notty"])
def test_stop_signals_forwarded_and_do_not_stop(run, pid1, tty, tmp_path):
    ev = str(tmp_path / "events")
    r = run(["--events", "file:" + ev, "--", helper("sigrec")], pid1=pid1,
            tty=tty, events_path=ev)
    r.wait_line(re.compile(r"ready pid=\d+"))
    init = r.init_pid()
    for sig in STOPS:
        name = signame(sig)
        r.kill(sig)
        r.wait_line(name)
        r.wait_event("signal", signal=name, action="forwarded")
        assert proc_state(init) not in ("T", "t"), \
            "agent-init stopped by %s" % name
    # Still working: it forwards the next signal and stops on SIGTERM.
    r.kill(signal.SIGUSR1)
    r.wait_line("SIGUSR1")
    r.kill(signal.SIGTERM)
    status = r.wait()
    assert status == 143, r.diag()
    check_event_stream(r.events_text(), status)


def test_ctrl_c_on_the_terminal_reaches_the_child(run, pid1, tmp_path):
    # ^C makes the terminal send SIGINT to its foreground group: the
    # child's, not agent-init's; the child dies of it and so do we.
    ev = str(tmp_path / "events")
    r = run(["--events", "file:" + ev, "--", helper("sigrec")], pid1=pid1,
            tty=True, events_path=ev)
    r.wait_line(re.compile(r"ready pid=\d+"))
    r.type(b"\x03")
    status = r.wait()
    assert status == 130, r.diag()
    events = check_event_stream(r.events_text(), status)
    assert [e for e in events if e["agent_init"] == "signal"] == [], \
        "agent-init itself got a signal from the terminal"
