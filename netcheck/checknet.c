/*
 * checknet — the network checks.  See checknet.h.
 *
 * Three small asynchronous building blocks, each a state machine over one
 * non-blocking socket in the loop:
 *
 *   dnsq      one query to one nameserver: UDP on a connected socket (so
 *             ICMP errors come back as ECONNREFUSED / ENETUNREACH), then
 *             TCP when the reply is truncated or UDP stayed silent for
 *             half of the time left (RFC 7766: TCP is always allowed).
 *   resolveq  a name for a target: an IP literal, else the hosts file,
 *             else every nameserver at once; it remembers which source
 *             failed how, so a DNS failure is never mistaken for a
 *             firewall.
 *   connq     a TCP connect with the run's deadline, optionally followed
 *             by a request and an HTTP reply (the proxy's CONNECT).
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

#include "checknet.h"
#include "dns.h"
#include "httpmsg.h"
#include "loop.h"
#include "proxy.h"
#include "resolvconf.h"

#define MAX_NS 8
#define MAX_TCP 16

struct dnsq;
struct resolveq;
struct connq;

enum dq_state { DQ_IDLE, DQ_UDP, DQ_TCP_CONNECT, DQ_TCP_IO, DQ_DONE };

struct dnsq {
	struct sockaddr_storage ns;
	socklen_t nslen;
	char ns_text[64];
	char qname[256];
	uint16_t qtype, id;
	uint8_t q[DNS_QUERY_MAX + 2];
	size_t qlen, qoff;
	uint8_t r[4096];
	size_t rlen;
	struct loop_io io;
	struct loop_timer tcp_timer;
	enum dq_state st;
	bool over_tcp;
	uint64_t
	    deadline_ms; /* this query's: the check's timeout, or the run's */
	const char *code; /* SPEC section 8 vocabulary */
	char why[128];
	struct dns_reply reply;
	bool has_reply;
	void (*done)(struct dnsq *q);
	void *data;
};

struct resolveq {
	char host[256];
	struct sockaddr_storage addr;
	socklen_t alen;
	bool found;
	const char *source; /* "literal", "hosts", or the nameserver */
	struct dnsq q[MAX_NS];
	unsigned int nq, ndone;
	char why[256];
	void (*done)(struct resolveq *r);
	void *data;
};

struct connq {
	struct sockaddr_storage addr;
	socklen_t alen;
	struct loop_io io;
	bool active;
	int err;
	char req[512];
	size_t reqlen, reqoff;
	char rbuf[4096];
	size_t rlen;
	bool want_http, got_http;
	struct http_reply http;
	uint64_t connected_ms;
	bool keep_open; /* a good reply: hand the socket over (kept_fd) */
	int kept_fd;
	void (*done)(struct connq *c);
	void *data;
};

/* One tcp target (or the proxy, or egress's direct path). */
struct target_job {
	struct loop_timer timer; /* its own `timeout`, if shorter */
	struct check_result *r;
	char host[256];
	unsigned int port;
	struct resolveq rq;
	struct connq cq;
	bool used;
};

/* The deadline of the check being started (its `timeout`, else the run's). */
static uint64_t cur_deadline;

static struct {
	struct checks_opts o;
	uint64_t deadline_ms;
	struct loop_timer resolver_timer;
	struct resolv_conf rc;
	bool rc_loaded;
	int rc_err;
	/* resolver check */
	struct dnsq ns_q[MAX_NS];
	struct check_result *ns_r[MAX_NS];
	unsigned int nns;
	bool resolver_running, resolver_failed, resolver_ok;
	struct dnsq aaaa_q;
	struct check_result *aaaa_r;
	/* tcp targets */
	struct target_job tcp[MAX_TCP];
	/* proxy */
	struct check_result *proxy_r;
	struct target_job proxy;
	bool proxy_set, proxy_ok, proxy_done, proxy_mismatch;
	char proxy_probe_host[256];
	unsigned int proxy_probe_port;
	char proxy_auth[PROXY_BASIC_MAX];
	bool have_date;
	int64_t date_skew;
	/* egress */
	struct check_result *egress_r;
	struct target_job direct;
	bool direct_done, direct_ok, direct_wanted;
	/* clock */
	struct check_result *clock_r;
	/* tunnel */
	struct check_result *tunnel_r;
	struct target_job tunnel;
	struct loop_io tunnel_io;
	char tunnel_host[256];
	unsigned int tunnel_port;
	char tunnel_auth[PROXY_BASIC_MAX];
	uint64_t tunnel_hold_ms, tunnel_open_ms, tunnel_bytes;
	struct loop_timer tunnel_timer;
} cn;

