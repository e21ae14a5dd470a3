/*
 * oomwatch — who the OOM killer took.  See oomwatch.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "events.h"
#include "file.h"
#include "loop.h"
#include "oomwatch.h"
#include "output.h"
#include "supervisor.h"

/* Remembered SIGKILLs of ours, and victims named, in small rings. */
#define OOM_RING 32
/* A SIGKILL of ours explains a death for this long: a process in D state
 * can take a while to die. */
#define OOM_OURS_MS 30000
/* v1: after the OOM began, read again at 1, 2, 4 ... 128 ms. */
#define OOM_RETRIES 8
/* Processes a scan holds at most (each entry is about 56 bytes). */
#define OOM_SCAN_MAX 65536
/* Named in one go at most; the rest become one event with a count. */
#define OOM_NAMED_MAX 16
#define OOM_SVC_MAX 64

enum oom_mode {
	OOM_OFF, /* nothing to read */
	OOM_READ, /* read on reaping, output and exits */
	OOM_V1_EVENTFD, /* cgroup.event_control */
	OOM_V2_INOTIFY, /* inotify on memory.events */
};

struct oom_sent {
	pid_t pid, pgid;
	uint64_t at_ms;
};

struct oom_named {
	pid_t pid;
	uint64_t at_ms;
};

static struct {
	enum oom_mode mode;
	int version;
	bool pid1;
	pid_t self;
	char dir[512];
	char counter[600]; /* memory.events or memory.oom_control */
	const char *off_why; /* for the warning */
	int counter_fd;
	struct loop_io io; /* the eventfd or the inotify fd */
	unsigned long long seen; /* the kills dealt with */
	unsigned long long onsets; /* v2: the `oom` count */
	struct proctab before; /* the processes when the OOM began */
	bool have_before;
	struct loop_timer retry;
	unsigned int retries;
	bool poked; /* output arrived in this pass */
	int poke_svc; /* whose; -1 for several */
	struct oom_sent sent[OOM_RING];
	unsigned int sent_next;
	bool all_killed;
	struct oom_named named[OOM_RING];
	unsigned int named_next;
} w = { .counter_fd = -1, .io = { .fd = -1 } };

/* --- the choice (pure) --------------------------------------------------- */

size_t
oom_choose(const struct oom_facts *f, size_t *ret_named, size_t cap,
    unsigned long long *ret_rest, int *ret_rest_svc)
{
	size_t i, j, n = 0;

	for (i = 0; i < f->ncand && n < cap && n < f->kills; i++) {
		bool dup = f->cand[i].pid <= 0;

		for (j = 0; j < n && !dup; j++)
			dup = f->cand[ret_named[j]].pid == f->cand[i].pid;
		if (!dup)
			ret_named[n++] = i;
	}
	*ret_rest = f->kills - n;
	/*
	 * For kills nobody can be named for: the service that lost a
	 * process since the OOM began is the best witness; the one whose
	 * output or exit made us look comes next; a lone service last.
	 */
	*ret_rest_svc = f->lost_svc >= 0 ? f->lost_svc
	    : f->trigger_svc >= 0        ? f->trigger_svc
	                                 : f->only_svc;
	return n;
}

/* --- what agent-init did itself ------------------------------------------ */

void
oomwatch_sigkill(pid_t pid, pid_t pgid)
{
	struct oom_sent *e = NULL;
	size_t i;

	/* The same kill again (a restart waiting for an old group kills it
	 * every 10 ms): refresh it rather than push others out. */
	for (i = 0; i < OOM_RING && !e; i++)
		if (w.sent[i].at_ms && w.sent[i].pid == pid &&
		    w.sent[i].pgid == pgid)
			e = &w.sent[i];
	if (!e)
		e = &w.sent[w.sent_next++ % OOM_RING];
	e->pid = pid;
	e->pgid = pgid;
	e->at_ms = loop_now_ms();
}

void
oomwatch_sigkill_all(void)
{
	w.all_killed = true;
}

