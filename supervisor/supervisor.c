/*
 * supervisor — services, readiness, shutdown, exit status.  See
 * supervisor.h.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events.h"
#include "loop.h"
#include "signals.h"
#include "supervisor.h"

#define SUP_MAX_SERVICES 64

/* After the budget, how long we still wait for SIGKILLed processes to be
 * reaped before leaving anyway. */
#define SUP_FINAL_GRACE_MS 200

enum sup_phase {
	SUP_RUNNING,
	SUP_STOPPING,
	SUP_LEFTOVERS,
	SUP_DONE,
	SUP_PHASE_MAX
};

static struct {
	struct sup_opts o;
	struct svc *svcs[SUP_MAX_SERVICES];
	size_t n;
	enum sup_phase phase;
	bool ready_sent;
	bool children_left;
	uint64_t budget_end_ms;
	uint64_t reserve_ms;
	struct loop_timer leftover_timer;
	struct loop_timer final_timer;
	char exit_reason[320];
} sup;

static struct svc *
main_svc(void)
{
	size_t i;

	for (i = 0; i < sup.n; i++)
		if (sup.svcs[i]->main)
			return sup.svcs[i];
	return NULL;
}

static bool
any_alive(void)
{
	size_t i;

	for (i = 0; i < sup.n; i++)
		if (svc_alive(sup.svcs[i]))
			return true;
	return false;
}

/*
 * Signal every process that is left.  As PID 1 of a namespace, kill(-1)
 * reaches exactly everything but us.  Otherwise kill(-1) would reach every
 * process of our user on the machine, so we signal only our own children
 * (as a child subreaper, orphans of our services are reparented to us).
 */
static void
signal_leftovers(int sig)
{
	pid_t self = getpid();
	struct dirent *d;
	DIR *dir;

	if (sup.o.pid1) {
		(void)kill(-1, sig);
		return;
	}
	dir = opendir("/proc");
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		char path[300], buf[512], *p;
		long ppid;
		FILE *f;

		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", d->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		p = fgets(buf, sizeof(buf), f);
		fclose(f);
		/* The command name may hold spaces and parentheses: parse
		 * from the last ')'. Fields after it: state, ppid. */
		if (!p || !(p = strrchr(buf, ')')))
			continue;
		if (sscanf(p + 1, " %*c %ld", &ppid) == 1 && ppid == self)
			(void)kill((pid_t)atol(d->d_name), sig);
	}
	closedir(dir);
}

static void
finish(void)
{
	sup.phase = SUP_DONE;
	loop_timer_cancel(&sup.leftover_timer);
	loop_timer_cancel(&sup.final_timer);
}

static void
progress(void)
{
	uint64_t kill_at;

	if (sup.phase == SUP_STOPPING && !any_alive()) {
		if (!sup.children_left) {
			finish();
			return;
		}
		sup.phase = SUP_LEFTOVERS;
		signal_leftovers(SIGTERM);
		kill_at = loop_now_ms() + sup.reserve_ms;
		if (kill_at > sup.budget_end_ms)
			kill_at = sup.budget_end_ms;
		loop_timer_arm(&sup.leftover_timer, kill_at);
	} else if (sup.phase == SUP_LEFTOVERS && !sup.children_left)
		finish();
}

static void
on_leftover_timer(struct loop_timer *t)
{
	(void)t;
	signal_leftovers(SIGKILL);
}

static void
on_final_timer(struct loop_timer *t)
{
	(void)t;
	if (sup.phase != SUP_DONE) {
		signal_leftovers(SIGKILL);
		finish();
	}
}

/* Called after every state change of a service. */
static void
on_service_change(struct svc *s)
{
	size_t i;

	if (!sup.ready_sent && sup.phase == SUP_RUNNING) {
		for (i = 0; i < sup.n; i++)
			if (sup.svcs[i]->state != SVC_READY)
				break;
		if (i == sup.n) {
			sup.ready_sent = true;
			ev_begin("ready");
			ev_int("elapsed_ms",
			    (long long)(loop_now_ms() - sup.o.boot_ms));
			ev_arr_begin("services");
			for (i = 0; i < sup.n; i++)
				ev_arr_str(sup.svcs[i]->name);
			ev_arr_end();
			ev_emit();
		}
	}
	if (s->main && (s->state == SVC_EXITED || s->state == SVC_FAILED))
		sup_shutdown(s->state == SVC_FAILED ? "main service failed"
		                                    : "main service exited",
		    0);
	progress();
}

