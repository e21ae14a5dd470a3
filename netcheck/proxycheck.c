/*
 * proxycheck — the `proxy` check.  See proxycheck.h.
 *
 * One probe per distinct proxy URL that matters: the one curl would use
 * and, when the two spellings of a proxy variable disagree (HTTPS_PROXY
 * and https_proxy, ...), each of those, so that the verdict can say which
 * one works.  Tools pick different spellings (curl and Python the lower
 * case, Go the upper case first), which is how "curl works and the agent
 * doesn't" happens.  Each probe resolves the proxy's name, connects, and
 * with `connect_probe` sends a CONNECT; the verdict comes once all ended.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpmsg.h"
#include "netio.h"
#include "proxy.h"
#include "proxycheck.h"
#include "verdict.h"

#define MAX_PROBES 3

struct probe {
	struct target_job job; /* first: the callbacks get &job */
	const char *url; /* from the environment */
	char shown[300]; /* redacted */
	const char *code; /* ok, unreachable, denied, ..., empty */
	char detail[200];
	char auth[PROXY_BASIC_MAX]; /* its Proxy-Authorization, if any */
	bool done;
};

static struct {
	struct proxy_state st;
	struct check_result *r;
	struct probe probes[MAX_PROBES];
	unsigned int nprobes, ndone;
	struct probe *main; /* curl's pick */
	/* The spellings that disagree, their values and probes. */
	const char *upper_name, *lower_name;
	const char *upper, *lower;
	struct probe *pu, *pl;
	char probe_host[256];
	unsigned int probe_port;
	const char *from; /* the variable curl's pick came from */
} px;

void
proxycheck_reset(void)
{
	unsigned int i;

	for (i = 0; i < MAX_PROBES; i++)
		loop_timer_cancel(&px.probes[i].job.timer);
	memset(&px, 0, sizeof(px));
}

