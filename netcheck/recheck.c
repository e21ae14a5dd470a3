/*
 * recheck — the checks after startup.  See recheck.h.
 *
 * Per [check] section: when it is due next (its interval after the end
 * of its last run, or sooner when a gate wants it), the pause a gate
 * waits between runs of a check that keeps failing, and its last run.
 * The sections are few (CONFIG_MAX_CHECKS), so the next due time is a
 * linear scan, done only when a run ends or something is asked for.
 *
 * Verdicts come from check.c one by one (checks_on_verdict), from the
 * first run, every re-run, and a tunnel whenever it ends; each is kept
 * under its check, name and target.  Targets that a re-run no longer
 * has (a nameserver gone from resolv.conf) keep their last verdict, and
 * its age says how old it is, but a gate judges a check only by what
 * its last run said.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "events.h"
#include "loop.h"
#include "recheck.h"

/* A gate's pauses between runs of a failing check: 250 ms doubling to
 * 2 s, so that a gateway that comes up late is seen within 2 s, and one
 * that never does costs a run every 2 s until check_wait is over. */
#define RECHECK_RETRY_FIRST_MS 250
#define RECHECK_RETRY_MAX_MS 2000
#define RECHECK_MAX_WAITERS 8

struct waiter {
	void (*done)(void *data);
	void *data;
	unsigned int run; /* the run that answers it; 0: the next one */
};

static struct {
	struct recheck_opts o;
	bool inited, first_done;
	struct check_verdict v[CHECK_MAX_RESULTS];
	size_t nv;
	uint64_t due_ms[CONFIG_MAX_CHECKS]; /* 0: not scheduled */
	uint64_t retry_ms[CONFIG_MAX_CHECKS];
	uint64_t last_end_ms[CONFIG_MAX_CHECKS];
	unsigned int last_run[CONFIG_MAX_CHECKS];
	unsigned int run; /* the number of the latest run (the first: 1) */
	bool running; /* a re-run is under way */
	uint64_t run_mask; /* its sections */
	uint64_t asked; /* sections asked for by recheck_now() */
	bool asked_all;
	struct waiter w[RECHECK_MAX_WAITERS];
	struct loop_timer timer;
} rc;

static unsigned int
nsections(void)
{
	return rc.o.cfg ? rc.o.cfg->nchecks : 0;
}

static const struct check_conf *
section(unsigned int i)
{
	return &rc.o.cfg->checks_list[i];
}

/* The section a verdict belongs to: its type and name, or -1. */
static int
section_of(const char *type, const char *name)
{
	unsigned int i;

	for (i = 0; i < nsections(); i++)
		if (strcmp(section(i)->type, type) == 0 &&
		    strcmp(section(i)->name, name) == 0)
			return (int)i;
	return -1;
}

static int
section_named(const char *name)
{
	const struct check_conf *k =
	    rc.o.cfg ? config_check_named(rc.o.cfg, name) : NULL;

	return k ? (int)(k - rc.o.cfg->checks_list) : -1;
}

static bool
is_tunnel(unsigned int i)
{
	return strcmp(section(i)->type, "tunnel") == 0;
}

/* ---- verdicts ---------------------------------------------------------- */

/* A re-run changed a verdict (old is NULL for a target new to us). */
static void
emit_changed(const struct check_verdict *old, const struct check_result *r)
{
	char check[sizeof(old->check) + CONFIG_NAME_MAX + 2];

	snprintf(check, sizeof(check), "%s%s%s", r->check, *r->name ? ":" : "",
	    r->name);
	ev_begin("check_changed");
	ev_str("check", check);
	ev_str("target", r->target);
	ev_str("status", r->status);
	ev_str("code", r->code);
	if (old) {
		ev_str("old_status", old->status);
		ev_str("old_code", old->code);
	} else {
		ev_null("old_status");
		ev_null("old_code");
	}
	ev_str("detail", r->detail);
	if (strcmp(r->status, "ok") != 0 && *r->hint)
		ev_str("hint", r->hint);
	if (r->required)
		ev_bool("required", true);
	ev_emit();
}

static struct check_verdict *
find(const struct check_result *r)
{
	size_t i;

	for (i = 0; i < rc.nv; i++)
		if (strcmp(rc.v[i].check, r->check) == 0 &&
		    strcmp(rc.v[i].name, r->name) == 0 &&
		    strcmp(rc.v[i].target, r->target) == 0)
			return &rc.v[i];
	return NULL;
}

