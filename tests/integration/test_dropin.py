"""A true drop-in for tini and dumb-init (issue 15): SIGQUIT and SIGINT,
fault signals sent with kill(), tini's -s, -e, -p, -w and its TINI_*
variables, dumb-init's -r and --single-child, a service's signal_map and
success_exit_codes.  Each behaviour as PID 1 and as a plain child (then a
child subreaper), with the real binary and real signals."""
import ctypes
import os
import re
import signal
import subprocess

import pytest

from harness import (AGENT_INIT, check_event_stream, clean_env, helper, poll,
                     proc_state, signame)
from suputil import agent, assert_never, named, write_conf

# Sent straight to sigrec to synchronise with it: sigtimedwait() hands out
# every pending standard signal before a real-time one, so once sigrec
# has recorded this one it has recorded every standard signal queued for
# it before (see test_signals.py).
SYNC_SIG = 40

FAULTS = [signal.SIGILL, signal.SIGTRAP, signal.SIGABRT, signal.SIGBUS,
          signal.SIGFPE, signal.SIGSEGV, signal.SIGSYS]


def start_sigrec(run, args, **kw):
    r = run(args, **kw)
    child = int(r.wait_line(re.compile(r"ready pid=(\d+)")).group(1))
    return r, child


def sync(r, child):
    """Every standard signal sent to sigrec so far has been recorded."""
    host = r.host_pid(child)
    r.track(host)
    n = r.count_lines("SIG%d" % SYNC_SIG)
    os.kill(host, SYNC_SIG)
    poll(lambda: r.count_lines("SIG%d" % SYNC_SIG) > n,
         what="sigrec's sync signal", diag=r.diag)


def signal_events(r):
    return [(e["signal"], e["action"]) for e in named(r.events(), "signal")]


# --- SIGQUIT is always forwarded --------------------------------------------

def test_sigquit_is_forwarded_never_a_shutdown(run, pid1):
    # docker kill -s QUIT: a JVM prints its thread dump and goes on.
    r, child = start_sigrec(run, ["--", helper("sigrec"), "-q"], pid1=pid1)
    for _ in range(2):
        r.kill(signal.SIGQUIT)
        poll(lambda: r.count_lines("SIGQUIT") == _ + 1, what="SIGQUIT",
             diag=r.diag)
    assert signal_events(r) == [("SIGQUIT", "forwarded")] * 2
    assert not named(r.events(), "shutdown"), r.diag()
    assert proc_state(r.host_pid(child)) not in (None, "Z"), r.diag()
    r.kill(signal.SIGTERM)
    assert r.wait() == 143, r.diag()


def test_sigquit_is_forwarded_with_services_too(run, pid1, tmp_path):
    conf = write_conf(tmp_path / "q.conf", """\
[service side]
command = {H}/sigrec -T 60
[service main]
command = {H}/sigrec -q -T 60
main = yes
output = raw
""")
    r = run(["-c", conf], pid1=pid1)
    r.wait_event("ready")
    r.kill(signal.SIGQUIT)
    r.wait_line("SIGQUIT")
    r.wait_event("signal", signal="SIGQUIT", action="forwarded")
    assert_never(r, "shutdown", 0.3)
    r.kill(signal.SIGTERM)
    assert r.wait() == 143, r.diag()


# --- SIGINT: the command's with a lone command, a shutdown with services --

def test_sigint_is_the_commands_in_single_command_mode(run, pid1):
    # As with tini: the command gets SIGINT; it decides.  sigrec -q records
    # it and goes on, so agent-init goes on too.
    r, child = start_sigrec(run, ["--", helper("sigrec"), "-q"], pid1=pid1)
    r.kill(signal.SIGINT)
    r.wait_line("SIGINT")
    r.wait_event("signal", signal="SIGINT", action="forwarded")
    assert_never(r, "shutdown", 0.3)
    # Its own exit then ends agent-init, with its status.
    r.kill(signal.SIGTERM)
    assert r.wait() == 143, r.diag()


def test_sigint_default_disposition_ends_the_command(run, pid1):
    r, _ = start_sigrec(run, ["--", helper("sigrec")], pid1=pid1)
    r.kill(signal.SIGINT)
    status = r.wait()
    assert status == 130, r.diag()
    events = check_event_stream(r.stdout(), status)
    assert signal_events(r) == [("SIGINT", "forwarded")], events
    shutdown = named(events, "shutdown")
    assert [e["reason"] for e in shutdown] == ["main service exited"], events