static void target_deadline(struct target_job *j);

/* A check's own `timeout`, when shorter than what is left of the run. */
static uint64_t
begin_check(const struct check_conf *k)
{
	uint64_t now = loop_now_ms();

	cur_deadline = cn.deadline_ms;
	if (k && k->timeout_ms && now + k->timeout_ms < cn.deadline_ms)
		cur_deadline = now + k->timeout_ms;
	return cur_deadline;
}

static void
on_target_timer(struct loop_timer *t)
{
	target_deadline(t->data);
}

/* Arm j's own timer when its deadline comes before the run's. */
static void
target_timer(struct target_job *j)
{
	j->timer.cb = on_target_timer;
	j->timer.data = j;
	if (cur_deadline < cn.deadline_ms)
		loop_timer_arm(&j->timer, cur_deadline);
}

unsigned int
checknet_port_of(const char *target)
{
	const char *c = target ? strrchr(target, ':') : NULL;
	long v;

	if (!c)
		return 0;
	v = strtol(c + 1, NULL, 10);
	return v > 0 && v < 65536 ? (unsigned int)v : 0;
}

static int
split_hostport(const char *s, char *host, size_t cap, unsigned int *port)
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
	*port = checknet_port_of(c);
	return *port ? 0 : -EINVAL;
}

static void
set_port(struct sockaddr_storage *ss, unsigned int port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

static int
literal(const char *host, struct sockaddr_storage *ss, socklen_t *len)
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

static void
dq_start(struct dnsq *q, const struct sockaddr_storage *ns, socklen_t nslen,
    const char *ns_text, const char *qname, uint16_t qtype,
    void (*done)(struct dnsq *q), void *data)
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
	q->deadline_ms = cur_deadline;
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

static void
dq_deadline(struct dnsq *q)
{
	if (q->st != DQ_DONE && q->st != DQ_IDLE)
		dq_finish(q, "timeout", "%s",
		    q->over_tcp ? "no reply over UDP or TCP"
		                : "no reply over UDP");
}

/* ---- resolv.conf ---- */

static void
load_rc(void)
{
	const char *path =
	    cn.o.resolv_conf ? cn.o.resolv_conf : "/etc/resolv.conf";

	if (cn.rc_loaded)
		return;
	cn.rc_loaded = true;
	cn.rc_err = resolvconf_load(path, &cn.rc);
	if (cn.rc_err < 0)
		memset(&cn.rc, 0, sizeof(cn.rc));
}

static int
ns_addr(unsigned int i, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *a4 = (void *)ss;
	struct sockaddr_in6 *a6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (cn.rc.ns[i].family == AF_INET) {
		a4->sin_family = AF_INET;
		memcpy(&a4->sin_addr, cn.rc.ns[i].addr, 4);
		a4->sin_port = htons(53);
		*len = sizeof(*a4);
	} else {
		a6->sin6_family = AF_INET6;
		memcpy(&a6->sin6_addr, cn.rc.ns[i].addr, 16);
		a6->sin6_port = htons(53);
		a6->sin6_scope_id = cn.rc.ns[i].scope_id;
		*len = sizeof(*a6);
	}
	return 0;
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

static void
rq_start(struct resolveq *r, const char *host, void (*done)(struct resolveq *),
    void *data)
{
	struct hosts_result hr;
	const char *hosts = cn.o.hosts ? cn.o.hosts : "/etc/hosts";
	unsigned int i;

	memset(r, 0, sizeof(*r));
	snprintf(r->host, sizeof(r->host), "%s", host);
	r->done = done;
	r->data = data;
	if (literal(host, &r->addr, &r->alen) == 0) {
		r->found = true;
		r->source = "literal";
		r->done = NULL;
		done(r);
		return;
	}
	if (hosts_load_lookup(hosts, host, &hr) == 0 && hr.naddr4 > 0) {
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
	snprintf(r->why, sizeof(r->why), "not in %s", hosts);
	load_rc();
	for (i = 0; i < cn.rc.nns && i < MAX_NS; i++) {
		struct sockaddr_storage ns;
		socklen_t len;

		ns_addr(i, &ns, &len);
		r->nq++;
		dq_start(&r->q[i], &ns, len, cn.rc.ns[i].text, host, DNS_TYPE_A,
		    rq_one_done, r);
		if (!r->done)
			return; /* finished inside dq_start */
	}
	if (r->nq == 0) {
		size_t wl = strlen(r->why);

		snprintf(r->why + wl, sizeof(r->why) - wl,
		    "; no nameserver in resolv.conf");
		r->done = NULL;
		done(r);
	}
}

static void
rq_deadline(struct resolveq *r)
{
	unsigned int i;

	for (i = 0; i < r->nq; i++)
		dq_deadline(&r->q[i]);
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

static void
cq_finish(struct connq *c, int err)
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
			cq_finish(c, err);
			return;
		}
		c->connected_ms = loop_now_ms();
		if (!c->reqlen) {
			cq_finish(c, 0);
			return;
		}
		(void)loop_io_mod(io, EPOLLOUT | EPOLLIN);
	}
	if (c->reqoff < c->reqlen && (revents & EPOLLOUT)) {
		n = send(io->fd, c->req + c->reqoff, c->reqlen - c->reqoff,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN) {
			cq_finish(c, errno);
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
			cq_finish(c, n == 0 ? ECONNRESET : errno);
			return;
		}
		c->rlen += (size_t)n;
		if (http_reply_parse(c->rbuf, c->rlen, &c->http) == 0) {
			c->got_http = true;
			cq_finish(c, 0);
		} else if (c->rlen == sizeof(c->rbuf))
			cq_finish(c, EPROTO);
	}
}

static void
cq_start(struct connq *c, const struct sockaddr_storage *a, socklen_t alen,
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
		cq_finish(c, errno);
		return;
	}
	c->io.fd = fd;
	c->io.events = EPOLLOUT;
	if (connect(fd, (const struct sockaddr *)a, alen) < 0 &&
	    errno != EINPROGRESS) {
		cq_finish(c, errno);
		return;
	}
	(void)loop_io_add(&c->io);
}