/* check.c: a verdict came in (of the first run, a re-run, or a tunnel). */
static void
on_verdict(const struct check_result *r)
{
	struct check_verdict *v = find(r);
	bool changed;

	if (!v && rc.nv == CHECK_MAX_RESULTS)
		return; /* a full table keeps what it has */
	changed = !v || strcmp(v->status, r->status) != 0 ||
	    strcmp(v->code, r->code) != 0;
	/* Only a re-run tells of changes: the first run's verdicts (and a
	 * tunnel's, any time) have `check` events of their own. */
	if (rc.running && !r->background && changed)
		emit_changed(v, r);
	if (!v) {
		v = &rc.v[rc.nv++];
		snprintf(v->check, sizeof(v->check), "%s", r->check);
		snprintf(v->name, sizeof(v->name), "%s", r->name);
		snprintf(v->target, sizeof(v->target), "%s", r->target);
		v->section = section_of(r->check, r->name);
	}
	v->status = r->status;
	snprintf(v->code, sizeof(v->code), "%s", r->code);
	snprintf(v->detail, sizeof(v->detail), "%s", r->detail);
	snprintf(v->hint, sizeof(v->hint), "%s", r->hint);
	v->required = r->required;
	v->at_ms = loop_now_ms();
	v->run = rc.run;
}

static bool
passing(const struct check_verdict *v)
{
	return strcmp(v->status, "ok") == 0 || strcmp(v->status, "warn") == 0;
}

/*
 * Section s as a whole, by what its last run said: -EAGAIN when that
 * gave nothing (yet), else 0 and *ret_bad, the first target that did not
 * pass, or NULL.
 */
static int
judge(int s, const struct check_verdict **ret_bad)
{
	bool any = false;
	size_t i;

	*ret_bad = NULL;
	for (i = 0; i < rc.nv; i++) {
		const struct check_verdict *v = &rc.v[i];

		if (v->section != s || v->run != rc.last_run[s])
			continue;
		any = true;
		if (!*ret_bad && !passing(v))
			*ret_bad = v;
	}
	return any ? 0 : -EAGAIN;
}

int
recheck_state(const char *name, bool *ret_passed, bool *ret_required, char *why,
    size_t cap)
{
	int s = section_named(name);
	const struct check_verdict *bad;

	if (s < 0)
		return -ENOENT;
	*ret_required = section((unsigned int)s)->required;
	if (judge(s, &bad) < 0)
		return -EAGAIN;
	*ret_passed = !bad;
	if (bad)
		snprintf(why, cap, "%s %s %s: %s", bad->check, bad->target,
		    bad->code, bad->detail);
	else
		snprintf(why, cap, "passed");
	return 0;
}

size_t
recheck_count(void)
{
	return rc.nv;
}

const struct check_verdict *
recheck_get(size_t i)
{
	return i < rc.nv ? &rc.v[i] : NULL;
}

/* ---- runs -------------------------------------------------------------- */

static void arm(void);

/* egress and clock judge from the proxy's verdict: it runs with them. */
static uint64_t
with_proxy(uint64_t mask)
{
	uint64_t add = 0;
	unsigned int i;

	for (i = 0; i < nsections(); i++)
		if ((mask & (1ULL << i)) &&
		    (strcmp(section(i)->type, "egress") == 0 ||
		        strcmp(section(i)->type, "clock") == 0))
			add = 1;
	for (i = 0; add && i < nsections(); i++)
		if (strcmp(section(i)->type, "proxy") == 0)
			mask |= 1ULL << i;
	return mask;
}

/* Every section a re-run may run (not a tunnel). */
static uint64_t
all_sections(void)
{
	uint64_t m = 0;
	unsigned int i;

	for (i = 0; i < nsections(); i++)
		if (!is_tunnel(i))
			m |= 1ULL << i;
	return m;
}

/* The run's deadline: the longest `timeout` among its sections. */
static uint64_t
run_timeout(uint64_t mask)
{
	uint64_t t = rc.o.timeout_ms ? rc.o.timeout_ms : 2000;
	unsigned int i;

	for (i = 0; i < nsections(); i++)
		if ((mask & (1ULL << i)) && section(i)->timeout_ms > t)
			t = section(i)->timeout_ms;
	return t;
}

/* Section i was in the run that just ended: its next due time. */
static void
after_run(unsigned int i, uint64_t now)
{
	const struct check_verdict *bad;

	rc.last_run[i] = rc.run;
	rc.last_end_ms[i] = now;
	rc.due_ms[i] =
	    section(i)->interval_ms ? now + section(i)->interval_ms : 0;
	/* Passing again: the next failure is retried quickly again. */
	if (judge((int)i, &bad) == 0 && !bad)
		rc.retry_ms[i] = RECHECK_RETRY_FIRST_MS;
}

static void
on_run_done(void *data)
{
	uint64_t now = loop_now_ms();
	unsigned int i;

	(void)data;
	rc.running = false;
	for (i = 0; i < nsections(); i++)
		if (rc.run_mask & (1ULL << i))
			after_run(i, now);
	for (i = 0; i < RECHECK_MAX_WAITERS; i++) {
		struct waiter *w = &rc.w[i];

		if (w->done && w->run == rc.run) {
			void (*done)(void *) = w->done;

			w->done = NULL;
			done(w->data);
		}
	}
	if (rc.o.on_verdicts)
		rc.o.on_verdicts();
	arm();
}

