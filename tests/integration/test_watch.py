"""The watch after ready (issue 16): OOM kills attributed (`oom_kill`),
zombies and pids pressure (`pids_pressure`), as PID 1.

The OOM tests make a memory cgroup of their own (cgroup v1, as on this
machine: mkdir under /sys/fs/cgroup/memory, a 48 MiB limit), start the
run inside it (the first process of the run joins it before it execs, so
agent-init and everything it starts are in it), and remove it at the end.
The kernel's OOM killer does the killing, for real: `memhog hog` fills
memory until it is killed.  Two ways agent-init learns of it:

- the cgroup is writable: an eventfd registered in cgroup.event_control
  (the OOM begins), then the counter;
- read-only (a container's v1 cgroup: a read-only bind mount of the
  test's cgroup over /sys/fs/cgroup/memory, in a mount namespace of the
  run's own): the counter is read when agent-init reaps, when a
  service's output arrives, or when a service dies of SIGKILL.

The victim is named with pid and command when it can still be seen (a
zombie its parent has not reaped yet), otherwise by its service with
pid null.  Without a memory cgroup (none mounted; real gVisor, `runsc
do`) agent-init says so once.  Every wait is a poll with a deadline.
"""
import os
import re
import shutil
import signal

import pytest

from harness import DEADLINE, poll
from suputil import agent, named, touch, write_conf

CGROOT = "/sys/fs/cgroup"
LIMIT = 48 << 20
RUNSC = shutil.which("runsc")


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _procs(path):
    try:
        with open(os.path.join(path, "cgroup.procs")) as f:
            return [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return []


@pytest.fixture
def cgroup():
    """cgroup(controller, **files) makes a v1 cgroup of this test and
    returns its directory; each is emptied (its processes, all of this
    test, SIGKILLed by pid) and removed at the end."""
    made = []

    def make(controller, **files):
        base = os.path.join(CGROOT, controller)
        assert os.path.isfile(os.path.join(base, "cgroup.procs")), (
            "no cgroup v1 %s hierarchy at %s: these tests need one "
            "(TESTING.md: this machine is cgroup v1)" % (controller, base))
        path = os.path.join(base, "agent-init-test-%d-%d" % (os.getpid(),
                                                            len(made)))
        os.mkdir(path)
        made.append(path)
        for name, value in files.items():
            f = os.path.join(path, name)
            if os.path.exists(f):
                _write(f, str(value))
        return path

    yield make
    for path in reversed(made):
        def removed():
            for p in _procs(path):
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                os.rmdir(path)
                return True
            except OSError:
                return False
        poll(removed, DEADLINE, "cgroup %s removed" % path)


def memory_cgroup(cgroup):
    # memsw after memory: it may not be below it.  No swap here, but a
    # machine with swap would swap rather than kill without it.
    cg = cgroup("memory", **{"memory.limit_in_bytes": LIMIT})
    if os.path.exists(os.path.join(cg, "memory.memsw.limit_in_bytes")):
        _write(os.path.join(cg, "memory.memsw.limit_in_bytes"), str(LIMIT))
    return cg


def join(cg):
    """preexec_fn: the run's first process joins cg."""
    def enter():
        _write(os.path.join(cg, "cgroup.procs"), str(os.getpid()))
    return enter


def readonly(cg, controller="memory"):
    """wrap: a mount namespace where /sys/fs/cgroup/CONTROLLER is cg,
    read-only, as a container sees its own cgroup."""
    mnt = os.path.join(CGROOT, controller)
    script = ('mount --bind "$0" %s && mount -o remount,bind,ro %s && '
              'exec "$@"' % (mnt, mnt))
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            script, cg]


def oom_kills(cg):
    with open(os.path.join(cg, "memory.oom_control")) as f:
        for line in f:
            k, v = line.split()
            if k == "oom_kill":
                return int(v)
    raise AssertionError("no oom_kill in %s/memory.oom_control" % cg)


def conf(tmp_path, body, init=""):
    return write_conf(tmp_path / "w.conf", "[init]\nchecks = off\n"
                      "control_socket =\n" + init + body)


def start(run, tmp_path, cg, body, ro=False, init=""):
    return run(["-c", conf(tmp_path, body, init)], preexec_fn=join(cg),
               wrap=readonly(cg) if ro else ())


