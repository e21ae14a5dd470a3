/*
 * Unit tests of a service's state machine (supervisor/service.c), cell by
 * cell, with its neighbours stubbed as chrony's unit tests do: the loop
 * (a fake clock, timers we fire by hand), the event writer (a log of event
 * names), spawn (no fork: a pid and an exec report we choose), probes,
 * output, the sandbox and kill(2).  The module's .c is included, so the
 * table, dispatch() and the actions are reachable.
 *
 * The expectations below are written independently of the table in
 * service.c: for every state and every event, the state it leads to and
 * the events it writes; a cell that does nothing must leave the service
 * byte for byte as it was.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* The real neighbours that are pure. */
#include "../../core/file.c"
#include "../../core/values.c"
#include "../../core/signals.c"
#include "../../core/config.c"
#include "../../supervisor/backoff.c"
#include "../../supervisor/svcenv.c"

#include "events.h"
#include "loop.h"
#include "output.h"
#include "probe.h"
#include "sandbox.h"
#include "spawn.h"

/* --- the stubs ------------------------------------------------------------ */

static uint64_t fake_ms = 1000000;
static char evlog[4096]; /* event names, space separated */
static char last_reason[256]; /* reason of the last service_failed */
static int kills[64][2]; /* (pid, sig) of each kill(2) */
static size_t nkills;
static int kill_ret; /* what kill(2) returns */
static int probe_starts, probe_stops;
static int report; /* what spawn_read_error() says */
static struct spawn_error report_err;
static int spawn_ret; /* what spawn_start() returns */
static pid_t next_pid = 100;
static bool out_busy, out_pending;
static int changes; /* on_change calls */
static const char *cur_event;

uint64_t
loop_now_ms(void)
{
	return fake_ms;
}

void
loop_timer_arm(struct loop_timer *t, uint64_t deadline_ms)
{
	t->armed = true;
	t->deadline_ms = deadline_ms;
}

void
loop_timer_cancel(struct loop_timer *t)
{
	t->armed = false;
}

int
loop_io_add(struct loop_io *io)
{
	io->added = true;
	return 0;
}

void
loop_io_del(struct loop_io *io)
{
	io->added = false;
}

void
ev_begin(const char *name)
{
	cur_event = name;
	if (*evlog)
		strcat(evlog, " ");
	strcat(evlog, name);
}

void
ev_str(const char *key, const char *val)
{
	if (strcmp(cur_event, "service_failed") == 0 &&
	    strcmp(key, "reason") == 0)
		snprintf(last_reason, sizeof(last_reason), "%s", val);
}

void
ev_int(const char *key, long long val)
{
	(void)key;
	(void)val;
}

void
ev_bool(const char *key, bool val)
{
	(void)key;
	(void)val;
}

void
ev_arr_begin(const char *key)
{
	(void)key;
}

void
ev_arr_str(const char *val)
{
	(void)val;
}

void
ev_arr_end(void)
{
}

void
ev_emit(void)
{
}

int
output_setup(struct svc_out *o, const char *name, enum output_mode mode,
    unsigned int tail_lines)
{
	(void)tail_lines;
	memset(o, 0, sizeof(*o));
	o->name = name;
	o->mode = mode;
	return 0;
}

int
output_open(struct svc_out *o, int ret_fds[2])
{
	(void)o;
	ret_fds[0] = ret_fds[1] = -1;
	return 0;
}

void
output_after_fork(struct svc_out *o)
{
	(void)o;
}

void
output_drain(struct svc_out *o)
{
	(void)o;
}

void
output_close(struct svc_out *o)
{
	(void)o;
}

bool
output_busy(const struct svc_out *o)
{
	(void)o;
	return out_busy;
}

bool
output_pending(const struct svc_out *o)
{
	(void)o;
	return out_pending;
}

void
output_tail_json(const struct svc_out *o, const char *key)
{
	(void)o;
	(void)key;
}

