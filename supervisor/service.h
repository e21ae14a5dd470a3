/*
 * service — one supervised process and its life, as one state machine.
 *
 * A service is in one of nine states, and everything that can happen to
 * it is one of twenty events.  What each event does in each state is one
 * cell of a table in service.c (s6-supervise's actions[state][event] is
 * the model): every cell is written down, most of them "nothing" because
 * the event cannot happen in that state or comes too late to matter.
 * Every change of state, and every service event (service_start,
 * service_ready, service_exit, service_restart, service_failed,
 * service_unhealthy, service_healthy), goes through one function,
 * transition().
 *
 *   WAITING   not started: waiting for what it is `after`
 *   SPAWNED   forked; the exec is not confirmed yet (shown as "starting")
 *   STARTING  exec'd (service_start); its probes run in order
 *   READY     every probe passed (service_ready); its liveness (health
 *             probes, watchdog: health.h) runs while it is here
 *   STOPPING  sent its stop signal; SIGKILL at the kill deadline
 *   BACKOFF   exited; restarts when the delay is over (service_restart)
 *   EXITED    ended for good
 *   FAILED    gave up, or cannot start (service_failed)
 *   STOPPED   stopped by an operator (`ctl stop`, `on_unhealthy = stop`):
 *             nothing runs, nothing restarts it, until `ctl start`
 *
 * The table (rows: events, columns: states; "-" is nothing):
 *
 *                    WAITING SPAWNED STARTING READY STOPPING BACKOFF EXITED FAILED STOPPED
 *   start            spawn   -       -        -     -        -       -      -      -
 *   dep_failed       nodep   -       -        -     -        -       -      -      -
 *   exec_ok          -       run     -        -     -        -       -      -      -
 *   exec_failed      -       cant    -        -     cant     -       -      -      -
 *   notify_ready     -       note    note     -     -        -       -      -      -
 *   probe_passed     -       -       next     -     -        -       -      -      -
 *   ready_timeout    -       stop    stop     -     -        -       -      -      -
 *   max_runtime      -       stop    stop     stop  budget   -       -      -      -
 *   stop             end     stop    stop     stop  join     end     -      -      -
 *   kill_timeout     -       -       -        -     kill     -       -      -      -
 *   exit             -       exit    exit     exit  exit     -       -      reap   -
 *   restart_due      retry   -       -        -     -        again   -      -      -
 *   health_failed    -       -       -        sick  -        -       -      -      -
 *   health_passed    -       -       -        well  -        -       -      -      -
 *   watchdog         -       -       -        ping  -        -       -      -      -
 *   watchdog_timeout -       -       -        sick  -        -       -      -      -
 *   extend_timeout   -       extend  extend   -     -        -       -      -      -
 *   hold             held    halt    halt     halt  halt     held    -      -      -
 *   release          -       -       -        -     resume   -       rerun  rerun  rerun
 *   restart          -       cycle   cycle    cycle recycle  now     rerun  rerun  rerun
 *
 *   spawn   fork and exec → SPAWNED; a start that cannot even fork (no
 *           pipes, no notify socket, a sandbox that cannot be prepared)
 *           → FAILED.  A service that ran before (started again after a
 *           stop) first waits, as a restart does, until its previous run
 *           is gone: it stays WAITING, and restart_due retries
 *   nodep   what it is `after` failed or ended before it was ever ready,
 *           so it can never start → FAILED
 *   run     service_start → STARTING, and the first probe
 *   cant    a step before exec failed (not found, sandbox) → FAILED; no
 *           restart: a missing binary will not appear
 *   note    READY=1 arrived: the notify probe passes now or when its turn
 *           comes
 *   next    the next probe, or → READY after the last one
 *   stop    stop signal, kill deadline → STOPPING, with the reason
 *   budget  max_runtime while stopping after ready_timeout or unhealthy:
 *           it is not restarted either
 *   join    the shutdown reaches a service already stopping for a reason
 *           of its own (ready_timeout, max_runtime, unhealthy, an
 *           operator): it gets the shutdown's stop signal again, in the
 *           shutdown's order, and the earlier of the two kill deadlines
 *   kill    SIGKILL to its process group
 *   exit    service_exit, then → BACKOFF (service_restart) when the policy
 *           and the restart budget allow, → FAILED (service_failed) when
 *           the budget is spent, when a failed start (ready_timeout) is
 *           not restarted, when a required service failed, or when it
 *           was never ready and ended with the same cause crashloop_limit
 *           times in a row (crash.h); else → EXITED.  After a stop by the
 *           shutdown or max_runtime: EXITED; by an operator (or
 *           on_unhealthy = stop): STOPPED (never FAILED: no give-up, no
 *           exit 70); for an operator's restart: BACKOFF with no delay,
 *           outside the restart budget.  After a stop for being
 *           unhealthy: restarted whatever the policy (on_unhealthy =
 *           restart asked for it), within the budget.
 *   reap    the process of a start that failed is reaped: nothing to say
 *   end     nothing runs: → EXITED
 *   again   once the previous run is gone (its group, its output), spawn
 *   sick    its health probes failed health_failures times in a row, or
 *           its watchdog expired: service_unhealthy, then per
 *           on_unhealthy: restart → STOPPING (stop signal, then SIGCONT,
 *           for a process that was stopped); stop → the supervisor's
 *           stop (as `ctl stop`: dependents first, main ends the
 *           sandbox), ending STOPPED; ignore → stays READY, unhealthy
 *           until it recovers
 *   well    (ignore) a health round passed again: service_healthy if the
 *           watchdog is not expired too
 *   ping    WATCHDOG=1: the watchdog waits from now; one that had expired
 *           (ignore) recovers, service_healthy as for well
 *   extend  EXTEND_TIMEOUT_USEC=N: the ready deadline becomes the later of
 *           start + ready_timeout and now + N (sd_notify(3)); no
 *           extension in other states
 *   retry   the previous run is gone now, perhaps: the supervisor is
 *           asked again (it starts it if its `after` are still ready)
 *   held    nothing runs: → STOPPED (a pending restart is cancelled)
 *   halt    its stop signal, its stop_timeout → STOPPING, for the
 *           operator; while stopping for ready_timeout, max_runtime or a
 *           restart, the operator's stop wins (it ends STOPPED); while
 *           stopping for the shutdown, nothing
 *   resume  while an operator's stop is under way: it starts again once
 *           it is gone (as a restart); else nothing
 *   rerun   → WAITING with a fresh restart budget; the supervisor starts
 *           it once what it is `after` is ready
 *   cycle   its stop signal → STOPPING; once it is gone, it starts again
 *   recycle as resume, and also while stopping for ready_timeout or
 *           max_runtime (never against the shutdown)
 *   now     the pending restart happens now, its delay skipped
 *
 * So a late exec report never moves a stopping service back (no
 * service_start or service_ready after a stop), and an exit reaped before
 * its exec report is handled after the report: the exit stops whatever the
 * report started.  `was_ready` stays true once a service was ready: it
 * keeps satisfying `after` while it restarts (SPEC section 6); an
 * operator's stop clears it (what is after a stopped service waits for
 * it to be ready again).  Health news comes only while READY (health.h
 * stops at every way out of it), so the other cells of its rows are
 * "nothing".
 *
 * What is after a service, and the main service, are the supervisor's
 * business (supervisor.h: sup_hold() stops dependents first, and a stop
 * of main is a shutdown); svc_hold() acts on this one service only.
 * on_unhealthy = stop asks the supervisor for the same stop, through
 * the hold hook it set.
 *
 * Public API: svc_init(), svc_start(), svc_stop(), svc_fail_dependency(),
 * svc_hold(), svc_release(), svc_restart(), svc_signal(), svc_on_exit(),
 * svc_exit_status(), svc_exit_ok(), svc_alive(), svc_healthy(),
 * svc_pending_reason(), svc_state_name().
 */
