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
#include "launch.h"
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
	long long now;
	char buf[24];

	ev_begin("service_exit");
	ev_str("service", s->name);
	ev_int("pid", s->pid);
	if (WIFSIGNALED(s->wstatus))
		ev_str("signal",
		    sig_name(WTERMSIG(s->wstatus), buf, sizeof(buf)));
	else
		ev_int("code", WEXITSTATUS(s->wstatus));
	ev_bool("oom_killed",
	    WIFSIGNALED(s->wstatus) && WTERMSIG(s->wstatus) == SIGKILL &&
	        s->oom_kills_at_start >= 0 && launch_oom_kills(&now) == 0 &&
	        now > s->oom_kills_at_start);
	ev_int("uptime_ms", (long long)(loop_now_ms() - s->start_ms));
	output_tail_json(&s->out, "tail");
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
	ev_emit();
}

/*
 * The one place where a service changes state, and the one place where
 * its events are written.  `cause` is the event that moves it: an exit
 * writes service_exit (the run is over: its pid is forgotten) before the
 * event of the state it enters.
 */
static void
transition(struct svc *s, enum svc_state to, enum svc_event cause)
{
	if (cause == SVC_EV_EXIT) {
		emit_exit(s);
		s->pid = 0;
	}
	s->state = to;
	switch (to) {
	case SVC_STARTING:
		emit_start(s);
		break;
	case SVC_READY:
		s->was_ready = true;
		emit_ready(s);
		break;
	case SVC_BACKOFF:
		emit_restart(s);
		break;
	case SVC_FAILED:
		emit_failed(s);
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

/* One plain line for whoever reads stderr rather than the events. */
static void
fail_with(struct svc *s, int status, enum svc_event cause)
{
	s->fail_status = status;
	(void)fprintf(stderr, "agent-init: %s: %s\n", s->name, s->reason);
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
	s->status[0] = 0;
	s->probe.notified = false;
	/* A `log:` first probe watches from the fork on: a fast service's
	 * line may be read before the report that its exec succeeded. */
	s->probe.line_seen = false;
	s->probe_index = 0;
	s->out.line_watch =
	    s->conf && s->conf->nready && s->conf->ready[0].kind == PROBE_LOG;
	if (s->before_start && s->attempt > 1)
		s->before_start(s->before_start_data, s->attempt);
}

/* start (WAITING), and restart_due once the old run is gone: spawn. */
static void
act_spawn(struct svc *s, struct svc_input *in)
{
	new_run(s);
	if ((in->ret = launch_prepare(s)) < 0 ||
	    (in->ret = launch_fork(s)) < 0) {
		fail_with(s, 126, SVC_EV_START);
		return;
	}
	transition(s, SVC_SPAWNED, SVC_EV_START);
}

static void
act_again(struct svc *s, struct svc_input *in)
{
	if (!launch_old_run_gone(s)) {
		loop_timer_arm(&s->restart_timer, loop_now_ms() + 10);
		return;
	}
	act_spawn(s, in);
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

/* Signal it and arm the kill deadline: STOPPING, for reason why. */
static void
begin_stop(struct svc *s, enum svc_why why, int sig, uint64_t deadline_ms,
    enum svc_event cause)
{
	s->why = why;
	probe_stop(&s->probe);
	loop_timer_cancel(&s->ready_timer);
	loop_timer_cancel(&s->restart_timer);
	(void)svc_signal(s, sig,
	    s->signal_group || (s->conf && s->conf->kill_group));
	loop_timer_arm(&s->kill_timer, deadline_ms);
	transition(s, SVC_STOPPING, cause);
}

/* ready_timeout: a start that did not become ready is a failed start. */
static void
act_stop_unready(struct svc *s, struct svc_input *in)
{
	char detail[160];

	(void)in;
	snprintf(detail, sizeof(detail), "%s", s->probe.detail);
	snprintf(s->reason, sizeof(s->reason), "not ready within %llu ms (%s)",
	    (unsigned long long)s->conf->ready_timeout_ms,
	    *detail ? detail : "probe pending");
	begin_stop(s, SVC_WHY_READY_TIMEOUT, s->conf->stop_signal,
	    loop_now_ms() + s->conf->stop_timeout_ms, SVC_EV_READY_TIMEOUT);
}

static void
act_stop_spent(struct svc *s, struct svc_input *in)
{
	(void)in;
	begin_stop(s, SVC_WHY_MAX_RUNTIME, s->conf->stop_signal,
	    loop_now_ms() + s->conf->stop_timeout_ms, SVC_EV_MAX_RUNTIME);
}

static void
act_budget(struct svc *s, struct svc_input *in)
{
	(void)in;
	if (s->why == SVC_WHY_READY_TIMEOUT)
		s->why = SVC_WHY_MAX_RUNTIME;
}

static void
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
	(void)svc_signal(s, in->sig,
	    s->signal_group || (s->conf && s->conf->kill_group));
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

/* After the exit: restart (BACKOFF), give up (FAILED), or EXITED. */
static enum svc_state
after_exit(struct svc *s)
{
	bool timed_out = s->why == SVC_WHY_READY_TIMEOUT;
	bool failed = timed_out || !svc_exit_ok(s);
	uint64_t now = loop_now_ms();
	char last[sizeof(s->reason)];

	if (s->why == SVC_WHY_SHUTDOWN || s->why == SVC_WHY_MAX_RUNTIME)
		return SVC_EXITED;
	if (!(s->restart == RESTART_ALWAYS ||
	        (s->restart == RESTART_ON_FAILURE && failed)))
		/* A required service that failed and will not be restarted
		 * has given up as surely as one that ran out of restarts. */
		return timed_out || (failed && s->required) ? SVC_FAILED
		                                            : SVC_EXITED;
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

/* --- the table ----------------------------------------------------------- */

typedef void action(struct svc *s, struct svc_input *in);

/*
 * The table of service.h, cell by cell.  Each row lists the events in
 * the order of enum svc_event: start, dep_failed, exec_ok, exec_failed,
 * notify_ready, probe_passed, ready_timeout, max_runtime, stop,
 * kill_timeout, exit, restart_due.  A cell is never empty (the unit test
 * checks every one).
 */
_Static_assert(SVC_EV_MAX == 12 && SVC_STATE_MAX == 8,
    "a new event or state needs its column or row in the table");
/* clang-format off */
static action *const actions[SVC_STATE_MAX][SVC_EV_MAX] = {
	[SVC_WAITING] = {
		act_spawn, act_nodep, act_nop, act_nop, act_nop, act_nop,
		act_nop, act_nop, act_end, act_nop, act_nop, act_nop },
	[SVC_SPAWNED] = {
		act_nop, act_nop, act_run, act_cant, act_note, act_nop,
		act_stop_unready, act_stop_spent, act_stop, act_nop,
		act_exited, act_nop },
	[SVC_STARTING] = {
		act_nop, act_nop, act_nop, act_nop, act_note, act_next,
		act_stop_unready, act_stop_spent, act_stop, act_nop,
		act_exited, act_nop },
	[SVC_READY] = {
		act_nop, act_nop, act_nop, act_nop, act_nop, act_nop,
		act_nop, act_stop_spent, act_stop, act_nop, act_exited,
		act_nop },
	[SVC_STOPPING] = {
		act_nop, act_nop, act_nop, act_cant, act_nop, act_nop,
		act_nop, act_budget, act_join, act_kill_all, act_exited,
		act_nop },
	[SVC_BACKOFF] = {
		act_nop, act_nop, act_nop, act_nop, act_nop, act_nop,
		act_nop, act_nop, act_end, act_nop, act_nop, act_again },
	[SVC_EXITED] = {
		act_nop, act_nop, act_nop, act_nop, act_nop, act_nop,
		act_nop, act_nop, act_nop, act_nop, act_nop, act_nop },
	[SVC_FAILED] = {
		act_nop, act_nop, act_nop, act_nop, act_nop, act_nop,
		act_nop, act_nop, act_nop, act_nop, act_reap, act_nop },
};
/* clang-format on */

static void
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
on_line(void *data, const char *line, size_t n)
{
	struct svc *s = data;

	/* Read before the exec report (SPAWNED): no probe has started. */
	if (s->state == SVC_SPAWNED && s->conf && s->conf->nready)
		probe_early_line(&s->probe, &s->conf->ready[0], line, n);
	else
		probe_on_line(&s->probe, line, n);
}

static void
on_notify(void *data, const struct notify_msg *m)
{
	struct svc *s = data;

	if (m->has_status)
		snprintf(s->status, sizeof(s->status), "%s", m->status);
	if (m->ready)
		dispatch(s, SVC_EV_NOTIFY_READY, &(struct svc_input){ 0 });
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

	if (s->pgid > 0)
		(void)kill(-s->pgid, SIGKILL);
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
	return r;
}

int
svc_start(struct svc *s)
{
	struct svc_input in = { 0 };

	dispatch(s, SVC_EV_START, &in);
	return in.ret;
}

void
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

bool
svc_alive(const struct svc *s)
{
	return s->pid > 0 &&
	    (s->state == SVC_SPAWNED || s->state == SVC_STARTING ||
	        s->state == SVC_READY || s->state == SVC_STOPPING);
}

int
svc_signal(struct svc *s, int sig, bool group)
{
	if (!svc_alive(s))
		return -ESRCH;
	if (sig != SIGKILL && (sig = value_sigmap_apply(&s->sigmap, sig)) == 0)
		return 0;
	if (group && kill(-s->pid, sig) == 0)
		return sig;
	return kill(s->pid, sig) == 0 ? sig : -errno;
}

bool
svc_on_exit(struct svc *s, pid_t pid, int wstatus)
{
	struct svc_input in = { .wstatus = wstatus };

	if (probe_on_exit(&s->probe, pid, wstatus))
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

/* The shell's view of how the service ended: its code, or 128+N. */
int
svc_exit_status(const struct svc *s)
{
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

const char *
svc_pending_reason(const struct svc *s, char *buf, size_t cap)
{
	const char *d = *s->probe.detail ? s->probe.detail : "starting";

	switch (s->state) {
	case SVC_WAITING:
		snprintf(buf, cap, "waiting for its `after` services");
		break;
	case SVC_SPAWNED:
	case SVC_STARTING:
		if (*s->status)
			snprintf(buf, cap, "%s (STATUS=%s)", d, s->status);
		else
			snprintf(buf, cap, "%s", d);
		break;
	case SVC_BACKOFF:
		snprintf(buf, cap, "restarting (attempt %u)", s->attempt + 1);
		break;
	default:
		snprintf(buf, cap, "%s", svc_state_name(s->state));
		break;
	}
	return buf;
}