/* A probe passes at once when it is `started`, else when the test says. */
void
probe_start(struct probe *p, const struct probe_conf *c,
    void (*done)(void *data), void *data)
{
	probe_starts++;
	p->conf = c;
	p->done = done;
	p->data = data;
	p->active = true;
	if (c->kind == PROBE_STARTED ||
	    (c->kind == PROBE_NOTIFY && p->notified) ||
	    (c->kind == PROBE_LOG && p->line_seen)) {
		p->active = false;
		done(data);
	}
}

void
probe_stop(struct probe *p)
{
	if (p->active)
		probe_stops++;
	p->active = false;
}

void
probe_on_line(struct probe *p, const char *line, size_t n)
{
	(void)p;
	(void)line;
	(void)n;
}

void
probe_early_line(struct probe *p, const struct probe_conf *c, const char *line,
    size_t n)
{
	if (c->kind == PROBE_LOG &&
	    memmem(line, n, c->target, strlen(c->target)))
		p->line_seen = true;
}

bool
probe_on_exit(struct probe *p, pid_t pid, int wstatus)
{
	(void)wstatus;
	return pid > 0 && pid == p->exec_pid;
}

void
probe_notified(struct probe *p)
{
	p->notified = true;
}

int
notify_open(struct notify_sock *n, const char *service)
{
	snprintf(n->addr, sizeof(n->addr), "@test/%s", service);
	return 0;
}

int
spawn_start(const struct spawn_req *req, pid_t *ret_pid, int *ret_errfd)
{
	(void)req;
	if (spawn_ret < 0)
		return spawn_ret;
	*ret_pid = next_pid++;
	*ret_errfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return 0;
}

int
spawn_read_error(int errfd, struct spawn_error *ret_err)
{
	(void)errfd;
	if (report == 1)
		*ret_err = report_err;
	return report;
}

int
spawn_exec_status(int err)
{
	return err == ENOENT ? 127 : 126;
}

void
spawn_describe(const struct spawn_error *e, const char *cmd, char *buf,
    size_t cap)
{
	snprintf(buf, cap, "cannot execute '%s': %s", cmd, strerror(e->err));
}

int
sandbox_init(struct sandbox *sb, const struct service_conf *c, char *err,
    size_t errcap)
{
	(void)c;
	(void)err;
	(void)errcap;
	memset(sb, 0, sizeof(*sb));
	return 0;
}

int
sandbox_prepare(struct sandbox *sb, const struct service_conf *c,
    const char *passwd, const char *group, char *err, size_t errcap)
{
	(void)sb;
	(void)c;
	(void)passwd;
	(void)group;
	(void)err;
	(void)errcap;
	return 0;
}

const char *
sandbox_step_name(int step)
{
	(void)step;
	return NULL;
}

static int
stub_kill(pid_t pid, int sig)
{
	if (nkills < sizeof(kills) / sizeof(kills[0])) {
		kills[nkills][0] = pid;
		kills[nkills][1] = sig;
	}
	nkills++;
	return kill_ret;
}

#define kill(pid, sig) stub_kill(pid, sig)
#include "../../supervisor/launch.c"
#include "../../supervisor/service.c"
#undef kill

/* --- building a service in each state ------------------------------------- */

static struct service_conf conf;
static struct svc svc;

static void
on_change(struct svc *s)
{
	(void)s;
	changes++;
}

static void
reset_stubs(void)
{
	evlog[0] = 0;
	last_reason[0] = 0;
	nkills = 0;
	kill_ret = 0;
	probe_starts = probe_stops = 0;
	report = 0;
	spawn_ret = 0;
	out_busy = out_pending = false;
	changes = 0;
}

/* A service with one `file:` probe (it passes when the test says). */
static struct svc *
fresh(void)
{
	config_service_defaults(&conf, "web");
	snprintf(conf.command, sizeof(conf.command), "/bin/web --port 1");
	conf.restart = RESTART_ON_FAILURE;
	conf.nready = 1;
	conf.ready[0].kind = PROBE_FILE;
	snprintf(conf.ready[0].target, sizeof(conf.ready[0].target),
	    "/run/web.ready");
	conf.ready_timeout_ms = 60000;
	conf.stop_timeout_ms = 5000;
	conf.kill_group = true;
	svcenv_free(svc.envp);
	assert_int_equal(svc_init(&svc, &conf, NULL, OUTPUT_PREFIX, 1), 0);
	svc.on_change = on_change;
	reset_stubs();
	return &svc;
}