static const char *
connect_code(int err)
{
	switch (err) {
	case 0:
		return "ok";
	case ECONNREFUSED:
		return "refused";
	case ETIMEDOUT:
		return "timeout";
	default:
		return "unreachable";
	}
}

/* ---- resolver ---- */

/*
 * IPv6 advertised but not routed: when the name has AAAA records and the
 * sandbox has no IPv6 default route, clients that try IPv6 first (Node
 * 17+ resolves in the order the resolver gives) fail to connect while
 * curl falls back fine.
 */
static void
aaaa_done(struct dnsq *q)
{
	const struct host_facts *f = checks_facts();

	if (strcmp(q->code, "ok") != 0)
		check_done(cn.aaaa_r, "skip", "no_answer", "AAAA %s: %s",
		    q->qname, q->why);
	else if (q->reply.naddr6 > 0 && !f->route_v6)
		check_done(cn.aaaa_r, "warn", "ipv6_no_route",
		    "%s has AAAA records but the sandbox has no IPv6 default "
		    "route",
		    q->qname);
	else
		check_done(cn.aaaa_r, "ok", "ok",
		    "AAAA %s: %u address(es), "
		    "IPv6 route %s",
		    q->qname, q->reply.naddr6,
		    f->route_v6 ? "present" : "absent");
}

static void
aaaa_start(const struct dnsq *a)
{
	cn.aaaa_r = check_new("environment", "", "ipv6", false);
	if (!cn.aaaa_r)
		return;
	if (strcmp(a->qname, ".") == 0) {
		check_done(cn.aaaa_r, "skip", "no_query",
		    "needs [check resolver] query = NAME");
		return;
	}
	snprintf(cn.aaaa_r->hint, sizeof(cn.aaaa_r->hint),
	    "give the sandbox an IPv6 route, or make clients prefer IPv4 "
	    "(Node: --dns-result-order=ipv4first)");
	dq_start(&cn.aaaa_q, &a->ns, a->nslen, a->ns_text, a->qname,
	    DNS_TYPE_AAAA, aaaa_done, NULL);
}

