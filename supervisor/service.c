/*
 * service — one supervised process and its life.  See service.h.
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
#include "service.h"
#include "signals.h"
#include "spawn.h"

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
		FILE *f = fopen(files[i], "re");
		long long v = -1;

		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "oom_kill %lld", &v) == 1)
				break;
		fclose(f);
		if (v >= 0)
			return v;
	}
	return -1;
}

static void
emit_tail_empty(void)
{
	/* Output capture arrives with the supervisor issue; in raw mode the
	 * service writes to our stdout itself and there is no tail. */
	ev_arr_begin("tail");
	ev_arr_end();
}

static void
set_state(struct svc *s, enum svc_state st)
{
	char buf[24];

	s->state = st;
	switch (st) {
	case SVC_READY:
		ev_begin("service_start");
		ev_str("service", s->name);
		ev_int("pid", s->pid);
		ev_int("attempt", s->attempt);
		ev_emit();
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
		emit_tail_empty();
		ev_emit();
		break;
	case SVC_EXITED:
		ev_begin("service_exit");
		ev_str("service", s->name);
		ev_int("pid", s->pid);
		if (WIFSIGNALED(s->wstatus))
			ev_str("signal",
			    sig_name(WTERMSIG(s->wstatus), buf, sizeof(buf)));
		else
			ev_int("code", WEXITSTATUS(s->wstatus));
		ev_bool("oom_killed",
		    WIFSIGNALED(s->wstatus) &&
		        WTERMSIG(s->wstatus) == SIGKILL &&
		        s->oom_kills_at_start >= 0 &&
		        oom_kills() > s->oom_kills_at_start);
		ev_int("uptime_ms", (long long)(loop_now_ms() - s->start_ms));
		emit_tail_empty();
		ev_emit();
		break;
	default:
		break;
	}
	if (s->on_change)
		s->on_change(s);
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
		set_state(s, SVC_READY);
		return;
	}
	if (r < 0) {
		e.step = SPAWN_STEP_EXEC;
		e.err = -r;
	}
	spawn_describe(&e, s->argv[0], s->reason, sizeof(s->reason));
	s->fail_status = spawn_exec_status(e.err);
	/* One plain line for whoever reads stderr rather than the events. */
	fprintf(stderr, "agent-init: %s: %s\n", s->name, s->reason);
	set_state(s, SVC_FAILED);
}

static void
on_kill_timer(struct loop_timer *t)
{
	struct svc *s = t->data;

	if (svc_alive(s))
		(void)svc_signal(s, SIGKILL, true);
}

int
svc_start(struct svc *s)
{
	struct spawn_req req = {
		.argv = s->argv,
		.own_pgrp = true,
		.foreground_tty = s->foreground_tty,
	};
	int errfd, r;

	s->attempt++;
	s->oom_kills_at_start = oom_kills();
	s->start_ms = loop_now_ms();
	r = spawn_start(&req, &s->pid, &errfd);
	if (r < 0) {
		snprintf(s->reason, sizeof(s->reason), "cannot start '%s': %s",
		    s->argv[0], strerror(-r));
		s->fail_status = 126;
		fprintf(stderr, "agent-init: %s: %s\n", s->name, s->reason);
		set_state(s, SVC_FAILED);
		return r;
	}
	s->exec_io.fd = errfd;
	s->exec_io.events = EPOLLIN;
	s->exec_io.cb = on_exec_report;
	s->exec_io.data = s;
	s->kill_timer.cb = on_kill_timer;
	s->kill_timer.data = s;
	s->state = SVC_STARTING;
	if (loop_io_add(&s->exec_io) < 0) {
		/* Cannot watch it: wait for the report at the exit instead. */
		s->exec_io.added = false;
	}
	return 0;
}

bool
svc_alive(const struct svc *s)
{
	return s->pid > 0 &&
	    (s->state == SVC_STARTING || s->state == SVC_READY ||
	        s->state == SVC_STOPPING);
}

/*
 * Send sig to the service's process, or to its whole process group.
 * Returns false when there is no process to signal.
 */
bool
svc_signal(struct svc *s, int sig, bool group)
{
	if (!svc_alive(s))
		return false;
	if (group && kill(-s->pid, sig) == 0)
		return true;
	return kill(s->pid, sig) == 0;
}

void
svc_stop(struct svc *s, int sig, uint64_t kill_deadline_ms)
{
	if (!svc_alive(s))
		return;
	(void)svc_signal(s, sig, s->signal_group);
	loop_timer_arm(&s->kill_timer, kill_deadline_ms);
	s->state = SVC_STOPPING;
}

void
svc_on_exit(struct svc *s, int wstatus)
{
	s->wstatus = wstatus;
	loop_timer_cancel(&s->kill_timer);
	/*
	 * The exit may be reaped before the loop read the exec report; the
	 * report is in the pipe already, since the child wrote it before it
	 * exited, so read it now to get the order of events right.
	 */
	if (s->exec_io.fd >= 0)
		on_exec_report(&s->exec_io, EPOLLIN);
	if (s->state == SVC_FAILED) {
		s->pid = 0;
		return;
	}
	set_state(s, SVC_EXITED);
	s->pid = 0;
}

/* The shell's view of how the service ended: its code, or 128+N. */
int
svc_exit_status(const struct svc *s)
{
	if (s->state == SVC_FAILED)
		return s->fail_status;
	if (WIFSIGNALED(s->wstatus))
		return 128 + WTERMSIG(s->wstatus);
	return WEXITSTATUS(s->wstatus);
}
