/*
 * status — the state of the sandbox as JSON.  See status.h.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "events.h"
#include "signals.h"
#include "status.h"
#include "supervisor.h"

/* How the last run ended: {"code": N}, {"signal": "NAME"} or null. */
static void
last_exit(const struct svc *s)
{
	char buf[24];

	if (!s->has_exited) {
		ev_null("last_exit");
		return;
	}
	ev_obj_begin("last_exit");
	if (WIFSIGNALED(s->wstatus))
		ev_str("signal",
		    sig_name(WTERMSIG(s->wstatus), buf, sizeof(buf)));
	else
		ev_int("code", WEXITSTATUS(s->wstatus));
	ev_obj_end();
}

/* The fields of one service, into the object begun. */
static void
service_fields(const struct svc *s)
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
}

const char *
status_json(bool for_http, size_t *ret_len)
{
	size_t i, n = sup_count();

	/* Nothing in a service's entry is for operators only yet; what is
	 * (tails, causes) is added under !for_http. */
	(void)for_http;
	json_begin(STATUS_MAX);
	ev_bool("ready", sup_ready());
	ev_bool("healthy", sup_healthy());
	ev_str("phase", sup_running() ? "running" : "stopping");
	ev_arr_begin("services");
	for (i = 0; i < n; i++) {
		ev_obj_begin(NULL);
		service_fields(sup_service(i));
		ev_obj_end();
	}
	ev_arr_end();
	return json_end(ret_len);
}

const char *
status_service_json(const struct svc *s, size_t *ret_len)
{
	json_begin(STATUS_MAX);
	service_fields(s);
	return json_end(ret_len);
}
