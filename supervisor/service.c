/*
 * service — one supervised process and its life.  See service.h: the
 * table of states and events there is the table `actions` below.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events.h"
#include "hot.h"
#include "launch.h"
#include "oomwatch.h"
#include "service.h"
#include "signals.h"
#include "spawn.h"

/* Everything that can happen to a service: the columns of the table. */
enum svc_event {
	SVC_EV_START, /* the supervisor: its `after` are ready */
	SVC_EV_DEP_FAILED, /* the supervisor: they never can be */
	SVC_EV_EXEC_OK, /* the exec report: it exec'd */
	SVC_EV_EXEC_FAILED, /* the exec report: a step before exec failed */
	SVC_EV_NOTIFY_READY, /* READY=1 on its notify socket */
	SVC_EV_PROBE_PASSED, /* the current probe passed */
	SVC_EV_READY_TIMEOUT, /* ready_timeout passed, not ready */
	SVC_EV_MAX_RUNTIME, /* max_runtime passed */
	SVC_EV_STOP, /* the shutdown asks it to stop */
	SVC_EV_KILL_TIMEOUT, /* its kill deadline passed */
	SVC_EV_EXIT, /* its process was reaped */
	SVC_EV_RESTART_DUE, /* the backoff delay is over */
	SVC_EV_HEALTH_FAILED, /* health: health_failures rounds failed */
	SVC_EV_HEALTH_PASSED, /* health: a round passed after that */
	SVC_EV_WATCHDOG, /* WATCHDOG=1 on its notify socket */
	SVC_EV_WATCHDOG_TIMEOUT, /* health: no WATCHDOG=1 in time, trigger */
	SVC_EV_EXTEND_TIMEOUT, /* EXTEND_TIMEOUT_USEC on its notify socket */
	SVC_EV_HOLD, /* an operator: stop it, and keep it stopped */
	SVC_EV_RELEASE, /* an operator: start it (again) */
	SVC_EV_RESTART, /* an operator: stop it and start it again */
	SVC_EV_MAX
};

/* What comes with an event. */
struct svc_input {
	int sig; /* stop */
	uint64_t deadline_ms; /* stop */
	int wstatus; /* exit */
	struct spawn_error err; /* exec_failed */
	const char *dep; /* dep_failed */
	bool dep_failed; /* dep_failed: failed, else ended */
	uint64_t extend_ms; /* extend_timeout */
	const char *note; /* hold: why */
	int ret; /* out: start: 0 or -errno */
};

static const char *const state_names[SVC_STATE_MAX] = {
	[SVC_WAITING] = "waiting",
	/* The exec is not confirmed yet; outside it is just starting. */
	[SVC_SPAWNED] = "starting",
	[SVC_STARTING] = "starting",
	[SVC_READY] = "ready",
	[SVC_STOPPING] = "stopping",
	[SVC_BACKOFF] = "backoff",
	[SVC_EXITED] = "exited",
	[SVC_FAILED] = "failed",
	[SVC_STOPPED] = "stopped",
};

const char *
svc_state_name(enum svc_state st)
{
	return st < SVC_STATE_MAX ? state_names[st] : "unknown";
}

/* --- the events of a service's life ------------------------------------ */

static void
emit_start(const struct svc *s)
{
	unsigned int i;

	ev_begin("service_start");
	ev_str("service", s->name);
	ev_int("pid", s->pid);
	ev_int("attempt", s->attempt);
	if (s->nadapted) {
		ev_arr_begin("adapted");
		for (i = 0; i < s->nadapted; i++)
			ev_arr_str(s->adapted[i]);
		ev_arr_end();
	}
	ev_emit();
}

static void
emit_ready(const struct svc *s)
{
	ev_begin("service_ready");
	ev_str("service", s->name);
	ev_int("pid", s->pid);
	ev_int("elapsed_ms", (long long)(loop_now_ms() - s->start_ms));
	ev_emit();
}

static void
emit_exit(const struct svc *s)
{
	char buf[24];

	ev_begin("service_exit");
	ev_str("service", s->name);
	ev_int("pid", s->pid);
	if (WIFSIGNALED(s->wstatus))
		ev_str("signal",
		    sig_name(WTERMSIG(s->wstatus), buf, sizeof(buf)));
	else
		ev_int("code", WEXITSTATUS(s->wstatus));
	/* The OOM killer's, as oomwatch tells (never a SIGKILL of ours). */
	ev_bool("oom_killed", oomwatch_service_exit(s));
	ev_int("uptime_ms", (long long)(loop_now_ms() - s->start_ms));
	output_tail_json(&s->out, "tail");
	crash_emit(&s->crash);
	ev_emit();
}

static void
emit_restart(const struct svc *s)
{
	ev_begin("service_restart");
	ev_str("service", s->name);
	ev_int("attempt", s->attempt + 1);
	ev_int("delay_ms", (long long)s->delay_ms);
	ev_emit();
}

static void
emit_failed(const struct svc *s)
{
	ev_begin("service_failed");
	ev_str("service", s->name);
	ev_str("reason", s->reason);
	output_tail_json(&s->out, "tail");
	crash_emit(&s->crash);
	ev_emit();
}

