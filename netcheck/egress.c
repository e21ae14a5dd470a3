/*
 * egress — verdicts over the others: egress and clock.  See egress.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "egress.h"
#include "netio.h"
#include "proxycheck.h"

static struct {
	struct check_result *egress_r, *clock_r;
	struct target_job direct;
	bool direct_done, direct_ok, direct_wanted;
} eg;

void
egress_reset(void)
{
	memset(&eg, 0, sizeof(eg));
	eg.direct.cq.io.fd = -1;
}

static void
direct_connected(struct connq *c)
{
	eg.direct_done = true;
	eg.direct_ok = c->err == 0;
	egress_progress();
}

void
egress_start(const struct check_conf *k)
{
	struct target_job *j = &eg.direct;

	eg.egress_r = result_new("egress", k ? k->name : "",
	    k && *k->target ? k->target : "", k ? k->required : false);
	if (!eg.egress_r)
		return;
	if (k && *k->target) {
		memset(j, 0, sizeof(*j));
		j->cq.io.fd = -1;
		eg.direct_wanted = true;
		if (netio_split_hostport(k->target, j->host, sizeof(j->host),
		        &j->port) < 0 ||
		    netio_literal(j->host, &j->rq.addr, &j->rq.alen) < 0) {
			result_done(eg.egress_r, "fail", "bad_target",
			    "direct = %s is not IP:PORT", k->target);
			return;
		}
		netio_set_port(&j->rq.addr, j->port);
		connq_start(&j->cq, &j->rq.addr, j->rq.alen, NULL, 0,
		    direct_connected, j);
	}
	proxycheck_start(NULL);
}

void
clock_start(const struct check_conf *k)
{
	eg.clock_r = result_new("clock", k ? k->name : "",
	    "Date:", k ? k->required : false);
	if (eg.clock_r)
		proxycheck_start(NULL);
}

static void
egress_verdict(const struct proxy_state *p)
{
	if (eg.direct_wanted && eg.direct_ok)
		result_done(eg.egress_r, "ok", "direct_ok",
		    "direct connection to %s works", eg.egress_r->target);
	else if (p->ok)
		result_done(eg.egress_r, "warn", "proxy_only",
		    "%s; the proxy works",
		    eg.direct_wanted ? "no direct path"
		                     : "no direct target to test");
	else if (p->set)
		result_done(eg.egress_r, "fail", "proxy_broken",
		    "the proxy does not work%s",
		    eg.direct_wanted ? " and there is no direct path" : "");
	else
		result_done(eg.egress_r, "fail", "no_egress", "no proxy%s",
		    eg.direct_wanted ? " and no direct path" : "");
}

static void
clock_verdict(const struct proxy_state *p)
{
	long long skew = (long long)p->date_skew;

	if (!p->have_date)
		result_done(eg.clock_r, "skip", "no_date",
		    "no Date: header to compare with (needs a proxy with "
		    "connect_probe)");
	else if (skew > 60 || skew < -60)
		result_done(eg.clock_r, "warn", "skew",
		    "our clock is %lld s %s the proxy's", llabs(skew),
		    skew > 0 ? "behind" : "ahead of");
	else
		result_done(eg.clock_r, "ok", "ok",
		    "within %lld s of the proxy's clock", llabs(skew));
}

void
egress_progress(void)
{
	const struct proxy_state *p = proxycheck_state();

	if (eg.egress_r && !eg.egress_r->status && p->done &&
	    (!eg.direct_wanted || eg.direct_done))
		egress_verdict(p);
	if (eg.clock_r && !eg.clock_r->status && p->done)
		clock_verdict(p);
}

void
egress_deadline(void)
{
	if (eg.direct.cq.active)
		connq_finish(&eg.direct.cq, ETIMEDOUT);
}