static void
drop(struct svc *s)
{
	if (s->exec_io.fd >= 0)
		close(s->exec_io.fd);
	s->exec_io.fd = -1;
}

static void
to_state(struct svc *s, enum svc_state st)
{
	switch (st) {
	case SVC_WAITING:
		break;
	case SVC_SPAWNED:
		assert_int_equal(svc_start(s), 0);
		break;
	case SVC_STARTING:
		to_state(s, SVC_SPAWNED);
		report = 0;
		on_exec_report(&s->exec_io, EPOLLIN);
		break;
	case SVC_READY:
		to_state(s, SVC_STARTING);
		s->probe.done(s->probe.data);
		break;
	case SVC_STOPPING:
		to_state(s, SVC_READY);
		svc_stop(s, SIGTERM, fake_ms + 3000);
		break;
	case SVC_BACKOFF:
		to_state(s, SVC_READY);
		assert_true(svc_on_exit(s, s->pid, 1 << 8));
		break;
	case SVC_EXITED:
		svc_stop(s, SIGTERM, fake_ms + 3000);
		break;
	case SVC_FAILED:
		to_state(s, SVC_SPAWNED);
		report = 1;
		report_err.step = SPAWN_STEP_EXEC;
		report_err.err = ENOENT;
		on_exec_report(&s->exec_io, EPOLLIN);
		break;
	case SVC_STATE_MAX:
		fail();
	}
	assert_int_equal(s->state, st);
	reset_stubs();
}

/* What each event comes with, in the cell-by-cell test. */
static struct svc_input
input_for(enum svc_event ev)
{
	struct svc_input in = { 0 };

	switch (ev) {
	case SVC_EV_STOP:
		in.sig = SIGTERM;
		in.deadline_ms = fake_ms + 2000;
		break;
	case SVC_EV_EXIT:
		in.wstatus = 1 << 8; /* exited with 1: a failure */
		break;
	case SVC_EV_EXEC_FAILED:
		in.err.step = SPAWN_STEP_EXEC;
		in.err.err = ENOENT;
		break;
	case SVC_EV_DEP_FAILED:
		in.dep = "db";
		in.dep_failed = true;
		break;
	default:
		break;
	}
	return in;
}

/* --- every cell ------------------------------------------------------------ */

/*
 * A cell's expectation: the state it leads to and the events it writes,
 * or only the notify probe's memory of READY=1.  A cell not listed must
 * do nothing at all: not a byte of the service changes, no signal, no
 * event.
 */
struct cell {
	bool moves;
	bool note;
	enum svc_state to;
	const char *events;
};

#define TO(st, evs) \
	{ \
		.moves = true, .to = (st), .events = (evs) \
	}
#define NOTE_ONLY \
	{ \
		.note = true, .events = "" \
	}

