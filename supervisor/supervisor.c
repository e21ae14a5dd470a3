/*
 * supervisor — services, readiness, shutdown, exit status.  See
 * supervisor.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events.h"
#include "file.h"
#include "hot.h"
#include "loop.h"
#include "oomwatch.h"
#include "signals.h"
#include "supervisor.h"

/* After the budget, how long we still wait for SIGKILLed processes to be
 * reaped before leaving anyway. */
#define SUP_FINAL_GRACE_MS 200
/* `waiting`: at most once a second; repeated unchanged after 5 s. */
#define SUP_WAITING_TICK_MS 1000
#define SUP_WAITING_REPEAT_MS 5000
/* Kubernetes reads at most 4096 bytes of a termination message. */
#define SUP_TERMINATION_MAX 4096

/*
 * A service held by the checks it is `after` (gate.h): since when, until
 * when (its timer), and why, for `waiting`.  Once open, it stays open:
 * a restart does not wait for the checks again.
 */
struct held {
	uint64_t since_ms; /* 0: not held (yet) */
	bool open;
	struct loop_timer timer; /* check_wait is over */
	char why[256];
	/* An operator's stop waits for what is after it (sup_hold()). */
	bool hold_pending;
	char hold_note[160];
};

enum sup_phase {
	SUP_RUNNING,
	SUP_STOPPING,
	SUP_LEFTOVERS,
	SUP_DONE,
	SUP_PHASE_MAX
};

static struct {
	struct sup_opts o;
	struct svc **svcs; /* n of them, in the order they were added */
	size_t n, cap;
	enum sup_phase phase;
	bool ready_sent;
	bool children_left;
	int stop_sig;
	uint64_t budget_end_ms;
	uint64_t reserve_ms;
	struct loop_timer leftover_timer;
	struct loop_timer final_timer;
	struct loop_timer waiting_timer;
	uint32_t waiting_sig;
	uint64_t waiting_last_ms;
	const struct svc *gave_up; /* a required service that gave up */
	const struct svc *termination_svc; /* in the termination log */
	/* Per service (sup.cap of them), grown by sup_add() only before
	 * sup_start(): no held timer is armed while the array moves. */
	struct held *held;
	int forced_status; /* a required check did not pass: 69, else 0 */
	bool in_change;
	/* Changed while the supervisor was busy with another change. */
	bool *changed; /* per service: changed meanwhile (sup.cap of them) */
	bool ready_file_made;
	bool change_again;
	/* An operator's stop waits for what is after it (dependents first). */
	/* Scratch marks for the operator's verbs, one per service. */
	bool *mark;
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

static bool HOT
is_after(const struct svc *s, const struct svc *dep)
{
	unsigned int a;

	if (!s->conf)
		return false;
	for (a = 0; a < s->conf->nafter; a++)
		if (strcmp(s->conf->after[a], dep->name) == 0)
			return true;
	return false;
}

/* Tell our own supervisor (podman --sdnotify, systemd), if any. */
static void
notify_self(const char *msg)
{
	struct sockaddr_un un;
	socklen_t len;
	const char *a = sup.o.notify_socket;
	int fd;

	if (!a || (*a != '/' && *a != '@') || strlen(a) >= sizeof(un.sun_path))
		return;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return;
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	memcpy(un.sun_path, a, strlen(a));
	if (*a == '@')
		un.sun_path[0] = 0;
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(a));
	(void)sendto(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT,
	    (struct sockaddr *)&un, len);
	close(fd);
}

static void
warn_path(const char *what, const char *path, int err)
{
	ev_begin("warning");
	ev_str("what", what);
	ev_str("path", path);
	ev_str("detail", strerror(err));
	ev_emit();
}

/*
 * Write a file agent-init owns: never through a symlink a service may
 * have planted (O_NOFOLLOW), replacing what was there.
 */
