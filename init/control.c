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
#include "file.h"
#include "follow.h"
#include "loop.h"
#include "output.h"
#include "recheck.h"
#include "status.h"
#include "supervisor.h"
#include "verbs.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

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
	struct client clients[CTL_NSLOTS];
	unsigned int count[CL_MAX];
} ctl;

struct client *
ctl_slot(size_t i)
{
	return &ctl.clients[i];
}

const struct control_opts *
ctl_opts(void)
{
	return &ctl.o;
}

static void
set_class(struct client *c, enum cls to)
{
	ctl.count[c->cls]--;
	ctl.count[to]++;
	c->cls = to;
}

void
ctl_drop(struct client *c)
{
	loop_timer_cancel(&c->timer);
	if (c->cls == CL_WAITER && c->wfor == W_CHECKS)
		recheck_forget(c); /* it went away: never call back */
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

void
ctl_reply(struct client *c, const char *s, size_t n)
{
	(void)send(c->io.fd, s, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	ctl_drop(c);
}

void
ctl_reply_json(struct client *c)
{
	const char *j;
	size_t n;

	if (!(j = json_end(&n))) {
		ctl_reply_error(c, "failed", "the answer is too large");
		return;
	}
	ctl_reply(c, j, n);
}

void
ctl_reply_json_linger(struct client *c)
{
	const char *j;
	size_t n;

	if (!(j = json_end(&n)) || ctl.count[CL_WAITER] >= limits[CL_WAITER]) {
		if (j)
			ctl_reply(c, j, n);
		else
			ctl_reply_error(c, "failed", "the answer is too large");
		return;
	}
	(void)send(c->io.fd, j, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	set_class(c, CL_WAITER);
	c->wfor = W_GONE;
	c->until = loop_now_ms() + CONTROL_LINGER_MS;
	(void)loop_io_mod(&c->io, EPOLLRDHUP);
	loop_timer_arm(&c->timer, c->until);
}

/* The process still runs: neither gone nor a zombie (/proc/PID/stat). */
static bool
peer_runs(pid_t pid)
{
	char path[40], *text, *p;
	size_t len;
	bool runs;

	if (pid <= 0) /* not in our PID namespace: our end is not its end */
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (file_read(path, FILE_PLANTED, 4096, 0, &text, &len) < 0)
		return false;
	p = strrchr(text, ')');
	runs = p && p[1] == ' ' && p[2] && p[2] != 'Z' && p[2] != 'X';
	free(text);
	return runs;
}

/*
 * A client told `shutdown` hung up, or its time is up.  It may close
 * before it exits (and the kernel kills what is left in our namespace
 * when we exit): wait on, looking every 10 ms, until its process is gone
 * too, or until c->until.
 */
static void
linger_check(struct client *c)
{
	uint64_t now = loop_now_ms(), next = now + 10;

	if (c->io.fd >= 0) {
		loop_io_del(&c->io);
		close(c->io.fd);
		c->io.fd = -1;
	}
	if (now < c->until && peer_runs(c->cred.pid))
		loop_timer_arm(&c->timer, next < c->until ? next : c->until);
	else
		ctl_drop(c);
}

/* {"error": MSG, "code": CODE}: our own short messages always fit. */
static const char *
error_json(const char *code, const char *msg, size_t *ret_len)
{
	const char *j;

	json_begin(STATUS_MAX);
	ev_str("error", msg);
	ev_str("code", code);
	j = json_end(ret_len);
	if (!j) {
		*ret_len = 3;
		return "{}\n";
	}
	return j;
}

void
ctl_reply_error(struct client *c, const char *code, const char *msg)
{
	const char *j;
	size_t n;

	j = error_json(code, msg, &n);
	ctl_reply(c, j, n);
}

/* --- the `control` event ------------------------------------------------ */

void
ctl_event(const struct client *c, const char *verb, const char *service,
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

/* {"ready": READY[, "reason": WHY]}, copied out of the builder: it is
 * sent to every waiting client. */
static const char *
ready_json(bool ready, const char *why)
{
	static char answer[1024];
	const char *j;
	size_t n;

	json_begin(sizeof(answer) - 1);
	ev_bool("ready", ready);
	if (why)
		ev_str("reason", why);
	if (!(j = json_end(&n)))
		return "{\"ready\":false}\n"; /* cannot happen: it fits */
	memcpy(answer, j, n);
	answer[n] = 0;
	return answer;
}

/* What wait-ready answers, or NULL while there is nothing to say yet. */
static const char *
wait_answer(void)
{
	const struct svc *failed = NULL;
	char reason[400];
	size_t i;

	if (sup_ready() && sup_running())
		return ready_json(true, NULL);
	if (!sup_running())
		return ready_json(false, "shutting down");
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
	return ready_json(false, reason);
}

/* Park c until something happens: it may only hang up meanwhile. */
bool
ctl_park(struct client *c, enum cls cls)
{
	if (ctl.count[cls] >= limits[cls]) {
		ctl_reply_error(c, "too_many",
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
		ctl_reply(c, w, strlen(w));
	else if (ctl_park(c, CL_WAITER))
		c->wfor = W_READY;
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
		ctl_event(c, verb, service, "ok");
}

static void
do_status(struct client *c)
{
	const char *j;
	size_t n;

	if ((j = status_json(false, &n)))
		ctl_reply(c, j, n);
	else
		ctl_reply_error(c, "failed", "status too large");
}

static void
dispatch(struct client *c, char **w, size_t n)
{
	if (n == 1 && is(w[0], "status")) {
		read_event(c, "status", NULL);
		do_status(c);
	} else if (n == 1 && is(w[0], "wait-ready")) {
		read_event(c, "wait-ready", NULL);
		do_wait_ready(c);
	} else if (n == 2 && is(w[0], "state")) {
		verb_state(c, w[1]);
	} else if (n == 4 && is(w[0], "logs")) {
		read_event(c, "logs", w[1]);
		verb_logs(c, w[1], w[2], w[3]);
	} else if (n == 2 &&
	    (is(w[0], "start") || is(w[0], "stop") || is(w[0], "restart"))) {
		verb_act(c, w[0], w[1]);
	} else if ((n == 3 || n == 4) && is(w[0], "signal")) {
		verb_signal(c, w[1], w[2], n == 4 ? w[3] : NULL);
	} else if (n == 1 && is(w[0], "checks")) {
		verb_checks(c);
	} else
		ctl_reply_error(c, "bad_request",
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
			ctl_reply_error(c, "bad_request", "request too long");
		return;
	}
	*nl = 0;
	if (nl > c->req && nl[-1] == '\r')
		nl[-1] = 0;
	n = split(c->req, w);
	if (n == 0 || n > MAX_WORDS) {
		ctl_reply_error(c, "bad_request", "bad request");
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
			ctl_drop(c);
		else if (revents & EPOLLOUT)
			verbs_pump(c);
		return;
	}
	if (c->cls == CL_WAITER) {
		/* The only thing a waiter can do is hang up. */
		if (!(revents & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
			return;
		if (c->wfor == W_GONE)
			linger_check(c);
		else
			ctl_drop(c);
		return;
	}
	n = recv(io->fd, c->req + c->len, CONTROL_REQ_MAX - c->len,
	    MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		ctl_drop(c);
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
		ctl_reply_error(c, "bad_request", "no request within 2 s");
	else if (c->cls == CL_WAITER && c->wfor == W_GONE)
		linger_check(c);
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
	for (i = 0; i < CTL_NSLOTS; i++)
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
		ctl_reply_error(c, "denied",
		    ctl.o.group_set
		        ? "permission denied: not root, our uid or a member "
		          "of control_group"
		        : "permission denied: not root or our uid");
		return;
	}
	if (loop_io_add(&c->io) < 0) {
		ctl_drop(c);
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
			size_t n;
			const char *busy = error_json("busy", "busy", &n);

			(void)send(fd, busy, n, MSG_DONTWAIT | MSG_NOSIGNAL);
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
	for (i = 0; i < (int)CTL_NSLOTS; i++)
		ctl.clients[i].io.fd = -1;
	output_on_log(verbs_on_log);
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
	for (i = 0; i < CTL_NSLOTS; i++) {
		struct client *c = &ctl.clients[i];

		if (c->cls == CL_WAITER && c->wfor == W_READY)
			ctl_reply(c, w, strlen(w));
	}
}

static bool
lingering(void)
{
	size_t i;

	for (i = 0; i < CTL_NSLOTS; i++)
		if (ctl.clients[i].cls == CL_WAITER &&
		    ctl.clients[i].wfor == W_GONE)
			return true;
	return false;
}

void
control_linger(void)
{
	/* Each such client's timer drops it; the deadline guards the loop. */
	uint64_t end = loop_now_ms() + CONTROL_LINGER_MS;

	while (lingering() && loop_now_ms() < end)
		(void)loop_run_once();
}

void
control_close(void)
{
	size_t i;

	for (i = 0; i < CTL_NSLOTS; i++)
		if (ctl.clients[i].cls != CL_FREE)
			ctl_drop(&ctl.clients[i]);
	if (ctl.listening) {
		loop_timer_cancel(&ctl.accept_timer);
		loop_io_del(&ctl.io);
		close(ctl.io.fd);
		(void)unlink(ctl.path);
		ctl.listening = false;
	}
}
