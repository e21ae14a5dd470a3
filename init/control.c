/*
 * control — the control socket's server, in PID 1's loop.  See control.h;
 * the clients (`agent-init status`, `wait-ready`, `ctl`) are in ctl.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "events.h"
#include "follow.h"
#include "loop.h"
#include "output.h"
#include "signals.h"
#include "status.h"
#include "supervisor.h"
#include "values.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

/* What a connection is, each kind with its own limit (control.h). */
enum cls { CL_FREE, CL_REQUEST, CL_WAITER, CL_FOLLOWER, CL_MAX };
enum wait_for { W_READY, W_CHECKS };

#define NSLOTS \
	(CONTROL_MAX_CLIENTS + CONTROL_MAX_WAITERS + CONTROL_MAX_FOLLOWERS)

struct client {
	struct loop_io io;
	struct loop_timer timer;
	enum cls cls;
	enum wait_for wfor;
	struct ucred cred;
	char req[CONTROL_REQ_MAX + 1];
	size_t len;
	struct follow *f;
};

static const unsigned int limits[CL_MAX] = {
	[CL_REQUEST] = CONTROL_MAX_CLIENTS,
	[CL_WAITER] = CONTROL_MAX_WAITERS,
	[CL_FOLLOWER] = CONTROL_MAX_FOLLOWERS,
};

static struct {
	struct control_opts o;
	struct loop_io io;
	struct loop_timer accept_timer; /* accepting again after EMFILE */
	char path[108];
	bool listening;
	struct client clients[NSLOTS];
	unsigned int count[CL_MAX];
	struct jbuf reply; /* one reply at a time: PID 1 has one thread */
} ctl;

static void
set_class(struct client *c, enum cls to)
{
	ctl.count[c->cls]--;
	ctl.count[to]++;
	c->cls = to;
}

static void
drop(struct client *c)
{
	loop_timer_cancel(&c->timer);
	if (c->f) {
		follow_service(c->f)->out.followers--;
		follow_free(c->f);
		c->f = NULL;
	}
	if (c->io.fd >= 0) {
		loop_io_del(&c->io);
		close(c->io.fd);
	}
	c->io.fd = -1;
	if (c->cls != CL_FREE)
		set_class(c, CL_FREE);
}