static void
start_run(uint64_t mask, bool all)
{
	struct checks_opts co;
	unsigned int i;

	memset(&co, 0, sizeof(co));
	rc.running = true;
	rc.run++;
	rc.run_mask = all ? all_sections() : with_proxy(mask);
	for (i = 0; i < nsections(); i++)
		if (rc.run_mask & (1ULL << i))
			rc.due_ms[i] = 0;
	for (i = 0; i < RECHECK_MAX_WAITERS; i++)
		if (rc.w[i].done && rc.w[i].run == 0)
			rc.w[i].run = rc.run;
	co.cfg = rc.o.cfg;
	co.timeout_ms = run_timeout(rc.run_mask);
	co.dockerd = rc.o.dockerd;
	co.rerun = true;
	co.only = all ? 0 : rc.run_mask;
	co.on_done = on_run_done;
	(void)checks_start(&co);
}

/* The timer: start whatever is due (and asked for) now, as one run. */
static void
on_timer(struct loop_timer *t)
{
	uint64_t now = loop_now_ms(), mask = rc.asked;
	bool all = rc.asked_all;
	unsigned int i;

	(void)t;
	if (rc.running || !rc.first_done)
		return;
	for (i = 0; i < nsections(); i++)
		if (rc.due_ms[i] && rc.due_ms[i] <= now)
			mask |= 1ULL << i;
	rc.asked = 0;
	rc.asked_all = false;
	if (mask || all)
		start_run(mask, all);
	else
		arm();
}

/* Point the timer at the next due time, or at nothing. */
static void
arm(void)
{
	uint64_t next = 0;
	unsigned int i;

	if (rc.running || !rc.first_done)
		return;
	if (rc.asked || rc.asked_all)
		next = loop_now_ms();
	for (i = 0; i < nsections(); i++)
		if (rc.due_ms[i] && (!next || rc.due_ms[i] < next))
			next = rc.due_ms[i];
	rc.timer.cb = on_timer;
	if (next)
		loop_timer_arm(&rc.timer, next);
	else
		loop_timer_cancel(&rc.timer);
}

/* ---- the API ----------------------------------------------------------- */

void
recheck_init(const struct recheck_opts *o)
{
	memset(&rc, 0, sizeof(rc));
	rc.o = *o;
	rc.inited = true;
	rc.run = 1;
	checks_on_verdict(on_verdict);
}

void
recheck_first_done(void)
{
	uint64_t now = loop_now_ms();
	unsigned int i;

	if (!rc.inited || rc.first_done)
		return;
	rc.first_done = true;
	for (i = 0; i < nsections(); i++) {
		rc.last_run[i] = 1;
		rc.last_end_ms[i] = now;
		rc.retry_ms[i] = RECHECK_RETRY_FIRST_MS;
		if (section(i)->interval_ms)
			rc.due_ms[i] = now + section(i)->interval_ms;
	}
	arm();
}

int
recheck_now(const char *name, void (*done)(void *data), void *data)
{
	struct waiter *w = NULL;
	int s = -1;
	size_t i;

	if (!rc.inited)
		return -ENOTSUP;
	if (name && ((s = section_named(name)) < 0 || is_tunnel((unsigned)s)))
		return -ENOENT;
	for (i = 0; done && i < RECHECK_MAX_WAITERS && !w; i++)
		if (!rc.w[i].done)
			w = &rc.w[i];
	if (done && !w)
		return -EBUSY;
	if (w) {
		w->done = done;
		w->data = data;
		w->run = 0;
	}
	if (s >= 0)
		rc.asked |= 1ULL << s;
	else
		rc.asked_all = true;
	arm();
	return 0;
}

void
recheck_forget(void *data)
{
	size_t i;

	for (i = 0; i < RECHECK_MAX_WAITERS; i++)
		if (rc.w[i].done && rc.w[i].data == data)
			rc.w[i].done = NULL;
}

void
recheck_want(const char *name)
{
	int s = section_named(name);
	uint64_t now = loop_now_ms(), at;

	if (s < 0 || !rc.first_done)
		return; /* the first run's verdict is still to come */
	if (rc.running && (rc.run_mask & (1ULL << s)))
		return; /* its verdict is on its way */
	at = rc.last_end_ms[s] + rc.retry_ms[s];
	if (at < now)
		at = now;
	if (rc.due_ms[s] && rc.due_ms[s] <= at)
		return; /* due as soon as that already */
	rc.due_ms[s] = at;
	rc.retry_ms[s] *= 2;
	if (rc.retry_ms[s] > RECHECK_RETRY_MAX_MS)
		rc.retry_ms[s] = RECHECK_RETRY_MAX_MS;
	arm();
}
