/*
 * service — one supervised process and its life.  See service.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dockerd.h"
#include "events.h"
#include "service.h"
#include "signals.h"
#include "spawn.h"
#include "values.h"

extern char **environ;

static const char *const state_names[SVC_STATE_MAX] = {
	[SVC_WAITING] = "waiting",
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

/*
 * The kernel's count of OOM kills in our memory cgroup (cgroup v2
 * memory.events, or v1 memory.oom_control since Linux 4.13), or -1.  A
 * service killed by SIGKILL while this count went up was OOM-killed.
 */
static long long
oom_kills(void)
{
	static const char *const files[] = {
		"/sys/fs/cgroup/memory.events",
		"/sys/fs/cgroup/memory/memory.oom_control",
	};
	char line[128];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		int fd = open(files[i], O_RDONLY | O_CLOEXEC | O_NOCTTY);
		ssize_t n;
		const char *p;
		long long v = -1;

		if (fd < 0)
			continue;
		n = read(fd, line, sizeof(line) - 1);
		close(fd);
		line[n > 0 ? n : 0] = 0;
		p = strstr(line, "oom_kill ");
		if (p && sscanf(p, "oom_kill %lld", &v) == 1 && v >= 0)
			return v;
	}
	return -1;
}

static void
set_state(struct svc *s, enum svc_state st)
{
	char buf[24];

	s->state = st;
	switch (st) {
	case SVC_READY:
		s->was_ready = true;
		ev_begin("service_ready");
		ev_str("service", s->name);
		ev_int("pid", s->pid);
		ev_int("elapsed_ms", (long long)(loop_now_ms() - s->start_ms));
		ev_emit();
		break;
	case SVC_FAILED:
		ev_begin("service_failed");
		ev_str("service", s->name);
		ev_str("reason", s->reason);
		output_tail_json(&s->out, "tail");
		ev_emit();
		break;
	case SVC_EXITED:
	case SVC_BACKOFF:
	case SVC_WAITING:
	case SVC_STARTING:
	case SVC_STOPPING:
	case SVC_STATE_MAX:
		break;
	}
	(void)buf;
	if (s->on_change)
		s->on_change(s);
}

static void
emit_exit(struct svc *s)
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
	ev_bool("oom_killed",
	    WIFSIGNALED(s->wstatus) && WTERMSIG(s->wstatus) == SIGKILL &&
	        s->oom_kills_at_start >= 0 &&
	        oom_kills() > s->oom_kills_at_start);
	ev_int("uptime_ms", (long long)(loop_now_ms() - s->start_ms));
	output_tail_json(&s->out, "tail");
	ev_emit();
}

static void on_probe_done(void *data);

static void
next_probe(struct svc *s)
{
	const struct service_conf *c = s->conf;

	if (!c || s->probe_index >= c->nready) {
		s->out.line_watch = false;
		loop_timer_cancel(&s->ready_timer);
		set_state(s, SVC_READY);
		return;
	}
	s->out.line_watch = c->ready[s->probe_index].kind == PROBE_LOG;
	probe_start(&s->probe, &c->ready[s->probe_index], on_probe_done, s);
}

static void
on_probe_done(void *data)
{
	struct svc *s = data;

	if (s->state != SVC_STARTING)
		return;
	s->probe_index++;
	next_probe(s);
}

