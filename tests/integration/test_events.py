"""Event lines (issue items 8 and 9): their format and order, where they
go (--events and AGENT_INIT_EVENTS), and AGENT_INIT_STOP_TIMEOUT."""
import os
import re
import signal
import subprocess

import pytest

from harness import (AGENT_INIT, check_event_stream, helper, parse_events,
                     ts_seconds)


def version():
    out = subprocess.run([AGENT_INIT, "--version"], stdout=subprocess.PIPE,
                         text=True, timeout=20).stdout
    return out.split()[1]


def test_event_lines_well_formed(run, pid1):
    # exitwith prints nothing: every line of stdout must be an event.
    r = run(["-v", "--", helper("exitwith"), "3"], pid1=pid1)
    status = r.wait()
    assert status == 3, r.diag()
    out = r.stdout()
    assert out.endswith("\n")
    assert all(l.startswith('{"agent_init":"') for l in out.splitlines()), out
    events = check_event_stream(out, status)
    start = events[0]
    assert start["pid1"] is pid1
    assert start["pid"] == (1 if pid1 else r.proc.pid)
    assert start["version"] == version()
    names = [e["agent_init"] for e in events]
    for name in ("service_start", "service_exit", "shutdown"):
        assert name in names, names
    assert names.index("service_start") < names.index("service_exit") < \
        names.index("exit")
    assert events[-1]["reason"], events[-1]


def test_event_lines_well_formed_with_signals_and_orphans(run, pid1):
    # A busier life: forwarded signals, reaped orphans, a stop signal.
    cmd = ["/bin/sh", "-c", '"$1" 50 && exec "$2"', "sh",
           helper("orphans"), helper("sigrec")]
    r = run(["-v", "--"] + cmd, pid1=pid1)
    r.wait_line(re.compile(r"ready pid=\d+"))
    for sig in (signal.SIGHUP, signal.SIGWINCH):
        r.kill(sig)
        r.wait_line(signal.Signals(sig).name)
    r.kill(signal.SIGINT)
    status = r.wait()
    assert status == 130, r.diag()
    events = check_event_stream(r.stdout(), status)
    names = [e["agent_init"] for e in events]
    assert names.count("reaped") == 50
    assert names.count("signal") == 3


def dest_run(run, tmp_path, dest, how, pid1, extra_env=None):
    """Run fdcheck with the events sent to dest ("stderr", "fd", "file"),
    given on the command line (how="cli") or in the environment."""
    env = dict(extra_env or {})
    pass_fds = ()
    path = None
    if dest == "stderr":
        value = "stderr"
    elif dest == "file":
        path = str(tmp_path / "events.file")
        value = "file:" + path
    else:
        path = str(tmp_path / "events.fd")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        pass_fds = (fd,)
        value = "fd:%d" % fd
    args = ["--events", value] if how == "cli" else []
    if how == "env":
        env["AGENT_INIT_EVENTS"] = value
    elif how == "cli=":
        args = ["--events=" + value]
    try:
        r = run(args + ["--", helper("fdcheck")], pid1=pid1, env=env,
                pass_fds=pass_fds, events_path=path,
                events_from="stderr" if dest == "stderr" else "stdout")
        status = r.wait()
    finally:
        for fd in pass_fds:
            os.close(fd)
    return r, status


@pytest.mark.parametrize("how", ["cli", "cli=", "env"])
@pytest.mark.parametrize("dest", ["stderr", "fd", "file"])
def test_events_destination(run, tmp_path, pid1, dest, how):
    r, status = dest_run(run, tmp_path, dest, how, pid1)
    assert status == 0, r.diag()
    # Nothing but the command's own output on stdout.
    assert parse_events(r.stdout()) == [], r.diag()
    assert r.lines()[0] == "fds: 0 1 2", r.diag()
    if dest == "stderr":
        assert all(l.startswith("{") for l in r.stderr().splitlines())
    check_event_stream(r.events_text(), status)