static void
emit_unhealthy(const struct svc *s, enum svc_event cause)
{
	static const char *const what[] = {
		[UNHEALTHY_RESTART] = "restart",
		[UNHEALTHY_STOP] = "stop",
		[UNHEALTHY_IGNORE] = "ignore",
	};

	ev_begin("service_unhealthy");
	ev_str("service", s->name);
	ev_int("pid", s->pid);
	ev_str("source",
	    cause == SVC_EV_WATCHDOG_TIMEOUT ? "watchdog" : "health");
	ev_str("reason", s->health.reason);
	if (cause == SVC_EV_HEALTH_FAILED)
		ev_int("failures", s->health.failures);
	ev_str("action", what[s->conf->on_unhealthy]);
	ev_emit();
}

static void
emit_healthy(const struct svc *s)
{
	ev_begin("service_healthy");
	ev_str("service", s->name);
	ev_int("pid", s->pid);
	ev_int("unhealthy_ms",
	    (long long)(loop_now_ms() - s->health.bad_since_ms));
	ev_emit();
}

/* What the event that moves it says before the new state's event. */
static void
emit_cause(struct svc *s, enum svc_event cause)
{
	switch (cause) {
	case SVC_EV_EXIT:
		emit_exit(s);
		s->pid = 0; /* the run is over */
		break;
	case SVC_EV_HEALTH_FAILED:
	case SVC_EV_WATCHDOG_TIMEOUT:
		emit_unhealthy(s, cause);
		break;
	case SVC_EV_HEALTH_PASSED:
	case SVC_EV_WATCHDOG:
		emit_healthy(s);
		break;
	default:
		break;
	}
}

/*
 * The one place where a service changes state, and the one place where
 * its events are written.  `cause` is the event that moves it: an exit
 * writes service_exit (the run is over: its pid is forgotten), a health
 * change service_unhealthy or service_healthy, before the event of the
 * state it enters.  A health change may leave it where it is (READY):
 * then there is no state event.  Liveness runs exactly while READY.
 */
static void
transition(struct svc *s, enum svc_state to, enum svc_event cause)
{
	bool enters = s->state != to;

	emit_cause(s, cause);
	if (enters && s->state == SVC_READY)
		health_stop(&s->health);
	s->state = to;
	switch (enters ? to : SVC_STATE_MAX) {
	case SVC_STARTING:
		emit_start(s);
		break;
	case SVC_READY:
		s->was_ready = true;
		emit_ready(s);
		health_start(&s->health);
		break;
	case SVC_BACKOFF:
		emit_restart(s);
		break;
	case SVC_FAILED:
		emit_failed(s);
		break;
	case SVC_STOPPED:
		/* What is after it waits for it to be ready again. */
		s->was_ready = false;
		snprintf(s->reason, sizeof(s->reason), "%s", s->stop_note);
		break;
	case SVC_WAITING:
	case SVC_SPAWNED:
	case SVC_STOPPING:
	case SVC_EXITED:
	case SVC_STATE_MAX:
		break;
	}
	if (s->on_change)
		s->on_change(s);
}

static void dispatch(struct svc *s, enum svc_event event, struct svc_input *in);

/* --- probes -------------------------------------------------------------- */

static void
on_probe_done(void *data)
{
	dispatch(data, SVC_EV_PROBE_PASSED, &(struct svc_input){ 0 });
}

/* The probe at probe_index, or READY after the last one. */
static void
next_probe(struct svc *s)
{
	const struct service_conf *c = s->conf;

	if (!c || s->probe_index >= c->nready) {
		s->out.line_watch = false;
		loop_timer_cancel(&s->ready_timer);
		transition(s, SVC_READY, SVC_EV_PROBE_PASSED);
		return;
	}
	s->out.line_watch = c->ready[s->probe_index].kind == PROBE_LOG;
	probe_start(&s->probe, &c->ready[s->probe_index], on_probe_done, s);
}

/* --- the actions: one per kind of cell ----------------------------------- */

static void
act_nop(struct svc *s, struct svc_input *in)
{
	(void)s;
	(void)in;
}

/*
 * One plain line for whoever reads stderr rather than the events, through
 * the stderr sink (output_notice()): never a blocking write to a stderr
 * whose reader stalled.
 */
static void
fail_with(struct svc *s, int status, enum svc_event cause)
{
	s->fail_status = status;
	output_notice(s->name, s->reason);
	transition(s, SVC_FAILED, cause);
}

/* A new run: what belonged to the last one starts afresh. */
static void
new_run(struct svc *s)
{
	s->group_wait_until = 0;
	loop_timer_cancel(&s->group_timer);
	s->pgid = 0;
	s->attempt++;
	s->has_exited = false;
	s->why = SVC_WHY_NONE;
	s->extend_ms = 0;
	s->status[0] = 0;
	s->probe.notified = false;
	/* A `log:` first probe watches from the fork on: a fast service's
	 * line may be read before the report that its exec succeeded
	 * (on_line() then reads the report first). */
	s->probe_index = 0;
	s->out.line_watch =
	    s->conf && s->conf->nready && s->conf->ready[0].kind == PROBE_LOG;
	if (s->before_start && s->attempt > 1)
		s->before_start(s->before_start_data, s->attempt);
}

