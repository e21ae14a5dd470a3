"""The first run on a fresh machine: `make build` in a tree whose build/
directory is empty must give a binary whose --version names every library
with its version.  (A fresh clone's `make demo` used to read the library
versions before build/deps/ existed and printed "libcap-ng , inih )".)

The copy gets the deps build's downloaded source archives (only the
archives, never a built library), so that the test needs no network and
still builds the libraries from scratch, as a first run does.
"""
import os
import re
import shutil
import subprocess
import tempfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SRC_CACHE = os.path.join(REPO, "build", "deps", "src")
VERSION_RE = re.compile(
    r"^agent-init \d+\.\d+\.\d+\S* x86_64 "
    r"\(libseccomp \d+\.\d+\.\d+, "
    r"libcap-ng \d+\.\d+(\.\d+)?, inih \d+\b.*\)$")


def tracked_files():
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others",
         "--exclude-standard"], cwd=REPO, check=True,
        stdout=subprocess.PIPE).stdout.decode()
    return [f for f in out.split("\0") if f]


def test_first_build_names_every_library_version():
    tmp = tempfile.mkdtemp(prefix="ai-firstbuild-")
    try:
        tree = os.path.join(tmp, "tree")
        for f in tracked_files():
            src = os.path.join(REPO, f)
            if not os.path.isfile(src):
                continue  # deleted in the working tree
            dst = os.path.join(tree, f)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(src, dst)
        assert not os.path.exists(os.path.join(tree, "build"))
        # Downloaded archives only: the libraries are built again.
        cache = os.path.join(tree, "build", "deps", "src")
        os.makedirs(cache)
        for f in os.listdir(SRC_CACHE):
            p = os.path.join(SRC_CACHE, f)
            if os.path.isfile(p) and re.search(
                    r"\.(tar\.gz|tar\.xz|dsc|deb|asc)$", f):
                shutil.copy2(p, cache)
        r = subprocess.run(["make", "-s", "build"], cwd=tree, timeout=600,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        log = r.stdout.decode(errors="replace")
        assert r.returncode == 0, log[-3000:]
        v = subprocess.run([os.path.join(tree, "build", "agent-init"),
                            "--version"], stdout=subprocess.PIPE,
                           timeout=30, check=True).stdout.decode().strip()
        assert VERSION_RE.match(v), v
        # A second make reuses what the first one built.
        r = subprocess.run(["make", "-q", "build/agent-init"], cwd=tree,
                           timeout=60)
        assert r.returncode == 0, "make would rebuild an up-to-date binary"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
