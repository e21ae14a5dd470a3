/*
 * oomwatch — who the kernel's OOM killer took (SPEC section 14,
 * `oom_kill`).
 *
 * The kernel counts the OOM kills of each memory cgroup: `oom_kill N` in
 * memory.events (cgroup v2) or memory.oom_control (v1, Linux 4.13 and
 * later).  agent-init's services never leave its cgroup, so its counter
 * is theirs.  Each increase becomes `oom_kill` events that name what died
 * of that SIGKILL, as well as can be told.
 *
 * Noticing an increase, with no timer of its own (an idle PID 1 still
 * never wakes up):
 *   v2   inotify on memory.events: the kernel signals every change;
 *   v1   an eventfd registered in cgroup.event_control for
 *        memory.oom_control, when the cgroup is writable: it fires as
 *        the OOM begins, just before the kill, so the count is read again
 *        a few times over the next quarter second until it moves;
 *   else (a container's read-only v1 cgroup) the count is read after a
 *        pass of the loop that read a service's output.
 * In every mode the count is also read at the start of each reaping pass
 * (one pread) and when a service dies of SIGKILL.
 *
 * Naming the victim, best effort, at the moment the increase is seen:
 *  - processes visibly dying of SIGKILL (/proc: SIGKILL pending, or
 *    exiting or a zombie with SIGKILL as exit code), and the service's
 *    process or orphan we have just reaped after a SIGKILL: pid, command
 *    name and the service it belongs to (its own process, a descendant
 *    by ancestry, or a member of its process group);
 *  - when there are fewer of those than kills: one event with `pid` and
 *    `comm` null and `count` the rest, naming the service that lost a
 *    process since the OOM began (a snapshot taken when the notification
 *    came), else the service whose output or exit brought the read, else
 *    the only service running, else none.
 * A process agent-init itself sent SIGKILL (stop timeouts, the leftover
 * kill, a restart clearing the old group) is never named.
 *
 * With no counter to read (no memory cgroup visible, gVisor, a kernel
 * before 4.13 on v1), oomwatch_announce() says so once, in a `warning`.
 *
 * Public API: oomwatch_init(), oomwatch_announce(), oomwatch_count(),
 * oomwatch_reap(), oomwatch_orphan(), oomwatch_service_exit(),
 * oomwatch_pass(), oomwatch_sigkill(), oomwatch_sigkill_all(), oom_choose().
 */
#ifndef AGENT_INIT_OOMWATCH_H
#define AGENT_INIT_OOMWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "proctab.h"
#include "service.h"

/* Find the counter and the way to be told; nothing is written yet. */
void oomwatch_init(bool pid1);
/* One `warning` if there is nothing to watch; runtime from `environment`. */
void oomwatch_announce(const char *runtime);
/* The counter now, or -1. */
long long oomwatch_count(void);
/* A reaping pass begins: the zombies are still visible. */
void oomwatch_reap(void);
/* An orphan was reaped with this status. */
void oomwatch_orphan(pid_t pid, int wstatus);
/* s's process was reaped (s->wstatus): was it the OOM killer's? */
bool oomwatch_service_exit(const struct svc *s);
/* The end of a pass of the loop: read the count if output arrived. */
void oomwatch_pass(void);
/* agent-init sends SIGKILL to pid, or to the group pgid (0: none). */
void oomwatch_sigkill(pid_t pid, pid_t pgid);
/* ... to every process (the end of the shutdown). */
void oomwatch_sigkill_all(void);

/* --- the choice, pure (unit tested) ------------------------------------- */

/* A process that died of SIGKILL at the moment of an increase. */
struct oom_cand {
	pid_t pid;
	int svc; /* the index of its service, or -1 */
	char comm[PROC_COMM_MAX]; /* "" when unknown */
};

struct oom_facts {
	const struct oom_cand *cand;
	size_t ncand;
	unsigned long long kills; /* how much the counter went up */
	int lost_svc; /* lost a process since the OOM began, or -1 */
	int trigger_svc; /* its output or exit brought the read, or -1 */
	int only_svc; /* the only service running, or -1 */
};

/*
 * Which candidates to name: their indexes in ret_named (at most cap, and
 * at most `kills`), and for the kills left over, how many (ret_rest) and
 * which service to name for them (ret_rest_svc, -1 for none).  Returns
 * the number named.
 */
size_t oom_choose(const struct oom_facts *f, size_t *ret_named, size_t cap,
    unsigned long long *ret_rest, int *ret_rest_svc);

#endif
