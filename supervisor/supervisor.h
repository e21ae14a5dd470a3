/*
 * supervisor — the set of services, the `ready` line, the shutdown
 * sequence and the exit status.
 *
 * Start-up: a WAITING service starts as soon as every service it is
 * `after` has been ready once, and every check it is `after` passed
 * (supervisor/gate.h: its `check_wait`, then 69 or a start with a
 * warning); independent services start together.  A service waiting for
 * one that failed before it was ever ready fails too (it could never
 * start).  While anything is pending, a `waiting`
 * event says what and why, at most once a second and only when that
 * changed or 5 s passed.  `ready` is emitted once, when every service is
 * ready; then the ready file is created and READY=1 goes to our own
 * NOTIFY_SOCKET if we have one.
 *
 * Shutdown (SPEC section 6) is a small state machine of its own:
 *
 *   SUP_RUNNING --sup_shutdown--> SUP_STOPPING: services stop in reverse
 *       dependency order (a service gets its stop signal once nothing
 *       that is `after` it is still alive), each SIGKILLed after its
 *       stop_timeout, and never later than (budget end - reserve)
 *   SUP_STOPPING --no service alive--> SUP_LEFTOVERS: every remaining
 *       process gets SIGTERM, and SIGKILL at min(now + reserve, budget end)
 *   SUP_LEFTOVERS --no child left--> SUP_DONE
 *   any --budget end + grace--> SUP_DONE (PID 1 exiting kills the rest)
 *
 * where budget = stop_timeout and reserve = min(1 s, stop_timeout / 4), so
 * the whole shutdown fits in stop_timeout.
 *
 * An operator's stop (sup_hold(): `agent-init ctl stop`, and
 * `on_unhealthy = stop`) stops the service and everything after it,
 * directly or not, dependents first, as the shutdown does; each ends
 * STOPPED and stays so, across other services' restarts, until an
 * operator's start (sup_release()), which also starts the stopped
 * services it is after.  A stop that reaches the main service (main
 * itself, or a service main is after) is the sandbox's shutdown, as if
 * main had exited.  A stopped required service never gives up: no exit
 * 70.  While a service is stopped the sandbox is not healthy.
 *
 * Public API: sup_init(), sup_add(), sup_start(), sup_on_exit(),
 * sup_forward(), sup_shutdown(), sup_shutdown_begin(),
 * sup_shutdown_announce(), sup_checks_changed(), sup_children(),
 * sup_running(), sup_done(), sup_ready(), sup_healthy(), sup_stalled(),
 * sup_exit_deadline_ms(), sup_report_dropped(), sup_exit_status(),
 * sup_exit_reason(), sup_exit_crash(), sup_count(), sup_service(),
 * sup_find(), sup_hold(), sup_hold_ends_sandbox(), sup_release(),
 * sup_restart().
 */
#ifndef AGENT_INIT_SUPERVISOR_H
#define AGENT_INIT_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "gate.h"
#include "service.h"

#define EXIT_CHECK_FAILED 69
#define EXIT_REQUIRED_FAILED 70

struct sup_opts {
	uint64_t boot_ms;
	uint64_t stop_timeout_ms;
	bool pid1;
	const char *ready_file; /* "" or NULL: none */
	const char *termination_log; /* "" or NULL: none */
	const char *notify_socket; /* our own NOTIFY_SOCKET, or NULL */
	void (*on_readiness)(void); /* ready, a failure, or shutdown */
	/* The verdicts of the checks that `after = check:` waits for. */
	const struct gate_hooks *gates;
	/* -e (tini): these statuses of the main service exit 0; or NULL. */
	const struct value_codes *remap_exit;
};

void sup_init(const struct sup_opts *o);
int sup_add(struct svc *s);
void sup_start(void);
bool sup_on_exit(pid_t pid, int wstatus);
/*
 * Forward a signal to the main service (after its signal_map): the signal
 * sent, 0 when the map drops it, -ESRCH when there is no main service
 * alive.
 */
int sup_forward(int sig);
/*
 * Begin the shutdown.  sig is the signal that asked for it: in
 * single-command mode the main service receives that same signal, as
 * with tini; 0 means SIGTERM.  In two steps, so that a caller can write
 * its own event between them: _begin sends the stop signals (false if a
 * shutdown is already under way), _announce writes the `shutdown` event
 * and tells whoever waits on us (SPEC 13: a signal is delivered before
 * its event is written).  sup_shutdown() does both.
 */
bool sup_shutdown_begin(int sig);
void sup_shutdown_announce(const char *reason);
void sup_shutdown(const char *reason, int sig);
/* A check's verdict came in: a service waiting for it may start. */
void sup_checks_changed(void);
void sup_children(bool any_left);
bool sup_running(void);
bool sup_done(void);
bool sup_ready(void);
/* Ready once, running, and every service ready (or done) and healthy
 * now. */
bool sup_healthy(void);
/* Not ready, and nothing left that could make it ready. */
bool sup_stalled(void);
/* When the last lines must be out: the end of the shutdown budget. */
uint64_t sup_exit_deadline_ms(void);
/* At the very end: lines lost to a reader that stopped reading go to the
 * termination log too. */
void sup_report_dropped(uint64_t lines);
int sup_exit_status(void);
const char *sup_exit_reason(void);
/* The cause (and hint) behind the exit status, or NULL (the `exit`
 * event's `cause`). */
const struct svc_crash *sup_exit_crash(void);
size_t sup_count(void);
struct svc *sup_service(size_t i);
struct svc *sup_find(const char *name);

/* sup_hold() began the shutdown (the stop reached the main service). */
#define SUP_HOLD_SHUTDOWN 1
/*
 * An operator's stop of s, dependents first; note says who and why
 * (shown as the reason while stopped).  0: under way; SUP_HOLD_SHUTDOWN;
 * -EALREADY: stopped or ended already; -ESHUTDOWN: shutting down.
 */
int sup_hold(struct svc *s, const char *note);
/* Whether sup_hold(s) would be the shutdown (it reaches main). */
bool sup_hold_ends_sandbox(struct svc *s);
/* An operator's start of s and of the stopped services it is after.
 * 0, -EALREADY (running or starting already), -ESHUTDOWN. */
int sup_release(struct svc *s);
/* An operator's restart (a start when it is not running).  0,
 * -EALREADY (waiting to start), -ESHUTDOWN. */
int sup_restart(struct svc *s);

#endif
