/*
 * verbs — what the control socket's requests do (control.h lists them):
 * one service's state, its logs (followers), the checks again, and the
 * verbs that act (start, stop, restart, signal), each with its `control`
 * event.  Called by the server in control.c, through the internal API of
 * verbs.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "events.h"
#include "follow.h"
#include "loop.h"
#include "output.h"
#include "recheck.h"
#include "signals.h"
#include "status.h"
#include "supervisor.h"
#include "values.h"
#include "verbs.h"

static struct svc *
find_or_error(struct client *c, const char *name)
{
	struct svc *s = name ? sup_find(name) : NULL;
	char msg[120];

	if (!s) {
		snprintf(msg, sizeof(msg), "no service '%.60s'",
		    name ? name : "");
		ctl_reply_error(c, "no_such_service", msg);
	}
	return s;
}

void
verb_state(struct client *c, const char *name)
{
	struct svc *s = find_or_error(c, name);

	const char *j;
	size_t n;

	if (!s)
		return;
	if ((j = status_service_json(s, &n)))
		ctl_reply(c, j, n);
	else
		ctl_reply_error(c, "failed", "the answer is too large");
}

/* --- logs ------------------------------------------------------------------- */

void
verbs_pump(struct client *c)
{
	switch (follow_pump(c->f, c->io.fd)) {
	case FOLLOW_IDLE:
		(void)loop_io_mod(&c->io, EPOLLRDHUP);
		break;
	case FOLLOW_BLOCKED:
		(void)loop_io_mod(&c->io, EPOLLRDHUP | EPOLLOUT);
		break;
	case FOLLOW_DONE:
	case FOLLOW_GONE:
		ctl_drop(c);
		break;
	}
}

/* New lines of a service: every follower of it gets its turn. */
void
verbs_on_log(struct svc_out *o)
{
	size_t i;

	for (i = 0; i < CTL_NSLOTS; i++) {
		struct client *c = ctl_slot(i);

		if (c->cls == CL_FOLLOWER && &follow_service(c->f)->out == o)
			verbs_pump(c);
	}
}

void
verb_logs(struct client *c, const char *name, const char *last,
    const char *mode)
{
	struct svc *s = find_or_error(c, name);
	unsigned long n = 0;
	bool follow;
	const char *h;
	size_t hl;

	if (!s)
		return;
	if (!last || !mode ||
	    (strcmp(last, "all") != 0 && value_uint(last, ~0UL, &n) < 0) ||
	    (strcmp(mode, "follow") != 0 && strcmp(mode, "once") != 0)) {
		ctl_reply_error(c, "bad_request",
		    "usage: logs NAME LINES|all follow|once");
		return;
	}
	if (s->out.mode == OUTPUT_RAW) {
		ctl_reply_error(c, "not_captured",
		    "its output is raw (not captured): nothing is kept");
		return;
	}
	follow = strcmp(mode, "follow") == 0;
	if (!ctl_park(c, CL_FOLLOWER))
		return;
	json_begin(256);
	ev_bool("ok", true);
	ev_str("service", s->name);
	ev_bool("follow", follow);
	h = json_end(&hl);
	c->f = follow_new(s, strcmp(last, "all") == 0 ? UINT64_MAX : n, follow,
	    h ? h : "{}\n", h ? hl : 3);
	if (!c->f) {
		ctl_drop(c);
		return;
	}
	s->out.followers++;
	verbs_pump(c);
}

/* --- checks ------------------------------------------------------------------ */

/*
 * Every check's last verdict (netcheck/recheck.h: the egress watch keeps
 * them), begun and ended with the builder; since_ms: when it was asked.
 */
static const char *
checks_reply(uint64_t since_ms, size_t *ret_len)
{
	long long n[4] = { 0, 0, 0, 0 };
	static const char *const names[] = { "ok", "warn", "fail", "skip" };
	size_t i, k;

	json_begin(STATUS_MAX);
	ev_bool("ok", true);
	ev_arr_begin("checks");
	for (i = 0; i < recheck_count(); i++) {
		const struct check_verdict *v = recheck_get(i);

		ev_obj_begin(NULL);
		ev_str("check", v->check);
		ev_str("name", v->name);
		ev_str("target", v->target);
		ev_str("status", v->status ? v->status : "pending");
		ev_str("code", v->code);
		ev_str("detail", v->detail);
		ev_str("hint", v->hint);
		ev_bool("required", v->required);
		ev_int("age_ms", (long long)(loop_now_ms() - v->at_ms));
		ev_obj_end();
		for (k = 0; k < 4; k++)
			if (v->status && strcmp(v->status, names[k]) == 0)
				n[k]++;
	}
	ev_arr_end();
	ev_obj_begin("summary");
	for (k = 0; k < 4; k++)
		ev_int(names[k], n[k]);
	ev_int("elapsed_ms", (long long)(loop_now_ms() - since_ms));
	ev_obj_end();
	return json_end(ret_len);
}

static void
on_checks_timer(struct loop_timer *t)
{
	struct client *c = t->data;

	if (c->cls == CL_WAITER && c->wfor == W_CHECKS) {
		recheck_forget(c);
		ctl_reply_error(c, "failed", "the checks did not end in time");
	}
}

/* The run this client asked for is over: its verdicts are in. */
static void
on_rechecked(void *data)
{
	struct client *c = data;
	const char *j;
	size_t n;

	if (c->cls != CL_WAITER || c->wfor != W_CHECKS)
		return;
	loop_timer_cancel(&c->timer);
	j = checks_reply(c->since_ms, &n);
	if (j)
		ctl_reply(c, j, n);
	else
		ctl_reply_error(c, "failed", "verdicts too large");
}