/* Did a SIGKILL of ours reach this process (pid, of group pgrp)? */
static bool
ours(pid_t pid, pid_t pgrp, uint64_t now)
{
	size_t i;

	if (w.all_killed)
		return true;
	for (i = 0; i < OOM_RING; i++) {
		const struct oom_sent *e = &w.sent[i];

		if (e->at_ms && now - e->at_ms < OOM_OURS_MS &&
		    ((e->pid > 0 && e->pid == pid) ||
		        (e->pgid > 0 && e->pgid == pgrp)))
			return true;
	}
	return false;
}

static void
remember_named(pid_t pid, uint64_t now)
{
	struct oom_named *e = &w.named[w.named_next++ % OOM_RING];

	e->pid = pid;
	e->at_ms = now;
}

static bool
named_since(pid_t pid, uint64_t since_ms)
{
	size_t i;

	for (i = 0; i < OOM_RING; i++)
		if (w.named[i].pid == pid && w.named[i].at_ms &&
		    w.named[i].at_ms >= since_ms)
			return true;
	return false;
}

/* --- the services -------------------------------------------------------- */

static size_t
service_ids(pid_t *roots, pid_t *groups)
{
	size_t i, n = sup_count();

	for (i = 0; i < n && i < OOM_SVC_MAX; i++) {
		const struct svc *s = sup_service(i);

		roots[i] = s->pid;
		groups[i] = s->pgid;
	}
	return i;
}

static int
svc_index(const struct svc *s)
{
	size_t i;

	for (i = 0; i < sup_count(); i++)
		if (sup_service(i) == s)
			return (int)i;
	return -1;
}

/* The one service with a process now, or -1. */
static int
only_service(void)
{
	size_t i;
	int found = -1;

	for (i = 0; i < sup_count(); i++)
		if (svc_alive(sup_service(i))) {
			if (found >= 0)
				return -1;
			found = (int)i;
		}
	return found;
}

/* As PID 1 everything is ours; otherwise only our descendants. */
static bool
in_scope(const struct proctab *t, pid_t pid)
{
	pid_t zero = 0;

	if (pid == w.self)
		return false;
	return w.pid1 || proctab_owner(t, pid, &w.self, &zero, 1) == 0;
}

/* --- reading the counter ------------------------------------------------- */

static int
read_counter(unsigned long long *ret_kills, unsigned long long *ret_onsets)
{
	char buf[1024];
	size_t n;

	if (w.counter_fd < 0 ||
	    file_reread(w.counter_fd, buf, sizeof(buf), &n) < 0 ||
	    cgroup_key(buf, "oom_kill", ret_kills) < 0)
		return -EIO;
	if (ret_onsets && cgroup_key(buf, "oom", ret_onsets) < 0)
		*ret_onsets = 0;
	return 0;
}

long long
oomwatch_count(void)
{
	unsigned long long k;

	return w.mode != OOM_OFF && read_counter(&k, NULL) == 0 ? (long long)k
	                                                        : -1;
}

static void
drop_before(void)
{
	if (w.have_before)
		proctab_free(&w.before);
	w.have_before = false;
}

/* The service that lost most processes since the OOM began, or -1. */
static int
lost_service(const struct proctab *now, const pid_t *roots, const pid_t *groups,
    size_t ns)
{
	unsigned int lost[OOM_SVC_MAX] = { 0 }, most = 0;
	size_t i;
	int k, best = -1;

	if (!w.have_before)
		return -1;
	for (i = 0; i < w.before.n; i++) {
		const struct proc_info *b = &w.before.p[i];
		const struct proc_info *a = proctab_get(now, b->pid);

		if (a && !proc_dying_of_sigkill(a))
			continue;
		if (!in_scope(&w.before, b->pid) ||
		    ours(b->pid, b->pgrp, loop_now_ms()))
			continue;
		k = proctab_owner(&w.before, b->pid, roots, groups, ns);
		if (k >= 0 && ++lost[k] > most) {
			most = lost[k];
			best = k;
		}
	}
	return best;
}