/* The table of service.h, written out again, independently. */
/* clang-format off */
static const struct cell expect[SVC_STATE_MAX][SVC_EV_MAX] = {
	[SVC_WAITING] = {
		[SVC_EV_START] = TO(SVC_SPAWNED, ""),
		[SVC_EV_DEP_FAILED] = TO(SVC_FAILED, "service_failed"),
		[SVC_EV_STOP] = TO(SVC_EXITED, ""),
	},
	[SVC_SPAWNED] = {
		[SVC_EV_EXEC_OK] = TO(SVC_STARTING, "service_start"),
		[SVC_EV_EXEC_FAILED] = TO(SVC_FAILED, "service_failed"),
		[SVC_EV_NOTIFY_READY] = NOTE_ONLY,
		[SVC_EV_READY_TIMEOUT] = TO(SVC_STOPPING, ""),
		[SVC_EV_MAX_RUNTIME] = TO(SVC_STOPPING, ""),
		[SVC_EV_STOP] = TO(SVC_STOPPING, ""),
		[SVC_EV_EXIT] = TO(SVC_BACKOFF, "service_exit service_restart"),
	},
	[SVC_STARTING] = {
		[SVC_EV_NOTIFY_READY] = NOTE_ONLY,
		[SVC_EV_PROBE_PASSED] = TO(SVC_READY, "service_ready"),
		[SVC_EV_READY_TIMEOUT] = TO(SVC_STOPPING, ""),
		[SVC_EV_MAX_RUNTIME] = TO(SVC_STOPPING, ""),
		[SVC_EV_STOP] = TO(SVC_STOPPING, ""),
		[SVC_EV_EXIT] = TO(SVC_BACKOFF, "service_exit service_restart"),
	},
	[SVC_READY] = {
		[SVC_EV_MAX_RUNTIME] = TO(SVC_STOPPING, ""),
		[SVC_EV_STOP] = TO(SVC_STOPPING, ""),
		[SVC_EV_EXIT] = TO(SVC_BACKOFF, "service_exit service_restart"),
	},
	/* Stopping for the shutdown: max_runtime and another stop change
	 * nothing then (test_join and test_budget: the other reasons). */
	[SVC_STOPPING] = {
		[SVC_EV_EXEC_FAILED] = TO(SVC_FAILED, "service_failed"),
		[SVC_EV_KILL_TIMEOUT] = TO(SVC_STOPPING, ""),
		[SVC_EV_EXIT] = TO(SVC_EXITED, "service_exit"),
	},
	[SVC_BACKOFF] = {
		[SVC_EV_STOP] = TO(SVC_EXITED, ""),
		[SVC_EV_RESTART_DUE] = TO(SVC_SPAWNED, ""),
	},
	[SVC_EXITED] = {
		[SVC_EV_START] = { 0 },
	},
	/* The child of the failed exec is reaped, quietly. */
	[SVC_FAILED] = {
		[SVC_EV_EXIT] = TO(SVC_FAILED, ""),
	},
};
/* clang-format on */

static const char *const ev_names[SVC_EV_MAX] = { "start", "dep_failed",
	"exec_ok", "exec_failed", "notify_ready", "probe_passed",
	"ready_timeout", "max_runtime", "stop", "kill_timeout", "exit",
	"restart_due" };

static void
test_every_cell(void **state)
{
	static struct svc before;
	int st, ev;

	(void)state;
	for (st = 0; st < SVC_STATE_MAX; st++)
		for (ev = 0; ev < SVC_EV_MAX; ev++) {
			struct svc *s = fresh();
			struct svc_input in = input_for((enum svc_event)ev);
			const struct cell *c = &expect[st][ev];
			const char *name = svc_state_name(st),
			           *e = ev_names[ev];

			if (!actions[st][ev])
				fail_msg("cell %s x %s is empty", name, e);
			to_state(s, (enum svc_state)st);
			kill_ret = -1; /* the old group is gone */
			memcpy(&before, s, sizeof(before));
			dispatch(s, (enum svc_event)ev, &in);
			if (c->moves && (int)s->state != (int)c->to)
				fail_msg("cell %s x %s: state %s, not %s", name,
				    e, svc_state_name(s->state),
				    svc_state_name(c->to));
			if (c->note &&
			    ((int)s->state != st || !s->probe.notified))
				fail_msg("cell %s x %s: READY=1 not noted",
				    name, e);
			if (!c->moves && !c->note &&
			    (memcmp(&before, s, sizeof(before)) != 0 ||
			        nkills || changes))
				fail_msg("cell %s x %s did something", name, e);
			if (strcmp(evlog, c->events ? c->events : "") != 0)
				fail_msg("cell %s x %s wrote '%s', not '%s'",
				    name, e, evlog, c->events ? c->events : "");
			drop(s);
		}
}

/* --- the cells that were bugs (issue 13 items 6, 13 and 14) -------------- */

