/*
 * probe — readiness probes.  See probe.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "file.h"
#include "probe.h"
#include "resolvconf.h"
#include "spawn.h"
#include "values.h"

/* The unit tests point it at a file of their own. */
static const char *hosts_path = "/etc/hosts";

#define PROBE_FIRST_MS 10
#define PROBE_MAX_MS 500

static void probe_try(struct probe *p);

static void
pass(struct probe *p)
{
	if (!p->active || p->passed)
		return;
	p->passed = true;
	probe_stop(p);
	p->done(p->data);
}

static void
close_io(struct probe *p)
{
	if (p->io.fd >= 0) {
		loop_io_del(&p->io);
		close(p->io.fd);
		p->io.fd = -1;
	}
}

/* Not yet: try again after the (growing) interval. */
static void
retry(struct probe *p, const char *fmt, const char *arg)
{
	close_io(p);
	if (fmt)
		snprintf(p->detail, sizeof(p->detail), fmt, arg);
	if (!p->active)
		return;
	loop_timer_arm(&p->timer, loop_now_ms() + p->interval_ms);
	p->interval_ms *= 2;
	if (p->interval_ms > PROBE_MAX_MS)
		p->interval_ms = PROBE_MAX_MS;
}

static void
on_probe_timer(struct loop_timer *t)
{
	probe_try(t->data);
}

int
http_status(const char *buf, size_t n)
{
	const char *sp, *end = buf + n;
	int code = 0, i;

	if (n < 12) {
		/* Could still be a valid start. */
		if (memcmp(buf, "HTTP/", n < 5 ? n : 5) != 0)
			return -EINVAL;
		return -EAGAIN;
	}
	if (memcmp(buf, "HTTP/", 5) != 0)
		return -EINVAL;
	sp = memchr(buf, ' ', (size_t)(end - buf));
	if (!sp || end - sp < 4)
		return sp ? -EAGAIN : -EINVAL;
	for (i = 1; i <= 3; i++) {
		if (sp[i] < '0' || sp[i] > '9')
			return -EINVAL;
		code = code * 10 + (sp[i] - '0');
	}
	if (code < 100)
		return -EINVAL;
	return code;
}

/*
 * NAME's address in hosts(5) TEXT, through the one hosts parser
 * (core/resolvconf.c): the first line that names it wins, as in libc.  0,
 * or -ENOENT.  Pure, so that it can be fuzzed.
 */
static int
hosts_pick(const char *text, size_t len, const char *name,
    struct sockaddr_storage *ss)
{
	struct sockaddr_in *a4 = (void *)ss;
	struct sockaddr_in6 *a6 = (void *)ss;
	struct hosts_result hr;

	if (hosts_lookup(text, len, name, &hr) < 0)
		return -ENOENT;
	if (hr.first_family == AF_INET6 || hr.naddr4 == 0) {
		a6->sin6_family = AF_INET6;
		memcpy(&a6->sin6_addr, hr.addr6[0], 16);
	} else {
		a4->sin_family = AF_INET;
		memcpy(&a4->sin_addr, hr.addr4[0], 4);
	}
	return 0;
}

/*
 * /etc/hosts for the name of a tcp or http probe, read as file_read()
 * reads a planted file: a service may have put a FIFO or a device there,
 * and PID 1 must not wait on it.  0, or -errno (-ENOENT: not there).
 */
#define PROBE_HOSTS_MAX ((size_t)1 << 20)

static int
hosts_addr(const char *name, struct sockaddr_storage *ss)
{
	char *text = NULL;
	size_t len = 0;
	int r = file_read(hosts_path, FILE_PLANTED, PROBE_HOSTS_MAX, 0, &text,
	    &len);

	if (r < 0)
		return r;
	r = hosts_pick(text, len, name, ss);
	free(text);
	return r;
}

