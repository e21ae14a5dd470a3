/*
 * probe — readiness probes.  See probe.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "oomwatch.h"
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

/* A health check that did not pass: it is over, say so last (failed()
 * may start the next check with this same probe). */
static void
check_failed(struct probe *p)
{
	if (!p->active)
		return;
	probe_stop(p);
	p->failed(p->data);
}

/* Not yet: try again after the (growing) interval; a health check has
 * failed. */
static void
retry(struct probe *p, const char *fmt, const char *arg)
{
	close_io(p);
	if (fmt)
		snprintf(p->detail, sizeof(p->detail), fmt, arg);
	if (!p->active)
		return;
	if (p->failed) {
		check_failed(p);
		return;
	}
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
		memcpy(un->sun_path, c->host,
		    strnlen(c->host, sizeof(un->sun_path) - 1));
		*len = sizeof(*un);
		return 0;
	}
	if (inet_pton(AF_INET, c->host, &a4->sin_addr) == 1)
		a4->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, c->host, &a6->sin6_addr) == 1)
		a6->sin6_family = AF_INET6;
	else if (strcasecmp(c->host, "localhost") == 0) {
		a4->sin_family = AF_INET;
		a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else if ((r = hosts_addr(c->host, ss)) < 0)
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

/* The GET request of an http or unix-http probe, made once (free()). */
static char *
http_request(const struct probe_conf *c, size_t *ret_len)
{
	static const char fmt[] = "GET %s HTTP/1.0\r\nHost: %s\r\n"
	                          "User-Agent: agent-init\r\n"
	                          "Connection: close\r\n\r\n";
	const char *host = c->kind == PROBE_UNIX_HTTP ? "localhost" : c->host;
	size_t cap = sizeof(fmt) + strlen(c->arg) + strlen(host);
	char *b = malloc(cap);
	int n;

	*ret_len = 0;
	if (!b)
		return NULL;
	n = snprintf(b, cap, fmt, c->arg, host);
	*ret_len = n > 0 && (size_t)n < cap ? (size_t)n : 0;
	return b;
}

static void
try_connect(struct probe *p)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char why[CONFIG_HOST_MAX + 80];
	int fd, r;

	if ((r = target_addr(p->conf, &ss, &len)) < 0) {
		if (r == -ENOENT)
			snprintf(why, sizeof(why),
			    "'%s' without DNS (use an "
			    "IP address)",
			    p->conf->host);
		else
			snprintf(why, sizeof(why), "'%s': %s: %s",
			    p->conf->host, hosts_path, file_error(r));
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
	if (p->conf->kind != PROBE_TCP && !p->wbuf)
		p->wbuf = http_request(p->conf, &p->wlen);
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
	char **argv;
	size_t argc;
	const char *msg = NULL;
	struct spawn_req req;
	int errfd, devnull, r;

	if (value_words_alloc(p->conf->arg, &argv, &argc, &msg) < 0) {
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
	if ((r = spawn_start(&req, &p->exec_pid, &errfd)) < 0) {
		if (devnull >= 0)
			close(devnull);
		free(argv);
		retry(p,
		    r == -EMFILE || r == -ENFILE ? "exec: pipe: %s"
		                                 : "exec: fork: %s",
		    strerror(-r));
		return;
	}
	if (devnull >= 0)
		close(devnull);
	close(errfd); /* its exit status says all we need */
	snprintf(p->detail, sizeof(p->detail), "exec: running '%.100s'",
	    argv[0]);
	free(argv);
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
		if (stat(p->conf->arg, &st) == 0)
			pass(p);
		else
			retry(p, "%.120s does not exist yet", p->conf->arg);
		break;
	case PROBE_LOG:
		snprintf(p->detail, sizeof(p->detail),
		    "no output line contains '%.100s' yet", p->conf->arg);
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

static void
setup(struct probe *p, const struct probe_conf *c, void (*done)(void *data),
    void *data)
{
	bool notified = p->notified;

	probe_stop(p);
	memset(p, 0, sizeof(*p));
	p->io.fd = -1;
	p->conf = c;
	p->done = done;
	p->data = data;
	p->active = true;
	p->notified = notified;
	p->interval_ms = PROBE_FIRST_MS;
	p->timer.cb = on_probe_timer;
	p->timer.data = p;
}

void
probe_start(struct probe *p, const struct probe_conf *c,
    void (*done)(void *data), void *data)
{
	setup(p, c, done, data);
	probe_try(p);
}

/* A health check's deadline: what it was still waiting for. */
static void
on_check_timeout(struct loop_timer *t)
{
	struct probe *p = t->data;
	char ms[24];

	snprintf(ms, sizeof(ms), "%llu", (unsigned long long)p->timeout_ms);
	if (p->conf->kind == PROBE_EXEC)
		snprintf(p->detail, sizeof(p->detail),
		    "exec: still running after %s ms (killed)", ms);
	else if (p->conf->kind == PROBE_TCP || p->woff < p->wlen ||
	    p->wlen == 0)
		snprintf(p->detail, sizeof(p->detail),
		    "connect: no answer within %s ms", ms);
	else
		snprintf(p->detail, sizeof(p->detail),
		    "no HTTP reply within %s ms", ms);
	check_failed(p);
}

void
probe_check(struct probe *p, const struct probe_conf *c, uint64_t timeout_ms,
    void (*done)(void *data), void (*failed)(void *data), void *data)
{
	setup(p, c, done, data);
	p->failed = failed;
	p->timeout_ms = timeout_ms;
	p->timer.cb = on_check_timeout;
	loop_timer_arm(&p->timer, loop_now_ms() + timeout_ms);
	switch (c->kind) {
	case PROBE_STARTED:
	case PROBE_LOG:
	case PROBE_NOTIFY:
		/* config_health_parse() lets none of these through. */
		snprintf(p->detail, sizeof(p->detail), "not a health probe");
		check_failed(p);
		return;
	default:
		probe_try(p);
	}
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
	if (p->exec_pid > 0) {
		oomwatch_sigkill(p->exec_pid, p->exec_pid);
		(void)kill(-p->exec_pid, SIGKILL);
	}
	p->exec_pid = 0;
	free(p->wbuf);
	p->wbuf = NULL;
	p->wlen = 0;
	free(p->carry);
	p->carry = NULL;
	p->carry_len = 0;
}

/*
 * Does the text begin in the carry and end in the line?  The carry is at
 * most tl - 1 bytes, so joining it to the first tl - 1 bytes of the line
 * covers every place the text could straddle the two.
 */
static bool
straddles(struct probe *p, const char *line, size_t n, const char *t, size_t tl)
{
	size_t take = n < tl - 1 ? n : tl - 1;

	memcpy(p->carry + p->carry_len, line, take);
	return memmem(p->carry, p->carry_len + take, t, tl) != NULL;
}

/* Keep the last tl - 1 bytes of carry + line for the next piece. */
static void
keep_end(struct probe *p, const char *line, size_t n, size_t tl)
{
	size_t keep = tl - 1, old;

	if (n >= keep) {
		memcpy(p->carry, line + n - keep, keep);
		p->carry_len = keep;
		return;
	}
	old = p->carry_len + n > keep ? keep - n : p->carry_len;
	memmove(p->carry, p->carry + p->carry_len - old, old);
	memcpy(p->carry + old, line, n);
	p->carry_len = old + n;
}

void
probe_on_line(struct probe *p, int stream, const char *line, size_t n,
    bool cont)
{
	const char *t;
	size_t tl;

	if (!p->active || p->conf->kind != PROBE_LOG)
		return;
	t = p->conf->arg;
	tl = strlen(t);
	if (tl <= n && memmem(line, n, t, tl)) {
		pass(p);
		return;
	}
	if (tl < 2)
		return;
	if (!cont || stream != p->carry_stream)
		p->carry_len = 0;
	/* Room for the carry and as much of the next piece. */
	if (!p->carry && !(p->carry = malloc(2 * tl)))
		return;
	if (p->carry_len && straddles(p, line, n, t, tl)) {
		pass(p);
		return;
	}
	keep_end(p, line, n, tl);
	p->carry_stream = stream;
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

void
probe_describe(const struct probe_conf *c, char *buf, size_t cap)
{
	switch (c->kind) {
	case PROBE_STARTED:
		snprintf(buf, cap, "started");
		break;
	case PROBE_NOTIFY:
		snprintf(buf, cap, "notify");
		break;
	case PROBE_UNIX_HTTP:
		snprintf(buf, cap, "unix-http:%s:%s", c->host, c->arg);
		break;
	case PROBE_HTTP:
		snprintf(buf, cap,
		    strchr(c->host, ':') ? "http:[%s]:%u%s" : "http:%s:%u%s",
		    c->host, c->port, c->arg);
		break;
	case PROBE_TCP:
		snprintf(buf, cap,
		    strchr(c->host, ':') ? "tcp:[%s]:%u" : "tcp:%s:%u", c->host,
		    c->port);
		break;
	case PROBE_FILE:
		snprintf(buf, cap, "file:%s", c->arg);
		break;
	case PROBE_LOG:
		snprintf(buf, cap, "log:%s", c->arg);
		break;
	case PROBE_EXEC:
		snprintf(buf, cap, "exec:%s", c->arg);
		break;
	}
}

/* EXTEND_TIMEOUT_USEC=N: decimal digits that fit in 64 bits. */
static bool
parse_usec(const char *s, size_t n, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 20)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' ||
		    v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*ret = v;
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
		else if (len == 10 && memcmp(l, "WATCHDOG=1", 10) == 0)
			ret->watchdog = true;
		else if (len == 16 && memcmp(l, "WATCHDOG=trigger", 16) == 0)
			ret->watchdog_trigger = true;
		else if (len > 20 && memcmp(l, "EXTEND_TIMEOUT_USEC=", 20) == 0)
			ret->has_extend =
			    parse_usec(l + 20, len - 20, &ret->extend_usec);
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

/* Up to this many descriptors passed with one datagram are received (and
 * closed); more are closed by the kernel, which comes to the same. */
#define NOTIFY_FDS_MAX 16

/*
 * Who may speak for the service: its uid, and a sender that is alive and
 * in its process group when the datagram is read.  The name is abstract,
 * so anyone in the network namespace can send to it; a sender that has
 * already exited (a short-lived process of another service) can no longer
 * be placed in a group, so it does not count.  systemd-notify waits for
 * its message to be handled (BARRIER=1, below) and is still there.
 */
static bool
sender_allowed(const struct notify_sock *ns, const struct ucred *cred)
{
	if (!cred || cred->uid != ns->uid || cred->pid <= 0)
		return false;
	return ns->pgid <= 0 || getpgid(cred->pid) == ns->pgid;
}

/* The descriptors a datagram carried, and its credentials. */
static const struct ucred *
take_control(struct msghdr *mh, int *fds, size_t *ret_nfds)
{
	const struct ucred *cred = NULL;
	struct cmsghdr *c;
	size_t n = 0, k, nf;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_RIGHTS) {
			nf = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (k = 0; k < nf && n < NOTIFY_FDS_MAX; k++)
				memcpy(&fds[n++],
				    CMSG_DATA(c) + k * sizeof(int),
				    sizeof(int));
		} else if (c->cmsg_type == SCM_CREDENTIALS)
			cred = (const struct ucred *)(void *)CMSG_DATA(c);
	}
	*ret_nfds = n;
	return cred;
}

/*
 * One datagram: handled if its sender may speak, then the descriptors
 * that came with it are closed.  Nobody hands us descriptors to keep; the
 * one that matters is BARRIER=1's (sd_notify_barrier(3)): its sender
 * waits until we close it, which tells it that everything it sent before
 * has been handled.  False when there is nothing more to read.
 */
static bool
notify_one(struct notify_sock *ns)
{
	char buf[4096];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct ucred)) +
		    CMSG_SPACE(NOTIFY_FDS_MAX * sizeof(int))];
	} ctl;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = &ctl,
		.msg_controllen = sizeof(ctl) };
	int fds[NOTIFY_FDS_MAX];
	size_t nfds, k;
	const struct ucred *cred;
	struct notify_msg m;
	ssize_t n = recvmsg(ns->io.fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	if (n < 0)
		return false;
	cred = take_control(&mh, fds, &nfds);
	if (sender_allowed(ns, cred)) {
		notify_parse(buf, (size_t)n, &m);
		ns->on_msg(ns->data, &m);
	}
	for (k = 0; k < nfds; k++)
		close(fds[k]);
	return true;
}

