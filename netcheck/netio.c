/*
 * netio — the network checks' building blocks.  See netio.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "netio.h"

static struct {
	uint64_t deadline_ms;
	/* Paths the operator named (NULL: the planted /etc defaults). */
	const char *resolv_conf, *hosts;
	struct resolv_conf rc;
	bool rc_loaded;
	int rc_err;
	char *hosts_text; /* the hosts file, read once per run */
	size_t hosts_len;
	bool hosts_loaded;
	int hosts_err;
} nio;

unsigned int
netio_port_of(const char *target)
{
	const char *c = target ? strrchr(target, ':') : NULL;
	long v;

	if (!c)
		return 0;
	v = strtol(c + 1, NULL, 10);
	return v > 0 && v < 65536 ? (unsigned int)v : 0;
}

int
netio_split_hostport(const char *s, char *host, size_t cap,
    unsigned int *ret_port)
{
	const char *c = strrchr(s, ':');
	size_t n;

	if (!c || c == s)
		return -EINVAL;
	n = (size_t)(c - s);
	if (s[0] == '[' && c[-1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= cap)
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = 0;
	*ret_port = netio_port_of(c);
	return *ret_port ? 0 : -EINVAL;
}

void
netio_set_port(struct sockaddr_storage *ss, unsigned int port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

int
netio_literal(const char *host, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *a4 = (void *)ss;
	struct sockaddr_in6 *a6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		*len = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		*len = sizeof(*a6);
		return 0;
	}
	return -EINVAL;
}

/* ---- dnsq ---- */

static void
dq_close(struct dnsq *q)
{
	loop_timer_cancel(&q->tcp_timer);
	if (q->io.fd >= 0) {
		loop_io_del(&q->io);
		close(q->io.fd);
		q->io.fd = -1;
	}
}

void
dnsq_stop(struct dnsq *q)
{
	dq_close(q);
	q->st = DQ_DONE;
}

static void
dq_finish(struct dnsq *q, const char *code, const char *fmt, const char *arg)
{
	if (q->st == DQ_DONE)
		return;
	dq_close(q);
	q->st = DQ_DONE;
	q->code = code;
	snprintf(q->why, sizeof(q->why), fmt, arg);
	q->done(q);
}

static const char *
errno_code(int e)
{
	switch (e) {
	case ECONNREFUSED:
		return "port_unreachable";
	case ENETUNREACH:
	case EHOSTUNREACH:
	case EADDRNOTAVAIL:
		return "net_unreachable";
	default:
		return "timeout";
	}
}

static void
dq_reply(struct dnsq *q, const uint8_t *buf, size_t n)
{
	struct dns_reply rep;
	int r = dns_parse_reply(buf, n, q->id, q->qname, q->qtype, &rep);

	if (r == -ENOMSG)
		return; /* not ours: keep waiting */
	if (r < 0) {
		dq_finish(q, "servfail", "%s", "a malformed reply");
		return;
	}
	/* RFC 5452 section 9.1: an answer to another question is not an
	 * answer; keep waiting for ours. */
	if (!rep.question_matches)
		return;
	if (rep.tc && !q->over_tcp) {
		/* Truncated: ask again over TCP (RFC 7766 section 5). */
		loop_timer_cancel(&q->tcp_timer);
		q->tcp_timer.cb(&q->tcp_timer);
		return;
	}
	q->reply = rep;
	q->has_reply = true;
	switch (rep.rcode) {
	case DNS_RCODE_NOERROR:
		dq_finish(q, "ok", "%s",
		    q->over_tcp ? "answered over TCP" : "answered");
		break;
	case DNS_RCODE_NXDOMAIN:
		dq_finish(q, "nxdomain", "%s", "NXDOMAIN");
		break;
	case DNS_RCODE_REFUSED:
		dq_finish(q, "refused", "%s", "REFUSED");
		break;
	default:
		dq_finish(q, "servfail", "%s", dns_rcode_name(rep.rcode));
		break;
	}
}

static void
dq_on_io(struct loop_io *io, uint32_t revents)
{
	struct dnsq *q = io->data;
	ssize_t n;

	if (q->st == DQ_UDP) {
		n = recv(io->fd, q->r, sizeof(q->r), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0) {
			dq_finish(q, errno_code(errno), "UDP: %s",
			    strerror(errno));
			return;
		}
		dq_reply(q, q->r, (size_t)n);
		return;
	}
	if (q->st == DQ_TCP_CONNECT) {
		int err = 0;
		socklen_t el = sizeof(err);

		(void)getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err) {
			/* UDP was silent and TCP fails: the packets are
			 * dropped (or TCP is closed): say both. */
			dq_finish(q,
			    err == ECONNREFUSED ? "timeout" : errno_code(err),
			    "no reply over UDP; TCP: %s", strerror(err));
			return;
		}
		q->st = DQ_TCP_IO;
		q->rlen = 0;
		(void)loop_io_mod(io, EPOLLIN | EPOLLOUT);
	}
	if (q->st == DQ_TCP_IO && q->qoff < q->qlen && (revents & EPOLLOUT)) {
		n = send(io->fd, q->q + q->qoff, q->qlen - q->qoff,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0)
			q->qoff += (size_t)n;
		else if (n < 0 && errno != EAGAIN) {
			dq_finish(q, "timeout", "TCP: %s", strerror(errno));
			return;
		}
		if (q->qoff == q->qlen)
			(void)loop_io_mod(io, EPOLLIN);
	}
	if (q->st == DQ_TCP_IO && (revents & (EPOLLIN | EPOLLHUP))) {
		size_t mlen;

		n = recv(io->fd, q->r + q->rlen, sizeof(q->r) - q->rlen,
		    MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			dq_finish(q, "timeout", "TCP: %s",
			    n == 0 ? "closed without a reply"
			           : strerror(errno));
			return;
		}
		q->rlen += (size_t)n;
		if (dns_tcp_unframe(q->r, q->rlen, &mlen) == 0)
			dq_reply(q, q->r + 2, mlen);
		else if (q->rlen == sizeof(q->r))
			dq_finish(q, "servfail", "%s", "TCP reply too large");
	}
}

