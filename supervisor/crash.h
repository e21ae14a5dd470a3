/*
 * crash — what a service's ends say, for its events, `status` and the
 * termination log (SPEC section 14, "Cause"): the cause of its last end
 * (cause.c), the --dockerd preset's hint for it, and the crash-loop
 * count that makes a service give up early.
 *
 * crashloop_limit (per service, default 3, 0 = off): a service that was
 * never ready and ends with the same cause (cause_same(): numbers aside;
 * an empty cause is never the same) on that many consecutive runs gives
 * up with that cause, in seconds rather than after max_restarts.
 *
 * service.c calls crash_end() once per end of a run, crash_loop() when
 * deciding on a restart, and crash_emit() while building service_exit
 * and service_failed; crash_exec_failed() when the exec failed.
 *
 * Public API: crash_end(), crash_exec_failed(), crash_loop(),
 * crash_emit(), crash_missing_caps().
 */
#ifndef AGENT_INIT_CRASH_H
#define AGENT_INIT_CRASH_H

#include <stdbool.h>
#include <stddef.h>

#include "cause.h"

struct svc_crash {
	bool dockerd; /* the --dockerd preset: hints for its fatal lines */
	unsigned int limit; /* crashloop_limit; 0: off */
	char cause[CAUSE_BUF]; /* of the last end; "" for none */
	char hint[CAUSE_HINT_MAX];
	char last[CAUSE_BUF]; /* the cause the count is about */
	unsigned int same; /* consecutive ends with it */
};

/*
 * A run ended.  crashed: it failed by itself (a non-zero code, a signal
 * it was not sent by a stop, a probe timeout): only then has it a cause,
 * from ring.  ever_ready: the service was ready once (crash loops count
 * only before that).
 */
void crash_end(struct svc_crash *c, const struct cause_ring *ring, bool crashed,
    bool ever_ready);
/* The exec failed: no output, no cause; the preset's hint from why. */
void crash_exec_failed(struct svc_crash *c, const char *why);
/* The same cause on `limit` runs in a row: give up.  reason holds how
 * the last run ended, and then why it gives up. */
bool crash_loop(const struct svc_crash *c, char *reason, size_t cap);
/* `cause` and `hint` of the event being built, when there are any. */
void crash_emit(const struct svc_crash *c);
/* The docker-in-gVisor capabilities agent-init lacks, upper case. */
void crash_missing_caps(char *buf, size_t cap);

#endif