def hog_pid(r):
    m = r.wait_line(re.compile(r"^agent\| hog pid=(\d+)$"))
    return int(m.group(1))


def no_watch_warning(r):
    assert not named(r.events(), "warning", what="oom_watch"), r.diag()


# --- a grandchild of a service -------------------------------------------------

@pytest.mark.parametrize("ro", [False, True], ids=["notify", "readonly"])
def test_grandchild_named_while_visible(run, tmp_path, cgroup, ro):
    # The hog's parent sees it gone (its pipe ends), says "hog gone" and
    # reaps it 1.5 s later: meanwhile it is a zombie, dead of SIGKILL.
    # Writable: the eventfd brings the read.  Read-only: that output does.
    cg = memory_cgroup(cgroup)
    r = start(run, tmp_path, cg, "[service agent]\n"
              "command = {H}/memhog tree late\n", ro=ro)
    pid = hog_pid(r)
    ev = r.wait_event("oom_kill", service="agent")
    assert ev["pid"] == pid, r.diag()
    assert ev["comm"] == "memhog", r.diag()
    assert ev["count"] == 1 and ev["oom_kills"] == 1, r.diag()
    assert ev["limit"] == LIMIT, r.diag()
    assert isinstance(ev["peak"], int) and 0 < ev["peak"] <= LIMIT, r.diag()
    assert oom_kills(cg) == 1
    r.wait_line("agent| reaped signal 9")
    no_watch_warning(r)
    assert len(named(r.events(), "oom_kill")) == 1, r.diag()
    r.kill(signal.SIGTERM)
    assert r.wait() == 0, r.diag()


def test_readonly_victim_gone_names_the_service(run, tmp_path, cgroup):
    # The hog's parent reaps it at once, then says so: by the time the
    # output brings the read, the victim is gone.  The service that lost
    # it is named, pid and comm null.
    cg = memory_cgroup(cgroup)
    r = start(run, tmp_path, cg, "[service agent]\n"
              "command = {H}/memhog tree prompt\n"
              "[service bystander]\ncommand = {H}/svcact wait\n", ro=True)
    hog_pid(r)
    r.wait_line("agent| reaped signal 9")
    ev = r.wait_event("oom_kill")
    assert ev["service"] == "agent", r.diag()
    assert ev["pid"] is None and ev["comm"] is None, r.diag()
    assert ev["count"] == 1 and ev["limit"] == LIMIT, r.diag()
    no_watch_warning(r)
    r.kill(signal.SIGTERM)
    assert r.wait() == 0, r.diag()


def test_notify_prompt_reaper(run, tmp_path, cgroup):
    # Writable, the parent reaps at once.  agent-init is told as the OOM
    # begins, but on a busy machine the kill, the exit and the reaping
    # can all be over before it looks: named if caught dying, else (pid
    # null) by the service that lost a process, which here is also the
    # only one running.
    cg = memory_cgroup(cgroup)
    r = start(run, tmp_path, cg, "[service agent]\n"
              "command = {H}/memhog tree prompt\n")
    pid = hog_pid(r)
    ev = r.wait_event("oom_kill")
    assert ev["service"] == "agent", r.diag()
    assert (ev["pid"], ev["comm"]) in ((pid, "memhog"), (None, None)), \
        r.diag()
    r.kill(signal.SIGTERM)
    assert r.wait() == 0, r.diag()


# --- the service's own process ---------------------------------------------------

@pytest.mark.parametrize("ro", [False, True], ids=["notify", "readonly"])
def test_service_process_oom_killed(run, tmp_path, cgroup, ro):
    # The service itself is the hog: service_exit says oom_killed, and
    # oom_kill names its pid (a zombie of ours until the reaping pass,
    # which reads the counter first).
    cg = memory_cgroup(cgroup)
    r = start(run, tmp_path, cg, "[service agent]\n"
              "command = {H}/memhog hog\nrestart = never\n"
              "[service main]\ncommand = {H}/svcact wait\nmain = yes\n",
              ro=ro)
    ex = r.wait_event("service_exit", service="agent")
    assert ex["signal"] == "SIGKILL" and ex["oom_killed"] is True, r.diag()
    ev = r.wait_event("oom_kill", service="agent")
    assert ev["pid"] == ex["pid"] and ev["comm"] == "memhog", r.diag()
    evs = r.events()
    assert evs.index(ev) < evs.index(ex), r.diag()
    r.kill(signal.SIGTERM)
    assert r.wait() == 128 + signal.SIGTERM, r.diag()


