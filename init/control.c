/*
 * control — the control socket and its clients.  See control.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "events.h"
#include "loop.h"
#include "signals.h"
#include "supervisor.h"
#include "values.h"

#define REPLY_MAX 16384

struct client {
	struct loop_io io;
	struct loop_timer timer;
	bool used;
	bool waiting; /* wait-ready: answer at the next readiness change */
	char req[CONTROL_REQ_MAX + 1];
	size_t len;
};

static struct {
	struct loop_io io;
	struct loop_timer accept_timer; /* accepting again after EMFILE */
	char path[108];
	bool listening;
	struct client clients[CONTROL_MAX_CLIENTS];
} ctl;

/* How the last run ended: {"code": N}, {"signal": "NAME"} or null. */
static void
last_exit_json(const struct svc *s)
{
	char buf[24];

	if (!s->has_exited) {
		ev_null("last_exit");
		return;
	}
	ev_obj_begin("last_exit");
	if (WIFSIGNALED(s->wstatus))
		ev_str("signal",
		    sig_name(WTERMSIG(s->wstatus), buf, sizeof(buf)));
	else
		ev_int("code", WEXITSTATUS(s->wstatus));
	ev_obj_end();
}

/* The answer to `status`, built with the event builder; NULL when it
 * does not fit in a reply. */
static const char *
status_json(size_t *ret_len)
{
	size_t i, n = sup_count();

	json_begin(REPLY_MAX);
	ev_bool("ready", sup_ready());
	ev_bool("healthy", sup_healthy());
	ev_str("phase", sup_running() ? "running" : "stopping");
	ev_arr_begin("services");
	for (i = 0; i < n; i++) {
		const struct svc *s = sup_service(i);

		ev_obj_begin(NULL);
		ev_str("name", s->name);
		ev_str("state", svc_state_name(s->state));
		ev_int("pid", svc_alive(s) ? (int)s->pid : 0);
		ev_bool("ready", s->state == SVC_READY);
		ev_bool("main", s->main);
		ev_bool("required", s->required);
		ev_int("attempt", s->attempt);
		ev_int("restarts", s->restarts);
		last_exit_json(s);
		if (s->state == SVC_FAILED)
			ev_str("reason", s->reason);
		ev_obj_end();
	}
	ev_arr_end();
	return json_end(ret_len);
}

static void
drop(struct client *c)
{
	loop_timer_cancel(&c->timer);
	if (c->io.fd >= 0) {
		loop_io_del(&c->io);
		close(c->io.fd);
	}
	c->io.fd = -1;
	c->used = false;
	c->waiting = false;
}