static bool
write_own_file(const char *what, const char *path, const char *data, size_t n,
    mode_t mode)
{
	/*
	 * O_NONBLOCK: a FIFO planted there must not make PID 1 wait for a
	 * reader (open then fails with ENXIO); and only a regular file is
	 * written, so a planted device or FIFO with a reader gets nothing.
	 */
	int fd = open(path,
	    O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
	    mode);
	struct stat st;

	if (fd < 0) {
		warn_path(what, path, errno);
		return false;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		warn_path(what, path, EINVAL);
		close(fd);
		return false;
	}
	/*
	 * A hard link planted there shares its inode with a file elsewhere
	 * (O_NOFOLLOW does not see it): truncating it would clobber that
	 * file.  Ours never has a second name.
	 */
	if (st.st_nlink > 1) {
		warn_path(what, path, EMLINK);
		close(fd);
		return false;
	}
	/*
	 * A file someone else made (a service running as another uid) is
	 * not ours to fill with other services' output; one of ours left by
	 * an earlier version gets the mode of today.
	 */
	if (st.st_uid != geteuid()) {
		warn_path(what, path, EPERM);
		close(fd);
		return false;
	}
	if (fchmod(fd, mode) < 0 || ftruncate(fd, 0) < 0 ||
	    (n && write(fd, data, n) < 0)) {
		warn_path(what, path, errno);
		close(fd);
		return false;
	}
	close(fd);
	return true;
}

/*
 * Ready, or done: a one-shot service (a setup step) that was ready and
 * then exited 0 for good does not hold the sandbox back.
 */
static bool
satisfied(const struct svc *s)
{
	return s->state == SVC_READY ||
	    (s->state == SVC_EXITED && s->was_ready && !s->main &&
	        svc_exit_ok(s));
}

static void
readiness_changed(void)
{
	if (sup.o.on_readiness)
		sup.o.on_readiness();
}

static void
emit_ready(void)
{
	size_t i;

	sup.ready_sent = true;
	loop_timer_cancel(&sup.waiting_timer);
	ev_begin("ready");
	ev_int("elapsed_ms", (long long)(loop_now_ms() - sup.o.boot_ms));
	ev_arr_begin("services");
	for (i = 0; i < sup.n; i++)
		ev_arr_str(sup.svcs[i]->name);
	ev_arr_end();
	ev_emit();
	if (sup.o.ready_file && *sup.o.ready_file)
		sup.ready_file_made = write_own_file("ready_file",
		    sup.o.ready_file, "ready\n", 6, 0644);
	notify_self("READY=1\nSTATUS=ready");
	readiness_changed();
}

static uint32_t
hash_add(uint32_t h, const char *s)
{
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return (h ^ 0xff) * 16777619u;
}

/* The `waiting` event, when something changed or 5 s passed. */
/* Why a service is not ready yet: the checks that hold it, or its own. */
static const char *
pending_reason(size_t i, char *buf, size_t cap)
{
	const struct svc *s = sup.svcs[i];

	if (s->state == SVC_WAITING && sup.held[i].since_ms &&
	    !sup.held[i].open) {
		snprintf(buf, cap, "%s", sup.held[i].why);
		return buf;
	}
	return svc_pending_reason(s, buf, cap);
}

static void
maybe_waiting(bool force)
{
	uint64_t now = loop_now_ms();
	uint32_t h = 2166136261u;
	char reason[256], status[320];
	size_t i, np = 0, first = 0;

	if (sup.ready_sent || sup.phase != SUP_RUNNING)
		return;
	for (i = 0; i < sup.n; i++) {
		struct svc *s = sup.svcs[i];

		if (satisfied(s))
			continue;
		pending_reason(i, reason, sizeof(reason));
		h = hash_add(hash_add(h, s->name), reason);
		if (np++ == 0)
			first = i;
	}
	if (np == 0)
		return;
	if (!force && h == sup.waiting_sig &&
	    now - sup.waiting_last_ms < SUP_WAITING_REPEAT_MS)
		return;
	if (now - sup.waiting_last_ms < SUP_WAITING_TICK_MS)
		return;
	sup.waiting_sig = h;
	sup.waiting_last_ms = now;
	ev_begin("waiting");
	ev_arr_begin("pending");
	for (i = 0; i < sup.n; i++)
		if (!satisfied(sup.svcs[i]))
			ev_arr_str(sup.svcs[i]->name);
	ev_arr_end();
	ev_obj_begin("reason");
	for (i = 0; i < sup.n; i++)
		if (!satisfied(sup.svcs[i]))
			ev_str(sup.svcs[i]->name,
			    pending_reason(i, reason, sizeof(reason)));
	ev_obj_end();
	ev_emit();
	snprintf(status, sizeof(status), "STATUS=waiting for %s: %s",
	    sup.svcs[first]->name,
	    pending_reason(first, reason, sizeof(reason)));
	notify_self(status);
}

