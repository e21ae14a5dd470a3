"""Security review (issue 7; SECURITY.md): secrets never leave agent-init
through its own outputs, and the files it creates are not redirected by
what a service planted.

test_own_files.py covers a FIFO at the ready file and a symlink at the
termination log; test_control.py the socket's mode and a client of
another uid.  Here: a known secret grepped across every output, a hard
link at the ready file, a symlink at the control socket and at its
directory, a directory another uid owns, and the modes of what we make."""
import json
import os
import shutil
import signal
import subprocess
import tempfile

import pytest

from harness import AGENT_INIT, clean_env, poll
from suputil import agent, named, new_netns, short_dir, touch, write_conf

SECRET_PW = "Pw-9f2c41d7e3"
SECRET_ENV = "Tok-5be08a6c11"
NOBODY = 65534


@pytest.fixture
def sockdir():
    d = short_dir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


PROXIES = {
    # unreachable: nothing listens on 127.0.0.1:9 in the run's netns
    "unreachable": {"HTTPS_PROXY": "http://agent:%s@127.0.0.1:9" % SECRET_PW},
    # two spellings that differ: the `mismatch` detail names both
    "mismatch": {"HTTPS_PROXY": "http://agent:%s@127.0.0.1:9" % SECRET_PW,
                 "https_proxy": "http://agent:%sx@127.0.0.1:8" % SECRET_PW},
    # an URL that does not parse: `bad_url` must not echo it raw
    "bad_url": {"HTTPS_PROXY": "http://agent:%s@[::1:80" % SECRET_PW},
    "all_proxy": {"ALL_PROXY": "socks5://agent:%s@127.0.0.1:9" % SECRET_PW},
}


