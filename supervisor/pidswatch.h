/*
 * pidswatch — zombies nobody reaps, and pids running out (SPEC section
 * 14, `pids_pressure`), with `pids_watch = DURATION` in [init].
 *
 * A zombie keeps its pid until its parent waits for it.  agent-init reaps
 * its own children at once, but a service that forks workers and never
 * waits for them piles zombies up until fork(2) fails with EAGAIN at
 * pids.max: an agent that "suddenly cannot run anything".  Every
 * pids_watch agent-init reads /proc once (and nothing in between: off by
 * default, it costs what it schedules) and counts, per parent, the
 * zombies and the children:
 *
 *  - a parent other than agent-init holding at least PIDS_ZOMBIES_MIN
 *    zombies in two scans in a row (a parent that reaps late is not one
 *    that never reaps) is named: reason "zombies";
 *  - with a pids limit (pids.current at 90% of pids.max or more), the
 *    parent with the most children is named: reason "pids_max"; again
 *    only once it fell below 80%.
 *
 * Rate limits: a parent is named again only when its zombies doubled
 * since, or PIDS_REPEAT_MS later; at most PIDS_EVENTS_MAX parents per
 * scan.  No scan while the sandbox shuts down.
 *
 * Public API: pidswatch_start(), pids_tally(), pids_due().
 */
#ifndef AGENT_INIT_PIDSWATCH_H
#define AGENT_INIT_PIDSWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proctab.h"

#define PIDS_ZOMBIES_MIN 10
#define PIDS_REPEAT_MS (5ULL * 60 * 1000)
#define PIDS_EVENTS_MAX 4

/* period_ms 0: off. */
void pidswatch_start(uint64_t period_ms, bool pid1);

/* --- pure parts (unit tested) -------------------------------------------- */

struct pids_tally {
	pid_t pid; /* the parent */
	unsigned int zombies;
	unsigned int children; /* zombies included */
};

/*
 * Per parent in t, its zombies and children, leaving out agent-init
 * (self) as a parent.  Parents with zombies first, most first, then the
 * others by children; at most cap.  ret_busiest: the parent with the most
 * children (self excluded), or 0.  Returns how many were written.
 */
size_t pids_tally(const struct proctab *t, pid_t self, struct pids_tally *ret,
    size_t cap, pid_t *ret_busiest);

/* The last time a parent was named, and with how many zombies. */
struct pids_mark {
	pid_t pid;
	uint64_t at_ms; /* 0: never */
	unsigned int zombies;
};

/* Name it now?  Never named, doubled since, or PIDS_REPEAT_MS later. */
bool pids_due(const struct pids_mark *m, unsigned int zombies, uint64_t now);

#endif