def test_sigint_shuts_down_with_services(run, pid1, tmp_path):
    conf = write_conf(tmp_path / "i.conf", """\
[service side]
command = {H}/sigrec -T 60
""")
    r, _ = start_sigrec(run, ["--output", "raw", "-c", conf, "--",
                              helper("sigrec"), "-q"], pid1=pid1)
    r.wait_event("ready")
    r.kill(signal.SIGINT)
    status = r.wait()
    events = check_event_stream(r.stdout(), status)
    assert signal_events(r)[0] == ("SIGINT", "shutdown"), events
    assert named(events, "shutdown")[0]["reason"] == "SIGINT received"
    # The command got the signal that asked (SIGINT), the service its
    # stop_signal (SIGTERM, which kills sigrec without -x).
    assert "SIGINT" in r.lines(), r.diag()
    side = named(events, "service_exit", service="side")
    assert side and side[0].get("signal") == "SIGTERM", side


# --- fault signals sent with kill() -------------------------------------------

@pytest.mark.parametrize("sig", FAULTS, ids=[s.name for s in FAULTS])
def test_fault_signal_sent_with_kill_is_forwarded(run, pid1, sig):
    # Before: not PID 1, the signal killed agent-init and orphaned its
    # child; as PID 1 it was dropped.  Now it reaches the child, and
    # agent-init goes on.
    r, child = start_sigrec(run, ["--", helper("sigrec")], pid1=pid1)
    r.kill(sig)
    r.wait_line(sig.name)
    r.wait_event("signal", signal=sig.name, action="forwarded")
    assert proc_state(r.init_pid()) not in (None, "Z"), r.diag()
    r.kill(signal.SIGUSR1)
    r.wait_line("SIGUSR1")
    r.kill(signal.SIGTERM)
    status = r.wait()
    assert status == 143, r.diag()
    check_event_stream(r.stdout(), status)


def test_fault_signal_from_sigqueue_is_forwarded(run, pid1):
    # si_code SI_QUEUE, not SI_USER: sent by a process all the same.
    r, _ = start_sigrec(run, ["--", helper("sigrec")], pid1=pid1)
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.sigqueue(ctypes.c_int(r.init_pid()),
                         ctypes.c_int(int(signal.SIGBUS)),
                         ctypes.c_void_p(7)) == 0, ctypes.get_errno()
    r.wait_line("SIGBUS")
    r.kill(signal.SIGTERM)
    assert r.wait() == 143, r.diag()


# --- tini's -e, and success_exit_codes ------------------------------------------

@pytest.mark.parametrize("code", [0, 3, 255])
def test_remap_exit_code_to_zero(run, pid1, code):
    r = run(["-e", str(code), "--", helper("exitwith"), str(code)],
            pid1=pid1)
    status = r.wait()
    assert status == 0, r.diag()
    ev = check_event_stream(r.stdout(), 0)[-1]
    if code:
        assert "-e %d" % code in ev["reason"], ev


def test_remap_exit_leaves_other_codes(run, pid1):
    # tini's "exclusive" test: every code but the one it ends with.
    args = []
    for c in range(256):
        if c != 7:
            args += ["-e", str(c)]
    r = run(args + [helper("exitwith"), "7"], pid1=pid1)
    assert r.wait() == 7, r.diag()


def test_remap_exit_applies_to_a_signal_status(run, pid1):
    # 143 = killed by SIGTERM: docker stop of a program without a handler.
    r, _ = start_sigrec(run, ["-e", "143", "--", helper("sigrec")],
                        pid1=pid1)
    r.kill(signal.SIGTERM)
    assert r.wait() == 0, r.diag()


def test_remap_exit_from_environment_list(run):
    r = run(["--", helper("exitwith"), "4"],
            env={"AGENT_INIT_REMAP_EXIT": "3 4"})
    assert r.wait() == 0, r.diag()