static void
on_notify_readable(struct loop_io *io, uint32_t revents)
{
	struct notify_sock *ns = io->data;
	int i;

	(void)revents;
	/* A bounded number of datagrams per wake-up: fairness. */
	for (i = 0; i < 16 && notify_one(ns); i++)
		;
}

/*
 * 128 random bits for a socket name.  PID 1 may run before the kernel's
 * pool is initialised: never wait for it (GRND_NONBLOCK, then
 * GRND_INSECURE where the kernel has it); the last resort only has to be
 * different from the names of other agent-inits, not secret.
 */
static void
random_name(char *buf, size_t cap)
{
#ifndef GRND_INSECURE
#define GRND_INSECURE 0x0004
#endif
	uint64_t r[2];
	struct timespec ts;

	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r) &&
	    getrandom(r, sizeof(r), GRND_INSECURE) != (ssize_t)sizeof(r)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		r[0] = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^
		    (uint64_t)(uintptr_t)buf;
		r[1] = (uint64_t)ts.tv_sec * 6364136223846793005ULL ^ r[0];
	}
	snprintf(buf, cap, "%016llx%016llx", (unsigned long long)r[0],
	    (unsigned long long)r[1]);
}

/* Bind fd to a fresh random abstract name for service; 0 or -errno. */
static int
bind_random(int fd, struct notify_sock *n, const char *service)
{
	struct sockaddr_un un;
	char rnd[40];
	socklen_t len;
	int tries;

	for (tries = 0; tries < 8; tries++) {
		random_name(rnd, sizeof(rnd));
		memset(&un, 0, sizeof(un));
		un.sun_family = AF_UNIX;
		snprintf(n->addr, sizeof(n->addr), "@agent-init-%s/%s", rnd,
		    service);
		memcpy(un.sun_path + 1, n->addr + 1, strlen(n->addr) - 1);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    strlen(n->addr));
		if (bind(fd, (struct sockaddr *)&un, len) == 0)
			return 0;
		if (errno != EADDRINUSE)
			return -errno;
	}
	return -EADDRINUSE;
}

/*
 * An abstract unix datagram socket (sd_notify accepts "@name"): nothing
 * to create on a read-only filesystem, nothing to clean up.  The name is
 * random: no other service can take it before us (bind it first, so that
 * the service's start fails), and no other agent-init in the same network
 * namespace (one Kubernetes pod, `--network container:X`) collides with
 * ours.  It is made once and kept across restarts.
 */
int
notify_open(struct notify_sock *n, const char *service)
{
	int fd, r;

	if (n->io.fd > 0 && n->io.added)
		return 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &(int){ 1 }, sizeof(int)) <
	    0) {
		r = -errno;
		close(fd);
		return r;
	}
	if ((r = bind_random(fd, n, service)) < 0) {
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
