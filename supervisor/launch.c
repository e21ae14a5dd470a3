/*
 * launch — the mechanics of one run of a service.  See launch.h.
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

#include "file.h"
#include "launch.h"
#include "oomwatch.h"
#include "signals.h"
#include "spawn.h"
#include "svcenv.h"
#include "values.h"

int
launch_argv(struct svc *s, const struct service_conf *conf, char **argv)
{
	const char *msg = NULL;
	size_t argc;

	if (argv) {
		s->argv = argv;
		return 0;
	}
	if (conf->shell) {
		s->shell_argv[0] = (char *)"/bin/sh";
		s->shell_argv[1] = (char *)"-c";
		s->shell_argv[2] = (char *)conf->command;
		s->shell_argv[3] = NULL;
		s->argv = s->shell_argv;
		return 0;
	}
	/* As long as the command is: one allocation, kept for good. */
	return value_words_alloc(conf->command, &s->argv, &argc, &msg) < 0
	    ? -EINVAL
	    : 0;
}

static int
cannot_start(struct svc *s, const char *what, int r)
{
	snprintf(s->reason, sizeof(s->reason), "cannot start '%s': %s: %s",
	    s->argv[0], what, strerror(-r));
	return r;
}

int
launch_prepare(struct svc *s)
{
	char why[sizeof(s->reason) - 64];
	char **env = NULL;
	int r;

	if (svcenv_wants_notify(s->conf) &&
	    (r = notify_open(&s->notify, s->name)) < 0)
		return cannot_start(s, "notify socket", r);
	if (s->conf && s->sb.any &&
	    sandbox_prepare(&s->sb, s->conf, NULL, NULL, why, sizeof(why)) <
	        0) {
		snprintf(s->reason, sizeof(s->reason),
		    "cannot start '%.40s': %s", s->argv[0], why);
		return -EPERM;
	}
	if ((r = svcenv_build(s->conf, s->notify.addr, &env)) < 0)
		return cannot_start(s, "environment", r);
	svcenv_free(s->envp);
	s->envp = env;
	return 0;
}

/* After the fork: watch for the exec report, arm the run's timers. */
static void
watch_exec(struct svc *s, int errfd)
{
	s->pgid = s->pid;
	/* Its notify socket hears only its own group and uid. */
	s->notify.pgid = s->pid;
	s->notify.uid = s->conf && s->sb.set_uid ? s->sb.uid : geteuid();
	s->exec_io.fd = errfd;
	s->exec_io.events = EPOLLIN;
	s->exec_io.data = s;
	/* Cannot watch it: the report is read at the exit instead. */
	if (loop_io_add(&s->exec_io) < 0)
		s->exec_io.added = false;
	if (s->conf && s->conf->nready > 0)
		loop_timer_arm(&s->ready_timer,
		    s->start_ms + s->conf->ready_timeout_ms);
	if (s->conf && s->conf->max_runtime_ms)
		loop_timer_arm(&s->runtime_timer,
		    s->start_ms + s->conf->max_runtime_ms);
}

int
launch_fork(struct svc *s)
{
	struct spawn_req req;
	int errfd, r, fds[2], devnull = -1;

	if ((r = output_open(&s->out, fds)) < 0)
		return cannot_start(s, "output pipes", r);
	memset(&req, 0, sizeof(req));
	req.argv = s->argv;
	req.envp = s->envp;
	req.pid_slot = svcenv_pid_slot(s->conf, s->envp);
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
	if (devnull >= 0)
		close(devnull);
	if (r < 0) {
		output_after_fork(&s->out);
		output_close(&s->out);
		/* Out of descriptors is not a fork failure: say which. */
		return cannot_start(s,
		    r == -EMFILE || r == -ENFILE ? "exec report pipe" : "fork",
		    r);
	}
	/*
	 * The exec report before the output: epoll reports what is ready at
	 * once in the order it was added, so a child that exec'd and wrote
	 * before we got here has its report read before its first line
	 * (service_start first, and the `log:` probe there for the line).
	 */
	watch_exec(s, errfd);
	output_after_fork(&s->out);
	return 0;
}

/*
 * Before a restart, the previous run must be gone entirely:
 *  - its output relayed: new pipes replace the old ones, so while our
 *    stdout is full (a paused stream) the restart waits as long as it
 *    takes (backpressure reaches the restart, never a lost line);
 *  - what is left of its group killed, so that no stale child holds a
 *    port or a lock the new one needs: SIGKILL, then wait until the group
 *    is gone (members count until they are reaped), and until its pipes
 *    reach end-of-file; these two waits are bounded by 2 s, since a
 *    process outside the group may hold a pipe.
 */
bool
launch_old_run_gone(struct svc *s)
{
	uint64_t now = loop_now_ms();
	bool group;

	if (s->pgid > 0 && s->conf && s->conf->kill_group)
		oomwatch_sigkill(0, s->pgid);
	group = s->pgid > 0 && s->conf && s->conf->kill_group &&
	    kill(-s->pgid, SIGKILL) == 0;

	output_drain(&s->out);
	if (!s->group_wait_until)
		s->group_wait_until = now + 2000;
	return !output_busy(&s->out) &&
	    (!(group || output_pending(&s->out)) || now >= s->group_wait_until);
}

/* How it ended, for the termination log, status and a give-up. */
static void
describe_exit(struct svc *s)
{
	char buf[24];

	if (s->why == SVC_WHY_READY_TIMEOUT || s->why == SVC_WHY_UNHEALTHY)
		return; /* "not ready within ...", "unhealthy: ..." say more */
	if (WIFSIGNALED(s->wstatus))
		snprintf(s->reason, sizeof(s->reason), "killed by %s",
		    sig_name(WTERMSIG(s->wstatus), buf, sizeof(buf)));
	else
		snprintf(s->reason, sizeof(s->reason), "exited with code %d",
		    WEXITSTATUS(s->wstatus));
}

void
launch_end(struct svc *s, int wstatus)
{
	s->wstatus = s->last_wstatus = wstatus;
	s->has_exited = s->exited_once = true;
	loop_timer_cancel(&s->kill_timer);
	loop_timer_cancel(&s->ready_timer);
	loop_timer_cancel(&s->runtime_timer);
	probe_stop(&s->probe);
	s->out.line_watch = false;
	output_drain(&s->out);
	if (s->state == SVC_FAILED)
		return; /* the exec failed: its reason stands, no group */
	describe_exit(s);
	/* kill_group: what is left of the group gets the stop signal now
	 * and SIGKILL after stop_timeout (or at the next start). */
	if (s->conf && s->conf->kill_group && kill(-s->pgid, 0) == 0) {
		int sig = value_sigmap_apply(&s->sigmap, s->conf->stop_signal);

		if (sig == SIGKILL)
			oomwatch_sigkill(0, s->pgid);
		if (sig)
			(void)kill(-s->pgid, sig);
		/* a stopped one would not see it (SIGKILL needs no help) */
		if (sig && sig != SIGKILL)
			(void)kill(-s->pgid, SIGCONT);
		loop_timer_arm(&s->group_timer,
		    loop_now_ms() + s->conf->stop_timeout_ms);
	}
}
