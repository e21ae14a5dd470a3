"""The HTTP probe endpoint (issue 17; `http_listen = ADDR:PORT`): /readyz
is `status --quiet`, /livez is PID 1 answering, /status the document;
200 or 503; any other path 404, any other method 405, HTTP/1.1 only, a
bounded request head, a bounded number of connections that never turns
a probe into a false failure, nothing that acts.  agent-init runs in a
network namespace of its own; the clients (curl, raw sockets) join it
with nsenter: nothing here leaves loopback."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from harness import AGENT_INIT, clean_env, poll
from suputil import new_netns, short_dir, touch, write_conf

PORT = 18081

RAW = r"""
import os, socket, sys, time
host, port, data, hold = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
c = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
c.settimeout(20)
c.connect((host, port))
if data:
    c.sendall(bytes.fromhex(data))
time.sleep(hold)
out = b""
while True:
    b = c.recv(65536)
    if not b:
        break
    out += b
os.write(1, out)
"""


@pytest.fixture
def sockdir():
    d = short_dir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


def start(run, tmp_path, sockdir, services, listen="127.0.0.1:%d" % PORT):
    sock = os.path.join(sockdir, "ctl.sock")
    conf = write_conf(tmp_path / "c.conf", "[init]\ncontrol_socket = %s\n"
                      "http_listen = %s\n%s" % (sock, listen, services))
    r = run(["-c", conf], preexec_fn=new_netns)
    poll(lambda: os.path.exists(sock), what="the control socket",
         diag=r.diag)
    return r, sock


def netns(r):
    return ["nsenter", "--net=/proc/%d/ns/net" % r.init_pid()]


def curl(r, path, *args, host="127.0.0.1"):
    """(status, body) of curl in agent-init's network namespace."""
    p = subprocess.run(netns(r) + [
        "curl", "-sS", "--max-time", "20", "-o", "-", "-w",
        "\n%{http_code}", *args, "http://%s:%d%s" % (host, PORT, path)],
        capture_output=True, text=True, env=clean_env(), timeout=30)
    assert p.returncode == 0, p.stderr
    body, _, code = p.stdout.rpartition("\n")
    return int(code), body.rstrip("\n")