/*
 * `ctl checks`: the egress watch (netcheck/recheck.h) runs every check
 * again (tunnels excepted: they hold their tunnel) as soon as the loop
 * comes round, or after the run under way; the answer comes at its end.
 */
void
verb_checks(struct client *c)
{
	int r;

	if (!ctl_opts()->checks) {
		ctl_event(c, "checks", NULL, "unavailable");
		ctl_reply_error(c, "failed", "no checks in this mode");
		return;
	}
	if (!ctl_park(c, CL_WAITER))
		return;
	c->wfor = W_CHECKS;
	c->since_ms = loop_now_ms();
	/* The run has its own deadline; this only guards it (armed first:
	 * the answer may come before recheck_now() returns). */
	c->timer.data = c;
	c->timer.cb = on_checks_timer;
	loop_timer_arm(&c->timer,
	    loop_now_ms() + ctl_opts()->checks->timeout_ms + 5000);
	ctl_event(c, "checks", NULL, "started");
	r = recheck_now(NULL, on_rechecked, c);
	if (r < 0)
		ctl_reply_error(c, "busy",
		    r == -ENOTSUP ? "the checks have not run yet"
		                  : "too many callers wait for the checks");
}

/* --- the verbs that act ---------------------------------------------------- */

static const char *
verb_result(const char *verb, int r, const struct svc *s)
{
	if (r == SUP_HOLD_SHUTDOWN)
		return "shutdown";
	if (r == -EALREADY)
		return strcmp(verb, "stop") == 0 ? "already stopped"
		                                 : "already running";
	if (strcmp(verb, "stop") == 0)
		return s->state == SVC_STOPPED ? "stopped" : "stopping";
	return strcmp(verb, "start") == 0 ? "starting" : "restarting";
}

static void
reply_done(struct client *c, const char *verb, const struct svc *s,
    const char *result, unsigned int attempt)
{
	json_begin(STATUS_MAX);
	ev_bool("ok", true);
	ev_str("verb", verb);
	ev_str("service", s->name);
	ev_str("result", result);
	ev_str("state", svc_state_name(s->state));
	ev_int("attempt", attempt);
	/* The sandbox goes down: the client (perhaps a preStop hook in our
	 * PID namespace, which dies with us) gets to exit first. */
	if (strcmp(result, "shutdown") == 0)
		ctl_reply_json_linger(c);
	else
		ctl_reply_json(c);
}

void
verb_act(struct client *c, const char *verb, const char *name)
{
	struct svc *s = find_or_error(c, name);
	unsigned int attempt;
	char note[160];
	const char *res;
	int r;

	if (!s) {
		ctl_event(c, verb, name, "no_such_service");
		return;
	}
	if (!sup_running()) {
		ctl_event(c, verb, s->name, "shutting_down");
		ctl_reply_error(c, "shutting_down",
		    "the sandbox is shutting down");
		return;
	}
	/* The run the verb acts on: a waiting client counts from it. */
	attempt = s->attempt;
	if (strcmp(verb, "stop") == 0) {
		snprintf(note, sizeof(note),
		    "stopped by ctl stop (uid %u, pid %d)",
		    (unsigned int)c->cred.uid, (int)c->cred.pid);
		/* The event before the `shutdown` it causes. */
		if (sup_hold_ends_sandbox(s))
			ctl_event(c, verb, s->name, "shutdown");
		r = sup_hold(s, note);
		if (r == SUP_HOLD_SHUTDOWN) {
			reply_done(c, verb, s, "shutdown", attempt);
			return;
		}
	} else if (strcmp(verb, "start") == 0)
		r = sup_release(s);
	else
		r = sup_restart(s);
	res = verb_result(verb, r, s);
	ctl_event(c, verb, s->name, res);
	reply_done(c, verb, s, res, attempt);
}

void
verb_signal(struct client *c, const char *num, const char *name,
    const char *group)
{
	struct svc *s = find_or_error(c, name);
	unsigned long sig;
	char signame[24], buf[40];
	int r;

	if (!s) {
		ctl_event(c, "signal", name, "no_such_service");
		return;
	}
	if (!num || value_uint(num, 64, &sig) < 0 || sig == 0 ||
	    (group && strcmp(group, "group") != 0)) {
		ctl_reply_error(c, "bad_request",
		    "usage: signal SIGNUM NAME [group]");
		return;
	}
	if (!sup_running()) {
		ctl_event(c, "signal", s->name, "shutting_down");
		ctl_reply_error(c, "shutting_down",
		    "the sandbox is shutting down");
		return;
	}
	r = svc_signal(s, (int)sig, group != NULL);
	if (r == 0) {
		/* Its signal_map drops it, as it does for what we forward. */
		ctl_event(c, "signal", s->name, "dropped");
		reply_done(c, "signal", s, "dropped by its signal_map",
		    s->attempt);
		return;
	}
	if (r < 0) {
		ctl_event(c, "signal", s->name, "not_running");
		ctl_reply_error(c, "not_running",
		    "it has no process to signal");
		return;
	}
	snprintf(buf, sizeof(buf), "sent %s",
	    sig_name((int)sig, signame, sizeof(signame)));
	ctl_event(c, "signal", s->name, buf);
	reply_done(c, "signal", s, buf, s->attempt);
}