static void
reply(struct client *c, const char *s, size_t n)
{
	(void)send(c->io.fd, s, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	drop(c);
}

/* {"error": MSG}: our own short messages always fit. */
static const char *
error_json(const char *msg, size_t *ret_len)
{
	const char *j;

	json_begin(REPLY_MAX);
	ev_str("error", msg);
	j = json_end(ret_len);
	return j ? j : "{}\n";
}

static void
reply_error(struct client *c, const char *msg)
{
	const char *j;
	size_t n;

	j = error_json(msg, &n);
	reply(c, j, n);
}

/* {"ready": READY[, "reason": WHY]}, copied out of the builder: it is
 * sent to every waiting client. */
static const char *
ready_json(bool ready, const char *why)
{
	static char answer[REPLY_MAX];
	const char *j;
	size_t n;

	json_begin(sizeof(answer));
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

static void
answer(struct client *c)
{
	char *nl = memchr(c->req, '\n', c->len);
	const char *w;
	size_t n;

	if (!nl) {
		if (c->len >= CONTROL_REQ_MAX)
			reply_error(c, "request too long");
		return;
	}
	*nl = 0;
	if (nl > c->req && nl[-1] == '\r')
		nl[-1] = 0;
	if (strcmp(c->req, "status") == 0) {
		if ((w = status_json(&n)))
			reply(c, w, n);
		else
			reply_error(c, "status too large");
	} else if (strcmp(c->req, "wait-ready") == 0) {
		if ((w = wait_answer()))
			reply(c, w, strlen(w));
		else {
			c->waiting = true;
			loop_timer_cancel(&c->timer);
			(void)loop_io_mod(&c->io, EPOLLRDHUP);
		}
	} else
		reply_error(c, "unknown request (status, wait-ready)");
}

static void
on_client(struct loop_io *io, uint32_t revents)
{
	struct client *c = io->data;
	ssize_t n;

	if (c->waiting) {
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

	if (c->used && !c->waiting)
		reply_error(c, "no request within 2 s");
}

static bool
peer_allowed(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	return cr.uid == 0 || cr.uid == geteuid();
}

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

static void
on_accept(struct loop_io *io, uint32_t revents)
{
	int i, fd;

	(void)revents;
	/* A bounded number per wake-up, so a flood cannot starve the loop. */
	for (i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct client *c = NULL;
		int k;

		fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				pause_accepting();
			return;
		}
		for (k = 0; k < CONTROL_MAX_CLIENTS && !c; k++)
			if (!ctl.clients[k].used)
				c = &ctl.clients[k];
		if (!c) {
			size_t n;
			const char *busy = error_json("busy", &n);

			(void)send(fd, busy, n, MSG_DONTWAIT | MSG_NOSIGNAL);
			close(fd);
			continue;
		}
		memset(c, 0, sizeof(*c));
		c->used = true;
		c->io.fd = fd;
		c->io.events = EPOLLIN | EPOLLRDHUP;
		c->io.cb = on_client;
		c->io.data = c;
		c->timer.cb = on_client_timer;
		c->timer.data = c;
		if (!peer_allowed(fd)) {
			reply_error(c,
			    "permission denied: not root or our uid");
			continue;
		}
		if (loop_io_add(&c->io) < 0) {
			drop(c);
			continue;
		}
		loop_timer_arm(&c->timer,
		    loop_now_ms() + CONTROL_REQ_TIMEOUT_MS);
	}
}

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

int
control_listen(const char *path)
{
	struct sockaddr_un un;
	char dir[108], *slash;
	struct stat st;
	int fd, i;

	for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
		ctl.clients[i].io.fd = -1;
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
	/*
	 * A stale socket from an earlier run (same container restarted) is
	 * in the way: remove it, but only if it is a socket — never a file
	 * someone put there.
	 */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		warn(path, "socket", errno);
		return -errno;
	}
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	memcpy(un.sun_path, path, strlen(path));
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		/* Live if someone accepts (a non-blocking connect to a unix
		 * socket answers at once). */
		if (connect(fd, (struct sockaddr *)&un, sizeof(un)) == 0 ||
		    errno == EAGAIN) {
			close(fd);
			warn(path, "in use by another agent-init", EADDRINUSE);
			return -EADDRINUSE;
		}
		(void)unlink(path);
		close(fd);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
		if (fd < 0) {
			warn(path, "socket", errno);
			return -errno;
		}
	}
	/* fchmod does not apply to a socket's file: set the mode at bind. */
	{
		mode_t old = umask(0177);
		int r = bind(fd, (struct sockaddr *)&un, sizeof(un));
		int e = errno;

		(void)umask(old);
		if (r < 0) {
			close(fd);
			warn(path, "bind", e);
			return -e;
		}
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
	int i;

	if (!w)
		return;
	for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (ctl.clients[i].used && ctl.clients[i].waiting)
			reply(&ctl.clients[i], w, strlen(w));
}

void
control_close(void)
{
	int i;

	for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (ctl.clients[i].used)
			drop(&ctl.clients[i]);
	if (ctl.listening) {
		loop_timer_cancel(&ctl.accept_timer);
		loop_io_del(&ctl.io);
		close(ctl.io.fd);
		(void)unlink(ctl.path);
		ctl.listening = false;
	}
}

/* ---- the client side: a short-lived ordinary process ---- */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
client_connect(const char *path, uint64_t deadline, bool retry, char *err,
    size_t cap)
{
	struct sockaddr_un un;
	int fd;

	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			break;
		if (connect(fd, (struct sockaddr *)&un, sizeof(un)) == 0)
			return fd;
		close(fd);
		if (!retry || now_ms() >= deadline ||
		    (errno != ENOENT && errno != ECONNREFUSED))
			break;
		/* wait-ready may run before PID 1 created the socket. */
		(void)poll(NULL, 0, 50);
	}
	snprintf(err, cap, "cannot connect to %s: %s", path, strerror(errno));
	return -1;
}