/* --- the event ----------------------------------------------------------- */

static void
bytes_field(const char *key, const char *file)
{
	unsigned long long v;

	if (cgroup_read_value(w.dir, file, &v) == 0)
		ev_int(key, (long long)v);
	else
		ev_null(key);
}

static void
emit(const struct oom_cand *c, int svc, unsigned long long count,
    unsigned long long total)
{
	const struct svc *s = svc >= 0 ? sup_service((size_t)svc) : NULL;

	ev_begin("oom_kill");
	if (c && c->pid > 0)
		ev_int("pid", c->pid);
	else
		ev_null("pid");
	if (c && *c->comm)
		ev_str("comm", c->comm);
	else
		ev_null("comm");
	if (s)
		ev_str("service", s->name);
	else
		ev_null("service");
	ev_int("count", (long long)count);
	ev_int("oom_kills", (long long)total);
	bytes_field("limit",
	    w.version == CGROUP_V2 ? "memory.max" : "memory.limit_in_bytes");
	bytes_field("peak",
	    w.version == CGROUP_V2 ? "memory.peak"
	                           : "memory.max_usage_in_bytes");
	ev_emit();
}

/* Processes visibly dying of SIGKILL now, not by our hand. */
static size_t
dying(const struct proctab *t, const pid_t *roots, const pid_t *groups,
    size_t ns, struct oom_cand *c, size_t cap, uint64_t now)
{
	size_t i, n = 0;

	for (i = 0; i < t->n && n < cap; i++) {
		const struct proc_info *p = &t->p[i];

		if (!proc_dying_of_sigkill(p) || !in_scope(t, p->pid) ||
		    ours(p->pid, p->pgrp, now) ||
		    named_since(p->pid,
		        now > OOM_OURS_MS ? now - OOM_OURS_MS : 0))
			continue;
		c[n].pid = p->pid;
		c[n].svc = proctab_owner(t, p->pid, roots, groups, ns);
		memcpy(c[n].comm, p->comm, sizeof(c[n].comm));
		n++;
	}
	return n;
}

/*
 * The counter went up by kills, to total: name what died.  trigger is
 * the service whose output or exit brought the read (or -1), reaped a
 * process we have just reaped after a SIGKILL (or NULL).
 */
static void
attribute(unsigned long long kills, unsigned long long total, int trigger,
    const struct oom_cand *reaped)
{
	struct oom_cand c[OOM_NAMED_MAX * 2];
	pid_t roots[OOM_SVC_MAX], groups[OOM_SVC_MAX];
	size_t named[OOM_NAMED_MAX], i, k, n = 0, ns;
	uint64_t now = loop_now_ms();
	struct oom_facts f;
	struct proctab t;
	unsigned long long rest;
	int rest_svc;

	ns = service_ids(roots, groups);
	if (proctab_scan(&t, OOM_SCAN_MAX) < 0)
		memset(&t, 0, sizeof(t));
	if (reaped)
		c[n++] = *reaped;
	n += dying(&t, roots, groups, ns, c + n, sizeof(c) / sizeof(c[0]) - n,
	    now);
	/* Caught dying while the snapshot was taken, gone since. */
	if (w.have_before)
		n += dying(&w.before, roots, groups, ns, c + n,
		    sizeof(c) / sizeof(c[0]) - n, now);
	memset(&f, 0, sizeof(f));
	f.cand = c;
	f.ncand = n;
	f.kills = kills;
	f.lost_svc = lost_service(&t, roots, groups, ns);
	f.trigger_svc = trigger;
	f.only_svc = only_service();
	k = oom_choose(&f, named, OOM_NAMED_MAX, &rest, &rest_svc);
	for (i = 0; i < k; i++) {
		emit(&c[named[i]], c[named[i]].svc, 1, total);
		remember_named(c[named[i]].pid, now);
	}
	if (rest)
		emit(NULL, rest_svc, rest, total);
	proctab_free(&t);
	drop_before();
	loop_timer_cancel(&w.retry);
}