/* A stop between fork and exec report: the late report changes nothing. */
static void
test_late_exec_report_after_stop(void **state)
{
	struct svc *s = fresh();

	(void)state;
	conf.ready[0].kind = PROBE_STARTED; /* would be ready at once */
	to_state(s, SVC_SPAWNED);
	svc_stop(s, SIGTERM, fake_ms + 3000);
	assert_int_equal(s->state, SVC_STOPPING);
	assert_string_equal(svc_state_name(s->state), "stopping");
	report = 0;
	on_exec_report(&s->exec_io, EPOLLIN);
	assert_int_equal(s->state, SVC_STOPPING);
	assert_string_equal(evlog, ""); /* no service_start, service_ready */
	assert_int_equal(probe_starts, 0);
	assert_int_equal(s->exec_io.fd, -1); /* the report was read */
	assert_true(svc_on_exit(s, s->pid, SIGTERM));
	assert_int_equal(s->state, SVC_EXITED);
	assert_string_equal(evlog, "service_exit");
}

/* An exit reaped before its exec report: the report first, then the exit
 * stops the probe the report started. */
static void
test_exit_before_exec_report(void **state)
{
	struct svc *s = fresh();
	pid_t pid;

	(void)state;
	s->restart = RESTART_NEVER;
	to_state(s, SVC_SPAWNED);
	pid = s->pid;
	report = 0;
	assert_true(svc_on_exit(s, pid, 0));
	assert_string_equal(evlog, "service_start service_exit");
	assert_int_equal(probe_starts, 1);
	assert_false(s->probe.active);
	assert_false(s->ready_timer.armed);
	assert_false(s->runtime_timer.armed);
	assert_false(s->kill_timer.armed);
	assert_int_equal(s->state, SVC_EXITED);
	assert_int_equal(s->pid, 0);
	assert_int_equal(s->exec_io.fd, -1);
}

/* The same with an exec that failed: FAILED, then the exit is quiet. */
static void
test_exit_before_failed_exec_report(void **state)
{
	struct svc *s = fresh();

	(void)state;
	to_state(s, SVC_SPAWNED);
	report = 1;
	report_err.step = SPAWN_STEP_EXEC;
	report_err.err = ENOENT;
	assert_true(svc_on_exit(s, s->pid, 127 << 8));
	assert_string_equal(evlog, "service_failed");
	assert_int_equal(s->state, SVC_FAILED);
	assert_int_equal(svc_exit_status(s), 127);
	assert_int_equal(s->pid, 0);
}

/*
 * Stopping after max_runtime with a long stop_timeout, then the shutdown
 * reaches it: it gets the shutdown's signal again and the shutdown's
 * (earlier) kill deadline.
 */
static void
test_join(void **state)
{
	struct svc *s = fresh();

	(void)state;
	conf.max_runtime_ms = 1000;
	conf.stop_timeout_ms = 30000;
	to_state(s, SVC_READY);
	fake_ms += 1000;
	assert_true(s->runtime_timer.armed);
	s->runtime_timer.cb(&s->runtime_timer);
	assert_int_equal(s->state, SVC_STOPPING);
	assert_int_equal(s->why, SVC_WHY_MAX_RUNTIME);
	assert_int_equal(s->kill_timer.deadline_ms, fake_ms + 30000);
	assert_int_equal(nkills, 1);
	assert_int_equal(kills[0][0], -s->pid);
	assert_int_equal(kills[0][1], SIGTERM);
	fake_ms += 500;
	svc_stop(s, SIGINT, fake_ms + 2000);
	assert_int_equal(s->state, SVC_STOPPING);
	assert_int_equal(s->why, SVC_WHY_SHUTDOWN);
	assert_int_equal(nkills, 2);
	assert_int_equal(kills[1][0], -s->pid);
	assert_int_equal(kills[1][1], SIGINT);
	assert_int_equal(s->kill_timer.deadline_ms, fake_ms + 2000);
	/* A later deadline never postpones the earlier one. */
	s->why = SVC_WHY_READY_TIMEOUT;
	svc_stop(s, SIGTERM, fake_ms + 9000);
	assert_int_equal(s->kill_timer.deadline_ms, fake_ms + 2000);
	/* Asked by the shutdown already: nothing more. */
	nkills = 0;
	svc_stop(s, SIGTERM, fake_ms + 1);
	assert_int_equal(nkills, 0);
	assert_int_equal(s->kill_timer.deadline_ms, fake_ms + 2000);
	assert_true(svc_on_exit(s, s->pid, 0));
	assert_int_equal(s->state, SVC_EXITED);
	assert_string_equal(evlog, "service_exit");
}

