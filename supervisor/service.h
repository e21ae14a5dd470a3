/*
 * service — one supervised process and its life, as one state machine.
 *
 * A service is in one of eight states, and everything that can happen to
 * it is one of twelve events.  What each event does in each state is one
 * cell of a table in service.c (s6-supervise's actions[state][event] is
 * the model): every cell is written down, most of them "nothing" because
 * the event cannot happen in that state or comes too late to matter.
 * Every change of state, and every service event (service_start,
 * service_ready, service_exit, service_restart, service_failed), goes
 * through one function, transition().
 *
 *   WAITING   not started: waiting for what it is `after`
 *   SPAWNED   forked; the exec is not confirmed yet (shown as "starting")
 *   STARTING  exec'd (service_start); its probes run in order
 *   READY     every probe passed (service_ready)
 *   STOPPING  sent its stop signal; SIGKILL at the kill deadline
 *   BACKOFF   exited; restarts when the delay is over (service_restart)
 *   EXITED    ended for good
 *   FAILED    gave up, or cannot start (service_failed)
 *
 * The table (rows: events, columns: states; "-" is nothing):
 *
 *                 WAITING SPAWNED STARTING READY STOPPING BACKOFF EXITED FAILED
 *   start         spawn   -       -        -     -        -       -      -
 *   dep_failed    nodep   -       -        -     -        -       -      -
 *   exec_ok       -       run     -        -     -        -       -      -
 *   exec_failed   -       cant    -        -     cant     -       -      -
 *   notify_ready  -       note    note     -     -        -       -      -
 *   probe_passed  -       -       next     -     -        -       -      -
 *   ready_timeout -       stop    stop     -     -        -       -      -
 *   max_runtime   -       stop    stop     stop  budget   -       -      -
 *   stop          end     stop    stop     stop  join     end     -      -
 *   kill_timeout  -       -       -        -     kill     -       -      -
 *   exit          -       exit    exit     exit  exit     -       -      reap
 *   restart_due   -       -       -        -     -        again   -      -
 *
 *   spawn   fork and exec → SPAWNED; a start that cannot even fork (no
 *           pipes, no notify socket, a sandbox that cannot be prepared)
 *           → FAILED
 *   nodep   what it is `after` failed or ended before it was ever ready,
 *           so it can never start → FAILED
 *   run     service_start → STARTING, and the first probe
 *   cant    a step before exec failed (not found, sandbox) → FAILED; no
 *           restart: a missing binary will not appear
 *   note    READY=1 arrived: the notify probe passes now or when its turn
 *           comes
 *   next    the next probe, or → READY after the last one
 *   stop    stop signal, kill deadline → STOPPING, with the reason
 *   budget  max_runtime while stopping after ready_timeout: it is not
 *           restarted either
 *   join    the shutdown reaches a service already stopping for a reason
 *           of its own (ready_timeout, max_runtime): it gets the
 *           shutdown's stop signal again, in the shutdown's order, and the
 *           earlier of the two kill deadlines
 *   kill    SIGKILL to its process group
 *   exit    service_exit, then → BACKOFF (service_restart) when the policy
 *           and the restart budget allow, → FAILED (service_failed) when
 *           the budget is spent, when a failed start (ready_timeout) is
 *           not restarted, or when a required service failed; else →
 *           EXITED.  After a stop by the shutdown or max_runtime: EXITED.
 *   reap    the process of a start that failed is reaped: nothing to say
 *   end     nothing runs: → EXITED
 *   again   once the previous run is gone (its group, its output), spawn
 *
 * So a late exec report never moves a stopping service back (no
 * service_start or service_ready after a stop), and an exit reaped before
 * its exec report is handled after the report: the exit stops whatever the
 * report started.  `was_ready` stays true once a service was ready: it
 * keeps satisfying `after` while it restarts (SPEC section 6).
 *
 * Public API: svc_init(), svc_start(), svc_stop(), svc_fail_dependency(),
 * svc_signal(), svc_on_exit(), svc_exit_status(), svc_exit_ok(),
 * svc_alive(), svc_pending_reason(), svc_state_name().
 */
#ifndef AGENT_INIT_SERVICE_H
#define AGENT_INIT_SERVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backoff.h"
#include "config.h"
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
	SVC_STATE_MAX
};

/* Why a service is being stopped, or ended without running. */
enum svc_why {
	SVC_WHY_NONE,
	SVC_WHY_READY_TIMEOUT, /* a failed start: restarted as a failure */
	SVC_WHY_MAX_RUNTIME, /* its budget is spent: not restarted */
	SVC_WHY_SHUTDOWN, /* the sandbox shuts down */
	SVC_WHY_DEPENDENCY, /* what it is after can never be ready */
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
	int fail_status;
	long long oom_kills_at_start;
	struct loop_io exec_io;
	struct loop_timer kill_timer;
	struct loop_timer restart_timer;
	struct loop_timer ready_timer;
	struct loop_timer runtime_timer;
	struct loop_timer group_timer;
	struct svc_out out;
	struct probe probe;
	unsigned int probe_index;
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
	/* argv storage for a command from the configuration */
	char argbuf[CONFIG_VALUE_MAX * 2];
	char *argvbuf[CONFIG_MAX_WORDS + 4];
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
/* Why it is not ready yet, for `waiting` events. */
const char *svc_pending_reason(const struct svc *s, char *buf, size_t cap);
const char *svc_state_name(enum svc_state st);

#endif