/* Where a probe connects; 0, or -errno when the name has no address. */
static int
target_addr(const struct probe_conf *c, struct sockaddr_storage *ss,
    socklen_t *len)
{
	int r;

	struct sockaddr_in *a4 = (void *)ss;
	struct sockaddr_in6 *a6 = (void *)ss;
	struct sockaddr_un *un = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (c->kind == PROBE_UNIX_HTTP) {
		un->sun_family = AF_UNIX;
		/* config_probe_parse() checked that it fits. */
		memcpy(un->sun_path, c->target,
		    strnlen(c->target, sizeof(un->sun_path) - 1));
		*len = sizeof(*un);
		return 0;
	}
	if (inet_pton(AF_INET, c->target, &a4->sin_addr) == 1)
		a4->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, c->target, &a6->sin6_addr) == 1)
		a6->sin6_family = AF_INET6;
	else if (strcasecmp(c->target, "localhost") == 0) {
		a4->sin_family = AF_INET;
		a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else if ((r = hosts_addr(c->target, ss)) < 0)
		return r;
	if (ss->ss_family == AF_INET) {
		a4->sin_port = htons((uint16_t)c->port);
		*len = sizeof(*a4);
	} else {
		a6->sin6_port = htons((uint16_t)c->port);
		*len = sizeof(*a6);
	}
	return 0;
}

static void
on_socket(struct loop_io *io, uint32_t revents)
{
	struct probe *p = io->data;
	int err = 0;
	socklen_t el = sizeof(err);
	ssize_t n;

	(void)revents;
	if (p->woff == 0 && p->rlen == 0 &&
	    getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err) {
		retry(p, "connect: %s", strerror(err));
		return;
	}
	if (p->conf->kind == PROBE_TCP) {
		pass(p);
		return;
	}
	while (p->woff < p->wlen) {
		n = send(io->fd, p->wbuf + p->woff, p->wlen - p->woff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			retry(p, "send: %s", strerror(errno));
			return;
		}
		p->woff += (size_t)n;
		if (p->woff == p->wlen)
			(void)loop_io_mod(io, EPOLLIN);
	}
	n = recv(io->fd, p->rbuf + p->rlen, sizeof(p->rbuf) - p->rlen,
	    MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n > 0) {
		int code;

		p->rlen += (size_t)n;
		code = http_status(p->rbuf, p->rlen);
		if (code == -EAGAIN && p->rlen < sizeof(p->rbuf))
			return;
		if (code >= 200 && code < 300) {
			pass(p);
			return;
		}
		if (code > 0) {
			char c[12];

			snprintf(c, sizeof(c), "%d", code);
			retry(p, "HTTP status %s", c);
		} else
			retry(p, "%s", "not an HTTP reply");
		return;
	}
	retry(p, "%s",
	    n == 0 ? "connection closed before a reply" : strerror(errno));
}

static void
try_connect(struct probe *p)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char why[CONFIG_VALUE_MAX + 80];
	int fd, r;

	if ((r = target_addr(p->conf, &ss, &len)) < 0) {
		if (r == -ENOENT)
			snprintf(why, sizeof(why),
			    "'%s' without DNS (use an "
			    "IP address)",
			    p->conf->target);
		else
			snprintf(why, sizeof(why), "'%s': %s: %s",
			    p->conf->target, hosts_path, file_error(r));
		retry(p, "cannot resolve %s", why);
		return;
	}
	fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		retry(p, "socket: %s", strerror(errno));
		return;
	}
	p->io.fd = fd;
	p->io.cb = on_socket;
	p->io.data = p;
	p->woff = 0;
	p->rlen = 0;
	p->wlen = 0;
	if (p->conf->kind != PROBE_TCP) {
		int n = snprintf(p->wbuf, sizeof(p->wbuf),
		    "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: agent-init\r\n"
		    "Connection: close\r\n\r\n",
		    p->conf->path,
		    p->conf->kind == PROBE_UNIX_HTTP ? "localhost"
		                                     : p->conf->target);

		p->wlen = n > 0 && (size_t)n < sizeof(p->wbuf) ? (size_t)n : 0;
	}
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		p->io.fd = -1;
		retry(p, "connect: %s", strerror(errno));
		return;
	}
	p->io.events = EPOLLOUT;
	if (loop_io_add(&p->io) < 0)
		retry(p, "epoll: %s", strerror(errno));
}