/* --- the other cells, in detail -------------------------------------------- */

static void
test_ready_timeout_is_a_failed_start(void **state)
{
	struct svc *s = fresh();

	(void)state;
	to_state(s, SVC_STARTING);
	snprintf(s->probe.detail, sizeof(s->probe.detail), "no file yet");
	fake_ms += 60000;
	s->ready_timer.cb(&s->ready_timer);
	assert_int_equal(s->state, SVC_STOPPING);
	assert_int_equal(s->why, SVC_WHY_READY_TIMEOUT);
	assert_false(s->probe.active);
	assert_string_equal(s->reason,
	    "not ready within 60000 ms (no file yet)");
	/* It exits on the signal: a failed start, restarted. */
	assert_true(svc_on_exit(s, s->pid, SIGTERM));
	assert_int_equal(s->state, SVC_BACKOFF);
	assert_string_equal(evlog, "service_exit service_restart");
	assert_string_equal(s->reason,
	    "not ready within 60000 ms (no file yet)");
	assert_true(s->restart_timer.armed);
}

static void
test_ready_timeout_without_restart_fails(void **state)
{
	struct svc *s = fresh();

	(void)state;
	s->restart = RESTART_NEVER;
	to_state(s, SVC_STARTING);
	s->ready_timer.cb(&s->ready_timer);
	assert_true(svc_on_exit(s, s->pid, 0));
	assert_int_equal(s->state, SVC_FAILED);
	assert_string_equal(evlog, "service_exit service_failed");
	assert_string_equal(last_reason,
	    "not ready within 60000 ms (probe pending)");
}

/* max_runtime while stopping after ready_timeout: not restarted. */
static void
test_budget(void **state)
{
	struct svc *s = fresh();

	(void)state;
	conf.max_runtime_ms = 90000;
	to_state(s, SVC_STARTING);
	s->ready_timer.cb(&s->ready_timer);
	assert_int_equal(s->why, SVC_WHY_READY_TIMEOUT);
	s->runtime_timer.cb(&s->runtime_timer);
	assert_int_equal(s->state, SVC_STOPPING);
	assert_int_equal(s->why, SVC_WHY_MAX_RUNTIME);
	assert_true(svc_on_exit(s, s->pid, SIGTERM));
	assert_int_equal(s->state, SVC_EXITED);
	assert_string_equal(evlog, "service_exit");
}

static void
test_max_runtime_ends_for_good(void **state)
{
	struct svc *s = fresh();

	(void)state;
	s->restart = RESTART_ALWAYS;
	conf.max_runtime_ms = 5000;
	to_state(s, SVC_READY);
	s->runtime_timer.cb(&s->runtime_timer);
	assert_int_equal(s->state, SVC_STOPPING);
	assert_true(svc_on_exit(s, s->pid, 0));
	assert_int_equal(s->state, SVC_EXITED);
}

static void
test_probes_in_order(void **state)
{
	struct svc *s = fresh();

	(void)state;
	conf.nready = 2;
	conf.ready[1].kind = PROBE_TCP;
	to_state(s, SVC_STARTING);
	assert_int_equal(s->probe_index, 0);
	s->probe.done(s->probe.data);
	assert_int_equal(s->state, SVC_STARTING);
	assert_int_equal(s->probe_index, 1);
	assert_int_equal(s->probe.conf->kind, PROBE_TCP);
	s->probe.done(s->probe.data);
	assert_int_equal(s->state, SVC_READY);
	assert_true(s->was_ready);
	assert_false(s->ready_timer.armed);
	assert_string_equal(evlog, "service_ready");
}

