"""Service sandboxing (SPEC section 10; issue 5): user and groups,
capabilities, no_new_privs, seccomp, rlimits, umask, workdir and the
environment, each seen from inside the service by the sbreport helper
(its /proc/self/status, its limits, the errno of refused syscalls), with
agent-init as PID 1.  Every restricted service has an unrestricted twin
in the same run, so that a report that did not change would fail."""
import ctypes
import os
import re
import shutil
import signal
import stat
import tempfile

import pytest

from harness import helper, poll
from suputil import agent, assert_never, named, write_conf

PR_CAPBSET_DROP = 24
CAP_SYS_TIME = 25
CAP_NET_BIND_SERVICE = 10
MS_REC, MS_PRIVATE, MS_BIND = 0x4000, 1 << 18, 4096
CLONE_NEWNS = 0x00020000

SYSCALLS = ["mount", "kexec_load", "init_module", "bpf", "keyctl",
            "perf_event_open", "userfaultfd"]


def sbreport():
    return helper("sbreport")


def report(r, service):
    """Wait for SERVICE's sbreport to finish; its lines, prefix removed."""
    pre = service + "| "
    poll(lambda: pre + "sbreport done" in r.lines(), what="%s's report"
         % service, diag=r.diag)
    return [l[len(pre):] for l in r.lines() if l.startswith(pre)]


def status_of(lines):
    """{'Uid': [...], 'CapEff': int, 'umask': '0027', 'env': [...], ...}"""
    st = {"env": []}
    for l in lines:
        k, _, v = l.partition(":")
        v = v.strip()
        if k == "env":
            st["env"].append(v)
        elif k.startswith("Cap"):
            st[k] = int(v, 16)
        elif k in ("Uid", "Gid", "Groups"):
            st[k] = [int(x) for x in v.split()]
        elif k.startswith("rlimit_"):
            st[k] = [int(x) for x in v.split()]
        else:
            st[k] = v
    return st


def syscalls_of(lines):
    """{('native', 'mount'): 'EPERM', ...} and the 'ordinary' verdict."""
    got, ordinary = {}, None
    for l in lines:
        w = l.split()
        if w[0] == "sys":
            got[(w[1], w[2])] = w[3]
        elif w[0] == "ordinary":
            ordinary = l
    return got, ordinary


def finish(r, status=0):
    r.wait_event("exit")
    assert r.wait() == status, r.diag()


def own_caps():
    with open("/proc/self/status") as f:
        for l in f:
            if l.startswith("CapBnd:"):
                return int(l.split()[1], 16)
    raise AssertionError("no CapBnd")


# --- user, groups, capabilities, no_new_privs --------------------------------

def test_user_with_one_capability(run, tmp_path):
    conf = write_conf(tmp_path / "s.conf", """\
[service agent]
command = %s status
user = nobody
capabilities = net_bind_service
restart = never

[service twin]
command = %s status
restart = never
""" % (sbreport(), sbreport()))
    r = run(["-c", conf])
    a = status_of(report(r, "agent"))
    t = status_of(report(r, "twin"))
    finish(r)
    nb = 1 << CAP_NET_BIND_SERVICE
    assert a["Uid"] == [65534] * 4 and a["Gid"] == [65534] * 4, a
    assert a["Groups"] == [65534], a
    # Kept across the user switch: the list in every set, ambient
    # included (that is what survives exec for a non-root user).
    for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert a[k] == nb, (k, hex(a[k]))
    assert a["NoNewPrivs"] == "1" and a["Seccomp"] == "0", a
    assert t["Uid"] == [0] * 4 and t["CapEff"] == own_caps(), t
    assert t["NoNewPrivs"] == "0", t


def test_root_with_capabilities_none_and_a_short_list(run, tmp_path):
    conf = write_conf(tmp_path / "s.conf", """\
[service none]
command = %s status
capabilities = none
restart = never

[service some]
command = %s status
capabilities = chown, cap_kill
no_new_privs = no
restart = never
""" % (sbreport(), sbreport()))
    r = run(["-c", conf])
    n = status_of(report(r, "none"))
    s = status_of(report(r, "some"))
    finish(r)
    for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert n[k] == 0, (k, hex(n[k]))
    assert n["Uid"] == [0] * 4 and n["NoNewPrivs"] == "1", n
    want = (1 << 0) | (1 << 5)  # chown, kill
    for k in ("CapInh", "CapPrm", "CapEff", "CapBnd"):
        assert s[k] == want, (k, hex(s[k]))
    assert s["NoNewPrivs"] == "0", s


