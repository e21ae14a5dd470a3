"""The manual page agent-init(8), docs/agent-init.8: it renders without a
warning, and it cannot drift from the code.  Every option `agent-init
--help` lists, every key the configuration parser accepts (asked of the
binary itself, section by section) and every event the sources write has
its own entry (a .TP tag) in the right part of the page; and every key
the page documents is one the parser accepts."""
import glob
import os
import re
import subprocess

import pytest

import harness
from suputil import agent

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MANPAGE = os.path.join(REPO, "docs", "agent-init.8")


def test_man_renders_without_warnings():
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    p = subprocess.run(["man", "--warnings", "-l", MANPAGE], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stderr == "", p.stderr
    for head in ("NAME", "SYNOPSIS", "OPTIONS", "COMMANDS", "CONFIGURATION",
                 "EVENTS", "EXIT STATUS"):
        assert re.search(r"^%s$" % head, p.stdout, re.M), head


# --- the page's entries ---------------------------------------------------

def unescape(line):
    """The words of a tag line of man(7) source."""
    line = re.sub(r"^\.[A-Z]{1,2}\s*", "", line)
    line = re.sub(r"\\f[BIRP]", "", line)
    line = line.replace("\\-", "-").replace("\\&", "").replace('"', " ")
    return [w for w in re.split(r"[\s,|/]+", line) if w]


def entries():
    """{(section, subsection): set of words of its .TP tags}."""
    out = {}
    sh = ss = ""
    lines = open(MANPAGE).read().splitlines()
    for i, line in enumerate(lines):
        if line.startswith(".SH "):
            sh, ss = line[4:].strip('"'), ""
        elif line.startswith(".SS "):
            ss = line[4:].strip('"')
        elif line == ".TP" and i + 1 < len(lines):
            out.setdefault((sh, ss), set()).update(unescape(lines[i + 1]))
    return out


def tags(sh, ss=""):
    return entries().get((sh, ss), set())


def tags_like(sh, ss_prefix):
    out = set()
    for (s, ss), words in entries().items():
        if s == sh and ss.startswith(ss_prefix):
            out |= words
    return out


# --- options --------------------------------------------------------------

def help_options():
    p = agent(["--help"])
    assert p.returncode == 0, p.stderr
    opts = set()
    for line in p.stdout.splitlines():
        if re.match(r"^\s+-", line):
            head = re.split(r"\s{2,}", line.strip())[0]
            opts.update(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", head))
    return opts


def test_help_lists_options():
    opts = help_options()
    assert {"-c", "--config", "--stop-timeout", "-V", "--version"} <= opts, \
        opts


def table_options():
    """The option table of core/args.c: '-x' and '--long' of each entry
    (an option --help does not list, e.g. --dockerd, is still one)."""
    src = open(os.path.join(REPO, "core", "args.c")).read()
    opts = set()
    for short, long_ in re.findall(
            r"\{\s*OPT_\w+,\s*(?:'(\w)'|0),\s*(?:\"([\w-]+)\"|NULL)", src):
        if short:
            opts.add("-" + short)
        if long_:
            opts.add("--" + long_)
    return opts


def test_every_help_option_is_in_the_man_page():
    missing = sorted(help_options() - tags("OPTIONS"))
    assert not missing, "options of --help missing from OPTIONS in %s: %s" % (
        MANPAGE, missing)


def test_every_option_of_the_table_is_in_the_man_page():
    opts = table_options()
    assert {"-c", "--config", "--dockerd", "-V"} <= opts, opts
    missing = sorted(opts - tags("OPTIONS"))
    assert not missing, "options of core/args.c missing from OPTIONS: %s" % (
        missing)


# --- configuration keys -----------------------------------------------------

def literals():
    """Every lowercase word in a string literal of the parser's source."""
    src = open(os.path.join(REPO, "core", "config.c")).read()
    return sorted(set(re.findall(r'"([a-z][a-z0-9_]*)"', src)))


def check_config(tmp_path, text):
    path = tmp_path / "probe.conf"
    path.write_text(text)
    p = agent(["check-config", str(path)])
    return p.returncode, p.stderr


def accepted(tmp_path, section, key, prelude=""):
    _, err = check_config(tmp_path, "[%s]\n%s%s = x\n" % (section, prelude,
                                                           key))
    return "unknown key" not in err and "unknown section" not in err


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """{"init": keys, "service": keys, "check TYPE": keys}, as the binary
    accepts them; the candidates are the literals of core/config.c."""
    tmp = tmp_path_factory.mktemp("keys")
    words = literals()
    types = [w for w in words
             if "unknown check type" not in check_config(
                 tmp, "[check %s]\n" % w)[1]]
    assert {"resolver", "tcp", "proxy"} <= set(types), types
    out = {"init": {w for w in words if accepted(tmp, "init", w)},
           "service": {w for w in words
                       if accepted(tmp, "service s", w, "command = /bin/true\n")}}
    for t in types:
        out["check " + t] = {w for w in words if accepted(tmp, "check " + t, w)}
    assert {"stop_timeout", "checks"} <= out["init"], out
    assert {"command", "ready", "seccomp"} <= out["service"], out
    return out


def test_every_init_key_is_in_the_man_page(keys):
    missing = sorted(keys["init"] - tags("CONFIGURATION", "[init]"))
    assert not missing, missing


def test_every_service_key_is_in_the_man_page(keys):
    missing = sorted(keys["service"] - tags("CONFIGURATION", "[service NAME]"))
    assert not missing, missing


def test_every_check_key_is_in_the_man_page(keys):
    documented = tags_like("CONFIGURATION", "[check")
    missing = sorted({k for sect, ks in keys.items()
                      if sect.startswith("check ") for k in ks} - documented)
    assert not missing, missing


def test_every_key_the_man_page_documents_is_accepted(tmp_path):
    """The other way round: no entry for a key that does not exist."""
    bad = []
    for k in tags("CONFIGURATION", "[init]"):
        if re.match(r"^[a-z_]+$", k) and not accepted(tmp_path, "init", k):
            bad.append("[init] " + k)
    for k in tags("CONFIGURATION", "[service NAME]"):
        if re.match(r"^[a-z_]+$", k) and not accepted(
                tmp_path, "service s", k, "command = /bin/true\n"):
            bad.append("[service] " + k)
    assert not bad, bad


# --- events -----------------------------------------------------------------

def source_events():
    names = set()
    for d in ("core", "supervisor", "netcheck", "init"):
        for f in glob.glob(os.path.join(REPO, d, "*.c")):
            names.update(re.findall(r'ev_begin\("([a-z_]+)"\)',
                                    open(f).read()))
    return names


def test_every_event_is_in_the_man_page():
    names = source_events()
    assert {"start", "ready", "exit", "service_exit"} <= names, names
    missing = sorted(names - tags("EVENTS"))
    assert not missing, missing


def test_the_version_of_the_page_is_the_binarys():
    v = agent(["--version"]).stdout.split()[1]
    th = [l for l in open(MANPAGE) if l.startswith(".TH ")][0]
    assert '"agent-init %s"' % v in th, (th, v)


def test_binary_under_test():
    assert os.access(harness.AGENT_INIT, os.X_OK)
