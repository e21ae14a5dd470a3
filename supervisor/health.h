/*
 * health — is a ready service still alive?  Its health probes, in rounds,
 * and the sd_notify watchdog (SPEC section 14, "Liveness").
 *
 * Both run only while the service is READY: health_start() when it gets
 * there, health_stop() when it leaves (for whatever reason: an exit, a
 * stop, the shutdown).  A service with neither `health` nor `watchdog`
 * costs nothing: no timer, no wake-up.  One that has them costs what they
 * schedule: one wake-up per round of probes, one per watchdog period.
 *
 * Probes: the first round comes health_interval after ready, each next
 * one health_interval after the previous round ended (as Docker's
 * HEALTHCHECK counts), so a slow probe never overlaps itself.  A round
 * runs the `health` probes in order, each a probe_check() with
 * health_timeout, and fails at the first probe that fails.
 * health_failures failed rounds in a row make the probes bad; one round
 * that passes makes them good again.
 *
 * Watchdog: the service sends WATCHDOG=1 within `watchdog` of ready and of
 * each previous WATCHDOG=1 (sd_watchdog_enabled(3): the watchdog is
 * active once start-up is complete).  A WATCHDOG=1 only notes the time:
 * the timer wakes at most once per period, whatever the rate of
 * WATCHDOG=1, and re-arms itself from the last one.  WATCHDOG=trigger
 * (health_trigger()) fails it at once.
 *
 * health never acts on the service: it says what changed through one
 * callback (enum health_news), and the service's state table decides what
 * that means (service_unhealthy, a restart ...).  `reason` says why the
 * last source went bad.
 *
 * Public API: health_init(), health_start(), health_stop(), health_ping(),
 * health_trigger(), health_on_exit(), health_ok(), health_wanted().
 */
#ifndef AGENT_INIT_HEALTH_H
#define AGENT_INIT_HEALTH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "loop.h"
#include "probe.h"

enum health_news {
	HEALTH_PROBES_FAILED, /* health_failures rounds in a row failed */
	HEALTH_PROBES_PASSED, /* a round passed after that */
	HEALTH_WATCHDOG_TIMEOUT, /* no WATCHDOG=1 in time, or a trigger */
	HEALTH_NEWS_MAX
};

struct health {
	const struct service_conf *conf;
	struct probe probe;
	struct loop_timer round_timer;
	struct loop_timer watchdog_timer;
	bool running; /* between health_start() and health_stop() */
	unsigned int index; /* the probe of the round under way */
	unsigned int failures; /* failed rounds in a row */
	bool probes_bad;
	bool watchdog_bad;
	bool pinged; /* a WATCHDOG=1 since ready */
	uint64_t ready_ms; /* when health_start() ran */
	uint64_t last_ping_ms;
	uint64_t bad_since_ms; /* when it last went from good to bad */
	char reason[320];
	void (*news)(void *data, enum health_news what);
	void *data;
};

void health_init(struct health *h, const struct service_conf *conf,
    void (*news)(void *data, enum health_news what), void *data);
/* The service became ready: the first round and the watchdog begin. */
void health_start(struct health *h);
/* It is no longer ready: stop everything, and forget (good again). */
void health_stop(struct health *h);
/* WATCHDOG=1; true when it ends a watchdog timeout. */
bool health_ping(struct health *h);
/* WATCHDOG=trigger: the service says it is broken; false if not running. */
bool health_trigger(struct health *h);
/* True when pid was the exec probe of a health check. */
bool health_on_exit(struct health *h, pid_t pid, int wstatus);
/* Neither the probes nor the watchdog are bad. */
bool health_ok(const struct health *h);
/* The service has `health` or `watchdog`. */
bool health_wanted(const struct service_conf *conf);

#endif