/* Something may still become ready: a service on its way up. */
static bool
any_coming(void)
{
	size_t i;

	for (i = 0; i < sup.n; i++) {
		enum svc_state st = sup.svcs[i]->state;

		if (st == SVC_WAITING || st == SVC_SPAWNED ||
		    st == SVC_STARTING || st == SVC_BACKOFF ||
		    st == SVC_STOPPING)
			return true;
	}
	return false;
}

/*
 * Once nothing can change any more (what is not ready has failed or
 * ended for good), the ticks stop: an idle PID 1 does not wake up.
 */
static void
on_waiting_timer(struct loop_timer *t)
{
	maybe_waiting(false);
	if (!sup.ready_sent && sup.phase == SUP_RUNNING && any_coming())
		loop_timer_arm(t, loop_now_ms() + SUP_WAITING_TICK_MS);
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

	if (sig == SIGKILL)
		oomwatch_sigkill_all();
	if (sup.o.pid1) {
		(void)kill(-1, sig);
		return;
	}
	dir = opendir("/proc");
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		char path[300], *text, *p;
		size_t len;
		long ppid;
		bool ours;

		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", d->d_name);
		if (file_read(path, FILE_PLANTED, 4096, 0, &text, &len) < 0)
			continue;
		/* The command name may hold spaces and parentheses: parse
		 * from the last ')'. Fields after it: state, ppid. */
		p = strrchr(text, ')');
		ours =
		    p && sscanf(p + 1, " %*c %ld", &ppid) == 1 && ppid == self;
		free(text);
		if (ours)
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
	loop_timer_cancel(&sup.waiting_timer);
}

static bool
ended(const struct svc *s)
{
	return s->state == SVC_EXITED || s->state == SVC_FAILED;
}

/* Nothing runs, for the shutdown's order: ended, or stopped. */
static bool HOT
down(const struct svc *s)
{
	return ended(s) || s->state == SVC_STOPPED;
}

/* The shutdown has asked it already (a stop for a reason of its own,
 * ready_timeout or max_runtime, still gets the shutdown's, in order). */
static bool HOT
stop_asked(const struct svc *s)
{
	return s->why == SVC_WHY_SHUTDOWN;
}

/*
 * Stop every service whose dependents are all down (reverse order):
 * svc_stop() with the shutdown's signal (the received one for a command
 * that asked for it) and a kill deadline within the budget.
 */
static void HOT
stop_pass(void)
{
	uint64_t now = loop_now_ms(),
	         limit = sup.budget_end_ms - sup.reserve_ms;
	size_t i, j;

	for (i = sup.n; i-- > 0;) {
		struct svc *s = sup.svcs[i];
		uint64_t kill_at;
		bool blocked = false;

		if (stop_asked(s) || down(s))
			continue;
		for (j = 0; j < sup.n; j++)
			if (j != i && is_after(sup.svcs[j], s) &&
			    (svc_alive(sup.svcs[j]) ||
			        (!stop_asked(sup.svcs[j]) &&
			            !down(sup.svcs[j]))))
				blocked = true;
		if (blocked)
			continue;
		kill_at = now +
		    (s->conf ? s->conf->stop_timeout_ms
		             : sup.o.stop_timeout_ms);
		if (kill_at > limit)
			kill_at = limit;
		svc_stop(s,
		    s->stop_with_received || !s->conf ? sup.stop_sig
		                                      : s->conf->stop_signal,
		    kill_at);
	}
}

static bool
no_children(void)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 &&
	    errno == ECHILD;
}

/* Without a main service, the sandbox ends when nothing can run again. */
static bool
all_ended(void)
{
	size_t i;

	for (i = 0; i < sup.n; i++)
		if (!ended(sup.svcs[i]))
			return false;
	return sup.n > 0;
}

static void HOT
progress(void)
{
	uint64_t kill_at;

	if (sup.phase == SUP_STOPPING)
		stop_pass();
	if (sup.phase == SUP_STOPPING && !any_alive()) {
		/*
		 * We may be inside a reap pass that has not yet seen ECHILD:
		 * ask the kernel before signalling leftovers, so that the
		 * usual end (the main service was our only child) does not
		 * look for processes that are not there.
		 */
		if (sup.children_left && no_children())
			sup.children_left = false;
		if (!sup.children_left) {
			/* Every line the services wrote is relayed before we
			 * go (output_on_idle brings us back here). */
			if (output_open_streams() == 0)
				finish();
			return;
		}
		sup.phase = SUP_LEFTOVERS;
		signal_leftovers(SIGTERM);
		signal_leftovers(SIGCONT); /* a stopped one would not see it */
		kill_at = loop_now_ms() + sup.reserve_ms;
		if (kill_at > sup.budget_end_ms)
			kill_at = sup.budget_end_ms;
		loop_timer_arm(&sup.leftover_timer, kill_at);
	} else if (sup.phase == SUP_LEFTOVERS && !sup.children_left &&
	    output_open_streams() == 0)
		finish();
}