def test_remap_exit_never_hides_a_required_service(run, pid1, tmp_path):
    # 70 is agent-init's own status, not the main service's.
    conf = write_conf(tmp_path / "r.conf", """\
[service dep]
command = {H}/exitwith 1
required = yes
restart = never
""")
    r = run(["-e", "70", "-c", conf, "--", helper("sigrec"), "-T", "60"],
            pid1=pid1)
    assert r.wait() == 70, r.diag()


@pytest.mark.parametrize("bad", ["256", "-1", "x", ""])
def test_remap_exit_bad_value_is_64(bad):
    p = agent(["-e", bad, "--", "/bin/true"])
    assert p.returncode == 64, p
    assert "-e" in p.stderr and "exit code" in p.stderr, p.stderr


def test_success_exit_codes_are_no_failure(run, pid1, tmp_path):
    # on-failure restarts a failed exit; 3 is declared a success: the
    # service ends for good, `exited` (never `failed`), and a required
    # one does not take the sandbox down.
    conf = write_conf(tmp_path / "s.conf", """\
[service ok3]
command = {H}/exitwith 3
restart = on-failure
required = yes
success_exit_codes = 3 4
[service bad3]
command = {H}/exitwith 3
restart = on-failure
max_restarts = 2/1m
backoff = 10ms..10ms
""")
    r = run(["--output", "raw", "-c", conf, "--", helper("sigrec"), "-T",
             "60"], pid1=pid1)
    r.wait_line(re.compile(r"ready pid=\d+"))
    r.wait_event("service_failed", service="bad3")
    r.wait_event("service_exit", service="ok3", code=3)
    assert_never(r, "service_restart", 0.3, service="ok3")
    assert not named(r.events(), "service_failed", service="ok3"), r.diag()
    assert not named(r.events(), "shutdown"), r.diag()
    assert named(r.events(), "service_restart", service="bad3"), r.diag()
    r.kill(signal.SIGTERM)
    assert r.wait() == 143, r.diag()


def test_success_exit_codes_bad_value_is_78(tmp_path):
    conf = write_conf(tmp_path / "b.conf", """\
[service x]
command = /bin/true
success_exit_codes = 3 300
""")
    p = agent(["check-config", conf])
    assert p.returncode == 78, p
    assert "b.conf:3:" in p.stderr and "success_exit_codes" in p.stderr


# --- tini's -p: the parent's death as a signal ----------------------------------

