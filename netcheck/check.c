/*
 * check — the check run.  See check.h.
 *
 * The run sits above the checks: it starts each one (one module per
 * check), holds the one deadline that bounds them all, and learns from
 * result.c when a verdict came in (egress and clock wait for others) and
 * when the last one did (the `checks` summary).  No check includes this
 * file.
 */
#include <stdio.h>
#include <string.h>

#include "capcheck.h"
#include "check.h"
#include "egress.h"
#include "envcheck.h"
#include "events.h"
#include "facts.h"
#include "loop.h"
#include "netio.h"
#include "proxycheck.h"
#include "resolver.h"
#include "result.h"
#include "tcpcheck.h"
#include "tunnel.h"

static struct {
	struct checks_opts o;
	uint64_t deadline_ms;
	bool running;
	struct loop_timer deadline;
	void (*on_verdict)(const struct check_result *r);
} ck;

void
checks_for_dockerd(bool dockerd)
{
	facts_for_dockerd(dockerd);
}

const struct host_facts *
checks_facts(void)
{
	return facts_host();
}

static void
on_all_done(void)
{
	struct check_summary sm;

	loop_timer_cancel(&ck.deadline);
	checks_summary(&sm);
	if (ck.o.events && !ck.o.rerun) {
		ev_begin("checks");
		ev_int("ok", sm.ok);
		ev_int("warn", sm.warn);
		ev_int("fail", sm.fail);
		ev_int("skip", sm.skip);
		ev_int("elapsed_ms", (long long)sm.elapsed_ms);
		ev_emit();
	}
	results_emit_background();
	if (ck.o.on_done)
		ck.o.on_done(ck.o.data);
}

static void
on_deadline(struct loop_timer *t)
{
	size_t i;

	(void)t;
	resolver_deadline();
	tcpcheck_deadline();
	proxycheck_deadline();
	egress_deadline();
	/* Whatever is still without a verdict ran out of time. */
	for (i = 0; i < results_count(); i++)
		if (!results_get(i)->status && !results_get(i)->background)
			result_done(results_get(i), "fail", "timeout",
			    "no verdict within the check timeout (%llu ms)",
			    (unsigned long long)ck.o.timeout_ms);
}

static const struct check_conf *
find_conf(const char *type)
{
	unsigned int i;

	if (!ck.o.cfg)
		return NULL;
	for (i = 0; i < ck.o.cfg->nchecks; i++)
		if (strcmp(ck.o.cfg->checks_list[i].type, type) == 0)
			return &ck.o.cfg->checks_list[i];
	return NULL;
}

static void
start_one(const struct check_conf *k)
{
	if (strcmp(k->type, "resolver") == 0)
		resolver_check(k);
	else if (strcmp(k->type, "tcp") == 0)
		tcpcheck_start(k, k->target, k->required);
	else if (strcmp(k->type, "capabilities") == 0)
		capcheck_start(k, ck.o.dockerd);
	else if (strcmp(k->type, "environment") == 0)
		envcheck_start(ck.o.dockerd);
	else if (strcmp(k->type, "egress") == 0)
		egress_start(k);
	else if (strcmp(k->type, "clock") == 0)
		clock_start(k);
	else if (strcmp(k->type, "tunnel") == 0)
		tunnel_start(k, ck.o.background);
}

void
checks_on_verdict(void (*fn)(const struct check_result *r))
{
	ck.on_verdict = fn;
}

/* Whether a re-run leaves section i out (a tunnel always). */
static bool
left_out(const struct checks_opts *o, unsigned int i)
{
	if (!o->rerun)
		return false;
	if (strcmp(o->cfg->checks_list[i].type, "tunnel") == 0)
		return true;
	return o->only && !(o->only & (1ULL << i));
}

int
checks_start(const struct checks_opts *o)
{
	const struct config *c = o->cfg;
	struct results_hooks h = { .events = o->events,
		.on_verdict = egress_progress,
		.on_all_done = on_all_done,
		.on_result = ck.on_verdict };
	unsigned int i;

	ck.o = *o;
	/* Elapsed times count from the results' start: the deadline may
	 * not come before it.  A re-run keeps the first run's results: a
	 * tunnel may still hold one of them, and give its verdict there. */
	if (o->rerun)
		results_rerun(&h);
	else
		results_begin(&h);
	results_hold(); /* no summary until every check is started */
	ck.deadline_ms = loop_now_ms() + (o->timeout_ms ? o->timeout_ms : 2000);
	ck.deadline.cb = on_deadline;
	loop_timer_arm(&ck.deadline, ck.deadline_ms);
	netio_begin(ck.deadline_ms, o->resolv_conf, o->hosts);
	tcpcheck_reset();
	proxycheck_reset();
	egress_reset();
	if (!c || c->nchecks == 0) {
		/* The defaults (SPEC section 8): warn-only. */
		resolver_check(NULL);
		proxycheck_start(NULL);
		capcheck_start(NULL, o->dockerd);
		envcheck_start(o->dockerd);
	} else {
		/* The proxy sections first: egress and clock use the proxy's
		 * verdict, and would otherwise start it without its keys. */
		for (i = 0; i < c->nchecks; i++)
			if (strcmp(c->checks_list[i].type, "proxy") == 0 &&
			    !left_out(o, i))
				proxycheck_start(&c->checks_list[i]);
		for (i = 0; i < c->nchecks; i++)
			if (!left_out(o, i))
				start_one(&c->checks_list[i]);
		if (o->dockerd && !find_conf("capabilities") &&
		    (!o->rerun || !o->only))
			capcheck_start(NULL, o->dockerd);
	}
	for (i = 0; i < o->ntargets; i++)
		tcpcheck_start(NULL, o->targets[i], true);
	results_release();
	return 0;
}

bool
checks_finished(void)
{
	return results_finished();
}

void
checks_summary(struct check_summary *ret)
{
	size_t i;

	memset(ret, 0, sizeof(*ret));
	for (i = 0; i < results_count(); i++) {
		const struct check_result *r = results_get(i);

		/* Background checks report on their own, after the sum. */
		if (!r->status || r->background)
			continue;
		if (strcmp(r->status, "ok") == 0)
			ret->ok++;
		else if (strcmp(r->status, "warn") == 0)
			ret->warn++;
		else if (strcmp(r->status, "fail") == 0) {
			ret->fail++;
			if (r->required)
				ret->required_failed = true;
		} else
			ret->skip++;
	}
	ret->elapsed_ms = results_elapsed_ms();
}

size_t
checks_count(void)
{
	return results_count();
}

const struct check_result *
checks_result(size_t i)
{
	return results_get(i);
}

void
checks_print_table(void)
{
	struct check_summary sm;
	size_t i;

	printf("%-22s %-26s %-5s %-17s %s\n", "CHECK", "TARGET", "STATUS",
	    "CODE", "DETAIL");
	for (i = 0; i < results_count(); i++) {
		const struct check_result *r = results_get(i);
		char name[CONFIG_NAME_MAX + 26];

		snprintf(name, sizeof(name), "%s%s%s", r->check,
		    *r->name ? ":" : "", r->name);
		printf("%-22s %-26s %-5s %-17s %s\n", name, r->target,
		    r->status ? r->status : "?", r->code, r->detail);
		if (r->status && strcmp(r->status, "ok") != 0 && *r->hint)
			printf("%-22s   -> %s\n", "", r->hint);
	}
	checks_summary(&sm);
	printf("\n%u ok, %u warn, %u fail, %u skip in %llu ms\n", sm.ok,
	    sm.warn, sm.fail, sm.skip, (unsigned long long)sm.elapsed_ms);
}
