"""Configuration errors (SPEC section 3; issue 3 item 5): every class of
error makes both `agent-init -c FILE` and `agent-init check-config FILE`
exit 78 with one line "FILE:LINE: message", and nothing is started.

Each case is a file in which the line that is wrong ends with the marker
"#<" (stripped before writing; a marker on several lines means any of
them is an acceptable answer, e.g. for a dependency cycle).  A good
service that would create a file comes first (or last, for a case that
starts with "!top")."""
import pytest

from harness import HELPERS
from suputil import agent, write_conf

GOOD_SERVICE = """\
[service ok]
command = {H}/svcact touch:{MARK} wait
"""

CASES = {
    "unknown_section": """\
[init]
stop_timeout = 2s
[services web]  #<
command = /bin/true
""",
    "unknown_init_key": """\
[init]
stop_timeout = 2s
ready_fiel = /run/ready  #<
""",
    "unknown_service_key": """\
[service web]
command = /bin/true
restarts = always  #<
""",
    "unknown_check_type": """\
[check magic]  #<
timeout = 1s
""",
    "unknown_check_key": """\
[check resolver]
query = example.com
target = 10.0.0.1:53  #<
""",
    "key_outside_section": """\
!top
stop_timeout = 2s  #<
[init]
""",
    "syntax_error": """\
[service web]
command = /bin/true
this line has no equals sign  #<
""",
    "line_too_long": """\
[service web]
command = /bin/true
env = A=%s  #<
""" % ("x" * 16400),
    # Issue 13: a single-valued key twice, a second [init], an indented
    # line after a key (a continuation line elsewhere: here it would have
    # become a key of its own), a log: probe that raw output can never
    # feed, a NUL byte.
    "duplicate_key": """\
[service web]
command = /bin/true
restart = always
command = /bin/false  #<
""",
    "duplicate_init_key": """\
[init]
stop_timeout = 2s
checks = warn
stop_timeout = 3s  #<
""",
    "second_init": """\
[init]
stop_timeout = 2s
[service web]
command = /bin/true
[init]  #<
checks = off
""",
    "continuation_line": """\
[service web]
command = /bin/sleep
    restart = never  #<
""",
    "log_probe_on_raw_output": """\
[service web]
command = /bin/true
output = raw
ready = log:listening  #<
""",
    "nul_byte": """\
[service web]
command = /bin/true\x00  #<
""",
    "bad_duration": """\
[service web]
command = /bin/true
ready_timeout = 5 parsecs  #<
""",
    "zero_stop_timeout": """\
[init]
stop_timeout = 0  #<
""",
    "bad_bool": """\
[service web]
command = /bin/true
required = maybe  #<
""",
    "bad_restart": """\
[service web]
command = /bin/true
restart = sometimes  #<
""",
    "bad_backoff": """\
[service web]
command = /bin/true
backoff = fast  #<
""",
    "bad_max_restarts": """\
[service web]
command = /bin/true
max_restarts = 10 per minute  #<
""",
    "bad_stop_signal": """\
[service web]
command = /bin/true
stop_signal = SIGFOO  #<
""",
    "bad_probe": """\
[service web]
command = /bin/true
ready = magic:42  #<
""",
    "bad_probe_tcp_port": """\
[service web]
command = /bin/true
ready = tcp:127.0.0.1:99999  #<
""",
    "bad_output": """\
[init]
output = xml  #<
""",
    "bad_events": """\
[init]
events = syslog  #<
""",
    "bad_checks": """\
[init]
checks = strict  #<
""",
    "relative_ready_file": """\
[init]
ready_file = run/ready  #<
""",
    "bad_tail_lines": """\
[service web]
command = /bin/true
tail_lines = 5000  #<
""",
    "bad_env": """\
[service web]
command = /bin/true
env = NOVALUE  #<
""",
    "bad_service_name": """\
[service we/b]  #<
command = /bin/true
""",
    "unterminated_quote": """\
[service web]
command = /bin/echo 'oops  #<
""",
    "duplicate_service": """\
[service web]
command = /bin/true
[service db]
command = /bin/true
[service web]  #<
command = /bin/false
""",
    "after_naming_no_service": """\
[service web]
command = /bin/true
after = dbb  #<
""",
    "after_itself": """\
[service web]
command = /bin/true
after = web  #<
""",
    "cycle": """\
[service a]
command = /bin/true
after = c  #<
[service b]
command = /bin/true
after = a  #<
[service c]
command = /bin/true
after = b  #<
""",
    "two_mains": """\
[service a]
command = /bin/true
main = yes
[service b]  #<
command = /bin/true
main = yes  #<
""",
    "missing_command": """\
[service a]
command = /bin/true
[service web]  #<
ready = started
""",
}