static void
try_exec(struct probe *p)
{
	char buf[CONFIG_VALUE_MAX * 2];
	char *argv[CONFIG_MAX_WORDS + 1];
	size_t argc;
	const char *msg = NULL;
	struct spawn_req req;
	int errfd, devnull;

	if (value_words(p->conf->target, buf, sizeof(buf), argv,
	        CONFIG_MAX_WORDS + 1, &argc, &msg) < 0) {
		retry(p, "exec: %s", msg ? msg : "bad command");
		return;
	}
	memset(&req, 0, sizeof(req));
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	req.argv = argv;
	req.own_pgrp = true;
	req.stdio[0] = devnull;
	req.stdio[1] = devnull;
	req.stdio[2] = devnull;
	if (spawn_start(&req, &p->exec_pid, &errfd) < 0) {
		if (devnull >= 0)
			close(devnull);
		retry(p, "exec: %s", strerror(errno));
		return;
	}
	if (devnull >= 0)
		close(devnull);
	close(errfd); /* its exit status says all we need */
	snprintf(p->detail, sizeof(p->detail), "exec: running '%s'", argv[0]);
}

static void
probe_try(struct probe *p)
{
	struct stat st;

	if (!p->active)
		return;
	switch (p->conf->kind) {
	case PROBE_STARTED:
		pass(p);
		break;
	case PROBE_FILE:
		if (stat(p->conf->target, &st) == 0)
			pass(p);
		else
			retry(p, "%s does not exist yet", p->conf->target);
		break;
	case PROBE_LOG:
		/* Once: a second `log:` probe waits for a line of its own. */
		if (p->line_seen) {
			p->line_seen = false;
			pass(p);
		} else
			snprintf(p->detail, sizeof(p->detail),
			    "no output line contains '%.100s' yet",
			    p->conf->target);
		break;
	case PROBE_NOTIFY:
		if (p->notified)
			pass(p);
		else
			snprintf(p->detail, sizeof(p->detail),
			    "no READY=1 on NOTIFY_SOCKET yet");
		break;
	case PROBE_TCP:
	case PROBE_HTTP:
	case PROBE_UNIX_HTTP:
		try_connect(p);
		break;
	case PROBE_EXEC:
		try_exec(p);
		break;
	}
}

void
probe_start(struct probe *p, const struct probe_conf *c,
    void (*done)(void *data), void *data)
{
	bool notified = p->notified, line_seen = p->line_seen;

	probe_stop(p);
	memset(p, 0, sizeof(*p));
	p->io.fd = -1;
	p->conf = c;
	p->done = done;
	p->data = data;
	p->active = true;
	p->notified = notified;
	p->line_seen = line_seen;
	p->interval_ms = PROBE_FIRST_MS;
	p->timer.cb = on_probe_timer;
	p->timer.data = p;
	probe_try(p);
}

void
probe_stop(struct probe *p)
{
	p->active = false;
	loop_timer_cancel(&p->timer);
	close_io(p);
	/*
	 * An exec probe still running is of no use any more (its service
	 * exited, or the probe timed out): kill its process group, lest
	 * every restart leave one more behind; it is then reaped as an
	 * orphan.  Not reaped yet, so its pid cannot have been reused.
	 */
	if (p->exec_pid > 0)
		(void)kill(-p->exec_pid, SIGKILL);
	p->exec_pid = 0;
}

void
probe_on_line(struct probe *p, const char *line, size_t n)
{
	size_t tl;

	if (!p->active || p->conf->kind != PROBE_LOG)
		return;
	tl = strlen(p->conf->target);
	if (tl <= n && memmem(line, n, p->conf->target, tl))
		pass(p);
}

void
probe_early_line(struct probe *p, const struct probe_conf *c, const char *line,
    size_t n)
{
	size_t tl;

	if (p->active || c->kind != PROBE_LOG)
		return;
	tl = strlen(c->target);
	if (tl <= n && memmem(line, n, c->target, tl))
		p->line_seen = true;
}

void
probe_notified(struct probe *p)
{
	p->notified = true;
	if (p->active && p->conf->kind == PROBE_NOTIFY)
		pass(p);
}

