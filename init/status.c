/*
 * status — the state of the sandbox as JSON.  See status.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "events.h"
#include "signals.h"
#include "status.h"
#include "supervisor.h"

void
jb_reset(struct jbuf *j)
{
	j->len = 0;
	j->full = false;
}

void
jb_raw(struct jbuf *j, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (j->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(j->b + j->len, sizeof(j->b) - j->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(j->b) - j->len)
		j->full = true;
	else
		j->len += (size_t)n;
}

void
jb_str(struct jbuf *j, const char *s)
{
	size_t used, n, len = strlen(s);

	if (j->full || sizeof(j->b) - j->len < 3) {
		j->full = true;
		return;
	}
	j->b[j->len++] = '"';
	n = json_escape(j->b + j->len, sizeof(j->b) - j->len - 2, s, len,
	    &used);
	if (used < len)
		j->full = true;
	j->len += n;
	j->b[j->len++] = '"';
}

static void
last_exit(struct jbuf *j, const struct svc *s)
{
	char buf[24];

	if (!s->has_exited)
		jb_raw(j, "null");
	else if (WIFSIGNALED(s->wstatus))
		jb_raw(j, "{\"signal\":\"%s\"}",
		    sig_name(WTERMSIG(s->wstatus), buf, sizeof(buf)));
	else
		jb_raw(j, "{\"code\":%d}", WEXITSTATUS(s->wstatus));
}

void
status_service_json(struct jbuf *j, const struct svc *s)
{
	jb_raw(j, "{\"name\":");
	jb_str(j, s->name);
	jb_raw(j,
	    ",\"state\":\"%s\",\"pid\":%d,\"ready\":%s,\"main\":%s,"
	    "\"required\":%s,\"attempt\":%u,\"restarts\":%u,"
	    "\"last_exit\":",
	    svc_state_name(s->state), svc_alive(s) ? (int)s->pid : 0,
	    s->state == SVC_READY ? "true" : "false",
	    s->main ? "true" : "false", s->required ? "true" : "false",
	    s->attempt, s->restarts);
	last_exit(j, s);
	if (s->state == SVC_FAILED || s->state == SVC_STOPPED) {
		jb_raw(j, ",\"reason\":");
		jb_str(j, s->reason);
	}
	jb_raw(j, "}");
}

void
status_json(struct jbuf *j, bool for_http)
{
	size_t i, n = sup_count();

	/* Nothing in a service's entry is for operators only yet; what is
	 * (tails, causes) is added here under !for_http. */
	(void)for_http;
	jb_reset(j);
	jb_raw(j,
	    "{\"ready\":%s,\"healthy\":%s,\"phase\":\"%s\","
	    "\"services\":[",
	    sup_ready() ? "true" : "false", sup_healthy() ? "true" : "false",
	    sup_running() ? "running" : "stopping");
	for (i = 0; i < n; i++) {
		if (i)
			jb_raw(j, ",");
		status_service_json(j, sup_service(i));
	}
	jb_raw(j, "]}\n");
	if (j->full) {
		jb_reset(j);
		jb_raw(j, "{\"error\":\"status too large\"}\n");
	}
}
