/*
 * health — the liveness of a ready service.  See health.h.
 */
#include <stdio.h>
#include <string.h>

#include "health.h"

bool
health_wanted(const struct service_conf *conf)
{
	return conf && (conf->nhealth > 0 || conf->watchdog_ms > 0);
}

bool
health_ok(const struct health *h)
{
	return !h->probes_bad && !h->watchdog_bad;
}

/* Something went bad: note when, unless it was bad already. */
static void
went_bad(struct health *h, enum health_news what)
{
	bool was_ok = health_ok(h);

	if (what == HEALTH_WATCHDOG_TIMEOUT)
		h->watchdog_bad = true;
	else
		h->probes_bad = true;
	if (was_ok)
		h->bad_since_ms = loop_now_ms();
	h->news(h->data, what);
}

/* --- the probes, in rounds ----------------------------------------------- */

static void run_probe(struct health *h);

/* The next round, health_interval after this one ended. */
static void
next_round(struct health *h)
{
	loop_timer_arm(&h->round_timer,
	    loop_now_ms() + h->conf->health_interval_ms);
}

static void
on_probe_passed(void *data)
{
	struct health *h = data;

	if (++h->index < h->conf->nhealth) {
		run_probe(h);
		return;
	}
	h->failures = 0;
	next_round(h);
	if (h->probes_bad) {
		h->probes_bad = false;
		h->news(h->data, HEALTH_PROBES_PASSED);
	}
}

static void
on_probe_failed(void *data)
{
	struct health *h = data;
	char what[96];

	if (h->failures < UINT32_MAX)
		h->failures++;
	next_round(h);
	if (h->probes_bad || h->failures < h->conf->health_failures)
		return;
	probe_describe(&h->conf->health[h->index], what, sizeof(what));
	snprintf(h->reason, sizeof(h->reason),
	    "health probe %s: %s (%u failed in a row)", what, h->probe.detail,
	    h->failures);
	went_bad(h, HEALTH_PROBES_FAILED);
}

static void
run_probe(struct health *h)
{
	probe_check(&h->probe, &h->conf->health[h->index],
	    h->conf->health_timeout_ms, on_probe_passed, on_probe_failed, h);
}

static void
on_round_timer(struct loop_timer *t)
{
	struct health *h = t->data;

	h->index = 0;
	run_probe(h);
}

/* --- the watchdog ---------------------------------------------------------- */

static void
on_watchdog_timer(struct loop_timer *t)
{
	struct health *h = t->data;
	uint64_t now = loop_now_ms(),
	         due = h->last_ping_ms + h->conf->watchdog_ms;

	/* WATCHDOG=1 came meanwhile: wait from the last one. */
	if (now < due) {
		loop_timer_arm(t, due);
		return;
	}
	if (h->pinged)
		snprintf(h->reason, sizeof(h->reason),
		    "watchdog: no WATCHDOG=1 within %llu ms (the last one "
		    "%llu ms ago)",
		    (unsigned long long)h->conf->watchdog_ms,
		    (unsigned long long)(now - h->last_ping_ms));
	else
		/* WATCHDOG_PID names the main process: a child that it
		 * started (a shell without exec) is not asked to send. */
		snprintf(h->reason, sizeof(h->reason),
		    "watchdog: no WATCHDOG=1 within %llu ms of ready (none "
		    "at all; WATCHDOG_PID names the main process)",
		    (unsigned long long)h->conf->watchdog_ms);
	went_bad(h, HEALTH_WATCHDOG_TIMEOUT);
}

bool
health_ping(struct health *h)
{
	if (!h->running || !h->conf->watchdog_ms)
		return false;
	h->last_ping_ms = loop_now_ms();
	h->pinged = true;
	if (!h->watchdog_bad)
		return false;
	h->watchdog_bad = false;
	loop_timer_arm(&h->watchdog_timer,
	    h->last_ping_ms + h->conf->watchdog_ms);
	return true;
}

bool
health_trigger(struct health *h)
{
	if (!h->running)
		return false;
	/* Until the next WATCHDOG=1, nothing more to wait for. */
	loop_timer_cancel(&h->watchdog_timer);
	snprintf(h->reason, sizeof(h->reason),
	    "watchdog: the service sent WATCHDOG=trigger");
	went_bad(h, HEALTH_WATCHDOG_TIMEOUT);
	return true;
}

/* --- the public API -------------------------------------------------------- */

void
health_init(struct health *h, const struct service_conf *conf,
    void (*news)(void *data, enum health_news what), void *data)
{
	memset(h, 0, sizeof(*h));
	h->conf = conf;
	h->news = news;
	h->data = data;
	h->probe.io.fd = -1;
	h->round_timer.cb = on_round_timer;
	h->round_timer.data = h;
	h->watchdog_timer.cb = on_watchdog_timer;
	h->watchdog_timer.data = h;
}

void
health_start(struct health *h)
{
	uint64_t now = loop_now_ms();

	if (!health_wanted(h->conf))
		return;
	h->running = true;
	h->ready_ms = now;
	if (h->conf->nhealth)
		next_round(h);
	if (h->conf->watchdog_ms) {
		h->last_ping_ms = now;
		loop_timer_arm(&h->watchdog_timer, now + h->conf->watchdog_ms);
	}
}

void
health_stop(struct health *h)
{
	if (!h->running)
		return;
	probe_stop(&h->probe);
	loop_timer_cancel(&h->round_timer);
	loop_timer_cancel(&h->watchdog_timer);
	h->running = false;
	h->index = 0;
	h->failures = 0;
	h->probes_bad = false;
	h->watchdog_bad = false;
	h->pinged = false;
	h->reason[0] = 0;
}

bool
health_on_exit(struct health *h, pid_t pid, int wstatus)
{
	return probe_on_exit(&h->probe, pid, wstatus);
}