void
sup_init(const struct sup_opts *o)
{
	sup.o = *o;
	sup.leftover_timer.cb = on_leftover_timer;
	sup.final_timer.cb = on_final_timer;
}

int
sup_add(struct svc *s)
{
	if (sup.n == SUP_MAX_SERVICES)
		return -ENOSPC;
	s->exec_io.fd = -1;
	s->on_change = on_service_change;
	sup.svcs[sup.n++] = s;
	return 0;
}

void
sup_start(void)
{
	size_t i;

	sup.children_left = true;
	for (i = 0; i < sup.n && sup.phase == SUP_RUNNING; i++)
		(void)svc_start(sup.svcs[i]);
}

bool
sup_on_exit(pid_t pid, int wstatus)
{
	size_t i;

	for (i = 0; i < sup.n; i++) {
		if (sup.svcs[i]->pid == pid) {
			svc_on_exit(sup.svcs[i], wstatus);
			return true;
		}
	}
	return false;
}

/* Forward a signal to the main service; false when there is none alive. */
bool
sup_forward(int sig)
{
	struct svc *m = main_svc();

	return m && svc_signal(m, sig, m->signal_group);
}

/*
 * Begin the shutdown.  sig is the signal that asked for it: in
 * single-command mode the main service receives that same signal, as
 * with tini; 0 means SIGTERM.
 */
void
sup_shutdown(const char *reason, int sig)
{
	uint64_t now = loop_now_ms();
	size_t i;

	if (sup.phase != SUP_RUNNING)
		return;
	sup.phase = SUP_STOPPING;
	sup.budget_end_ms = now + sup.o.stop_timeout_ms;
	sup.reserve_ms = sup.o.stop_timeout_ms / 4;
	if (sup.reserve_ms > 1000)
		sup.reserve_ms = 1000;
	ev_begin("shutdown");
	ev_str("reason", reason);
	ev_emit();
	for (i = sup.n; i-- > 0;)
		svc_stop(sup.svcs[i], sig ? sig : SIGTERM,
		    sup.budget_end_ms - sup.reserve_ms);
	loop_timer_arm(&sup.final_timer,
	    sup.budget_end_ms + SUP_FINAL_GRACE_MS);
	progress();
}

/* The reaper tells us, after each pass, whether any child is left. */
void
sup_children(bool any_left)
{
	sup.children_left = any_left;
	progress();
}

bool
sup_running(void)
{
	return sup.phase == SUP_RUNNING;
}

bool
sup_done(void)
{
	return sup.phase == SUP_DONE;
}

int
sup_exit_status(void)
{
	struct svc *m = main_svc();
	char buf[24];
	int st;

	if (!m) {
		snprintf(sup.exit_reason, sizeof(sup.exit_reason),
		    "no main service");
		return 0;
	}
	st = svc_exit_status(m);
	if (m->state == SVC_FAILED)
		snprintf(sup.exit_reason, sizeof(sup.exit_reason), "%s: %s",
		    m->name, m->reason);
	else if (m->state != SVC_EXITED)
		snprintf(sup.exit_reason, sizeof(sup.exit_reason),
		    "%s did not exit within the stop timeout", m->name);
	else if (WIFSIGNALED(m->wstatus))
		snprintf(sup.exit_reason, sizeof(sup.exit_reason),
		    "%s killed by %s", m->name,
		    sig_name(WTERMSIG(m->wstatus), buf, sizeof(buf)));
	else
		snprintf(sup.exit_reason, sizeof(sup.exit_reason),
		    "%s exited with code %d", m->name, st);
	if (m->state != SVC_EXITED && m->state != SVC_FAILED)
		st = 128 + SIGKILL;
	return st;
}

const char *
sup_exit_reason(void)
{
	return sup.exit_reason;
}