static void
reply(struct client *c, const char *s, size_t n)
{
	(void)send(c->io.fd, s, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	drop(c);
}

static void
reply_jbuf(struct client *c)
{
	reply(c, ctl.reply.b, ctl.reply.len);
}

static void
reply_error(struct client *c, const char *code, const char *msg)
{
	struct jbuf *j = &ctl.reply;

	jb_reset(j);
	jb_raw(j, "{\"error\":");
	jb_str(j, msg);
	jb_raw(j, ",\"code\":\"%s\"}\n", code);
	reply_jbuf(c);
}

/* --- the `control` event ------------------------------------------------ */

static void
emit_control(const struct client *c, const char *verb, const char *service,
    const char *result)
{
	ev_begin("control");
	ev_str("verb", verb);
	if (service)
		ev_str("service", service);
	else
		ev_null("service");
	ev_int("peer_uid", (long long)c->cred.uid);
	ev_int("peer_pid", (long long)c->cred.pid);
	ev_str("result", result);
	ev_emit();
}

/* --- who may ask ---------------------------------------------------------- */

static bool
in_group(int fd, gid_t primary)
{
	gid_t groups[256];
	socklen_t len = sizeof(groups);
	size_t i;

	if (primary == ctl.o.group)
		return true;
	/* The peer's supplementary groups (Linux 4.13); without them, the
	 * primary group alone counts. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false;
	for (i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == ctl.o.group)
			return true;
	return false;
}

static bool
peer_allowed(int fd, struct ucred *ret)
{
	socklen_t len = sizeof(*ret);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, ret, &len) < 0)
		return false;
	if (ret->uid == 0 || ret->uid == geteuid())
		return true;
	return ctl.o.group_set && in_group(fd, ret->gid);
}

/* --- reads ------------------------------------------------------------------ */

/* What wait-ready answers, or NULL while there is nothing to say yet. */
static const char *
wait_answer(void)
{
	static struct jbuf j;
	const struct svc *failed = NULL;
	char reason[400];
	size_t i;

	if (sup_ready() && sup_running())
		return "{\"ready\":true}\n";
	if (!sup_running())
		return "{\"ready\":false,\"reason\":\"shutting down\"}\n";
	for (i = 0; i < sup_count() && !failed; i++) {
		const struct svc *s = sup_service(i);

		if (s->state == SVC_FAILED && (s->main || s->required))
			failed = s;
	}
	if (!failed && !sup_stalled())
		return NULL;
	/* Ready cannot come: say which service stands in the way. */
	for (i = 0; i < sup_count() && !failed; i++) {
		const struct svc *s = sup_service(i);

		if (s->state == SVC_FAILED || s->state == SVC_EXITED)
			failed = s;
	}
	snprintf(reason, sizeof(reason), "service %s %s before ready: %s",
	    failed ? failed->name : "?",
	    failed && failed->state == SVC_FAILED ? "failed" : "ended",
	    failed ? failed->reason : "");
	jb_reset(&j);
	jb_raw(&j, "{\"ready\":false,\"reason\":");
	jb_str(&j, reason);
	jb_raw(&j, "}\n");
	return j.b;
}

/* Park c until something happens: it may only hang up meanwhile. */
static bool
park(struct client *c, enum cls cls)
{
	if (ctl.count[cls] >= limits[cls]) {
		reply_error(c, "too_many",
		    cls == CL_FOLLOWER ? "too many log followers"
		                       : "too many waiting clients");
		return false;
	}
	set_class(c, cls);
	loop_timer_cancel(&c->timer);
	(void)loop_io_mod(&c->io, EPOLLRDHUP);
	return true;
}

static void
do_wait_ready(struct client *c)
{
	const char *w = wait_answer();

	if (w)
		reply(c, w, strlen(w));
	else if (park(c, CL_WAITER))
		c->wfor = W_READY;
}

static struct svc *
find_or_error(struct client *c, const char *name)
{
	struct svc *s = name ? sup_find(name) : NULL;
	char msg[120];

	if (!s) {
		snprintf(msg, sizeof(msg), "no service '%.60s'",
		    name ? name : "");
		reply_error(c, "no_such_service", msg);
	}
	return s;
}

static void
do_state(struct client *c, const char *name)
{
	struct svc *s = find_or_error(c, name);

	if (!s)
		return;
	jb_reset(&ctl.reply);
	status_service_json(&ctl.reply, s);
	jb_raw(&ctl.reply, "\n");
	reply_jbuf(c);
}

/* --- logs ------------------------------------------------------------------- */

static void
pump_follower(struct client *c)
{
	switch (follow_pump(c->f, c->io.fd)) {
	case FOLLOW_IDLE:
		(void)loop_io_mod(&c->io, EPOLLRDHUP);
		break;
	case FOLLOW_BLOCKED:
		(void)loop_io_mod(&c->io, EPOLLRDHUP | EPOLLOUT);
		break;
	case FOLLOW_DONE:
	case FOLLOW_GONE:
		drop(c);
		break;
	}
}

/* New lines of a service: every follower of it gets its turn. */
static void
on_log(struct svc_out *o)
{
	size_t i;

	for (i = 0; i < NSLOTS; i++) {
		struct client *c = &ctl.clients[i];

		if (c->cls == CL_FOLLOWER && &follow_service(c->f)->out == o)
			pump_follower(c);
	}
}

static void
do_logs(struct client *c, const char *name, const char *last, const char *mode)
{
	struct svc *s = find_or_error(c, name);
	unsigned long n = 0;
	bool follow;
	char head[160];
	int hl;

	if (!s)
		return;
	if (!last || !mode ||
	    (strcmp(last, "all") != 0 && value_uint(last, ~0UL, &n) < 0) ||
	    (strcmp(mode, "follow") != 0 && strcmp(mode, "once") != 0)) {
		reply_error(c, "bad_request",
		    "usage: logs NAME LINES|all follow|once");
		return;
	}
	if (s->out.mode == OUTPUT_RAW) {
		reply_error(c, "not_captured",
		    "its output is raw (not captured): nothing is kept");
		return;
	}
	follow = strcmp(mode, "follow") == 0;
	if (!park(c, CL_FOLLOWER))
		return;
	hl = snprintf(head, sizeof(head),
	    "{\"ok\":true,\"service\":\"%s\",\"follow\":%s}\n", s->name,
	    follow ? "true" : "false");
	c->f = follow_new(s, strcmp(last, "all") == 0 ? UINT64_MAX : n, follow,
	    head, (size_t)hl);
	if (!c->f) {
		drop(c);
		return;
	}
	s->out.followers++;
	pump_follower(c);
}

/* --- checks ------------------------------------------------------------------ */

static void
checks_reply(struct jbuf *j)
{
	struct check_summary sm;
	size_t i;

	jb_reset(j);
	jb_raw(j, "{\"ok\":true,\"checks\":[");
	for (i = 0; i < checks_count(); i++) {
		const struct check_result *r = checks_result(i);

		jb_raw(j, "%s{\"check\":", i ? "," : "");
		jb_str(j, r->check);
		jb_raw(j, ",\"name\":");
		jb_str(j, r->name);
		jb_raw(j, ",\"target\":");
		jb_str(j, r->target);
		jb_raw(j, ",\"status\":");
		jb_str(j, r->status ? r->status : "pending");
		jb_raw(j, ",\"code\":");
		jb_str(j, r->code);
		jb_raw(j, ",\"detail\":");
		jb_str(j, r->detail);
		jb_raw(j, ",\"hint\":");
		jb_str(j, r->hint);
		jb_raw(j, ",\"required\":%s}", r->required ? "true" : "false");
	}
	checks_summary(&sm);
	jb_raw(j,
	    "],\"summary\":{\"ok\":%u,\"warn\":%u,\"fail\":%u,\"skip\":%u,"
	    "\"elapsed_ms\":%llu}}\n",
	    sm.ok, sm.warn, sm.fail, sm.skip,
	    (unsigned long long)sm.elapsed_ms);
	if (j->full) {
		jb_reset(j);
		jb_raw(j,
		    "{\"error\":\"verdicts too large\",\"code\":"
		    "\"failed\"}\n");
	}
}

static void
on_checks_timer(struct loop_timer *t)
{
	struct client *c = t->data;

	if (c->cls == CL_WAITER && c->wfor == W_CHECKS)
		reply_error(c, "failed", "the checks did not end in time");
}

static void
do_checks(struct client *c)
{
	int r;

	if (!ctl.o.checks) {
		emit_control(c, "checks", NULL, "unavailable");
		reply_error(c, "failed", "no checks in this mode");
		return;
	}
	/* The event first: the run's own `check` events come after it. */
	r = checks_can_rerun();
	emit_control(c, "checks", NULL,
	    r == -EAGAIN      ? "busy"
	        : r == -EBUSY ? "joined"
	                      : "started");
	if (r == 0)
		r = checks_rerun(ctl.o.checks);
	if (r == -EAGAIN) {
		reply_error(c, "busy",
		    "a background check (tunnel) of the last run still runs; "
		    "try again once it has its verdict");
		return;
	}
	if (!park(c, CL_WAITER))
		return;
	c->wfor = W_CHECKS;
	/* The run has its own deadline; this only guards it. */
	c->timer.cb = on_checks_timer;
	loop_timer_arm(&c->timer,
	    loop_now_ms() + ctl.o.checks->timeout_ms + 5000);
	/* Checks without a socket end at once, inside checks_rerun(). */
	if (checks_finished())
		control_checks_done();
}

void
control_checks_done(void)
{
	size_t i;
	bool built = false;

	for (i = 0; i < NSLOTS; i++) {
		struct client *c = &ctl.clients[i];

		if (c->cls != CL_WAITER || c->wfor != W_CHECKS)
			continue;
		if (!built)
			checks_reply(&ctl.reply);
		built = true;
		(void)send(c->io.fd, ctl.reply.b, ctl.reply.len,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		drop(c);
	}
}

/* --- the verbs that act ---------------------------------------------------- */

static const char *
verb_result(const char *verb, int r, const struct svc *s)
{
	if (r == SUP_HOLD_SHUTDOWN)
		return "shutdown";
	if (r == -EALREADY)
		return strcmp(verb, "stop") == 0 ? "already stopped"
		                                 : "already running";
	if (strcmp(verb, "stop") == 0)
		return s->state == SVC_STOPPED ? "stopped" : "stopping";
	return strcmp(verb, "start") == 0 ? "starting" : "restarting";
}

static void
reply_done(struct client *c, const char *verb, const struct svc *s,
    const char *result)
{
	struct jbuf *j = &ctl.reply;

	jb_reset(j);
	jb_raw(j, "{\"ok\":true,\"verb\":\"%s\",\"service\":", verb);
	jb_str(j, s->name);
	jb_raw(j, ",\"result\":\"%s\",\"state\":\"%s\",\"attempt\":%u}\n",
	    result, svc_state_name(s->state), s->attempt);
	reply_jbuf(c);
}

static void
do_verb(struct client *c, const char *verb, const char *name)
{
	struct svc *s = find_or_error(c, name);
	char note[160];
	const char *res;
	int r;

	if (!s) {
		emit_control(c, verb, name, "no_such_service");
		return;
	}
	if (strcmp(verb, "stop") == 0) {
		snprintf(note, sizeof(note),
		    "stopped by ctl stop (uid %u, pid %d)",
		    (unsigned int)c->cred.uid, (int)c->cred.pid);
		r = sup_hold(s, note);
	} else if (strcmp(verb, "start") == 0)
		r = sup_release(s);
	else
		r = sup_restart(s);
	if (r == -ESHUTDOWN) {
		emit_control(c, verb, s->name, "shutting_down");
		reply_error(c, "shutting_down", "the sandbox is shutting down");
		return;
	}
	res = verb_result(verb, r, s);
	emit_control(c, verb, s->name, res);
	reply_done(c, verb, s, res);
}

static void
do_signal(struct client *c, const char *num, const char *name,
    const char *group)
{
	struct svc *s = find_or_error(c, name);
	unsigned long sig;
	char signame[24], buf[40];

	if (!s) {
		emit_control(c, "signal", name, "no_such_service");
		return;
	}
	if (!num || value_uint(num, 64, &sig) < 0 || sig == 0 ||
	    (group && strcmp(group, "group") != 0)) {
		reply_error(c, "bad_request",
		    "usage: signal SIGNUM NAME [group]");
		return;
	}
	if (!sup_running()) {
		emit_control(c, "signal", s->name, "shutting_down");
		reply_error(c, "shutting_down", "the sandbox is shutting down");
		return;
	}
	if (!svc_signal(s, (int)sig, group != NULL)) {
		emit_control(c, "signal", s->name, "not_running");
		reply_error(c, "not_running", "it has no process to signal");
		return;
	}
	snprintf(buf, sizeof(buf), "sent %s",
	    sig_name((int)sig, signame, sizeof(signame)));
	emit_control(c, "signal", s->name, buf);
	reply_done(c, "signal", s, buf);
}

/* --- one request ------------------------------------------------------------ */

#define MAX_WORDS 5

static size_t
split(char *line, char **w)
{
	size_t n = 0;
	char *save = NULL, *t;

	for (t = strtok_r(line, " ", &save); t && n < MAX_WORDS;
	     t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	return t ? MAX_WORDS + 1 : n;
}

static bool
is(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

/* A read: an event only with -v. */
static void
read_event(const struct client *c, const char *verb, const char *service)
{
	if (ctl.o.verbose)
		emit_control(c, verb, service, "ok");
}

static void
dispatch(struct client *c, char **w, size_t n)
{
	if (n == 1 && is(w[0], "status")) {
		read_event(c, "status", NULL);
		status_json(&ctl.reply, false);
		reply_jbuf(c);
	} else if (n == 1 && is(w[0], "wait-ready")) {
		read_event(c, "wait-ready", NULL);
		do_wait_ready(c);
	} else if (n == 2 && is(w[0], "state")) {
		do_state(c, w[1]);
	} else if (n == 4 && is(w[0], "logs")) {
		read_event(c, "logs", w[1]);
		do_logs(c, w[1], w[2], w[3]);
	} else if (n == 2 &&
	    (is(w[0], "start") || is(w[0], "stop") || is(w[0], "restart"))) {
		do_verb(c, w[0], w[1]);
	} else if ((n == 3 || n == 4) && is(w[0], "signal")) {
		do_signal(c, w[1], w[2], n == 4 ? w[3] : NULL);
	} else if (n == 1 && is(w[0], "checks")) {
		do_checks(c);
	} else
		reply_error(c, "bad_request",
		    "unknown request (status, wait-ready, state, start, stop, "
		    "restart, signal, logs, checks)");
}

static void
answer(struct client *c)
{
	char *nl = memchr(c->req, '\n', c->len), *w[MAX_WORDS + 1];
	size_t n;

	if (!nl) {
		if (c->len >= CONTROL_REQ_MAX)
			reply_error(c, "bad_request", "request too long");
		return;
	}
	*nl = 0;
	if (nl > c->req && nl[-1] == '\r')
		nl[-1] = 0;
	n = split(c->req, w);
	if (n == 0 || n > MAX_WORDS) {
		reply_error(c, "bad_request", "bad request");
		return;
	}
	dispatch(c, w, n);
}

static void
on_client(struct loop_io *io, uint32_t revents)
{
	struct client *c = io->data;
	ssize_t n;

	if (c->cls == CL_FOLLOWER) {
		if (revents & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			drop(c);
		else if (revents & EPOLLOUT)
			pump_follower(c);
		return;
	}
	if (c->cls == CL_WAITER) {
		/* The only thing a waiter can do is hang up. */
		if (revents & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			drop(c);
		return;
	}
	n = recv(io->fd, c->req + c->len, CONTROL_REQ_MAX - c->len,
	    MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop(c);
		return;
	}
	c->len += (size_t)n;
	c->req[c->len] = 0;
	answer(c);
}

static void
on_client_timer(struct loop_timer *t)
{
	struct client *c = t->data;

	if (c->cls == CL_REQUEST)
		reply_error(c, "bad_request", "no request within 2 s");
}

/* --- accepting ------------------------------------------------------------- */

static void
on_accept_timer(struct loop_timer *t)
{
	(void)t;
	(void)loop_io_mod(&ctl.io, EPOLLIN);
}

/*
 * Out of descriptors (or memory): the pending connection stays in the
 * backlog and the socket stays readable, so epoll (level-triggered)
 * would call us again at once, for ever, a PID 1 spinning at 100% CPU.
 * Stop watching for a while instead; the client waits in the backlog
 * and is served once a descriptor is free.
 */
static void
pause_accepting(void)
{
	(void)loop_io_mod(&ctl.io, 0);
	loop_timer_arm(&ctl.accept_timer,
	    loop_now_ms() + CONTROL_ACCEPT_PAUSE_MS);
}

static struct client *
free_slot(void)
{
	size_t i;

	if (ctl.count[CL_REQUEST] >= CONTROL_MAX_CLIENTS)
		return NULL;
	for (i = 0; i < NSLOTS; i++)
		if (ctl.clients[i].cls == CL_FREE)
			return &ctl.clients[i];
	return NULL;
}

static void
take(struct client *c, int fd)
{
	memset(c, 0, sizeof(*c));
	c->cls = CL_FREE;
	set_class(c, CL_REQUEST);
	c->io.fd = fd;
	c->io.events = EPOLLIN | EPOLLRDHUP;
	c->io.cb = on_client;
	c->io.data = c;
	c->timer.cb = on_client_timer;
	c->timer.data = c;
	if (!peer_allowed(fd, &c->cred)) {
		reply_error(c, "denied",
		    ctl.o.group_set
		        ? "permission denied: not root, our uid or a member "
		          "of control_group"
		        : "permission denied: not root or our uid");
		return;
	}
	if (loop_io_add(&c->io) < 0) {
		drop(c);
		return;
	}
	loop_timer_arm(&c->timer, loop_now_ms() + CONTROL_REQ_TIMEOUT_MS);
}

static void
on_accept(struct loop_io *io, uint32_t revents)
{
	int i, fd;

	(void)revents;
	/* A bounded number per wake-up, so a flood cannot starve the loop. */
	for (i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct client *c;

		fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				pause_accepting();
			return;
		}
		if (!(c = free_slot())) {
			static const char busy[] =
			    "{\"error\":\"busy\",\"code\":\"busy\"}\n";

			(void)send(fd, busy, sizeof(busy) - 1,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
			close(fd);
			continue;
		}
		take(c, fd);
	}
}

/* --- the socket ------------------------------------------------------------ */

static void
warn(const char *path, const char *what, int err)
{
	ev_begin("warning");
	ev_str("what", "control_socket");
	ev_str("path", path);
	ev_str("detail", what);
	ev_str("error", strerror(err));
	ev_emit();
}

/*
 * The directory of the socket decides who can replace it: whoever may
 * remove entries there can put a socket of their own in its place and
 * answer `status` and `wait-ready` for us.  So it must be a directory
 * (not through a symlink someone else planted), owned by root or by us,
 * and writable by no one else (unless sticky, as /tmp: then only the
 * owner of the socket, us, may remove it).
 */
static int
safe_dir(const char *dir)
{
	struct stat st;

	if (lstat(dir, &st) < 0)
		return -errno;
	/* A symlink of ours or root's (/var/run -> /run) is the operator's
	 * choice: judge where it leads.  Anyone else's was planted. */
	if (S_ISLNK(st.st_mode)) {
		if (st.st_uid != 0 && st.st_uid != geteuid())
			return -ELOOP;
		if (stat(dir, &st) < 0)
			return -errno;
	}
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return -EPERM;
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
		return -EPERM;
	return 0;
}

/* A new socket at path, or -errno (with its warning). */
static int
open_socket(const char *path, struct sockaddr_un *un)
{
	struct stat st;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		warn(path, "socket", errno);
		return -errno;
	}
	memset(un, 0, sizeof(*un));
	un->sun_family = AF_UNIX;
	memcpy(un->sun_path, path, strlen(path));
	/*
	 * A stale socket from an earlier run (same container restarted) is
	 * in the way: remove it, but only if it is a socket — never a file
	 * someone put there — and only if nothing answers on it (a
	 * non-blocking connect to a unix socket answers at once).
	 */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		if (connect(fd, (struct sockaddr *)un, sizeof(*un)) == 0 ||
		    errno == EAGAIN) {
			close(fd);
			warn(path, "in use by another agent-init", EADDRINUSE);
			return -EADDRINUSE;
		}
		(void)unlink(path);
		close(fd);
		return open_socket(path, un);
	}
	return fd;
}

/*
 * Bind with the mode set by the umask (fchmod does not apply to a
 * socket's file): 0600, or 0660 with its group set to control_group.
 * A group that cannot be set leaves it 0600, with a warning.
 */
static int
bind_socket(int fd, const char *path, const struct sockaddr_un *un)
{
	mode_t old = umask(ctl.o.group_set ? 0117 : 0177);
	int r = bind(fd, (const struct sockaddr *)un, sizeof(*un));
	int e = errno;

	(void)umask(old);
	if (r < 0) {
		warn(path, "bind", e);
		return -e;
	}
	if (ctl.o.group_set && lchown(path, (uid_t)-1, ctl.o.group) < 0) {
		e = errno;
		(void)chmod(path, 0600);
		warn(path, "control_group: cannot give the socket its group",
		    e);
	}
	return 0;
}

int
control_listen(const struct control_opts *o)
{
	struct sockaddr_un un;
	char dir[108], *slash;
	const char *path = o->path;
	int fd, i;

	ctl.o = *o;
	for (i = 0; i < (int)NSLOTS; i++)
		ctl.clients[i].io.fd = -1;
	output_on_log(on_log);
	checks_on_finish(control_checks_done);
	if (!path || !*path)
		return 0;
	if (strlen(path) >= sizeof(un.sun_path)) {
		warn(path, "path too long", ENAMETOOLONG);
		return -ENAMETOOLONG;
	}
	/* Our default directory may not exist yet; 0755 as /run has. */
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		(void)mkdir(dir, 0755);
	} else
		snprintf(dir, sizeof(dir), "%s", slash ? "/" : ".");
	if ((i = safe_dir(dir)) < 0) {
		warn(dir, "unsafe directory for the control socket", -i);
		return i;
	}
	if ((fd = open_socket(path, &un)) < 0)
		return fd;
	if ((i = bind_socket(fd, path, &un)) < 0) {
		close(fd);
		return i;
	}
	if (listen(fd, CONTROL_MAX_CLIENTS) < 0) {
		int e = errno;

		close(fd);
		(void)unlink(path);
		warn(path, "listen", e);
		return -e;
	}
	ctl.io.fd = fd;
	ctl.io.events = EPOLLIN;
	ctl.io.cb = on_accept;
	ctl.io.data = NULL;
	ctl.accept_timer.cb = on_accept_timer;
	if (loop_io_add(&ctl.io) < 0) {
		close(fd);
		(void)unlink(path);
		return -errno;
	}
	snprintf(ctl.path, sizeof(ctl.path), "%s", path);
	ctl.listening = true;
	return 0;
}

void
control_notify(void)
{
	const char *w = wait_answer();
	size_t i;

	if (!w)
		return;
	for (i = 0; i < NSLOTS; i++) {
		struct client *c = &ctl.clients[i];

		if (c->cls == CL_WAITER && c->wfor == W_READY)
			reply(c, w, strlen(w));
	}
}

void
control_close(void)
{
	size_t i;

	for (i = 0; i < NSLOTS; i++)
		if (ctl.clients[i].cls != CL_FREE)
			drop(&ctl.clients[i]);
	if (ctl.listening) {
		loop_timer_cancel(&ctl.accept_timer);
		loop_io_del(&ctl.io);
		close(ctl.io.fd);
		(void)unlink(ctl.path);
		ctl.listening = false;
	}
}
