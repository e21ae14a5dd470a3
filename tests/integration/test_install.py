"""`make install PREFIX=/usr/local DESTDIR=...` puts the binary and the
man page where PREFIX says, links exactly what a plain `make` links (the
user's PREFIX used to be the Makefile's own name for the deps build's
install directory, so `make install PREFIX=/usr/local` compiled and linked
against /usr/local), and rebuilds after a source change."""
import hashlib
import os
import shutil
import stat
import subprocess
import tempfile

import treecopy


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_install_with_prefix_and_destdir_after_a_source_change():
    tmp = tempfile.mkdtemp(prefix="ai-install-")
    try:
        tree = treecopy.copy_tree(os.path.join(tmp, "tree"))
        stage = os.path.join(tmp, "stage")
        st, log = treecopy.make(tree, "build")
        assert st == 0, log[-3000:]
        plain = sha256(os.path.join(tree, "build", "agent-init"))

        st, log = treecopy.make(tree, "install", "PREFIX=/usr/local",
                                "DESTDIR=" + stage)
        assert st == 0, log[-3000:]
        binary = os.path.join(stage, "usr/local/bin/agent-init")
        man = os.path.join(stage, "usr/local/share/man/man8/agent-init.8")
        assert stat.S_IMODE(os.stat(binary).st_mode) == 0o755
        assert stat.S_IMODE(os.stat(man).st_mode) == 0o644
        # What PREFIX names is where things go, never what is linked.
        assert sha256(binary) == plain
        with open(man) as a, open(os.path.join(tree, "docs",
                                               "agent-init.8")) as b:
            assert a.read() == b.read()

        # A source change: `make install` rebuilds before it installs.
        main = os.path.join(tree, "init", "main.c")
        with open(main) as f:
            text = f.read()
        assert "usage: agent-init [OPTIONS]" in text
        with open(main, "w") as f:
            f.write(text.replace("usage: agent-init [OPTIONS]",
                                 "usage: agent-init [OPTIONS] (changed)", 1))
        st, log = treecopy.make(tree, "install", "PREFIX=/usr/local",
                                "DESTDIR=" + stage)
        assert st == 0, log[-3000:]
        out = subprocess.run([binary, "--help"], stdout=subprocess.PIPE,
                             timeout=30, check=True).stdout.decode()
        assert "usage: agent-init [OPTIONS] (changed)" in out, out[:200]
        assert sha256(binary) == sha256(os.path.join(tree, "build",
                                                     "agent-init"))

        st, log = treecopy.make(tree, "uninstall", "PREFIX=/usr/local",
                                "DESTDIR=" + stage)
        assert st == 0, log[-3000:]
        assert not os.path.exists(binary) and not os.path.exists(man)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