/* Read the counter; on an increase, attribute it.  True if it went up. */
static bool
check(int trigger, const struct oom_cand *reaped)
{
	unsigned long long kills;

	if (w.mode == OOM_OFF || read_counter(&kills, NULL) < 0)
		return false;
	if (kills <= w.seen) {
		w.seen =
		    kills; /* a counter never goes down; a new cgroup may */
		return false;
	}
	attribute(kills - w.seen, kills, trigger, reaped);
	w.seen = kills;
	return true;
}

/* --- the ways of being told ---------------------------------------------- */

static void
on_retry(struct loop_timer *t)
{
	if (check(-1, NULL) || ++w.retries >= OOM_RETRIES) {
		drop_before();
		return;
	}
	loop_timer_arm(t, loop_now_ms() + (1u << w.retries));
}

/*
 * An OOM begins.  Keep what runs now, first: the victim is among it,
 * alive or already dying, even if its parent reaps it before we look
 * again.  Then the count, until it moves.
 */
static void
oom_begins(void)
{
	if (!w.have_before && proctab_scan(&w.before, OOM_SCAN_MAX) == 0)
		w.have_before = true;
	if (check(-1, NULL))
		return;
	w.retries = 0;
	loop_timer_arm(&w.retry, loop_now_ms() + 1);
}

static void
on_notify(struct loop_io *io, uint32_t revents)
{
	char buf[4096];
	unsigned long long kills, onsets;

	(void)revents;
	while (read(io->fd, buf, sizeof(buf)) > 0)
		; /* the eventfd's count, or inotify records: only "now" */
	if (w.mode == OOM_V1_EVENTFD) {
		oom_begins();
		return;
	}
	/* v2 signals every change of memory.events (high, max ...): only
	 * `oom` (it begins) and `oom_kill` matter. */
	if (read_counter(&kills, &onsets) < 0)
		return;
	if (kills > w.seen)
		(void)check(-1, NULL);
	else if (onsets > w.onsets)
		oom_begins();
	w.onsets = onsets;
}

static void
on_output(void *data)
{
	int k = svc_index(data);

	w.poke_svc = !w.poked || w.poke_svc == k ? k : -1;
	w.poked = true;
}

/* v2: inotify on memory.events. */
static int
watch_v2(void)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (inotify_add_watch(fd, w.counter, IN_MODIFY) < 0) {
		close(fd);
		return -errno;
	}
	w.io.fd = fd;
	return 0;
}

/*
 * v1: "EVENTFD OOM_CONTROL_FD" written to cgroup.event_control (the
 * kernel's Documentation/admin-guide/cgroup-v1/memory.rst, section 10).
 * A read-only cgroup (a container's) refuses the open: EROFS.
 */
static int
watch_v1(void)
{
	char path[600], line[32];
	int efd, cfd, r = 0;

	snprintf(path, sizeof(path), "%s/cgroup.event_control", w.dir);
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0)
		return -errno;
	cfd = open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	snprintf(line, sizeof(line), "%d %d", efd, w.counter_fd);
	if (cfd < 0 || write(cfd, line, strlen(line)) < 0)
		r = -errno;
	if (cfd >= 0)
		close(cfd);
	if (r < 0) {
		close(efd);
		return r;
	}
	w.io.fd = efd;
	return 0;
}

/* The counter of our memory cgroup, or why there is none. */
static int
open_counter(void)
{
	unsigned long long k;
	int v = cgroup_find("memory", w.dir, sizeof(w.dir));

	if (v < 0) {
		w.off_why = "no memory cgroup is mounted here";
		return v;
	}
	w.version = v;
	snprintf(w.counter, sizeof(w.counter), "%s/%s", w.dir,
	    v == CGROUP_V2 ? "memory.events" : "memory.oom_control");
	if (file_open(w.counter, &w.counter_fd) < 0) {
		w.off_why = "the memory cgroup has no such file";
		return -ENOENT;
	}
	if (read_counter(&k, &w.onsets) < 0) {
		w.off_why = "it has no oom_kill count (Linux 4.13 added it "
		            "to cgroup v1)";
		close(w.counter_fd);
		w.counter_fd = -1;
		return -ENOENT;
	}
	w.seen = k;
	return 0;
}