/* UDP got nothing for a while, or a truncated reply: try TCP. */
static void
dq_tcp(struct loop_timer *t)
{
	struct dnsq *q = t->data;
	uint8_t msg[DNS_QUERY_MAX];
	size_t mlen = q->qlen;
	int fd;

	if (q->st != DQ_UDP)
		return;
	memcpy(msg, q->q, mlen);
	if (dns_tcp_frame(q->q, sizeof(q->q), msg, mlen, &q->qlen) < 0) {
		dq_finish(q, "timeout", "%s", "cannot frame the TCP query");
		return;
	}
	q->qoff = 0;
	dq_close(q);
	q->over_tcp = true;
	fd = socket(q->ns.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0) {
		dq_finish(q, "timeout", "TCP: %s", strerror(errno));
		return;
	}
	q->io.fd = fd;
	q->io.events = EPOLLOUT;
	if (connect(fd, (struct sockaddr *)&q->ns, q->nslen) < 0 &&
	    errno != EINPROGRESS) {
		dq_finish(q, errno_code(errno), "TCP: %s", strerror(errno));
		return;
	}
	q->st = DQ_TCP_CONNECT;
	(void)loop_io_add(&q->io);
}

void
dnsq_start(struct dnsq *q, const struct sockaddr_storage *ns, socklen_t nslen,
    const char *ns_text, const char *qname, uint16_t qtype,
    uint64_t deadline_ms, void (*done)(struct dnsq *q), void *data)
{
	uint64_t now = loop_now_ms();
	int fd;

	memset(q, 0, sizeof(*q));
	q->io.fd = -1;
	q->io.cb = dq_on_io;
	q->io.data = q;
	q->tcp_timer.cb = dq_tcp;
	q->tcp_timer.data = q;
	q->done = done;
	q->data = data;
	q->ns = *ns;
	q->nslen = nslen;
	snprintf(q->ns_text, sizeof(q->ns_text), "%s", ns_text);
	snprintf(q->qname, sizeof(q->qname), "%s", qname);
	q->qtype = qtype;
	q->deadline_ms = deadline_ms;
	q->id = (uint16_t)(random() & 0xffff);
	q->st = DQ_UDP;
	if (dns_build_query(q->q, sizeof(q->q), q->id, qname, qtype, true,
	        &q->qlen) < 0) {
		dq_finish(q, "servfail", "cannot build a query for '%s'",
		    qname);
		return;
	}
	fd =
	    socket(ns->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		dq_finish(q, "net_unreachable", "UDP: %s", strerror(errno));
		return;
	}
	q->io.fd = fd;
	q->io.events = EPOLLIN;
	if (connect(fd, (const struct sockaddr *)ns, nslen) < 0 ||
	    send(fd, q->q, q->qlen, MSG_NOSIGNAL) < 0) {
		dq_finish(q, errno_code(errno), "UDP: %s", strerror(errno));
		return;
	}
	(void)loop_io_add(&q->io);
	/* Half of the time left for UDP, then TCP for the rest. */
	if (q->deadline_ms > now)
		loop_timer_arm(&q->tcp_timer, now + (q->deadline_ms - now) / 2);
}

