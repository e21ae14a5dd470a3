"""Files agent-init writes (ready_file, termination_log) when a service
planted something at their paths: PID 1 never blocks on a FIFO, never
writes through a symlink, and never removes what it did not create."""
import os

from suputil import named, write_conf


def _conf(tmp_path, ready, tlog, command="{H}/svcact s:300 x:3"):
    return write_conf(tmp_path / "s.conf", """\
[init]
ready_file = %s
termination_log = %s
[service app]
command = %s
main = yes
""" % (ready, tlog, command))


def test_fifo_at_ready_file_does_not_block_pid1(run, tmp_path):
    fifo = tmp_path / "ready"
    os.mkfifo(str(fifo))
    r = run(["-c", _conf(tmp_path, fifo, tmp_path / "tlog")])
    # Without O_NONBLOCK the open would wait for a reader for ever, and
    # the service's exit would never be seen.
    assert r.wait(20) == 3, r.diag()
    ev = r.events()
    warn = named(ev, "warning", what="ready_file")
    assert warn and warn[0]["path"] == str(fifo), ev
    # Not ours: left where it was at shutdown.
    assert os.path.exists(str(fifo))
    assert named(ev, "ready")


def test_symlink_at_termination_log_is_not_followed(run, tmp_path):
    target = tmp_path / "precious"
    target.write_text("keep me\n")
    link = tmp_path / "tlog"
    os.symlink(str(target), str(link))
    r = run(["-c", _conf(tmp_path, tmp_path / "ready", link,
                         "{H}/svcact 'e:secret failure' x:4")])
    assert r.wait(20) == 4, r.diag()
    assert target.read_text() == "keep me\n"
    assert os.path.islink(str(link))
    warn = named(r.events(), "warning", what="termination_log")
    assert warn, r.diag()


def test_ready_file_made_and_removed(run, tmp_path):
    ready = tmp_path / "ready"
    gate = tmp_path / "gate"
    r = run(["-c", _conf(tmp_path, ready, tmp_path / "tlog",
                         "{H}/svcact gate:%s x:3" % gate)])
    r.wait_event("ready")
    assert ready.read_text() == "ready\n"
    assert oct(os.stat(str(ready)).st_mode & 0o777) == oct(0o644)
    gate.write_text("")
    assert r.wait(20) == 3, r.diag()
    assert not ready.exists()