@pytest.mark.parametrize("case", sorted(PROXIES))
def test_secrets_never_in_any_output(run, tmp_path, sockdir, case):
    # Proxy credentials (in the environment agent-init checks) and `env`
    # values of services are in play while: the checks report, services
    # start, wait, fail to start, fail, `status` is asked, the termination
    # log is written, `netcheck` runs (table and JSON).  None of what
    # agent-init writes may contain either secret.
    sock = os.path.join(sockdir, "ctl.sock")
    gate = tmp_path / "gate"
    tlog = tmp_path / "tlog"
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.1\n")
    evpath = str(tmp_path / "events")
    conf = write_conf(tmp_path / "c.conf", """\
[init]
control_socket = %(sock)s
termination_log = %(tlog)s
[check proxy]
[check resolver]
resolv_conf = %(resolv)s
[service app]
command = {H}/svcact o:working gate:%(gate)s.end 'e:giving up' x:3
env = API_TOKEN=%(env)s 'OTHER=a %(env)s b'
env = DB_URL=postgres://u:%(env)s@db/x
ready = file:%(gate)s
main = yes
[service broken]
command = /nonexistent/agent-less
env = API_TOKEN=%(env)s
""" % {"sock": sock, "tlog": tlog, "resolv": resolv,
       "gate": gate, "env": SECRET_ENV})
    env = dict(PROXIES[case])
    env["AGENT_INIT_NO_CHECKS"] = None
    r = run(["-v", "-c", conf, "--events", "file:" + evpath], env=env,
            preexec_fn=new_netns, events_path=evpath)
    r.wait_event("checks")
    r.wait_event("service_failed", service="broken")
    r.wait_line("app| working")
    outputs = {}
    outputs["status (waiting)"] = agent(["status", "--socket", sock]).stdout
    touch(gate)
    r.wait_event("service_ready", service="app")
    outputs["status (app ready)"] = agent(["status", "--socket",
                                           sock]).stdout
    touch(str(gate) + ".end")
    assert r.wait() == 3, r.diag()
    outputs["stdout"] = r.stdout()
    outputs["stderr"] = r.stderr()
    outputs["events"] = r.events_text()
    outputs["termination log"] = tlog.read_text()
    nc = subprocess.run([AGENT_INIT, "netcheck", "-c", conf], env=clean_env(
        env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=60, preexec_fn=new_netns)
    ncj = subprocess.run([AGENT_INIT, "netcheck", "--json", "-c", conf],
                         env=clean_env(env), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=60,
                         preexec_fn=new_netns)
    outputs["netcheck"] = nc.stdout
    outputs["netcheck --json"] = ncj.stdout
    # The outputs are real: the things we looked for are in them.
    ev = r.events()
    proxy = [e for e in ev if e["agent_init"] == "check" and
             e["check"] == "proxy"]
    assert proxy and proxy[0]["status"] != "skip", proxy
    assert "giving up" in outputs["termination log"]
    assert '"services"' in outputs["status (app ready)"]
    assert named(ev, "service_failed", service="broken")
    assert "proxy" in outputs["netcheck"]
    for name, text in outputs.items():
        for secret in (SECRET_PW, SECRET_ENV):
            assert secret not in text, "%s leaks %s:\n%s" % (
                name, secret, "\n".join(
                    l for l in text.splitlines() if secret in l)[:2000])
    assert proxy[0]["target"].count("***") >= 1 or case == "bad_url", proxy


# --- files agent-init creates ---------------------------------------------------

def _conf(tmp_path, **init):
    text = "[init]\n" + "".join("%s = %s\n" % kv for kv in init.items())
    return write_conf(tmp_path / "s.conf", text + """\
[service app]
command = {H}/svcact 'e:failure' x:4
main = yes
""")


def test_hard_link_at_ready_file_is_not_written_through(run, tmp_path):
    # O_NOFOLLOW does not see a hard link: without a check, the "ready"
    # write would truncate the linked file.
    precious = tmp_path / "precious"
    precious.write_text("keep me\n")
    ready = tmp_path / "ready"
    os.link(str(precious), str(ready))
    r = run(["-c", _conf(tmp_path, ready_file=ready)])
    assert r.wait() == 4, r.diag()
    assert precious.read_text() == "keep me\n"
    warn = named(r.events(), "warning", what="ready_file")
    assert warn and warn[0]["path"] == str(ready), r.diag()


def test_hard_link_at_termination_log_is_not_written_through(run, tmp_path):
    precious = tmp_path / "precious"
    precious.write_text("keep me\n")
    tlog = tmp_path / "tlog"
    os.link(str(precious), str(tlog))
    r = run(["-c", _conf(tmp_path, termination_log=tlog)])
    assert r.wait() == 4, r.diag()
    assert precious.read_text() == "keep me\n"
    assert named(r.events(), "warning", what="termination_log"), r.diag()


def test_modes_of_what_agent_init_creates(run, tmp_path, sockdir):
    sub = os.path.join(sockdir, "made")  # agent-init makes this directory
    sock = os.path.join(sub, "ctl.sock")
    ready, tlog = tmp_path / "ready", tmp_path / "tlog"
    conf = write_conf(tmp_path / "s.conf", """\
[init]
control_socket = %s
ready_file = %s
termination_log = %s
[service app]
command = {H}/svcact gate:%s 'e:failure' x:4
main = yes
""" % (sock, ready, tlog, tmp_path / "gate"))
    # A permissive umask must not widen anything.
    r = run(["-c", conf], preexec_fn=lambda: os.umask(0))
    r.wait_event("ready")
    assert os.stat(sock).st_mode & 0o777 == 0o600
    assert os.stat(sub).st_mode & 0o777 == 0o755
    assert os.stat(str(ready)).st_mode & 0o777 == 0o644
    touch(tmp_path / "gate")
    assert r.wait() == 4, r.diag()
    # The termination log holds the last lines of a service's output:
    # for the orchestrator (root), not for the other services.
    assert os.stat(str(tlog)).st_mode & 0o777 == 0o600
    assert "failure" in tlog.read_text()


def _control_run(run, tmp_path, sock):
    conf = write_conf(tmp_path / "c.conf", """\
[init]
control_socket = %s
[service a]
command = {H}/svcact wait
""" % sock)
    r = run(["-c", conf])
    r.wait_event("ready")
    return r


def test_symlink_at_control_socket_path(run, tmp_path, sockdir):
    # A symlink where the socket goes, to a place the service chose: the
    # socket is not made there, the link stays, agent-init says so and
    # runs on.
    elsewhere = tempfile.mkdtemp(prefix="ai-else-", dir="/tmp")
    try:
        sock = os.path.join(sockdir, "ctl.sock")
        os.symlink(os.path.join(elsewhere, "ctl.sock"), sock)
        r = _control_run(run, tmp_path, sock)
        warn = named(r.events(), "warning", what="control_socket")
        assert warn, r.diag()
        assert os.listdir(elsewhere) == []
        assert os.path.islink(sock)
        r.kill(signal.SIGTERM)
        assert r.wait() == 0, r.diag()
        assert os.path.islink(sock)
    finally:
        shutil.rmtree(elsewhere, ignore_errors=True)


def test_control_socket_directory_planted_by_another_uid(run, tmp_path,
                                                         sockdir):
    # The socket's directory is a symlink another uid made, or a
    # directory another uid owns: whoever owns it could swap our socket
    # for theirs and answer `status` for us.  Refused, with a warning;
    # agent-init runs on without a control socket.
    evil = tempfile.mkdtemp(prefix="ai-evil-", dir="/tmp")
    try:
        os.chown(evil, NOBODY, NOBODY)
        link = os.path.join(sockdir, "run")
        os.symlink(evil, link)
        os.lchown(link, NOBODY, NOBODY)
        r = _control_run(run, tmp_path, os.path.join(link, "ctl.sock"))
        warn = named(r.events(), "warning", what="control_socket")
        assert warn and "unsafe" in warn[0]["detail"], r.diag()
        assert os.listdir(evil) == []
        r.kill(signal.SIGTERM)
        assert r.wait() == 0, r.diag()

        # The directory itself, owned by nobody.
        r = _control_run(run, tmp_path, os.path.join(evil, "ctl.sock"))
        warn = named(r.events(), "warning", what="control_socket")
        assert warn and "unsafe" in warn[0]["detail"], r.diag()
        assert os.listdir(evil) == []
        r.kill(signal.SIGTERM)
        assert r.wait() == 0, r.diag()

        # Ours but writable by all (not sticky).
        os.chown(evil, 0, 0)
        os.chmod(evil, 0o777)
        r = _control_run(run, tmp_path, os.path.join(evil, "ctl.sock"))
        assert named(r.events(), "warning", what="control_socket"), r.diag()
        assert os.listdir(evil) == []
        r.kill(signal.SIGTERM)
        assert r.wait() == 0, r.diag()
    finally:
        shutil.rmtree(evil, ignore_errors=True)


def test_control_socket_in_sticky_tmp_and_root_symlink_accepted(
        run, tmp_path, sockdir):
    # What stays allowed: a sticky world-writable directory (only the
    # socket's owner may remove it there), and a symlink of root's own
    # (as /var/run -> /run).
    sticky = tempfile.mkdtemp(prefix="ai-sticky-", dir="/tmp")
    try:
        os.chmod(sticky, 0o1777)
        sock = os.path.join(sticky, "ctl.sock")
        r = _control_run(run, tmp_path, sock)
        assert not named(r.events(), "warning"), r.diag()
        assert json.loads(agent(["status", "--socket", sock]).stdout)[
            "healthy"] is True
        r.kill(signal.SIGTERM)
        assert r.wait() == 0, r.diag()
        link = os.path.join(sockdir, "run")
        os.symlink(sticky, link)
        sock = os.path.join(link, "ctl.sock")
        r = _control_run(run, tmp_path, sock)
        assert not named(r.events(), "warning"), r.diag()
        poll(lambda: agent(["status", "--socket", sock]).returncode == 0,
             what="status through root's symlink", diag=r.diag)
        r.kill(signal.SIGTERM)
        assert r.wait() == 0, r.diag()
    finally:
        shutil.rmtree(sticky, ignore_errors=True)


def test_termination_log_of_another_uid_is_not_filled(run, tmp_path):
    # A file a service running as another uid made at the path: it is not
    # agent-init's to fill with the services' output.
    tlog = tmp_path / "tlog"
    tlog.write_text("")
    os.chown(str(tlog), 65534, 65534)
    r = run(["-c", _conf(tmp_path, termination_log=tlog)])
    assert r.wait() == 4, r.diag()
    assert tlog.read_text() == ""
    warn = named(r.events(), "warning", what="termination_log")
    assert warn and "not permitted" in warn[0]["detail"], r.diag()


def test_old_termination_log_of_ours_gets_todays_mode(run, tmp_path):
    tlog = tmp_path / "tlog"
    tlog.write_text("old\n")
    os.chmod(str(tlog), 0o644)
    r = run(["-c", _conf(tmp_path, termination_log=tlog)])
    assert r.wait() == 4, r.diag()
    assert os.stat(str(tlog)).st_mode & 0o777 == 0o600
    assert "failure" in tlog.read_text()