void
dnsq_deadline(struct dnsq *q)
{
	if (q->st != DQ_DONE && q->st != DQ_IDLE)
		dq_finish(q, "timeout", "%s",
		    q->over_tcp ? "no reply over UDP or TCP"
		                : "no reply over UDP");
}

/* ---- name sources: resolv.conf and hosts ---- */

void
netio_begin(uint64_t run_deadline_ms, const char *resolv_conf,
    const char *hosts)
{
	free(nio.hosts_text);
	memset(&nio, 0, sizeof(nio));
	nio.deadline_ms = run_deadline_ms;
	nio.resolv_conf = resolv_conf;
	nio.hosts = hosts;
	srandom((unsigned int)(loop_now_ms() ^ (uint64_t)getpid()));
}

void
netio_use_paths(const char *resolv_conf, const char *hosts)
{
	if (resolv_conf && *resolv_conf && !nio.resolv_conf && !nio.rc_loaded)
		nio.resolv_conf = resolv_conf;
	if (hosts && *hosts && !nio.hosts && !nio.hosts_loaded)
		nio.hosts = hosts;
}

uint64_t
netio_run_deadline(void)
{
	return nio.deadline_ms;
}

uint64_t
netio_deadline(uint64_t timeout_ms)
{
	uint64_t now = loop_now_ms();

	if (timeout_ms && now + timeout_ms < nio.deadline_ms)
		return now + timeout_ms;
	return nio.deadline_ms;
}

const struct resolv_conf *
netio_resolv_conf(const char **ret_path, int *ret_err)
{
	const char *path =
	    nio.resolv_conf ? nio.resolv_conf : "/etc/resolv.conf";

	if (!nio.rc_loaded) {
		nio.rc_loaded = true;
		/* /etc/resolv.conf is a file a service could plant a FIFO
		 * at: read only if regular.  A path the operator named may
		 * be a pipe (`--resolv-conf <(...)`). */
		nio.rc_err = resolvconf_load(path,
		    nio.resolv_conf ? FILE_OPERATOR : FILE_PLANTED, &nio.rc);
		if (nio.rc_err < 0)
			memset(&nio.rc, 0, sizeof(nio.rc));
	}
	if (ret_path)
		*ret_path = path;
	if (ret_err)
		*ret_err = nio.rc_err;
	return &nio.rc;
}

static const char *
hosts_path(void)
{
	return nio.hosts ? nio.hosts : "/etc/hosts";
}

/* 0 with the addresses, -ENOENT when not listed, else the read's error. */
static int
hosts_find(const char *name, struct hosts_result *ret)
{
	if (!nio.hosts_loaded) {
		nio.hosts_loaded = true;
		nio.hosts_err = file_read(hosts_path(),
		    nio.hosts ? FILE_OPERATOR : FILE_PLANTED, RESOLV_READ_MAX,
		    RESOLV_READ_TIMEOUT_MS, &nio.hosts_text, &nio.hosts_len);
		if (nio.hosts_err < 0)
			nio.hosts_text = NULL;
	}
	if (nio.hosts_err < 0)
		return nio.hosts_err;
	return hosts_lookup(nio.hosts_text, nio.hosts_len, name, ret);
}

