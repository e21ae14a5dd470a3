"""`make release` is reproducible: two clean copies of the tree, in
directories of different names and depths, built with a different time
zone, locale and umask, give byte-identical dist/ files, and the same
dist/SHA256SUMS.  The copies share the repository's build/deps (the deps
build was shown reproducible on its own: bench/RESULTS.md, "Release"), so
what is compared is everything make builds from the sources: both
architectures' binaries and the checksums."""
import os
import re
import shutil
import stat
import subprocess
import tempfile

import treecopy


def release(tree, extra_env=None, umask=None):
    env = dict(os.environ, **(extra_env or {}))
    old = os.umask(umask) if umask is not None else None
    try:
        st, log = treecopy.make(tree, "release", env=env)
    finally:
        if old is not None:
            os.umask(old)
    assert st == 0, log[-4000:]
    dist = os.path.join(tree, "dist")
    return {f: open(os.path.join(dist, f), "rb").read()
            for f in sorted(os.listdir(dist))}


def test_release_is_reproducible_across_directories():
    tmp = tempfile.mkdtemp(prefix="ai-release-")
    try:
        a = treecopy.copy_tree(os.path.join(tmp, "a"))
        b = treecopy.copy_tree(os.path.join(tmp, "bb", "some", "other-tree"))
        one = release(a)
        two = release(b, {"TZ": "Pacific/Kiritimati", "LC_ALL": "C.UTF-8",
                          "SOURCE_DATE_EPOCH": "1"}, umask=0o077)
        with open(os.path.join(a, "Makefile")) as f:
            version = re.search(r"^VERSION := (\S+)$", f.read(), re.M).group(1)
        names = ["SHA256SUMS", "agent-init-%s-aarch64" % version,
                 "agent-init-%s-x86_64" % version]
        assert sorted(one) == names, sorted(one)
        assert sorted(two) == names, sorted(two)
        for n in names:
            assert one[n] == two[n], "%s differs between the two builds" % n
        # SHA256SUMS names both binaries and is right about them.
        sums = one["SHA256SUMS"].decode()
        assert re.fullmatch(r"([0-9a-f]{64}  agent-init-\S+\n){2}", sums), sums
        r = subprocess.run(["sha256sum", "--strict", "-c", "SHA256SUMS"],
                           cwd=os.path.join(a, "dist"), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        assert r.returncode == 0, r.stdout
        # The modes are fixed too, whatever the umask.
        for tree in (a, b):
            for n in names:
                mode = stat.S_IMODE(os.stat(os.path.join(tree, "dist",
                                                         n)).st_mode)
                assert mode == (0o644 if n == "SHA256SUMS" else 0o755), \
                    (tree, n, oct(mode))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
