/*
 * reap — the one reaping point of PID 1.
 *
 * reap_all() calls waitpid(-1, WNOHANG) until nothing is left to collect,
 * hands each exit to the supervisor; the rest are orphans (one `reaped`
 * event each at -v).  It returns whether any child is still
 * alive, which is how the shutdown knows it is finished.  A per-pid wait
 * would be wrong for an init: orphans reparented to us have pids we never
 * saw.
 *
 * Public API: reap_all().
 */
#ifndef AGENT_INIT_REAP_H
#define AGENT_INIT_REAP_H

#include <stdbool.h>

bool reap_all(unsigned int verbose);

#endif