void
netio_ns_addr(unsigned int i, struct sockaddr_storage *ss, socklen_t *len)
{
	const struct resolv_ns *n = &nio.rc.ns[i];
	struct sockaddr_in *a4 = (void *)ss;
	struct sockaddr_in6 *a6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (n->family == AF_INET) {
		a4->sin_family = AF_INET;
		memcpy(&a4->sin_addr, n->addr, 4);
		a4->sin_port = htons(DNS_PORT);
		*len = sizeof(*a4);
	} else {
		a6->sin6_family = AF_INET6;
		memcpy(&a6->sin6_addr, n->addr, 16);
		a6->sin6_port = htons(DNS_PORT);
		a6->sin6_scope_id = n->scope_id;
		*len = sizeof(*a6);
	}
}

/* ---- resolveq ---- */

static void
rq_one_done(struct dnsq *q)
{
	struct resolveq *r = q->data;
	size_t wl = strlen(r->why);

	r->ndone++;
	if (!r->found && strcmp(q->code, "ok") == 0 && q->reply.naddr4 > 0) {
		struct sockaddr_in *a4 = (void *)&r->addr;

		memset(&r->addr, 0, sizeof(r->addr));
		a4->sin_family = AF_INET;
		memcpy(&a4->sin_addr, q->reply.addr4[0], 4);
		r->alen = sizeof(*a4);
		r->found = true;
		r->source = q->ns_text;
	} else if (!r->found)
		snprintf(r->why + wl, sizeof(r->why) - wl,
		    "; nameserver %s: %s", q->ns_text,
		    strcmp(q->code, "ok") == 0 ? "no address" : q->code);
	if (r->found || r->ndone == r->nq) {
		unsigned int i;

		/* The first answer wins: stop asking the others. */
		for (i = 0; i < r->nq; i++)
			if (r->q[i].st != DQ_DONE) {
				dq_close(&r->q[i]);
				r->q[i].st = DQ_DONE;
			}
		if (r->done) {
			void (*d)(struct resolveq *) = r->done;

			r->done = NULL;
			d(r);
		}
	}
}

void
resolveq_start(struct resolveq *r, const char *host, uint64_t deadline_ms,
    void (*done)(struct resolveq *), void *data)
{
	const struct resolv_conf *rc;
	struct hosts_result hr;
	unsigned int i;
	int err;

	memset(r, 0, sizeof(*r));
	snprintf(r->host, sizeof(r->host), "%s", host);
	r->done = done;
	r->data = data;
	if (netio_literal(host, &r->addr, &r->alen) == 0) {
		r->found = true;
		r->source = "literal";
		r->done = NULL;
		done(r);
		return;
	}
	err = hosts_find(host, &hr);
	if (err == 0 && hr.naddr4 > 0) {
		struct sockaddr_in *a4 = (void *)&r->addr;

		memset(&r->addr, 0, sizeof(r->addr));
		a4->sin_family = AF_INET;
		memcpy(&a4->sin_addr, hr.addr4[0], 4);
		r->alen = sizeof(*a4);
		r->found = true;
		r->source = "hosts";
		r->done = NULL;
		done(r);
		return;
	}
	if (err == 0 || err == -ENOENT)
		snprintf(r->why, sizeof(r->why), "not in %s", hosts_path());
	else
		snprintf(r->why, sizeof(r->why), "hosts file %s: %s",
		    hosts_path(), file_error(err));
	rc = netio_resolv_conf(NULL, NULL);
	for (i = 0; i < rc->nns && i < NETIO_MAX_NS; i++) {
		struct sockaddr_storage ns;
		socklen_t len;

		netio_ns_addr(i, &ns, &len);
		r->nq++;
		dnsq_start(&r->q[i], &ns, len, rc->ns[i].text, host, DNS_TYPE_A,
		    deadline_ms, rq_one_done, r);
		if (!r->done)
			return; /* finished inside dnsq_start */
	}
	if (r->nq == 0) {
		size_t wl = strlen(r->why);

		snprintf(r->why + wl, sizeof(r->why) - wl,
		    "; no nameserver in resolv.conf");
		r->done = NULL;
		done(r);
	}
}

