/*
 * verdict — verdicts from what was seen.  See verdict.h.
 */
#include <string.h>

#include "dns.h"
#include "verdict.h"

/* Any reply proves the server is there. */
static bool
answered(const struct dns_seen *d)
{
	return d->done && d->has_reply;
}

/* Ended without anything that proves the server's upstream works. */
static bool
no_proof(const struct dns_seen *d)
{
	if (!d->has_reply)
		return d->code && strcmp(d->code, "timeout") == 0;
	return d->rcode == DNS_RCODE_SERVFAIL;
}

bool
verdict_resolver_wait_self(const struct resolver_seen *s)
{
	return s->embedded && s->self_asked && !s->self.done &&
	    no_proof(&s->probe);
}

static void
set(struct verdict *v, const char *status, const char *code)
{
	v->status = status;
	v->code = code;
}

/* A `query =` name: its own answer. */
static void
judge_query(unsigned int rcode, struct verdict *ret)
{
	switch (rcode) {
	case DNS_RCODE_NOERROR:
		set(ret, "ok", "ok");
		break;
	case DNS_RCODE_NXDOMAIN:
		set(ret, "warn", "nxdomain"); /* reachable: the name is wrong */
		break;
	case DNS_RCODE_REFUSED:
		set(ret, "fail", "refused");
		break;
	default:
		set(ret, "fail", "servfail");
		break;
	}
}

void
verdict_resolver(const struct resolver_seen *s, struct verdict *ret)
{
	const struct dns_seen *p = &s->probe;

	/* 127.0.0.11 answered Docker's own name: Docker's resolver is
	 * there, and the silence (or SERVFAIL) is its upstream's. */
	if (s->embedded && s->self_asked && answered(&s->self) && no_proof(p)) {
		set(ret, "fail", "upstream_dead");
		return;
	}
	if (p->has_reply) {
		if (p->rcode == DNS_RCODE_SERVFAIL)
			set(ret, "fail", "servfail");
		else if (s->default_query)
			set(ret, "ok", "ok"); /* any reply: reachable */
		else
			judge_query(p->rcode, ret);
		return;
	}
	set(ret, "fail", p->code ? p->code : "timeout");
}

void
verdict_mismatch(enum proxy_use upper, enum proxy_use lower,
    struct verdict *ret)
{
	if (upper == PROXY_USE_DOWN || lower == PROXY_USE_DOWN)
		set(ret, "fail", "mismatch");
	else
		set(ret, "warn", "mismatch");
}