# --- a kill agent-init sent itself --------------------------------------------

@pytest.mark.parametrize("ro", [False, True], ids=["notify", "readonly"])
def test_own_sigkill_is_not_oom(run, tmp_path, cgroup, ro):
    # The hog (a grandchild) is OOM-killed and reaped by its parent
    # without a word; the service ignores SIGTERM, so the shutdown ends
    # it with agent-init's own SIGKILL after stop_timeout.  That exit is
    # no OOM kill (the counter went up during the run, but not for it),
    # and no oom_kill names a process agent-init killed.  Read-only, the
    # OOM kill is first read in that very reaping pass, among zombies of
    # agent-init's SIGKILL.
    cg = memory_cgroup(cgroup)
    r = start(run, tmp_path, cg, "[service agent]\n"
              "command = {H}/memhog tree quiet\nstop_timeout = 300ms\n",
              ro=ro)
    hog_pid(r)
    poll(lambda: oom_kills(cg) == 1, DEADLINE, "the OOM kill", r.diag)
    start_ev = named(r.events(), "service_start", service="agent")[0]
    r.kill(signal.SIGTERM)
    assert r.wait() == 0, r.diag()
    evs = r.events()
    ex = named(evs, "service_exit", service="agent")
    assert len(ex) == 1 and ex[0]["signal"] == "SIGKILL", r.diag()
    assert ex[0]["oom_killed"] is False, r.diag()
    kills = named(evs, "oom_kill")
    assert len(kills) == 1, r.diag()
    assert kills[0]["pid"] != start_ev["pid"], r.diag()
    if ro:
        # Seen only among our own kills: nobody to name.
        assert kills[0]["pid"] is None, r.diag()
        assert kills[0]["service"] == "agent", r.diag()


# --- nothing to watch -------------------------------------------------------------

def test_no_memory_cgroup_says_so_once(run, tmp_path):
    # No cgroup file system mounted (a mount namespace of the run's own
    # without them, as under gVisor): no counter.  One warning, and a
    # service killed by SIGKILL is no OOM kill.
    wrap = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            'umount -R /sys/fs/cgroup && exec "$@"', "sh"]
    r = run(["-c", conf(tmp_path, "[service agent]\n"
                        "command = {H}/svcact pid wait\nrestart = never\n"
                        "[service main]\ncommand = {H}/svcact wait\n"
                        "main = yes\n")], wrap=wrap)
    w = r.wait_event("warning", what="oom_watch")
    assert w["path"] is None, r.diag()
    assert "OOM kills cannot be counted or named" in w["detail"], r.diag()
    m = r.wait_line(re.compile(r"^agent\| pid=(\d+) "))
    os.kill(r.host_pid(int(m.group(1))), signal.SIGKILL)
    ex = r.wait_event("service_exit", service="agent")
    assert ex["signal"] == "SIGKILL" and ex["oom_killed"] is False, r.diag()
    r.kill(signal.SIGTERM)
    assert r.wait() == 128 + signal.SIGTERM, r.diag()
    evs = r.events()
    assert len(named(evs, "warning", what="oom_watch")) == 1, r.diag()
    assert not named(evs, "oom_kill"), r.diag()
    i = [e["agent_init"] for e in evs]
    assert i.index("environment") < evs.index(w), r.diag()


def test_gvisor_says_so_once(run, tmp_path):
    # Real gVisor (`runsc do`: the sandbox's own kernel, no network, in a
    # network namespace of the test's own): it has no memory cgroup for
    # agent-init to read.  agent-init, PID 1 of the sandbox, says so once,
    # naming gVisor, and a service dead of SIGKILL is no OOM kill.
    assert RUNSC, "runsc is missing (scripts/deps.sh installs it)"
    wrap = ["unshare", "--net", "--mount", "--propagation", "private",
            RUNSC, "--network=none", "--ignore-cgroups", "do"]
    r = run(["-c", conf(tmp_path, "[service main]\n"
                        "command = {H}/killself KILL\nrestart = never\n"
                        "main = yes\n")],
            pid1=False, wrap=wrap)
    assert r.wait() == 128 + signal.SIGKILL, r.diag()
    evs = r.events()
    env = named(evs, "environment")
    assert env and env[0]["runtime"] == "gvisor", r.diag()
    w = named(evs, "warning", what="oom_watch")
    assert len(w) == 1 and "gVisor" in w[0]["detail"], r.diag()
    ex = named(evs, "service_exit", service="main")
    assert len(ex) == 1 and ex[0]["signal"] == "SIGKILL", r.diag()
    assert ex[0]["oom_killed"] is False, r.diag()
    assert not named(evs, "oom_kill"), r.diag()


