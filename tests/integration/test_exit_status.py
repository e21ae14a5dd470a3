"""Exit statuses (issue items 4 and 5): the command's code, 128+N for a
signal, 127/126 when it cannot be run, 64 for a bad command line."""
import os

import pytest

from harness import check_event_stream, helper


@pytest.mark.parametrize("code", [0, 1, 3, 255])
def test_exit_code_passes_through(run, pid1, code):
    r = run(["--", helper("exitwith"), str(code)], pid1=pid1)
    status = r.wait()
    assert status == code, r.diag()
    events = check_event_stream(r.stdout(), status)
    exits = [e for e in events if e["agent_init"] == "service_exit"]
    assert len(exits) == 1 and exits[0]["code"] == code, exits


@pytest.mark.parametrize("sig,expect", [("KILL", 137), ("TERM", 143),
                                        ("USR1", 138)])
def test_killed_by_signal_is_128_plus_n(run, pid1, sig, expect):
    r = run(["--", helper("killself"), sig], pid1=pid1)
    status = r.wait()
    assert status == expect, r.diag()
    events = check_event_stream(r.stdout(), status)
    exits = [e for e in events if e["agent_init"] == "service_exit"]
    assert len(exits) == 1 and exits[0]["signal"] == "SIG" + sig, exits


def exec_failure(run, pid1, cmd, expect):
    r = run(["--", cmd], pid1=pid1)
    status = r.wait()
    assert status == expect, r.diag()
    err = r.stderr().splitlines()
    assert len(err) == 1, "want one line on stderr, got %r" % err
    assert cmd in err[0], err
    events = check_event_stream(r.stdout(), status)
    failed = [e for e in events if e["agent_init"] == "service_failed"]
    assert len(failed) == 1 and cmd in failed[0]["reason"], failed
    return r


def test_not_found_is_127(run, pid1):
    exec_failure(run, pid1, "/nonexistent", 127)


def test_not_found_on_path_is_127(run, pid1):
    exec_failure(run, pid1, "agent-init-no-such-command", 127)


def test_not_executable_is_126(run, pid1, tmp_path):
    path = tmp_path / "not-executable"
    path.write_text("#!/bin/sh\nexit 0\n")
    os.chmod(path, 0o644)
    exec_failure(run, pid1, str(path), 126)


def test_directory_is_126(run, pid1, tmp_path):
    exec_failure(run, pid1, str(tmp_path), 126)


BAD_COMMAND_LINES = {
    "unknown-long": ["--bogus", "--", "CMD"],
    "unknown-short": ["-Z", "--", "CMD"],
    "timeout-garbage": ["--stop-timeout", "garbage", "--", "CMD"],
    "timeout-garbage-eq": ["--stop-timeout=12parsecs", "--", "CMD"],
    "timeout-zero": ["--stop-timeout", "0", "--", "CMD"],
    "timeout-no-value": ["--stop-timeout"],
    "events-bad": ["--events", "syslog", "--", "CMD"],
    "events-bad-fd": ["--events", "fd:999", "--", "CMD"],
    "flag-with-value": ["--group=yes", "--", "CMD"],
    "missing-command": [],
    "missing-command-after-options": ["-v", "-g", "--"],
}


@pytest.mark.parametrize("args", list(BAD_COMMAND_LINES.values()),
                         ids=list(BAD_COMMAND_LINES))
def test_bad_command_line_is_64(run, tmp_path, args):
    marker = tmp_path / "started"
    cmd = ["/bin/sh", "-c", "touch %s" % marker]
    argv = []
    for a in args:
        argv.extend(cmd if a == "CMD" else [a])
    r = run(argv, pid1=False)
    status = r.wait()
    assert status == 64, r.diag()
    err = r.stderr().splitlines()
    assert len(err) == 1 and err[0].strip(), \
        "want one line on stderr, got %r" % err
    # It starts nothing: no events, no command.
    assert r.stdout() == "", r.diag()
    assert not marker.exists()


def test_bad_environment_value_is_64(run, tmp_path):
    marker = tmp_path / "started"
    r = run(["--", "/bin/sh", "-c", "touch %s" % marker], pid1=False,
            env={"AGENT_INIT_STOP_TIMEOUT": "soon"})
    assert r.wait() == 64, r.diag()
    err = r.stderr().splitlines()
    assert len(err) == 1 and "AGENT_INIT_STOP_TIMEOUT" in err[0], err
    assert not marker.exists()


def test_bad_command_line_as_pid1(run):
    r = run(["--no-such-option", "--", helper("exitwith"), "0"])
    assert r.wait() == 64, r.diag()
    assert len(r.stderr().splitlines()) == 1
    assert r.stdout() == ""


def test_command_without_double_dash_and_its_options(run):
    # Options end at the first word that is not one: what follows is the
    # command's, untouched (as with tini).
    r = run(["-v", "/bin/sh", "-c", 'echo "args:$*"; exit 4', "sh", "-v",
             "--bogus", "--"], pid1=False)
    assert r.wait() == 4, r.diag()
    assert "args:-v --bogus --" in r.lines(), r.diag()


@pytest.mark.parametrize("value", ["250ms", "2s", "1m", "5"])
def test_stop_timeout_values_accepted(run, value):
    r = run(["--stop-timeout", value, "--", helper("exitwith"), "0"],
            pid1=False)
    assert r.wait() == 0, r.diag()
    assert r.stderr() == "", r.diag()
