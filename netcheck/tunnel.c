/*
 * tunnel — the `tunnel` check.  See tunnel.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "httpmsg.h"
#include "netio.h"
#include "proxy.h"
#include "proxycheck.h"
#include "tunnel.h"

static struct {
	struct check_result *r;
	struct target_job job;
	struct loop_io io;
	char host[256];
	unsigned int port;
	char auth[PROXY_BASIC_MAX];
	uint64_t hold_ms, open_ms, bytes;
	struct loop_timer timer;
} tn;

static const char *
env_get(const char *name)
{
	return getenv(name);
}

#define TUNNEL_OPEN_MS 10000
#define TUNNEL_HOLD_MS (5ULL * 60 * 1000)

static void
tunnel_verdict(const char *status, const char *code, const char *detail)
{
	loop_timer_cancel(&tn.timer);
	if (tn.io.fd >= 0) {
		loop_io_del(&tn.io);
		close(tn.io.fd);
		tn.io.fd = -1;
	}
	result_done(tn.r, status, code, "%s", detail);
}

/* The proxy closed the idle tunnel (or it failed): how long it lived. */
static void
tunnel_on_io(struct loop_io *io, uint32_t revents)
{
	char buf[512], detail[160];
	ssize_t n = recv(io->fd, buf, sizeof(buf), MSG_DONTWAIT);

	(void)revents;
	if (n > 0)
		tn.bytes += (uint64_t)n;
	if (n > 0 || (n < 0 && errno == EAGAIN))
		return; /* bytes from the far end: still open */
	snprintf(detail, sizeof(detail),
	    tn.bytes
	        ? "the CONNECT tunnel to %.60s closed after %llu ms, after "
	          "data from the far end (the target may have closed it)"
	        : "the proxy closed an idle CONNECT tunnel to %.60s after "
	          "%llu ms",
	    tn.r->target, (unsigned long long)(loop_now_ms() - tn.open_ms));
	tunnel_verdict("warn", "tunnel_cut", detail);
}

static void
tunnel_timer_cb(struct loop_timer *t)
{
	char detail[160];

	(void)t;
	if (!tn.open_ms) {
		/* The CONNECT did not complete in time (nor, perhaps, the
		 * proxy's name: its queries end now, quietly). */
		tn.job.rq.done = NULL;
		resolveq_deadline(&tn.job.rq);
		if (tn.job.cq.active) {
			tn.job.cq.done = NULL;
			connq_finish(&tn.job.cq, ETIMEDOUT);
		}
		tunnel_verdict("fail", "unreachable",
		    "no tunnel through the proxy within 10 s");
		return;
	}
	snprintf(detail, sizeof(detail),
	    "an idle CONNECT tunnel to %.60s stayed open for %llu ms",
	    tn.r->target, (unsigned long long)(loop_now_ms() - tn.open_ms));
	tunnel_verdict("ok", "ok", detail);
}

static void
tunnel_replied(struct connq *c)
{
	char detail[200];

	if (!c->got_http || c->http.status < 200 || c->http.status >= 300) {
		snprintf(detail, sizeof(detail), "CONNECT %.60s: %s",
		    tn.r->target,
		    c->got_http ? c->http.reason
		                : strerror(c->err ? c->err : EPROTO));
		tunnel_verdict("fail",
		    c->got_http ? proxycheck_connect_code(c->http.status)
		                : "unreachable",
		    detail);
		return;
	}
	/* Open: keep the socket (connq_finish left it to us) and wait for the
	 * proxy to cut it, up to `hold`. */
	tn.io.fd = c->kept_fd;
	tn.io.events = EPOLLIN | EPOLLRDHUP;
	tn.io.cb = tunnel_on_io;
	tn.io.data = NULL;
	if (loop_io_add(&tn.io) < 0) {
		tunnel_verdict("fail", "unreachable",
		    "cannot watch the tunnel");
		return;
	}
	tn.open_ms = loop_now_ms();
	loop_timer_arm(&tn.timer, tn.open_ms + tn.hold_ms);
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
	netio_set_port(&rq->addr, j->port);
	n = http_connect_request(req, sizeof(req), tn.host, (uint16_t)tn.port,
	    *tn.auth ? tn.auth : NULL);
	connq_start(&j->cq, &rq->addr, rq->alen, req, n, tunnel_replied, j);
	j->cq.keep_open = true;
}

void
tunnel_start(const struct check_conf *k, bool background)
{
	struct proxy_env_view pe;
	struct proxy_url u;
	const char *url;

	if (!background) {
		struct check_result *r = result_new("tunnel", k ? k->name : "",
		    k ? k->target : "", false);

		result_done(r, "skip", "background",
		    "runs in the background under PID 1 (it holds a tunnel "
		    "for `hold`), not in netcheck");
		return;
	}
	tn.r = result_new_background("tunnel", k ? k->name : "",
	    k ? k->target : "");
	if (!tn.r)
		return;
	tn.io.fd = -1;
	tn.timer.cb = tunnel_timer_cb;
	tn.hold_ms = k && k->hold_ms ? k->hold_ms : TUNNEL_HOLD_MS;
	(void)proxy_env_read(env_get, &pe);
	url = pe.https_proxy ? pe.https_proxy : pe.http_proxy;
	if (!url || proxy_url_parse(url, &u) < 0 ||
	    netio_split_hostport(k ? k->target : "", tn.host, sizeof(tn.host),
	        &tn.port) < 0) {
		result_done(tn.r, "skip", "none",
		    "no usable proxy variable, or no target = HOST:PORT");
		return;
	}
	if (proxy_basic_auth(url, tn.auth, sizeof(tn.auth)) < 0)
		tn.auth[0] = 0;
	memset(&tn.job, 0, sizeof(tn.job));
	tn.job.used = true;
	tn.job.cq.io.fd = -1;
	snprintf(tn.job.host, sizeof(tn.job.host), "%s", u.host);
	tn.job.port = u.port;
	loop_timer_arm(&tn.timer, loop_now_ms() + TUNNEL_OPEN_MS);
	resolveq_start(&tn.job.rq, u.host, loop_now_ms() + TUNNEL_OPEN_MS,
	    tunnel_resolved, &tn.job);
}