static void
ns_done(struct dnsq *q)
{
	unsigned int i = (unsigned int)(q - cn.ns_q);
	struct check_result *r = cn.ns_r[i];
	const char *status;

	if (strcmp(q->code, "ok") == 0) {
		status = "ok";
		if (!cn.resolver_ok && q->qtype == DNS_TYPE_A)
			aaaa_start(q);
		cn.resolver_ok = true;
	} else if (strcmp(q->code, "nxdomain") == 0)
		status = "warn"; /* reachable: the name is the problem */
	else {
		status = "fail";
		cn.resolver_failed = true;
	}
	check_done(r, status, q->code, "query %s %s: %s", q->qname,
	    q->qtype == DNS_TYPE_NS ? "NS" : "A", q->why);
}

static void
on_resolver_timer(struct loop_timer *t)
{
	unsigned int i;

	(void)t;
	for (i = 0; i < cn.nns; i++)
		dq_deadline(&cn.ns_q[i]);
}

void
checknet_resolver(const struct check_conf *k)
{
	const char *qname = k && *k->query ? k->query : ".";
	unsigned int i;

	if (begin_check(k) < cn.deadline_ms) {
		cn.resolver_timer.cb = on_resolver_timer;
		loop_timer_arm(&cn.resolver_timer, cur_deadline);
	}

	if (k && *k->resolv_conf && !cn.o.resolv_conf)
		cn.o.resolv_conf = k->resolv_conf;
	if (k && *k->hosts && !cn.o.hosts)
		cn.o.hosts = k->hosts;
	load_rc();
	cn.resolver_running = true;
	if (cn.rc.nns == 0) {
		struct check_result *r = check_new("resolver", k ? k->name : "",
		    cn.o.resolv_conf ? cn.o.resolv_conf : "/etc/resolv.conf",
		    k ? k->required : false);

		cn.resolver_failed = true;
		check_done(r, "fail", "no_nameserver", "%s",
		    cn.rc_err < 0 ? strerror(-cn.rc_err)
		                  : "no nameserver line");
		return;
	}
	for (i = 0; i < cn.rc.nns && i < MAX_NS; i++) {
		struct sockaddr_storage ns;
		socklen_t len;

		cn.ns_r[i] = check_new("resolver", k ? k->name : "",
		    cn.rc.ns[i].text, k ? k->required : false);
		if (!cn.ns_r[i])
			return;
		ns_addr(i, &ns, &len);
		cn.nns = i + 1;
		dq_start(&cn.ns_q[i], &ns, len, cn.rc.ns[i].text, qname,
		    k && *k->query ? DNS_TYPE_A : DNS_TYPE_NS, ns_done, NULL);
	}
}

/* ---- tcp targets ---- */

static void
tcp_connected(struct connq *c)
{
	struct target_job *j = c->data;
	const char *code = connect_code(c->err);

	if (c->err == 0)
		check_done(j->r, "ok", "ok", "connected to %s:%u", j->host,
		    j->port);
	else
		check_done(j->r, "fail", code, "connect to %s:%u: %s", j->host,
		    j->port, strerror(c->err));
}

static void
tcp_resolved(struct resolveq *rq)
{
	struct target_job *j = rq->data;

	if (!rq->found) {
		check_done(j->r, "fail", "dns_failed", "%s: %s", j->host,
		    rq->why);
		return;
	}
	set_port(&rq->addr, j->port);
	cq_start(&j->cq, &rq->addr, rq->alen, NULL, 0, tcp_connected, j);
}

static struct target_job *
new_target(struct target_job *pool, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!pool[i].used) {
			memset(&pool[i], 0, sizeof(pool[i]));
			pool[i].used = true;
			pool[i].cq.io.fd = -1;
			return &pool[i];
		}
	return NULL;
}

void
checknet_tcp(const struct check_conf *k, const char *target, bool required)
{
	struct target_job *j = new_target(cn.tcp, MAX_TCP);
	struct check_result *r;

	r = check_new("tcp", k ? k->name : "", target, required);
	if (!r)
		return;
	if (!j) {
		check_done(r, "skip", "too_many", "at most %d tcp targets",
		    MAX_TCP);
		return;
	}
	j->r = r;
	begin_check(k);
	target_timer(j);
	if (split_hostport(target, j->host, sizeof(j->host), &j->port) < 0) {
		check_done(r, "fail", "bad_target", "'%s' is not HOST:PORT",
		    target);
		return;
	}
	rq_start(&j->rq, j->host, tcp_resolved, j);
}