/* Fork and exec a new run: SPAWNED, or FAILED when it cannot even fork. */
static void
spawn_run(struct svc *s, struct svc_input *in)
{
	new_run(s);
	if ((in->ret = launch_prepare(s)) < 0 ||
	    (in->ret = launch_fork(s)) < 0) {
		fail_with(s, 126, SVC_EV_START);
		return;
	}
	/* Lines from the start on, for a first probe that reads them. */
	s->out.line_watch = s->conf && s->conf->nready > 0 &&
	    s->conf->ready[0].kind == PROBE_LOG;
	transition(s, SVC_SPAWNED, SVC_EV_START);
}

/*
 * The previous run (its group, its output) must be gone before the next
 * one starts; until then, look again in 10 ms (bounded: see
 * launch_old_run_gone()).
 */
static bool
old_run_gone(struct svc *s)
{
	if (launch_old_run_gone(s))
		return true;
	loop_timer_arm(&s->restart_timer, loop_now_ms() + 10);
	return false;
}

/* start (WAITING): spawn, once a previous run (before a stop) is gone. */
static void
act_spawn(struct svc *s, struct svc_input *in)
{
	if (s->attempt > 0 && !old_run_gone(s))
		return;
	spawn_run(s, in);
}

/* restart_due (BACKOFF): the same, after the delay. */
static void
act_again(struct svc *s, struct svc_input *in)
{
	if (old_run_gone(s))
		spawn_run(s, in);
}

/* restart_due (WAITING): the supervisor decides whether it starts now. */
static void
act_retry(struct svc *s, struct svc_input *in)
{
	(void)in;
	if (s->on_change)
		s->on_change(s);
}

static void
act_nodep(struct svc *s, struct svc_input *in)
{
	snprintf(s->reason, sizeof(s->reason),
	    "cannot start: service '%s', which it is after, %s before it was "
	    "ever ready",
	    in->dep, in->dep_failed ? "failed" : "exited");
	s->why = SVC_WHY_DEPENDENCY;
	transition(s, SVC_FAILED, SVC_EV_DEP_FAILED);
}

static void
close_exec_io(struct svc *s)
{
	if (s->exec_io.fd < 0)
		return;
	loop_io_del(&s->exec_io);
	close(s->exec_io.fd);
	s->exec_io.fd = -1;
}

static void
act_run(struct svc *s, struct svc_input *in)
{
	(void)in;
	transition(s, SVC_STARTING, SVC_EV_EXEC_OK);
	s->probe_index = 0;
	/* on_change may have stopped it already (a shutdown meanwhile). */
	if (s->state == SVC_STARTING)
		next_probe(s);
}

static void
act_cant(struct svc *s, struct svc_input *in)
{
	spawn_describe(&in->err, s->argv[0], s->reason, sizeof(s->reason));
	crash_exec_failed(&s->crash, s->reason);
	/* A sandbox step that failed is not "command not found". */
	fail_with(s,
	    sandbox_step_name(in->err.step) ? 126
	                                    : spawn_exec_status(in->err.err),
	    SVC_EV_EXEC_FAILED);
}

static void
act_note(struct svc *s, struct svc_input *in)
{
	(void)in;
	probe_notified(&s->probe);
}

static void
act_next(struct svc *s, struct svc_input *in)
{
	(void)in;
	s->probe_index++;
	next_probe(s);
}

/*
 * The stop signal, then SIGCONT, as systemd does: a stopped process
 * (SIGSTOP, a debugger, Ctrl-Z) would otherwise keep the stop signal
 * pending until its SIGKILL, and its handler would never run.
 */
static void HOT
stop_signal(struct svc *s, int sig)
{
	bool group = s->signal_group || (s->conf && s->conf->kill_group);

	int sent = svc_signal(s, sig, group);

	/* sent: what the signal_map made of it */
	if (sent > 0 && sent != SIGKILL && sent != SIGCONT)
		(void)svc_signal(s, SIGCONT, group);
}

/* Signal it and arm the kill deadline: STOPPING, for reason why. */
static void HOT
begin_stop(struct svc *s, enum svc_why why, int sig, uint64_t deadline_ms,
    enum svc_event cause)
{
	s->why = why;
	stop_signal(s, sig); /* first: the rest can wait, its handler not */
	probe_stop(&s->probe);
	loop_timer_cancel(&s->ready_timer);
	loop_timer_cancel(&s->restart_timer);
	loop_timer_arm(&s->kill_timer, deadline_ms);
	transition(s, SVC_STOPPING, cause);
}

/* Its own stop signal and stop_timeout (the single command's: TERM, 5 s). */
static int
own_stop_signal(const struct svc *s)
{
	return s->conf ? s->conf->stop_signal : SIGTERM;
}

static uint64_t
own_kill_deadline(const struct svc *s)
{
	return loop_now_ms() + (s->conf ? s->conf->stop_timeout_ms : 5000);
}

