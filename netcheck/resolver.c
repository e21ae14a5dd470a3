/*
 * resolver — the `resolver` check.  See resolver.h.
 */
#include <stdio.h>
#include <string.h>

#include "facts.h"
#include "hints.h"
#include "netio.h"
#include "resolver.h"

static struct {
	struct loop_timer timer; /* the section's own timeout, if shorter */
	struct dnsq q[NETIO_MAX_NS];
	struct check_result *r[NETIO_MAX_NS];
	unsigned int n;
	bool any_ok;
	struct dnsq aaaa_q;
	struct check_result *aaaa_r;
} rv;

/*
 * IPv6 advertised but not routed: when the name has AAAA records and the
 * sandbox has no IPv6 default route, clients that try IPv6 first (Node
 * 17+ resolves in the order the resolver gives) fail to connect while
 * curl falls back fine.
 */
static void
aaaa_done(struct dnsq *q)
{
	const struct host_facts *f = facts_host();

	if (strcmp(q->code, "ok") != 0)
		result_done(rv.aaaa_r, "skip", "no_answer", "AAAA %s: %s",
		    q->qname, q->why);
	else if (q->reply.naddr6 > 0 && !f->route_v6)
		result_done(rv.aaaa_r, "warn", "ipv6_no_route",
		    "%s has AAAA records but the sandbox has no IPv6 default "
		    "route",
		    q->qname);
	else
		result_done(rv.aaaa_r, "ok", "ok",
		    "AAAA %s: %u address(es), IPv6 route %s", q->qname,
		    q->reply.naddr6, f->route_v6 ? "present" : "absent");
}

static void
aaaa_start(const struct dnsq *a)
{
	rv.aaaa_r = result_new("environment", "", "ipv6", false);
	if (!rv.aaaa_r)
		return;
	if (strcmp(a->qname, ".") == 0) {
		result_done(rv.aaaa_r, "skip", "no_query",
		    "needs [check resolver] query = NAME");
		return;
	}
	snprintf(rv.aaaa_r->hint, sizeof(rv.aaaa_r->hint),
	    "give the sandbox an IPv6 route, or make clients prefer IPv4 "
	    "(Node: --dns-result-order=ipv4first)");
	dnsq_start(&rv.aaaa_q, &a->ns, a->nslen, a->ns_text, a->qname,
	    DNS_TYPE_AAAA, a->deadline_ms, aaaa_done, NULL);
}

static void
hint(struct check_result *r, const char *code)
{
	struct hint_ctx hc;

	memset(&hc, 0, sizeof(hc));
	hc.target = r->target;
	hc.gvisor = strcmp(facts_host()->runtime, "gvisor") == 0;
	hc.embedded_dns = strcmp(r->target, "127.0.0.11") == 0;
	hc.proxy_set = facts_proxy_set();
	hint_for("resolver", code, &hc, r->hint, sizeof(r->hint));
}

static void
ns_done(struct dnsq *q)
{
	struct check_result *r = rv.r[q - rv.q];
	const char *status;

	if (strcmp(q->code, "ok") == 0) {
		status = "ok";
		if (!rv.any_ok && q->qtype == DNS_TYPE_A)
			aaaa_start(q);
		rv.any_ok = true;
	} else if (strcmp(q->code, "nxdomain") == 0)
		status = "warn"; /* reachable: the name is the problem */
	else
		status = "fail";
	hint(r, q->code);
	result_done(r, status, q->code, "query %s %s: %s", q->qname,
	    q->qtype == DNS_TYPE_NS ? "NS" : "A", q->why);
}

void
resolver_deadline(void)
{
	unsigned int i;

	for (i = 0; i < rv.n; i++)
		dnsq_deadline(&rv.q[i]);
	if (rv.aaaa_r)
		dnsq_deadline(&rv.aaaa_q);
}

static void
on_timer(struct loop_timer *t)
{
	unsigned int i;

	(void)t;
	for (i = 0; i < rv.n; i++)
		dnsq_deadline(&rv.q[i]);
}

static void
no_nameserver(const struct check_conf *k, const char *path, int err)
{
	struct check_result *r = result_new("resolver", k ? k->name : "", path,
	    k ? k->required : false);

	if (!r)
		return;
	hint(r, "no_nameserver");
	result_done(r, "fail", "no_nameserver", "%s",
	    err < 0 ? file_error(err) : "no nameserver line");
}

void
resolver_check(const struct check_conf *k)
{
	const char *qname = k && *k->query ? k->query : ".";
	uint64_t deadline = netio_deadline(k ? k->timeout_ms : 0);
	const struct resolv_conf *rc;
	const char *path;
	unsigned int i;
	int err;

	memset(&rv, 0, sizeof(rv));
	rv.timer.cb = on_timer;
	if (deadline < netio_run_deadline())
		loop_timer_arm(&rv.timer, deadline);
	if (k)
		netio_use_paths(k->resolv_conf, k->hosts);
	rc = netio_resolv_conf(&path, &err);
	if (rc->nns == 0) {
		no_nameserver(k, path, err);
		return;
	}
	for (i = 0; i < rc->nns && i < NETIO_MAX_NS; i++) {
		struct sockaddr_storage ns;
		socklen_t len;

		rv.r[i] = result_new("resolver", k ? k->name : "",
		    rc->ns[i].text, k ? k->required : false);
		if (!rv.r[i])
			return;
		netio_ns_addr(i, &ns, &len);
		rv.n = i + 1;
		dnsq_start(&rv.q[i], &ns, len, rc->ns[i].text, qname,
		    k && *k->query ? DNS_TYPE_A : DNS_TYPE_NS, deadline,
		    ns_done, NULL);
	}
}