#ifndef AGENT_INIT_SERVICE_H
#define AGENT_INIT_SERVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backoff.h"
#include "config.h"
#include "crash.h"
#include "health.h"
#include "loop.h"
#include "output.h"
#include "probe.h"
#include "sandbox.h"

enum svc_state {
	SVC_WAITING,
	SVC_SPAWNED,
	SVC_STARTING,
	SVC_READY,
	SVC_STOPPING,
	SVC_BACKOFF,
	SVC_EXITED,
	SVC_FAILED,
	SVC_STOPPED,
	SVC_STATE_MAX
};

/* Why a service is being stopped, or ended without running. */
enum svc_why {
	SVC_WHY_NONE,
	SVC_WHY_READY_TIMEOUT, /* a failed start: restarted as a failure */
	SVC_WHY_MAX_RUNTIME, /* its budget is spent: not restarted */
	SVC_WHY_SHUTDOWN, /* the sandbox shuts down */
	SVC_WHY_DEPENDENCY, /* what it is after can never be ready */
	SVC_WHY_UNHEALTHY, /* on_unhealthy = restart: restarted whatever */
	SVC_WHY_OPERATOR, /* `ctl stop`, on_unhealthy = stop: STOPPED after */
	SVC_WHY_RESTART, /* `ctl restart`: started again once gone */
	SVC_WHY_MAX
};