/* ---- proxy ---- */

static void
proxy_verdict(const char *status, const char *code, const char *detail)
{
	cn.proxy_done = true;
	cn.proxy_ok = strcmp(code, "ok") == 0;
	if (cn.proxy_ok && cn.proxy_mismatch)
		check_done(cn.proxy_r, "warn", "mismatch",
		    "%s; but the upper- and lower-case variables differ",
		    detail);
	else
		check_done(cn.proxy_r, status, code, "%s", detail);
	checknet_progress();
}

/* The verdict of a proxy's answer to CONNECT. */
static const char *
connect_code_of(int status)
{
	if (status >= 200 && status < 300)
		return "ok";
	if (status == 403)
		return "denied";
	/* 407 is the standard answer; some proxies (tinyproxy) say 401 to
	 * wrong credentials. */
	if (status == 407 || status == 401)
		return "auth_required";
	return "unreachable";
}

static void
proxy_replied(struct connq *c)
{
	const char *code;
	char detail[256];

	if (c->err && !c->connected_ms) {
		snprintf(detail, sizeof(detail), "connect to the proxy: %s",
		    strerror(c->err));
		proxy_verdict("fail", "unreachable", detail);
		return;
	}
	if (!cn.proxy_probe_port) {
		proxy_verdict("ok", "ok", "the proxy accepts connections");
		return;
	}
	if (!c->got_http) {
		snprintf(detail, sizeof(detail),
		    "CONNECT %.100s:%u: no HTTP reply (%s)",
		    cn.proxy_probe_host, cn.proxy_probe_port,
		    strerror(c->err ? c->err : EPROTO));
		proxy_verdict("fail", "unreachable", detail);
		return;
	}
	if (c->http.has_date) {
		cn.have_date = true;
		cn.date_skew = c->http.date - (int64_t)time(NULL);
	}
	snprintf(detail, sizeof(detail), "CONNECT %.100s:%u: %d %.60s",
	    cn.proxy_probe_host, cn.proxy_probe_port, c->http.status,
	    c->http.reason);
	code = connect_code_of(c->http.status);
	proxy_verdict(strcmp(code, "ok") == 0 ? "ok" : "fail", code, detail);
}

static void
proxy_resolved(struct resolveq *rq)
{
	struct target_job *j = rq->data;
	char req[512];
	size_t n = 0;

	if (!rq->found) {
		char detail[400];

		snprintf(detail, sizeof(detail),
		    "the proxy's name %.60s does not resolve: %.200s", j->host,
		    rq->why);
		proxy_verdict("fail", "unreachable", detail);
		return;
	}
	set_port(&rq->addr, j->port);
	if (cn.proxy_probe_port)
		n = http_connect_request(req, sizeof(req), cn.proxy_probe_host,
		    (uint16_t)cn.proxy_probe_port,
		    *cn.proxy_auth ? cn.proxy_auth : NULL);
	cq_start(&j->cq, &rq->addr, rq->alen, n ? req : NULL, n, proxy_replied,
	    j);
}

bool
checknet_proxy_set(void)
{
	return cn.proxy_set;
}

static const char *
env_get(const char *name)
{
	return getenv(name);
}