def prepare(tmp_path, text):
    """Write the case (after a good service) and return (path, lines)."""
    mark = tmp_path / "started"
    good = GOOD_SERVICE.replace("{MARK}", str(mark))
    if text.startswith("!top\n"):
        body = text[5:] + good
    else:
        body = good + text
    lines, out = [], []
    for i, line in enumerate(body.splitlines(), 1):
        if line.endswith("#<"):
            line = line[:-2].rstrip()
            lines.append(i)
        out.append(line)
    assert lines, "a case needs a #< marker"
    path = str(tmp_path / "bad.conf")
    text = "\n".join(out) + "\n"
    if len(max(out, key=len)) > 16384 or "\x00" in text:
        # The one case that is about a long line: bypass write_conf's check.
        with open(path, "w") as f:
            f.write(text.replace("{H}", HELPERS))
    else:
        write_conf(path, text)
    return path, lines, mark


def check_message(stderr, path, lines, prefix=""):
    got = [l for l in stderr.splitlines() if l]
    assert len(got) == 1, "want one line, got %r" % stderr
    want = ["%s%s:%d: " % (prefix, path, n) for n in lines]
    assert any(got[0].startswith(w) for w in want), (got[0], want)
    assert len(got[0]) > len(want[0]) + 5, "no message: %r" % got[0]


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_error_check_config(tmp_path, case):
    path, lines, _ = prepare(tmp_path, CASES[case])
    r = agent(["check-config", path])
    assert r.returncode == 78, (r.returncode, r.stdout, r.stderr)
    check_message(r.stderr, path, lines)


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_error_run(run, tmp_path, case):
    path, lines, mark = prepare(tmp_path, CASES[case])
    r = run(["-c", path])
    assert r.wait() == 78, r.diag()
    # One line on stderr (agent-init's prefix allowed), nothing started:
    # no event at all, and the good service never ran.
    err = r.stderr().replace("agent-init: ", "", 1)
    check_message(err, path, lines)
    assert r.stdout() == "", r.diag()
    assert not mark.exists()


def test_check_config_good(tmp_path):
    path, _, mark = prepare(tmp_path, """\
[init]
stop_timeout = 3s
output = json
[service web]
command = {H}/svcact wait
ready = tcp:127.0.0.1:8080
ready = log:listening  #<
after = ok
backoff = 100ms..2s
max_restarts = 3/1m
""")
    r = agent(["check-config", path])
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert not mark.exists()


def test_missing_config_file_is_78(run, tmp_path):
    path = str(tmp_path / "nonexistent.conf")
    r = agent(["check-config", path])
    assert r.returncode == 78, (r.returncode, r.stderr)
    assert path in r.stderr
    r = run(["-c", path])
    assert r.wait() == 78, r.diag()
    assert path in r.stderr()
    assert r.stdout() == ""


def test_config_main_and_command_is_78(run, tmp_path):
    # A -- COMMAND is the main service: a file with one already is wrong.
    path, lines, mark = prepare(tmp_path, """\
[service app]  #<
command = /bin/true
main = yes  #<
""")
    r = run(["-c", path, "--", "/bin/true"])
    assert r.wait() == 78, r.diag()
    check_message(r.stderr().replace("agent-init: ", "", 1), path, lines)
    assert not mark.exists()