static void
on_output_idle(void)
{
	if (sup.phase == SUP_STOPPING || sup.phase == SUP_LEFTOVERS)
		progress();
}

/*
 * The end of the shutdown budget (and its final grace), by which the last
 * lines must be out: then stop_timeout has passed since the shutdown
 * began, whatever the readers of our output do.  An end that came without
 * a shutdown (a required check failed) gets a budget of its own.
 */
uint64_t
sup_exit_deadline_ms(void)
{
	uint64_t now = loop_now_ms();

	if (!sup.budget_end_ms)
		return now + sup.o.stop_timeout_ms;
	return sup.budget_end_ms + SUP_FINAL_GRACE_MS > now
	    ? sup.budget_end_ms + SUP_FINAL_GRACE_MS
	    : now;
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

static void write_termination_log(const struct svc *s, uint64_t dropped);

/* check_wait is over for a held service: judge it once more. */
static void
on_held_timer(struct loop_timer *t)
{
	(void)t;
	sup_checks_changed();
}

/* Past check_wait, a check that is not required: start, and say so. */
static void
start_late(struct svc *s, const char *check, const char *why)
{
	char detail[320];

	snprintf(detail, sizeof(detail), "%s; %s starts anyway", why, s->name);
	ev_begin("warning");
	ev_str("what", "check_wait");
	ev_str("service", s->name);
	ev_str("check", check);
	ev_str("detail", detail);
	ev_emit();
}

/* Past check_wait, a required check: the sandbox ends with 69. */
static void
end_by_check(struct svc *s, const char *why)
{
	sup.forced_status = EXIT_CHECK_FAILED;
	snprintf(sup.exit_reason, sizeof(sup.exit_reason), "%s: %s", s->name,
	    why);
	snprintf(s->reason, sizeof(s->reason), "%s", why);
	write_termination_log(s, 0);
	sup_shutdown("a required check did not pass", 0);
}

/*
 * The checks a service is `after` (its services are ready): may it start
 * now?  The clock of check_wait starts at the first time they are all
 * that holds it.
 */
static bool
gate_allows(size_t i)
{
	struct svc *s = sup.svcs[i];
	struct held *h = &sup.held[i];
	const char *check;
	uint64_t now = loop_now_ms(), end;

	if (h->open || !s->conf || s->conf->nafter_checks == 0)
		return true;
	if (!h->since_ms) {
		h->since_ms = now;
		h->timer.cb = on_held_timer;
		loop_timer_arm(&h->timer, now + s->conf->check_wait_ms);
	}
	end = h->since_ms + s->conf->check_wait_ms;
	switch (gate_judge(s->conf, sup.o.gates, now >= end, h->why,
	    sizeof(h->why), &check)) {
	case GATE_HOLD:
		return false;
	case GATE_EXIT:
		end_by_check(s, h->why);
		return false;
	case GATE_LATE:
		start_late(s, check, h->why);
		break;
	case GATE_OPEN:
		break;
	}
	h->open = true;
	loop_timer_cancel(&h->timer);
	return true;
}

/* Start what can start; fail what never can. */
static void
start_eligible(void)
{
	size_t i, j;

	for (i = 0; i < sup.n && sup.phase == SUP_RUNNING; i++) {
		struct svc *s = sup.svcs[i];
		const struct svc *never = NULL;
		bool can = true;

		if (s->state != SVC_WAITING)
			continue;
		for (j = 0; j < sup.n; j++) {
			const struct svc *d = sup.svcs[j];

			/* A stopped service satisfies nothing until it is
			 * started and ready again (its was_ready is cleared). */
			if (j == i || !is_after(s, d) || d->was_ready)
				continue;
			can = false;
			if (d->state == SVC_FAILED || d->state == SVC_EXITED)
				never = d;
		}
		if (never)
			svc_fail_dependency(s, never->name,
			    never->state == SVC_FAILED);
		else if (can && gate_allows(i))
			(void)svc_start(s);
	}
}

/*
 * The termination log: "SERVICE: reason", then, when lines were lost at
 * the end, how many, then the service's last lines (the newest that fit
 * in SUP_TERMINATION_MAX).
 */
static void
write_termination_log(const struct svc *s, uint64_t dropped)
{
	char buf[SUP_TERMINATION_MAX + 1];
	size_t n = 0;

	if (!sup.o.termination_log || !*sup.o.termination_log)
		return;
	sup.termination_svc = s;
	if (s)
		n = (size_t)snprintf(buf, sizeof(buf), "%s: %s\n", s->name,
		    *s->reason ? s->reason : "exited");
	if (dropped && n < sizeof(buf))
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
		    "agent-init: %llu lines of output and events could not be "
		    "written (their reader stopped reading)\n",
		    (unsigned long long)dropped);
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	/* The cause first: what an operator reads in `kubectl describe`
	 * before the lines it came from. */
	if (s && s->crash.cause[0] && n < sizeof(buf))
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "cause: %s\n",
		    s->crash.cause);
	if (s && n < sizeof(buf) && s->crash.hint[0])
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "hint: %s\n",
		    s->crash.hint);
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	if (s)
		n += output_tail_text(&s->out, buf + n, sizeof(buf) - n);
	/* 0600: the last lines of a service's output are its own business,
	 * not every other service's (the orchestrator reads it as root). */
	(void)write_own_file("termination_log", sup.o.termination_log, buf, n,
	    0600);
}