/* READY=1 before the exec report is read still counts. */
static void
test_notify_before_exec_report(void **state)
{
	struct svc *s = fresh();

	(void)state;
	conf.ready[0].kind = PROBE_NOTIFY;
	to_state(s, SVC_SPAWNED);
	on_notify(s, &(struct notify_msg){ .ready = true });
	assert_int_equal(s->state, SVC_SPAWNED);
	report = 0;
	on_exec_report(&s->exec_io, EPOLLIN);
	assert_int_equal(s->state, SVC_READY);
	assert_string_equal(evlog, "service_start service_ready");
}

/* A `log:` line read before the exec report still counts, and the
 * output is watched for it from the fork on. */
static void
test_log_line_before_exec_report(void **state)
{
	struct svc *s = fresh();

	(void)state;
	conf.ready[0].kind = PROBE_LOG;
	snprintf(conf.ready[0].target, sizeof(conf.ready[0].target), "up");
	to_state(s, SVC_SPAWNED);
	assert_true(s->out.line_watch);
	on_line(s, "starting", 8);
	assert_false(s->probe.line_seen);
	on_line(s, "we are up", 9);
	assert_int_equal(s->state, SVC_SPAWNED);
	report = 0;
	on_exec_report(&s->exec_io, EPOLLIN);
	assert_int_equal(s->state, SVC_READY);
	assert_string_equal(evlog, "service_start service_ready");
}

static void
test_restart_waits_for_old_group(void **state)
{
	struct svc *s = fresh();

	(void)state;
	to_state(s, SVC_BACKOFF);
	assert_int_equal(s->attempt, 1);
	/* The old group still answers kill(2): wait, bounded by 2 s. */
	kill_ret = 0;
	s->restart_timer.cb(&s->restart_timer);
	assert_int_equal(s->state, SVC_BACKOFF);
	assert_true(s->restart_timer.armed);
	assert_int_equal(s->restart_timer.deadline_ms, fake_ms + 10);
	fake_ms += 2000;
	s->restart_timer.cb(&s->restart_timer);
	assert_int_equal(s->state, SVC_SPAWNED);
	assert_int_equal(s->attempt, 2);
	drop(s);
	/* Output that still waits for our stdout holds it without bound. */
	s = fresh();
	to_state(s, SVC_BACKOFF);
	kill_ret = -1;
	out_busy = true;
	fake_ms += 60000;
	s->restart_timer.cb(&s->restart_timer);
	assert_int_equal(s->state, SVC_BACKOFF);
	out_busy = false;
	s->restart_timer.cb(&s->restart_timer);
	assert_int_equal(s->state, SVC_SPAWNED);
	drop(s);
}

static void
test_gives_up_after_max_restarts(void **state)
{
	struct svc *s = fresh();
	int i;

	(void)state;
	backoff_init(&s->bo, 0, 0, 30000, 2, 60000, 1);
	to_state(s, SVC_SPAWNED);
	for (i = 0; i < 3; i++) {
		report = 0;
		on_exec_report(&s->exec_io, EPOLLIN);
		assert_true(svc_on_exit(s, s->pid, 1 << 8));
		if (s->state == SVC_FAILED)
			break;
		assert_int_equal(s->state, SVC_BACKOFF);
		kill_ret = -1;
		s->restart_timer.cb(&s->restart_timer);
		assert_int_equal(s->state, SVC_SPAWNED);
	}
	assert_int_equal(s->state, SVC_FAILED);
	assert_int_equal(s->restarts, 2);
	assert_non_null(
	    strstr(last_reason, "restarted 2 times within 60000 ms"));
	assert_non_null(strstr(last_reason, "exited with code 1"));
}