void
checknet_proxy(const struct check_conf *k)
{
	struct proxy_env_view pe;
	struct proxy_url u;
	const char *url, *from;
	char shown[300], detail[400];

	if (cn.proxy_r)
		return; /* once, even when egress or clock asked first */
	(void)proxy_env_read(env_get, &pe);
	url = pe.https_proxy ? pe.https_proxy : pe.http_proxy;
	from = pe.https_proxy ? pe.https_from : pe.http_from;
	if (!url && pe.http_upper_ignored) {
		/* curl ignores HTTP_PROXY (httpoxy); Go, Python and Node
		 * clients use it: check it, and say so. */
		url = pe.env.http.upper;
		from = "HTTP_PROXY (ignored by curl, used by Go and Python)";
	}
	cn.proxy_set = url != NULL;
	proxy_redact(url ? url : "", shown, sizeof(shown));
	cn.proxy_r = check_new("proxy", k ? k->name : "", url ? shown : "",
	    k ? k->required : false);
	if (!cn.proxy_r)
		return;
	if (!url) {
		proxy_verdict("skip", "none", "no proxy variable is set");
		return;
	}
	if (proxy_url_parse(url, &u) < 0 ||
	    (strcmp(u.scheme, "http") != 0 && strcmp(u.scheme, "https") != 0)) {
		snprintf(detail, sizeof(detail),
		    "%s=%s is not an http:// proxy URL", from, shown);
		proxy_verdict("fail", "bad_url", detail);
		return;
	}
	if (k && *k->target &&
	    split_hostport(k->target, cn.proxy_probe_host,
	        sizeof(cn.proxy_probe_host), &cn.proxy_probe_port) < 0)
		cn.proxy_probe_port = 0;
	if (proxy_basic_auth(url, cn.proxy_auth, sizeof(cn.proxy_auth)) < 0)
		cn.proxy_auth[0] = 0;
	/* A mismatch is reported only if the proxy works: a broken proxy
	 * is the bigger news. */
	cn.proxy_mismatch = pe.mismatch;
	cn.proxy.used = true;
	cn.proxy.r = cn.proxy_r;
	snprintf(cn.proxy.host, sizeof(cn.proxy.host), "%s", u.host);
	cn.proxy.port = u.port;
	cn.proxy.cq.io.fd = -1;
	begin_check(k);
	target_timer(&cn.proxy);
	rq_start(&cn.proxy.rq, u.host, proxy_resolved, &cn.proxy);
}

/* ---- egress, clock: verdicts over the others ---- */

static void
direct_connected(struct connq *c)
{
	cn.direct_done = true;
	cn.direct_ok = c->err == 0;
	checknet_progress();
}

void
checknet_egress(const struct check_conf *k)
{
	cn.egress_r = check_new("egress", k ? k->name : "",
	    k && *k->target ? k->target : "", k ? k->required : false);
	if (!cn.egress_r)
		return;
	if (k && *k->target) {
		struct target_job *j = &cn.direct;

		memset(j, 0, sizeof(*j));
		j->cq.io.fd = -1;
		cn.direct_wanted = true;
		if (split_hostport(k->target, j->host, sizeof(j->host),
		        &j->port) < 0 ||
		    literal(j->host, &j->rq.addr, &j->rq.alen) < 0) {
			check_done(cn.egress_r, "fail", "bad_target",
			    "direct = %s is not IP:PORT", k->target);
			return;
		}
		set_port(&j->rq.addr, j->port);
		cq_start(&j->cq, &j->rq.addr, j->rq.alen, NULL, 0,
		    direct_connected, j);
	}
	if (!cn.proxy_r)
		checknet_proxy(NULL);
}

void
checknet_clock(const struct check_conf *k)
{
	cn.clock_r = check_new("clock", k ? k->name : "",
	    "Date:", k ? k->required : false);
	if (cn.clock_r && !cn.proxy_r)
		checknet_proxy(NULL);
}

void
checknet_progress(void)
{
	if (cn.egress_r && !cn.egress_r->status && cn.proxy_done &&
	    (!cn.direct_wanted || cn.direct_done)) {
		if (cn.direct_wanted && cn.direct_ok)
			check_done(cn.egress_r, "ok", "direct_ok",
			    "direct connection to %s works",
			    cn.egress_r->target);
		else if (cn.proxy_ok)
			check_done(cn.egress_r, "warn", "proxy_only",
			    "%s; the proxy works",
			    cn.direct_wanted ? "no direct path"
			                     : "no direct target to test");
		else if (cn.proxy_set)
			check_done(cn.egress_r, "fail", "proxy_broken",
			    "the proxy does not work%s",
			    cn.direct_wanted ? " and there is no direct path"
			                     : "");
		else
			check_done(cn.egress_r, "fail", "no_egress",
			    "no proxy%s",
			    cn.direct_wanted ? " and no direct path" : "");
	}
	if (cn.clock_r && !cn.clock_r->status && cn.proxy_done) {
		long long skew = (long long)cn.date_skew;

		if (!cn.have_date)
			check_done(cn.clock_r, "skip", "no_date",
			    "no Date: header to compare with (needs a proxy "
			    "with connect_probe)");
		else if (skew > 60 || skew < -60)
			check_done(cn.clock_r, "warn", "skew",
			    "our clock is %lld s %s the proxy's", llabs(skew),
			    skew > 0 ? "behind" : "ahead of");
		else
			check_done(cn.clock_r, "ok", "ok",
			    "within %lld s of the proxy's clock", llabs(skew));
	}
}