void
resolveq_deadline(struct resolveq *r)
{
	unsigned int i;

	for (i = 0; i < r->nq; i++)
		dnsq_deadline(&r->q[i]);
}

/* ---- connq ---- */

static void
cq_close(struct connq *c)
{
	if (c->io.fd >= 0) {
		loop_io_del(&c->io);
		close(c->io.fd);
		c->io.fd = -1;
	}
}

void
connq_finish(struct connq *c, int err)
{
	if (!c->active)
		return;
	c->active = false;
	c->err = err;
	c->kept_fd = -1;
	if (c->keep_open && err == 0 && c->got_http && c->io.fd >= 0) {
		loop_io_del(&c->io);
		c->kept_fd = c->io.fd;
		c->io.fd = -1;
	}
	cq_close(c);
	if (c->done)
		c->done(c);
}

static void
cq_on_io(struct loop_io *io, uint32_t revents)
{
	struct connq *c = io->data;
	ssize_t n;

	if (!c->connected_ms) {
		int err = 0;
		socklen_t el = sizeof(err);

		(void)getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err) {
			connq_finish(c, err);
			return;
		}
		c->connected_ms = loop_now_ms();
		if (!c->reqlen) {
			connq_finish(c, 0);
			return;
		}
		(void)loop_io_mod(io, EPOLLOUT | EPOLLIN);
	}
	if (c->reqoff < c->reqlen && (revents & EPOLLOUT)) {
		n = send(io->fd, c->req + c->reqoff, c->reqlen - c->reqoff,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN) {
			connq_finish(c, errno);
			return;
		}
		if (n > 0)
			c->reqoff += (size_t)n;
		if (c->reqoff == c->reqlen)
			(void)loop_io_mod(io, EPOLLIN);
		return;
	}
	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		n = recv(io->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen,
		    MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			connq_finish(c, n == 0 ? ECONNRESET : errno);
			return;
		}
		c->rlen += (size_t)n;
		if (http_reply_parse(c->rbuf, c->rlen, &c->http) == 0) {
			c->got_http = true;
			connq_finish(c, 0);
		} else if (c->rlen == sizeof(c->rbuf))
			connq_finish(c, EPROTO);
	}
}

void
connq_start(struct connq *c, const struct sockaddr_storage *a, socklen_t alen,
    const char *req, size_t reqlen, void (*done)(struct connq *), void *data)
{
	int fd;

	memset(c, 0, sizeof(*c));
	c->io.fd = -1;
	c->io.cb = cq_on_io;
	c->io.data = c;
	c->done = done;
	c->data = data;
	c->addr = *a;
	c->alen = alen;
	c->active = true;
	if (req && reqlen < sizeof(c->req)) {
		memcpy(c->req, req, reqlen);
		c->reqlen = reqlen;
	}
	fd =
	    socket(a->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		connq_finish(c, errno);
		return;
	}
	c->io.fd = fd;
	c->io.events = EPOLLOUT;
	if (connect(fd, (const struct sockaddr *)a, alen) < 0 &&
	    errno != EINPROGRESS) {
		connq_finish(c, errno);
		return;
	}
	(void)loop_io_add(&c->io);
}

/* ---- target ---- */

static void
on_target_timer(struct loop_timer *t)
{
	target_deadline(t->data);
}

void
target_begin(struct target_job *j, struct check_result *r, uint64_t deadline_ms)
{
	memset(j, 0, sizeof(*j));
	j->used = true;
	j->r = r;
	j->cq.io.fd = -1;
	j->deadline_ms = deadline_ms;
	j->timer.cb = on_target_timer;
	j->timer.data = j;
	/* The run's deadline ends every job anyway (check.c). */
	if (deadline_ms < nio.deadline_ms)
		loop_timer_arm(&j->timer, deadline_ms);
}

void
target_deadline(struct target_job *j)
{
	if (!j->used)
		return;
	loop_timer_cancel(&j->timer);
	resolveq_deadline(&j->rq);
	if (j->cq.active)
		connq_finish(&j->cq, ETIMEDOUT);
}