struct svc {
	const struct service_conf *conf;
	const char *name;
	char **argv;
	bool main;
	bool required;
	bool foreground_tty;
	bool signal_group; /* forwarded signals go to the group (-g) */
	bool inherit_stdin;
	bool stop_with_received; /* stop with the signal that asked (tini) */
	/* What a signal sent to it becomes: its signal_map (for the main
	 * service over -r); SIGKILL is never rewritten. */
	struct value_sigmap sigmap;
	enum restart_policy restart;
	enum svc_state state;
	enum svc_why why; /* while STOPPING, and after: why it stopped */
	bool was_ready; /* ready once: satisfies `after` from now on */
	pid_t pid;
	pid_t pgid;
	uint64_t group_wait_until; /* restart: the old group must be gone */
	unsigned int attempt;
	unsigned int restarts;
	uint64_t start_ms;
	uint64_t delay_ms; /* the restart delay chosen at the last exit */
	int wstatus;
	bool has_exited; /* wstatus is the last run's */
	/* How the last run ended, kept across restarts (`last_exit`). */
	int last_wstatus;
	bool exited_once;
	int fail_status;
	struct loop_io exec_io;
	struct loop_timer kill_timer;
	struct loop_timer restart_timer;
	struct loop_timer ready_timer;
	struct loop_timer runtime_timer;
	struct loop_timer group_timer;
	struct svc_out out;
	struct probe probe;
	unsigned int probe_index;
	struct health health; /* liveness, while READY */
	uint64_t extend_ms; /* the last EXTEND_TIMEOUT_USEC of this start */
	struct notify_sock notify;
	struct backoff bo;
	char status[128]; /* the service's own STATUS= */
	char **envp;
	/* user, capabilities, seccomp, limits: SPEC section 10 */
	struct sandbox sb;
	/*
	 * Called before every start but the first (attempt counts from 1):
	 * whoever adds a preset can clean up after the previous run, e.g.
	 * the --dockerd preset removes a stale pidfile.
	 */
	void (*before_start)(void *data, unsigned int attempt);
	void *before_start_data;
	/* Choices a preset made for this machine, each with its reason. */
	const char *adapted[8];
	unsigned int nadapted;
	void (*on_change)(struct svc *s);
	char reason[256];
	/* argv of `shell = yes`; a split command is allocated at init */
	char *shell_argv[4];
	/* The cause (and preset hint) of its last end; crash loops. */
	struct svc_crash crash;
	/* Why an operator stopped it: the reason while STOPPED. */
	char stop_note[160];
	/* The supervisor's stop of it and what is after it (sup_hold()):
	 * what on_unhealthy = stop does. */
	int (*hold)(struct svc *s, const char *note);
};

/*
 * Prepare a service from its configuration (conf may be NULL for the
 * single-command `main`, whose argv is given); -ENOMEM or -EINVAL.
 */
int svc_init(struct svc *s, const struct service_conf *conf, char **argv,
    enum output_mode mode, uint64_t seed);
/* Start a WAITING service; -errno when it could not (it is FAILED then). */
int svc_start(struct svc *s);
/* The shutdown: stop with sig, SIGKILL at kill_deadline_ms. */
void svc_stop(struct svc *s, int sig, uint64_t kill_deadline_ms);
/* dep, which this WAITING service is after, failed (or ended) unready. */
void svc_fail_dependency(struct svc *s, const char *dep, bool dep_failed);
/*
 * An operator's stop of this service alone (the supervisor's sup_hold()
 * orders dependents first): note says why, shown while STOPPED.
 */
void svc_hold(struct svc *s, const char *note);
/* An operator's start: a STOPPED, EXITED or FAILED service is WAITING
 * again (and one being stopped by an operator starts again once gone). */
void svc_release(struct svc *s);
/* An operator's restart: stop, then start at once; outside the restart
 * budget.  A service that is not running starts, as with svc_release(). */
void svc_restart(struct svc *s);
/*
 * Send sig, after the service's signal_map, to its process or its process
 * group: the signal sent, 0 when the map drops it, -ESRCH when there is
 * no process.
 */
int svc_signal(struct svc *s, int sig, bool group);
/* True when pid belonged to this service (its process or a probe). */
bool svc_on_exit(struct svc *s, pid_t pid, int wstatus);
int svc_exit_status(const struct svc *s);
/* It exited with 0 or one of its success_exit_codes: no failure. */
bool svc_exit_ok(const struct svc *s);
bool svc_alive(const struct svc *s);
/* False while its health probes fail or its watchdog has expired. */
bool svc_healthy(const struct svc *s);
/* Why it is not ready yet, for `waiting` events. */
const char *svc_pending_reason(const struct svc *s, char *buf, size_t cap);
const char *svc_state_name(enum svc_state st);

#endif