void
oomwatch_init(bool pid1)
{
	w.pid1 = pid1;
	w.self = getpid();
	w.retry.cb = on_retry;
	w.mode = OOM_OFF;
	if (open_counter() < 0)
		return;
	w.mode = OOM_READ;
	if ((w.version == CGROUP_V2 ? watch_v2() : watch_v1()) == 0) {
		w.io.events = EPOLLIN;
		w.io.cb = on_notify;
		if (loop_io_add(&w.io) == 0) {
			w.mode = w.version == CGROUP_V2 ? OOM_V2_INOTIFY
			                                : OOM_V1_EVENTFD;
			return;
		}
		close(w.io.fd);
		w.io.fd = -1;
	}
	/* Nobody tells us: look after each pass that read output. */
	output_on_input(on_output);
}

void
oomwatch_announce(const char *runtime)
{
	char detail[400];
	bool gvisor = runtime && strcmp(runtime, "gvisor") == 0;

	if (w.mode != OOM_OFF)
		return;
	snprintf(detail, sizeof(detail),
	    "OOM kills cannot be counted or named: %s%s; a service killed "
	    "by SIGKILL shows oom_killed false",
	    w.off_why ? w.off_why : "no memory cgroup",
	    gvisor ? " (gVisor: the host enforces the sandbox's memory limit "
	             "on the whole sandbox, out of its sight)"
	           : "");
	ev_begin("warning");
	ev_str("what", "oom_watch");
	if (*w.counter)
		ev_str("path", w.counter);
	else
		ev_null("path");
	ev_str("detail", detail);
	ev_emit();
}

/* --- the piggy-backed reads ---------------------------------------------- */

void
oomwatch_reap(void)
{
	(void)check(-1, NULL);
}

static bool
sigkilled(int wstatus)
{
	return WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL;
}

void
oomwatch_orphan(pid_t pid, int wstatus)
{
	struct oom_cand c = { .pid = pid, .svc = -1 };
	const struct proc_info *b;

	if (w.mode == OOM_OFF || !sigkilled(wstatus))
		return;
	/* What it was, if it ran when the OOM began. */
	if (w.have_before && (b = proctab_get(&w.before, pid))) {
		pid_t roots[OOM_SVC_MAX], groups[OOM_SVC_MAX];
		size_t ns = service_ids(roots, groups);

		if (ours(pid, b->pgrp, loop_now_ms()))
			return;
		memcpy(c.comm, b->comm, sizeof(c.comm));
		c.svc = proctab_owner(&w.before, pid, roots, groups, ns);
	} else if (ours(pid, 0, loop_now_ms()))
		return;
	(void)check(-1, &c);
}

/* The command name the kernel gave it at exec: argv[0]'s last part. */
static void
exec_comm(const struct svc *s, char *buf, size_t cap)
{
	const char *a = s->argv && s->argv[0] ? s->argv[0] : "";
	const char *slash = strrchr(a, '/');

	snprintf(buf, cap, "%s", slash ? slash + 1 : a);
}

bool
oomwatch_service_exit(const struct svc *s)
{
	struct oom_cand c = { .pid = s->pid };

	if (w.mode == OOM_OFF || !sigkilled(s->wstatus) || s->pid <= 0 ||
	    ours(s->pid, s->pgid, loop_now_ms()))
		return false;
	if (!named_since(s->pid, s->start_ms)) {
		c.svc = svc_index(s);
		exec_comm(s, c.comm, sizeof(c.comm));
		(void)check(c.svc, &c);
	}
	return named_since(s->pid, s->start_ms);
}

void
oomwatch_pass(void)
{
	if (!w.poked)
		return;
	w.poked = false;
	(void)check(w.poke_svc, NULL);
}