# --- zombies and pids -----------------------------------------------------------

def test_zombies_named(run, tmp_path):
    # `leaky` leaves 500 zombies; `tidy` makes as many and reaps them.
    # Only leaky is named, once, and again when its zombies doubled.
    gate = tmp_path / "more"
    r = run(["-c", conf(tmp_path, "[service leaky]\n"
                        "command = {H}/zombies 500 leave %s\n"
                        "[service tidy]\ncommand = {H}/zombies 500 reap\n"
                        % gate, init="pids_watch = 200ms\n")])
    leaky = r.wait_event("service_start", service="leaky")["pid"]
    r.wait_line("leaky| zombies pid=%d n=500" % leaky)
    r.wait_line(re.compile(r"^tidy\| zombies pid=\d+ n=500$"))
    ev = r.wait_event("pids_pressure", service="leaky")
    assert ev["reason"] == "zombies", r.diag()
    assert ev["pid"] == leaky and ev["comm"] == "zombies", r.diag()
    assert ev["zombies"] == 500 and ev["children"] == 500, r.diag()
    touch(gate)
    r.wait_line("leaky| zombies pid=%d n=1000" % leaky)
    ev2 = r.wait_event("pids_pressure", service="leaky", zombies=1000)
    assert ev2["pid"] == leaky, r.diag()
    # Scans every 200 ms all along: named twice, never tidy.
    evs = r.events()
    assert len(named(evs, "pids_pressure")) == 2, r.diag()
    r.kill(signal.SIGTERM)
    assert r.wait() == 0, r.diag()


def test_pids_near_max(run, tmp_path, cgroup):
    # A pids cgroup with pids.max 64: the service holds 58 children, so
    # the run (unshare, agent-init, the service, 58) is at 61, above 90%.
    cg = cgroup("pids", **{"pids.max": 64})
    r = run(["-c", conf(tmp_path, "[service forker]\n"
                        "command = {H}/zombies 58 live\n",
                        init="pids_watch = 200ms\n")], preexec_fn=join(cg))
    pid = r.wait_event("service_start", service="forker")["pid"]
    r.wait_line("forker| zombies pid=%d n=58" % pid)
    ev = r.wait_event("pids_pressure", reason="pids_max")
    assert ev["pid"] == pid and ev["service"] == "forker", r.diag()
    assert ev["children"] == 58 and ev["zombies"] == 0, r.diag()
    assert ev["pids_max"] == 64 and ev["pids_current"] >= 58, r.diag()
    r.kill(signal.SIGTERM)
    assert r.wait() == 0, r.diag()
    assert len(named(r.events(), "pids_pressure")) == 1, r.diag()


def test_pids_watch_config_errors(tmp_path):
    p = write_conf(tmp_path / "bad.conf", "[init]\npids_watch = often\n"
                   "[service a]\ncommand = /bin/true\n")
    c = agent(["check-config", p])
    assert c.returncode == 78, c.stderr
    assert c.stderr.strip() == ("%s:2: pids_watch: 'often' is not a "
                                "duration (e.g. 500ms, 8s, 1m)" % p), c.stderr
    c = agent(["--no-checks", "--", "/bin/true"],
              env={"AGENT_INIT_PIDS_WATCH": "often"})
    assert c.returncode == 64, c.stderr
    assert "AGENT_INIT_PIDS_WATCH: 'often' is not a duration or off" in \
        c.stderr, c.stderr


def test_pids_watch_from_environment(run, tmp_path):
    # AGENT_INIT_PIDS_WATCH turns it on without touching the file.
    r = run(["-c", conf(tmp_path, "[service leaky]\n"
                        "command = {H}/zombies 50\n")],
            env={"AGENT_INIT_PIDS_WATCH": "100ms"})
    ev = r.wait_event("pids_pressure", service="leaky")
    assert ev["zombies"] == 50, r.diag()
    r.kill(signal.SIGTERM)
    assert r.wait() == 0, r.diag()