void
sup_report_dropped(uint64_t lines)
{
	if (lines)
		write_termination_log(sup.termination_svc, lines);
}
static void hold_pass(void);

/* The main service ended well: 0, a success_exit_code, or a -e code. */
static bool
main_exit_ok(const struct svc *s)
{
	return svc_exit_ok(s) ||
	    (s->has_exited &&
	        value_codes_has(sup.o.remap_exit, svc_exit_status(s)));
}

static void
on_service_change_once(struct svc *s)
{
	size_t i;

	hold_pass();
	start_eligible();
	if (!sup.ready_sent && sup.phase == SUP_RUNNING) {
		for (i = 0; i < sup.n; i++)
			if (!satisfied(sup.svcs[i]))
				break;
		if (i == sup.n)
			emit_ready();
		else {
			maybe_waiting(false);
			if (!sup.waiting_timer.armed && any_coming())
				loop_timer_arm(&sup.waiting_timer,
				    loop_now_ms() + SUP_WAITING_TICK_MS);
		}
	}
	if (s && sup.phase == SUP_RUNNING) {
		if (s->main &&
		    (s->state == SVC_EXITED || s->state == SVC_FAILED)) {
			if (s->state == SVC_FAILED || !main_exit_ok(s))
				write_termination_log(s, 0);
			sup_shutdown(s->state == SVC_FAILED
			        ? "main service failed"
			        : "main service exited",
			    0);
		} else if (s->required && s->state == SVC_FAILED) {
			sup.gave_up = s;
			write_termination_log(s, 0);
			sup_shutdown("a required service gave up", 0);
		}
		/*
		 * Every change may settle it: a `wait-ready` waiter is
		 * answered once ready can no longer come, which a service
		 * that ends for good (not only one that fails) can decide.
		 */
		readiness_changed();
		if (!main_svc() && all_ended())
			sup_shutdown("every service ended", 0);
	}
	progress();
}

/*
 * Called after every state change of a service.  A change can cause
 * another (a start that fails at once); run them one after the other
 * rather than nested, and remember which services changed meanwhile, so
 * that none of them misses its own handling (a main service that fails
 * inside another's change must still shut the sandbox down).
 */
static struct svc *
take_pending(bool take)
{
	size_t i;

	for (i = 0; i < sup.n; i++)
		if (sup.changed[i]) {
			sup.changed[i] = !take;
			return sup.svcs[i];
		}
	return NULL;
}

static void
on_service_change(struct svc *s)
{
	size_t i;

	for (i = 0; s && i < sup.n; i++)
		if (sup.svcs[i] == s)
			sup.changed[i] = true;
	if (sup.in_change) {
		sup.change_again = true;
		return;
	}
	sup.in_change = true;
	do {
		sup.change_again = false;
		on_service_change_once(take_pending(true));
	} while (sup.change_again || take_pending(false));
	sup.in_change = false;
}

