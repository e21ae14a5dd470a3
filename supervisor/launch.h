/*
 * launch — the mechanics of one run of a service: what the child needs
 * before the fork (notify socket, sandbox, environment, pipes), the fork
 * and the watch on its exec report, and what is left after a run (its
 * timers, probe, output and process group).
 *
 * No state and no events here: service.c decides what happens, in its
 * table, and calls these to do it.  A function that fails leaves the
 * words for service_failed in s->reason and returns -errno.
 *
 * Public API: launch_argv(), launch_prepare(), launch_fork(),
 * launch_old_run_gone(), launch_end(), launch_oom_kills().
 */
#ifndef AGENT_INIT_LAUNCH_H
#define AGENT_INIT_LAUNCH_H

#include <stdbool.h>

#include "service.h"

/* The command: argv as given, `sh -c`, or the words of `command`. */
int launch_argv(struct svc *s, const struct service_conf *conf, char **argv);
/* Notify socket, sandbox, environment; -errno with s->reason. */
int launch_prepare(struct svc *s);
/* Pipes, fork (the child execs), watch the exec report, arm ready_timeout
 * and max_runtime; -errno with s->reason. */
int launch_fork(struct svc *s);
/* Before a restart: the previous run's group and output are gone (or the
 * wait for them is over); false means try again shortly. */
bool launch_old_run_gone(struct svc *s);
/* The run is over: record wstatus, cancel its timers, stop its probe,
 * drain its output, say how it ended, signal what is left of its group. */
void launch_end(struct svc *s, int wstatus);
/* The OOM kills of our memory cgroup so far; 0, or -ENOENT (no counter
 * to read). */
int launch_oom_kills(long long *ret_count);

#endif