/* ---- tunnel: opt-in, in the background (PID 1 only) ---- */

#define TUNNEL_OPEN_MS 10000
#define TUNNEL_HOLD_MS (5ULL * 60 * 1000)

static void
tunnel_verdict(const char *status, const char *code, const char *detail)
{
	loop_timer_cancel(&cn.tunnel_timer);
	if (cn.tunnel_io.fd >= 0) {
		loop_io_del(&cn.tunnel_io);
		close(cn.tunnel_io.fd);
		cn.tunnel_io.fd = -1;
	}
	check_done(cn.tunnel_r, status, code, "%s", detail);
}

/* The proxy closed the idle tunnel (or it failed): how long it lived. */
static void
tunnel_on_io(struct loop_io *io, uint32_t revents)
{
	char buf[512], detail[160];
	ssize_t n = recv(io->fd, buf, sizeof(buf), MSG_DONTWAIT);

	(void)revents;
	if (n > 0)
		cn.tunnel_bytes += (uint64_t)n;
	if (n > 0 || (n < 0 && errno == EAGAIN))
		return; /* bytes from the far end: still open */
	snprintf(detail, sizeof(detail),
	    cn.tunnel_bytes
	        ? "the CONNECT tunnel to %.60s closed after %llu ms, after "
	          "data from the far end (the target may have closed it)"
	        : "the proxy closed an idle CONNECT tunnel to %.60s after "
	          "%llu ms",
	    cn.tunnel_r->target,
	    (unsigned long long)(loop_now_ms() - cn.tunnel_open_ms));
	tunnel_verdict("warn", "tunnel_cut", detail);
}

static void
tunnel_timer_cb(struct loop_timer *t)
{
	char detail[160];

	(void)t;
	if (!cn.tunnel_open_ms) {
		/* The CONNECT did not complete in time. */
		if (cn.tunnel.cq.active) {
			cn.tunnel.cq.done = NULL;
			cq_finish(&cn.tunnel.cq, ETIMEDOUT);
		}
		tunnel_verdict("fail", "unreachable",
		    "no tunnel through the proxy within 10 s");
		return;
	}
	snprintf(detail, sizeof(detail),
	    "an idle CONNECT tunnel to %.60s stayed open for %llu ms",
	    cn.tunnel_r->target,
	    (unsigned long long)(loop_now_ms() - cn.tunnel_open_ms));
	tunnel_verdict("ok", "ok", detail);
}

static void
tunnel_replied(struct connq *c)
{
	char detail[200];

	if (!c->got_http || c->http.status < 200 || c->http.status >= 300) {
		snprintf(detail, sizeof(detail), "CONNECT %.60s: %s",
		    cn.tunnel_r->target,
		    c->got_http ? c->http.reason
		                : strerror(c->err ? c->err : EPROTO));
		tunnel_verdict("fail",
		    c->got_http ? connect_code_of(c->http.status)
		                : "unreachable",
		    detail);
		return;
	}
	/* Open: keep the socket (cq_finish left it to us) and wait for the
	 * proxy to cut it, up to `hold`. */
	cn.tunnel_io.fd = c->kept_fd;
	cn.tunnel_io.events = EPOLLIN | EPOLLRDHUP;
	cn.tunnel_io.cb = tunnel_on_io;
	cn.tunnel_io.data = NULL;
	if (loop_io_add(&cn.tunnel_io) < 0) {
		tunnel_verdict("fail", "unreachable",
		    "cannot watch the tunnel");
		return;
	}
	cn.tunnel_open_ms = loop_now_ms();
	loop_timer_arm(&cn.tunnel_timer, cn.tunnel_open_ms + cn.tunnel_hold_ms);
}

static void
tunnel_resolved(struct resolveq *rq)
{
	struct target_job *j = rq->data;
	char req[512];
	size_t n;

	if (!rq->found) {
		tunnel_verdict("fail", "unreachable",
		    "the proxy's name does not resolve");
		return;
	}
	set_port(&rq->addr, j->port);
	n = http_connect_request(req, sizeof(req), cn.tunnel_host,
	    (uint16_t)cn.tunnel_port, *cn.tunnel_auth ? cn.tunnel_auth : NULL);
	cq_start(&j->cq, &rq->addr, rq->alen, req, n, tunnel_replied, j);
	j->cq.keep_open = true;
}