/* ready_timeout: a start that did not become ready is a failed start. */
static void
act_stop_unready(struct svc *s, struct svc_input *in)
{
	char detail[160];

	(void)in;
	snprintf(detail, sizeof(detail), "%s", s->probe.detail);
	if (s->extend_ms)
		snprintf(s->reason, sizeof(s->reason),
		    "not ready within %llu ms, nor within %llu ms of its "
		    "last EXTEND_TIMEOUT_USEC (%s)",
		    (unsigned long long)s->conf->ready_timeout_ms,
		    (unsigned long long)s->extend_ms,
		    *detail ? detail : "probe pending");
	else
		snprintf(s->reason, sizeof(s->reason),
		    "not ready within %llu ms (%s)",
		    (unsigned long long)s->conf->ready_timeout_ms,
		    *detail ? detail : "probe pending");
	begin_stop(s, SVC_WHY_READY_TIMEOUT, s->conf->stop_signal,
	    loop_now_ms() + s->conf->stop_timeout_ms, SVC_EV_READY_TIMEOUT);
}

static void
act_stop_spent(struct svc *s, struct svc_input *in)
{
	(void)in;
	begin_stop(s, SVC_WHY_MAX_RUNTIME, own_stop_signal(s),
	    own_kill_deadline(s), SVC_EV_MAX_RUNTIME);
}

static void
act_budget(struct svc *s, struct svc_input *in)
{
	(void)in;
	if (s->why == SVC_WHY_READY_TIMEOUT || s->why == SVC_WHY_UNHEALTHY)
		s->why = SVC_WHY_MAX_RUNTIME;
}

static void HOT
act_stop(struct svc *s, struct svc_input *in)
{
	begin_stop(s, SVC_WHY_SHUTDOWN, in->sig, in->deadline_ms, SVC_EV_STOP);
}

/*
 * The shutdown reaches a service that is stopping for a reason of its
 * own.  It stops now for the shutdown: the shutdown's signal (a second
 * TERM hurries many programs up), and the earlier kill deadline, so that
 * what it is after gets its turn within the budget.
 */
static void
act_join(struct svc *s, struct svc_input *in)
{
	if (s->why == SVC_WHY_SHUTDOWN)
		return;
	s->why = SVC_WHY_SHUTDOWN;
	stop_signal(s, in->sig);
	if (!s->kill_timer.armed || in->deadline_ms < s->kill_timer.deadline_ms)
		loop_timer_arm(&s->kill_timer, in->deadline_ms);
}

static void
act_end(struct svc *s, struct svc_input *in)
{
	(void)in;
	loop_timer_cancel(&s->restart_timer);
	s->why = SVC_WHY_SHUTDOWN;
	transition(s, SVC_EXITED, SVC_EV_STOP);
}

static void
act_kill_all(struct svc *s, struct svc_input *in)
{
	(void)in;
	(void)svc_signal(s, SIGKILL, true);
}

/* --- an operator's verbs -------------------------------------------------- */

static void
take_note(struct svc *s, const struct svc_input *in)
{
	snprintf(s->stop_note, sizeof(s->stop_note), "%s",
	    in->note && *in->note ? in->note : "stopped by an operator");
}

/* hold (WAITING, BACKOFF): nothing runs, so it is stopped at once. */
static void
act_held(struct svc *s, struct svc_input *in)
{
	take_note(s, in);
	loop_timer_cancel(&s->restart_timer);
	s->why = SVC_WHY_OPERATOR;
	transition(s, SVC_STOPPED, SVC_EV_HOLD);
}

/* hold (SPAWNED, STARTING, READY, STOPPING): its own stop, for good. */
static void
act_halt(struct svc *s, struct svc_input *in)
{
	if (s->state == SVC_STOPPING) {
		if (s->why == SVC_WHY_SHUTDOWN)
			return;
		take_note(s, in);
		s->why = SVC_WHY_OPERATOR;
		return;
	}
	take_note(s, in);
	begin_stop(s, SVC_WHY_OPERATOR, own_stop_signal(s),
	    own_kill_deadline(s), SVC_EV_HOLD);
}

/* release (STOPPING): an operator's stop under way becomes a restart. */
static void
act_resume(struct svc *s, struct svc_input *in)
{
	(void)in;
	if (s->why == SVC_WHY_OPERATOR)
		s->why = SVC_WHY_RESTART;
}

/* release, restart (STOPPED, EXITED, FAILED): waiting to start again. */
static void
act_rerun(struct svc *s, struct svc_input *in)
{
	(void)in;
	loop_timer_cancel(&s->restart_timer);
	backoff_reset(&s->bo);
	s->why = SVC_WHY_NONE;
	s->reason[0] = 0;
	s->stop_note[0] = 0;
	s->fail_status = 0;
	transition(s, SVC_WAITING, SVC_EV_RELEASE);
}

/* restart (SPAWNED, STARTING, READY): stop, then start once gone. */
static void
act_cycle(struct svc *s, struct svc_input *in)
{
	(void)in;
	begin_stop(s, SVC_WHY_RESTART, own_stop_signal(s), own_kill_deadline(s),
	    SVC_EV_RESTART);
}

/* restart (STOPPING): started again once gone, unless the shutdown
 * stops it. */
static void
act_recycle(struct svc *s, struct svc_input *in)
{
	(void)in;
	if (s->why != SVC_WHY_SHUTDOWN)
		s->why = SVC_WHY_RESTART;
}

