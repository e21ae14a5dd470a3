"""The release image (images/release, issue 18): `make image-release`
builds agent-init:VERSION for the docker that DOCKER_HOST names (here the
private dockerd), with no registry; it holds /agent-init and nothing else,
the very bytes of dist/; and a second image takes the binary with
`COPY --from=agent-init:VERSION /agent-init /usr/local/bin/agent-init`
and runs it as its PID 1."""
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile

import pytest

from conftest import ROOT
from harness import check_event_stream, helper, poll

SECOND = "agent-init/release-user:e2e"


def version():
    with open(os.path.join(ROOT, "Makefile")) as f:
        return re.search(r"^VERSION := (\S+)$", f.read(), re.M).group(1)


@pytest.fixture(scope="module")
def release_image(engine):
    """make image-release against the private dockerd; the image's tag."""
    r = subprocess.run(["make", "-s", "image-release"], cwd=ROOT,
                       env=engine.d.env(), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=900)
    out = r.stdout.decode(errors="replace")
    assert r.returncode == 0, out[-4000:] + "\n--- dockerd log:\n" + \
        engine.d.log_tail()
    return "agent-init:" + version()


def dist_binary(arch="x86_64"):
    with open(os.path.join(ROOT, "dist", "agent-init-%s-%s" % (
            version(), arch)), "rb") as f:
        return f.read()


def test_release_image_holds_only_the_released_binary(engine, release_image,
                                                      tmp_path):
    saved = tmp_path / "image.tar"
    engine.d.docker("save", "-o", str(saved), release_image, timeout=120)
    with tarfile.open(saved) as t:
        manifest = json.load(t.extractfile("manifest.json"))
        assert len(manifest) == 1 and len(manifest[0]["Layers"]) == 1, \
            manifest
        layer = tarfile.open(fileobj=io.BytesIO(
            t.extractfile(manifest[0]["Layers"][0]).read()))
        members = layer.getmembers()
        assert [m.name for m in members] == ["agent-init"], \
            [m.name for m in members]
        assert members[0].isreg() and members[0].mode & 0o777 == 0o755
        assert layer.extractfile(members[0]).read() == dist_binary()
    cfg = json.loads(engine.d.docker(
        "image", "inspect", release_image).stdout)[0]["Config"]
    assert cfg["Entrypoint"] == ["/agent-init"], cfg
    assert cfg["Labels"]["org.opencontainers.image.version"] == version()


def second_image(engine, tmp_path, release_image):
    """FROM scratch + busybox + COPY --from=the release image."""
    ctx = tmp_path / "second"
    (ctx / "rootfs" / "bin").mkdir(parents=True)
    bb = shutil.which("busybox")
    assert bb, "busybox-static is not installed"
    shutil.copy(bb, ctx / "rootfs" / "bin" / "busybox")
    for a in ("sh", "sha256sum", "echo"):
        os.symlink("busybox", ctx / "rootfs" / "bin" / a)
    shutil.copy(helper("sigrec"), ctx / "rootfs" / "bin" / "sigrec")
    (ctx / "Dockerfile").write_text(
        "FROM scratch\n"
        "COPY rootfs/ /\n"
        "COPY --from=%s /agent-init /usr/local/bin/agent-init\n"
        "ENV PATH=/usr/local/bin:/bin\n"
        'ENTRYPOINT ["/usr/local/bin/agent-init", "--"]\n'
        'CMD ["/bin/sh", "-c", "echo from the second image; exit 7"]\n'
        % release_image)
    engine.d.docker("build", "-q", "-t", SECOND, str(ctx), timeout=300)
    return SECOND


def test_copy_from_the_release_image_into_a_second_image_and_run(
        engine, ctr, release_image, tmp_path):
    img = second_image(engine, tmp_path, release_image)
    # The binary arrived whole.
    name, r = ctr.run("--entrypoint", "/bin/sha256sum", image=img,
                      cmd=["/usr/local/bin/agent-init"], detach=False,
                      check=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == hashlib.sha256(dist_binary()).hexdigest()
    # --version of the binary in the image.
    name, r = ctr.run("--entrypoint", "/usr/local/bin/agent-init", image=img,
                      cmd=["--version"], detach=False, check=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("agent-init %s x86_64 (" % version()), r.stdout
    # As the container's PID 1 with the image's CMD: the command's output,
    # the event stream from start to exit, the command's status.
    c = ctr.run(image=img)
    st = poll(lambda: (lambda s: s if not s["Running"] else None)(
        ctr.state(c)), 60, "the container to end", ctr.diag(c), interval=0.1)
    assert st["ExitCode"] == 7, (st, ctr.logs(c))
    out = ctr.stdout_logs(c)
    assert "from the second image" in out.splitlines(), out
    ev = check_event_stream(out, status=7)
    assert ev[0]["pid"] == 1 and ev[0]["pid1"] is True, ev[0]


def test_copied_binary_forwards_signals_and_stops(engine, ctr, release_image,
                                                  tmp_path):
    img = second_image(engine, tmp_path, release_image)
    c = ctr.run(image=img, cmd=["/bin/sigrec"])
    poll(lambda: "ready pid=" in ctr.stdout_logs(c), 60, "sigrec ready",
         ctr.diag(c), interval=0.1)
    ctr.docker("kill", "-s", "USR1", c)
    poll(lambda: "SIGUSR1" in ctr.stdout_logs(c).splitlines(), 30,
         "SIGUSR1 at the command", ctr.diag(c), interval=0.1)
    # docker stop: SIGTERM reaches the command (which dies of it, 143)
    # and agent-init ends well inside Docker's grace, with its exit event.
    ctr.docker("stop", c, timeout=60)
    st = ctr.state(c)
    assert st["ExitCode"] == 143 and not st["OOMKilled"], (st, ctr.logs(c))
    check_event_stream(ctr.stdout_logs(c), status=st["ExitCode"])
