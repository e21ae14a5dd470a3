"""Notify sockets (issue 13 items 11 and 12): names no other service can
take first and no other agent-init collides with, READY=1 only from a
sender alive in the service's process group when it is read, and
BARRIER=1 honoured, so that Debian's systemd-notify from a script service
works."""
import os
import re
import shutil
import signal

from harness import poll
from suputil import assert_never, named, short_dir, touch, write_conf

PY = shutil.which("python3") or "/usr/bin/python3"


def notify_socket_of(r, service):
    """The NOTIFY_SOCKET a service printed (svcact env:NOTIFY_SOCKET)."""
    m = r.wait_line(re.compile(r"%s\| env NOTIFY_SOCKET=(@.*)$" % service))
    return m.group(1)


def test_notify_names_are_random(run, tmp_path):
    # Not the predictable @agent-init/PID/NAME of before: 128 random
    # bits, different for each service and each agent-init.
    conf = write_conf(tmp_path / "c.conf", """\
[service a]
command = {H}/svcact env:NOTIFY_SOCKET notify:READY=1 wait
ready = notify
[service b]
command = {H}/svcact env:NOTIFY_SOCKET notify:READY=1 wait
ready = notify
""")
    r = run(["-c", conf])
    a, b = notify_socket_of(r, "a"), notify_socket_of(r, "b")
    r.wait_event("ready")
    assert re.match(r"^@agent-init-[0-9a-f]{32}/a$", a), a
    assert re.match(r"^@agent-init-[0-9a-f]{32}/b$", b), b
    assert a.split("/")[0] != b.split("/")[0]
    r.kill(signal.SIGTERM)
    assert r.wait() == 0, r.diag()


def test_a_service_cannot_take_a_later_services_notify_name(run, tmp_path):
    # A service (here: python, no privilege needed) binds the name the
    # next service's notify socket used to get, before that one starts.
    # Before the fix that start failed ("notify socket: Address in use");
    # a required one exited 70.
    squat = ("import socket,time; s=socket.socket(socket.AF_UNIX, "
             "socket.SOCK_DGRAM); s.bind('\\0agent-init/1/victim'); "
             "print('bound', flush=True); time.sleep(60)")
    conf = write_conf(tmp_path / "c.conf", """\
[service squatter]
command = %s -c "%s"
ready = log:bound
[service victim]
command = {H}/svcact notify:READY=1 wait
ready = notify
after = squatter
required = yes
""" % (PY, squat))
    r = run(["-c", conf])
    r.wait_event("service_ready", service="victim")
    assert not named(r.events(), "service_failed"), r.diag()
    r.kill(signal.SIGTERM)
    assert r.wait() == 0, r.diag()


def test_two_agent_inits_in_one_network_namespace(run, tmp_path):
    # Two PID 1s in the same network namespace (one pod, `--network
    # container:X`): before the fix both named their socket
    # @agent-init/1/web and the second one's start failed.
    conf = write_conf(tmp_path / "c.conf", """\
[service web]
command = {H}/svcact notify:READY=1 wait
ready = notify
required = yes
""")
    first = run(["-c", conf])
    first.wait_event("ready")
    second = run(["-c", conf])
    second.wait_event("ready")
    for r in (first, second):
        r.kill(signal.SIGTERM)
        assert r.wait() == 0, r.diag()


def test_ready_from_an_exited_sender_of_another_group_is_dropped(
        run, tmp_path):
    # A short-lived process of another service (same uid, another
    # process group) sends READY=1 to the victim's socket and exits before
    # agent-init reads it (agent-init is stopped meanwhile, so the order
    # is certain).  Before the fix a sender that was gone was judged by
    # its uid alone, and the victim became ready.
    d = short_dir()  # short paths: the old line limit was 198
    sockfile, gate, sent = (os.path.join(d, n) for n in ("s", "g", "t"))
    conf = write_conf(tmp_path / "c.conf", """\
[service victim]
command = {H}/svcact env:NOTIFY_SOCKET wait
ready = notify
ready_timeout = 60s
[service spoofer]
command = sh -c 'until [ -e %s ]; do sleep .05; done; NOTIFY_SOCKET=$(cat %s) {H}/svcact notify:READY=1; touch %s; exec sleep 60'
""" % (gate, sockfile, sent))
    r = run(["-c", conf])
    with open(sockfile, "w") as f:
        f.write(notify_socket_of(r, "victim"))
    init = r.init_pid()
    os.kill(init, signal.SIGSTOP)
    try:
        touch(gate)
        # The sender ran and was reaped by its shell: gone.
        poll(lambda: os.path.exists(sent), what="the spoofed READY=1 sent")
    finally:
        os.kill(init, signal.SIGCONT)
    assert_never(r, "service_ready", 1.5, service="victim")
    r.kill(signal.SIGTERM)
    r.wait()
    shutil.rmtree(d, ignore_errors=True)


def test_systemd_notify_ready_from_a_script_service(run, tmp_path):
    # Debian's systemd-notify: it sends READY=1, then BARRIER=1 with a
    # descriptor, and waits (5 s at most) until that descriptor is
    # closed, i.e. until READY=1 was handled; so it is alive, in the
    # service's group, when its datagram is read.  `notify-ok` comes
    # only when it returns 0 (its barrier honoured).
    assert shutil.which("systemd-notify"), "systemd-notify (package systemd)"
    conf = write_conf(tmp_path / "c.conf", """\
[service script]
command = /bin/sh -c 'echo starting; systemd-notify --ready --status=warm && echo notify-ok || echo notify-failed $?; exec sleep 60'
ready = notify
ready_timeout = 20s
main = yes
""")
    r = run(["-c", conf])
    r.wait_event("service_ready", service="script")
    r.wait_line("script| notify-ok")
    r.kill(signal.SIGTERM)
    assert r.wait() == 128 + signal.SIGTERM, r.diag()