def private_etc(passwd, group, groups=None):
    """preexec_fn: a mount namespace of our own in which /etc/passwd and
    /etc/group are the given files; and, optionally, our own
    supplementary groups (what a service must not inherit)."""
    def pre():
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWNS) != 0:
            raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
        if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
            raise OSError(ctypes.get_errno(), "mount --make-rprivate /")
        for src, dst in ((passwd, b"/etc/passwd"), (group, b"/etc/group")):
            if libc.mount(src.encode(), dst, None, MS_BIND, None) != 0:
                raise OSError(ctypes.get_errno(), "bind %s" % src)
        if groups is not None:
            os.setgroups(groups)
    return pre


def test_groups_from_the_images_files_and_no_leftover_root_groups(
        run, tmp_path):
    passwd = tmp_path / "passwd"
    group = tmp_path / "group"
    passwd.write_text("root:x:0:0:root:/root:/bin/sh\n"
                      "agent:x:1234:1500:agent:/home/agent:/bin/sh\n")
    group.write_text("root:x:0:\n"
                     "disk:x:6:root\n"
                     "agent:x:1500:\n"
                     "docker:x:999:other,agent\n"
                     "video:x:44:agent\n"
                     "audio:x:29:other\n"
                     "web:x:2000:\n")
    conf = write_conf(tmp_path / "s.conf", """\
[service byname]
command = %s status
user = agent
restart = never

[service withgroup]
command = %s status
user = agent
group = web
restart = never

[service numeric]
command = %s status
user = 4321
restart = never

[service twin]
command = %s status
restart = never
""" % ((sbreport(),) * 4))
    # agent-init itself holds root's groups 0, 6 and 10: none may leak.
    r = run(["-c", conf],
            preexec_fn=private_etc(str(passwd), str(group), [0, 6, 10]))
    b = status_of(report(r, "byname"))
    g = status_of(report(r, "withgroup"))
    n = status_of(report(r, "numeric"))
    t = status_of(report(r, "twin"))
    finish(r)
    assert b["Uid"] == [1234] * 4 and b["Gid"] == [1500] * 4, b
    assert sorted(b["Groups"]) == [44, 999, 1500], b
    assert g["Gid"] == [2000] * 4 and sorted(g["Groups"]) == \
        [44, 999, 2000], g
    # A uid the image does not list: its own number as the group.
    assert n["Uid"] == [4321] * 4 and n["Gid"] == [4321] * 4, n
    assert n["Groups"] == [4321], n
    for s in (b, g, n):
        assert s["CapEff"] == 0 and s["CapPrm"] == 0, s
        assert s["NoNewPrivs"] == "1", s
    assert sorted(t["Groups"]) == [0, 6, 10], t


def setuid_copy():
    """A setuid-root copy of sbreport in a directory nobody can reach."""
    d = tempfile.mkdtemp(prefix="ai-suid-", dir="/tmp")
    os.chmod(d, 0o755)
    path = os.path.join(d, "sbreport")
    shutil.copy(sbreport(), path)
    os.chown(path, 0, 0)
    os.chmod(path, 0o4755)
    return d, path


def test_no_new_privs_stops_a_setuid_root_binary(run, tmp_path):
    d, suid = setuid_copy()
    try:
        conf = write_conf(tmp_path / "s.conf", """\
[service agent]
command = %s status
user = nobody
capabilities = none
restart = never

[service twin]
command = %s status
user = nobody
no_new_privs = no
restart = never
""" % (suid, suid))
        r = run(["-c", conf])
        a = status_of(report(r, "agent"))
        t = status_of(report(r, "twin"))
        finish(r)
    finally:
        shutil.rmtree(d)
    assert a["NoNewPrivs"] == "1", a
    assert a["Uid"] == [65534] * 4 and a["CapEff"] == 0, a
    # Without no_new_privs the same binary becomes root, with
    # capabilities: what the agent above could not do.
    assert t["Uid"][1] == 0 and t["CapEff"] != 0, t


# --- seccomp -----------------------------------------------------------------

def test_seccomp_default_refuses_on_every_abi(run, tmp_path):
    conf = write_conf(tmp_path / "s.conf", """\
[service filtered]
command = %s syscalls
seccomp = default
restart = never

[service twin]
command = %s syscalls
restart = never
""" % (sbreport(), sbreport()))
    r = run(["-c", conf])
    f, fo = syscalls_of(report(r, "filtered"))
    t, to = syscalls_of(report(r, "twin"))
    finish(r)
    assert fo == "ordinary ok" and to == "ordinary ok", (fo, to)
    for abi in ("native", "i386", "x32"):
        for name in SYSCALLS:
            assert f[(abi, name)] == "EPERM", (abi, name, f)
    # The twin shows that the refusals are the filter's: root with its
    # capabilities gets other answers from the same calls.
    assert all(t[("native", n)] != "EPERM" for n in SYSCALLS), t
    assert all(t[("i386", n)] != "EPERM" for n in SYSCALLS), t