@pytest.mark.parametrize("fd", [3, 4, 5, 9])
def test_events_to_a_closed_fd_is_a_usage_error(run, pid1, fd):
    # `--events fd:4` without the `4>` redirection: whatever the number,
    # exit 64 at once with EBADF.  Before the fix agent-init had already
    # made its epoll fd and timerfd (3 and 4): fd:4 took over the timerfd,
    # closed it and never finished a shutdown; fd:3 exited 1.
    r = run(["--events", "fd:%d" % fd, "--", helper("exitwith"), "0"],
            pid1=pid1)
    assert r.wait() == 64, r.diag()
    assert "--events fd:%d: Bad file descriptor" % fd in r.stderr(), r.diag()
    assert parse_events(r.stdout()) == [], r.diag()


def test_events_command_line_wins_over_environment(run, tmp_path, pid1):
    r, status = dest_run(run, tmp_path, "file", "cli", pid1,
                         {"AGENT_INIT_EVENTS": "stderr"})
    assert status == 0, r.diag()
    assert parse_events(r.stderr()) == [], r.diag()
    assert parse_events(r.stdout()) == [], r.diag()
    check_event_stream(r.events_text(), status)


def test_events_file_appends(run, tmp_path):
    path = tmp_path / "events"
    path.write_text("kept\n")
    r = run(["--events", "file:%s" % path, "--", helper("exitwith"), "0"],
            events_path=str(path))
    assert r.wait() == 0, r.diag()
    text = path.read_text()
    assert text.startswith("kept\n"), text
    check_event_stream(text[5:], 0)


def stop_time(run, args, env):
    """Seconds (by agent-init's own clock) from the shutdown event to the
    exit event, when the child ignores SIGTERM."""
    r = run(args + ["--", helper("sigrec"), "-i"], env=env)
    r.wait_line(re.compile(r"ready pid=\d+"))
    r.kill(signal.SIGTERM)
    status = r.wait(timeout=60)
    assert status == 137, r.diag()
    events = check_event_stream(r.stdout(), status)
    shutdown = [e for e in events if e["agent_init"] == "shutdown"][0]
    return ts_seconds(events[-1]) - ts_seconds(shutdown)


# The default stop timeout is 8s: SIGKILL comes 7s into the shutdown.
# These use bounds far from the values compared: 1s against 8s, 1s
# against 30s (upper bound 5s), and 3s against 1s (lower bound 2s, which
# cannot fail by slowness: timers never fire early).

def test_stop_timeout_from_environment(run):
    took = stop_time(run, [], {"AGENT_INIT_STOP_TIMEOUT": "1s"})
    assert took < 5.0, "AGENT_INIT_STOP_TIMEOUT=1s ignored? %.1fs" % took


def test_stop_timeout_command_line_wins_shorter(run):
    took = stop_time(run, ["--stop-timeout", "1s"],
                     {"AGENT_INIT_STOP_TIMEOUT": "30s"})
    assert took < 5.0, "--stop-timeout 1s lost to the env? %.1fs" % took


def test_stop_timeout_command_line_wins_longer(run):
    took = stop_time(run, ["--stop-timeout=3s"],
                     {"AGENT_INIT_STOP_TIMEOUT": "1s"})
    assert took >= 2.0, "--stop-timeout 3s lost to the env? %.1fs" % took


def test_verbose_from_environment(run):
    r = run(["--", helper("orphans"), "-c", "20"],
            env={"AGENT_INIT_VERBOSE": "1"})
    status = r.wait()
    assert status == 0, r.diag()
    events = check_event_stream(r.stdout(), status)
    assert sum(1 for e in events if e["agent_init"] == "reaped") == 20


def test_not_verbose_no_reaped_events(run):
    r = run(["--", helper("orphans"), "-c", "20"])
    status = r.wait()
    assert status == 0, r.diag()
    events = check_event_stream(r.stdout(), status)
    assert not [e for e in events if e["agent_init"] == "reaped"]