const struct proxy_state *
proxycheck_state(void)
{
	return &px.st;
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

static enum proxy_use
use_of(const struct probe *p)
{
	if (!p || strcmp(p->code, "ok") == 0 || strcmp(p->code, "empty") == 0)
		return PROXY_USE_OK;
	if (strcmp(p->code, "denied") == 0 ||
	    strcmp(p->code, "auth_required") == 0)
		return PROXY_USE_REFUSED;
	return PROXY_USE_DOWN; /* unreachable, bad_url */
}

static void
mismatch_hint(void)
{
	const char *down = use_of(px.pu) == PROXY_USE_DOWN ? px.upper_name
	    : use_of(px.pl) == PROXY_USE_DOWN              ? px.lower_name
	                                                   : NULL;
	char what[80];

	if (down)
		snprintf(what, sizeof(what),
		    "%s does not work, so the tools that read it fail", down);
	else
		snprintf(what, sizeof(what),
		    "both work, but not as the same proxy");
	snprintf(px.r->hint, sizeof(px.r->hint),
	    "%s and %s differ, and tools pick different ones (curl and "
	    "Python use the lower-case one, Go the upper-case one first; "
	    "curl ignores HTTP_PROXY): %s; set both to the same working "
	    "value",
	    px.upper_name, px.lower_name, what);
}

/* "ok", or "unreachable (connect to the proxy: ...)". */
static void
outcome(const struct probe *p, char *buf, size_t cap)
{
	if (strcmp(p->code, "ok") == 0)
		snprintf(buf, cap, "works (%s)", p->detail);
	else
		snprintf(buf, cap, "%s (%s)", p->code, p->detail);
}

/* Every probe ended: the verdict. */
static void
verdict(void)
{
	struct probe *m = px.main;
	struct verdict v;
	const char *status;
	char u[240], l[240];

	px.st.done = true;
	px.st.ok = strcmp(m->code, "ok") == 0;
	status = px.st.ok ? "ok" : "fail";
	if (!px.upper_name) {
		if (strcmp(m->code, "bad_url") == 0)
			result_done(px.r, status, m->code,
			    "%s=%s is not an http:// proxy URL", px.from,
			    m->shown);
		else
			result_done(px.r, status, m->code, "%s", m->detail);
		return;
	}
	if (!px.pu) {
		/* NO_PROXY differs: the proxy itself is the bigger news. */
		if (px.st.ok)
			snprintf(px.r->hint, sizeof(px.r->hint),
			    "NO_PROXY and no_proxy differ: tools that read "
			    "one send to the proxy what others send directly; "
			    "set both to the same value");
		result_done(px.r, px.st.ok ? "warn" : "fail",
		    px.st.ok ? "mismatch" : m->code,
		    "%s; NO_PROXY=%.120s but no_proxy=%.120s", m->detail,
		    px.upper, px.lower);
		return;
	}
	verdict_mismatch(use_of(px.pu), use_of(px.pl), &v);
	if (m != px.pu && m != px.pl && !px.st.ok)
		v.status = "fail";
	mismatch_hint();
	outcome(px.pu, u, sizeof(u));
	outcome(px.pl, l, sizeof(l));
	result_done(px.r, v.status, v.code, "%s=%s %s; %s=%s %s", px.upper_name,
	    px.pu->shown, u, px.lower_name, px.pl->shown, l);
}

static void probe_end(struct probe *p, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
probe_end(struct probe *p, const char *code, const char *fmt, ...)
{
	va_list ap;

	if (p->done)
		return;
	p->done = true;
	p->code = code;
	va_start(ap, fmt);
	vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
	va_end(ap);
	if (++px.ndone == px.nprobes)
		verdict();
}

static struct probe *
probe_of(struct target_job *j)
{
	return (
	    struct probe *)(void *)((char *)j - offsetof(struct probe, job));
}

static void
replied(struct connq *c)
{
	struct probe *p = probe_of(c->data);

	if (c->err && !c->connected_ms) {
		probe_end(p, "unreachable", "connect to the proxy: %s",
		    strerror(c->err));
		return;
	}
	if (!px.probe_port) {
		probe_end(p, "ok", "the proxy accepts connections");
		return;
	}
	if (!c->got_http) {
		probe_end(p, "unreachable",
		    "CONNECT %.100s:%u: no HTTP reply (%s)", px.probe_host,
		    px.probe_port, strerror(c->err ? c->err : EPROTO));
		return;
	}
	if (c->http.has_date && p == px.main) {
		px.st.have_date = true;
		px.st.date_skew = c->http.date - (int64_t)time(NULL);
	}
	probe_end(p, proxycheck_connect_code(c->http.status),
	    "CONNECT %.100s:%u: %d %.60s", px.probe_host, px.probe_port,
	    c->http.status, c->http.reason);
}

static void
resolved(struct resolveq *rq)
{
	struct target_job *j = rq->data;
	char req[512];
	size_t n = 0;

	if (!rq->found) {
		probe_end(probe_of(j), "unreachable",
		    "the proxy's name %.60s does not resolve: %.100s", j->host,
		    rq->why);
		return;
	}
	netio_set_port(&rq->addr, j->port);
	if (px.probe_port)
		n = http_connect_request(req, sizeof(req), px.probe_host,
		    (uint16_t)px.probe_port,
		    *probe_of(j)->auth ? probe_of(j)->auth : NULL);
	connq_start(&j->cq, &rq->addr, rq->alen, n ? req : NULL, n, replied, j);
}

/* A probe for url, or the one already made for the same value. */
static struct probe *
probe_for(const char *url)
{
	unsigned int i;
	struct probe *p;

	for (i = 0; i < px.nprobes; i++)
		if (strcmp(px.probes[i].url, url) == 0)
			return &px.probes[i];
	p = &px.probes[px.nprobes++];
	p->url = url;
	proxy_redact(url, p->shown, sizeof(p->shown));
	if (proxy_basic_auth(url, p->auth, sizeof(p->auth)) < 0)
		p->auth[0] = 0;
	return p;
}

/* Start p: it may end at once (a bad URL, an empty value). */
static void
probe_start(struct probe *p, uint64_t deadline)
{
	struct proxy_url u;

	if (p->done || p->job.used)
		return;
	if (!*p->url) {
		probe_end(p, "empty", "most clients ignore an empty value");
		return;
	}
	if (proxy_url_parse(p->url, &u) < 0 ||
	    (strcmp(u.scheme, "http") != 0 && strcmp(u.scheme, "https") != 0)) {
		probe_end(p, "bad_url", "not an http:// proxy URL");
		return;
	}
	target_begin(&p->job, px.r, deadline);
	snprintf(p->job.host, sizeof(p->job.host), "%s", u.host);
	p->job.port = u.port;
	resolveq_start(&p->job.rq, u.host, p->job.deadline_ms, resolved,
	    &p->job);
}

/* The first variable whose two spellings differ, https first. */
static void
find_mismatch(const struct proxy_env *e)
{
	const struct {
		const struct proxy_env_pair *p;
		const char *upper, *lower;
	} pairs[] = { { &e->https, "HTTPS_PROXY", "https_proxy" },
		{ &e->http, "HTTP_PROXY", "http_proxy" },
		{ &e->all, "ALL_PROXY", "all_proxy" },
		{ &e->no, "NO_PROXY", "no_proxy" } };
	size_t i;

	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		if (pairs[i].p->upper && pairs[i].p->lower &&
		    strcmp(pairs[i].p->upper, pairs[i].p->lower) != 0) {
			px.upper_name = pairs[i].upper;
			px.lower_name = pairs[i].lower;
			px.upper = pairs[i].p->upper;
			px.lower = pairs[i].p->lower;
			return;
		}
}

static const char *
env_get(const char *name)
{
	return getenv(name);
}

/* curl's pick: https_proxy, HTTPS_PROXY, then ALL_PROXY; http_proxy. */
static const char *
pick(const struct proxy_env_view *pe)
{
	const char *url = pe->https_proxy ? pe->https_proxy : pe->http_proxy;

	px.from = pe->https_proxy ? pe->https_from : pe->http_from;
	if (!url && pe->http_upper_ignored) {
		/* curl ignores HTTP_PROXY (httpoxy); Go, Python and Node
		 * clients use it: check it, and say so. */
		url = pe->env.http.upper;
		px.from = "HTTP_PROXY (ignored by curl, used by Go and Python)";
	}
	return url;
}

void
proxycheck_start(const struct check_conf *k)
{
	struct proxy_env_view pe;
	uint64_t deadline = netio_deadline(k ? k->timeout_ms : 0);
	const char *url;
	char shown[300];
	unsigned int i;

	if (px.st.started)
		return; /* once, even when egress or clock asked first */
	px.st.started = true;
	(void)proxy_env_read(env_get, &pe);
	url = pick(&pe);
	px.st.set = url != NULL;
	proxy_redact(url ? url : "", shown, sizeof(shown));
	px.r = result_new("proxy", k ? k->name : "", url ? shown : "",
	    k ? k->required : false);
	if (!px.r)
		return;
	if (!url) {
		px.st.done = true;
		result_done(px.r, "skip", "none", "no proxy variable is set");
		return;
	}
	if (k && *k->target &&
	    netio_split_hostport(k->target, px.probe_host,
	        sizeof(px.probe_host), &px.probe_port) < 0)
		px.probe_port = 0;
	find_mismatch(&pe.env);
	px.main = probe_for(url);
	if (px.upper_name && strcmp(px.upper_name, "NO_PROXY") != 0) {
		px.pu = probe_for(px.upper);
		px.pl = probe_for(px.lower);
	}
	/* All made before any starts: one may end at once, and the verdict
	 * waits for them all. */
	for (i = 0; i < px.nprobes; i++)
		probe_start(&px.probes[i], deadline);
}

void
proxycheck_deadline(void)
{
	unsigned int i;

	for (i = 0; i < px.nprobes; i++)
		target_deadline(&px.probes[i].job);
}