def test_seccomp_policy_file(run, tmp_path):
    policy = tmp_path / "policy"
    policy.write_text("# what this agent never needs\n"
                      "\n"
                      "bpf\n"
                      "   keyctl    # keyrings are not namespaced\n")
    conf = write_conf(tmp_path / "s.conf", """\
[service filtered]
command = %s syscalls
seccomp = %s
restart = never
""" % (sbreport(), policy))
    r = run(["-c", conf])
    f, fo = syscalls_of(report(r, "filtered"))
    finish(r)
    assert fo == "ordinary ok", fo
    for abi in ("native", "i386"):
        assert f[(abi, "bpf")] == "EPERM" and f[(abi, "keyctl")] == "EPERM"
        for name in ("mount", "perf_event_open", "userfaultfd"):
            assert f[(abi, name)] != "EPERM", (abi, name, f)


@pytest.mark.parametrize("cmd", ["run", "check-config"])
def test_seccomp_policy_with_an_unknown_syscall_is_a_config_error(
        run, tmp_path, cmd):
    policy = tmp_path / "policy"
    policy.write_text("# comment\nbpf\nnot_a_syscall\n")
    mark = tmp_path / "started"
    conf = write_conf(tmp_path / "s.conf", """\
[service ok]
command = {H}/svcact touch:%s wait

[service filtered]
command = /bin/true
seccomp = %s
""" % (mark, policy))
    if cmd == "run":
        r = run(["-c", conf])
        assert r.wait() == 78, r.diag()
        err = r.stderr()
    else:
        p = agent(["check-config", conf])
        assert p.returncode == 78, p.stderr
        err = p.stderr
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "%s:6: seccomp: " % conf in lines[0], lines[0]
    assert "%s:3: unknown syscall 'not_a_syscall'" % policy in lines[0], \
        lines[0]
    assert not mark.exists()


def test_seccomp_without_no_new_privs_or_sys_admin_fails_the_start(
        run, tmp_path):
    # The kernel refuses a filter from a process that has neither
    # no_new_privs nor CAP_SYS_ADMIN: the start fails; it never runs
    # unfiltered.
    conf = write_conf(tmp_path / "s.conf", """\
[service agent]
command = %s status
capabilities = chown
no_new_privs = no
seccomp = default
restart = never
""" % sbreport())
    r = run(["-c", conf])
    ev = r.wait_event("service_failed", service="agent")
    assert "sandbox step seccomp: Permission denied" in ev["reason"], ev
    assert "agent| sbreport done" not in r.lines()
    finish(r)


# --- limits, umask, workdir, environment -------------------------------------

def test_rlimits_umask_workdir_and_env_clear(run, tmp_path):
    work = tempfile.mkdtemp(prefix="ai-wd-", dir="/tmp")
    try:
        conf = write_conf(tmp_path / "s.conf", """\
[service agent]
command = %s status
rlimit_nofile = 256
rlimit_nproc = 1000
rlimit_core = 0
umask = 027
workdir = %s
env_clear = yes
env = A=1 "B=two words"
restart = never

[service twin]
command = %s status
restart = never
""" % (sbreport(), work, sbreport()))
        r = run(["-c", conf], env={"NOTIFY_SOCKET": "/tmp/nowhere",
                                   "FROM_OUTSIDE": "yes"})
        a = status_of(report(r, "agent"))
        t = status_of(report(r, "twin"))
        finish(r)
    finally:
        os.rmdir(work)
    assert a["rlimit_nofile"] == [256, 256], a
    assert a["rlimit_nproc"] == [1000, 1000], a
    assert a["rlimit_core"] == [0, 0], a
    assert a["umask"] == "0027" and a["cwd"] == work, a
    assert sorted(a["env"]) == ["A=1", "B=two words"], a["env"]
    assert t["umask"] != "0027" and t["cwd"] != work, t
    assert t["rlimit_nofile"] != [256, 256], t
    # Without env_clear: ours, minus what belongs to agent-init.
    assert "FROM_OUTSIDE=yes" in t["env"], t["env"]
    assert not [e for e in t["env"] if e.startswith(
        ("NOTIFY_SOCKET=", "AGENT_INIT_"))], t["env"]


