"""version, help and check-config (issue items 10 and 12)."""
import re
import struct

import pytest

import harness

VERSION_RE = re.compile(
    r"^agent-init \d+\.\d+\.\d+\S* (\S+) \(libseccomp \d+\.\d+\.\d+, "
    r"libcap-ng \d+\.\d+(\.\d+)?, inih \d+\)$")
# e_machine of the ELF header, as uname -m names the architecture.
ELF_MACHINES = {62: "x86_64", 183: "aarch64"}


def elf_arch(path):
    with open(path, "rb") as f:
        head = f.read(20)
    assert head[:4] == b"\x7fELF", path
    return ELF_MACHINES.get(struct.unpack("<H", head[18:20])[0], "unknown")


@pytest.mark.parametrize("args", [["--version"], ["-V"], ["version"]],
                         ids=["--version", "-V", "version"])
def test_version(run, args):
    r = run(args, pid1=False)
    assert r.wait() == 0, r.diag()
    out = r.stdout().splitlines()
    assert len(out) == 1 and VERSION_RE.match(out[0]), out
    # The architecture named is the one the binary was built for.
    assert VERSION_RE.match(out[0]).group(1) == \
        elf_arch(harness.AGENT_INIT), out
    assert r.stderr() == ""


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["help"]],
                         ids=["--help", "-h", "help"])
def test_help(run, args):
    r = run(args, pid1=False)
    assert r.wait() == 0, r.diag()
    out = r.stdout()
    assert "usage" in out.lower(), out
    assert "--stop-timeout" in out, out
    assert '{"agent_init"' not in out


def check_config(run, *files):
    r = run(["check-config", *map(str, files)], pid1=False)
    return r, r.wait()


def test_check_config_good(run, tmp_path):
    conf = tmp_path / "good.conf"
    conf.write_text("[init]\nstop_timeout = 2s\n")
    r, status = check_config(run, conf)
    assert status == 0, r.diag()
    assert '{"agent_init"' not in r.stdout()


@pytest.mark.parametrize("text,line", [
    ("[init]\nstop_timeout = 2s\nno_such_key = 1\n", 3),
    ("[init]\nstop_timeout = forever\n", 2),
    ("[no_such_section]\n", 1),
], ids=["unknown-key", "bad-value", "unknown-section"])
def test_check_config_bad(run, tmp_path, text, line):
    conf = tmp_path / "bad.conf"
    conf.write_text(text)
    r, status = check_config(run, conf)
    assert status == 78, r.diag()
    err = r.stderr().splitlines()
    assert err and err[0].startswith("%s:%d:" % (conf, line)), err


@pytest.mark.parametrize("nfiles", [0, 2])
def test_check_config_usage(run, tmp_path, nfiles):
    conf = tmp_path / "good.conf"
    conf.write_text("[init]\n")
    r, status = check_config(run, *[conf] * nfiles)
    assert status == 64, r.diag()
    assert len(r.stderr().splitlines()) == 1, r.diag()


def test_bad_config_file_stops_before_starting(run, tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("[init]\nno_such_key = 1\n")
    marker = tmp_path / "started"
    r = run(["-c", str(conf), "--", "/bin/sh", "-c", "touch %s" % marker])
    assert r.wait() == 78, r.diag()
    assert "%s:2:" % conf in r.stderr(), r.diag()
    assert not marker.exists()
    assert r.stdout() == "", r.diag()
