/*
 * resolver — the `resolver` check.  See resolver.h.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "facts.h"
#include "hints.h"
#include "netio.h"
#include "resolver.h"
#include "verdict.h"

/*
 * One nameserver: the probe (the root zone's NS, or the `query` name)
 * and, for Docker's 127.0.0.11, the container's own name, which Docker
 * answers itself even when its upstream is dead.
 */
struct ns_job {
	struct dnsq probe, self;
	struct check_result *r;
	bool embedded, self_asked;
};

static struct {
	struct loop_timer timer; /* the section's own timeout, if shorter */
	struct ns_job ns[NETIO_MAX_NS];
	unsigned int n;
	bool any_ok;
	bool default_query;
	bool user_network; /* resolv.conf is Docker's, user-defined network */
	char query[256];
	char hostname[HOST_NAME_MAX + 1];
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
hint(struct check_result *r, const char *code, const struct ns_job *j)
{
	struct hint_ctx hc;

	memset(&hc, 0, sizeof(hc));
	hc.target = r->target;
	hc.gvisor = strcmp(facts_host()->runtime, "gvisor") == 0;
	hc.gvisor_net = facts_gvisor_net();
	hc.embedded_dns = j && j->embedded;
	hc.user_network = rv.user_network;
	hc.self_asked = j && j->self_asked;
	hc.self_answered = j && j->self_asked && j->self.has_reply;
	hc.query = rv.default_query ? NULL : rv.query;
	hc.proxy_set = facts_proxy_set();
	hint_for("resolver", code, &hc, r->hint, sizeof(r->hint));
}

static void
seen(const struct dnsq *q, struct dns_seen *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->done = q->st == DQ_DONE;
	ret->has_reply = q->has_reply;
	ret->rcode = q->reply.rcode;
	ret->code = q->code;
}

/* "NOERROR, 1 address", "REFUSED", or why there was no reply. */
static void
outcome(const struct dnsq *q, char *buf, size_t cap)
{
	if (!q->has_reply)
		snprintf(buf, cap, "%s", q->why);
	else if (q->qtype == DNS_TYPE_A && q->reply.rcode == DNS_RCODE_NOERROR)
		snprintf(buf, cap, "answered NOERROR, %u address%s%s",
		    q->reply.naddr4, q->reply.naddr4 == 1 ? "" : "es",
		    q->over_tcp ? " (over TCP)" : "");
	else
		snprintf(buf, cap, "answered %s%s",
		    dns_rcode_name(q->reply.rcode),
		    q->over_tcp ? " (over TCP)" : "");
}

static void
verdict_of(struct ns_job *j)
{
	struct resolver_seen sn;
	struct verdict v;
	char probe[160], self[240] = "";

	memset(&sn, 0, sizeof(sn));
	seen(&j->probe, &sn.probe);
	seen(&j->self, &sn.self);
	sn.default_query = rv.default_query;
	sn.embedded = j->embedded;
	sn.self_asked = j->self_asked;
	if (verdict_resolver_wait_self(&sn))
		return;
	if (j->self_asked && j->self.st != DQ_DONE)
		dnsq_stop(&j->self); /* not needed any more */
	verdict_resolver(&sn, &v);
	outcome(&j->probe, probe, sizeof(probe));
	if (j->self_asked && j->self.st == DQ_DONE && j->self.code) {
		char o[140];

		outcome(&j->self, o, sizeof(o));
		snprintf(self, sizeof(self), "; Docker's own name %.60s: %s",
		    rv.hostname, o);
	}
	if (strcmp(v.code, "ok") == 0) {
		if (!rv.any_ok && j->probe.qtype == DNS_TYPE_A)
			aaaa_start(&j->probe);
		rv.any_ok = true;
	}
	hint(j->r, v.code, j);
	result_done(j->r, v.status, v.code, "query %s %s: %s%s%s",
	    j->probe.qname, j->probe.qtype == DNS_TYPE_NS ? "NS" : "A", probe,
	    rv.default_query && j->probe.has_reply &&
	            strcmp(v.code, "ok") == 0 &&
	            j->probe.reply.rcode != DNS_RCODE_NOERROR
	        ? " (any reply proves the server reachable)"
	        : "",
	    self);
}

static void
probe_done(struct dnsq *q)
{
	verdict_of(q->data);
}

static void
self_done(struct dnsq *q)
{
	struct ns_job *j = q->data;

	if (j->probe.st == DQ_DONE && !j->r->status)
		verdict_of(j);
}

/* Self first: the probe's end then finds it done. */
static void
end_all(void)
{
	unsigned int i;

	for (i = 0; i < rv.n; i++) {
		if (rv.ns[i].self_asked)
			dnsq_deadline(&rv.ns[i].self);
		dnsq_deadline(&rv.ns[i].probe);
	}
}

void
resolver_deadline(void)
{
	end_all();
	if (rv.aaaa_r)
		dnsq_deadline(&rv.aaaa_q);
}

static void
on_timer(struct loop_timer *t)
{
	(void)t;
	end_all();
}

static void
no_nameserver(const struct check_conf *k, const char *path, int err)
{
	struct check_result *r = result_new("resolver", k ? k->name : "", path,
	    k ? k->required : false);

	if (!r)
		return;
	hint(r, "no_nameserver", NULL);
	result_done(r, "fail", "no_nameserver", "%s",
	    err < 0 ? file_error(err) : "no nameserver line");
}

/*
 * Docker writes "options ndots:0" (and, from Engine 25, a "# ExtServers:"
 * comment) into the resolv.conf of a container on a user-defined network,
 * where 127.0.0.11 is its embedded DNS; with `--dns 127.0.0.11` on the
 * default bridge there is neither.
 */
static bool
user_network(const struct resolv_conf *rc)
{
	unsigned int i;

	if (rc->docker_ext_servers)
		return true;
	for (i = 0; i < rc->nns; i++)
		if (strcmp(rc->ns[i].text, "127.0.0.11") == 0)
			return rc->ndots_set && rc->ndots == 0;
	return false;
}

/* The name Docker's embedded DNS answers itself: the container's. */
static void
read_hostname(void)
{
	struct utsname u;

	rv.hostname[0] = 0;
	if (uname(&u) == 0 && strcmp(u.nodename, "localhost") != 0 &&
	    strlen(u.nodename) <= DNS_NAME_TEXT_MAX)
		snprintf(rv.hostname, sizeof(rv.hostname), "%s", u.nodename);
}

static void
start_ns(unsigned int i, const struct resolv_conf *rc, uint64_t deadline)
{
	struct ns_job *j = &rv.ns[i];
	struct sockaddr_storage ns;
	socklen_t len;

	netio_ns_addr(i, &ns, &len);
	j->embedded = strcmp(rc->ns[i].text, "127.0.0.11") == 0;
	j->self_asked = j->embedded && rv.hostname[0];
	/* The self query first: a probe that fails at once (port
	 * unreachable) decides without it, and stops it. */
	if (j->self_asked)
		dnsq_start(&j->self, &ns, len, rc->ns[i].text, rv.hostname,
		    DNS_TYPE_A, deadline, self_done, j);
	dnsq_start(&j->probe, &ns, len, rc->ns[i].text,
	    rv.default_query ? "." : rv.query,
	    rv.default_query ? DNS_TYPE_NS : DNS_TYPE_A, deadline, probe_done,
	    j);
}

void
resolver_check(const struct check_conf *k)
{
	uint64_t deadline = netio_deadline(k ? k->timeout_ms : 0);
	const struct resolv_conf *rc;
	const char *path;
	unsigned int i;
	int err;

	loop_timer_cancel(&rv.timer);
	memset(&rv, 0, sizeof(rv));
	rv.timer.cb = on_timer;
	rv.default_query = !(k && *k->query);
	snprintf(rv.query, sizeof(rv.query), "%s", k ? k->query : "");
	if (deadline < netio_run_deadline())
		loop_timer_arm(&rv.timer, deadline);
	if (k)
		netio_use_paths(k->resolv_conf, k->hosts);
	rc = netio_resolv_conf(&path, &err);
	if (rc->nns == 0) {
		no_nameserver(k, path, err);
		return;
	}
	rv.user_network = user_network(rc);
	read_hostname();
	for (i = 0; i < rc->nns && i < NETIO_MAX_NS; i++) {
		rv.ns[i].r = result_new("resolver", k ? k->name : "",
		    rc->ns[i].text, k ? k->required : false);
		if (!rv.ns[i].r)
			return;
		rv.n = i + 1;
		start_ns(i, rc, deadline);
	}
}
