/*
 * recheck — the checks after startup (SPEC section 14): `interval =` on a
 * [check] re-runs it that often, a service `after = check:NAME` has its
 * check re-run until it passes, and the control plane (`ctl checks`)
 * re-runs them now.  The last verdict of every check is kept here, with
 * its time: a re-run whose verdict differs (another code or status)
 * writes a `check_changed` event, and `status` shows them all.
 *
 * One run at a time: the checks of a run share its state (check.c), so a
 * re-run asked for while another is running waits for it, and whatever
 * is due at the same time runs together.  Runs start from the loop (a
 * timer), never inside a caller.  Nothing is scheduled but the next due
 * time: with no `interval` and nobody waiting for a check, no timer at
 * all, and PID 1 stays without wake-ups when idle.
 *
 * A re-run writes no `check` events and no `checks` summary: only what
 * changed.  A tunnel is never re-run (it watches for `hold` on its own).
 *
 * Public API: recheck_init(), recheck_first_done(), recheck_now(),
 * recheck_forget(), recheck_want(), recheck_state(), recheck_count(),
 * recheck_get().
 */
#ifndef AGENT_INIT_RECHECK_H
#define AGENT_INIT_RECHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct recheck_opts {
	const struct config *cfg; /* the [check] sections (NULL: defaults) */
	uint64_t timeout_ms; /* [init] check_timeout */
	bool dockerd; /* as for the first run */
	/* After each re-run: verdicts may have changed. */
	void (*on_verdicts)(void);
};

/* The last verdict of one check (one target of it), as `status` says. */
struct check_verdict {
	char check[24]; /* the type */
	char name[CONFIG_NAME_MAX]; /* the section's name, or "" */
	char target[160];
	const char *status; /* "ok", "warn", "fail", "skip" */
	char code[32];
	char detail[512];
	char hint[640];
	bool required;
	uint64_t at_ms; /* when it came in (loop_now_ms) */
	int section; /* index in cfg->checks_list, or -1 */
	unsigned int run; /* the run that gave it */
};

/* Before the first run (main's checks_start): record its verdicts. */
void recheck_init(const struct recheck_opts *o);
/* The first run is over: from now on, intervals and re-runs. */
void recheck_first_done(void);
/*
 * Re-run the check `after = check:NAME` would name, or every one (name
 * NULL; tunnels excepted), as soon as the loop comes round, or after the
 * run under way.  done(data), if given, is called once that run is over:
 * recheck_get() then has its verdicts.  0; -ENOENT: no such check;
 * -ENOTSUP: the checks are off; -EBUSY: too many callers waiting.
 */
int recheck_now(const char *name, void (*done)(void *data), void *data);
/* The caller behind data went away: never call its done. */
void recheck_forget(void *data);
/* A gate waits for NAME to pass: run it again soon (pauses grow). */
void recheck_want(const char *name);
/*
 * The verdict of check NAME as a whole (every target of its last run):
 * 0 with *ret_passed (all ok or warn) and why (what did not pass);
 * -EAGAIN: no verdict yet; -ENOENT: no such check.  *ret_required is
 * set unless -ENOENT.
 */
int recheck_state(const char *name, bool *ret_passed, bool *ret_required,
    char *why, size_t cap);
size_t recheck_count(void);
const struct check_verdict *recheck_get(size_t i);

#endif