bool
probe_on_exit(struct probe *p, pid_t pid, int wstatus)
{
	char buf[16];

	if (pid <= 0 || pid != p->exec_pid)
		return false;
	p->exec_pid = 0;
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
		pass(p);
		return true;
	}
	snprintf(buf, sizeof(buf), "%d",
	    WIFEXITED(wstatus) ? WEXITSTATUS(wstatus)
	                       : 128 + WTERMSIG(wstatus));
	retry(p, "exec: exited with status %s", buf);
	return true;
}

/* sd_notify(3): newline-separated VARIABLE=VALUE assignments. */
void
notify_parse(const char *buf, size_t n, struct notify_msg *ret)
{
	size_t off = 0;

	memset(ret, 0, sizeof(*ret));
	while (off < n) {
		const char *l = buf + off, *nl = memchr(l, '\n', n - off);
		size_t len = nl ? (size_t)(nl - l) : n - off;

		if (len == 7 && memcmp(l, "READY=1", 7) == 0)
			ret->ready = true;
		else if (len == 10 && memcmp(l, "STOPPING=1", 10) == 0)
			ret->stopping = true;
		else if (len >= 7 && memcmp(l, "STATUS=", 7) == 0) {
			size_t sl = len - 7;

			if (sl >= sizeof(ret->status))
				sl = sizeof(ret->status) - 1;
			memcpy(ret->status, l + 7, sl);
			ret->status[sl] = 0;
			ret->has_status = true;
		}
		off += len + 1;
	}
}

static void
on_notify_readable(struct loop_io *io, uint32_t revents)
{
	struct notify_sock *ns = io->data;
	char buf[4096];
	int i;

	(void)revents;
	/* A bounded number of datagrams per wake-up: fairness. */
	for (i = 0; i < 16; i++) {
		struct notify_msg m;
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(struct ucred))];
		} ctl;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = &ctl,
			.msg_controllen = sizeof(ctl) };
		struct cmsghdr *c;
		const struct ucred *cred = NULL;
		ssize_t n =
		    recvmsg(io->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		pid_t pg;

		if (n < 0)
			return;
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level == SOL_SOCKET &&
			    c->cmsg_type == SCM_RIGHTS) {
				/* Nobody passes us descriptors: close them. */
				int *fds = (int *)(void *)CMSG_DATA(c);
				size_t k,
				    nf = (c->cmsg_len - CMSG_LEN(0)) /
				    sizeof(int);

				for (k = 0; k < nf; k++)
					close(fds[k]);
			} else if (c->cmsg_level == SOL_SOCKET &&
			    c->cmsg_type == SCM_CREDENTIALS)
				cred =
				    (const struct ucred *)(void *)CMSG_DATA(c);
		}
		if (!cred || cred->uid != ns->uid)
			continue;
		/* A sender already gone (systemd-notify from a script) is
		 * judged by its uid alone. */
		if (cred->pid > 0 && ns->pgid > 0 &&
		    (pg = getpgid(cred->pid)) >= 0 && pg != ns->pgid)
			continue;
		notify_parse(buf, (size_t)n, &m);
		ns->on_msg(ns->data, &m);
	}
}

/*
 * An abstract unix datagram socket (sd_notify accepts "@name"): nothing
 * to create on a read-only filesystem, nothing to clean up, and the name
 * holds our pid so two agent-inits never collide.
 */
int
notify_open(struct notify_sock *n, const char *service)
{
	struct sockaddr_un un;
	socklen_t len;
	int fd, r;

	if (n->io.fd > 0 && n->io.added)
		return 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	snprintf(n->addr, sizeof(n->addr), "@agent-init/%d/%s", (int)getpid(),
	    service);
	snprintf(un.sun_path + 1, sizeof(un.sun_path) - 1, "%s", n->addr + 1);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(n->addr));
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &(int){ 1 }, sizeof(int)) <
	        0 ||
	    bind(fd, (struct sockaddr *)&un, len) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	n->io.fd = fd;
	n->io.events = EPOLLIN;
	n->io.cb = on_notify_readable;
	n->io.data = n;
	if ((r = loop_io_add(&n->io)) < 0) {
		close(fd);
		n->io.fd = -1;
		return r;
	}
	return 0;
}

void
notify_close(struct notify_sock *n)
{
	if (n->io.fd > 0) {
		loop_io_del(&n->io);
		close(n->io.fd);
	}
	n->io.fd = -1;
}