static void
test_required_failure_without_restart_gives_up(void **state)
{
	struct svc *s = fresh();

	(void)state;
	s->required = true;
	s->restart = RESTART_NEVER;
	to_state(s, SVC_READY);
	assert_true(svc_on_exit(s, s->pid, 3 << 8));
	assert_int_equal(s->state, SVC_FAILED);
	assert_string_equal(last_reason, "exited with code 3");
	/* A clean exit is no failure. */
	s = fresh();
	s->restart = RESTART_NEVER;
	s->required = true;
	to_state(s, SVC_READY);
	assert_true(svc_on_exit(s, s->pid, 0));
	assert_int_equal(s->state, SVC_EXITED);
}

static void
test_dependency_failed(void **state)
{
	struct svc *s = fresh();

	(void)state;
	svc_fail_dependency(s, "db", false);
	assert_int_equal(s->state, SVC_FAILED);
	assert_int_equal(s->why, SVC_WHY_DEPENDENCY);
	assert_string_equal(last_reason,
	    "cannot start: service 'db', which it is after, exited before it "
	    "was ever ready");
	assert_int_equal(changes, 1);
	/* Only a waiting service can fail that way. */
	s = fresh();
	to_state(s, SVC_READY);
	svc_fail_dependency(s, "db", true);
	assert_int_equal(s->state, SVC_READY);
}

static void
test_start_that_cannot_fork(void **state)
{
	struct svc *s = fresh();

	(void)state;
	spawn_ret = -EAGAIN;
	assert_int_equal(svc_start(s), -EAGAIN);
	assert_int_equal(s->state, SVC_FAILED);
	assert_int_equal(svc_exit_status(s), 126);
	assert_non_null(strstr(last_reason, "fork"));
}

static void
test_kill_timeout(void **state)
{
	struct svc *s = fresh();

	(void)state;
	to_state(s, SVC_STOPPING);
	assert_true(s->kill_timer.armed);
	assert_int_equal(s->kill_timer.deadline_ms, fake_ms + 3000);
	s->kill_timer.cb(&s->kill_timer);
	assert_int_equal(nkills, 1);
	assert_int_equal(kills[0][0], -s->pid);
	assert_int_equal(kills[0][1], SIGKILL);
}

static unsigned int hook_attempts[8], hook_n;
static void *hook_data;

static void
record_hook(void *data, unsigned int attempt)
{
	hook_data = data;
	if (hook_n < 8)
		hook_attempts[hook_n++] = attempt;
}

/* A preset's hook runs before every start but the first. */
static void
test_before_start_hook(void **state)
{
	struct svc *s = fresh();

	(void)state;
	hook_n = 0;
	s->before_start = record_hook;
	s->before_start_data = &conf;
	to_state(s, SVC_BACKOFF);
	assert_int_equal(hook_n, 0);
	kill_ret = -1;
	s->restart_timer.cb(&s->restart_timer);
	assert_int_equal(s->state, SVC_SPAWNED);
	assert_int_equal(hook_n, 1);
	assert_int_equal(hook_attempts[0], 2);
	assert_ptr_equal(hook_data, &conf);
	drop(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_cell),
		cmocka_unit_test(test_late_exec_report_after_stop),
		cmocka_unit_test(test_exit_before_exec_report),
		cmocka_unit_test(test_exit_before_failed_exec_report),
		cmocka_unit_test(test_join),
		cmocka_unit_test(test_ready_timeout_is_a_failed_start),
		cmocka_unit_test(test_ready_timeout_without_restart_fails),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_max_runtime_ends_for_good),
		cmocka_unit_test(test_probes_in_order),
		cmocka_unit_test(test_notify_before_exec_report),
		cmocka_unit_test(test_log_line_before_exec_report),
		cmocka_unit_test(test_restart_waits_for_old_group),
		cmocka_unit_test(test_gives_up_after_max_restarts),
		cmocka_unit_test(
		    test_required_failure_without_restart_gives_up),
		cmocka_unit_test(test_dependency_failed),
		cmocka_unit_test(test_start_that_cannot_fork),
		cmocka_unit_test(test_kill_timeout),
		cmocka_unit_test(test_before_start_hook),
	};

	return cmocka_run_group_tests_name("service", tests, NULL, NULL);
}
