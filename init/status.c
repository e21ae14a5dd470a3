/*
 * status — the state of the sandbox as JSON.  See status.h.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "events.h"
#include "loop.h"
#include "recheck.h"
#include "signals.h"
#include "status.h"
#include "supervisor.h"

/* How the last run ended: {"code": N}, {"signal": "NAME"} or null; the
 * last run's end, also while a new run starts. */
static void
last_exit(const struct svc *s)
{
	char buf[24];

	if (!s->exited_once) {
		ev_null("last_exit");
		return;
	}
	ev_obj_begin("last_exit");
	if (WIFSIGNALED(s->last_wstatus))
		ev_str("signal",
		    sig_name(WTERMSIG(s->last_wstatus), buf, sizeof(buf)));
	else
		ev_int("code", WEXITSTATUS(s->last_wstatus));
	ev_obj_end();
}

/*
 * Liveness: "health" is null unless the service has `health` or
 * `watchdog` and is ready (liveness runs only then); the service's own
 * STATUS= whenever it sent one.
 */
static void
health_fields(const struct svc *s)
{
	const struct health *h = &s->health;

	if (!h->running)
		ev_null("health");
	else if (health_ok(h))
		ev_str("health", "healthy");
	else {
		ev_str("health", "unhealthy");
		ev_str("health_reason", h->reason);
	}
	if (h->running && s->conf->nhealth)
		ev_int("health_failures", h->failures);
	if (*s->status)
		ev_str("status_text", s->status);
}

/* The fields of one service, into the object begun; for_http leaves out
 * what is for operators only. */
static void
service_fields(const struct svc *s, bool for_http)
{
	ev_str("name", s->name);
	ev_str("state", svc_state_name(s->state));
	ev_int("pid", svc_alive(s) ? (int)s->pid : 0);
	ev_bool("ready", s->state == SVC_READY);
	ev_bool("main", s->main);
	ev_bool("required", s->required);
	ev_int("attempt", s->attempt);
	ev_int("restarts", s->restarts);
	last_exit(s);
	if (s->state == SVC_FAILED || s->state == SVC_STOPPED)
		ev_str("reason", s->reason);
	if (for_http)
		return;
	/* The cause (and preset hint) of its last end. */
	crash_emit(&s->crash);
	health_fields(s);
}

/* Every check's last verdict and its age (netcheck/recheck.h). */
static void
checks_fields(void)
{
	uint64_t now = loop_now_ms();
	size_t i;

	ev_arr_begin("checks");
	for (i = 0; i < recheck_count(); i++) {
		const struct check_verdict *v = recheck_get(i);
		char check[sizeof(v->check) + sizeof(v->name) + 1];

		snprintf(check, sizeof(check), "%s%s%s", v->check,
		    *v->name ? ":" : "", v->name);
		ev_obj_begin(NULL);
		ev_str("check", check);
		ev_str("target", v->target);
		ev_str("status", v->status);
		ev_str("code", v->code);
		ev_int("age_ms", (long long)(now - v->at_ms));
		ev_obj_end();
	}
	ev_arr_end();
}

static const char *
status_with(bool for_http, bool checks, size_t *ret_len)
{
	size_t i, n = sup_count();

	json_begin(STATUS_MAX);
	ev_bool("ready", sup_ready());
	ev_bool("healthy", sup_healthy());
	ev_str("phase", sup_running() ? "running" : "stopping");
	ev_arr_begin("services");
	for (i = 0; i < n; i++) {
		ev_obj_begin(NULL);
		service_fields(sup_service(i), for_http);
		ev_obj_end();
	}
	ev_arr_end();
	if (for_http)
		return json_end(ret_len);
	if (checks)
		checks_fields();
	else {
		ev_arr_begin("checks");
		ev_arr_end();
		ev_bool("checks_omitted", true);
	}
	return json_end(ret_len);
}

/*
 * When the checks are what does not fit, they are left out
 * (checks_omitted) rather than the whole answer: status --quiet is a
 * HEALTHCHECK.
 */
const char *
status_json(bool for_http, size_t *ret_len)
{
	const char *j = status_with(for_http, true, ret_len);

	return j || for_http ? j : status_with(false, false, ret_len);
}

const char *
status_service_json(const struct svc *s, size_t *ret_len)
{
	json_begin(STATUS_MAX);
	service_fields(s, false);
	return json_end(ret_len);
}