/* Send req, read one reply line into buf until deadline; 0 or -1. */
static int
client_ask(int fd, const char *req, uint64_t deadline, char *buf, size_t cap,
    char *err, size_t errcap)
{
	size_t len = 0;

	/* A refused peer may be sent its error and closed before our
	 * request is out: the reply is still there to read. */
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0 && errno != EPIPE &&
	    errno != ECONNRESET) {
		snprintf(err, errcap, "send: %s", strerror(errno));
		return -1;
	}
	while (len < cap - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now = now_ms();
		ssize_t n;
		int r;

		if (now >= deadline) {
			snprintf(err, errcap, "timed out");
			return -1;
		}
		r = poll(&p, 1, (int)(deadline - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(buf, '\n', len))
			break;
	}
	buf[len] = 0;
	if (len == 0) {
		snprintf(err, errcap, "no reply");
		return -1;
	}
	return 0;
}

static const char client_usage[] =
    "usage: agent-init status [--socket PATH] [--quiet]\n"
    "       agent-init wait-ready [--socket PATH] [--timeout DURATION]\n";

int
control_client_main(const char *cmd, int argc, char **argv)
{
	const char *path = getenv("AGENT_INIT_CONTROL_SOCKET");
	bool quiet = false, wait = strcmp(cmd, "wait-ready") == 0;
	uint64_t timeout = wait ? 60000 : 5000, deadline;
	static char buf[REPLY_MAX];
	char err[256];
	int i, fd, r;

	if (!path || !*path)
		path = CONTROL_DEFAULT_PATH;
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strncmp(argv[i], "--socket=", 9) == 0)
			path = argv[i] + 9;
		else if (!wait &&
		    (strcmp(argv[i], "--quiet") == 0 ||
		        strcmp(argv[i], "-q") == 0))
			quiet = true;
		else if (wait && strcmp(argv[i], "--timeout") == 0 &&
		    i + 1 < argc &&
		    value_duration_ms(argv[i + 1], &timeout) == 0)
			i++;
		else if (wait && strncmp(argv[i], "--timeout=", 10) == 0 &&
		    value_duration_ms(argv[i] + 10, &timeout) == 0)
			;
		else {
			fprintf(stderr, "agent-init: %s: bad argument '%s'\n%s",
			    cmd, argv[i], client_usage);
			return 64;
		}
	}
	deadline = now_ms() + timeout;
	fd = client_connect(path, deadline, wait, err, sizeof(err));
	if (fd < 0) {
		fprintf(stderr, "agent-init %s: %s\n", cmd, err);
		return 1;
	}
	r = client_ask(fd, wait ? "wait-ready\n" : "status\n", deadline, buf,
	    sizeof(buf), err, sizeof(err));
	close(fd);
	if (r < 0) {
		fprintf(stderr, "agent-init %s: %s\n", cmd, err);
		return 1;
	}
	if (strstr(buf, "\"error\"")) {
		fprintf(stderr, "agent-init %s: %s", cmd, buf);
		return 1;
	}
	if (!quiet)
		fputs(buf, stdout);
	/* status: 0 iff every service is ready now; wait-ready: iff the
	 * sandbox became ready. */
	if (strncmp(buf, "{\"ready\":true", 13) != 0)
		return 1;
	if (!wait && !strstr(buf, "\"healthy\":true"))
		return 1;
	return 0;
}