def raw(r, data, hold=0.0, host="127.0.0.1"):
    """Send bytes as they are; what comes back until the server closes."""
    p = subprocess.run(netns(r) + [sys.executable, "-c", RAW, host,
                                   str(PORT), data.hex(), str(hold)],
                       capture_output=True, env=clean_env(), timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.decode("latin-1")


def status_line(text):
    return text.split("\r\n", 1)[0]


GATED = """\
[service web]
command = {H}/svcact wait
ready = file:%s
[service side]
command = {H}/svcact wait
"""


def test_probes_before_and_after_ready(run, tmp_path, sockdir):
    gate = tmp_path / "gate"
    r, sock = start(run, tmp_path, sockdir, GATED % gate)
    r.wait_event("service_start", service="web")
    assert curl(r, "/readyz") == (503, "not ready yet")
    assert curl(r, "/livez") == (200, "ok")
    code, body = curl(r, "/status")
    st = json.loads(body)
    assert code == 503 and st["ready"] is False and st["healthy"] is False
    assert {s["name"]: s["state"] for s in st["services"]} == {
        "web": "starting", "side": "ready"}
    touch(gate)
    r.wait_event("ready")
    assert curl(r, "/readyz") == (200, "ok")
    code, body = curl(r, "/status?pretty")
    st = json.loads(body)
    assert code == 200 and st["healthy"] is True, st
    # Nothing for operators only: no output tails, no causes.
    assert all(set(s) <= {"name", "state", "pid", "ready", "main",
                          "required", "attempt", "restarts", "last_exit",
                          "reason"} for s in st["services"]), st
    # A stopped service: not ready; started again: ready.
    assert subprocess.run([AGENT_INIT, "ctl", "--socket", sock, "stop",
                           "side"], env=clean_env()).returncode == 0
    assert curl(r, "/readyz") == (503, "a service is not ready now")
    assert curl(r, "/livez") == (200, "ok")
    assert subprocess.run([AGENT_INIT, "ctl", "--socket", sock, "start",
                           "side"], env=clean_env()).returncode == 0
    assert curl(r, "/readyz") == (200, "ok")
    # HEAD: the same status, no body.
    out = raw(r, b"HEAD /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status_line(out) == "HTTP/1.1 200 OK", out
    assert out.endswith("\r\n\r\n") and "Content-Length: 3\r\n" in out, out
    # The sandbox shutting down: not ready, still alive until the end.
    assert not [e for e in r.events() if e["agent_init"] == "warning"]


def test_nothing_else(run, tmp_path, sockdir):
    r, _ = start(run, tmp_path, sockdir, "[service a]\ncommand = "
                 "{H}/svcact wait\n")
    r.wait_event("ready")
    assert curl(r, "/nope")[0] == 404
    assert curl(r, "/")[0] == 404
    for method in ("POST", "PUT", "DELETE"):
        code, _ = curl(r, "/readyz", "-X", method)
        assert code == 405, method
    out = raw(r, b"POST /stop HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    assert status_line(out) == "HTTP/1.1 405 Method Not Allowed", out
    assert "Allow: GET, HEAD\r\n" in out
    assert curl(r, "/readyz", "--http1.0")[0] == 505
    assert status_line(raw(r, b"GET /readyz\r\n\r\n")) == \
        "HTTP/1.1 400 Bad Request"
    assert status_line(raw(r, b"GET /readyz HTTP/1.1\r\n\r\n")) == \
        "HTTP/1.1 400 Bad Request"  # no Host
    assert status_line(raw(r, b"\x00\xff garbage\r\n\r\n")) == \
        "HTTP/1.1 400 Bad Request"
    big = b"GET /readyz HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 5000 + \
        b"\r\n\r\n"
    assert status_line(raw(r, big)) == \
        "HTTP/1.1 431 Request Header Fields Too Large"
    # A bare LF is a line end too (RFC 9112 2.2).
    out = raw(r, b"GET /livez HTTP/1.1\nHost: x\n\n")
    assert status_line(out) == "HTTP/1.1 200 OK" and out.endswith("ok\n")
    # Every answer closes the connection.
    assert "Connection: close\r\n" in out
    # Nothing acted on the services; PID 1 is fine.
    ev = r.events()
    assert not [e for e in ev if e["agent_init"] in (
        "service_exit", "control", "shutdown")], ev


def test_bounded_connections_never_refuse_a_probe(run, tmp_path, sockdir):
    """16 clients that send nothing hold every place; a probe then waits
    in the backlog (it is not refused, and gets no false 503) and is
    answered once an idle one times out (2 s)."""
    r, _ = start(run, tmp_path, sockdir, "[service a]\ncommand = "
                 "{H}/svcact wait\n")
    r.wait_event("ready")
    idle = [subprocess.Popen(netns(r) + [sys.executable, "-c", RAW,
                                         "127.0.0.1", str(PORT), "", "0"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=clean_env())
            for _ in range(16)]
    try:
        # Each idle one is closed by the server after 2 s, answered with
        # nothing at all.
        assert curl(r, "/livez") == (200, "ok")
        for p in idle:
            out, err = p.communicate(timeout=30)
            assert p.returncode == 0 and out == "", (out, err)
    finally:
        for p in idle:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert curl(r, "/readyz") == (200, "ok")


def test_listens_only_where_told(run, tmp_path, sockdir):
    r, _ = start(run, tmp_path, sockdir, "[service a]\ncommand = "
                 "{H}/svcact wait\n", listen="[::1]:%d" % PORT)
    r.wait_event("ready")
    assert curl(r, "/livez", host="[::1]") == (200, "ok")
    p = subprocess.run(netns(r) + ["curl", "-sS", "--max-time", "5",
                                   "http://127.0.0.1:%d/livez" % PORT],
                       capture_output=True, text=True, env=clean_env())
    assert p.returncode == 7, p.stderr  # could not connect


def test_address_in_use_is_a_warning(run, tmp_path, sockdir):
    # Another listener has the port first: a warning, the rest runs.
    r, sock = start(run, tmp_path, sockdir, """\
[service holder]
command = {H}/tcplisten 127.0.0.1:%d
[service a]
command = {H}/svcact wait
after = holder
""" % PORT, listen="127.0.0.1:%d" % (PORT + 1))
    r.wait_event("ready")
    conf = write_conf(tmp_path / "d.conf", "[init]\ncontrol_socket =\n"
                      "http_listen = 127.0.0.1:%d\n[service a]\ncommand = "
                      "{H}/svcact wait\n" % PORT)
    p = subprocess.Popen(netns(r) + [AGENT_INIT, "-c", conf],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=clean_env())
    try:
        def warned():
            line = p.stdout.readline()
            return line if '"warning"' in line else None
        w = json.loads(poll(warned, what="the http_listen warning"))
        assert w["what"] == "http_listen" and "in use" in w["error"], w
    finally:
        p.kill()
        p.communicate()