/* restart (BACKOFF): the delay is skipped. */
static void
act_now(struct svc *s, struct svc_input *in)
{
	(void)in;
	loop_timer_arm(&s->restart_timer, loop_now_ms());
}

/* After the exit: restart (BACKOFF), give up (FAILED), or EXITED. */
static enum svc_state
after_exit(struct svc *s)
{
	bool timed_out = s->why == SVC_WHY_READY_TIMEOUT;
	bool unhealthy = s->why == SVC_WHY_UNHEALTHY;
	bool failed = timed_out || !svc_exit_ok(s);
	uint64_t now = loop_now_ms();
	char last[sizeof(s->reason)];

	if (s->why == SVC_WHY_SHUTDOWN || s->why == SVC_WHY_MAX_RUNTIME)
		return SVC_EXITED;
	if (s->why == SVC_WHY_OPERATOR)
		return SVC_STOPPED;
	if (s->why == SVC_WHY_RESTART) {
		/* An operator's: no delay, and outside the budget. */
		s->restarts++;
		s->delay_ms = 0;
		loop_timer_arm(&s->restart_timer, now);
		return SVC_BACKOFF;
	}
	/* `restart` is about the exits a service chooses; this stop was
	 * ours, made to restart it. */
	if (!unhealthy &&
	    !(s->restart == RESTART_ALWAYS ||
	        (s->restart == RESTART_ON_FAILURE && failed)))
		/* A required service that failed and will not be restarted
		 * has given up as surely as one that ran out of restarts. */
		return timed_out || (failed && s->required) ? SVC_FAILED
		                                            : SVC_EXITED;
	if (crash_loop(&s->crash, s->reason, sizeof(s->reason)))
		return SVC_FAILED;
	if (backoff_next(&s->bo, now, now - s->start_ms, &s->delay_ms) < 0) {
		snprintf(last, sizeof(last), "%s", s->reason);
		snprintf(s->reason, sizeof(s->reason),
		    "restarted %u times within %llu ms; giving up (last run: "
		    "%.160s)",
		    s->bo.max_restarts, (unsigned long long)s->bo.window_ms,
		    last);
		return SVC_FAILED;
	}
	s->restarts++;
	loop_timer_arm(&s->restart_timer, now + s->delay_ms);
	return SVC_BACKOFF;
}

static void
act_exited(struct svc *s, struct svc_input *in)
{
	enum svc_state to;

	launch_end(s, in->wstatus);
	/* Its cause (a failure it came to by itself only), before the
	 * restart is decided: the same cause again may end a crash loop. */
	crash_end(&s->crash, &s->out.cause,
	    s->why != SVC_WHY_SHUTDOWN && s->why != SVC_WHY_MAX_RUNTIME &&
	        (s->why == SVC_WHY_READY_TIMEOUT || !WIFEXITED(s->wstatus) ||
	            WEXITSTATUS(s->wstatus) != 0),
	    s->was_ready);
	to = after_exit(s);
	transition(s, to, SVC_EV_EXIT);
}

/* The child of a start that failed before exec: nothing more to say. */
static void
act_reap(struct svc *s, struct svc_input *in)
{
	launch_end(s, in->wstatus);
	s->pid = 0;
}

/*
 * Its probes failed health_failures times in a row, or its watchdog
 * expired (cause says which): service_unhealthy, and what on_unhealthy
 * says.
 */
static void
sick(struct svc *s, enum svc_event cause)
{
	if (!s->conf)
		return; /* a lone command has no liveness */
	if (s->conf->on_unhealthy == UNHEALTHY_IGNORE) {
		transition(s, SVC_READY, cause);
		return;
	}
	if (s->conf->on_unhealthy == UNHEALTHY_STOP) {
		char note[160];

		/* service_unhealthy (action stop), then the operator's stop:
		 * what is after it first, a main service ends the sandbox. */
		transition(s, SVC_READY, cause);
		snprintf(note, sizeof(note), "unhealthy: %.140s",
		    s->health.reason);
		if (s->hold)
			(void)s->hold(s, note);
		else
			svc_hold(s, note);
		return;
	}
	snprintf(s->reason, sizeof(s->reason), "unhealthy: %.240s",
	    s->health.reason);
	begin_stop(s, SVC_WHY_UNHEALTHY, s->conf->stop_signal,
	    loop_now_ms() + s->conf->stop_timeout_ms, cause);
}

static void
act_sick(struct svc *s, struct svc_input *in)
{
	(void)in;
	sick(s, SVC_EV_HEALTH_FAILED);
}

static void
act_sick_watchdog(struct svc *s, struct svc_input *in)
{
	(void)in;
	sick(s, SVC_EV_WATCHDOG_TIMEOUT);
}

/* A health round passed after failing: healthy again, unless its
 * watchdog is still expired. */
static void
act_well(struct svc *s, struct svc_input *in)
{
	(void)in;
	if (health_ok(&s->health))
		transition(s, SVC_READY, SVC_EV_HEALTH_PASSED);
}

static void
act_ping(struct svc *s, struct svc_input *in)
{
	(void)in;
	if (health_ping(&s->health) && health_ok(&s->health))
		transition(s, SVC_READY, SVC_EV_WATCHDOG);
}

