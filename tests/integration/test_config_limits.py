"""The configuration file as issue 13 wants it: long lines and values that
work (a dockerd command with its flags, an `sh -c` script, an env list),
any number of services, a UTF-8 BOM, and an operator's file that is a
FIFO, /dev/stdin, a directory or /dev/zero: read when it can be, refused
at once (exit 78, "FILE: ...") when it cannot, never a hang or a spin.

`ready = log:` with raw output can never pass: refused by check-config
(test_config_errors.py) and, when the raw mode comes from --output or
AGENT_INIT_OUTPUT, by the PID 1 form at start (exit 64)."""
import os
import signal
import subprocess
import threading
import time

import pytest

from harness import AGENT_INIT, clean_env
from suputil import agent, named, write_conf


def test_long_command_and_env_lines_run(run, tmp_path):
    # Lines of thousands of characters: a shell script as command and an
    # env list that all reach the service, word for word.
    words = " ".join("w%04d" % i for i in range(800))  # 4,799 characters
    env = " ".join("V%03d=%s" % (i, "v" * 20) for i in range(300))
    script = "echo first; " + " && ".join(
        "test $V%03d = %s" % (i, "v" * 20) for i in range(0, 300, 7)) + \
        " && test $V299 = %s && test $LAST = 1 && echo env-ok" % ("v" * 20)
    conf = write_conf(tmp_path / "c.conf", """\
[service words]
command = {H}/svcact 'o:%s' wait
restart = never
[service script]
shell = yes
command = %s
env = %s
env = LAST=1
restart = never
""" % (words, script, env))
    assert len(max(open(conf).read().splitlines(), key=len)) > 7000
    r = run(["-c", conf])
    r.wait_line("script| env-ok")
    r.wait_line("words| " + words)
    assert "script| first" in r.lines(), r.diag()
    r.kill(signal.SIGTERM)
    assert r.wait() == 0, r.diag()


def test_more_than_32_services(run, tmp_path):
    # The old limit was 32, with "any number" in the README.
    n = 40
    text = "".join("[service s%02d]\ncommand = {H}/svcact o:up-%02d wait\n"
                   % (i, i) for i in range(n))
    conf = write_conf(tmp_path / "c.conf", text)
    assert agent(["check-config", conf]).returncode == 0
    r = run(["-c", conf])
    ev = r.wait_event("ready")
    assert len(ev["services"]) == n, ev
    for i in range(n):
        r.wait_line("s%02d| up-%02d" % (i, i))
    r.kill(signal.SIGTERM)
    assert r.wait() == 0, r.diag()
    assert len(named(r.events(), "service_exit")) == n


def test_utf8_bom_before_the_first_section(run, tmp_path):
    # Before the fix the BOM hid the [init] header: "outside of any
    # section", exit 78.
    conf = tmp_path / "c.conf"
    conf.write_bytes(b"\xef\xbb\xbf[init]\nstop_timeout = 3s\n"
                     b"[service a]\ncommand = /bin/true\n")
    p = agent(["check-config", str(conf)])
    assert p.returncode == 0, p.stderr
    r = run(["-c", str(conf)])
    assert r.wait() == 0, r.diag()
    assert named(r.events(), "service_exit", service="a")


def bounded(args, timeout=20, **kw):
    """agent-init ARGS as a plain process that must end within timeout
    (a reader that spins or hangs would not)."""
    t0 = time.monotonic()
    p = subprocess.run([AGENT_INIT] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=clean_env(),
                       timeout=timeout, **kw)
    return p, time.monotonic() - t0


@pytest.mark.parametrize("path,words", [
    ("/dev/zero", "too large"),
    ("/dev/urandom", "too large"),
    ("/tmp", "is a directory"),
])
@pytest.mark.parametrize("how", ["check-config", "-c"])
def test_config_that_is_not_a_file_is_refused_at_once(how, path, words):
    # Before the fix /dev/zero and /dev/urandom spun at 100% CPU for ever
    # (signals blocked: only SIGKILL ended it), and a directory was read
    # as an empty file.
    args = [how, path] if how == "check-config" else \
        ["-c", path, "--", "/bin/true"]
    p, took = bounded(args)
    assert p.returncode == 78, (p.returncode, p.stderr)
    assert p.stderr.strip().endswith("%s: %s" % (path, words)) or \
        ("%s: %s" % (path, words)) in p.stderr, p.stderr
    assert took < 15, took


def test_config_from_a_fifo_and_from_stdin(run, tmp_path):
    # The operator's path may be a FIFO (a process substitution) or
    # /dev/stdin: read to its end.
    text = "[service a]\ncommand = {H}/svcact o:from-fifo\nrestart = never\n"
    text = text.replace("{H}", os.environ["HELPERS"])
    fifo = str(tmp_path / "conf.fifo")
    os.mkfifo(fifo)

    def writer():
        with open(fifo, "w") as f:
            f.write(text)
    t = threading.Thread(target=writer, daemon=True)
    t.start()
    r = run(["-c", fifo])
    r.wait_line("a| from-fifo")
    assert r.wait() == 0, r.diag()
    t.join(5)
    p = subprocess.run([AGENT_INIT, "check-config", "/dev/stdin"],
                       input=text, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=clean_env(),
                       timeout=20)
    assert p.returncode == 0 and "ok (1 services" in p.stdout, p


def test_config_fifo_without_a_writer_times_out(tmp_path):
    # Nobody ever writes: a bounded wait, then 78 with the reason.
    fifo = str(tmp_path / "conf.fifo")
    os.mkfifo(fifo)
    p, took = bounded(["check-config", fifo])
    assert p.returncode == 78, p
    assert "%s: no end of file" % fifo in p.stderr, p.stderr
    assert took < 15, took


@pytest.mark.parametrize("how", ["option", "env"])
def test_raw_output_from_the_command_line_refuses_a_log_probe(run, tmp_path,
                                                               how):
    # The file is fine (prefix output by default) and passes check-config;
    # `--output raw` would make its log: probe wait for ever (before the
    # fix: ready_timeout, then a failed start).  Refused at start with 64,
    # naming the service and its line.  A service with its own `output`
    # keeps it, and is not affected.
    conf = write_conf(tmp_path / "c.conf", """\
[service web]
command = {H}/svcact o:listening wait
ready = log:listening
ready_timeout = 2s
[service own]
command = {H}/svcact o:up wait
output = prefix
ready = log:up
""")
    assert agent(["check-config", conf]).returncode == 0
    args, env = ["-c", conf], {}
    if how == "option":
        args = ["--output", "raw"] + args
    else:
        env["AGENT_INIT_OUTPUT"] = "raw"
    r = run(args, env=env)
    assert r.wait() == 64, r.diag()
    err = r.stderr()
    assert "%s:3: [service web] waits for `ready = log:listening`" % conf \
        in err, err
    assert "raw" in err and "own" not in err, err
    assert "service_start" not in r.stdout(), r.diag()


def test_json_output_from_the_command_line_keeps_a_log_probe(run, tmp_path):
    conf = write_conf(tmp_path / "c.conf", """\
[service web]
command = {H}/svcact o:listening wait
ready = log:listening
""")
    r = run(["--output", "json", "-c", conf])
    r.wait_event("ready")
    r.kill(signal.SIGTERM)
    assert r.wait() == 0, r.diag()