void
sup_checks_changed(void)
{
	if (sup.phase == SUP_RUNNING)
		on_service_change(NULL);
}

void
sup_init(const struct sup_opts *o)
{
	sup.o = *o;
	sup.leftover_timer.cb = on_leftover_timer;
	sup.final_timer.cb = on_final_timer;
	sup.waiting_timer.cb = on_waiting_timer;
	sup.stop_sig = SIGTERM;
	output_on_idle(on_output_idle);
}

int
sup_add(struct svc *s)
{
	if (sup.n == sup.cap) {
		size_t cap = sup.cap ? sup.cap * 2 : 8;
		struct svc **n = realloc(sup.svcs, cap * sizeof(struct svc *));
		struct held *h;
		bool *c;

		if (!n)
			return -ENOMEM;
		sup.svcs = n;
		if (!(c = realloc(sup.changed, cap * sizeof(*c))))
			return -ENOMEM;
		memset(c + sup.cap, 0, (cap - sup.cap) * sizeof(*c));
		sup.changed = c;
		if (!(h = realloc(sup.held, cap * sizeof(*h))))
			return -ENOMEM;
		memset(h + sup.cap, 0, (cap - sup.cap) * sizeof(*h));
		sup.held = h;
		if (!(c = realloc(sup.mark, cap * sizeof(*c))))
			return -ENOMEM;
		sup.mark = c;
		sup.cap = cap;
	}
	s->on_change = on_service_change;
	s->hold = sup_hold;
	sup.svcs[sup.n++] = s;
	return 0;
}

void
sup_start(void)
{
	sup.children_left = true;
	/* Startups faster than a second print no `waiting` at all. */
	sup.waiting_last_ms = loop_now_ms();
	loop_timer_arm(&sup.waiting_timer, loop_now_ms() + SUP_WAITING_TICK_MS);
	on_service_change(NULL);
}

bool
sup_on_exit(pid_t pid, int wstatus)
{
	size_t i;

	for (i = 0; i < sup.n; i++)
		if (svc_on_exit(sup.svcs[i], pid, wstatus))
			return true;
	return false;
}

int HOT
sup_forward(int sig)
{
	struct svc *m = main_svc();

	return m ? svc_signal(m, sig, m->signal_group) : -ESRCH;
}

bool HOT
sup_shutdown_begin(int sig)
{
	uint64_t now = loop_now_ms();

	if (sup.phase != SUP_RUNNING)
		return false;
	sup.phase = SUP_STOPPING;
	sup.stop_sig = sig ? sig : SIGTERM;
	sup.budget_end_ms = now + sup.o.stop_timeout_ms;
	sup.reserve_ms = sup.o.stop_timeout_ms / 4;
	if (sup.reserve_ms > 1000)
		sup.reserve_ms = 1000;
	/* The stop signals go out here, before any line is written and
	 * before the timers: the bookkeeping can wait, a handler not. */
	progress();
	loop_timer_cancel(&sup.waiting_timer);
	for (size_t i = 0; i < sup.n; i++)
		loop_timer_cancel(&sup.held[i].timer);
	if (sup.phase != SUP_DONE) /* nothing was running: over already */
		loop_timer_arm(&sup.final_timer,
		    sup.budget_end_ms + SUP_FINAL_GRACE_MS);
	return true;
}

void
sup_shutdown_announce(const char *reason)
{
	ev_begin("shutdown");
	ev_str("reason", reason);
	ev_emit();
	notify_self("STOPPING=1");
	readiness_changed();
	/* Only what we made: never a file someone else put there. */
	if (sup.ready_file_made)
		(void)unlink(sup.o.ready_file);
}