# --- impossible requests ------------------------------------------------------

def drop_own_cap(cap):
    def pre():
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "PR_CAPBSET_DROP")
    return pre


@pytest.mark.parametrize("key, value, why", [
    ("user", "no_such_user",
     "user 'no_such_user': not found in the image's /etc/passwd"),
    ("group", "no_such_group",
     "group 'no_such_group': not found in the image's /etc/group"),
    ("capabilities", "sys_time net_raw",
     "capabilities: cap_sys_time is not in agent-init's own bounding set"),
    ("workdir", "/nonexistent/dir",
     "sandbox step workdir: No such file or directory"),
])
def test_an_impossible_request_fails_the_start_with_a_reason(
        run, tmp_path, key, value, why):
    conf = write_conf(tmp_path / "s.conf", """\
[service agent]
command = %s status
%s = %s
main = yes
""" % (sbreport(), key, value))
    # agent-init runs without cap_sys_time in its own bounding set.
    r = run(["-c", conf], preexec_fn=drop_own_cap(CAP_SYS_TIME))
    ev = r.wait_event("service_failed", service="agent")
    assert why in ev["reason"], ev
    assert "agent| sbreport done" not in r.lines()
    # A main service that could not start: the shell's "cannot execute".
    finish(r, 126)
    assert why in r.stderr(), r.stderr()


def test_a_fifo_planted_at_etc_passwd_never_blocks_pid1(run, tmp_path):
    # A service that can write /etc may plant a FIFO there: reading it
    # must not make PID 1 wait for a writer.  The start that needs it
    # fails with the reason; the other service runs and PID 1 answers.
    fifo = str(tmp_path / "passwd-fifo")
    os.mkfifo(fifo)
    group = tmp_path / "group"
    group.write_text("root:x:0:\n")
    conf = write_conf(tmp_path / "s.conf", """\
[service agent]
command = %s status
user = agent
restart = never

[service twin]
command = %s status
restart = never
""" % (sbreport(), sbreport()))
    r = run(["-c", conf], preexec_fn=private_etc(fifo, str(group)))
    ev = r.wait_event("service_failed", service="agent")
    assert "user 'agent': /etc/passwd: not a regular file" in \
        ev["reason"], ev
    report(r, "twin")
    finish(r)


@pytest.mark.parametrize("call", ["write", "rt_sigprocmask"])
def test_a_policy_cannot_refuse_what_the_start_needs(tmp_path, call):
    policy = tmp_path / "policy"
    policy.write_text("bpf\n%s\n" % call)
    conf = write_conf(tmp_path / "s.conf", """\
[service a]
command = /bin/true
seccomp = %s
""" % policy)
    p = agent(["check-config", conf])
    assert p.returncode == 78, p.stderr
    assert "%s:2: '%s' cannot be refused" % (policy, call) in p.stderr


@pytest.mark.parametrize("spoofer", ["other_uid", "same_uid_other_group"])
def test_another_service_cannot_send_readiness_for_a_notify_service(
        run, tmp_path, spoofer):
    # The notify socket's name is abstract: any process in the network
    # namespace can send to it (its random name is listed in
    # /proc/net/unix).  A datagram counts only from the service's own uid
    # and a sender alive in its own process group.  The spoofer is given
    # the victim's real name.
    user = "user = nobody\n" if spoofer == "other_uid" else ""
    d = tempfile.mkdtemp(prefix="ai-ns-", dir="/tmp")
    os.chmod(d, 0o755)
    name = os.path.join(d, "name")
    conf = write_conf(tmp_path / "s.conf", """\
[service victim]
command = {H}/svcact env:NOTIFY_SOCKET wait
ready = notify

[service spoofer]
command = sh -c 'until [ -s %s ]; do sleep .05; done; NOTIFY_SOCKET=$(cat %s) exec {H}/svcact notify:READY=1 o:sent wait'
%s""" % (name, name, user))
    try:
        r = run(["-c", conf])
        m = r.wait_line(re.compile(r"victim\| env NOTIFY_SOCKET=(@.*)$"))
        with open(name + ".tmp", "w") as f:
            f.write(m.group(1))
        os.chmod(name + ".tmp", 0o644)
        os.rename(name + ".tmp", name)
        r.wait_line("spoofer| sent")
        assert_never(r, "service_ready", 1.5, service="victim")
        r.kill(signal.SIGTERM)
        r.wait()
    finally:
        shutil.rmtree(d, ignore_errors=True)
