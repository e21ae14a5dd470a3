"""A copy of the source tree for the build tests (install, release): the
files git knows (tracked, or new and not ignored), as a clean clone has
them, and optionally the repository's built libraries (build/deps, which
`make` reuses and which the deps build itself shows to be reproducible),
so that a test builds agent-init from scratch without rebuilding them."""
import os
import shutil
import subprocess

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEPS = os.path.join(REPO, "build", "deps")


def tracked_files():
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others",
         "--exclude-standard"], cwd=REPO, check=True,
        stdout=subprocess.PIPE).stdout.decode()
    return [f for f in out.split("\0") if f]


def copy_tree(dst, with_deps=True):
    """Copy the tree to dst (which must not exist); with_deps links
    dst/build/deps to the repository's."""
    for f in tracked_files():
        src = os.path.join(REPO, f)
        if not os.path.isfile(src):
            continue  # deleted in the working tree
        d = os.path.join(dst, f)
        os.makedirs(os.path.dirname(d), exist_ok=True)
        shutil.copy2(src, d)
    assert not os.path.exists(os.path.join(dst, "build"))
    if with_deps:
        os.makedirs(os.path.join(dst, "build"))
        os.symlink(DEPS, os.path.join(dst, "build", "deps"))
    return dst


def make(tree, *targets, env=None, timeout=900):
    """make -s TARGETS in tree; returns (status, output)."""
    r = subprocess.run(["make", "-s", *targets], cwd=tree, timeout=timeout,
                       env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    return r.returncode, r.stdout.decode(errors="replace")
