/*
 * proxycheck — the `proxy` check.  See proxycheck.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpmsg.h"
#include "netio.h"
#include "proxy.h"
#include "proxycheck.h"

static struct {
	struct proxy_state st;
	struct check_result *r;
	struct target_job job;
	bool mismatch;
	char probe_host[256];
	unsigned int probe_port;
	char auth[PROXY_BASIC_MAX];
} px;

void
proxycheck_reset(void)
{
	loop_timer_cancel(&px.job.timer);
	memset(&px, 0, sizeof(px));
	px.job.cq.io.fd = -1;
}

const struct proxy_state *
proxycheck_state(void)
{
	return &px.st;
}

static void
verdict(const char *status, const char *code, const char *detail)
{
	px.st.done = true;
	px.st.ok = strcmp(code, "ok") == 0;
	if (px.st.ok && px.mismatch)
		result_done(px.r, "warn", "mismatch",
		    "%s; but the upper- and lower-case variables differ",
		    detail);
	else
		result_done(px.r, status, code, "%s", detail);
}

const char *
proxycheck_connect_code(int status)
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
replied(struct connq *c)
{
	const char *code;
	char detail[256];

	if (c->err && !c->connected_ms) {
		snprintf(detail, sizeof(detail), "connect to the proxy: %s",
		    strerror(c->err));
		verdict("fail", "unreachable", detail);
		return;
	}
	if (!px.probe_port) {
		verdict("ok", "ok", "the proxy accepts connections");
		return;
	}
	if (!c->got_http) {
		snprintf(detail, sizeof(detail),
		    "CONNECT %.100s:%u: no HTTP reply (%s)", px.probe_host,
		    px.probe_port, strerror(c->err ? c->err : EPROTO));
		verdict("fail", "unreachable", detail);
		return;
	}
	if (c->http.has_date) {
		px.st.have_date = true;
		px.st.date_skew = c->http.date - (int64_t)time(NULL);
	}
	snprintf(detail, sizeof(detail), "CONNECT %.100s:%u: %d %.60s",
	    px.probe_host, px.probe_port, c->http.status, c->http.reason);
	code = proxycheck_connect_code(c->http.status);
	verdict(strcmp(code, "ok") == 0 ? "ok" : "fail", code, detail);
}

static void
resolved(struct resolveq *rq)
{
	struct target_job *j = rq->data;
	char req[512];
	size_t n = 0;

	if (!rq->found) {
		char detail[400];

		snprintf(detail, sizeof(detail),
		    "the proxy's name %.60s does not resolve: %.200s", j->host,
		    rq->why);
		verdict("fail", "unreachable", detail);
		return;
	}
	netio_set_port(&rq->addr, j->port);
	if (px.probe_port)
		n = http_connect_request(req, sizeof(req), px.probe_host,
		    (uint16_t)px.probe_port, *px.auth ? px.auth : NULL);
	connq_start(&j->cq, &rq->addr, rq->alen, n ? req : NULL, n, replied, j);
}

static const char *
env_get(const char *name)
{
	return getenv(name);
}

void
proxycheck_start(const struct check_conf *k)
{
	struct proxy_env_view pe;
	struct proxy_url u;
	const char *url, *from;
	char shown[300], detail[400];

	if (px.st.started)
		return; /* once, even when egress or clock asked first */
	px.st.started = true;
	(void)proxy_env_read(env_get, &pe);
	url = pe.https_proxy ? pe.https_proxy : pe.http_proxy;
	from = pe.https_proxy ? pe.https_from : pe.http_from;
	if (!url && pe.http_upper_ignored) {
		/* curl ignores HTTP_PROXY (httpoxy); Go, Python and Node
		 * clients use it: check it, and say so. */
		url = pe.env.http.upper;
		from = "HTTP_PROXY (ignored by curl, used by Go and Python)";
	}
	px.st.set = url != NULL;
	proxy_redact(url ? url : "", shown, sizeof(shown));
	px.r = result_new("proxy", k ? k->name : "", url ? shown : "",
	    k ? k->required : false);
	if (!px.r)
		return;
	if (!url) {
		verdict("skip", "none", "no proxy variable is set");
		return;
	}
	if (proxy_url_parse(url, &u) < 0 ||
	    (strcmp(u.scheme, "http") != 0 && strcmp(u.scheme, "https") != 0)) {
		snprintf(detail, sizeof(detail),
		    "%s=%s is not an http:// proxy URL", from, shown);
		verdict("fail", "bad_url", detail);
		return;
	}
	if (k && *k->target &&
	    netio_split_hostport(k->target, px.probe_host,
	        sizeof(px.probe_host), &px.probe_port) < 0)
		px.probe_port = 0;
	if (proxy_basic_auth(url, px.auth, sizeof(px.auth)) < 0)
		px.auth[0] = 0;
	/* A mismatch is reported only if the proxy works: a broken proxy
	 * is the bigger news. */
	px.mismatch = pe.mismatch;
	target_begin(&px.job, px.r, netio_deadline(k ? k->timeout_ms : 0));
	snprintf(px.job.host, sizeof(px.job.host), "%s", u.host);
	px.job.port = u.port;
	resolveq_start(&px.job.rq, u.host, px.job.deadline_ms, resolved,
	    &px.job);
}

void
proxycheck_deadline(void)
{
	target_deadline(&px.job);
}
