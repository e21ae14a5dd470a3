/*
 * netio — the asynchronous building blocks of the network checks, each a
 * state machine over one non-blocking socket in the loop, ending in one
 * callback:
 *
 *   dnsq      one query to one nameserver: UDP on a connected socket (so
 *             ICMP errors come back as ECONNREFUSED / ENETUNREACH), then
 *             TCP when the reply is truncated or UDP stayed silent for
 *             half of the time left (RFC 7766: TCP is always allowed).
 *   resolveq  a name for a target: an IP literal, else the hosts file,
 *             else every nameserver at once; it remembers which source
 *             failed how, so a DNS failure is never mistaken for a
 *             firewall.
 *   connq     a TCP connect, optionally followed by a request and an
 *             HTTP reply (a proxy's CONNECT).
 *   target    a check's HOST:PORT: resolveq, then connq, under the
 *             check's own deadline when it is shorter than the run's.
 *
 * netio also owns the name sources of a run: resolv.conf and the hosts
 * file, read once each through core/file.c (the default /etc paths as
 * planted files, paths from the command line or the configuration as the
 * operator's) and parsed by core/resolvconf.c.  Internal to netcheck/.
 *
 * Public API: netio_begin(), netio_use_paths(), netio_resolv_conf(),
 * netio_ns_addr(), netio_deadline(), netio_run_deadline(), dnsq_start(),
 * dnsq_stop(), dnsq_deadline(), resolveq_start(), resolveq_deadline(),
 * connq_start(), connq_finish(), target_begin(), target_deadline(),
 * netio_literal(), netio_split_hostport(), netio_set_port(),
 * netio_port_of().
 */
#ifndef AGENT_INIT_NETIO_H
#define AGENT_INIT_NETIO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dns.h"
#include "httpmsg.h"
#include "loop.h"
#include "resolvconf.h"
#include "result.h"

#define NETIO_MAX_NS 8

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
	uint64_t deadline_ms;
	/*
	 * How it ended: "ok" (NOERROR), "nxdomain", "refused", "servfail"
	 * (SERVFAIL, another rcode, or a reply we cannot read), "timeout"
	 * (no reply), "port_unreachable", "net_unreachable".  has_reply
	 * says whether reply holds an answer (its rcode is the truth).
	 */
	const char *code;
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
	struct dnsq q[NETIO_MAX_NS];
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

/* One HOST:PORT of a check: the proxy, a tcp target, egress's direct. */
struct target_job {
	struct loop_timer timer; /* its own deadline, if shorter */
	struct check_result *r;
	char host[256];
	unsigned int port;
	struct resolveq rq;
	struct connq cq;
	uint64_t deadline_ms;
	bool used;
};

/*
 * A new run ending at run_deadline_ms.  resolv_conf and hosts: paths
 * the operator gave, or NULL for /etc/resolv.conf and /etc/hosts.
 */
void netio_begin(uint64_t run_deadline_ms, const char *resolv_conf,
    const char *hosts);
/* A [check resolver] section's paths, for what the command line left. */
void netio_use_paths(const char *resolv_conf, const char *hosts);
/* Parsed once; *ret_err is 0 or -errno of the read. */
const struct resolv_conf *
netio_resolv_conf(const char **ret_path, int *ret_err);
void
netio_ns_addr(unsigned int i, struct sockaddr_storage *ret, socklen_t *ret_len);
/* A check's deadline: now + timeout_ms when before the run's, else it. */
uint64_t netio_deadline(uint64_t timeout_ms);
uint64_t netio_run_deadline(void);

void dnsq_start(struct dnsq *q, const struct sockaddr_storage *ns,
    socklen_t nslen, const char *ns_text, const char *qname, uint16_t qtype,
    uint64_t deadline_ms, void (*done)(struct dnsq *q), void *data);
/* Close without a callback (the answer is no longer needed). */
void dnsq_stop(struct dnsq *q);
/* End as "timeout" if still running. */
void dnsq_deadline(struct dnsq *q);

void resolveq_start(struct resolveq *r, const char *host, uint64_t deadline_ms,
    void (*done)(struct resolveq *), void *data);
void resolveq_deadline(struct resolveq *r);

void
connq_start(struct connq *c, const struct sockaddr_storage *a, socklen_t alen,
    const char *req, size_t reqlen, void (*done)(struct connq *), void *data);
void connq_finish(struct connq *c, int err);

/* Reset j for result r, with its own timer when deadline_ms is early. */
void target_begin(struct target_job *j, struct check_result *r,
    uint64_t deadline_ms);
void target_deadline(struct target_job *j);

int netio_literal(const char *host, struct sockaddr_storage *ret,
    socklen_t *ret_len);
int netio_split_hostport(const char *s, char *host, size_t cap,
    unsigned int *ret_port);
void netio_set_port(struct sockaddr_storage *ss, unsigned int port);
/* The port of "HOST:PORT", or 0. */
unsigned int netio_port_of(const char *target);

#endif