static void
on_line(void *data, const char *line, size_t n)
{
	struct svc *s = data;

	/* Read before the exec report: the first probe has not started. */
	if (!s->probe.active && s->probe_index == 0 && s->conf &&
	    s->conf->nready)
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
	if (m->ready && s->state == SVC_STARTING)
		probe_notified(&s->probe);
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
on_exec_report(struct loop_io *io, uint32_t revents)
{
	struct svc *s = io->data;
	struct spawn_error e;
	int r;

	(void)revents;
	r = spawn_read_error(io->fd, &e);
	if (r == -EAGAIN)
		return;
	close_exec_io(s);
	if (r == 0) {
		ev_begin("service_start");
		ev_str("service", s->name);
		ev_int("pid", s->pid);
		ev_int("attempt", s->attempt);
		if (s->nadapted) {
			unsigned int i;

			ev_arr_begin("adapted");
			for (i = 0; i < s->nadapted; i++)
				ev_arr_str(s->adapted[i]);
			ev_arr_end();
		}
		ev_emit();
		s->probe_index = 0;
		next_probe(s);
		return;
	}
	if (r < 0) {
		e.step = SPAWN_STEP_EXEC;
		e.err = -r;
	}
	spawn_describe(&e, s->argv[0], s->reason, sizeof(s->reason));
	/* A sandbox step that failed is not "command not found". */
	s->fail_status =
	    sandbox_step_name(e.step) ? 126 : spawn_exec_status(e.err);
	/* One plain line for whoever reads stderr rather than the events. */
	(void)fprintf(stderr, "agent-init: %s: %s\n", s->name, s->reason);
	set_state(s, SVC_FAILED);
}

static void
on_kill_timer(struct loop_timer *t)
{
	struct svc *s = t->data;

	if (svc_alive(s))
		(void)svc_signal(s, SIGKILL, true);
}

/* ready_timeout: a start that did not become ready is a failed start. */
static void
on_ready_timer(struct loop_timer *t)
{
	struct svc *s = t->data;
	char detail[160];

	if (s->state != SVC_STARTING)
		return;
	snprintf(detail, sizeof(detail), "%s", s->probe.detail);
	probe_stop(&s->probe);
	s->probe_timed_out = true;
	snprintf(s->reason, sizeof(s->reason), "not ready within %llu ms (%s)",
	    (unsigned long long)s->conf->ready_timeout_ms,
	    *detail ? detail : "probe pending");
	svc_stop(s, s->conf->stop_signal,
	    loop_now_ms() + s->conf->stop_timeout_ms);
	s->stop_requested = false; /* a failed start, not a stop */
}

static void
on_runtime_timer(struct loop_timer *t)
{
	struct svc *s = t->data;

	if (!svc_alive(s))
		return;
	s->runtime_over = true;
	svc_stop(s, s->conf->stop_signal,
	    loop_now_ms() + s->conf->stop_timeout_ms);
}

static void
on_restart_timer(struct loop_timer *t)
{
	struct svc *s = t->data;

	if (s->state == SVC_BACKOFF)
		(void)svc_start(s);
}

static void
on_group_timer(struct loop_timer *t)
{
	struct svc *s = t->data;

	if (s->pgid > 0)
		(void)kill(-s->pgid, SIGKILL);
}

/*
 * The environment of a service: ours, without what belongs to agent-init
 * (NOTIFY_SOCKET, AGENT_INIT_*), or nothing with env_clear; then `env`;
 * then its own NOTIFY_SOCKET for a notify probe.
 */
static int
build_env(struct svc *s)
{
	const struct service_conf *c = s->conf;
	char wbuf[CONFIG_VALUE_MAX * 2];
	char *words[CONFIG_MAX_ENV + 1];
	size_t nwords = 0, n = 0, cap, i, j, nl;
	const char *msg;
	char **env;
	bool want_notify = false;

	if (c && *c->env &&
	    value_words(c->env, wbuf, sizeof(wbuf), words, CONFIG_MAX_ENV + 1,
	        &nwords, &msg) < 0)
		nwords = 0;
	for (i = 0; c && i < c->nready; i++)
		if (c->ready[i].kind == PROBE_NOTIFY)
			want_notify = true;
	for (cap = 0; environ[cap]; cap++)
		;
	cap += nwords + 2;
	env = calloc(cap, sizeof(*env));
	if (!env)
		return -ENOMEM;
	for (i = 0; !(c && c->env_clear) && environ[i]; i++) {
		if (strncmp(environ[i], "NOTIFY_SOCKET=", 14) == 0 ||
		    strncmp(environ[i], "AGENT_INIT_", 11) == 0)
			continue;
		env[n++] = environ[i];
	}
	for (j = 0; j < nwords; j++) {
		char *w = strdup(words[j]);

		if (!w || value_env_entry(w, &nl) < 0) {
			free(w);
			continue;
		}
		/* `env` wins over an inherited variable of the same name. */
		for (i = 0; i < n; i++)
			if (strncmp(env[i], w, nl + 1) == 0)
				break;
		env[i] = w;
		if (i == n)
			n++;
	}
	if (want_notify && s->notify.addr[0]) {
		char *w = malloc(strlen(s->notify.addr) + 16);

		if (w) {
			sprintf(w, "NOTIFY_SOCKET=%s", s->notify.addr);
			env[n++] = w;
		}
	}
	env[n] = NULL;
	/* The strings we allocated live as long as the service: a bounded
	 * leak per start is not acceptable, so keep the array and free the
	 * previous one's copies. */
	if (s->envp) {
		for (i = 0; s->envp[i]; i++) {
			bool ours = true;

			for (j = 0; environ[j]; j++)
				if (s->envp[i] == environ[j])
					ours = false;
			if (ours)
				free(s->envp[i]);
		}
		free(s->envp);
	}
	s->envp = env;
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
		const char *msg = NULL;
		size_t argc;

		s->name = conf->name;
		s->main = conf->main;
		s->required = conf->required;
		if (conf->output != OUTPUT_INHERIT)
			mode = conf->output;
		if (argv) {
			s->argv = argv;
		} else if (conf->shell) {
			s->argvbuf[0] = (char *)"/bin/sh";
			s->argvbuf[1] = (char *)"-c";
			s->argvbuf[2] = (char *)conf->command;
			s->argvbuf[3] = NULL;
		} else if (value_words(conf->command, s->argbuf,
		               sizeof(s->argbuf), s->argvbuf,
		               CONFIG_MAX_WORDS + 1, &argc, &msg) < 0)
			return -EINVAL;
		if (!argv)
			s->argv = s->argvbuf;
		s->restart = conf->restart;
		s->sigmap = conf->signal_map;
		if (sandbox_init(&s->sb, conf, s->reason, sizeof(s->reason)) <
		    0)
			return -EINVAL;
		backoff_init(&s->bo, conf->backoff_first_ms,
		    conf->backoff_cap_ms, conf->reset_after_ms,
		    conf->max_restarts, conf->restart_window_ms, seed);
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

static void
fail_start(struct svc *s, const char *what, int err)
{
	snprintf(s->reason, sizeof(s->reason), "cannot start '%s': %s: %s",
	    s->argv[0], what, strerror(err));
	s->fail_status = 126;
	(void)fprintf(stderr, "agent-init: %s: %s\n", s->name, s->reason);
	set_state(s, SVC_FAILED);
}

int
svc_start(struct svc *s)
{
	struct spawn_req req;
	int errfd, r, fds[2], devnull = -1;
	unsigned int i;

	/*
	 * Before a restart, the previous run must be gone entirely:
	 *  - its output relayed: new pipes replace the old ones, so while
	 *    our stdout is full (a paused stream) the restart waits as long
	 *    as it takes (backpressure reaches the restart, never a lost
	 *    line);
	 *  - what is left of its group killed, so that no stale child holds
	 *    a port or a lock the new one needs: SIGKILL, then wait until
	 *    the group is gone (members count until they are reaped), and
	 *    until its pipes reach end-of-file; these two waits are bounded
	 *    by 2 s, since a process outside the group may hold a pipe.
	 */
	if (s->state == SVC_BACKOFF) {
		uint64_t now = loop_now_ms();
		bool group = s->pgid > 0 && s->conf && s->conf->kill_group &&
		    kill(-s->pgid, SIGKILL) == 0;

		output_drain(&s->out);
		if (!s->group_wait_until)
			s->group_wait_until = now + 2000;
		if (output_busy(&s->out) ||
		    ((group || output_pending(&s->out)) &&
		        now < s->group_wait_until)) {
			loop_timer_arm(&s->restart_timer, now + 10);
			return 0;
		}
	}
	s->group_wait_until = 0;
	loop_timer_cancel(&s->group_timer);
	s->pgid = 0;
	s->attempt++;
	s->has_exited = false;
	s->probe_timed_out = false;
	s->runtime_over = false;
	s->status[0] = 0;
	for (i = 0; s->conf && i < s->conf->nready; i++)
		if (s->conf->ready[i].kind == PROBE_NOTIFY &&
		    (r = notify_open(&s->notify, s->name)) < 0) {
			fail_start(s, "notify socket", -r);
			return r;
		}
	s->probe.notified = false;
	/* A `log:` first probe watches from the fork on: a fast service's
	 * line may be read before the report that its exec succeeded. */
	s->probe.line_seen = false;
	s->probe_index = 0;
	s->out.line_watch =
	    s->conf && s->conf->nready && s->conf->ready[0].kind == PROBE_LOG;
	if (s->stale_pidfile && s->attempt > 1) {
		char why[200];

		if (dockerd_clear_stale_pidfile(s->stale_pidfile, why,
		        sizeof(why))) {
			ev_begin("warning");
			ev_str("what", "pidfile");
			ev_str("path", s->stale_pidfile);
			ev_str("detail", why);
			ev_emit();
		}
	}
	if (s->conf && s->sb.any) {
		char why[sizeof(s->reason) - 64];

		if (sandbox_prepare(&s->sb, s->conf, NULL, NULL, why,
		        sizeof(why)) < 0) {
			snprintf(s->reason, sizeof(s->reason),
			    "cannot start '%.40s': %s", s->argv[0], why);
			s->fail_status = 126;
			(void)fprintf(stderr, "agent-init: %s: %s\n", s->name,
			    s->reason);
			set_state(s, SVC_FAILED);
			return -EPERM;
		}
	}
	if ((r = build_env(s)) < 0) {
		fail_start(s, "environment", -r);
		return r;
	}
	if ((r = output_open(&s->out, fds)) < 0) {
		fail_start(s, "output pipes", -r);
		return r;
	}
	memset(&req, 0, sizeof(req));
	req.argv = s->argv;
	req.envp = s->envp;
	req.sandbox = s->conf ? &s->sb : NULL;
	req.own_pgrp = true;
	req.foreground_tty = s->foreground_tty;
	req.stdio[0] = -1;
	if (!s->inherit_stdin) {
		devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		req.stdio[0] = devnull;
	}
	req.stdio[1] = fds[0];
	req.stdio[2] = fds[1];
	s->start_ms = loop_now_ms();
	r = spawn_start(&req, &s->pid, &errfd);
	/* After the fork: the child execs meanwhile. */
	s->oom_kills_at_start = oom_kills();
	if (devnull >= 0)
		close(devnull);
	output_after_fork(&s->out);
	if (r < 0) {
		output_close(&s->out);
		fail_start(s, "fork", -r);
		return r;
	}
	s->pgid = s->pid;
	/* Its notify socket hears only its own group and uid. */
	s->notify.pgid = s->pid;
	s->notify.uid = s->conf && s->sb.set_uid ? s->sb.uid : geteuid();
	s->exec_io.fd = errfd;
	s->exec_io.events = EPOLLIN;
	s->exec_io.cb = on_exec_report;
	s->exec_io.data = s;
	s->state = SVC_STARTING;
	if (loop_io_add(&s->exec_io) < 0) {
		/* Cannot watch it: wait for the report at the exit instead. */
		s->exec_io.added = false;
	}
	if (s->conf && s->conf->nready > 0)
		loop_timer_arm(&s->ready_timer,
		    s->start_ms + s->conf->ready_timeout_ms);
	if (s->conf && s->conf->max_runtime_ms)
		loop_timer_arm(&s->runtime_timer,
		    s->start_ms + s->conf->max_runtime_ms);
	return 0;
}

bool
svc_alive(const struct svc *s)
{
	return s->pid > 0 &&
	    (s->state == SVC_STARTING || s->state == SVC_READY ||
	        s->state == SVC_STOPPING);
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

void
svc_stop(struct svc *s, int sig, uint64_t kill_deadline_ms)
{
	s->stop_requested = true;
	loop_timer_cancel(&s->restart_timer);
	if (s->state == SVC_WAITING || s->state == SVC_BACKOFF) {
		set_state(s, SVC_EXITED);
		return;
	}
	if (!svc_alive(s) || s->state == SVC_STOPPING)
		return;
	probe_stop(&s->probe);
	loop_timer_cancel(&s->ready_timer);
	(void)svc_signal(s, sig,
	    s->signal_group || (s->conf && s->conf->kill_group));
	loop_timer_arm(&s->kill_timer, kill_deadline_ms);
	s->state = SVC_STOPPING;
}

/* After service_exit: restart, give up, or end for good. */
static void
after_exit(struct svc *s)
{
	bool failed = s->probe_timed_out || !svc_exit_ok(s);
	bool again;
	uint64_t delay, now = loop_now_ms();

	if (s->stop_requested || s->runtime_over) {
		set_state(s, SVC_EXITED);
		return;
	}
	again = s->restart == RESTART_ALWAYS ||
	    (s->restart == RESTART_ON_FAILURE && failed);
	if (!again) {
		/* A required service that failed and will not be restarted
		 * has given up as surely as one that ran out of restarts. */
		if (s->probe_timed_out || (failed && s->required))
			set_state(s, SVC_FAILED);
		else
			set_state(s, SVC_EXITED);
		return;
	}
	if (backoff_next(&s->bo, now, now - s->start_ms, &delay) < 0) {
		char last[sizeof(s->reason)];

		snprintf(last, sizeof(last), "%s", s->reason);
		snprintf(s->reason, sizeof(s->reason),
		    "restarted %u times within %llu ms; giving up (last run: "
		    "%.160s)",
		    s->bo.max_restarts, (unsigned long long)s->bo.window_ms,
		    last);
		set_state(s, SVC_FAILED);
		return;
	}
	s->restarts++;
	ev_begin("service_restart");
	ev_str("service", s->name);
	ev_int("attempt", s->attempt + 1);
	ev_int("delay_ms", (long long)delay);
	ev_emit();
	loop_timer_arm(&s->restart_timer, now + delay);
	set_state(s, SVC_BACKOFF);
}

bool
svc_on_exit(struct svc *s, pid_t pid, int wstatus)
{
	if (probe_on_exit(&s->probe, pid, wstatus))
		return true;
	if (pid != s->pid || pid <= 0)
		return false;
	s->wstatus = wstatus;
	s->has_exited = true;
	loop_timer_cancel(&s->kill_timer);
	loop_timer_cancel(&s->ready_timer);
	loop_timer_cancel(&s->runtime_timer);
	probe_stop(&s->probe);
	/*
	 * The exit may be reaped before the loop read the exec report; the
	 * report is in the pipe already, since the child wrote it before it
	 * exited, so read it now to get the order of events right.
	 */
	if (s->exec_io.fd >= 0)
		on_exec_report(&s->exec_io, EPOLLIN);
	output_drain(&s->out);
	if (s->state == SVC_FAILED) {
		s->pid = 0;
		return true;
	}
	emit_exit(s);
	/* How it ended, for the termination log, status and a give-up. */
	if (!s->probe_timed_out) {
		char buf[24];

		if (WIFSIGNALED(wstatus))
			snprintf(s->reason, sizeof(s->reason), "killed by %s",
			    sig_name(WTERMSIG(wstatus), buf, sizeof(buf)));
		else
			snprintf(s->reason, sizeof(s->reason),
			    "exited with code %d", WEXITSTATUS(wstatus));
	}
	/* kill_group: what is left of the group gets the stop signal now
	 * and SIGKILL after stop_timeout (or at the next start). */
	if (s->conf && s->conf->kill_group && kill(-s->pgid, 0) == 0) {
		int sig = value_sigmap_apply(&s->sigmap, s->conf->stop_signal);

		if (sig)
			(void)kill(-s->pgid, sig);
		loop_timer_arm(&s->group_timer,
		    loop_now_ms() + s->conf->stop_timeout_ms);
	}
	s->pid = 0;
	after_exit(s);
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
	switch (s->state) {
	case SVC_WAITING:
		snprintf(buf, cap, "waiting for its `after` services");
		break;
	case SVC_STARTING:
		if (*s->status)
			snprintf(buf, cap, "%s (STATUS=%s)",
			    *s->probe.detail ? s->probe.detail : "starting",
			    s->status);
		else
			snprintf(buf, cap, "%s",
			    *s->probe.detail ? s->probe.detail : "starting");
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