void
sup_shutdown(const char *reason, int sig)
{
	if (sup_shutdown_begin(sig))
		sup_shutdown_announce(reason);
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

bool
sup_ready(void)
{
	return sup.ready_sent;
}

/* Not ready, and nothing will change that: nothing on its way up, and
 * nothing an operator stopped (a `ctl start` could still make it). */
bool
sup_stalled(void)
{
	size_t i;

	for (i = 0; i < sup.n; i++)
		if (sup.svcs[i]->state == SVC_STOPPED)
			return false;
	return !sup.ready_sent && sup.phase == SUP_RUNNING && sup.n > 0 &&
	    !any_coming();
}

bool
sup_healthy(void)
{
	size_t i;

	if (!sup.ready_sent || sup.phase != SUP_RUNNING)
		return false;
	for (i = 0; i < sup.n; i++)
		if (!satisfied(sup.svcs[i]) || !svc_healthy(sup.svcs[i]))
			return false;
	return true;
}

size_t
sup_count(void)
{
	return sup.n;
}

struct svc *
sup_service(size_t i)
{
	return i < sup.n ? sup.svcs[i] : NULL;
}

static int
exit_status(void)
{
	struct svc *m = main_svc();
	char buf[24];
	int st;

	if (sup.forced_status)
		return sup.forced_status; /* exit_reason is written */
	if (sup.gave_up) {
		snprintf(sup.exit_reason, sizeof(sup.exit_reason),
		    "required service %s gave up: %s", sup.gave_up->name,
		    sup.gave_up->reason);
		return EXIT_REQUIRED_FAILED;
	}
	if (!m) {
		snprintf(sup.exit_reason, sizeof(sup.exit_reason),
		    "no main service; shut down");
		return 0;
	}
	if (m->attempt == 0) {
		/* Stopped before it ever started (enforce checks running). */
		snprintf(sup.exit_reason, sizeof(sup.exit_reason),
		    "%s before %s started",
		    sig_name(sup.stop_sig, buf, sizeof(buf)), m->name);
		return 128 + sup.stop_sig;
	}
	st = svc_exit_status(m);
	if (m->state == SVC_FAILED && (!m->has_exited || m->fail_status))
		snprintf(sup.exit_reason, sizeof(sup.exit_reason), "%s: %s",
		    m->name, m->reason);
	else if (!m->has_exited)
		snprintf(sup.exit_reason, sizeof(sup.exit_reason),
		    "%s did not exit within the stop timeout", m->name);
	else if (WIFSIGNALED(m->wstatus))
		snprintf(sup.exit_reason, sizeof(sup.exit_reason),
		    "%s killed by %s", m->name,
		    sig_name(WTERMSIG(m->wstatus), buf, sizeof(buf)));
	else
		snprintf(sup.exit_reason, sizeof(sup.exit_reason),
		    "%s exited with code %d", m->name, st);
	return st;
}

/*
 * The status of SPEC section 12, but with -e CODE (tini) a main service
 * that ended with CODE makes it 0.
 */
int
sup_exit_status(void)
{
	int st = exit_status();
	size_t n;

	if (sup.gave_up || !main_svc() || st == 0 ||
	    !value_codes_has(sup.o.remap_exit, st))
		return st;
	n = strlen(sup.exit_reason);
	snprintf(sup.exit_reason + n, sizeof(sup.exit_reason) - n,
	    " (-e %d: exit status 0)", st);
	return 0;
}

const char *
sup_exit_reason(void)
{
	return sup.exit_reason;
}

/* The cause behind the exit: the service that gave up, else main's. */
const struct svc_crash *
sup_exit_crash(void)
{
	const struct svc *m = main_svc();

	if (sup.gave_up)
		return &sup.gave_up->crash;
	return m && m->attempt ? &m->crash : NULL;
}

/* --- an operator's stop, start and restart -------------------------------- */

/* The scratch marks, all false, for one of the verbs below. */
static bool *
clear_marks(void)
{
	memset(sup.mark, 0, sup.n * sizeof(*sup.mark));
	return sup.mark;
}

static size_t
index_of(const struct svc *s)
{
	size_t i;

	for (i = 0; i < sup.n; i++)
		if (sup.svcs[i] == s)
			return i;
	return sup.n;
}

/* Mark i and every service after it, directly or not. */
static void
mark_dependents(size_t i, bool *mark)
{
	size_t j;

	if (mark[i])
		return;
	mark[i] = true;
	for (j = 0; j < sup.n; j++)
		if (j != i && is_after(sup.svcs[j], sup.svcs[i]))
			mark_dependents(j, mark);
}

/* Mark i and every stopped service it is after, directly or not. */
static void
mark_stopped_dependencies(size_t i, bool *mark)
{
	size_t j;

	if (mark[i])
		return;
	mark[i] = true;
	for (j = 0; j < sup.n; j++)
		if (j != i && is_after(sup.svcs[i], sup.svcs[j]) &&
		    (sup.svcs[j]->state == SVC_STOPPED ||
		        sup.held[j].hold_pending))
			mark_stopped_dependencies(j, mark);
}

/*
 * Hold every service whose stop is pending once nothing after it runs
 * any more (dependents first, as in the shutdown).  A dependent that is
 * still stopping holds its dependencies back.
 */
static void
hold_pass(void)
{
	size_t i, j;

	if (sup.phase != SUP_RUNNING)
		return;
	for (i = sup.n; i-- > 0;) {
		bool blocked = false;

		if (!sup.held[i].hold_pending)
			continue;
		for (j = 0; j < sup.n && !blocked; j++)
			if (j != i && is_after(sup.svcs[j], sup.svcs[i]) &&
			    (svc_alive(sup.svcs[j]) ||
			        sup.held[j].hold_pending))
				blocked = true;
		if (blocked)
			continue;
		sup.held[i].hold_pending = false;
		svc_hold(sup.svcs[i], sup.held[i].hold_note);
	}
}

/* The main service is s or after it, directly or not. */
static bool
reaches_main(size_t k, bool *mark)
{
	size_t i;

	mark_dependents(k, mark);
	for (i = 0; i < sup.n; i++)
		if (mark[i] && sup.svcs[i]->main)
			return true;
	return false;
}

bool
sup_hold_ends_sandbox(struct svc *s)
{
	bool *mark = clear_marks();
	size_t k = index_of(s);

	return k < sup.n && sup.phase == SUP_RUNNING && reaches_main(k, mark);
}

int
sup_hold(struct svc *s, const char *note)
{
	bool *mark = clear_marks();
	size_t i, k = index_of(s);
	char reason[200];

	if (k == sup.n)
		return -ENOENT;
	if (sup.phase != SUP_RUNNING)
		return -ESHUTDOWN;
	if (reaches_main(k, mark)) {
		if (s->main)
			snprintf(reason, sizeof(reason),
			    "main service stopped (%s)", note);
		else
			snprintf(reason, sizeof(reason),
			    "service %s stopped (%s), and main is after it",
			    s->name, note);
		sup_shutdown(reason, 0);
		return SUP_HOLD_SHUTDOWN;
	}
	if (s->state == SVC_STOPPED || ended(s))
		return -EALREADY;
	for (i = 0; i < sup.n; i++) {
		if (!mark[i] || down(sup.svcs[i]))
			continue;
		sup.held[i].hold_pending = true;
		if (i == k)
			snprintf(sup.held[i].hold_note,
			    sizeof(sup.held[i].hold_note), "%s", note);
		else
			snprintf(sup.held[i].hold_note,
			    sizeof(sup.held[i].hold_note),
			    "stopped with %s, which it is after (%.100s)",
			    s->name, note);
	}
	on_service_change(NULL);
	return 0;
}

int
sup_release(struct svc *s)
{
	bool *mark = clear_marks();
	size_t i, k = index_of(s);
	bool any = false;

	if (k == sup.n)
		return -ENOENT;
	if (sup.phase != SUP_RUNNING)
		return -ESHUTDOWN;
	mark_stopped_dependencies(k, mark);
	for (i = 0; i < sup.n; i++) {
		struct svc *x = sup.svcs[i];

		if (!mark[i])
			continue;
		sup.held[i].hold_pending = false;
		if (i != k && x->state != SVC_STOPPED)
			continue;
		if (x->state == SVC_STOPPED || x->state == SVC_EXITED ||
		    x->state == SVC_FAILED ||
		    (x->state == SVC_STOPPING && x->why == SVC_WHY_OPERATOR))
			any = true;
		svc_release(x);
	}
	on_service_change(NULL);
	return any ? 0 : -EALREADY;
}

int
sup_restart(struct svc *s)
{
	size_t k = index_of(s);

	if (k == sup.n)
		return -ENOENT;
	if (sup.phase != SUP_RUNNING)
		return -ESHUTDOWN;
	if (s->state == SVC_STOPPED || s->state == SVC_EXITED ||
	    s->state == SVC_FAILED)
		return sup_release(s);
	if (s->state == SVC_WAITING)
		return -EALREADY;
	sup.held[k].hold_pending = false;
	svc_restart(s);
	on_service_change(NULL);
	return 0;
}

struct svc *
sup_find(const char *name)
{
	size_t i;

	for (i = 0; i < sup.n; i++)
		if (strcmp(sup.svcs[i]->name, name) == 0)
			return sup.svcs[i];
	return NULL;
}