/*
 * EXTEND_TIMEOUT_USEC (sd_notify(3)): the start may take until now + N,
 * but never less than ready_timeout; each message sets it anew.
 */
static void
act_extend(struct svc *s, struct svc_input *in)
{
	uint64_t base, until;

	if (!s->ready_timer.armed)
		return; /* no probes: nothing to wait for */
	base = s->start_ms + s->conf->ready_timeout_ms;
	until = loop_now_ms() + in->extend_ms;
	s->extend_ms = in->extend_ms;
	loop_timer_arm(&s->ready_timer, until > base ? until : base);
}

/* --- the table ----------------------------------------------------------- */

typedef void action(struct svc *s, struct svc_input *in);

/*
 * The table of service.h, cell by cell.  Each row lists the events in
 * the order of enum svc_event: start, dep_failed, exec_ok, exec_failed,
 * notify_ready, probe_passed, ready_timeout, max_runtime, stop,
* kill_timeout, exit, restart_due; health_failed, health_passed,
 * watchdog, watchdog_timeout, extend_timeout; hold, release, restart.  A
 * cell is never empty (the unit test checks every one).
 */
_Static_assert(SVC_EV_MAX == 20 && SVC_STATE_MAX == 9,
    "a new event or state needs its column or row in the table");
/* clang-format off */
static action *const actions[SVC_STATE_MAX][SVC_EV_MAX] = {
	[SVC_WAITING] = {
		act_spawn, act_nodep, act_nop, act_nop, act_nop, act_nop,
		act_nop, act_nop, act_end, act_nop, act_nop, act_retry,
		act_nop, act_nop, act_nop, act_nop, act_nop,
		act_held, act_nop, act_nop },
	[SVC_SPAWNED] = {
		act_nop, act_nop, act_run, act_cant, act_note, act_nop,
		act_stop_unready, act_stop_spent, act_stop, act_nop,
		act_exited, act_nop,
		act_nop, act_nop, act_nop, act_nop, act_extend,
		act_halt, act_nop, act_cycle },
	[SVC_STARTING] = {
		act_nop, act_nop, act_nop, act_nop, act_note, act_next,
		act_stop_unready, act_stop_spent, act_stop, act_nop,
		act_exited, act_nop,
		act_nop, act_nop, act_nop, act_nop, act_extend,
		act_halt, act_nop, act_cycle },
	[SVC_READY] = {
		act_nop, act_nop, act_nop, act_nop, act_nop, act_nop,
		act_nop, act_stop_spent, act_stop, act_nop, act_exited,
		act_nop,
		act_sick, act_well, act_ping, act_sick_watchdog, act_nop,
		act_halt, act_nop, act_cycle },
	[SVC_STOPPING] = {
		act_nop, act_nop, act_nop, act_cant, act_nop, act_nop,
		act_nop, act_budget, act_join, act_kill_all, act_exited,
		act_nop,
		act_nop, act_nop, act_nop, act_nop, act_nop,
		act_halt, act_resume, act_recycle },
	[SVC_BACKOFF] = {
		act_nop, act_nop, act_nop, act_nop, act_nop, act_nop,
		act_nop, act_nop, act_end, act_nop, act_nop, act_again,
		act_nop, act_nop, act_nop, act_nop, act_nop,
		act_held, act_nop, act_now },
	[SVC_EXITED] = {
		act_nop, act_nop, act_nop, act_nop, act_nop, act_nop,
		act_nop, act_nop, act_nop, act_nop, act_nop, act_nop,
		act_nop, act_nop, act_nop, act_nop, act_nop,
		act_nop, act_rerun, act_rerun },
	[SVC_FAILED] = {
		act_nop, act_nop, act_nop, act_nop, act_nop, act_nop,
		act_nop, act_nop, act_nop, act_nop, act_reap, act_nop,
		act_nop, act_nop, act_nop, act_nop, act_nop,
		act_nop, act_rerun, act_rerun },
	[SVC_STOPPED] = {
		act_nop, act_nop, act_nop, act_nop, act_nop, act_nop,
		act_nop, act_nop, act_nop, act_nop, act_nop, act_nop,
		act_nop, act_nop, act_nop, act_nop, act_nop,
		act_nop, act_rerun, act_rerun },
};
/* clang-format on */

static void HOT
dispatch(struct svc *s, enum svc_event event, struct svc_input *in)
{
	if (s->state < SVC_STATE_MAX && event < SVC_EV_MAX)
		actions[s->state][event](s, in);
}

/* --- what feeds the table: the loop's callbacks -------------------------- */

/* The exec report: end-of-file when the exec happened, else the step. */
static void
read_exec_report(struct svc *s)
{
	struct svc_input in = { 0 };
	int r = spawn_read_error(s->exec_io.fd, &in.err);

	if (r == -EAGAIN)
		return;
	close_exec_io(s);
	if (r == 0) {
		dispatch(s, SVC_EV_EXEC_OK, &in);
		return;
	}
	if (r < 0) {
		in.err.step = SPAWN_STEP_EXEC;
		in.err.err = -r;
	}
	dispatch(s, SVC_EV_EXEC_FAILED, &in);
}