def test_pdeathsig_child_mode(tmp_path):
    # A shell starts agent-init -p SIGUSR1 and is SIGKILLed: the kernel
    # sends agent-init SIGUSR1, which goes to the command like any
    # received signal.
    out = tmp_path / "out"
    with open(str(out), "wb") as f:
        sh = subprocess.Popen(
            ["/bin/sh", "-c", '"$@" & echo "agent $!"; wait', "sh",
             AGENT_INIT, "-p", "SIGUSR1", "--", helper("sigrec"),
             "-T", "60"],
            stdout=f, stderr=subprocess.STDOUT, env=clean_env(),
            start_new_session=True)

    def text():
        return out.read_text()
    m = poll(lambda: re.search(r"^agent (\d+)$", text(), re.M),
             what="agent-init's pid")
    ai = int(m.group(1))
    try:
        poll(lambda: re.search(r"^ready pid=", text(), re.M),
             what="sigrec ready")
        sh.kill()
        sh.wait()
        poll(lambda: "\nSIGUSR1\n" in text(), what="SIGUSR1 at sigrec",
             diag=text)
        assert '"signal":"SIGUSR1","action":"forwarded"' in text()
        os.kill(ai, signal.SIGTERM)
        poll(lambda: proc_state(ai) is None, what="agent-init's end",
             diag=text)
        assert '"agent_init":"exit"' in text(), text()
    finally:
        try:
            os.killpg(sh.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_pdeathsig_pid1_term_shuts_down(run):
    # As PID 1 the parent is unshare, outside the namespace: when it dies,
    # SIGTERM arrives and the shutdown runs as after docker stop.
    r, child = start_sigrec(run, ["-p", "TERM", "--", helper("sigrec"),
                                  "-x", "5"], pid1=True)
    init = r.init_pid()
    r.track(init)
    r.proc.kill()  # unshare
    r.proc.wait()
    poll(lambda: proc_state(init) in (None, "Z"), what="agent-init's end",
         diag=r.diag)
    events = check_event_stream(r.stdout(), 5)
    assert ("SIGTERM", "shutdown") in signal_events(r), events
    assert "SIGTERM" in r.lines(), r.diag()


@pytest.mark.parametrize("bad", ["SIGNOPE", "0", "99"])
def test_pdeathsig_bad_value_is_64(bad):
    p = agent(["-p", bad, "--", "/bin/true"])
    assert p.returncode == 64, p
    assert "-p" in p.stderr, p.stderr


# --- signal rewrite: dumb-init's -r, a service's signal_map -----------------------

def test_rewrite_changes_the_signal_delivered(run, pid1):
    r, child = start_sigrec(run, ["-r", "10:12", "--", helper("sigrec")],
                            pid1=pid1)
    r.kill(signal.SIGUSR1)
    r.wait_line("SIGUSR2")
    ev = r.wait_event("signal", signal="SIGUSR1")
    assert ev["action"] == "forwarded" and ev["delivered"] == "SIGUSR2", ev
    sync(r, child)
    assert "SIGUSR1" not in r.lines(), r.diag()
    r.kill(signal.SIGTERM)
    assert r.wait() == 143, r.diag()


def test_rewrite_to_zero_drops_the_signal(run, pid1):
    r, child = start_sigrec(run, ["-r", "SIGWINCH:0", "-r", "HUP:0", "--",
                                  helper("sigrec")], pid1=pid1)
    for sig in (signal.SIGWINCH, signal.SIGHUP):
        r.kill(sig)
        ev = r.wait_event("signal", signal=sig.name)
        assert ev["action"] == "ignored" and ev["delivered"] is None, ev
    r.kill(signal.SIGUSR1)
    r.wait_line("SIGUSR1")
    sync(r, child)
    got = [l for l in r.lines() if l in ("SIGWINCH", "SIGHUP")]
    assert got == [], r.diag()
    r.kill(signal.SIGTERM)
    assert r.wait() == 143, r.diag()


def test_rewrite_never_changes_agent_inits_own_action(run, pid1):
    # -r 15:3 (dumb-init's classic): SIGTERM still starts the shutdown;
    # the command gets SIGQUIT as its stop signal, and SIGKILL after the
    # stop timeout since sigrec -q survives it.
    r, child = start_sigrec(run, ["-r", "15:3", "--stop-timeout", "1s",
                                  "--", helper("sigrec"), "-q"], pid1=pid1)
    r.kill(signal.SIGTERM)
    status = r.wait()
    assert status == 137, r.diag()
    events = check_event_stream(r.stdout(), status)
    assert signal_events(r) == [("SIGTERM", "shutdown")], events
    assert "SIGQUIT" in r.lines() and "SIGTERM" not in r.lines(), r.diag()


def test_rewrite_term_to_zero_still_shuts_down(run, pid1):
    r, _ = start_sigrec(run, ["-r", "TERM:0", "--stop-timeout", "500ms",
                              "--", helper("sigrec"), "-x", "5"], pid1=pid1)
    r.kill(signal.SIGTERM)
    assert r.wait() == 137, r.diag()
    assert "SIGTERM" not in r.lines(), r.diag()
    assert named(r.events(), "shutdown"), r.diag()


@pytest.mark.parametrize("bad", ["15", "15:", ":3", "KILL:TERM", "15:99",
                                 "TERM:NOPE"])
def test_rewrite_bad_value_is_64(bad):
    p = agent(["-r", bad, "--", "/bin/true"])
    assert p.returncode == 64, p
    assert "-r" in p.stderr and "FROM:TO" in p.stderr, p.stderr


def test_signal_map_of_a_service(run, pid1, tmp_path):
    # Per service: forwarded signals and its stop signal are rewritten.
    conf = write_conf(tmp_path / "m.conf", """\
[service side]
command = {H}/sigrec -T 60
[service main]
command = {H}/sigrec -q -T 60
main = yes
output = raw
stop_timeout = 500ms
signal_map = USR1:USR2 TERM:QUIT
""")
    r = run(["-c", conf], pid1=pid1)
    r.wait_event("ready")
    r.kill(signal.SIGUSR1)
    r.wait_line("SIGUSR2")
    r.kill(signal.SIGTERM)
    status = r.wait()
    assert status == 137, r.diag()
    assert "SIGQUIT" in r.lines() and "SIGUSR1" not in r.lines(), r.diag()
    assert "SIGTERM" not in r.lines(), r.diag()


def test_signal_map_wins_over_rewrite(run, tmp_path):
    conf = write_conf(tmp_path / "w.conf", """\
[service main]
command = {H}/sigrec -T 60
main = yes
output = raw
signal_map = USR1:HUP
""")
    r = run(["-r", "USR1:USR2", "-r", "WINCH:USR2", "-c", conf])
    r.wait_event("ready")
    r.kill(signal.SIGUSR1)
    r.wait_line("SIGHUP")
    r.kill(signal.SIGWINCH)
    r.wait_line("SIGUSR2")
    r.kill(signal.SIGTERM)
    assert r.wait() == 143, r.diag()


def test_signal_map_bad_value_is_78(tmp_path):
    conf = write_conf(tmp_path / "b.conf", """\
[service x]
command = /bin/true
signal_map = TERM:QUIT STOP:TERM
""")
    p = agent(["check-config", conf])
    assert p.returncode == 78, p
    assert "b.conf:3:" in p.stderr and "signal_map" in p.stderr, p.stderr


# --- tini's other flags and variables ------------------------------------------

def test_tini_kill_process_group(run, pid1):
    # Set at all counts, as tini reads it (even empty).
    r, _ = start_sigrec(run, ["--", helper("sigrec"), "-g"], pid1=pid1,
                        env={"TINI_KILL_PROCESS_GROUP": ""})
    r.wait_line(re.compile(r"gc:ready pid=\d+"))
    r.kill(signal.SIGUSR1)
    r.wait_line("SIGUSR1")
    r.wait_line("gc:SIGUSR1")
    r.kill(signal.SIGTERM)
    assert r.wait() == 143, r.diag()


def test_agent_init_group_wins_over_tini(run):
    r, child = start_sigrec(run, ["--", helper("sigrec"), "-g"],
                            env={"TINI_KILL_PROCESS_GROUP": "1",
                                 "AGENT_INIT_GROUP": "no"})
    gc = int(r.wait_line(re.compile(r"gc:ready pid=(\d+)")).group(1))
    r.kill(signal.SIGUSR1)
    r.wait_line("SIGUSR1")
    host = r.host_pid(gc)
    r.track(host)
    os.kill(host, SYNC_SIG)
    r.wait_line("gc:SIG%d" % SYNC_SIG)
    assert "gc:SIGUSR1" not in r.lines(), r.diag()
    r.kill(signal.SIGTERM)
    assert r.wait() == 143, r.diag()


@pytest.mark.parametrize("how", ["env", "flag-w"])
def test_tini_verbosity_and_w_report_reaped_orphans(run, pid1, how):
    env, args = {}, []
    if how == "env":
        env = {"TINI_VERBOSITY": "2"}
    else:
        args = ["-w"]
    r = run(args + ["--", helper("orphans"), "5"], env=env, pid1=pid1)
    assert r.wait() == 0, r.diag()
    assert len(named(r.events(), "reaped")) == 5, r.diag()


def test_tini_verbosity_default_reports_nothing_more(run):
    r = run(["--", helper("orphans"), "5"], env={"TINI_VERBOSITY": "1"})
    assert r.wait() == 0, r.diag()
    assert not named(r.events(), "reaped"), r.diag()


def test_tini_verbosity_bad_value_is_64():
    p = agent(["--", "/bin/true"], env={"TINI_VERBOSITY": "loud"})
    assert p.returncode == 64, p
    assert "TINI_VERBOSITY" in p.stderr, p.stderr


@pytest.mark.parametrize("flags", [["-s"], ["--single-child"], ["-s", "-g"]])
def test_accepted_compat_flags(run, pid1, flags):
    r = run(flags + ["--", helper("orphans"), "3"], pid1=pid1,
            env={"TINI_SUBREAPER": ""})
    assert r.wait() == 0, r.diag()
    check_event_stream(r.stdout(), 0)


def test_tini_style_without_double_dash(run, pid1):
    # tini -s -e 3 CMD: the options end at the first word that is not one.
    r = run(["-s", "-e", "3", helper("exitwith"), "3"], pid1=pid1)
    assert r.wait() == 0, r.diag()