void
checknet_tunnel(const struct check_conf *k)
{
	struct proxy_env_view pe;
	struct proxy_url u;
	const char *url;

	if (!cn.o.background) {
		struct check_result *r = check_new("tunnel", k ? k->name : "",
		    k ? k->target : "", false);

		check_done(r, "skip", "background",
		    "runs in the background under PID 1 (it holds a tunnel "
		    "for `hold`), not in netcheck");
		return;
	}
	cn.tunnel_r = check_new_background("tunnel", k ? k->name : "",
	    k ? k->target : "");
	if (!cn.tunnel_r)
		return;
	cn.tunnel_io.fd = -1;
	cn.tunnel_timer.cb = tunnel_timer_cb;
	cn.tunnel_hold_ms = k && k->hold_ms ? k->hold_ms : TUNNEL_HOLD_MS;
	(void)proxy_env_read(env_get, &pe);
	url = pe.https_proxy ? pe.https_proxy : pe.http_proxy;
	if (!url || proxy_url_parse(url, &u) < 0 ||
	    split_hostport(k ? k->target : "", cn.tunnel_host,
	        sizeof(cn.tunnel_host), &cn.tunnel_port) < 0) {
		check_done(cn.tunnel_r, "skip", "none",
		    "no usable proxy variable, or no target = HOST:PORT");
		return;
	}
	if (proxy_basic_auth(url, cn.tunnel_auth, sizeof(cn.tunnel_auth)) < 0)
		cn.tunnel_auth[0] = 0;
	memset(&cn.tunnel, 0, sizeof(cn.tunnel));
	cn.tunnel.used = true;
	cn.tunnel.cq.io.fd = -1;
	snprintf(cn.tunnel.host, sizeof(cn.tunnel.host), "%s", u.host);
	cn.tunnel.port = u.port;
	loop_timer_arm(&cn.tunnel_timer, loop_now_ms() + TUNNEL_OPEN_MS);
	rq_start(&cn.tunnel.rq, u.host, tunnel_resolved, &cn.tunnel);
}

/* ---- the run ---- */

static void
target_deadline(struct target_job *j)
{
	if (!j->used)
		return;
	loop_timer_cancel(&j->timer);
	rq_deadline(&j->rq);
	if (j->cq.active)
		cq_finish(&j->cq, ETIMEDOUT);
}

void
checknet_deadline(void)
{
	unsigned int i;

	for (i = 0; i < cn.nns; i++)
		dq_deadline(&cn.ns_q[i]);
	if (cn.aaaa_r)
		dq_deadline(&cn.aaaa_q);
	for (i = 0; i < MAX_TCP; i++)
		target_deadline(&cn.tcp[i]);
	target_deadline(&cn.proxy);
	if (cn.direct.cq.active)
		cq_finish(&cn.direct.cq, ETIMEDOUT);
}

void
checknet_init(const struct checks_opts *o, uint64_t deadline_ms)
{
	unsigned int i;

	/*
	 * A run again (`ctl checks`): timers of the last run that a verdict
	 * came before (a check's own shorter timeout) are still linked into
	 * the loop; unlink them before their structs are cleared.
	 */
	loop_timer_cancel(&cn.resolver_timer);
	for (i = 0; i < MAX_TCP; i++)
		loop_timer_cancel(&cn.tcp[i].timer);
	loop_timer_cancel(&cn.proxy.timer);
	loop_timer_cancel(&cn.direct.timer);
	loop_timer_cancel(&cn.tunnel.timer);
	memset(&cn, 0, sizeof(cn));
	cn.o = *o;
	cn.deadline_ms = deadline_ms;
	cur_deadline = deadline_ms;
	/* Known before any verdict: the resolver's hint depends on it. */
	{
		struct proxy_env_view pe;

		(void)proxy_env_read(env_get, &pe);
		cn.proxy_set = pe.https_proxy || pe.http_proxy ||
		    pe.env.http.upper || pe.env.https.upper;
	}
	srandom((unsigned int)(loop_now_ms() ^ (uint64_t)getpid()));
}