static void
on_exec_report(struct loop_io *io, uint32_t revents)
{
	(void)revents;
	read_exec_report(io->data);
}

static void
on_line(void *data, int stream, const char *line, size_t n, bool cont)
{
	struct svc *s = data;

	/*
	 * A line of a run whose exec report is still unread (the loop saw
	 * the output first): the report is there already (the child closed
	 * its end when it exec'd, before it could write), so take it now,
	 * which starts the `log:` probe this line may be for.
	 */
	if (s->state == SVC_SPAWNED && s->exec_io.fd >= 0)
		read_exec_report(s);
	probe_on_line(&s->probe, stream, line, n, cont);
}

/*
 * One sd_notify datagram, in the order that makes sense within one:
 * STATUS= (data, shown in `waiting` and `status`), EXTEND_TIMEOUT_USEC
 * (before READY=1 may end the start), READY=1, then WATCHDOG=1 (ready by
 * now) and WATCHDOG=trigger, which health turns into watchdog_timeout.
 */
static void
on_notify(void *data, const struct notify_msg *m)
{
	struct svc *s = data;

	if (m->has_status)
		snprintf(s->status, sizeof(s->status), "%s", m->status);
	if (m->has_extend)
		dispatch(s, SVC_EV_EXTEND_TIMEOUT,
		    &(struct svc_input){ .extend_ms = m->extend_usec / 1000 +
		            (m->extend_usec % 1000 != 0) });
	if (m->ready)
		dispatch(s, SVC_EV_NOTIFY_READY, &(struct svc_input){ 0 });
	if (m->watchdog)
		dispatch(s, SVC_EV_WATCHDOG, &(struct svc_input){ 0 });
	if (m->watchdog_trigger)
		(void)health_trigger(&s->health);
}

/* What health says, through the table. */
static void
on_health(void *data, enum health_news what)
{
	static const enum svc_event events[HEALTH_NEWS_MAX] = {
		[HEALTH_PROBES_FAILED] = SVC_EV_HEALTH_FAILED,
		[HEALTH_PROBES_PASSED] = SVC_EV_HEALTH_PASSED,
		[HEALTH_WATCHDOG_TIMEOUT] = SVC_EV_WATCHDOG_TIMEOUT,
	};

	if (what < HEALTH_NEWS_MAX)
		dispatch(data, events[what], &(struct svc_input){ 0 });
}

static void
on_timer(struct loop_timer *t, enum svc_event event)
{
	dispatch(t->data, event, &(struct svc_input){ 0 });
}

static void
on_kill_timer(struct loop_timer *t)
{
	on_timer(t, SVC_EV_KILL_TIMEOUT);
}

static void
on_ready_timer(struct loop_timer *t)
{
	on_timer(t, SVC_EV_READY_TIMEOUT);
}

static void
on_runtime_timer(struct loop_timer *t)
{
	on_timer(t, SVC_EV_MAX_RUNTIME);
}

static void
on_restart_timer(struct loop_timer *t)
{
	on_timer(t, SVC_EV_RESTART_DUE);
}

/* Outside the table: what is left of a previous run's group. */
static void
on_group_timer(struct loop_timer *t)
{
	struct svc *s = t->data;

	if (s->pgid > 0) {
		oomwatch_sigkill(0, s->pgid);
		(void)kill(-s->pgid, SIGKILL);
	}
}

/* --- the public API ------------------------------------------------------ */

static int
init_from_conf(struct svc *s, const struct service_conf *conf, char **argv,
    uint64_t seed)
{
	s->name = conf->name;
	s->main = conf->main;
	s->required = conf->required;
	s->restart = conf->restart;
	s->crash.limit = conf->crashloop_limit;
	s->sigmap = conf->signal_map;
	if (launch_argv(s, conf, argv) < 0 ||
	    sandbox_init(&s->sb, conf, s->reason, sizeof(s->reason)) < 0)
		return -EINVAL;
	backoff_init(&s->bo, conf->backoff_first_ms, conf->backoff_cap_ms,
	    conf->reset_after_ms, conf->max_restarts, conf->restart_window_ms,
	    seed);
	return 0;
}

int
svc_init(struct svc *s, const struct service_conf *conf, char **argv,
    enum output_mode mode, uint64_t seed)
{
	int r;

	memset(s, 0, sizeof(*s));
	s->conf = conf;
	s->exec_io.fd = -1;
	s->exec_io.cb = on_exec_report;
	s->notify.io.fd = -1;
	s->probe.io.fd = -1;
	s->kill_timer.cb = on_kill_timer;
	s->ready_timer.cb = on_ready_timer;
	s->runtime_timer.cb = on_runtime_timer;
	s->restart_timer.cb = on_restart_timer;
	s->group_timer.cb = on_group_timer;
	s->kill_timer.data = s->ready_timer.data = s->runtime_timer.data =
	    s->restart_timer.data = s->group_timer.data = s;
	if (conf) {
		if (init_from_conf(s, conf, argv, seed) < 0)
			return -EINVAL;
		if (conf->output != OUTPUT_INHERIT)
			mode = conf->output;
	} else {
		s->name = "main";
		s->main = true;
		s->argv = argv;
		s->restart = RESTART_NEVER;
		s->stop_with_received = true;
	}
	if (s->restart == RESTART_DEFAULT)
		s->restart = s->main ? RESTART_NEVER : RESTART_ON_FAILURE;
	r = output_setup(&s->out, s->name, mode, conf ? conf->tail_lines : 50);
	s->out.on_line = on_line;
	s->out.data = s;
	s->notify.on_msg = on_notify;
	s->notify.data = s;
	health_init(&s->health, conf, on_health, s);
	return r;
}

int
svc_start(struct svc *s)
{
	struct svc_input in = { 0 };

	dispatch(s, SVC_EV_START, &in);
	return in.ret;
}

void HOT
svc_stop(struct svc *s, int sig, uint64_t kill_deadline_ms)
{
	struct svc_input in = { .sig = sig, .deadline_ms = kill_deadline_ms };

	dispatch(s, SVC_EV_STOP, &in);
}

void
svc_fail_dependency(struct svc *s, const char *dep, bool dep_failed)
{
	struct svc_input in = { .dep = dep, .dep_failed = dep_failed };

	dispatch(s, SVC_EV_DEP_FAILED, &in);
}

void
svc_hold(struct svc *s, const char *note)
{
	struct svc_input in = { .note = note };

	dispatch(s, SVC_EV_HOLD, &in);
}

void
svc_release(struct svc *s)
{
	dispatch(s, SVC_EV_RELEASE, &(struct svc_input){ 0 });
}

void
svc_restart(struct svc *s)
{
	dispatch(s, SVC_EV_RESTART, &(struct svc_input){ 0 });
}

bool HOT
svc_alive(const struct svc *s)
{
	return s->pid > 0 &&
	    (s->state == SVC_SPAWNED || s->state == SVC_STARTING ||
	        s->state == SVC_READY || s->state == SVC_STOPPING);
}

int HOT
svc_signal(struct svc *s, int sig, bool group)
{
	if (!svc_alive(s))
		return -ESRCH;
	if (sig != SIGKILL && (sig = value_sigmap_apply(&s->sigmap, sig)) == 0)
		return 0;
	if (sig == SIGKILL)
		oomwatch_sigkill(s->pid, group ? s->pid : 0);
	if (group && kill(-s->pid, sig) == 0)
		return sig;
	return kill(s->pid, sig) == 0 ? sig : -errno;
}

bool
svc_on_exit(struct svc *s, pid_t pid, int wstatus)
{
	struct svc_input in = { .wstatus = wstatus };

	if (probe_on_exit(&s->probe, pid, wstatus) ||
	    health_on_exit(&s->health, pid, wstatus))
		return true;
	if (pid != s->pid || pid <= 0)
		return false;
	/*
	 * The exit may be reaped before the loop read the exec report; the
	 * report is in the pipe already (the child wrote it, or exec'd,
	 * before it exited), so read it first: the events come in their
	 * order, and the exit then stops whatever the report started.
	 */
	if (s->exec_io.fd >= 0)
		read_exec_report(s);
	dispatch(s, SVC_EV_EXIT, &in);
	return true;
}

bool
svc_healthy(const struct svc *s)
{
	return s->state != SVC_READY || health_ok(&s->health);
}

/* The shell's view of how the service ended: its code, or 128+N. */
int
svc_exit_status(const struct svc *s)
{
	/* A start that failed is its status, however the child then ended
	 * (a shutdown's SIGTERM may reach it on its way out). */
	if (s->state == SVC_FAILED && s->fail_status)
		return s->fail_status;
	if (!s->has_exited)
		return s->fail_status ? s->fail_status : 128 + SIGKILL;
	if (WIFSIGNALED(s->wstatus))
		return 128 + WTERMSIG(s->wstatus);
	return WEXITSTATUS(s->wstatus);
}

bool
svc_exit_ok(const struct svc *s)
{
	int code;

	if (!s->has_exited || !WIFEXITED(s->wstatus))
		return false;
	code = WEXITSTATUS(s->wstatus);
	return code == 0 ||
	    (s->conf && value_codes_has(&s->conf->success_codes, code));
}

/* The service's own STATUS= (the last one of this or the last run) is
 * added to whatever the state says. */
const char *
svc_pending_reason(const struct svc *s, char *buf, size_t cap)
{
	const char *d = *s->probe.detail ? s->probe.detail : "starting";
	size_t n;

	switch (s->state) {
	case SVC_WAITING:
		snprintf(buf, cap, "waiting for its `after` services");
		break;
	case SVC_SPAWNED:
	case SVC_STARTING:
		snprintf(buf, cap, "%s", d);
		break;
	case SVC_BACKOFF:
		snprintf(buf, cap, "restarting (attempt %u)", s->attempt + 1);
		break;
	case SVC_STOPPED:
		/* The note says it: "stopped by ctl stop (uid 0, pid 7)". */
		snprintf(buf, cap, "%s", s->reason);
		break;
	default:
		snprintf(buf, cap, "%s", svc_state_name(s->state));
		break;
	}
	n = strlen(buf);
	if (*s->status && n < cap)
		snprintf(buf + n, cap - n, " (STATUS=%s)", s->status);
	return buf;
}
